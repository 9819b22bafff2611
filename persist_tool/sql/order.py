"""Whole-schema DDL: table order that satisfies foreign keys, and the statements in it.

Referenced tables come before the tables that reference them; when only cycles remain, the
keys that close them are added after every table exists (``ALTER TABLE ... ADD``).
"""

from __future__ import annotations

from dataclasses import dataclass

from persist_tool import ir
from persist_tool.sql.ddl import (
    add_foreign_key,
    comment_statements,
    create_indexes,
    create_table,
)
from persist_tool.sql.dialects import check_dialect
from persist_tool.sql.model import ForeignKey, find_entity, foreign_keys

__all__ = ["ddl_order", "deferred_foreign_keys", "schema_ddl"]


@dataclass(frozen=True, slots=True)
class _Plan:
    order: tuple[ir.Entity, ...]
    deferred: dict[str, tuple[ForeignKey, ...]]


def _plan(schema: ir.Schema) -> _Plan:
    """Order entities so referenced tables come first; defer the keys that close a cycle.

    Ties keep source order. When only cycles remain, the first remaining entity in source
    order is created next and its keys to tables not yet created are deferred.
    """
    remaining = list(schema.entities)
    placed: set[str] = set()
    order: list[ir.Entity] = []
    deferred: dict[str, tuple[ForeignKey, ...]] = {}

    def pending(entity: ir.Entity) -> list[ForeignKey]:
        out = []
        for fk in foreign_keys(entity):
            target = find_entity(schema, fk.ref_table)
            if target is not None and target.table != entity.table and target.table not in placed:
                out.append(fk)
        return out

    while remaining:
        ready = next((e for e in remaining if not pending(e)), None)
        entity = ready if ready is not None else remaining[0]
        if ready is None:
            deferred[entity.table] = tuple(pending(entity))
        order.append(entity)
        placed.add(entity.table)
        remaining.remove(entity)
    return _Plan(tuple(order), deferred)


def ddl_order(schema: ir.Schema) -> list[ir.Entity]:
    """Return the entities in an order that creates referenced tables first."""
    return list(_plan(schema).order)


def deferred_foreign_keys(schema: ir.Schema) -> dict[str, tuple[ForeignKey, ...]]:
    """Return, by table, the foreign keys that close a cycle in ``ddl_order``'s order."""
    return dict(_plan(schema).deferred)


def schema_ddl(
    schema: ir.Schema, dialect: str, *, foreign_keys_after: bool = False
) -> tuple[str, ...]:
    """Return every statement creating ``schema`` in ``dialect``, in a working order.

    Tables come in ``ddl_order`` with their indexes and comments; foreign keys that close a
    cycle follow as ``ALTER TABLE ... ADD CONSTRAINT``. ``foreign_keys_after`` moves every
    foreign key there, for loading data that is not in reference order before the keys
    exist (SQLite keeps them in ``CREATE TABLE``, which it checks only when told to).
    """
    dialect = check_dialect(dialect)
    plan = _plan(schema)
    statements: list[str] = []
    later: list[str] = []
    for entity in plan.order:
        all_fks = foreign_keys(entity)
        if dialect == "sqlite":
            inline = all_fks
        elif foreign_keys_after:
            inline = ()
        else:
            inline = tuple(fk for fk in all_fks if fk not in plan.deferred.get(entity.table, ()))
        statements.append(create_table(entity, dialect, schema=schema, foreign_keys_inline=inline))
        statements.extend(create_indexes(entity, dialect, schema=schema))
        statements.extend(comment_statements(entity, dialect))
        later.extend(
            add_foreign_key(entity, fk, dialect, schema=schema)
            for fk in all_fks
            if fk not in inline
        )
    return (*statements, *later)
