"""diff_entities / diff_schemas: which changes, in which order, with which hints."""

from __future__ import annotations

import pytest

from persist_tool import ir
from persist_tool.diff import (
    AddCommand,
    AddEntity,
    AddField,
    AddIndex,
    AddUnique,
    AlterCommand,
    AlterConstraints,
    AlterDefault,
    AlterFieldType,
    AlterNullability,
    AlterPrimaryKey,
    Change,
    Classification,
    DropCommand,
    DropEntity,
    DropField,
    DropIndex,
    DropUnique,
    RenameEntity,
    RenameField,
    apply_changes,
    diff_entities,
    diff_schemas,
    invert_changes,
    max_classification,
)
from tests.diff.helpers import INT, TEXT, e, f, s


def kinds(changes: list[Change]) -> list[str]:
    return [c.kind for c in changes]


def test_identical_schemas_have_no_changes() -> None:
    schema = s(e("Note", f("body"), indexes=(ir.Index("ix_body", ("body",)),)), e("Tag"))
    assert diff_schemas(schema, schema) == []


def test_docs_locations_and_immutability_are_not_storage_changes() -> None:
    old = e("Note", f("body", doc="old", location=ir.Location("a.py", 3)), doc="x")
    new = e("Note", f("body", doc="new", immutable=True), doc="y", schema_version=2)
    assert diff_entities(old, new) == []


def test_added_nullable_field_is_safe() -> None:
    (change,) = diff_entities(e("Note"), e("Note", f("tag", nullable=True)))
    assert change == AddField("Note", f("tag", nullable=True))
    assert change.classification is Classification.SAFE
    assert not change.needs_value and change.hint is None


def test_added_required_field_without_default_needs_a_backfill() -> None:
    (change,) = diff_entities(e("Note"), e("Note", f("priority", INT)))
    assert isinstance(change, AddField)
    assert change.classification is Classification.NEEDS_BACKFILL
    assert change.needs_value
    assert change.hint is not None and "--default Note.priority=VALUE" in change.hint
    assert "needs a backfill value" in change.describe()


def test_added_required_field_with_a_default_needs_no_backfill() -> None:
    new = e("Note", f("priority", INT, default=ir.Default("literal", 3)))
    (change,) = diff_entities(e("Note"), new)
    assert change.classification is Classification.SAFE
    assert not change.needs_value  # type: ignore[attr-defined]


def test_dropped_field_is_destructive() -> None:
    (change,) = diff_entities(e("Note", f("body")), e("Note"))
    assert change == DropField("Note", f("body"))
    assert change.classification is Classification.DESTRUCTIVE
    assert "stored values are lost" in change.describe()


def test_undeclared_rename_is_a_drop_and_an_add_with_a_hint_never_a_rename() -> None:
    changes = diff_entities(e("Note", f("body")), e("Note", f("text")))
    assert kinds(changes) == ["drop_field", "add_field"]
    drop, add = changes
    assert isinstance(drop, DropField) and drop.rename_candidates == ("text",)
    assert isinstance(add, AddField) and add.rename_candidates == ("body",)
    assert drop.hint is not None and "did you mean to rename `body` to `text`?" in drop.hint
    assert 'RenamedFrom("body") on `text`' in drop.hint
    assert "--rename Note.body=text" in drop.hint
    assert add.hint is not None and "did you mean to rename `body` to `text`?" in add.hint


def test_no_rename_hint_between_fields_of_different_types() -> None:
    drop, add = diff_entities(e("Note", f("body")), e("Note", f("count", INT, nullable=True)))
    assert drop.hint is None and add.hint is None


def test_declared_rename_is_a_rename() -> None:
    new = e("Note", f("text", renamed_from=("body",)))
    (change,) = diff_entities(e("Note", f("body")), new)
    assert change == RenameField("Note", "body", "text", "body", "text")
    assert change.classification is Classification.SAFE


def test_declared_rename_uses_the_oldest_name_still_present() -> None:
    new = e("Note", f("content", renamed_from=("text", "body")))
    (change,) = diff_entities(e("Note", f("body")), new)
    assert isinstance(change, RenameField) and change.old_name == "body"


def test_stale_rename_declaration_yields_to_a_same_named_field() -> None:
    old = e("Note", f("body"), f("text"))
    new = e("Note", f("text", renamed_from=("body",)))
    assert diff_entities(old, new) == [DropField("Note", f("body"))]


def test_explicit_rename_option_renames_and_accepts_column_names() -> None:
    old = e("Note", f("body", column="BODY"))
    new = e("Note", f("text", column="TEXT"))
    expected = [RenameField("Note", "body", "text", "BODY", "TEXT")]
    assert diff_entities(old, new, renames={"body": "text"}) == expected
    assert diff_entities(old, new, renames={"BODY": "TEXT"}) == expected


@pytest.mark.parametrize(
    ("renames", "message"),
    [
        ({"nope": "text"}, "the old version has no field `nope`"),
        ({"body": "nope"}, "the new version has no field `nope`"),
    ],
)
def test_explicit_rename_of_a_missing_field_is_a_source_error(
    renames: dict[str, str], message: str
) -> None:
    with pytest.raises(ir.SourceError, match=message) as caught:
        diff_entities(e("Note", f("body")), e("Note", f("text")), renames=renames)
    assert caught.value.hint is not None and "fields there:" in caught.value.hint


def test_same_column_under_a_new_python_name_is_a_rename_of_the_name_only() -> None:
    old = e("Note", f("body", column="note_body"))
    new = e("Note", f("text", column="note_body"))
    (change,) = diff_entities(old, new)
    assert change == RenameField("Note", "body", "text", "note_body", "note_body")
    assert change.describe() == "Note: rename field `body` to `text`"


def test_column_rename_keeps_the_field_name() -> None:
    (change,) = diff_entities(e("Note", f("body")), e("Note", f("body", column="content")))
    assert change.describe() == "Note: rename column `body` to `content`"


def test_chained_renames_are_ordered_so_no_name_is_taken_twice() -> None:
    old = e("Note", f("a"), f("b", INT))
    new = e("Note", f("b", renamed_from=("a",)), f("c", INT, renamed_from=("b",)))
    changes = diff_entities(old, new, renames={"a": "b", "b": "c"})
    assert [(c.old_name, c.new_name) for c in changes] == [("b", "c"), ("a", "b")]  # type: ignore[attr-defined]


def test_cyclic_renames_are_a_source_error() -> None:
    old = e("Note", f("a"), f("b"))
    new = e("Note", f("a"), f("b"))
    with pytest.raises(ir.SourceError, match="renames form a cycle"):
        diff_entities(old, new, renames={"a": "b", "b": "a"})


def test_type_changes_are_classified_by_widening() -> None:
    widen = diff_entities(e("Note", f("n", ir.IntegerType(32))), e("Note", f("n", INT)))
    narrow = diff_entities(e("Note", f("n", INT)), e("Note", f("n", ir.IntegerType(16))))
    assert widen == [AlterFieldType("Note", "n", ir.IntegerType(32), INT)]
    assert widen[0].classification is Classification.SAFE
    assert widen[0].describe() == "Note: widen `n` from integer(32) to integer(64)"
    assert narrow[0].classification is Classification.NARROWING
    assert narrow[0].hint is not None


def test_nullability_changes() -> None:
    (relax,) = diff_entities(e("Note", f("t")), e("Note", f("t", nullable=True)))
    (tighten,) = diff_entities(e("Note", f("t", nullable=True)), e("Note", f("t")))
    assert relax == AlterNullability("Note", "t", False, True)
    assert relax.classification is Classification.SAFE
    assert isinstance(tighten, AlterNullability)
    assert tighten.classification is Classification.NARROWING
    assert tighten.needs_value and "--default Note.t=VALUE" in (tighten.hint or "")


def test_field_made_required_with_a_default_uses_it_to_fill_nulls() -> None:
    new = e("Note", f("t", default=ir.Default("literal", "n/a")))
    change = diff_entities(e("Note", f("t", nullable=True)), new)[0]
    assert isinstance(change, AlterNullability)
    assert change.backfill == ir.Default("literal", "n/a") and not change.needs_value
    assert change.describe() == 'Note: make `t` required; stored NULLs get "n/a"'


def test_default_and_generation_changes_are_safe() -> None:
    old = e("Note", f("at", ir.DateTimeType()))
    new = e(
        "Note",
        f(
            "at",
            ir.DateTimeType(),
            default=ir.Default("sql", "CURRENT_TIMESTAMP"),
            generated=True,
        ),
    )
    (change,) = diff_entities(old, new)
    assert change == AlterDefault(
        "Note", "at", None, ir.Default("sql", "CURRENT_TIMESTAMP"), False, True
    )
    assert change.classification is Classification.SAFE
    assert "to SQL default CURRENT_TIMESTAMP (generated)" in change.describe()


def test_constraint_changes_name_what_tightened() -> None:
    old = e("Note", f("t", constraints=ir.Constraints(max_length=100)))
    new = e("Note", f("t", constraints=ir.Constraints(max_length=50, pattern="^a")))
    (change,) = diff_entities(old, new)
    assert isinstance(change, AlterConstraints)
    assert change.tightened == ("max_length", "pattern")
    assert change.classification is Classification.NARROWING
    (relaxed,) = diff_entities(new, old)
    assert relaxed.classification is Classification.SAFE


def test_unique_index_and_primary_key_changes() -> None:
    old = e("Note", f("a"), f("b"), unique=(("a",),), indexes=(ir.Index("ix_a", ("a",)),))
    new = e(
        "Note",
        f("a"),
        f("b"),
        unique=(("b",),),
        indexes=(ir.Index("ix_b", ("b",), unique=True),),
        primary_key=("id", "a"),
    )
    changes = diff_entities(old, new)
    assert changes == [
        DropIndex("Note", ir.Index("ix_a", ("a",))),
        DropUnique("Note", ("a",)),
        AlterPrimaryKey("Note", ("id",), ("id", "a")),
        AddUnique("Note", ("b",)),
        AddIndex("Note", ir.Index("ix_b", ("b",), unique=True)),
    ]
    assert [c.classification.value for c in changes] == [
        "safe",
        "safe",
        "narrowing",
        "narrowing",
        "narrowing",
    ]


def test_index_over_a_renamed_field_is_not_a_change() -> None:
    old = e("Note", f("body"), indexes=(ir.Index("ix", ("body",)),), unique=(("body",),))
    new = e(
        "Note",
        f("text", renamed_from=("body",)),
        indexes=(ir.Index("ix", ("text",)),),
        unique=(("text",),),
    )
    assert kinds(diff_entities(old, new)) == ["rename_field"]


def test_order_makes_sql_valid() -> None:
    old = e(
        "Note",
        f("gone"),
        f("body"),
        f("n", ir.IntegerType(32)),
        indexes=(ir.Index("ix_gone", ("gone",)),),
    )
    new = e(
        "Note",
        f("text", renamed_from=("body",)),
        f("n", INT),
        f("added", nullable=True),
        indexes=(ir.Index("ix_added", ("added",)),),
        unique=(("text",),),
    )
    assert kinds(diff_entities(old, new)) == [
        "drop_index",  # before its column goes
        "drop_field",
        "rename_field",
        "alter_field_type",  # under the new names
        "add_field",
        "add_unique",  # over final columns
        "add_index",  # after its column exists
    ]


def test_drop_before_a_rename_into_the_dropped_name() -> None:
    old = e("Note", f("name"), f("title"))
    new = e("Note", f("name", renamed_from=("title",)))
    changes = diff_entities(old, new, renames={"title": "name"})
    assert kinds(changes) == ["drop_field", "rename_field"]
    assert changes[0].field_name == "name"


def test_command_changes() -> None:
    amount = f("amount", INT)
    old = e(
        "Account",
        commands=(ir.CommandDef("deposit", (amount,)), ir.CommandDef("close")),
    )
    new = e(
        "Account",
        commands=(
            ir.CommandDef("deposit", (amount, f("memo", nullable=True)), payload_version=2),
            ir.CommandDef("freeze", doc="new"),
        ),
    )
    changes = diff_entities(old, new)
    assert kinds(changes) == ["drop_command", "add_command", "alter_command"]
    assert all(not c.touches_table for c in changes)
    assert isinstance(changes[0], DropCommand) and "command migration" in (changes[0].hint or "")
    assert isinstance(changes[1], AddCommand)
    assert isinstance(changes[2], AlterCommand)
    doc_only = e("Account", commands=(ir.CommandDef("deposit", (amount,), doc="changed"),))
    assert (
        diff_entities(e("Account", commands=(ir.CommandDef("deposit", (amount,)),)), doc_only) == []
    )


# --------------------------------------------------------------------------- schemas


def test_added_and_dropped_entities() -> None:
    note, tag, user = e("Note", f("body")), e("Tag"), e("User")
    changes = diff_schemas(s(note, tag), s(note, user))
    assert changes == [DropEntity(tag, ("User",)), AddEntity(user, ("Tag",))]
    assert changes[0].classification is Classification.DESTRUCTIVE
    assert "did you mean to rename `Tag` to `User`?" in (changes[0].hint or "")
    assert changes[1].classification is Classification.SAFE


def test_dropped_entities_go_first_in_reverse_source_order() -> None:
    a, b, c = e("A"), e("B"), e("C", f("x"))
    assert diff_schemas(s(a, b), s(c)) == [DropEntity(b), DropEntity(a), AddEntity(c)]


def test_same_table_under_a_new_entity_name_is_a_rename() -> None:
    old = s(e("Note", f("body"), table="notes"))
    new = s(e("Memo", f("body"), table="notes"))
    (change,) = diff_schemas(old, new)
    assert change == RenameEntity("Note", "Memo", "notes", "notes")
    assert change.describe() == "rename entity `Note` to `Memo`"


def test_explicit_and_declared_entity_renames() -> None:
    old = s(e("Note", f("body")))
    new = s(e("Memo", f("body"), table="memos"))
    expected = [RenameEntity("Note", "Memo", "notes", "memos")]
    assert diff_schemas(old, new, entity_renames={"Note": "Memo"}) == expected
    declared = s(e("Memo", f("body"), table="memos", extra={"renamed_from": "Note"}))
    assert diff_schemas(old, declared) == expected


def test_field_changes_of_a_renamed_entity_follow_the_rename_under_its_new_name() -> None:
    old = s(e("Note", f("body")))
    new = s(e("Memo", f("text"), table="memos"))
    changes = diff_schemas(
        old, new, entity_renames={"Note": "Memo"}, renames={"notes": {"body": "text"}}
    )
    assert changes == [
        RenameEntity("Note", "Memo", "notes", "memos"),
        RenameField("Memo", "body", "text", "body", "text"),
    ]


def test_rename_option_for_an_unknown_entity_is_a_source_error() -> None:
    schema = s(e("Note", f("body")))
    with pytest.raises(ir.SourceError, match="no entity `Ghost` in both versions"):
        diff_schemas(schema, schema, renames={"Ghost": {"a": "b"}})


def test_diff_is_deterministic() -> None:
    old = s(e("A", f("x"), f("y")), e("B", f("z")))
    new = s(e("B", f("z", INT)), e("C"), e("A", f("y", nullable=True), f("w")))
    first = diff_schemas(old, new)
    assert all(diff_schemas(old, new) == first for _ in range(5))
    assert [c.describe() for c in first] == [c.describe() for c in diff_schemas(old, new)]


def test_changes_apply_and_invert() -> None:
    old = s(
        e(
            "Note",
            f("body"),
            f("n", ir.IntegerType(32)),
            indexes=(ir.Index("ix_n", ("n",)),),
        )
    )
    new = s(
        e(
            "Note",
            f("text", renamed_from=("body",)),
            f("n", INT),
            f("tag", nullable=True),
        )
    )
    changes = diff_schemas(old, new)
    after = apply_changes(old, changes)
    assert {x.name for x in after.entities[0].fields} == {"id", "text", "n", "tag"}
    back = apply_changes(after, invert_changes(changes))
    assert {(x.name, x.type) for x in back.entities[0].fields} == {
        (x.name, x.type) for x in old.entities[0].fields
    }
    assert back.entities[0].indexes == old.entities[0].indexes


def test_apply_refuses_changes_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="has no field `ghost`"):
        apply_changes(s(e("Note")), [DropField("Note", f("ghost"))])
    with pytest.raises(ValueError, match="already has a field `id`"):
        apply_changes(s(e("Note")), [AddField("Note", f("id", INT))])


def test_change_json_summary() -> None:
    (change,) = diff_entities(e("Note"), e("Note", f("priority", INT)))
    assert change.to_json() == {
        "kind": "add_field",
        "entity": "Note",
        "field": "priority",
        "classification": "needs_backfill",
        "description": "Note: add field `priority` (integer(64), required),"
        " existing data needs a backfill value",
        "hint": "existing rows need a value: pass --default Note.priority=VALUE or give the"
        " field a default in the source",
    }


def test_max_classification() -> None:
    assert max_classification([]) is Classification.SAFE
    changes = diff_entities(e("Note", f("a")), e("Note", f("b", INT)))
    assert max_classification(changes) is Classification.DESTRUCTIVE


def test_every_text_type_description() -> None:
    assert (
        AddField("N", f("x", TEXT)).describe()
        == "N: add field `x` (string, required), existing data needs a backfill value"
    )
