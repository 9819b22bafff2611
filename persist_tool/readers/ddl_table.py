"""Collect what the statements of a DDL file say about each table, then build IR entities.

``TableDraft``/``ColumnDraft`` are mutable collectors: ``CREATE TABLE`` fills them, later
statements (``ALTER TABLE``, ``CREATE INDEX``, ``COMMENT ON``) add to them, and
``TableDraft.build`` turns the result into an ``ir.Entity`` once names are settled. Problems
are raised as ``DdlProblem(offset, message, hint)``; the reader turns offsets into lines and
columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from persist_tool import ir, naming
from persist_tool.readers.ddl_checks import tighten
from persist_tool.readers.ddl_types import TypeSpec

__all__ = ["ColumnDraft", "DdlProblem", "IndexDraft", "TableDraft", "convert_literal"]


class DdlProblem(Exception):
    """A user mistake found at ``offset`` in the source text."""

    def __init__(self, offset: int, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.hint = hint


# --------------------------------------------------------------------------- columns


@dataclass(slots=True)
class ColumnDraft:
    """One column as the statements describe it."""

    column: str
    quoted: bool
    offset: int
    spec: TypeSpec
    sql_type: str
    nullable: bool = True
    default: tuple[str, Any] | None = None
    """``("literal", value)`` (value not yet converted to the field type) or ``("sql", text)``."""
    default_offset: int = 0
    generated: bool = False
    auto_increment: str | None = None
    doc: str | None = None
    bounds: dict[str, Any] = field(default_factory=dict)
    enum_values: tuple[str | int, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    location: ir.Location | None = None

    def field_type(self, enum_name: str) -> ir.FieldType:
        """Return the IR type, naming inline enumerations ``enum_name``."""
        if self.enum_values is not None:
            return ir.EnumType(enum_name, self.enum_values)
        return _name_enum(self.spec.type, enum_name)


def _name_enum(field_type: ir.FieldType, name: str) -> ir.FieldType:
    if isinstance(field_type, ir.EnumType) and not field_type.name:
        return replace(field_type, name=name)
    if isinstance(field_type, ir.ArrayType):
        return replace(field_type, item=_name_enum(field_type.item, name))
    return field_type


# --------------------------------------------------------------------------- literal defaults

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"{value!r} is not an integer")
    return int(text)


def _to_decimal_text(value: Any) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise ValueError(f"{value!r} is not a number")
    return text


def _to_json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_LITERAL_CONVERTERS: dict[type[ir.FieldType], Callable[[Any], Any]] = {
    ir.IntegerType: _to_int,
    ir.FloatType: lambda v: float(_to_decimal_text(v)),
    ir.DecimalType: _to_decimal_text,
    ir.BooleanType: _to_bool,
    ir.StringType: _to_text,
    ir.DateType: _to_text,
    ir.DateTimeType: _to_text,
    ir.TimeType: _to_text,
    ir.UuidType: _to_text,
    ir.JsonType: _to_json,
}
"""Field type -> conversion of a literal default into its JSON value."""


def convert_literal(value: Any, field_type: ir.FieldType) -> Any:
    """Return a literal default as the JSON value the field type stores (``ValueError``)."""
    if value is None:
        return None
    if isinstance(field_type, ir.EnumType):
        for option in field_type.values:
            if str(option) == _to_text(value):
                return option
        raise ValueError(f"{value!r} is not one of {list(field_type.values)}")
    if isinstance(field_type, ir.ArrayType):
        if isinstance(value, str) and value.strip() in ("{}", "[]"):
            return []
        raise ValueError(f"{value!r} is not an array literal persist-tool understands")
    converter = _LITERAL_CONVERTERS.get(type(field_type))
    if converter is None:
        raise ValueError(f"a literal default is not meaningful for a {field_type.kind} field")
    return converter(value)


# --------------------------------------------------------------------------- tables


@dataclass(slots=True)
class IndexDraft:
    """A secondary index by column names."""

    name: str
    columns: list[str]
    unique: bool
    offset: int
    options: dict[str, Any] = field(default_factory=dict)
    column_offsets: list[int] = field(default_factory=list)
    """Where each column is named (for messages); ``offset`` when empty."""


@dataclass(slots=True)
class TableDraft:
    """One table as the statements describe it."""

    table: str
    offset: int
    location: ir.Location
    sql_schema: str | None = None
    columns: list[ColumnDraft] = field(default_factory=list)
    primary_key: list[str] | None = None
    primary_key_name: str | None = None
    unique: list[tuple[list[str], str | None]] = field(default_factory=list)
    indexes: list[IndexDraft] = field(default_factory=list)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    doc: str | None = None
    persist_name: str | None = None
    persist_version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def find(self, name: str) -> ColumnDraft | None:
        """Return the column called ``name`` (exact spelling first, then ignoring case)."""
        for column in self.columns:
            if column.column == name:
                return column
        folded = [c for c in self.columns if c.column.casefold() == name.casefold()]
        return folded[0] if len(folded) == 1 else None

    def require(self, name: str, offset: int, what: str) -> ColumnDraft:
        """Return the column called ``name`` or raise a problem naming ``what`` uses it."""
        column = self.find(name)
        if column is None:
            known = ", ".join(c.column for c in self.columns) or "none"
            raise DdlProblem(
                offset,
                f"{what} names unknown column {name!r} of table {self.table!r}",
                f"the table's columns are: {known}",
            )
        return column

    def add_column(self, column: ColumnDraft) -> None:
        """Add a column; two columns with the same name are an error."""
        for other in self.columns:
            same = other.column == column.column or (
                other.column.casefold() == column.column.casefold()
                and not (other.quoted and column.quoted)
            )
            if same:
                raise DdlProblem(
                    column.offset,
                    f"duplicate column {column.column!r} in table {self.table!r}",
                    f"it is already defined at {other.location}",
                )
        self.columns.append(column)

    def set_primary_key(self, names: list[str], offset: int, name: str | None) -> None:
        """Record the primary key (by column names); a second one is an error."""
        if self.primary_key is not None:
            raise DdlProblem(
                offset,
                f"table {self.table!r} declares a second primary key",
                f"it already has PRIMARY KEY ({', '.join(self.primary_key)})",
            )
        columns = [self.require(n, offset, "PRIMARY KEY").column for n in names]
        if len(set(columns)) != len(columns):
            raise DdlProblem(offset, "PRIMARY KEY lists a column twice")
        self.primary_key = columns
        self.primary_key_name = name
        for column in columns:
            draft = self.find(column)
            assert draft is not None
            draft.nullable = False

    def add_unique(self, names: list[str], offset: int, name: str | None) -> None:
        """Record a unique constraint over columns."""
        columns = [self.require(n, offset, "UNIQUE").column for n in names]
        if len(set(columns)) != len(columns):
            raise DdlProblem(offset, "UNIQUE lists a column twice")
        if all(existing != columns for existing, _ in self.unique):
            self.unique.append((columns, name))

    def add_index(self, index: IndexDraft) -> None:
        """Record a secondary index; a second index with the same name is an error."""
        offsets = index.column_offsets or [index.offset] * len(index.columns)
        index.columns = [
            self.require(n, o, "INDEX").column for n, o in zip(index.columns, offsets, strict=True)
        ]
        for other in self.indexes:
            if other.name.casefold() == index.name.casefold():
                raise DdlProblem(
                    index.offset,
                    f"duplicate index {index.name!r} on table {self.table!r}",
                )
        self.indexes.append(index)

    def build(self, name: str, schema_version: int, dialect: str, display: str) -> ir.Entity:
        """Return the finished entity called ``name``."""
        names = naming.assign_unique([c.column for c in self.columns])
        pk = set(self.primary_key or ())
        fields = tuple(
            self._build_field(c, names[c.column], name, c.column in pk, dialect, display)
            for c in self.columns
        )
        extra: dict[str, Any] = {"dialect": dialect}
        if self.sql_schema:
            extra["sql_schema"] = self.sql_schema
        if self.primary_key_name:
            extra["primary_key_name"] = self.primary_key_name
        unique_names = {
            ",".join(names[c] for c in cols): uname for cols, uname in self.unique if uname
        }
        if unique_names:
            extra["unique_names"] = unique_names
        index_options = {i.name: i.options for i in self.indexes if i.options}
        if index_options:
            extra["index_options"] = index_options
        if self.foreign_keys:
            extra["foreign_keys"] = [
                {**fk, "columns": [names[c] for c in fk["columns"]]} for fk in self.foreign_keys
            ]
        if self.checks:
            extra["checks"] = list(self.checks)
        extra.update(self.extra)
        return ir.Entity(
            name=name,
            table=self.table,
            schema_version=schema_version,
            fields=fields,
            primary_key=tuple(names[c] for c in self.primary_key or ()),
            unique=tuple(tuple(names[c] for c in cols) for cols, _ in self.unique),
            indexes=tuple(
                ir.Index(i.name, tuple(names[c] for c in i.columns), i.unique) for i in self.indexes
            ),
            doc=self.doc,
            location=self.location,
            extra=extra,
        )

    def _build_field(
        self,
        column: ColumnDraft,
        field_name: str,
        entity_name: str,
        in_primary_key: bool,
        dialect: str,
        display: str,
    ) -> ir.Field:
        field_type = column.field_type(entity_name + naming.pascal_case(field_name))
        default: ir.Default | None = None
        if column.default is not None:
            kind, value = column.default
            if kind == ir.Default.LITERAL:
                if value is None and not column.nullable:
                    raise DdlProblem(
                        column.default_offset,
                        f"column {column.column!r} is NOT NULL but its default is NULL",
                        "drop DEFAULT NULL or make the column nullable",
                    )
                try:
                    value = convert_literal(value, field_type)
                except (ValueError, TypeError) as error:
                    raise DdlProblem(
                        column.default_offset,
                        f"default of column {column.column!r} does not fit its type: {error}",
                    ) from None
            default = ir.Default(kind, value)
        bounds = dict(column.spec.constraints)
        for kind, value in column.bounds.items():
            tighten(bounds, kind, value)
        if isinstance(field_type, ir.EnumType):
            for kind in ("min_length", "max_length"):
                bounds.pop(kind, None)
        extra: dict[str, Any] = {"sql_type": column.sql_type, "dialect": dialect}
        extra.update(column.spec.extra)
        extra.update(column.extra)
        if column.auto_increment:
            extra["auto_increment"] = column.auto_increment
        return ir.Field(
            name=field_name,
            column=column.column,
            type=field_type,
            nullable=column.nullable,
            default=default,
            generated=column.generated,
            immutable=in_primary_key,
            doc=column.doc,
            constraints=ir.Constraints(**bounds),
            location=column.location,
            extra=extra,
        )
