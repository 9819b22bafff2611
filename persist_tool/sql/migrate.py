"""Migration SQL: the statements that take one entity's table from one version to the next.

``step_statements(before, after, changes, dialect)`` turns the ordered diff changes of one
entity (``persist_tool.diff``) into statements for one dialect:

* **PostgreSQL, MySQL/MariaDB**: ``ALTER TABLE`` per change — ADD/DROP/RENAME COLUMN,
  column type changes (PostgreSQL ``USING`` a conversion, MySQL ``MODIFY COLUMN`` with the
  full definition), NOT NULL and DEFAULT changes, backfills (``UPDATE`` / a temporary
  ``DEFAULT``), and the constraints and indexes the change affects.
* **SQLite**: the same ``ALTER``s where SQLite has them (rename column or table, add a plain
  column, drop an unconstrained column, indexes); anything else rebuilds the table with
  SQLite's documented procedure: create the new table, ``INSERT .. SELECT`` the rows through
  the rename mapping, conversions and backfills, drop the old table, rename the new one and
  recreate the indexes (the runtime runs the step with foreign keys off and checks them
  before committing).

Constraints and indexes are compared as data: before and after each change, every primary
key, unique constraint, CHECK and index is keyed by what it covers (field names), so a
change drops what disappears or changes, renames what only changed name (derived names
follow table and column renames) and adds what is new. Every statement is a sqlglot
expression; the table definitions come from ``persist_tool.sql.ddl``.

This module holds the column statements and the per-step ordering; the rest lives next
to it: ``values`` (type conversions and backfills), ``alter`` (``ALTER TABLE`` statements
and the constraint comparison) and ``rebuild`` (SQLite's table rebuild).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from sqlglot import exp

from persist_tool import ir
from persist_tool.diff import (
    AddEntity,
    AddField,
    AlterConstraints,
    AlterDefault,
    AlterFieldType,
    AlterNullability,
    Change,
    DropEntity,
    DropField,
    RenameEntity,
    RenameField,
    added_value,
    table_steps,
)
from persist_tool.sql.alter import (
    alter_table,
    constraint_plan,
    drop_table,
    rename_table,
    with_known_keys,
)
from persist_tool.sql.constraints import default_expression
from persist_tool.sql.ddl import column_definition, ddl
from persist_tool.sql.dialects import check_dialect, derived_name, identifier, table
from persist_tool.sql.model import ForeignKey, foreign_keys, identity_field, resolve_fields
from persist_tool.sql.rebuild import REBUILD_PREFIX, needs_rebuild, rebuild_statements
from persist_tool.sql.types import ColumnType, plan_types
from persist_tool.sql.values import (
    backfill_expression,
    column_ref,
    conversion_expression,
    data_type,
)

__all__ = [
    "REBUILD_PREFIX",
    "backfill_expression",
    "conversion_expression",
    "drop_table",
    "needs_rebuild",
    "step_statements",
]


# --------------------------------------------------------------------------- columns


def _field(entity: ir.Entity, name: str) -> ir.Field:
    return entity.get_field(name)


def _own_default(entity: ir.Entity, field: ir.Field, dialect: str) -> str | None:
    types = plan_types(with_known_keys(entity), dialect)
    node = default_expression(field, entity, types[field.name], dialect)
    return None if node is None else node.sql(dialect=dialect)


def _add_field(change: AddField, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    field = _field(after, change.field_name)
    after = with_known_keys(after)
    types = plan_types(after, dialect)
    fill = added_value(change)
    definition = column_definition(after, field, dialect, types)
    if fill is None or fill == field.default:
        return [alter_table(after, dialect, definition)]
    value = backfill_expression(after, field, fill, types[field.name], dialect)
    temporary = column_definition(after, dataclasses.replace(field, default=None), dialect, types)
    temporary.append(
        "constraints", exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=value))
    )
    out = [alter_table(after, dialect, temporary)]
    out += _set_default(after, field, dialect, types)
    return out


def _set_default(
    entity: ir.Entity, field: ir.Field, dialect: str, types: dict[str, ColumnType]
) -> list[str]:
    """Return statements giving the column ``field``'s own default (or none)."""
    if dialect == "mysql":
        modify = exp.ModifyColumn(this=column_definition(entity, field, dialect, types))
        return [alter_table(entity, dialect, modify)]
    node = default_expression(field, entity, types[field.name], dialect)
    column = identifier(field.column, dialect)
    action = (
        exp.AlterColumn(this=column, drop=True)
        if node is None
        else exp.AlterColumn(this=column, default=node)
    )
    return [alter_table(entity, dialect, action)]


def _drop_field(change: DropField, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    column = exp.column(identifier(change.definition.column, dialect))
    return [alter_table(before, dialect, exp.Drop(tables=[column], kind="COLUMN"))]


def _rename_field(
    change: RenameField, before: ir.Entity, after: ir.Entity, dialect: str
) -> list[str]:
    if change.old_column == change.new_column:
        return []
    action = exp.RenameColumn(
        this=identifier(change.old_column, dialect), to=identifier(change.new_column, dialect)
    )
    return [alter_table(after, dialect, action)]


def _backfill_nulls(
    entity: ir.Entity, field: ir.Field, value: ir.Default, types: dict[str, ColumnType], d: str
) -> str:
    fill = backfill_expression(entity, field, value, types[field.name], d)
    column = column_ref(field, d)
    # Built from nodes, not with ``exp.update``: its SET mapping takes column names as
    # text, and the compiled sqlglot refuses the quoted identifier this needs.
    update = exp.Update(
        this=table(entity.table, d),
        expressions=[exp.EQ(this=column.this.copy(), expression=fill)],
        where=exp.Where(this=exp.Is(this=column, expression=exp.Null())),
    )
    return update.sql(dialect=d)


def _alter_field(change: Change, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    """Alter one column in place: type (with conversion), NOT NULL, DEFAULT."""
    name = change.field_name
    assert name is not None
    old, new = _field(before, name), _field(after, name)
    before, after = with_known_keys(before), with_known_keys(after)
    old_types, new_types = plan_types(before, dialect), plan_types(after, dialect)
    out: list[str] = []
    backfill = change.backfill if isinstance(change, AlterNullability) else None
    if backfill is not None and old.nullable and not new.nullable:
        out.append(_backfill_nulls(after, new, backfill, new_types, dialect))
    type_changed = old_types[name].text != new_types[name].text
    null_changed = old.nullable != new.nullable
    identity_changed = (identity_field(before) is old) != (identity_field(after) is new)
    default_changed = _own_default(before, old, dialect) != _own_default(after, new, dialect)
    if dialect == "mysql":
        if type_changed or null_changed or default_changed or identity_changed:
            modify = exp.ModifyColumn(this=column_definition(after, new, dialect, new_types))
            out.append(alter_table(after, dialect, modify))
        return out
    column = identifier(new.column, dialect)
    if type_changed:
        using = conversion_expression(
            column_ref(old, dialect),
            old_types[name],
            new_types[name],
            (old.type.kind, new.type.kind),
            dialect,
        )
        action = exp.AlterColumn(this=column, dtype=data_type(new_types[name].text), using=using)
        out.append(alter_table(after, dialect, action))
    if null_changed:
        if new.nullable:
            nullable = exp.AlterColumn(this=column.copy(), drop=True, allow_null=True)
        else:
            nullable = exp.AlterColumn(this=column.copy(), allow_null=False)
        out.append(alter_table(after, dialect, nullable, quiet=True))
    if identity_changed:
        ident = (
            "ADD GENERATED BY DEFAULT AS IDENTITY"
            if identity_field(after) is new
            else "DROP IDENTITY"
        )
        head = alter_table(after, dialect, exp.AlterColumn(this=column.copy(), drop=True))
        out.append(head[: head.rindex(" DROP DEFAULT")] + " " + ident)
    elif default_changed:
        out += _set_default(after, new, dialect, new_types)
    return out


def _no_columns(change: Change, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    return []


_ColumnOp = Callable[[Change, ir.Entity, ir.Entity, str], list[str]]

_COLUMN_OPS: dict[type[Change], _ColumnOp] = {
    AddField: _add_field,  # type: ignore[dict-item]
    DropField: _drop_field,  # type: ignore[dict-item]
    RenameField: _rename_field,  # type: ignore[dict-item]
    RenameEntity: rename_table,  # type: ignore[dict-item]
    AlterFieldType: _alter_field,
    AlterNullability: _alter_field,
    AlterDefault: _alter_field,
    AlterConstraints: _alter_field,
}
"""Change type -> the column statements it needs (keys and indexes are compared apart)."""


def _renames(change: Change) -> dict[str, str]:
    return {change.old_name: change.new_name} if isinstance(change, RenameField) else {}


def _change_statements(
    change: Change, before: ir.Entity, after: ir.Entity, dialect: str
) -> list[str]:
    constraints = constraint_plan(before, after, dialect, _renames(change))
    columns = _COLUMN_OPS.get(type(change), _no_columns)(change, before, after, dialect)
    return [*constraints.drop, *columns, *constraints.rename, *constraints.add]


# --------------------------------------------------------------------------- foreign keys


def _foreign_key_name(entity: ir.Entity, fk: ForeignKey) -> str:
    """Return the name the table's DDL gives ``fk`` (the source's, else the derived one)."""
    fields = resolve_fields(entity, fk.columns, "foreign key")
    return fk.name or derived_name("fk", entity.table, tuple(f.column for f in fields))


def _drop_foreign_key(entity: ir.Entity, fk: ForeignKey, dialect: str) -> str:
    name = table(_foreign_key_name(entity, fk), dialect)
    return alter_table(entity, dialect, exp.Drop(tables=[name], kind="FOREIGN KEY"))


_FOREIGN_KEYS_FIRST = frozenset({"mysql"})
"""Dialects that refuse to drop a column, or the index, a foreign key still uses.

PostgreSQL drops the foreign keys of a dropped column with it, and SQLite rebuilds the
table; MySQL/MariaDB fail (``Cannot drop index ...: needed in a foreign key constraint``),
so the keys go first, before any index or column of the step."""


def _dropped_foreign_keys(before: ir.Entity, changes: Sequence[Change], dialect: str) -> list[str]:
    """Return ``DROP FOREIGN KEY`` for every key of ``before`` over a column the step drops."""
    if dialect not in _FOREIGN_KEYS_FIRST:
        return []
    dropped = {c.field_name for c in changes if isinstance(c, DropField)}
    return [
        _drop_foreign_key(before, fk, dialect)
        for fk in foreign_keys(before)
        if dropped.intersection(fk.columns)
    ]


# --------------------------------------------------------------------------- steps

_SQLITE_COLUMN_OPS = (AddField, DropField, RenameField, RenameEntity)


def step_statements(
    before: ir.Entity | None,
    after: ir.Entity | None,
    changes: Sequence[Change],
    dialect: str,
) -> list[str]:
    """Return the statements that migrate one entity's table in ``dialect``.

    ``before`` and ``after`` are the entity's two versions (``None`` for an entity that is
    added or dropped); ``changes`` are its changes in diff order, backfills attached.
    Command changes need no SQL and are skipped. On MySQL/MariaDB the foreign keys over
    a dropped column are dropped first (by the name the table's DDL gave them).
    """
    dialect = check_dialect(dialect)
    if before is None:
        if after is None:
            return []
        return list(ddl(after, dialect))
    if after is None or any(isinstance(c, DropEntity) for c in changes):
        return [drop_table(before, dialect)]
    if any(isinstance(c, AddEntity) for c in changes):
        return list(ddl(after, dialect))
    if dialect == "sqlite" and needs_rebuild(before, changes):
        return rebuild_statements(before, after, changes)
    out: list[str] = _dropped_foreign_keys(before, changes, dialect)
    for change, prev, cur in table_steps(before, changes):
        if dialect == "sqlite":
            plan = constraint_plan(prev, cur, dialect, _renames(change), indexes_only=True)
            op = _COLUMN_OPS.get(type(change)) if isinstance(change, _SQLITE_COLUMN_OPS) else None
            columns = op(change, prev, cur, dialect) if op is not None else []
            out += [*plan.drop, *columns, *plan.rename, *plan.add]
        else:
            out += _change_statements(change, prev, cur, dialect)
    return out
