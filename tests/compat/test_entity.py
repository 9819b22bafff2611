"""Entity-level compat findings: one behaviour per test, old entity -> new entity."""

from __future__ import annotations

import dataclasses

import pytest

from persist_tool import ir
from persist_tool.compat.entity import (
    check_entity,
    check_history,
    check_schemas,
    has_failures,
)
from persist_tool.rules import Mode, Severity

LOC = ir.Location("models/todo.py", 3, 1)


def _field(name: str, type_: ir.FieldType | None = None, **kwargs: object) -> ir.Field:
    return ir.Field(name=name, column=name, type=type_ or ir.StringType(), **kwargs)  # type: ignore[arg-type]


ID = _field("id", ir.IntegerType(64), generated=True, immutable=True)


def _todo(*fields: ir.Field, version: int = 1, **kwargs: object) -> ir.Entity:
    return ir.Entity(
        name="Todo",
        table="todos",
        schema_version=version,
        fields=(ID, *fields),
        primary_key=("id",),
        location=LOC,
        **kwargs,  # type: ignore[arg-type]
    )


def _ids(findings: list[object]) -> list[str]:
    return sorted(f.rule.id for f in findings)  # type: ignore[attr-defined]


def test_unchanged_entity_has_no_findings() -> None:
    todo = _todo(_field("title"))
    assert check_entity(todo, todo, mode=Mode.FULL) == []


def test_schema_change_without_version_bump_is_pt001() -> None:
    old = _todo(_field("title"))
    new = _todo(_field("title"), _field("note", nullable=True))
    findings = check_entity(old, new)
    assert "PT001" in _ids(findings)
    pt001 = next(f for f in findings if f.rule.id == "PT001")
    assert "+note" in pt001.message
    assert "schema_version to 2" in pt001.hint


def test_doc_only_change_keeps_fingerprint_and_needs_no_bump() -> None:
    old = _todo(_field("title", doc="The title"))
    new = _todo(_field("title", doc="What to do"))
    assert check_entity(old, new) == []


def test_version_decrease_is_pt005() -> None:
    assert _ids(check_entity(_todo(version=3), _todo(version=2))) == ["PT005"]


def test_required_field_added_without_default_is_pt010_error() -> None:
    findings = check_entity(_todo(), _todo(_field("title"), version=2))
    assert _ids(findings) == ["PT010"]
    assert has_failures(findings)
    assert findings[0].location.subject == "Todo.title"


@pytest.mark.parametrize(
    "field",
    [
        _field("note", nullable=True),
        _field("done", ir.BooleanType(), default=ir.Default("literal", False)),
        _field("created", ir.DateTimeType(tz=True), generated=True),
    ],
    ids=["nullable", "default", "generated"],
)
def test_optional_field_added_is_backward_compatible_for_closed_records(
    field: ir.Field,
) -> None:
    assert check_entity(_todo(), _todo(field, version=2)) == []


def test_any_added_field_breaks_old_readers_forward() -> None:
    findings = check_entity(
        _todo(), _todo(_field("note", nullable=True), version=2), mode=Mode.FORWARD
    )
    assert _ids(findings) == ["PT018"]


def test_removed_field_is_data_loss_warning_backward_and_error_forward() -> None:
    old, new = _todo(_field("title")), _todo(version=2)
    backward = check_entity(old, new)
    assert _ids(backward) == ["PT011"]
    assert backward[0].severity is Severity.WARNING
    assert not has_failures(backward)
    assert _ids(check_entity(old, new, mode=Mode.FORWARD)) == ["PT019"]


def test_undeclared_rename_reports_remove_add_and_did_you_mean() -> None:
    old = _todo(_field("title"))
    new = _todo(_field("headline"), version=2)
    findings = check_entity(old, new)
    assert _ids(findings) == ["PT010", "PT011", "PT021"]
    removed = next(f for f in findings if f.rule.id == "PT011")
    assert "did you mean to rename title to headline" in removed.hint
    assert 'RenamedFrom("title")' in removed.hint


def test_declared_rename_is_compatible() -> None:
    old = _todo(_field("title"))
    new = _todo(_field("headline", renamed_from=("title",)), version=2)
    assert check_entity(old, new, mode=Mode.FULL) == []


def test_nullable_made_required_is_pt012_and_the_reverse_breaks_forward() -> None:
    old = _todo(_field("note", nullable=True))
    new = _todo(_field("note"), version=2)
    assert _ids(check_entity(old, new)) == ["PT012"]
    made_nullable = dataclasses.replace(old, schema_version=3)
    assert _ids(check_entity(new, made_nullable, mode=Mode.FORWARD)) == ["PT019"]
    assert check_entity(new, made_nullable) == []


@pytest.mark.parametrize(
    ("before", "after", "rule"),
    [
        (ir.StringType(), ir.IntegerType(), "PT013"),
        (ir.FloatType(), ir.IntegerType(), "PT013"),
        (ir.DateTimeType(tz=True), ir.DateTimeType(tz=False), "PT013"),
        (ir.IntegerType(64), ir.IntegerType(32), "PT014"),
        (ir.DecimalType(12, 2), ir.DecimalType(10, 2), "PT014"),
        (ir.DecimalType(10, 3), ir.DecimalType(10, 2), "PT014"),
        (ir.ArrayType(ir.IntegerType()), ir.ArrayType(ir.StringType()), "PT013"),
    ],
)
def test_narrowing_type_change_is_reported(
    before: ir.FieldType, after: ir.FieldType, rule: str
) -> None:
    findings = check_entity(_todo(_field("x", before)), _todo(_field("x", after), version=2))
    assert rule in _ids(findings)
    assert has_failures(findings)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (ir.IntegerType(32), ir.IntegerType(64)),
        (ir.IntegerType(32), ir.FloatType()),
        (ir.IntegerType(16), ir.DecimalType(10, 0)),
        (ir.DecimalType(10, 2), ir.DecimalType(12, 2)),
        (ir.DecimalType(10, 2), ir.DecimalType(11, 3)),
        (ir.EnumType("Color", ("red",)), ir.StringType()),
    ],
)
def test_widening_type_change_is_backward_compatible(
    before: ir.FieldType, after: ir.FieldType
) -> None:
    findings = check_entity(_todo(_field("x", before)), _todo(_field("x", after), version=2))
    assert findings == []


@pytest.mark.parametrize(
    ("before", "after", "narrowed"),
    [
        (ir.Constraints(max_length=20), ir.Constraints(max_length=10), True),
        (ir.Constraints(max_length=10), ir.Constraints(max_length=20), False),
        (ir.Constraints(min_length=1), ir.Constraints(min_length=3), True),
        (ir.Constraints(), ir.Constraints(pattern="^[a-z]+$"), True),
        (ir.Constraints(pattern="^[a-z]+$"), ir.Constraints(), False),
        (ir.Constraints(pattern="^[a-z]+$"), ir.Constraints(pattern="^[a-z]+$"), False),
    ],
)
def test_string_constraints_compare_on_the_full_set(
    before: ir.Constraints, after: ir.Constraints, narrowed: bool
) -> None:
    old = _todo(_field("title", constraints=before))
    new = _todo(_field("title", constraints=after), version=2)
    findings = check_entity(old, new)
    assert ("PT014" in _ids(findings)) is narrowed


def test_range_narrowing_names_the_bound_and_values() -> None:
    old = _todo(_field("n", ir.IntegerType(), constraints=ir.Constraints(maximum=100)))
    new = _todo(_field("n", ir.IntegerType(), constraints=ir.Constraints(maximum=50)), version=2)
    (finding,) = check_entity(old, new)
    assert finding.rule.id == "PT014"
    assert "upper bound decreased (100 -> 50)" in finding.message


def test_integer_exclusive_bound_equals_inclusive_neighbour() -> None:
    old = _todo(_field("n", ir.IntegerType(), constraints=ir.Constraints(exclusive_minimum=0)))
    new = _todo(_field("n", ir.IntegerType(), constraints=ir.Constraints(minimum=1)), version=2)
    assert check_entity(old, new, mode=Mode.FULL) == []


def test_enum_value_removed_is_backward_error_and_added_is_forward_error() -> None:
    old = _todo(_field("state", ir.EnumType("State", ("open", "done"))))
    new = _todo(_field("state", ir.EnumType("State", ("open", "done", "wont"))), version=2)
    assert check_entity(old, new) == []
    forward = check_entity(old, new, mode=Mode.FORWARD)
    assert _ids(forward) == ["PT015"]
    assert "'wont'" in forward[0].message
    backward = check_entity(new, dataclasses.replace(old, schema_version=3))
    assert _ids(backward) == ["PT015"]
    assert "removed" in backward[0].message


def test_json_field_narrowing_points_into_the_sub_schema() -> None:
    schema_old = {"type": "object", "properties": {"tags": {"type": "array"}}}
    schema_new = {
        "type": "object",
        "properties": {"tags": {"type": "array", "maxItems": 3}},
    }
    old = _todo(_field("meta", ir.JsonType(schema_old)))
    new = _todo(_field("meta", ir.JsonType(schema_new)), version=2)
    (finding,) = check_entity(old, new)
    assert finding.rule.id == "PT016"
    assert finding.location.pointer == "/properties/tags/maxItems"
    assert finding.location.subject == "Todo.meta"


def test_unique_added_is_data_dependent_warning() -> None:
    old = _todo(_field("email"))
    new = dataclasses.replace(_todo(_field("email"), version=2), unique=(("email",),))
    findings = check_entity(old, new)
    assert _ids(findings) == ["PT022"]
    assert findings[0].severity is Severity.WARNING


def test_index_changes_are_info() -> None:
    old = _todo(_field("email"))
    new = dataclasses.replace(
        _todo(_field("email"), version=2),
        indexes=(ir.Index("todos_email", ("email",)),),
    )
    findings = check_entity(old, new)
    assert _ids(findings) == ["PT023"]
    assert findings[0].severity is Severity.INFO
    assert not has_failures(findings, Severity.WARNING)
    assert has_failures(findings, Severity.INFO)


def test_primary_key_change_is_error() -> None:
    old = _todo(_field("email"))
    new = dataclasses.replace(_todo(_field("email"), version=2), primary_key=("email",))
    assert "PT024" in _ids(check_entity(old, new))


def test_command_params_changed_without_payload_version_is_pt025() -> None:
    amount = _field("amount", ir.IntegerType())
    old = _todo(commands=(ir.CommandDef("deposit", (amount,)),))
    changed = dataclasses.replace(amount, type=ir.DecimalType(10, 2))
    new = _todo(commands=(ir.CommandDef("deposit", (changed,)),), version=2)
    assert _ids(check_entity(old, new)) == ["PT025"]
    bumped = _todo(commands=(ir.CommandDef("deposit", (changed,), payload_version=2),), version=2)
    assert check_entity(old, bumped) == []


def test_transitive_checks_every_recorded_version() -> None:
    v1 = _todo(_field("state", ir.EnumType("State", ("open", "done", "archived"))))
    v2 = _todo(_field("state", ir.EnumType("State", ("open", "done"))), version=2)
    v3 = dataclasses.replace(v2, schema_version=3)
    assert check_history([v1, v2], v3) == []
    findings = check_history([v1, v2], v3, transitive=True)
    assert _ids(findings) == ["PT015"]
    assert "against schema_version 1" in findings[0].message


def test_removed_entity_is_warning() -> None:
    findings = check_schemas([_todo()], [])
    assert _ids(findings) == ["PT020"]
    assert check_schemas([_todo()], [], mode=Mode.FORWARD) == []


def test_fields_the_migration_backfills_need_no_default() -> None:
    old = _todo(_field("note", nullable=True))
    new = _todo(_field("note"), _field("title"), version=2)
    assert _ids(check_entity(old, new)) == ["PT010", "PT012"]
    assert check_entity(old, new, backfilled={"note", "title"}) == []
    assert _ids(check_entity(old, new, mode=Mode.FORWARD, backfilled={"title"})) == ["PT018"]
