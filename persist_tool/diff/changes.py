"""The change objects a schema diff is made of.

Every change is a frozen dataclass that names one storage-relevant difference between two
versions of a schema. Each one:

* says what it is (``kind``) and which entity (and field) it touches, by the names that are
  current *when the change runs* in list order (field changes after a ``RenameField`` use the
  new name, drops use the old one);
* classifies itself (``classification``: safe, needs a backfill, narrowing, destructive);
* describes itself for people (``describe()``) and may carry a ``hint`` (the "did you mean
  to rename?" advice for a drop next to a same-typed add);
* inverts (``invert()``): the change that undoes it, so a list undoes as
  ``[c.invert() for c in reversed(changes)]``.

Backfill values (``AddField.backfill``, ``AlterNullability.backfill``) are annotations the
command line supplies; they do not take part in equality.
"""

from __future__ import annotations

from persist_tool.diff.base import Change
from persist_tool.diff.classification import Classification
from persist_tool.diff.field_changes import (
    AddField,
    AlterConstraints,
    AlterDefault,
    AlterFieldType,
    AlterNullability,
    DropField,
    RenameField,
)
from persist_tool.diff.table_changes import (
    AddCommand,
    AddEntity,
    AddIndex,
    AddUnique,
    AlterCommand,
    AlterPrimaryKey,
    DropCommand,
    DropEntity,
    DropIndex,
    DropUnique,
    RenameEntity,
)

__all__ = [
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
]
