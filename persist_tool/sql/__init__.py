"""IR -> SQL for SQLite, PostgreSQL and MySQL/MariaDB: the only place the tool builds SQL.

Every statement is a sqlglot expression (``sqlglot.exp``) rendered for the target dialect;
SQL from sources (``Default("sql")`` expressions) is read with ``sqlglot.parse_one`` and
transpiled. The package is split by concern:

* ``dialects``: dialect names, identifier quoting, derived constraint names;
* ``types``: the column type table (IR type kind x dialect);
* ``constraints``: CHECK conditions and DEFAULT values;
* ``model``: keys, foreign keys and identity fields read from the IR;
* ``ddl``: CREATE TABLE / CREATE INDEX / COMMENT statements of one entity;
* ``order``: table order for a whole schema, and its statements in that order;
* ``migrate``: the statements of one migration step, per change and dialect;
* ``values``: type conversions and backfill values for migrated rows;
* ``alter``: ALTER TABLE statements and constraints compared before/after a change;
* ``rebuild``: SQLite's table rebuild (when a step needs one, and its statements).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from persist_tool.sql.constraints import default_expression, field_checks
from persist_tool.sql.ddl import (
    add_foreign_key,
    column_definition,
    comment_statements,
    create_indexes,
    create_table,
    ddl,
    identity_notes,
    select_statement,
)
from persist_tool.sql.dialects import DIALECTS, check_dialect, needs_quotes, quote
from persist_tool.sql.model import ForeignKey, foreign_keys, identity_field
from persist_tool.sql.order import ddl_order, deferred_foreign_keys, schema_ddl
from persist_tool.sql.types import ColumnType, column_type, plan_types, sql_type_map, type_notes

if TYPE_CHECKING:
    from persist_tool.sql.migrate import (
        backfill_expression,
        conversion_expression,
        drop_table,
        needs_rebuild,
        step_statements,
    )

# Migration statements need the diff package; generating entities does not, so they are
# imported on first use (a fifth of the start-up of ``generate entity``).
_LAZY = frozenset(
    {
        "backfill_expression",
        "conversion_expression",
        "drop_table",
        "needs_rebuild",
        "step_statements",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from persist_tool.sql import migrate

        return getattr(migrate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DIALECTS",
    "ColumnType",
    "ForeignKey",
    "add_foreign_key",
    "backfill_expression",
    "check_dialect",
    "column_definition",
    "column_type",
    "comment_statements",
    "conversion_expression",
    "create_indexes",
    "create_table",
    "ddl",
    "ddl_order",
    "default_expression",
    "deferred_foreign_keys",
    "drop_table",
    "field_checks",
    "foreign_keys",
    "identity_notes",
    "identity_field",
    "needs_quotes",
    "needs_rebuild",
    "plan_types",
    "quote",
    "schema_ddl",
    "select_statement",
    "sql_type_map",
    "step_statements",
    "type_notes",
]
