"""Type widening rules, constraint tightening, and backfill values for required fields."""

from __future__ import annotations

from typing import Any

import pytest

from persist_tool import ir
from persist_tool.diff import (
    AddField,
    AlterNullability,
    apply_defaults,
    constraints_change,
    describe_type,
    diff_schemas,
    is_widening,
    missing_backfills,
    parse_default_option,
    parse_value,
)
from tests.diff.helpers import INT, e, f, s

I16, I32 = ir.IntegerType(16), ir.IntegerType(32)
DEC = ir.DecimalType


@pytest.mark.parametrize(
    ("before", "after", "widening"),
    [
        (I16, I32, True),
        (INT, I32, False),
        (I32, ir.FloatType(64), True),
        (INT, ir.FloatType(64), False),  # above 2**53 a double loses digits
        (I32, ir.FloatType(32), False),
        (I32, DEC(10, 0), True),
        (INT, DEC(18, 0), False),
        (INT, DEC(), True),
        (DEC(10, 2), DEC(12, 2), True),
        (DEC(10, 2), DEC(12, 4), True),
        (DEC(10, 2), DEC(10, 4), False),  # two fewer integer digits
        (DEC(10, 2), DEC(), True),
        (DEC(), DEC(10, 2), False),
        (DEC(10, 2), ir.FloatType(), False),
        (ir.FloatType(32), ir.FloatType(64), True),
        (ir.BooleanType(), INT, True),
        (INT, ir.BooleanType(), False),
        (ir.DateType(), ir.DateTimeType(), True),
        (ir.DateTimeType(), ir.DateType(), False),
        (ir.DateTimeType(), ir.DateTimeType(tz=True), False),
        (INT, ir.StringType(), True),
        (ir.UuidType(), ir.StringType(), True),
        (ir.StringType(), ir.UuidType(), False),
        (ir.BytesType(), ir.StringType(), False),
        (ir.StringType("email"), ir.StringType(), True),
        (ir.StringType(), ir.StringType("email"), False),
        (ir.EnumType("S", ("a", "b")), ir.EnumType("Status", ("a", "b", "c")), True),
        (ir.EnumType("S", ("a", "b")), ir.EnumType("S", ("a",)), False),
        (ir.EnumType("S", ("a",)), ir.StringType(), True),
        (ir.StringType(), ir.EnumType("S", ("a",)), False),
        (ir.ArrayType(I16), ir.ArrayType(INT), True),
        (ir.ArrayType(INT), ir.ArrayType(I16), False),
        (INT, ir.JsonType({}), True),
        (ir.JsonType({"type": "object"}), ir.JsonType({}), True),
        (ir.JsonType({}), ir.JsonType({"type": "object"}), False),
        (ir.ObjectType("Address"), ir.ObjectType("Location"), False),
        (ir.StringType(), INT, False),
    ],
)
def test_type_widening(before: ir.FieldType, after: ir.FieldType, widening: bool) -> None:
    assert is_widening(before, after) is widening


def test_constraints_name_what_tightened_in_a_fixed_order() -> None:
    before = ir.Constraints(min_length=1, max_length=10, minimum=0, enum=("a", "b"))
    after = ir.Constraints(min_length=2, max_length=20, minimum=-5, enum=("a",), pattern="x")
    assert constraints_change(before, after) == ("min_length", "pattern", "enum")
    assert constraints_change(after, before) == ("max_length", "minimum")
    assert constraints_change(ir.Constraints(multiple_of=4), ir.Constraints(multiple_of=2)) == ()
    assert constraints_change(ir.Constraints(multiple_of=2), ir.Constraints(multiple_of=4)) == (
        "multiple_of",
    )
    assert constraints_change(ir.Constraints(), ir.Constraints(const=1, has_const=True)) == (
        "const",
    )


def test_type_descriptions() -> None:
    assert describe_type(DEC(10, 2)) == "decimal(10, 2)"
    assert describe_type(ir.ArrayType(ir.DateTimeType(tz=True))) == (
        "array of datetime with time zone"
    )
    assert describe_type(ir.EnumType("S", ("a", 1))) == "enum S('a', 1)"


# --------------------------------------------------------------------------- backfills


@pytest.mark.parametrize(
    ("type_", "text", "value"),
    [
        (INT, " 42 ", 42),
        (ir.FloatType(), "1.5", 1.5),
        (DEC(10, 2), "3.10", "3.10"),
        (ir.BooleanType(), "TRUE", True),
        (ir.BooleanType(), "0", False),
        (ir.StringType(), " spaced ", " spaced "),
        (ir.DateType(), "2026-11-21", "2026-11-21"),
        (ir.DateTimeType(tz=True), "2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z"),
        (
            ir.UuidType(),
            "12345678-1234-5678-1234-567812345678",
            "12345678-1234-5678-1234-567812345678",
        ),
        (ir.JsonType({}), '{"a": [1]}', {"a": [1]}),
        (ir.ArrayType(INT), "[1, 2]", [1, 2]),
        (ir.EnumType("Prio", (1, 2)), "2", 2),
        (ir.EnumType("S", ("open", "done")), "open", "open"),
    ],
)
def test_parse_value_reads_text_by_the_field_type(
    type_: ir.FieldType, text: str, value: Any
) -> None:
    assert parse_value(f("x", type_), text) == ir.Default("literal", value)


@pytest.mark.parametrize(
    ("type_", "text", "message"),
    [
        (INT, "three", "is not an integer"),
        (DEC(10, 2), "NaN", "finite decimal"),
        (ir.BooleanType(), "maybe", "is not a boolean"),
        (ir.DateType(), "21/11/2026", "is not an ISO 8601 date"),
        (ir.UuidType(), "x", "is not a UUID"),
        (ir.BytesType(), "***", "is not base64"),
        (ir.JsonType({}), "{", "is not JSON"),
        (ir.EnumType("S", ("open",)), "closed", "is not one of 'open'"),
        (INT, "null", "null cannot fill"),
    ],
)
def test_parse_value_refuses_text_that_does_not_fit(
    type_: ir.FieldType, text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_value(f("x", type_), text)


def test_parse_value_checks_constraints_and_knows_factories() -> None:
    short = f("x", constraints=ir.Constraints(max_length=3))
    with pytest.raises(ValueError, match="longer than 3"):
        parse_value(short, "abcd")
    ranged = f("n", INT, constraints=ir.Constraints(minimum=1))
    with pytest.raises(ValueError, match="below the minimum 1"):
        parse_value(ranged, "0")
    assert parse_value(f("at", ir.DateTimeType()), "now()") == ir.Default("factory", "now")
    assert parse_value(f("n", INT), 5) == ir.Default("literal", 5)


def test_parse_default_option() -> None:
    assert parse_default_option("Note.priority=3") == ("Note", "priority", "3")
    assert parse_default_option("notes.title= a=b ") == ("notes", "title", " a=b ")
    with pytest.raises(ir.SourceError, match=r"expected ENTITY\.FIELD=VALUE"):
        parse_default_option("priority=3")


OLD = s(e("Note", f("title", nullable=True)))
NEW = s(e("Note", f("title"), f("priority", INT, column="prio"), f("tag", nullable=True)))


def test_missing_backfills_lists_required_additions_and_fields_made_required() -> None:
    changes = diff_schemas(OLD, NEW)
    missing = missing_backfills(changes)
    assert [(type(c).__name__, c.field_name) for c in missing] == [
        ("AlterNullability", "title"),
        ("AddField", "priority"),
    ]


def test_apply_defaults_fills_backfills_by_entity_or_table_and_field_or_column() -> None:
    changes = apply_defaults(
        diff_schemas(OLD, NEW), {"notes.prio": "3", "Note.title": "untitled"}, schema=NEW
    )
    assert missing_backfills(changes) == []
    add = next(c for c in changes if isinstance(c, AddField) and c.field_name == "priority")
    assert add.backfill == ir.Default("literal", 3)
    assert "existing data gets 3" in add.describe()
    alter = next(c for c in changes if isinstance(c, AlterNullability))
    assert alter.backfill == ir.Default("literal", "untitled")
    assert changes == diff_schemas(OLD, NEW)  # backfills annotate, they do not change identity


def test_apply_defaults_may_fill_an_added_nullable_field() -> None:
    changes = apply_defaults(diff_schemas(OLD, NEW), {"Note.tag": "misc"}, schema=NEW)
    tag = next(c for c in changes if isinstance(c, AddField) and c.field_name == "tag")
    assert tag.backfill == ir.Default("literal", "misc")


def test_apply_defaults_refuses_a_key_that_takes_no_value() -> None:
    with pytest.raises(ir.SourceError, match=r"--default Note\.id: no field is added or made") as e:
        apply_defaults(diff_schemas(OLD, NEW), {"Note.id": "1"}, schema=NEW)
    assert e.value.hint == "fields that take a value: Note.title, Note.priority, Note.tag"


def test_apply_defaults_reports_a_value_that_does_not_fit() -> None:
    with pytest.raises(ir.SourceError, match=r"--default Note\.priority: 'high' is not an integer"):
        apply_defaults(diff_schemas(OLD, NEW), {"Note.priority": "high"}, schema=NEW)


def test_apply_defaults_refuses_two_spellings_of_one_field() -> None:
    with pytest.raises(ir.SourceError, match="name the same field"):
        apply_defaults(diff_schemas(OLD, NEW), {"Note.prio": "1", "Note.priority": "2"}, schema=NEW)
