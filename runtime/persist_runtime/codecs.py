"""Value conversion between Python and each database driver, per dialect and field kind.

The tables ``ENCODERS`` and ``DECODERS`` map ``(dialect, kind)`` to a factory that receives the
field (and its resolved column context) and returns a converter, or ``None`` when the driver
already passes the value through unchanged. ``RowCodec`` builds the converter lists for one
entity once, so converting a row is a loop over the few columns that need work — no
reflection per call.

Also here: the JSON form of field values (snapshots, journal ids), used for keys.
"""

from __future__ import annotations

import base64
import enum
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from .errors import Issue, ValidationError
from .spec import EntitySpec, FieldSpec

__all__ = [
    "DECODERS",
    "Convert",
    "ENCODERS",
    "JSON_DUMPERS",
    "JSON_LOADERS",
    "Column",
    "RowCodec",
    "coerce_key_value",
    "dumps",
    "enum_types",
    "json_default",
]

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Column:
    """What a converter factory may consult about one column."""

    field: FieldSpec
    dialect: str
    sql_type: str
    enum_type: type[enum.Enum] | None


Factory = Callable[[Column], Convert | None]


def json_default(value: object) -> object:
    """Give the JSON form of values ``json`` cannot write (dates, decimals, UUIDs, enums...)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: object) -> str:
    """Return compact JSON text of ``value`` (non-ASCII kept; see ``json_default``)."""
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- converters


def _nullable(fn: Convert) -> Convert:
    def convert(value: Any) -> Any:
        return None if value is None else fn(value)

    return convert


def _to_decimal(scale: int | None) -> Convert:
    quantum = Decimal(1).scaleb(-scale) if scale is not None else None

    def convert(value: Any) -> Decimal:
        if isinstance(value, Decimal):
            out = value
        elif isinstance(value, float):
            out = Decimal(repr(value))
        else:
            out = Decimal(value if isinstance(value, (int, str)) else str(value))
        return out.quantize(quantum) if quantum is not None else out

    return convert


def _to_datetime(tz: bool) -> Convert:
    def convert(value: Any) -> datetime:
        out = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if tz and out.tzinfo is None:
            out = out.replace(tzinfo=UTC)
        return out

    return convert


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _to_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, timedelta):  # MySQL TIME comes back as a duration
        seconds = int(value.total_seconds())
        return time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, value.microseconds)
    return time.fromisoformat(str(value))


def _to_uuid(value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return UUID(bytes=bytes(value))
    return UUID(value.decode() if isinstance(value, (bytes, bytearray)) else str(value))


def _to_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)


def _to_bool(value: Any) -> bool:
    return bool(value)


def _from_json_text(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode()
    return json.loads(value) if isinstance(value, str) else value


def _utc_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def _utc_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _isoformat(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, time)) else value


def _str(value: Any) -> str:
    return str(value)


_SCALE = re.compile(r"\(\s*\d+\s*,\s*(\d+)\s*\)")


def _scale(column: Column) -> int | None:
    """Return the decimal scale, from any dialect's type (SQLite's ``NUMERIC`` has none)."""
    for sql_type in (column.sql_type, *column.field.sql_types.values()):
        match = _SCALE.search(sql_type)
        if match:
            return int(match.group(1))
    return None


def _is_json_column(column: Column) -> bool:
    return column.sql_type.strip().upper().startswith("JSON")


def _is_native_array(column: Column) -> bool:
    return column.sql_type.strip().endswith("]") or "ARRAY" in column.sql_type.upper()


def _const(fn: Convert | None) -> Factory:
    return lambda column: fn


def _pg_json_encoder(column: Column) -> Convert | None:
    if _is_native_array(column):
        return None
    if not _is_json_column(column):
        return dumps
    from psycopg.types.json import Json, Jsonb  # the postgres extra; imported only here

    wrapper = Jsonb if "JSONB" in column.sql_type.upper() else Json
    return lambda value: wrapper(value, dumps=dumps)


def _pg_json_decoder(column: Column) -> Convert | None:
    if _is_native_array(column) or _is_json_column(column):
        return None
    return _from_json_text


def _enum_decoder(column: Column) -> Convert | None:
    return column.enum_type


_TEXT_JSON: Final[dict[str, Factory]] = {
    "json": _const(dumps),
    "array": _const(dumps),
    "object": _const(dumps),
}
_TEXT_JSON_DECODE: Final[dict[str, Factory]] = {
    "json": _const(_from_json_text),
    "array": _const(_from_json_text),
    "object": _const(_from_json_text),
}

ENCODERS: Final[Mapping[str, Mapping[str, Factory]]] = {
    "sqlite": {
        # sqlite3 binds exact ints directly but sends a bool through its adapter lookup,
        # which costs several times the conversion; it stores both as the same integer.
        "boolean": _const(int),
        "decimal": _const(_str),
        "date": _const(_isoformat),
        "time": _const(_isoformat),
        "datetime": _const(_utc_text),
        "uuid": _const(_str),
        "enum": _const(_enum_value),
        **_TEXT_JSON,
    },
    "postgres": {
        "enum": _const(_enum_value),
        "json": _pg_json_encoder,
        "array": _pg_json_encoder,
        "object": _pg_json_encoder,
    },
    "mysql": {
        "uuid": _const(_str),
        "datetime": _const(_utc_naive),
        "enum": _const(_enum_value),
        **_TEXT_JSON,
    },
}
"""Python value -> driver parameter, per dialect and kind (absent: passed through)."""

_COMMON_DECODERS: Final[dict[str, Factory]] = {
    "decimal": lambda c: _to_decimal(_scale(c)),
    "datetime": lambda c: _to_datetime(c.field.tz),
    "date": _const(_to_date),
    "time": _const(_to_time),
    "uuid": _const(_to_uuid),
    "bytes": _const(_to_bytes),
    "boolean": _const(_to_bool),
    "enum": _enum_decoder,
}

DECODERS: Final[Mapping[str, Mapping[str, Factory]]] = {
    "sqlite": {**_COMMON_DECODERS, **_TEXT_JSON_DECODE},
    "postgres": {
        **_COMMON_DECODERS,
        "json": _pg_json_decoder,
        "array": _pg_json_decoder,
        "object": _pg_json_decoder,
    },
    "mysql": {**_COMMON_DECODERS, **_TEXT_JSON_DECODE},
}
"""Driver result value -> Python value, per dialect and kind (absent: passed through)."""


# --------------------------------------------------------------------------- JSON forms


def _b64(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


JSON_DUMPERS: Final[Mapping[str, Convert]] = {
    "datetime": lambda v: v.isoformat(),
    "date": lambda v: v.isoformat(),
    "time": lambda v: v.isoformat(),
    "decimal": str,
    "uuid": str,
    "bytes": _b64,
    "enum": _enum_value,
}
"""Python value -> JSON form, per kind (absent: already JSON)."""


def _from_iso_datetime(value: Any) -> datetime:
    text = str(value)
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


JSON_LOADERS: Final[Mapping[str, Convert]] = {
    "datetime": _from_iso_datetime,
    "date": lambda v: date.fromisoformat(str(v)),
    "time": lambda v: time.fromisoformat(str(v)),
    "decimal": lambda v: Decimal(str(v)),
    "uuid": lambda v: UUID(str(v)),
    "bytes": lambda v: base64.b64decode(str(v), validate=True),
}
"""JSON form -> Python value, per kind, for values given in JSON form (ids from files)."""

_PYTHON_TYPES: Final[Mapping[str, type | tuple[type, ...]]] = {
    "string": str,
    "integer": int,
    "float": (float, int),
    "decimal": Decimal,
    "boolean": bool,
    "date": date,
    "datetime": datetime,
    "time": time,
    "uuid": UUID,
    "bytes": bytes,
}


def coerce_key_value(
    field: FieldSpec,
    value: object,
    enum_type: type[enum.Enum] | None,
    path: str | None = None,
) -> Any:
    """Return ``value`` as the Python value of scalar field ``field``, accepting its JSON form.

    Raise ``ValidationError`` at ``path`` (default ``/id/<field>``) for a value that does not
    fit the field's kind.
    """
    expected = _PYTHON_TYPES.get(field.kind)
    if enum_type is not None:
        try:
            return enum_type(_enum_value(value))
        except ValueError:
            pass
    elif expected is None or (
        isinstance(value, expected) and not (field.kind == "integer" and isinstance(value, bool))
    ):
        return value
    else:
        loader = JSON_LOADERS.get(field.kind)
        if loader is not None and isinstance(value, (str, int, float)):
            try:
                return loader(value)
            except (ValueError, TypeError, ArithmeticError):
                pass
    where = f"/id/{field.name}" if path is None else path
    raise ValidationError([Issue(where, f"expected a value of kind {field.kind}, got {value!r}")])


def enum_types(spec: EntitySpec) -> dict[str, type[enum.Enum]]:
    """Return the enum class of every enum field of ``spec``, by field name.

    Generated specs may list them in ``extra["enum_types"]``; otherwise they are read once
    from the entity class's annotations (done when the store first meets the spec).
    """
    declared = spec.extra.get("enum_types")
    if isinstance(declared, Mapping):
        return dict(declared)
    wanted = {f.name for f in spec.fields if f.kind == "enum"}
    if not wanted:
        return {}
    try:
        hints = typing.get_type_hints(spec.entity_type)
    except Exception:  # unresolvable annotations: enum values stay plain values
        return {}
    out: dict[str, type[enum.Enum]] = {}
    for name in wanted:
        found = _find_enum(hints.get(name))
        if found is not None:
            out[name] = found
    return out


def _find_enum(hint: object) -> type[enum.Enum] | None:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            found = _find_enum(arg)
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------- row codec


def _build(
    fields: Sequence[FieldSpec],
    dialect: str,
    table: Mapping[str, Mapping[str, Factory]],
    enums: Mapping[str, type[enum.Enum]],
) -> tuple[tuple[int, Convert], ...]:
    out: list[tuple[int, Convert]] = []
    factories = table[dialect]
    for index, field in enumerate(fields):
        factory = factories.get(field.kind)
        if factory is None:
            continue
        column = Column(
            field=field,
            dialect=dialect,
            sql_type=field.sql_types.get(dialect, ""),
            enum_type=enums.get(field.name),
        )
        fn = factory(column)
        if fn is not None:
            out.append((index, _nullable(fn) if field.nullable or field.generated else fn))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RowCodec:
    """Converters for a fixed list of fields of one entity, in one dialect."""

    converters: tuple[tuple[int, Convert], ...]

    @classmethod
    def encoder(
        cls,
        fields: Sequence[FieldSpec],
        dialect: str,
        enums: Mapping[str, type[enum.Enum]],
    ) -> RowCodec:
        """Build the Python -> database converters for ``fields``."""
        return cls(_build(fields, dialect, ENCODERS, enums))

    @classmethod
    def decoder(
        cls,
        fields: Sequence[FieldSpec],
        dialect: str,
        enums: Mapping[str, type[enum.Enum]],
    ) -> RowCodec:
        """Build the database -> Python converters for ``fields``."""
        return cls(_build(fields, dialect, DECODERS, enums))

    def __call__(self, values: Sequence[Any]) -> Sequence[Any]:
        """Return ``values`` converted (the same sequence when nothing needs converting)."""
        if not self.converters:
            return values
        out = list(values)
        for index, fn in self.converters:
            out[index] = fn(out[index])
        return out
