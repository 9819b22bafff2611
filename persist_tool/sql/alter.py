"""ALTER TABLE building blocks: statements, and constraints compared as data.

Before and after each change, every primary key, unique constraint, CHECK and index is keyed
by what it covers (field names), so a change drops what disappears or changes, renames what
only changed name (derived names follow table and column renames) and adds what is new.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ErrorLevel

from persist_tool import ir
from persist_tool.diff import RenameEntity
from persist_tool.sql.ddl import create_indexes, table_checks, table_primary_key, table_uniques
from persist_tool.sql.dialects import check_dialect, derived_name, identifier, table
from persist_tool.sql.model import resolve_fields
from persist_tool.sql.types import plan_types

__all__ = [
    "ConstraintPlan",
    "alter_table",
    "constraint_plan",
    "drop_table",
    "keyed_constraints",
    "rename_table",
    "with_known_keys",
]


@dataclass(frozen=True, slots=True)
class _Named:
    """A constraint or index: its name, what it says (comparable text) and how to add it."""

    name: str
    body: str
    node: exp.Expr
    kind: str
    """``pk``, ``uq``, ``ck`` or ``ix``."""
    index: ir.Index | None = None


def _field_names_sql(node: exp.Expr, entity: ir.Entity, rename: Mapping[str, str]) -> str:
    """Render a condition with columns replaced by (renamed) field names, for comparison."""
    by_column = {f.column.casefold(): rename.get(f.name, f.name) for f in entity.fields}

    def swap(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column) and n.name.casefold() in by_column:
            return exp.column(exp.to_identifier(by_column[n.name.casefold()], quoted=True))
        return n

    return node.transform(swap).sql(dialect="postgres")


def with_known_keys(entity: ir.Entity) -> ir.Entity:
    """Return ``entity`` keeping only foreign keys whose fields it has (between changes)."""
    keys = entity.extra.get("foreign_keys")
    if not keys:
        return entity
    names = {f.name for f in entity.fields} | {f.column for f in entity.fields}
    kept = [k for k in keys if isinstance(k, Mapping) and set(k.get("columns") or ()) <= names]
    if len(kept) == len(keys):
        return entity
    return dataclasses.replace(entity, extra={**entity.extra, "foreign_keys": kept})


def keyed_constraints(
    entity: ir.Entity, dialect: str, rename: Mapping[str, str] | None = None
) -> dict[tuple[object, ...], _Named]:
    """Key every primary key, unique constraint, CHECK and index of ``entity``.

    Keys and bodies speak of field names (after ``rename``), so renaming a column or the
    table changes only the derived names, not what a constraint is.
    """
    rename = rename or {}
    entity = with_known_keys(entity)

    def names(fields: Iterable[str]) -> tuple[str, ...]:
        return tuple(rename.get(f, f) for f in fields)

    out: dict[tuple[object, ...], _Named] = {}
    types = plan_types(entity, dialect)
    for node in table_primary_key(entity, dialect):
        key_fields = names(f.name for f in resolve_fields(entity, entity.primary_key, "key"))
        name = node.name if isinstance(node, exp.Constraint) else "PRIMARY"
        out[("pk",)] = _Named(name, repr(key_fields), node, "pk")
    for group, node in zip(entity.unique, table_uniques(entity, dialect), strict=True):
        fields = names(f.name for f in resolve_fields(entity, group, "unique constraint"))
        out[("uq", fields)] = _Named(node.name, repr(fields), node, "uq")
    by_check_name = {derived_name("ck", entity.table, (f.column,)): f for f in entity.fields}
    for number, node in enumerate(table_checks(entity, dialect, types)):
        owner = by_check_name.get(node.name)
        key: tuple[object, ...] = (
            ("ck", names([owner.name])[0]) if owner is not None else ("ck#", number)
        )
        body = _field_names_sql(node.expressions[0], entity, rename)
        out[key] = _Named(node.name, body, node, "ck")
    for index in entity.indexes:
        fields = names(f.name for f in resolve_fields(entity, index.columns, "index"))
        name = index.name or derived_name(
            "ix", entity.table, tuple(f.column for f in resolve_fields(entity, index.columns, ""))
        )
        ikey: tuple[object, ...] = ("ix", fields, index.unique)
        out[ikey] = _Named(name, repr((fields, index.unique)), exp.Null(), "ix", index)
    return out


def alter_table(entity: ir.Entity, dialect: str, *actions: exp.Expr, quiet: bool = False) -> str:
    """Return ``ALTER TABLE <entity's table> <actions>``.

    ``quiet`` silences sqlglot's "unsupported" warning that ``SET NOT NULL`` wrongly raises
    (the statement it writes is the right one).
    """
    node = exp.Alter(this=table(entity.table, dialect), kind="TABLE", actions=list(actions))
    if quiet:
        return node.sql(dialect=dialect, unsupported_level=ErrorLevel.IGNORE)
    return node.sql(dialect=dialect)


def _drop_constraint(entity: ir.Entity, named: _Named, dialect: str) -> list[str]:
    if named.kind == "ix":
        return [_drop_index(entity, named.name, dialect)]
    if dialect == "mysql" and named.kind == "pk":
        return [alter_table(entity, dialect, exp.DropPrimaryKey())]
    kind = "INDEX" if dialect == "mysql" and named.kind == "uq" else "CONSTRAINT"
    drop = exp.Drop(tables=[table(named.name, dialect)], kind=kind)
    return [alter_table(entity, dialect, drop)]


def _drop_index(entity: ir.Entity, name: str, dialect: str) -> str:
    on = exp.OnProperty(this=table(entity.table, dialect)) if dialect == "mysql" else None
    return exp.Drop(tables=[table(name, dialect)], kind="INDEX", cluster=on).sql(dialect=dialect)


def _add_constraint(entity: ir.Entity, named: _Named, dialect: str) -> list[str]:
    if named.kind == "ix":
        assert named.index is not None
        return create_indexes(dataclasses.replace(entity, indexes=(named.index,)), dialect)
    return [alter_table(entity, dialect, exp.AddConstraint(expressions=[named.node.copy()]))]


def _rename_constraint(entity: ir.Entity, old: _Named, new: _Named, dialect: str) -> list[str]:
    if old.name == new.name:
        return []
    if new.kind == "ix" or (dialect == "mysql" and new.kind == "uq"):
        if dialect == "mysql":
            rename = exp.RenameIndex(
                this=identifier(old.name, dialect), to=identifier(new.name, dialect)
            )
            return [alter_table(entity, dialect, rename)]
        if dialect == "postgres":
            node = exp.Alter(
                this=table(old.name, dialect),
                kind="INDEX",
                actions=[exp.AlterRename(this=table(new.name, dialect))],
            )
            return [node.sql(dialect=dialect)]
        # SQLite cannot rename an index: recreate it under its new name.
        return [_drop_index(entity, old.name, dialect), *_add_constraint(entity, new, dialect)]
    if dialect == "postgres":
        # sqlglot has no node for RENAME CONSTRAINT; both names are sqlglot identifiers.
        head = alter_table(entity, dialect, exp.AlterRename(this=table("__x__", dialect)))
        head = head[: head.rindex(" RENAME ")]
        old_sql = identifier(old.name, dialect).sql(dialect=dialect)
        new_sql = identifier(new.name, dialect).sql(dialect=dialect)
        return [f"{head} RENAME CONSTRAINT {old_sql} TO {new_sql}"]
    if dialect == "mysql" and new.kind == "ck":
        return [*_drop_constraint(entity, old, dialect), *_add_constraint(entity, new, dialect)]
    return []  # SQLite keeps constraint names inside CREATE TABLE; MySQL's key is PRIMARY


@dataclass(frozen=True, slots=True)
class ConstraintPlan:
    """The constraint and index statements of one change, in the order they run around it."""

    drop: list[str]
    rename: list[str]
    add: list[str]


def constraint_plan(
    before: ir.Entity,
    after: ir.Entity,
    dialect: str,
    rename: Mapping[str, str],
    *,
    indexes_only: bool = False,
) -> ConstraintPlan:
    """Return what to drop, rename and add to take ``before``'s constraints to ``after``'s.

    ``rename`` maps old field names to new ones (a renamed column keeps its constraints);
    ``indexes_only`` compares indexes alone (SQLite keeps the rest inside CREATE TABLE).
    """
    old = keyed_constraints(before, dialect, rename)
    new = keyed_constraints(after, dialect)
    if indexes_only:
        old = {k: v for k, v in old.items() if v.kind == "ix"}
        new = {k: v for k, v in new.items() if v.kind == "ix"}
    plan = ConstraintPlan([], [], [])
    for key, named in old.items():
        if key not in new or new[key].body != named.body:
            plan.drop.extend(_drop_constraint(before, named, dialect))
    for key, named in new.items():
        if key not in old or old[key].body != named.body:
            plan.add.extend(_add_constraint(after, named, dialect))
        else:
            plan.rename.extend(_rename_constraint(after, old[key], named, dialect))
    return plan


def rename_table(
    change: RenameEntity, before: ir.Entity, after: ir.Entity, dialect: str
) -> list[str]:
    """Return ``ALTER TABLE .. RENAME TO`` for a renamed entity whose table name changed."""
    if change.old_table == change.new_table:
        return []
    return [alter_table(before, dialect, exp.AlterRename(this=table(change.new_table, dialect)))]


def drop_table(entity: ir.Entity, dialect: str) -> str:
    """Return ``DROP TABLE`` for ``entity``'s table."""
    dialect = check_dialect(dialect)
    return exp.Drop(tables=[table(entity.table, dialect)], kind="TABLE").sql(dialect=dialect)
