"""What the SQL builders need to know about an entity beyond its fields.

Resolves the names that keys, indexes and foreign keys use, reads foreign keys out of
``Entity.extra`` and finds the identity (database-generated integer key) field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from persist_tool import ir

__all__ = [
    "REFERENTIAL_ACTIONS",
    "ForeignKey",
    "find_entity",
    "foreign_keys",
    "identity_field",
    "keyed_fields",
    "resolve_fields",
]

REFERENTIAL_ACTIONS: frozenset[str] = frozenset(
    {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"}
)
"""The ``ON DELETE`` / ``ON UPDATE`` actions a foreign key may name."""


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key of an entity: local fields referencing another table's columns.

    ``ref_columns`` is empty when the source referenced the other table's primary key
    without naming it (``REFERENCES customers``).
    """

    columns: tuple[str, ...]
    """Local field names."""
    ref_table: str
    ref_columns: tuple[str, ...] = ()
    """Column names in the referenced table."""
    on_delete: str | None = None
    on_update: str | None = None
    name: str | None = None


def resolve_fields(entity: ir.Entity, names: Iterable[str], what: str) -> tuple[ir.Field, ...]:
    """Return the fields ``names`` designate, by field name first, then by column name.

    Raise ``SourceError`` naming ``what`` (``"primary key"``, ``"index ix_a"``) for a name
    that matches no field.
    """
    by_name = {f.name: f for f in entity.fields}
    by_column = {f.column: f for f in entity.fields}
    found: list[ir.Field] = []
    for name in names:
        field = by_name.get(name) or by_column.get(name)
        if field is None:
            raise ir.SourceError(
                entity.location,
                f"{what} of entity {entity.name} names {name!r}, which is not one of its fields",
                hint="known fields: " + ", ".join(by_name),
            )
        found.append(field)
    return tuple(found)


def _action(entity: ir.Entity, value: object, key: str) -> str | None:
    if value is None:
        return None
    action = " ".join(str(value).upper().split())
    if action not in REFERENTIAL_ACTIONS:
        raise ir.SourceError(
            entity.location,
            f"foreign key of entity {entity.name} has unknown {key} action {value!r}",
            hint="use one of: " + ", ".join(sorted(REFERENTIAL_ACTIONS)),
        )
    return action


def foreign_keys(entity: ir.Entity) -> tuple[ForeignKey, ...]:
    """Return the foreign keys stored in ``entity.extra["foreign_keys"]``, validated."""
    raw = entity.extra.get("foreign_keys") or ()
    result: list[ForeignKey] = []
    for item in raw:
        if not isinstance(item, Mapping) or not item.get("columns") or not item.get("ref_table"):
            raise ir.SourceError(
                entity.location,
                f"foreign key of entity {entity.name} needs 'columns' and 'ref_table': {item!r}",
            )
        columns = tuple(f.name for f in resolve_fields(entity, item["columns"], "foreign key"))
        ref_columns = tuple(item.get("ref_columns") or ())
        if ref_columns and len(ref_columns) != len(columns):
            raise ir.SourceError(
                entity.location,
                f"foreign key of entity {entity.name} pairs {len(columns)} column(s) with "
                f"{len(ref_columns)} referenced column(s)",
            )
        result.append(
            ForeignKey(
                columns=columns,
                ref_table=str(item["ref_table"]),
                ref_columns=ref_columns,
                on_delete=_action(entity, item.get("on_delete"), "ON DELETE"),
                on_update=_action(entity, item.get("on_update"), "ON UPDATE"),
                name=item.get("name") or None,
            )
        )
    return tuple(result)


def keyed_fields(entity: ir.Entity) -> frozenset[str]:
    """Return the names of fields that take part in a key, unique set, index or foreign key.

    MySQL cannot index unbounded text or JSON, so these fields get bounded types there.
    """
    groups: list[Iterable[str]] = [entity.primary_key, *entity.unique]
    groups.extend(index.columns for index in entity.indexes)
    groups.extend(fk.columns for fk in foreign_keys(entity))
    names: set[str] = set()
    for group in groups:
        names.update(f.name for f in resolve_fields(entity, group, "key"))
    return frozenset(names)


def identity_field(entity: ir.Entity) -> ir.Field | None:
    """Return the field whose integer values the database generates, if there is one.

    That is a ``generated`` integer field with no default of its own (a source's
    ``nextval(...)`` counts as none: it is how PostgreSQL spells an identity). More than one
    is an error: no dialect but PostgreSQL can have two.
    """
    found = [f for f in entity.fields if _is_identity(f)]
    if len(found) > 1:
        raise ir.SourceError(
            found[1].location or entity.location,
            f"entity {entity.name} has more than one database-generated integer field: "
            + ", ".join(f.name for f in found),
            hint="SQLite and MySQL generate values for one key column per table only",
        )
    return found[0] if found else None


def _is_identity(field: ir.Field) -> bool:
    if not field.generated or not isinstance(field.type, ir.IntegerType):
        return False
    default = field.default
    if default is None:
        return True
    if default.kind != ir.Default.SQL:
        return False
    text = default.value.get("sql", "") if isinstance(default.value, Mapping) else default.value
    return str(text).strip().lower().startswith("nextval(")


def find_entity(schema: ir.Schema | None, table_name: str) -> ir.Entity | None:
    """Return the entity stored in ``table_name``: exact spelling first, then any case."""
    if schema is None:
        return None
    exact, folded = _tables_of(schema)
    found = exact.get(table_name)
    if found is not None:
        return found
    same = folded.get(table_name.casefold(), ())
    return same[0] if len(same) == 1 else None


_Tables = tuple[dict[str, ir.Entity], dict[str, list[ir.Entity]]]
_last_tables: list[tuple[ir.Schema, _Tables]] = []  # the last schema's, made once for all


def _tables_of(schema: ir.Schema) -> _Tables:
    """Return the schema's entities by table name, exact (the first) and case-folded (all).

    Every foreign key of every table is looked up here: an index instead of a scan keeps a
    schema's DDL linear in its size.
    """
    if _last_tables and _last_tables[0][0] is schema:
        return _last_tables[0][1]
    exact: dict[str, ir.Entity] = {}
    folded: dict[str, list[ir.Entity]] = {}
    for entity in schema.entities:
        exact.setdefault(entity.table, entity)
        folded.setdefault(entity.table.casefold(), []).append(entity)
    _last_tables[:] = [(schema, (exact, folded))]
    return exact, folded
