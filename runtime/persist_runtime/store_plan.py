"""Per-entity SQL and converters, computed once when the store first meets a spec.

A ``TablePlan`` holds every statement the store sends for one entity in one dialect
(insert, select by key, delete, the update for each set of changed fields, cached), the
value converters for draft, row and key, and the functions that turn a key into the text
the store's side tables use. Hot paths only index into it.

Bulk inserts convert their values column by column (``draft_params``): the drafts' values
go into one flat list, and each column that needs converting is rewritten through its slice
(``params[i::n]``), so the per-row loops run in C and Python runs only the converters. On
SQLite the rows then go in as multi-row ``INSERT ... VALUES (...), (...)`` statements, which
spare the driver a statement reset and a round of bindings per row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from operator import attrgetter
from typing import Any, Final

from .codecs import (
    JSON_DUMPERS,
    Convert,
    RowCodec,
    _utc_text,
    coerce_key_value,
    dumps,
    enum_types,
    json_default,
)
from .dialects import Dialect, quote_identifier
from .errors import Issue, ValidationError
from .spec import CommandSpec, EntitySpec, FieldSpec

__all__ = ["TablePlan", "build_plan", "canonical_json", "entity_key_json"]

_BULK_PARAMETERS: Final[Mapping[str, int]] = {"sqlite": 999}
"""Parameters one multi-row ``INSERT`` may bind, per dialect (999: SQLite's limit before
3.32). Dialects not listed send one row per statement through ``executemany``: psycopg
pipelines those and PyMySQL folds them into multi-row statements itself."""

_tzinfo = attrgetter("tzinfo")


def _naive_datetime_texts(values: list[Any]) -> list[Any] | None:
    """Return the ISO texts of ``values`` when all are naive ``datetime`` objects, else None.

    What ``_utc_text`` gives them one call at a time, computed in C for the whole column.
    """
    if set(map(type, values)) <= {datetime} and set(map(_tzinfo, values)) <= {None}:
        return list(map(datetime.isoformat, values))
    return None


_COLUMN_SHORTCUTS: Final[Mapping[Convert, Callable[[list[Any]], list[Any] | None]]] = {
    _utc_text: _naive_datetime_texts
}
"""Converters with a whole-column form for the common case (None: use the converter)."""


def _convert_column(fn: Convert, values: list[Any]) -> list[Any]:
    shortcut = _COLUMN_SHORTCUTS.get(fn)
    done = shortcut(values) if shortcut is not None else None
    return done if done is not None else list(map(fn, values))


def _json_form(field: FieldSpec, value: Any) -> Any:
    dumper = JSON_DUMPERS.get(field.kind)
    return dumper(value) if dumper is not None and value is not None else value


@dataclass(slots=True)
class TablePlan:
    """Statements and converters for one entity in one dialect."""

    spec: EntitySpec
    dialect: Dialect
    table: str
    """The quoted table name."""
    ph: str
    pk_index: tuple[int, ...]
    pk_fields: tuple[FieldSpec, ...]
    generated: tuple[FieldSpec, ...]
    encode_draft: RowCodec
    encode_row: RowCodec
    decode_row: RowCodec
    decode_generated: RowCodec
    field_encoders: tuple[Convert | None, ...]
    field_index: Mapping[str, int]
    enums: Mapping[str, Any]
    insert_sql: str
    insert_all_sql: str
    select_sql: str
    select_all_sql: str
    exists_sql: str
    delete_sql: str
    where_key: str
    command_types: Mapping[type, CommandSpec]
    rowid_bulk: bool
    """SQLite only: the one generated field is the rowid alias, so a bulk insert's keys are
    the consecutive rowids ending at ``last_insert_rowid()`` (the store holds the write lock)."""
    bulk_rows: int
    """Rows per ``INSERT`` statement of a bulk insert (1: one row per statement)."""
    _updates: dict[frozenset[str], tuple[str, tuple[int, ...]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ keys

    def key_values(self, key: object) -> tuple[Any, ...]:
        """Return the primary-key values of ``key`` (a scalar or 1-tuple, a tuple for composite
        keys).

        Values in JSON form (a UUID as a string...) are converted; anything else that does
        not fit raises ``ValidationError``.
        """
        n = len(self.pk_fields)
        if n == 1:
            parts: tuple[Any, ...] = key if isinstance(key, tuple) and len(key) == 1 else (key,)
        elif isinstance(key, (tuple, list)) and len(key) == n:
            parts = tuple(key)
        else:
            names = ", ".join(f.name for f in self.pk_fields)
            raise ValidationError(
                [
                    Issue(
                        "/id",
                        f"{self.spec.name} has a composite key ({names}): pass a tuple",
                    )
                ],
                entity=self.spec.name,
            )
        return tuple(
            coerce_key_value(f, v, self.enums.get(f.name))
            for f, v in zip(self.pk_fields, parts, strict=True)
        )

    def key_of(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """Return the key values of an entity given as ``to_values`` output."""
        return tuple(values[i] for i in self.pk_index)

    def key_json(self, key: Sequence[Any]) -> Any:
        """Return the JSON form of a key (a scalar, or a list for composite keys)."""
        forms = [_json_form(f, v) for f, v in zip(self.pk_fields, key, strict=True)]
        return forms[0] if len(forms) == 1 else forms

    def key_text(self, key: Sequence[Any]) -> str:
        """Return the key as the text stored in ``entity_id`` columns."""
        form = self.key_json(key)
        return form if isinstance(form, str) else dumps(form)

    def key_from_json(self, form: Any) -> tuple[Any, ...]:
        """Return key values from their JSON form (as written in snapshots and journals)."""
        return self.key_values(tuple(form) if isinstance(form, list) else form)

    def encode_key(self, key: Sequence[Any]) -> list[Any]:
        """Return key values converted for the driver."""
        out = []
        for i, v in zip(self.pk_index, key, strict=True):
            fn = self.field_encoders[i]
            out.append(fn(v) if fn is not None and v is not None else v)
        return out

    # ------------------------------------------------------------------ bulk inserts

    def draft_params(self, drafts: Sequence[Any]) -> list[Any]:
        """Return the encoded values of ``drafts`` as one flat list, row after row."""
        width = len(self.spec.draft_fields)
        params = list(chain.from_iterable(map(self.spec.draft_values, drafts)))
        if len(params) != width * len(drafts):
            raise ValueError(f"{self.spec.name}: draft_values must give {width} values per draft")
        for index, fn in self.encode_draft.converters:
            params[index::width] = _convert_column(fn, params[index::width])
        return params

    def bulk_insert_sql(self, rows: int) -> str:
        """Return the insert of ``rows`` drafts in one statement (``VALUES (...), (...)``)."""
        statement = self.insert_sql.split(" RETURNING ")[0]
        if rows == 1:
            return statement
        values = "(" + ", ".join(self.ph for _ in self.spec.draft_fields) + ")"
        return statement + f", {values}" * (rows - 1)

    # ------------------------------------------------------------------ statements

    def update(self, changed: frozenset[str]) -> tuple[str, tuple[int, ...]]:
        """Return the ``UPDATE`` of exactly ``changed`` and the field indexes it sets."""
        cached = self._updates.get(changed)
        if cached is not None:
            return cached
        indexes = tuple(sorted(self.field_index[name] for name in changed))
        assignments = ", ".join(
            f"{quote_identifier(self.dialect, self.spec.fields[i].column)} = {self.ph}"
            for i in indexes
        )
        sql = f"UPDATE {self.table} SET {assignments} WHERE {self.where_key}"
        self._updates[changed] = (sql, indexes)
        return sql, indexes

    def encode_field(self, index: int, value: Any) -> Any:
        """Return one field's value converted for the driver."""
        fn = self.field_encoders[index]
        return fn(value) if fn is not None and value is not None else value

    def column(self, name: str) -> tuple[int, str]:
        """Return the index and quoted column of field ``name`` (``ValidationError`` if none)."""
        index = self.field_index.get(name)
        if index is None:
            known = ", ".join(f.name for f in self.spec.fields)
            raise ValidationError(
                [
                    Issue(
                        f"/{name}",
                        f"{self.spec.name} has no field {name!r} (fields: {known})",
                    )
                ],
                entity=self.spec.name,
            )
        return index, quote_identifier(self.dialect, self.spec.fields[index].column)


def build_plan(spec: EntitySpec, dialect: Dialect) -> TablePlan:
    """Compute the statements and converters for ``spec`` in ``dialect``."""
    if not spec.primary_key:
        raise ValidationError(
            [Issue("", f"{spec.name} has no primary key; the store needs one")],
            entity=spec.name,
        )

    def q(name: str) -> str:
        return quote_identifier(dialect, name)

    ph = dialect.placeholder
    fields = spec.fields
    index = {f.name: i for i, f in enumerate(fields)}
    pk_index = tuple(index[name] for name in spec.primary_key)
    pk_fields = tuple(fields[i] for i in pk_index)
    generated = tuple(f for f in fields if f.generated)
    draft_fields = tuple(spec.field(name) for name in spec.draft_fields)
    enums = enum_types(spec)
    table = q(spec.table)
    columns = ", ".join(q(f.column) for f in fields)
    where_key = " AND ".join(f"{q(f.column)} = {ph}" for f in pk_fields)
    draft_columns = ", ".join(q(f.column) for f in draft_fields)
    draft_values = ", ".join(ph for _ in draft_fields)
    if draft_fields:
        insert_sql = f"INSERT INTO {table} ({draft_columns}) VALUES ({draft_values})"
    else:
        insert_sql = f"INSERT INTO {table} DEFAULT VALUES"
    if generated and dialect.insert_returning:
        insert_sql += " RETURNING " + ", ".join(q(f.column) for f in generated)
    insert_all_sql = (
        f"INSERT INTO {table} ({columns}){dialect.explicit_key_insert}"
        f" VALUES ({', '.join(ph for _ in fields)})"
    )
    aliased = ", ".join(f"e.{q(f.column)}" for f in fields)
    aliased_where = " AND ".join(f"e.{q(f.column)} = {ph}" for f in pk_fields)
    select_sql = (
        f"SELECT {aliased}, v.version FROM {table} e"
        f" LEFT JOIN __persist_versions v ON v.table_name = {ph} AND v.entity_id = {ph}"
        f" WHERE {aliased_where}"
    )
    encode_row = RowCodec.encoder(fields, dialect.name, enums)
    by_index: dict[int, Convert] = dict(encode_row.converters)
    rowid_bulk = (
        dialect.name == "sqlite"
        and len(generated) == 1
        and len(pk_fields) == 1
        and generated[0] is pk_fields[0]
        and generated[0].sql_types.get("sqlite", "").strip().upper().startswith("INTEGER")
    )
    parameters = _BULK_PARAMETERS.get(dialect.name, 0)
    bulk_rows = max(1, parameters // len(draft_fields)) if draft_fields else 1
    return TablePlan(
        spec=spec,
        dialect=dialect,
        table=table,
        ph=ph,
        pk_index=pk_index,
        pk_fields=pk_fields,
        generated=generated,
        encode_draft=RowCodec.encoder(draft_fields, dialect.name, enums),
        encode_row=encode_row,
        decode_row=RowCodec.decoder(fields, dialect.name, enums),
        decode_generated=RowCodec.decoder(generated, dialect.name, enums),
        field_encoders=tuple(by_index.get(i) for i in range(len(fields))),
        field_index=index,
        enums=enums,
        insert_sql=insert_sql,
        insert_all_sql=insert_all_sql,
        select_sql=select_sql,
        select_all_sql=f"SELECT {columns} FROM {table}",
        exists_sql=f"SELECT 1 FROM {table} WHERE {where_key}",
        delete_sql=f"DELETE FROM {table} WHERE {where_key}",
        where_key=where_key,
        command_types={c.type: c for c in spec.commands},
        rowid_bulk=rowid_bulk,
        bulk_rows=bulk_rows,
    )


def entity_key_json(spec: EntitySpec, entity: Any) -> Any:
    """Return ``entity``'s key in JSON form (a scalar, or a list for composite keys)."""
    values = spec.to_values(entity)
    by_name = {f.name: (f, values[i]) for i, f in enumerate(spec.fields)}
    forms = [_json_form(*by_name[name]) for name in spec.primary_key]
    return forms[0] if len(forms) == 1 else forms


def canonical_json(value: Any) -> str:
    """Return ``value`` as canonical JSON text (sorted keys), to compare payloads."""
    return json.dumps(
        value,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=json_default,
    )
