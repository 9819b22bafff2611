"""Hypothesis strategies for IR values."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from persist_tool import ir

identifiers = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: "f_" + s)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=5), children, max_size=3),
    ),
    max_leaves=8,
)

constraints = st.builds(
    ir.Constraints,
    min_length=st.none() | st.integers(0, 10),
    max_length=st.none() | st.integers(10, 500),
    pattern=st.none() | st.sampled_from(["^[a-z]+$", "\\d{3}"]),
    minimum=st.none() | st.integers(-100, 0),
    maximum=st.none() | st.integers(1, 1000),
    multiple_of=st.none() | st.sampled_from([2, 0.5]),
    unique_items=st.booleans(),
)

scalar_types = st.one_of(
    st.builds(ir.StringType, format=st.none() | st.sampled_from(["email", "uri"])),
    st.builds(ir.IntegerType, bits=st.sampled_from([16, 32, 64])),
    st.builds(ir.FloatType),
    st.builds(
        ir.DecimalType,
        precision=st.none() | st.integers(1, 30),
        scale=st.none() | st.integers(0, 6),
    ),
    st.just(ir.BooleanType()),
    st.just(ir.DateType()),
    st.builds(ir.DateTimeType, tz=st.booleans()),
    st.just(ir.TimeType()),
    st.just(ir.UuidType()),
    st.just(ir.BytesType()),
    st.builds(
        ir.EnumType,
        name=st.just("Status"),
        values=st.lists(
            st.text(string.ascii_lowercase, min_size=1, max_size=6),
            min_size=1,
            max_size=4,
            unique=True,
        ).map(tuple),
    ),
    st.builds(
        ir.JsonType,
        schema=st.sampled_from(
            [{}, {"type": "object"}, {"type": "array", "items": {"type": "integer"}}]
        ),
    ),
)
field_types = st.one_of(
    scalar_types,
    st.builds(ir.ArrayType, item=scalar_types, item_constraints=st.none() | constraints),
)

defaults = st.none() | st.one_of(
    st.builds(ir.Default, kind=st.just("literal"), value=json_scalars),
    st.builds(ir.Default, kind=st.just("factory"), value=st.sampled_from(["now", "uuid4", "list"])),
    st.builds(ir.Default, kind=st.just("sql"), value=st.just("CURRENT_TIMESTAMP")),
)

locations = st.none() | st.builds(
    ir.Location, file=st.just("a.sql"), line=st.integers(0, 99), column=st.integers(0, 99)
)


@st.composite
def fields(draw: st.DrawFn, name: str | None = None) -> ir.Field:
    """Draw a field."""
    n = name or draw(identifiers)
    return ir.Field(
        name=n,
        column=draw(st.sampled_from([n, n.upper(), n + " col"])),
        type=draw(field_types),
        nullable=draw(st.booleans()),
        default=draw(defaults),
        generated=draw(st.booleans()),
        immutable=draw(st.booleans()),
        doc=draw(st.none() | st.text(max_size=20)),
        constraints=draw(constraints),
        renamed_from=tuple(draw(st.lists(identifiers, max_size=2))),
        location=draw(locations),
        extra=draw(
            st.dictionaries(st.sampled_from(["sql_type", "x"]), st.text(max_size=5), max_size=2)
        ),
    )


@st.composite
def entities(draw: st.DrawFn) -> ir.Entity:
    """Draw an entity with unique field names."""
    names = draw(st.lists(identifiers, min_size=1, max_size=6, unique=True))
    fs = tuple(draw(fields(n)) for n in names)
    return ir.Entity(
        name=draw(st.sampled_from(["Todo", "Order", "LineItem"])),
        table=draw(st.sampled_from(["todos", "orders", "line_items"])),
        schema_version=draw(st.integers(1, 9)),
        fields=fs,
        primary_key=(names[0],),
        unique=tuple(draw(st.lists(st.sampled_from(names).map(lambda n: (n,)), max_size=2))),
        indexes=tuple(
            ir.Index(f"ix_{n}", (n,), draw(st.booleans()))
            for n in draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
        ),
        commands=tuple(
            ir.CommandDef(
                c,
                (draw(fields("amount")),),
                draw(st.none() | st.text(max_size=10)),
                draw(st.integers(1, 3)),
            )
            for c in draw(st.lists(st.sampled_from(["deposit", "close"]), max_size=2, unique=True))
        ),
        doc=draw(st.none() | st.text(max_size=30)),
        location=draw(locations),
        extra=draw(
            st.dictionaries(st.sampled_from(["foreign_keys", "checks"]), json_values, max_size=2)
        ),
    )


schemas = st.builds(
    ir.Schema, entities=st.lists(entities(), max_size=3).map(tuple), source=st.text(max_size=10)
)
