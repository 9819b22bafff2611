"""persist_runtime: the small, dependency-free runtime that generated entity modules use.

Its public API is versioned by ``API_VERSION``; a major change breaks generated code.
"""

from __future__ import annotations

from ._unset import UNSET, Unset
from .compat import CompatFinding, check_journal, check_snapshot
from .errors import (
    ConflictError,
    Issue,
    MigrationError,
    NotFoundError,
    PersistError,
    ValidationError,
)
from .journal import Journal, JournalRecord
from .markers import (
    Generated,
    Immutable,
    Index,
    MaxLen,
    PrimaryKey,
    RenamedFrom,
    Unique,
    command,
    entity,
)
from .migration_db import AppliedStep, DbTarget, MigrationApplyError
from .migrations import EntityDroppedError, MigrationPlan, MigrationPlanError, MigrationStep
from .snapshot import RecordUpgrader, Snapshot, SnapshotRecord, SnapshotType, read_snapshot
from .spec import DIALECTS, CommandSpec, EntitySpec, FieldSpec, IndexSpec
from .store import CommandResult, IdempotencyError, Store, UnknownEntityError, Versioned
from .store_files import RestoreReport

API_VERSION = "1.0.0"
"""Version of this public API (semantic versioning). Snapshots record it, and a snapshot of
another major version is refused; generated code relies on the exact runtime release the
tool's package pins, not on this string."""

__version__ = "0.1.0"

__all__ = [
    "API_VERSION",
    "DIALECTS",
    "UNSET",
    "CommandSpec",
    "ConflictError",
    "EntityDroppedError",
    "EntitySpec",
    "FieldSpec",
    "Generated",
    "Immutable",
    "Index",
    "IndexSpec",
    "Issue",
    "MaxLen",
    "MigrationError",
    "NotFoundError",
    "PersistError",
    "PrimaryKey",
    "RenamedFrom",
    "Unique",
    "Unset",
    "ValidationError",
    "command",
    "entity",
    # the store, journal and snapshots
    "CommandResult",
    "IdempotencyError",
    "Journal",
    "JournalRecord",
    "RecordUpgrader",
    "RestoreReport",
    "Snapshot",
    "SnapshotRecord",
    "SnapshotType",
    "Store",
    "UnknownEntityError",
    "Versioned",
    "read_snapshot",
    # migrations
    "AppliedStep",
    "DbTarget",
    "MigrationApplyError",
    "MigrationPlan",
    "MigrationPlanError",
    "MigrationStep",
    # compat checks of stored files
    "CompatFinding",
    "check_journal",
    "check_snapshot",
]
