"""Hand-built IR entities that exercise every construct of the entity emitter."""

from __future__ import annotations

from persist_tool import ir

S = ir.StringType


def todo() -> ir.Entity:
    """An entity with every field type, defaults of each kind, keys and indexes."""
    fields = (
        ir.Field("id", "id", ir.IntegerType(), generated=True, immutable=True),
        ir.Field(
            "title",
            "title",
            S(),
            constraints=ir.Constraints(min_length=1, max_length=200),
            doc="What to do.",
        ),
        ir.Field(
            "status",
            "status",
            ir.EnumType("TodoStatus", ("open", "done", "in-progress")),
            default=ir.Default("literal", "open"),
        ),
        ir.Field(
            "priority",
            "priority",
            ir.IntegerType(bits=16),
            default=ir.Default("literal", 3),
            constraints=ir.Constraints(minimum=1, maximum=5),
        ),
        ir.Field("estimate", "estimate", ir.FloatType(), nullable=True),
        ir.Field(
            "budget",
            "budget",
            ir.DecimalType(10, 2),
            default=ir.Default("literal", "0.00"),
            constraints=ir.Constraints(minimum=0),
        ),
        ir.Field("due_at", "due_at", ir.DateTimeType(tz=True), nullable=True),
        ir.Field("due_on", "due_on", ir.DateType(), nullable=True),
        ir.Field("remind_at", "remind_at", ir.TimeType(), nullable=True),
        ir.Field("ref", "ref", ir.UuidType(), default=ir.Default("factory", "uuid4")),
        ir.Field("attachment", "attachment", ir.BytesType(), nullable=True),
        ir.Field(
            "tags",
            "tags",
            ir.ArrayType(S(), ir.Constraints(max_length=20)),
            default=ir.Default("factory", "list"),
            constraints=ir.Constraints(max_items=10),
        ),
        ir.Field(
            "meta",
            "meta",
            ir.JsonType(
                {
                    "type": "object",
                    "properties": {"source": {"type": "string"}, "weight": {"type": "integer"}},
                    "additionalProperties": False,
                }
            ),
            nullable=True,
        ),
        ir.Field("done", "done", ir.BooleanType(), default=ir.Default("literal", False)),
        ir.Field(
            "created_at",
            "created_at",
            ir.DateTimeType(),
            generated=True,
            default=ir.Default("sql", "CURRENT_TIMESTAMP"),
        ),
    )
    return ir.Entity(
        "Todo",
        "todos",
        2,
        fields,
        primary_key=("id",),
        unique=(("title",),),
        indexes=(ir.Index("ix_todos_status", ("status",)),),
        doc="A thing to do.",
    )


def hostile() -> ir.Entity:
    """Names, docs and defaults that try to break out of the generated code."""
    nasty = 'x"""; import os; os.system("echo pwned") #\\'
    fields = (
        ir.Field("id", "id", ir.IntegerType(), immutable=True),
        ir.Field("class_", "class", S(), doc=nasty, default=ir.Default("literal", nasty)),
        ir.Field("self_", "self", S(), nullable=True),
        ir.Field("class__", "__class__", S(), nullable=True, doc="dunder\nwith newline"),
        ir.Field("data_", "data", ir.JsonType({}), nullable=True),
        ir.Field("issues", "issues", S(), nullable=True),
        ir.Field("payload", "payload", S(), nullable=True),
        ir.Field("cafe", "café", S(), nullable=True, doc="ünïcödé ☃ and a tab\there"),
        ir.Field(
            "mode",
            "mode",
            ir.EnumType("WeirdMode", ("a b", "A-B", "", "None", "class", "1st")),
            default=ir.Default("literal", "None"),
        ),
        ir.Field("quote", "quote", S(), default=ir.Default("literal", 'it\'s "quoted"\n')),
    )
    return ir.Entity(
        "Hostile",
        "hostile table",
        1,
        fields,
        primary_key=("id",),
        doc='Ends with a quote"',
    )


def account() -> ir.Entity:
    """An entity with user commands, as a Python source would give."""
    return ir.Entity(
        "Account",
        "accounts",
        1,
        (
            ir.Field("id", "id", ir.IntegerType(), generated=True, immutable=True),
            ir.Field("owner", "owner", S(), constraints=ir.Constraints(max_length=100)),
            ir.Field(
                "balance", "balance", ir.DecimalType(12, 2), default=ir.Default("literal", "0")
            ),
            ir.Field("closed", "closed", ir.BooleanType(), default=ir.Default("literal", False)),
        ),
        primary_key=("id",),
        commands=(
            ir.CommandDef(
                "deposit", (ir.Field("amount", "amount", ir.DecimalType(12, 2)),), "Put money in."
            ),
            ir.CommandDef("close", (), "Close the account.", payload_version=2),
        ),
    )


def booking() -> ir.Entity:
    """An entity whose draft has the payload fast path: every branch and check it has.

    Required, defaulted and nullable fields (with ``None`` and with another default) of every
    type the fast path checks inline or parses, bounds of each kind, names that clash with
    the readers' locals and the builtins they call, a payload key that needs escaping, and
    names long enough to wrap.
    """
    long_name = "seats_held_back_for_the_organisers"
    fields = (
        ir.Field("id", "id", ir.IntegerType(), generated=True, immutable=True),
        ir.Field("title", "title", S(), constraints=ir.Constraints(min_length=1, max_length=40)),
        ir.Field(
            "seats",
            "seats",
            ir.IntegerType(bits=16),
            constraints=ir.Constraints(minimum=1, maximum=500),
        ),
        ir.Field(
            "price",
            "price",
            ir.FloatType(),
            constraints=ir.Constraints(exclusive_minimum=0, exclusive_maximum=1e6),
        ),
        ir.Field("starts_at", "starts_at", ir.DateTimeType(tz=True)),
        ir.Field("ends_at", "ends_at", ir.DateTimeType(), nullable=True),
        ir.Field("day", "day", ir.DateType(), nullable=True),
        ir.Field("at", "at", ir.TimeType(), nullable=True),
        ir.Field("ref", "ref", ir.UuidType(), default=ir.Default("factory", "uuid4")),
        ir.Field("booked_at", "booked_at", ir.DateTimeType(), default=ir.Default("factory", "now")),
        ir.Field("paid", "paid", ir.BooleanType(), default=ir.Default("literal", False)),
        ir.Field(
            "step",
            "step",
            ir.IntegerType(bits=32),
            default=ir.Default("literal", 3),
            constraints=ir.Constraints(multiple_of=3),
        ),
        ir.Field(
            "note",
            "note",
            S(),
            nullable=True,
            default=ir.Default("literal", "none yet"),
            constraints=ir.Constraints(max_length=10),
        ),
        ir.Field("len", "len", ir.IntegerType(), nullable=True, default=ir.Default("literal", 7)),
        ir.Field("data", "data", S(), nullable=True),
        ir.Field("exact", "exact", ir.IntegerType(), nullable=True),
        ir.Field("cls", "cls", ir.BooleanType(), default=ir.Default("literal", True)),
        ir.Field(
            "odd_key",
            "odd_key",
            ir.FloatType(),
            nullable=True,
            extra={"json_key": 'a/b~"c"'},
        ),
        ir.Field(
            long_name,
            long_name,
            ir.IntegerType(),
            nullable=True,
            constraints=ir.Constraints(minimum=-1000, maximum=1000, multiple_of=5),
        ),
        ir.Field("math", "math", ir.FloatType(), nullable=True),
        ir.Field(
            "type",
            "type",
            S(),
            default=ir.Default("literal", "morning"),
            constraints=ir.Constraints(min_length=3, max_length=12),
        ),
    )
    return ir.Entity("Booking", "bookings", 1, fields, primary_key=("id",), doc="A seat booked.")
