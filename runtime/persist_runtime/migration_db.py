"""Apply a migration plan's SQL to a database and keep the schema-version registry.

The registry ``__persist_schema_versions(table_name, schema_version, updated_at)`` says which
schema version each table is at. ``apply_plan`` runs every pending step:

* **SQLite, PostgreSQL** (transactional DDL): each step's statements and its registry update
  run in one transaction; a failure rolls all of it back, so the database and the registry
  are exactly as before the step. SQLite steps run with foreign keys off (the table-rebuild
  procedure needs it) and are checked with ``PRAGMA foreign_key_check`` before commit.
* **MariaDB/MySQL** (DDL commits implicitly): each statement's completion is recorded in
  ``__persist_migration_progress`` right after it runs. A failure raises
  ``MigrationApplyError`` naming the statement reached; running the plan again resumes at
  that statement (statements already run are checked by hash, never re-run).
* A step renaming a table moves its registry row, row versions and journal rows to the new
  name; a step dropping an entity removes its registry row and row versions.

Concurrent appliers are serialised (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock,
a MariaDB named lock) and each step re-reads the registry under the lock, so a step runs once.

What ``apply_plan`` needs from a store is small (``MigrationTarget``): its DB-API connection
and its dialect. A bare ``sqlite3``, psycopg or PyMySQL connection works as well.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from .dialects import Dialect, dialect
from .errors import MigrationError
from .migrations import MigrationPlan, MigrationStep, canonical_dialect

__all__ = [
    "PROGRESS_TABLE",
    "REGISTRY_TABLE",
    "AppliedStep",
    "DbTarget",
    "MigrationApplyError",
    "MigrationTarget",
    "apply_plan",
    "pending_steps",
    "read_schema_versions",
    "write_schema_version",
]

REGISTRY_TABLE = "__persist_schema_versions"
PROGRESS_TABLE = "__persist_migration_progress"

_PROGRESS_DDL = {
    "mysql": (
        f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} ("
        " table_name VARCHAR(255) NOT NULL, from_version INTEGER NOT NULL,"
        " to_version INTEGER NOT NULL, statement_index INTEGER NOT NULL,"
        " statement_sha256 CHAR(64) NOT NULL, completed_at VARCHAR(64) NOT NULL,"
        " PRIMARY KEY (table_name, from_version, statement_index)) ENGINE=InnoDB"
    ),
}
"""The progress table, for the dialects whose DDL cannot be rolled back."""

_DRIVER_DIALECTS = {"sqlite3": "sqlite", "psycopg": "postgres", "pymysql": "mysql"}
"""Top-level module of a DB-API connection's class -> the dialect it speaks."""


@runtime_checkable
class MigrationTarget(Protocol):
    """What ``apply`` needs: a DB-API connection and the dialect it speaks."""

    @property
    def connection(self) -> Any:
        """The DB-API connection (sqlite3, psycopg 3 or PyMySQL)."""

    @property
    def dialect(self) -> Any:
        """The dialect: a ``persist_runtime.dialects.Dialect`` or its name."""


@dataclass(frozen=True, slots=True)
class DbTarget:
    """A bare connection and its dialect name, as a ``MigrationTarget``."""

    connection: Any
    dialect: str


@dataclass(frozen=True, slots=True)
class AppliedStep:
    """A step ``apply`` ran: which, on which table, and where it started (resume)."""

    step: MigrationStep
    table: str
    statements: int
    resumed_at: int = 0
    """Index of the first statement run now (> 0 when a MariaDB step was resumed)."""


class MigrationApplyError(MigrationError):
    """A step's SQL failed; says which statement, and what state the database is in."""

    def __init__(
        self,
        step: MigrationStep,
        dialect_name: str,
        index: int,
        statements: Sequence[str],
        cause: BaseException,
        *,
        rolled_back: bool,
    ) -> None:
        self.step = step
        self.dialect = dialect_name
        self.statement_index = index
        """0-based index of the statement that failed."""
        self.statement = statements[index] if index < len(statements) else None
        self.applied = 0 if rolled_back else index
        """How many statements of the step are in place now."""
        self.rolled_back = rolled_back
        self.cause = cause
        head = (
            f"{step.label} failed at statement {index + 1} of {len(statements)}"
            f" ({dialect_name}): {self.statement}\n  {type(cause).__name__}: {cause}"
        )
        if rolled_back:
            tail = (
                "the step was rolled back: the database and"
                f" {REGISTRY_TABLE} are as they were before it"
            )
        elif index:
            tail = (
                f"statements 1-{index} ran and are recorded in {PROGRESS_TABLE} ({dialect_name}"
                f" cannot roll DDL back); fix the cause and apply again to resume at"
                f" statement {index + 1}"
            )
        else:
            tail = "nothing of the step ran; fix the cause and apply again"
        super().__init__(f"{head}\n  {tail}")


# --------------------------------------------------------------------------- connections


def _store_tables(plan: MigrationPlan, store: Any) -> MigrationPlan:
    """Return ``plan`` knowing the tables of the specs ``store`` has registered."""
    specs = getattr(store, "specs", ())
    return plan.with_tables({s.name: s.table for s in specs}) if specs else plan


def _resolve(store: Any) -> tuple[Any, Dialect]:
    """Return the connection and dialect of a store, a ``DbTarget`` or a bare connection."""
    conn = getattr(store, "connection", None)
    d = getattr(store, "dialect", None)
    if conn is None or d is None:
        module = type(store).__module__.split(".")[0]
        if module not in _DRIVER_DIALECTS:
            raise MigrationError(
                f"cannot apply migrations to {type(store).__name__}: pass a Store, a"
                " DbTarget(connection, dialect) or a sqlite3 / psycopg / PyMySQL connection"
            )
        conn, d = store, _DRIVER_DIALECTS[module]
    if isinstance(d, str):
        try:
            d = dialect(canonical_dialect(d))
        except ValueError as error:
            raise MigrationError(str(error)) from None
    if not isinstance(d, Dialect):
        raise MigrationError(f"unknown dialect {d!r}")
    return conn, d


def _check_idle(conn: Any, d: Dialect) -> None:
    """Refuse a connection in the middle of a transaction (we must own the transaction)."""
    busy = getattr(conn, "in_transaction", None)  # sqlite3
    info = getattr(conn, "info", None)  # psycopg 3
    status = getattr(info, "transaction_status", None)
    if busy is True or (status is not None and int(status) != 0):
        raise MigrationError(
            f"the {d.name} connection has an open transaction: commit or roll it back"
            " before applying migrations"
        )


def _explicit_begin(conn: Any, d: Dialect) -> bool:
    return not d.driver_begins or bool(getattr(conn, "autocommit", False))


@contextlib.contextmanager
def _transaction(conn: Any, d: Dialect) -> Iterator[Any]:
    """Run the block in one transaction on a fresh cursor; roll back on any error."""
    cur = conn.cursor()
    try:
        if _explicit_begin(conn, d):
            cur.execute(d.begin)
        yield cur
    except BaseException:
        with contextlib.suppress(Exception):
            conn.rollback()
        raise
    else:
        conn.commit()
    finally:
        with contextlib.suppress(Exception):
            cur.close()


@contextlib.contextmanager
def _no_guard(conn: Any) -> Iterator[None]:
    yield


@contextlib.contextmanager
def _sqlite_foreign_keys_off(conn: Any) -> Iterator[None]:
    """Turn foreign keys off around a step (a no-op inside a transaction), then back on."""
    was_on = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    if was_on:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if was_on:
            conn.execute("PRAGMA foreign_keys = ON")


def _sqlite_check(cur: Any) -> None:
    rows = cur.execute("PRAGMA foreign_key_check").fetchall()
    if rows:
        raise MigrationError(f"foreign key violations after the step: {rows[:5]!r}")


def _no_check(cur: Any) -> None:
    return None


_STEP_GUARDS = {"sqlite": _sqlite_foreign_keys_off}
_BEFORE_COMMIT = {"sqlite": _sqlite_check}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sha(statement: str) -> str:
    return hashlib.sha256(statement.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- registry


def _registry_ddl(d: Dialect) -> str:
    for statement in d.internal_ddl:
        if REGISTRY_TABLE in statement.split("(")[0]:
            return statement
    raise MigrationError(f"dialect {d.name} has no {REGISTRY_TABLE} table")  # pragma: no cover


def _table_exists(cur: Any, d: Dialect, table: str) -> bool:
    cur.execute(d.table_exists, (table,))
    return cur.fetchone() is not None


def read_schema_versions(cur: Any, d: Dialect) -> dict[str, int]:
    """Return ``table_name -> schema_version`` from the registry (empty when it is absent)."""
    if not _table_exists(cur, d, REGISTRY_TABLE):
        return {}
    cur.execute(f"SELECT table_name, schema_version FROM {REGISTRY_TABLE}")
    return {str(t): int(v) for t, v in cur.fetchall()}


def write_schema_version(cur: Any, d: Dialect, table: str, version: int) -> None:
    """Record ``table`` at ``version`` (insert or update), inside the caller's transaction."""
    ph = d.placeholder
    cur.execute(f"SELECT 1 FROM {REGISTRY_TABLE} WHERE table_name = {ph}", (table,))
    if cur.fetchone() is None:
        cur.execute(
            f"INSERT INTO {REGISTRY_TABLE} (table_name, schema_version, updated_at)"
            f" VALUES ({ph}, {ph}, {ph})",
            (table, version, _now()),
        )
    else:
        cur.execute(
            f"UPDATE {REGISTRY_TABLE} SET schema_version = {ph}, updated_at = {ph}"
            f" WHERE table_name = {ph}",
            (version, _now(), table),
        )


def _ensure_tables(conn: Any, d: Dialect) -> None:
    with _transaction(conn, d) as cur:
        cur.execute(_registry_ddl(d))
        progress = _PROGRESS_DDL.get(d.name)
        if progress is not None:
            cur.execute(progress)


# --------------------------------------------------------------------------- planning


def _recorded_version(
    plan: MigrationPlan, steps: Sequence[MigrationStep], recorded: Mapping[str, int]
) -> tuple[int | None, str]:
    """Return the registry's version for an entity's chain and the table it was read from.

    The newest step's table wins; a step renaming the table is also looked up under the
    name it had before. With no row, the table the first step starts from is returned.
    """
    for step in reversed(steps):
        for table in (plan.table_for(step), step.previous_table):
            if table is not None and table in recorded:
                return recorded[table], table
    return None, steps[0].previous_table or plan.table_for(steps[0])


def _pending(
    plan: MigrationPlan, cur: Any, d: Dialect, baseline: Mapping[str, int]
) -> tuple[list[MigrationStep], dict[str, int]]:
    """Return the pending steps in plan order and each entity's starting version."""
    recorded = read_schema_versions(cur, d)
    starts: dict[str, int] = {}
    for entity in plan.entities:
        steps = plan.steps_for(entity)
        version, table = _recorded_version(plan, steps, recorded)
        if version is None:
            if entity in baseline:
                version = baseline[entity]
            elif _table_exists(cur, d, table):
                raise MigrationError(
                    f"table {table} of {entity} has no recorded schema version: pass"
                    f" baseline={{{entity!r}: <its version>}} to apply()"
                )
            else:
                continue  # no table yet: the store creates it at the current version
        target = plan.target_version(entity)
        if version > target:
            raise MigrationError(
                f"table {table} of {entity} is at schema version {version}, newer than the"
                f" code's {target}: upgrade the code first"
            )
        if version != target and not any(s.from_version == version for s in steps):
            raise MigrationError(
                f"table {table} of {entity} is at schema version {version} and no step"
                f" starts there (steps: {', '.join(s.label for s in steps)})"
            )
        starts[entity] = version
    pending = [
        s
        for s in plan.steps
        if (e := plan.current_entity(s.entity)) in starts and s.from_version >= starts[e]
    ]
    return pending, starts


def _refuse(pending: Sequence[MigrationStep], d: Dialect, allow_destructive: bool) -> None:
    """Refuse, before anything runs, steps that are stubs, destructive or lack this dialect."""
    problems = [
        f"{s.label} is a stub: write it (and drop stub=True) first" for s in pending if s.stub
    ]
    if not allow_destructive:
        problems += [f"{s.label} is destructive" for s in pending if s.destructive]
    for s in pending:
        try:
            s.statements(d.name)
        except MigrationError as error:
            problems.append(str(error))
    if problems:
        raise MigrationError("cannot apply the migration plan:\n  " + "\n  ".join(problems))


def pending_steps(
    plan: MigrationPlan, store: Any, *, baseline: Mapping[str, int] | None = None
) -> list[MigrationStep]:
    """Return the steps ``apply_plan`` would run on ``store``, changing nothing."""
    conn, d = _resolve(store)
    _check_idle(conn, d)
    plan = _store_tables(plan, store)
    cur = conn.cursor()
    try:
        return _pending(plan, cur, d, baseline or {})[0]
    finally:
        cur.close()
        conn.commit()  # end the read transaction some drivers opened


# --------------------------------------------------------------------------- applying


def apply_plan(
    plan: MigrationPlan,
    store: Any,
    *,
    baseline: Mapping[str, int] | None = None,
    allow_destructive: bool = True,
) -> list[AppliedStep]:
    """Run every pending step of ``plan`` on ``store``; return the steps that ran.

    ``baseline`` gives the schema version of tables that exist but were never recorded
    (a database that predates the registry). Tables that do not exist yet are skipped: the
    store creates them at the current version. Nothing runs when a pending step is a stub,
    is destructive while ``allow_destructive`` is false, or has no SQL for the dialect.
    """
    conn, d = _resolve(store)
    _check_idle(conn, d)
    plan = _store_tables(plan, store)
    _ensure_tables(conn, d)
    session_lock = d.ensure_lock if d.ensure_lock and d.ensure_lock[1] else None
    cur = conn.cursor()
    try:
        if session_lock:
            cur.execute(session_lock[0])
            cur.fetchall()
        pending, starts = _pending(plan, cur, d, baseline or {})
        conn.commit()
        _refuse(pending, d, allow_destructive)
        run = _run_transactional if d.transactional_ddl else _run_resumable
        applied: list[AppliedStep] = []
        for step in pending:
            done = run(plan, conn, d, step, starts[plan.current_entity(step.entity)])
            if done is not None:
                applied.append(done)
        return applied
    finally:
        if session_lock:
            with contextlib.suppress(Exception):
                cur.execute(session_lock[1])
                cur.fetchall()
                conn.commit()
        cur.close()


def _registry_state(
    plan: MigrationPlan, cur: Any, d: Dialect, step: MigrationStep, start: int
) -> int:
    """Re-read the step's registry version under the lock (another process may have run it)."""
    recorded = read_schema_versions(cur, d)
    version, _ = _recorded_version(plan, plan.steps_for(step.entity), recorded)
    if version is None and step.drops_entity and not _table_exists(cur, d, plan.table_for(step)):
        return step.to_version  # dropped meanwhile: the drop leaves no registry row
    return start if version is None else version


_ROW_TABLES = ("__persist_versions", "__persist_journal")
"""The store's side tables whose rows name the entity table they belong to."""


def _record(cur: Any, d: Dialect, plan: MigrationPlan, step: MigrationStep) -> str:
    """Record the step in the registry and keep the store's side tables in step with it.

    A table renamed by the step takes its row versions and journal rows along; a dropped
    table leaves the registry (a later table of that name starts afresh) and its row
    versions go with it; its journal rows stay as history.
    """
    table = plan.table_for(step)
    ph = d.placeholder
    if step.drops_entity:
        cur.execute(f"DELETE FROM {REGISTRY_TABLE} WHERE table_name = {ph}", (table,))
        if _table_exists(cur, d, _ROW_TABLES[0]):
            cur.execute(f"DELETE FROM {_ROW_TABLES[0]} WHERE table_name = {ph}", (table,))
        return table
    write_schema_version(cur, d, table, step.to_version)
    if step.previous_table and step.previous_table != table:
        cur.execute(f"DELETE FROM {REGISTRY_TABLE} WHERE table_name = {ph}", (step.previous_table,))
        for side in _ROW_TABLES:
            if _table_exists(cur, d, side):
                cur.execute(
                    f"UPDATE {side} SET table_name = {ph} WHERE table_name = {ph}",
                    (table, step.previous_table),
                )
    return table


def _run_transactional(
    plan: MigrationPlan, conn: Any, d: Dialect, step: MigrationStep, start: int
) -> AppliedStep | None:
    statements = step.statements(d.name)
    guard = _STEP_GUARDS.get(d.name, _no_guard)
    with guard(conn), _transaction(conn, d) as cur:
        if d.ensure_lock and not d.ensure_lock[1]:
            cur.execute(d.ensure_lock[0])
            cur.fetchall()
        version = _registry_state(plan, cur, d, step, start)
        if version >= step.to_version:
            return None
        if version != step.from_version:
            raise MigrationError(f"{step.label}: the registry moved to v{version} meanwhile")
        for i, statement in enumerate(statements):
            try:
                cur.execute(statement)
            except Exception as error:
                raise MigrationApplyError(
                    step, d.name, i, statements, error, rolled_back=True
                ) from error
        try:
            _BEFORE_COMMIT.get(d.name, _no_check)(cur)
        except MigrationError as error:
            raise MigrationApplyError(
                step, d.name, len(statements), statements, error, rolled_back=True
            ) from error
        table = _record(cur, d, plan, step)
    return AppliedStep(step, table, len(statements))


def _progress(cur: Any, d: Dialect, table: str, step: MigrationStep) -> list[tuple[int, int, str]]:
    ph = d.placeholder
    cur.execute(
        f"SELECT statement_index, to_version, statement_sha256 FROM {PROGRESS_TABLE}"
        f" WHERE table_name = {ph} AND from_version = {ph} ORDER BY statement_index",
        (table, step.from_version),
    )
    return [(int(i), int(v), str(h)) for i, v, h in cur.fetchall()]


def _resume_point(
    step: MigrationStep, statements: Sequence[str], done: list[tuple[int, int, str]]
) -> int:
    """Return how many statements already ran, checking they are the ones the step holds."""
    for expected, (index, to_version, sha) in enumerate(done):
        if index != expected or to_version != step.to_version:
            raise MigrationError(
                f"{step.label}: {PROGRESS_TABLE} holds progress of another step"
                f" (statement {index + 1}, to v{to_version}); inspect the database"
            )
        if index >= len(statements) or _sha(statements[index]) != sha:
            raise MigrationError(
                f"{step.label}: statement {index + 1} already ran but the step now holds"
                " different SQL there; restore the step as it was, or repair the database"
                f" by hand and delete its rows from {PROGRESS_TABLE}"
            )
    return len(done)


def _run_resumable(
    plan: MigrationPlan, conn: Any, d: Dialect, step: MigrationStep, start: int
) -> AppliedStep | None:
    statements = step.statements(d.name)
    table = plan.table_for(step)
    ph = d.placeholder
    with _transaction(conn, d) as cur:
        version = _registry_state(plan, cur, d, step, start)
        done = _progress(cur, d, table, step)
    if version >= step.to_version:
        return None
    if version != step.from_version:
        raise MigrationError(f"{step.label}: the registry moved to v{version} meanwhile")
    first = _resume_point(step, statements, done)
    for i in range(first, len(statements)):
        with _transaction(conn, d) as cur:
            try:
                cur.execute(statements[i])
            except Exception as error:
                raise MigrationApplyError(
                    step, d.name, i, statements, error, rolled_back=False
                ) from error
            cur.execute(
                f"INSERT INTO {PROGRESS_TABLE} (table_name, from_version, to_version,"
                f" statement_index, statement_sha256, completed_at)"
                f" VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph})",
                (
                    table,
                    step.from_version,
                    step.to_version,
                    i,
                    _sha(statements[i]),
                    _now(),
                ),
            )
    with _transaction(conn, d) as cur:
        _record(cur, d, plan, step)
        cur.execute(
            f"DELETE FROM {PROGRESS_TABLE} WHERE table_name = {ph} AND from_version = {ph}",
            (table, step.from_version),
        )
    return AppliedStep(step, table, len(statements), first)
