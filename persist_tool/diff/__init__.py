"""Schema diffs: ir x ir -> an ordered list of named, classified, invertible changes.

>>> changes = diff_schemas(old_schema, new_schema, renames={"Note": {"body": "text"}})
>>> missing_backfills(changes)           # required fields added without a value
>>> changes = apply_defaults(changes, {"Note.priority": "3"}, schema=new_schema)
>>> apply_changes(old_schema, changes)   # == new_schema, in storage terms

This package imports only ``persist_tool.ir`` and the standard library.
"""

from __future__ import annotations

from persist_tool.diff.apply import apply_change, apply_changes, invert_changes, table_steps
from persist_tool.diff.backfill import (
    FACTORIES,
    added_value,
    apply_defaults,
    backfill_key,
    missing_backfills,
    parse_default_option,
    parse_value,
)
from persist_tool.diff.changes import (
    AddCommand,
    AddEntity,
    AddField,
    AddIndex,
    AddUnique,
    AlterCommand,
    AlterConstraints,
    AlterDefault,
    AlterFieldType,
    AlterNullability,
    AlterPrimaryKey,
    Change,
    DropCommand,
    DropEntity,
    DropField,
    DropIndex,
    DropUnique,
    RenameEntity,
    RenameField,
)
from persist_tool.diff.classification import Classification
from persist_tool.diff.compute import diff_entities, diff_schemas
from persist_tool.diff.kinds import constraints_change, describe_type, is_widening

__all__ = [
    "FACTORIES",
    "AddCommand",
    "AddEntity",
    "AddField",
    "AddIndex",
    "AddUnique",
    "AlterCommand",
    "AlterConstraints",
    "AlterDefault",
    "AlterFieldType",
    "AlterNullability",
    "AlterPrimaryKey",
    "Change",
    "Classification",
    "DropCommand",
    "DropEntity",
    "DropField",
    "DropIndex",
    "DropUnique",
    "RenameEntity",
    "RenameField",
    "added_value",
    "apply_change",
    "apply_changes",
    "apply_defaults",
    "backfill_key",
    "constraints_change",
    "describe_type",
    "diff_entities",
    "diff_schemas",
    "invert_changes",
    "is_widening",
    "max_classification",
    "missing_backfills",
    "parse_default_option",
    "parse_value",
    "table_steps",
]


def max_classification(changes: list[Change]) -> Classification:
    """Return the most severe classification among ``changes`` (safe for none)."""
    return max(
        (c.classification for c in changes),
        key=lambda c: c.rank,
        default=Classification.SAFE,
    )
