"""Map SQL column types (as sqlglot parses them) to IR field types and constraints.

Every mapping is a row in a table below; the source type text is kept by the caller in
``Field.extra["sql_type"]`` so nothing the source said is lost. A type with no IR meaning is
a ``TypeProblem`` (the reader turns it into a ``SourceError`` at the column).

Decisions worth knowing:

* SQLite: ``INTEGER`` is the 64-bit rowid type, so it maps to ``IntegerType(64)``; other
  declared names keep their conventional width. Type names sqlglot does not know are mapped
  by SQLite's own affinity rules (``BLOB SUB_TYPE TEXT`` has TEXT affinity) when one of the
  rules' keywords appears; otherwise the type is unknown.
* Unsigned integers widen to the next signed size and get ``minimum: 0`` (and a maximum
  where the width needs one).
* ``TIMESTAMP`` carries a time zone only when the source says so (``WITH TIME ZONE``,
  ``TIMESTAMPTZ``, ``DATETIMEOFFSET``); MySQL's ``TIMESTAMP`` is therefore a plain datetime.
* Oracle ``NUMBER(p)``/``NUMBER(p, 0)`` with ``p <= 18`` is an integer; bare ``NUMBER`` is an
  unbounded decimal.
* ``CHAR(n)`` is a string with ``max_length`` n and ``extra["fixed_length"] = n``.
* MySQL ``ENUM(...)`` is an ``EnumType`` and ``SET(...)`` an array of that enum with unique
  items; their class name is given later (entity name + field name), so they are built with
  an empty ``name`` here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from persist_tool.ir import (
    ArrayType,
    BooleanType,
    BytesType,
    Constraints,
    DateTimeType,
    DateType,
    DecimalType,
    EnumType,
    FieldType,
    FloatType,
    IntegerType,
    JsonType,
    JsonValue,
    StringType,
    TimeType,
    UuidType,
)

__all__ = ["TypeProblem", "TypeSpec", "map_type"]

DType = exp.DType


class TypeProblem(Exception):
    """A column type the IR cannot represent."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """What a column type says: the field type, bounds, metadata and whether it generates."""

    type: FieldType
    constraints: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, JsonValue] = field(default_factory=dict)
    auto_increment: str | None = None
    """The keyword when the type itself makes values (``SERIAL``)."""
    nullable: bool | None = None
    """A domain's NOT NULL (``False``); ``None`` when the type says nothing."""
    default: tuple[str, JsonValue] | None = None
    """A domain's default as ``(kind, value)``."""


# --------------------------------------------------------------------------- integers

_INT_RANGES: dict[exp.DType, tuple[int, int | None, int | None]] = {
    DType.TINYINT: (16, -128, 127),
    DType.UTINYINT: (16, 0, 255),
    DType.SMALLINT: (16, None, None),
    DType.USMALLINT: (32, 0, 65535),
    DType.MEDIUMINT: (32, -8388608, 8388607),
    DType.UMEDIUMINT: (32, 0, 16777215),
    DType.INT: (32, None, None),
    DType.UINT: (64, 0, 4294967295),
    DType.BIGINT: (64, None, None),
    DType.UBIGINT: (64, 0, None),
    DType.YEAR: (16, None, None),
}
"""sqlglot integer type -> (bits, minimum, maximum) beyond what the bits imply."""

_SERIALS: dict[exp.DType, int] = {
    DType.SMALLSERIAL: 16,
    DType.SERIAL: 32,
    DType.BIGSERIAL: 64,
}

_SQLITE_ROWID = re.compile(r"^\s*INTEGER\s*$", re.IGNORECASE)
_UNSIGNED = re.compile(r"\bUNSIGNED\b", re.IGNORECASE)


def _integer(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    bits, minimum, maximum = _INT_RANGES[dt.this]
    if ctx.dialect == "sqlite" and _SQLITE_ROWID.match(ctx.text):
        bits = 64
    if ctx.dialect == "tsql" and dt.this == DType.UTINYINT and not _UNSIGNED.search(ctx.text):
        # SQL Server's TINYINT is unsigned by definition (0..255).
        bits, minimum, maximum = 16, 0, 255
    bounds: dict[str, Any] = {}
    if minimum is not None:
        bounds["minimum"] = minimum
    if maximum is not None:
        bounds["maximum"] = maximum
    return TypeSpec(IntegerType(bits), bounds)


def _serial(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    return TypeSpec(IntegerType(_SERIALS[dt.this]), auto_increment=dt.this.name)


# --------------------------------------------------------------------------- numbers


def _params(dt: exp.DataType) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    for param in dt.expressions:
        value = param.this if isinstance(param, exp.DataTypeParam) else param
        if isinstance(value, exp.Expression):
            out.append(value)
    return out


def _int_param(dt: exp.DataType, index: int) -> int | None:
    params = _params(dt)
    if index >= len(params):
        return None
    param = params[index]
    if isinstance(param, exp.Literal) and not param.is_string and param.this.isdigit():
        return int(param.this)
    return None


def _float(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    precision = _int_param(dt, 0)
    word = ctx.text.strip().split("(")[0].strip().upper()
    if precision is not None:
        bits = 32 if precision <= 24 else 64
    elif dt.this == DType.DOUBLE or word in _FLOAT64_WORDS.get(ctx.dialect, ()):
        bits = 64
    else:
        bits = 32
    return TypeSpec(FloatType(bits))


_FLOAT64_WORDS: dict[str, tuple[str, ...]] = {
    # Dialects where the bare word means double precision.
    "tsql": ("FLOAT",),
    "mysql": ("REAL",),
    "oracle": ("FLOAT",),
    "sqlite": ("REAL", "FLOAT"),
    "postgres": ("FLOAT",),
}

_ORACLE_NUMBER = re.compile(r"^\s*NUMBER\b", re.IGNORECASE)


def _decimal(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    precision = _int_param(dt, 0)
    scale = _int_param(dt, 1)
    oracle_number = ctx.dialect == "oracle" and bool(_ORACLE_NUMBER.match(ctx.text))
    if oracle_number and precision is not None and scale in (None, 0) and precision <= 18:
        bits = 16 if precision <= 4 else 32 if precision <= 9 else 64
        return TypeSpec(IntegerType(bits))
    if precision is None and _params(dt) and isinstance(_params(dt)[0], exp.Star):
        # Oracle NUMBER(*, s): maximum precision.
        return TypeSpec(DecimalType(None, scale))
    if precision is not None and scale is None:
        scale = 0
    return TypeSpec(DecimalType(precision, scale))


def _money(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    return TypeSpec(DecimalType(19, 4) if dt.this == DType.MONEY else DecimalType(10, 4))


# --------------------------------------------------------------------------- strings

_FIXED_LENGTH = frozenset({DType.CHAR, DType.NCHAR, DType.BPCHAR, DType.FIXEDSTRING})
_TEXT_LIMITS: dict[exp.DType, int] = {DType.TINYTEXT: 255}


def _string(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    length = _int_param(dt, 0)
    if (
        length is None
        and dt.this in _FIXED_LENGTH
        and ctx.dialect != "sqlite"
        and not dt.expressions
    ):
        length = 1  # SQL: CHAR without a length is CHAR(1)
    if length is None:
        length = _TEXT_LIMITS.get(dt.this)
    bounds: dict[str, Any] = {} if length is None else {"max_length": length}
    extra: dict[str, JsonValue] = {}
    if dt.this in _FIXED_LENGTH and length is not None:
        extra["fixed_length"] = length
    return TypeSpec(StringType(), bounds, extra)


def _bit(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    width = _int_param(dt, 0)
    if width is None or width == 1:
        return TypeSpec(BooleanType())
    return TypeSpec(BytesType(), extra={"bit_length": width})


# --------------------------------------------------------------------------- time

_TZ_TEXT = re.compile(r"\bWITH\s+(LOCAL\s+)?TIME\s+ZONE\b|TZ\s*(\(|$)|OFFSET\b", re.IGNORECASE)


def _datetime(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    if ctx.text:
        tz = bool(_TZ_TEXT.search(ctx.text.strip()))
    else:
        tz = dt.this in (DType.TIMESTAMPTZ, DType.TIMESTAMPLTZ)
    return TypeSpec(DateTimeType(tz=tz))


# --------------------------------------------------------------------------- structured


def _enum(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    values = _enum_values(dt.expressions)
    return TypeSpec(EnumType(name="", values=values))


def _set(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    values = _enum_values(dt.expressions)
    return TypeSpec(
        ArrayType(item=EnumType(name="", values=values)),
        {"unique_items": True},
    )


def _enum_values(expressions: list[exp.Expression]) -> tuple[str | int, ...]:
    values: list[str | int] = []
    for value in expressions:
        if not isinstance(value, exp.Literal):
            raise TypeProblem("enumeration values must be literals")
        values.append(value.this if value.is_string else int(value.this))
    if len(set(values)) != len(values):
        raise TypeProblem("enumeration lists a value twice")
    if not values:
        raise TypeProblem("enumeration without values")
    return tuple(values)


def _array(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    if not dt.expressions or not isinstance(dt.expressions[0], exp.DataType):
        raise TypeProblem("array without an item type")
    item_text = re.sub(r"\s*\[\s*\d*\s*\]\s*$", "", ctx.text)
    item_text = re.sub(r"^\s*ARRAY\s*<(.*)>\s*$", r"\1", item_text, flags=re.IGNORECASE)
    item = map_type(dt.expressions[0], item_text, ctx.dialect, ctx.user_types)
    if item.auto_increment:
        raise TypeProblem("an array of serial values is not a column type")
    item_constraints = Constraints(**item.constraints) if item.constraints else None
    return TypeSpec(ArrayType(item=item.type, item_constraints=item_constraints))


def _const(field_type: FieldType) -> Callable[[exp.DataType, _Ctx], TypeSpec]:
    def build(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
        return TypeSpec(field_type)

    return build


@dataclass(frozen=True, slots=True)
class _Ctx:
    text: str
    dialect: str
    user_types: Mapping[str, TypeSpec]


_MAPPERS: dict[exp.DType, Callable[[exp.DataType, _Ctx], TypeSpec]] = {
    **{t: _integer for t in _INT_RANGES},
    **{t: _serial for t in _SERIALS},
    DType.FLOAT: _float,
    DType.DOUBLE: _float,
    DType.DECIMAL: _decimal,
    DType.BIGDECIMAL: _decimal,
    DType.DECIMAL32: _decimal,
    DType.DECIMAL64: _decimal,
    DType.DECIMAL128: _decimal,
    DType.UDECIMAL: _decimal,
    DType.DECFLOAT: _decimal,
    DType.MONEY: _money,
    DType.SMALLMONEY: _money,
    DType.BOOLEAN: _const(BooleanType()),
    DType.BIT: _bit,
    DType.CHAR: _string,
    DType.NCHAR: _string,
    DType.BPCHAR: _string,
    DType.VARCHAR: _string,
    DType.NVARCHAR: _string,
    DType.TEXT: _string,
    DType.TINYTEXT: _string,
    DType.MEDIUMTEXT: _string,
    DType.LONGTEXT: _string,
    DType.NAME: _string,
    DType.FIXEDSTRING: _string,
    DType.XML: _string,
    DType.INET: _string,
    DType.IPADDRESS: _string,
    DType.IPPREFIX: _string,
    DType.IPV4: _string,
    DType.IPV6: _string,
    DType.DATE: _const(DateType()),
    DType.DATE32: _const(DateType()),
    DType.DATETIME: _datetime,
    DType.DATETIME2: _datetime,
    DType.DATETIME64: _datetime,
    DType.SMALLDATETIME: _datetime,
    DType.TIMESTAMP: _datetime,
    DType.TIMESTAMPNTZ: _datetime,
    DType.TIMESTAMPTZ: _datetime,
    DType.TIMESTAMPLTZ: _datetime,
    DType.TIMESTAMP_S: _datetime,
    DType.TIMESTAMP_MS: _datetime,
    DType.TIMESTAMP_NS: _datetime,
    DType.TIME: _const(TimeType()),
    DType.TIMETZ: _const(TimeType()),
    DType.TIME_NS: _const(TimeType()),
    DType.UUID: _const(UuidType()),
    DType.BINARY: _const(BytesType()),
    DType.VARBINARY: _const(BytesType()),
    DType.BLOB: _const(BytesType()),
    DType.TINYBLOB: _const(BytesType()),
    DType.MEDIUMBLOB: _const(BytesType()),
    DType.LONGBLOB: _const(BytesType()),
    DType.IMAGE: _const(BytesType()),
    DType.ROWVERSION: _const(BytesType()),
    DType.JSON: _const(JsonType({})),
    DType.JSONB: _const(JsonType({})),
    DType.HSTORE: _const(
        JsonType({"type": "object", "additionalProperties": {"type": ["string", "null"]}})
    ),
    DType.ENUM: _enum,
    DType.SET: _set,
    DType.ARRAY: _array,
}
"""sqlglot type -> builder of the IR type; types missing here have no IR meaning."""

_NAMED_TYPES: dict[str, FieldType] = {
    # Names sqlglot leaves user-defined but whose meaning is plain.
    "TSVECTOR": StringType(),
    "TSQUERY": StringType(),
    "CITEXT": StringType(),
    "LTREE": StringType(),
    "MACADDR": StringType(),
    "MACADDR8": StringType(),
    "CIDR": StringType(),
    "NCLOB": StringType(),
    "LONG": StringType(),
    "RAW": BytesType(),
    "LONG RAW": BytesType(),
    "GRAPHIC": StringType(),
    "VARGRAPHIC": StringType(),
    "DBCLOB": StringType(),
}

_SQLITE_AFFINITY: tuple[tuple[str, Callable[[], TypeSpec]], ...] = (
    # https://www.sqlite.org/datatype3.html section 3.1, rules 1-4 in their order.
    ("INT", lambda: TypeSpec(IntegerType(64))),
    ("CHAR", lambda: TypeSpec(StringType())),
    ("CLOB", lambda: TypeSpec(StringType())),
    ("TEXT", lambda: TypeSpec(StringType())),
    ("BLOB", lambda: TypeSpec(BytesType())),
    ("REAL", lambda: TypeSpec(FloatType(64))),
    ("FLOA", lambda: TypeSpec(FloatType(64))),
    ("DOUB", lambda: TypeSpec(FloatType(64))),
)


def _user_defined(dt: exp.DataType, ctx: _Ctx) -> TypeSpec:
    kind = dt.args.get("kind")
    name = kind.name if isinstance(kind, exp.Expression) else str(kind or "")
    if not name:
        name = ctx.text.strip()
    key = name.lower()
    if key in ctx.user_types:
        return ctx.user_types[key]
    upper = name.upper().replace("_", " ") if ctx.dialect == "sqlite" else name.upper()
    if upper in _NAMED_TYPES:
        return TypeSpec(_NAMED_TYPES[upper])
    if ctx.dialect == "sqlite":
        for needle, build in _SQLITE_AFFINITY:
            if needle in upper:
                return build()
    raise TypeProblem(
        f"unknown column type {ctx.text.strip() or name!r}",
        "use a standard SQL type (INTEGER, VARCHAR(n), NUMERIC(p,s), TIMESTAMP, ...), "
        "declare the type earlier in the file (CREATE TYPE ... AS ENUM / CREATE DOMAIN), "
        "or pass --read-dialect for the dialect that defines it",
    )


def map_type(
    dt: exp.Expression, text: str, dialect: str, user_types: Mapping[str, TypeSpec]
) -> TypeSpec:
    """Return the IR meaning of a parsed column type.

    ``text`` is the type as the source spells it (used where sqlglot normalises away a
    distinction, such as SQLite's ``INTEGER`` or MySQL's ``TIMESTAMP``); ``user_types``
    holds enum types and domains declared earlier in the file, by lower-case name.
    """
    if not isinstance(dt, exp.DataType):
        raise TypeProblem(f"unknown column type {text.strip() or dt.sql()!r}")
    ctx = _Ctx(text, dialect, user_types)
    if dt.this == DType.USERDEFINED:
        return _user_defined(dt, ctx)
    mapper = _MAPPERS.get(dt.this)
    if mapper is None:
        raise TypeProblem(
            f"column type {text.strip() or dt.sql(dialect=dialect)!r} has no persist-tool "
            "field type",
            "store it as TEXT, JSON or a supported type, or leave the table out with --entity",
        )
    return mapper(dt, ctx)
