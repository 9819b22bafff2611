"""The intermediate representation every reader produces and every emitter consumes.

Frozen dataclasses, JSON-serialisable both ways (the lock file stores them), with a stable
per-entity fingerprint. This module does no I/O and imports nothing of the package or of any
third party: it is the contract between the pipeline's stages.

Conventions:

* ``Field.name`` is the Python attribute name (already a safe identifier); ``Field.column``
  is the SQL column name exactly as the source spells it.
* A JSON sub-schema (``JsonType.schema``) and ``extra`` mappings hold plain JSON values.
  They are stored as given; treat them as immutable.
* ``to_json``/``from_json`` give and take plain JSON values; ``canonical_json`` is the
  byte-stable text used for fingerprints and the lock file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

JsonValue: TypeAlias = Any
"""A plain JSON value: None, bool, int, float, str, list or dict with str keys."""

__all__ = [
    "ArrayType",
    "BooleanType",
    "BytesType",
    "CommandDef",
    "CONSTRAINT_KEYWORDS",
    "Constraints",
    "DateTimeType",
    "DateType",
    "DecimalType",
    "Default",
    "Entity",
    "EnumType",
    "Field",
    "FieldType",
    "FloatType",
    "Index",
    "IntegerType",
    "JsonType",
    "Location",
    "ObjectType",
    "Schema",
    "StringType",
    "TimeType",
    "UuidType",
    "SourceError",
    "canonical_json",
    "fingerprint",
    "type_from_json",
]


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True, slots=True)
class Location:
    """Point at a place in a source file (1-based line and column; 0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0
    pointer: str | None = None
    """JSON pointer inside the source document, for JSON Schema sources."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# --------------------------------------------------------------------------- field types


class FieldType:
    """Base of the field type variants; ``kind`` names the variant in JSON."""

    kind: ClassVar[str] = ""

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form: ``{"kind": ..., <attributes>}``."""
        out: dict[str, JsonValue] = {"kind": self.kind}
        for name in _field_names(type(self)):
            out[name] = _to_json(getattr(self, name))
        return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """Return the field names of dataclass ``cls`` (``dataclasses.fields`` builds them anew
    on every call, a cost the fingerprint of every entity paid per field)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        fields = dataclasses.fields(cls)
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields)
    return names


@dataclass(frozen=True, slots=True)
class StringType(FieldType):
    """Text; ``format`` keeps a semantic format such as ``email`` or ``uri``."""

    kind: ClassVar[str] = "string"
    format: str | None = None


@dataclass(frozen=True, slots=True)
class IntegerType(FieldType):
    """Whole number stored in ``bits`` bits (16, 32 or 64)."""

    kind: ClassVar[str] = "integer"
    bits: int = 64


@dataclass(frozen=True, slots=True)
class FloatType(FieldType):
    """Binary floating point number (``bits`` 32 or 64)."""

    kind: ClassVar[str] = "float"
    bits: int = 64


@dataclass(frozen=True, slots=True)
class DecimalType(FieldType):
    """Exact decimal number; precision/scale ``None`` means unbounded."""

    kind: ClassVar[str] = "decimal"
    precision: int | None = None
    scale: int | None = None


@dataclass(frozen=True, slots=True)
class BooleanType(FieldType):
    """True or false."""

    kind: ClassVar[str] = "boolean"


@dataclass(frozen=True, slots=True)
class DateType(FieldType):
    """Calendar date."""

    kind: ClassVar[str] = "date"


@dataclass(frozen=True, slots=True)
class DateTimeType(FieldType):
    """Timestamp; ``tz`` tells whether it carries a time zone."""

    kind: ClassVar[str] = "datetime"
    tz: bool = False


@dataclass(frozen=True, slots=True)
class TimeType(FieldType):
    """Time of day."""

    kind: ClassVar[str] = "time"


@dataclass(frozen=True, slots=True)
class UuidType(FieldType):
    """UUID."""

    kind: ClassVar[str] = "uuid"


@dataclass(frozen=True, slots=True)
class BytesType(FieldType):
    """Binary data (base64 in JSON payloads)."""

    kind: ClassVar[str] = "bytes"


@dataclass(frozen=True, slots=True)
class JsonType(FieldType):
    """Any JSON value constrained by a JSON sub-schema (``{}`` accepts everything).

    The schema is self-contained: references it uses resolve inside it (``#/$defs/...``).
    """

    kind: ClassVar[str] = "json"
    schema: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class EnumType(FieldType):
    """One of a closed set of values; ``name`` is the Python enum class name."""

    kind: ClassVar[str] = "enum"
    name: str = ""
    values: tuple[str | int, ...] = ()


@dataclass(frozen=True, slots=True)
class ArrayType(FieldType):
    """List of items of one type; item constraints live in ``item_constraints``."""

    kind: ClassVar[str] = "array"
    item: FieldType = field(default_factory=StringType)
    item_constraints: Constraints | None = None


@dataclass(frozen=True, slots=True)
class ObjectType(FieldType):
    """A nested object that is itself an entity of the schema, named by ``ref``."""

    kind: ClassVar[str] = "object"
    ref: str = ""


_TYPE_KINDS: dict[str, type[FieldType]] = {
    cls.kind: cls
    for cls in (
        StringType,
        IntegerType,
        FloatType,
        DecimalType,
        BooleanType,
        DateType,
        DateTimeType,
        TimeType,
        UuidType,
        BytesType,
        JsonType,
        EnumType,
        ArrayType,
        ObjectType,
    )
}


def type_from_json(data: Mapping[str, JsonValue]) -> FieldType:
    """Build a field type from its JSON form."""
    cls = _TYPE_KINDS[data["kind"]]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "item":
            value = type_from_json(value)
        elif f.name == "item_constraints":
            value = None if value is None else Constraints.from_json(value)
        elif f.name == "values":
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


# --------------------------------------------------------------------------- constraints


@dataclass(frozen=True, slots=True)
class Constraints:
    """What stored values of a field must obey, as the source states it.

    Bounds follow JSON Schema 2020-12: ``exclusive_minimum``/``exclusive_maximum`` are
    numbers, not flags. ``enum`` restricts a non-enum type to listed values (rarely needed:
    enumerations are normally an ``EnumType``); ``const`` fixes a single value.
    """

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    exclusive_maximum: int | float | None = None
    multiple_of: int | float | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    enum: tuple[JsonValue, ...] | None = field(default=None, hash=False)
    const: JsonValue = field(default=None, hash=False)
    has_const: bool = False

    def is_empty(self) -> bool:
        """Tell whether no constraint is set."""
        return self == _NO_CONSTRAINTS

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form, leaving out unset constraints."""
        out: dict[str, JsonValue] = {}
        for name, default in _CONSTRAINT_DEFAULTS:
            value = getattr(self, name)
            if value != default:
                out[name] = _to_json(value)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Constraints:
        """Build constraints from their JSON form."""
        kwargs = dict(data)
        if kwargs.get("enum") is not None:
            kwargs["enum"] = tuple(kwargs["enum"])
        return cls(**kwargs)


_NO_CONSTRAINTS = Constraints()
_CONSTRAINT_DEFAULTS = tuple((f.name, f.default) for f in dataclasses.fields(Constraints))

CONSTRAINT_KEYWORDS: Mapping[str, str] = {
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusive_minimum": "exclusiveMinimum",
    "exclusive_maximum": "exclusiveMaximum",
    "multiple_of": "multipleOf",
    "min_items": "minItems",
    "max_items": "maxItems",
}
"""``Constraints`` attribute -> the JSON Schema keyword that states the same bound."""


# --------------------------------------------------------------------------- defaults


@dataclass(frozen=True, slots=True)
class Default:
    """A field default.

    ``kind`` is one of:

    * ``"literal"``: ``value`` is a JSON value (dates/decimals as their ISO/str text);
    * ``"factory"``: ``value`` names a factory: ``now``, ``today``, ``uuid4``, ``list``,
      ``dict``;
    * ``"sql"``: ``value`` is an SQL expression the database evaluates (kept verbatim so the
      DDL can reproduce it; only meaningful for ``generated`` fields).
    """

    kind: str
    value: JsonValue = field(default=None, hash=False)

    LITERAL: ClassVar[str] = "literal"
    FACTORY: ClassVar[str] = "factory"
    SQL: ClassVar[str] = "sql"

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form."""
        return {"kind": self.kind, "value": _to_json(self.value)}

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Default:
        """Build a default from its JSON form."""
        return cls(kind=data["kind"], value=data.get("value"))


# --------------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True)
class Field:
    """One attribute of an entity and the column that stores it."""

    name: str
    column: str
    type: FieldType
    nullable: bool = False
    default: Default | None = None
    generated: bool = False
    """The database makes the value (autoincrement key, ``DEFAULT CURRENT_TIMESTAMP``)."""
    immutable: bool = False
    """Never changes after creation (primary key or declared immutable)."""
    doc: str | None = None
    constraints: Constraints = field(default_factory=Constraints)
    renamed_from: tuple[str, ...] = ()
    """Earlier names of this field, newest first."""
    location: Location | None = field(default=None, compare=False)
    extra: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)
    """Source metadata with no IR slot (for example the source's SQL type text)."""

    @property
    def required(self) -> bool:
        """Tell whether a Draft must give this field (no default, not nullable)."""
        return not self.generated and self.default is None and not self.nullable

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "column": self.column,
            "type": self.type.to_json(),
            "nullable": self.nullable,
            "default": None if self.default is None else self.default.to_json(),
            "generated": self.generated,
            "immutable": self.immutable,
            "doc": self.doc,
            "constraints": self.constraints.to_json(),
            "renamed_from": list(self.renamed_from),
            "location": _location_to_json(self.location),
            "extra": _to_json(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Field:
        """Build a field from its JSON form."""
        default = data.get("default")
        return cls(
            name=data["name"],
            column=data["column"],
            type=type_from_json(data["type"]),
            nullable=data.get("nullable", False),
            default=None if default is None else Default.from_json(default),
            generated=data.get("generated", False),
            immutable=data.get("immutable", False),
            doc=data.get("doc"),
            constraints=Constraints.from_json(data.get("constraints", {})),
            renamed_from=tuple(data.get("renamed_from", ())),
            location=_location_from_json(data.get("location")),
            extra=data.get("extra", {}),
        )


@dataclass(frozen=True, slots=True)
class Index:
    """A secondary index over columns (by column name)."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form."""
        return {"name": self.name, "columns": list(self.columns), "unique": self.unique}

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Index:
        """Build an index from its JSON form."""
        return cls(data["name"], tuple(data["columns"]), data.get("unique", False))


@dataclass(frozen=True, slots=True)
class CommandDef:
    """A user-declared domain command (a Python ``@command`` method)."""

    name: str
    """The method name (``deposit``); generated class names derive from it."""
    params: tuple[Field, ...] = ()
    doc: str | None = None
    payload_version: int = 1
    location: Location | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "params": [p.to_json() for p in self.params],
            "doc": self.doc,
            "payload_version": self.payload_version,
            "location": _location_to_json(self.location),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> CommandDef:
        """Build a command from its JSON form."""
        return cls(
            name=data["name"],
            params=tuple(Field.from_json(p) for p in data.get("params", ())),
            doc=data.get("doc"),
            payload_version=data.get("payload_version", 1),
            location=_location_from_json(data.get("location")),
        )


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True, slots=True)
class Entity:
    """A persisted domain entity: one Python class, one table.

    ``primary_key`` and ``unique`` name *fields* by their Python ``name``; ``Index.columns``
    too. ``extra`` holds source metadata without an IR slot, for example
    ``foreign_keys`` (a list of ``{"columns", "ref_table", "ref_columns", "on_delete",
    "on_update"}`` with field names) or, for Python sources, ``python_class``
    (``{"module": ..., "name": ...}``).
    """

    name: str
    table: str
    schema_version: int = 1
    fields: tuple[Field, ...] = ()
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[Index, ...] = ()
    commands: tuple[CommandDef, ...] = ()
    doc: str | None = None
    location: Location | None = field(default=None, compare=False)
    extra: Mapping[str, JsonValue] = field(default_factory=dict, hash=False)

    def get_field(self, name: str) -> Field:
        """Return the field called ``name`` (``KeyError`` when there is none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "table": self.table,
            "schema_version": self.schema_version,
            "fields": [f.to_json() for f in self.fields],
            "primary_key": list(self.primary_key),
            "unique": [list(u) for u in self.unique],
            "indexes": [i.to_json() for i in self.indexes],
            "commands": [c.to_json() for c in self.commands],
            "doc": self.doc,
            "location": _location_to_json(self.location),
            "extra": _to_json(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Entity:
        """Build an entity from its JSON form."""
        return cls(
            name=data["name"],
            table=data["table"],
            schema_version=data.get("schema_version", 1),
            fields=tuple(Field.from_json(f) for f in data.get("fields", ())),
            primary_key=tuple(data.get("primary_key", ())),
            unique=tuple(tuple(u) for u in data.get("unique", ())),
            indexes=tuple(Index.from_json(i) for i in data.get("indexes", ())),
            commands=tuple(CommandDef.from_json(c) for c in data.get("commands", ())),
            doc=data.get("doc"),
            location=_location_from_json(data.get("location")),
            extra=data.get("extra", {}),
        )

    def fingerprint(self) -> str:
        """Return the sha256 of the entity's canonical JSON, without locations and docs.

        Docs and source positions do not change what is stored, so editing a comment does
        not change the fingerprint.
        """
        return fingerprint(self)


@dataclass(frozen=True, slots=True)
class Schema:
    """Everything read from one set of sources: entities in source order."""

    entities: tuple[Entity, ...] = ()
    source: str = ""
    """The source path(s) as given, relative where possible (for headers and messages)."""

    def get_entity(self, name: str) -> Entity:
        """Return the entity called ``name`` (class name or table name)."""
        for e in self.entities:
            if e.name == name or e.table == name:
                return e
        raise KeyError(name)

    def to_json(self) -> dict[str, JsonValue]:
        """Return the JSON form."""
        return {"source": self.source, "entities": [e.to_json() for e in self.entities]}

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> Schema:
        """Build a schema from its JSON form."""
        return cls(
            entities=tuple(Entity.from_json(e) for e in data.get("entities", ())),
            source=data.get("source", ""),
        )


# --------------------------------------------------------------------------- JSON helpers


def canonical_json(value: JsonValue) -> str:
    """Serialise a JSON value canonically: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def fingerprint(entity: Entity) -> str:
    """Return the hex sha256 of the entity's canonical JSON, ignoring docs and locations.

    The text is ``canonical_json`` of ``entity.to_json()`` without the ``doc`` and
    ``location`` of the entity, its fields, its commands and their parameters. Values the
    sources give (``extra``, JSON sub-schemas, defaults, enum values) are kept whole, keys
    called ``doc`` or ``location`` included: a JSON sub-schema's ``location`` property is
    data, and its ``description`` keys are part of what a reader states.
    """
    data = {
        "name": entity.name,
        "table": entity.table,
        "schema_version": entity.schema_version,
        "fields": [_field_semantics(f) for f in entity.fields],
        "primary_key": entity.primary_key,
        "unique": entity.unique,
        "indexes": [i.to_json() for i in entity.indexes],
        "commands": [
            {
                "name": c.name,
                "params": [_field_semantics(p) for p in c.params],
                "payload_version": c.payload_version,
            }
            for c in entity.commands
        ],
        "extra": entity.extra,
    }
    # User values go to the encoder as they are (tuples are arrays to it; other mappings
    # and IR values come through ``default``), sparing a copy of every sub-schema.
    text = json.dumps(
        data,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=_fingerprint_default,
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _field_semantics(f: Field) -> dict[str, Any]:
    return {
        "name": f.name,
        "column": f.column,
        "type": f.type,
        "nullable": f.nullable,
        "default": f.default,
        "generated": f.generated,
        "immutable": f.immutable,
        "constraints": f.constraints,
        "renamed_from": f.renamed_from,
        "extra": f.extra,
    }


def _fingerprint_default(value: Any) -> Any:
    if isinstance(value, FieldType):
        out: dict[str, Any] = {"kind": value.kind}
        for name in _field_names(type(value)):
            out[name] = getattr(value, name)
        return out
    if isinstance(value, Constraints | Default):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    raise TypeError(f"not a JSON value: {value!r}")


def _to_json(value: Any) -> JsonValue:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, FieldType | Constraints | Default):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    raise TypeError(f"not a JSON value: {value!r}")


def _location_to_json(location: Location | None) -> JsonValue:
    if location is None:
        return None
    out: dict[str, JsonValue] = {
        "file": location.file,
        "line": location.line,
        "column": location.column,
    }
    if location.pointer is not None:
        out["pointer"] = location.pointer
    return out


def _location_from_json(data: Mapping[str, JsonValue] | None) -> Location | None:
    if data is None:
        return None
    return Location(data["file"], data.get("line", 0), data.get("column", 0), data.get("pointer"))


def map_fields(entity: Entity, fn: Callable[[Field], Field]) -> Entity:
    """Return ``entity`` with every field replaced by ``fn(field)``."""
    return dataclasses.replace(entity, fields=tuple(fn(f) for f in entity.fields))


# --------------------------------------------------------------------------- errors


class SourceError(Exception):
    """A user mistake in a source or option, reported as ``path:line:col: error: message``.

    Every stage raises this (never a bare exception) for input it cannot accept; the command
    line prints it with the hint and exits 2.
    """

    def __init__(self, location: Location | None, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.location = location
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[type[SourceError], tuple[Location | None, str, str | None]]:
        # Errors cross process boundaries when modules render in parallel.
        return (type(self), (self.location, self.message, self.hint))

    def render(self) -> str:
        """Return the error as the lines the command line prints."""
        where = str(self.location) if self.location is not None else "persist-tool"
        text = f"{where}: error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text
