"""SQLite's table rebuild: when a migration step needs one, and its statements.

SQLite's ``ALTER TABLE`` renames a column or the table, adds a plain column and drops an
unconstrained one; anything else rebuilds the table with SQLite's documented procedure:
create the new table, ``INSERT .. SELECT`` the rows through the rename mapping, conversions
and backfills, drop the old table, rename the new one and recreate the indexes (the runtime
runs the step with foreign keys off and checks them before committing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlglot import exp

from persist_tool import ir
from persist_tool.diff import (
    AddField,
    AddIndex,
    AlterFieldType,
    AlterNullability,
    Change,
    DropField,
    DropIndex,
    RenameEntity,
    RenameField,
    added_value,
    table_steps,
)
from persist_tool.sql.alter import (
    alter_table,
    drop_table,
    keyed_constraints,
    rename_table,
    with_known_keys,
)
from persist_tool.sql.ddl import create_indexes, create_table
from persist_tool.sql.dialects import identifier, table
from persist_tool.sql.model import foreign_keys, identity_field
from persist_tool.sql.types import plan_types
from persist_tool.sql.values import (
    backfill_expression,
    column_ref,
    conversion_expression,
)

__all__ = ["REBUILD_PREFIX", "needs_rebuild", "rebuild_statements"]

REBUILD_PREFIX = "__persist_new_"
"""Name prefix of the table SQLite's rebuild procedure fills before renaming it."""


_SQLITE_ALTERS: tuple[type[Change], ...] = (RenameField, RenameEntity, AddIndex, DropIndex)
"""Changes SQLite's ALTER TABLE / CREATE INDEX always make in place."""


def _table_constraints(
    entity: ir.Entity, rename: Mapping[str, str] | None = None
) -> dict[tuple[object, ...], str]:
    items = keyed_constraints(entity, "sqlite", rename).items()
    return {k: v.body for k, v in items if v.kind != "ix"}


def _sqlite_add_in_place(change: AddField, before: ir.Entity, after: ir.Entity) -> bool:
    """SQLite adds a column in place only without keys, checks, or a non-constant default."""
    field = after.get_field(change.field_name)
    own = field.default
    return (
        _table_constraints(before) == _table_constraints(after)
        and identity_field(with_known_keys(after)) is not field
        and added_value(change) == own
        and (own is None or own.kind == ir.Default.LITERAL)
        and (field.nullable or own is not None)
        and not any(field.name in fk.columns for fk in foreign_keys(with_known_keys(after)))
    )


def _sqlite_drop_in_place(change: DropField, before: ir.Entity, after: ir.Entity) -> bool:
    """SQLite drops a column in place only when no key, index or check uses it."""
    used = {*before.primary_key, *(c for u in before.unique for c in u)}
    used |= {c for i in before.indexes for c in i.columns}
    used |= {c for fk in foreign_keys(with_known_keys(before)) for c in fk.columns}
    field = change.definition
    return (
        field.name not in used
        and field.column not in used
        and _table_constraints(before) == _table_constraints(after)
    )


def _sqlite_unchanged(change: Change, before: ir.Entity, after: ir.Entity) -> bool:
    """Tell whether SQLite's table definition is the same after ``change`` (nothing to do)."""
    return create_table(with_known_keys(before), "sqlite") == create_table(
        with_known_keys(after), "sqlite"
    )


_SQLITE_IN_PLACE: dict[type[Change], Callable[[Any, ir.Entity, ir.Entity], bool]] = {
    AddField: _sqlite_add_in_place,
    DropField: _sqlite_drop_in_place,
}


def _sqlite_native(change: Change, before: ir.Entity, after: ir.Entity) -> bool:
    """Tell whether SQLite can make ``change`` without rebuilding the table."""
    if not change.touches_table or isinstance(change, _SQLITE_ALTERS):
        return True
    check = _SQLITE_IN_PLACE.get(type(change), _sqlite_unchanged)
    return check(change, before, after)


def needs_rebuild(before: ir.Entity, changes: Sequence[Change]) -> bool:
    """Tell whether SQLite must rebuild ``before``'s table to make ``changes``."""
    return any(not _sqlite_native(c, prev, cur) for c, prev, cur in table_steps(before, changes))


def _sources(before: ir.Entity, changes: Sequence[Change]) -> dict[str, exp.Expr]:
    """Return, per field of the new table, the SQL value read from the old table's row."""
    d = "sqlite"
    values: dict[str, exp.Expr] = {f.name: column_ref(f, d) for f in before.fields}
    for change, prev, cur in table_steps(before, changes):
        if isinstance(change, RenameField):
            values[change.new_name] = values.pop(change.old_name)
        elif isinstance(change, DropField):
            del values[change.field_name]
        elif isinstance(change, AddField):
            field = cur.get_field(change.field_name)
            fill = added_value(change)
            types = plan_types(with_known_keys(cur), d)
            values[field.name] = (
                exp.Null()
                if fill is None
                else backfill_expression(cur, field, fill, types[field.name], d)
            )
        elif isinstance(change, AlterFieldType):
            old_t = plan_types(with_known_keys(prev), d)[change.field]
            new_t = plan_types(with_known_keys(cur), d)[change.field]
            kinds = (change.before.kind, change.after.kind)
            values[change.field] = conversion_expression(
                values[change.field], old_t, new_t, kinds, d
            )
        elif isinstance(change, AlterNullability) and change.backfill is not None:
            field = cur.get_field(change.field)
            types = plan_types(with_known_keys(cur), d)
            value = backfill_expression(cur, field, change.backfill, types[field.name], d)
            values[change.field] = exp.Coalesce(this=values[change.field], expressions=[value])
    return values


def rebuild_statements(before: ir.Entity, after: ir.Entity, changes: Sequence[Change]) -> list[str]:
    """Return SQLite's table-rebuild procedure taking ``before``'s table to ``after``."""
    d = "sqlite"
    out: list[str] = []
    current = before
    for change in changes:
        if isinstance(change, RenameEntity):
            out += rename_table(change, current, after, d)
            current = dataclasses.replace(current, name=change.new_name, table=change.new_table)
    values = _sources(before, changes)
    temp = REBUILD_PREFIX + after.table
    # The new table is created under a temporary name, with the final table's definition
    # (constraint names included, so later migrations find them by their usual names).
    head = "CREATE TABLE " + table(after.table, d).sql(dialect=d)
    created = create_table(after, d)
    assert created.startswith(head)
    out.append("CREATE TABLE " + table(temp, d).sql(dialect=d) + created[len(head) :])
    select = exp.select(*[values[f.name] for f in after.fields]).from_(table(current.table, d))
    insert = exp.Insert(
        expression=select,
        this=exp.Schema(
            this=table(temp, d), expressions=[identifier(f.column, d) for f in after.fields]
        ),
    )
    out.append(insert.sql(dialect=d))
    out.append(drop_table(current, d))
    out.append(
        alter_table(
            dataclasses.replace(after, table=temp), d, exp.AlterRename(this=table(after.table, d))
        )
    )
    out += create_indexes(after, d)
    return out
