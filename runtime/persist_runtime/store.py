"""``Store``: generated entities persisted over a DB-API connection.

The store speaks SQLite (``sqlite3``), PostgreSQL (psycopg 3) and MariaDB/MySQL (PyMySQL);
what differs between them is data in ``dialects``, value conversion is data in ``codecs``,
and the statements for each entity are computed once (``store_plan``).

Row versions live in a side table, not in the entity's table
---------------------------------------------------------------
Optimistic concurrency needs a version per row. The store keeps it in
``__persist_versions(table_name, entity_id, version)`` instead of adding a column to user
tables, because user tables must stay exactly as the spec's DDL says: existing data and
tools insert into them without column lists (``INSERT INTO t VALUES (...)``), and a
schema's fingerprint and migrations describe those columns only. A missing side row means
version 1, so ``create`` and ``create_many`` write nothing but the entity's own row (a
bulk insert is the entity's rows and nothing else). The first command inserts the side
row at version 2 (insert-or-ignore: a concurrent first writer makes it insert nothing, which
is a lost race); later commands run ``UPDATE ... SET version = version + 1 WHERE version =
<old>``. That guarded statement is the optimistic lock: whoever changes the row second
finds the version moved and gets ``ConflictError``.

One command, one transaction
----------------------------
``execute`` and ``patch`` run: [idempotency lookup] -> load row and version -> check
``expected_version`` -> reduce (``spec.apply_command``) -> bump the version (guarded) ->
``UPDATE`` of exactly the changed columns -> journal row in ``__persist_journal`` -> commit.
Any failure rolls the whole transaction back, so the table and its journal never disagree.

``Store`` keeps connections, transactions, schema versions and the public methods; the
bodies live next to it: ``store_inserts`` (creates), ``store_queries`` (lists, counts,
journal reads), ``store_commands`` (commands and patches) and ``store_files`` (snapshots).
"""

from __future__ import annotations

import builtins
import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from . import store_commands, store_inserts, store_queries
from .dialects import Dialect, dialect
from .errors import (
    ConflictError,
    MigrationError,
    NotFoundError,
    PersistError,
)
from .journal import JournalRecord, utc_now_text
from .spec import EntitySpec
from .store_commands import CommandResult, IdempotencyError, stale_error
from .store_inserts import coerce_draft, insert_row
from .store_plan import TablePlan, build_plan
from .store_queries import Versioned

__all__ = [
    "CommandResult",
    "IdempotencyError",
    "Store",
    "UnknownEntityError",
    "Versioned",
]

SpecRef = EntitySpec | str
"""An entity spec, or the name of one the store has registered (``ensure``/``register``)."""

_JOURNAL_COLUMNS: Final = (
    "ts, entity, table_name, entity_id, id_json, schema_version, command, payload_version,"
    " payload, expected_version, new_version, idempotency_key, result"
)


class UnknownEntityError(PersistError, LookupError):
    """The store has no entity of that name registered."""


class Store:
    """Persist generated entities over a DB-API connection (see the module doc)."""

    def __init__(self, connection: Any, dialect_name: str | Dialect) -> None:
        self.connection = connection
        self.dialect = dialect_name if isinstance(dialect_name, Dialect) else dialect(dialect_name)
        autocommit = getattr(connection, "autocommit", False)
        self._explicit_begin = not self.dialect.driver_begins or autocommit is True
        self._specs: dict[str, EntitySpec] = {}
        self._plans: dict[EntitySpec, TablePlan] = {}
        self._depth = 0
        self._cursor: Any = None
        self._internal_ready = False
        ph = self.dialect.placeholder
        self._sql_journal_insert = (
            f"INSERT INTO __persist_journal ({_JOURNAL_COLUMNS})"
            f" VALUES ({', '.join([ph] * 13)})"
            + (" RETURNING seq" if self.dialect.insert_returning else "")
        )
        self._sql_idempotency = (
            "SELECT entity, entity_id, command, payload_version, payload, new_version, seq,"
            f" result FROM __persist_journal WHERE idempotency_key = {ph}"
        )
        self._sql_version_insert = self.dialect.insert_ignore.format(
            table="__persist_versions",
            columns="table_name, entity_id, version",
            values=f"{ph}, {ph}, {ph}",
        )
        self._sql_version_bump = (
            "UPDATE __persist_versions SET version = version + 1"
            f" WHERE table_name = {ph} AND entity_id = {ph} AND version = {ph}"
        )
        self._sql_version_delete = (
            f"DELETE FROM __persist_versions WHERE table_name = {ph} AND entity_id = {ph}"
        )

    # ------------------------------------------------------------------ construction

    @classmethod
    def sqlite(cls, path: str = ":memory:", *, timeout: float = 30.0) -> Store:
        """Open (or create) an SQLite database; file databases use WAL journaling.

        The connection may be used from other threads (one at a time); writers take the
        database lock at ``BEGIN IMMEDIATE`` and wait up to ``timeout`` seconds for it.
        """
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        if path != ":memory:" and not path.startswith("file::memory:"):
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        return cls(conn, "sqlite")

    @classmethod
    def connect(cls, connection: Any, dialect: str = "postgres") -> Store:
        """Wrap an open connection: psycopg 3 (``"postgres"``), PyMySQL (``"mysql"``) or
        ``sqlite3`` (``"sqlite"``). The store commits or rolls back after every operation.
        """
        return cls(connection, dialect)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Run the block in one transaction and yield its cursor; nested blocks join it.

        Commits on success, rolls back on any exception. Deadlocks and serialisation
        failures come out as ``ConflictError`` (retry the operation).
        """
        if self._depth:
            self._depth += 1
            try:
                yield self._cursor
            finally:
                self._depth -= 1
            return
        cursor = self.connection.cursor()
        self._depth, self._cursor = 1, cursor
        try:
            if self._explicit_begin:
                cursor.execute(self.dialect.begin)
            yield cursor
            self.connection.commit()
        except BaseException as error:
            with contextlib.suppress(Exception):  # a lost connection: the original error matters
                self.connection.rollback()
            if isinstance(error, Exception) and self._is_conflict(error):
                raise ConflictError(
                    f"transaction lost a race and was rolled back: {error}"
                ) from error
            raise
        finally:
            self._depth, self._cursor = 0, None
            cursor.close()

    def _is_conflict(self, error: Exception) -> bool:
        names = {c.__name__ for c in type(error).__mro__}
        for name, code in self.dialect.conflict_errors:
            if name not in names:
                continue
            if code is None:
                return True
            if isinstance(code, int) and error.args and error.args[0] == code:
                return True
            if isinstance(code, str) and code in str(error):
                return True
        return False

    # ------------------------------------------------------------------ schema

    def _ready(self) -> None:
        if self._internal_ready:
            return
        with self.transaction() as cur:
            self._lock_schema(cur)
            for statement in self.dialect.internal_ddl:
                cur.execute(statement)
        self._release_schema_lock()
        self._internal_ready = True

    def _lock_schema(self, cur: Any) -> None:
        if self.dialect.ensure_lock is not None:
            cur.execute(self.dialect.ensure_lock[0])
            cur.fetchall()

    def _release_schema_lock(self) -> None:
        if self.dialect.ensure_lock is not None and self.dialect.ensure_lock[1]:
            cur = self.connection.cursor()
            try:
                cur.execute(self.dialect.ensure_lock[1])
                cur.fetchall()
                self.connection.commit()
            finally:
                cur.close()

    def register(self, spec: EntitySpec) -> None:
        """Make ``spec`` known by name (for ``SpecRef`` strings and ``restore``)."""
        self._specs[spec.name] = spec

    @property
    def specs(self) -> tuple[EntitySpec, ...]:
        """The registered specs, in registration order."""
        return tuple(self._specs.values())

    def spec(self, name: str) -> EntitySpec:
        """Return the registered spec called ``name`` (``UnknownEntityError`` otherwise)."""
        found = self._specs.get(name)
        if found is None:
            known = ", ".join(sorted(self._specs)) or "none registered"
            raise UnknownEntityError(f"unknown entity {name!r} (known: {known})")
        return found

    def ensure(self, spec: EntitySpec) -> None:
        """Create ``spec``'s table and indexes unless the table exists; record its version.

        Raise ``MigrationError`` when the database records another schema version for the
        table: a newer one (the code is too old) or an older one (apply the migration plan
        first). A table that exists without a record (created outside the store) is adopted
        at the spec's version.
        """
        self._ready()
        statements = spec.ddl.get(self.dialect.name)
        if not statements:
            raise MigrationError(f"{spec.name} has no DDL for dialect {self.dialect.name!r}")
        created = False
        try:
            with self.transaction() as cur:
                self._lock_schema(cur)
                current = self._read_schema_version(cur, spec.table)
                _check_version(spec, current)
                cur.execute(self.dialect.table_exists, (spec.table,))
                if not cur.fetchall():
                    created = True
                    for statement in statements:
                        cur.execute(statement)
                if current is None:
                    self._write_schema_version(cur, spec.table, spec.schema_version)
        except BaseException:
            if created and not self.dialect.transactional_ddl:
                self._drop_quietly(spec)
            raise
        finally:
            self._release_schema_lock()
        self.register(spec)

    def _drop_quietly(self, spec: EntitySpec) -> None:
        q = self.dialect.quote
        try:
            with self.transaction() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {q}{spec.table}{q}")
        except Exception:  # the original error is the one to report
            pass

    def _read_schema_version(self, cur: Any, table: str) -> int | None:
        cur.execute(
            "SELECT schema_version FROM __persist_schema_versions"
            f" WHERE table_name = {self.dialect.placeholder}",
            (table,),
        )
        row = cur.fetchone()
        return None if row is None else int(row[0])

    def _write_schema_version(self, cur: Any, table: str, version: int) -> None:
        ph = self.dialect.placeholder
        now = utc_now_text()
        cur.execute(
            "UPDATE __persist_schema_versions SET schema_version = "
            f"{ph}, updated_at = {ph} WHERE table_name = {ph}",
            (version, now, table),
        )
        if cur.rowcount == 0:
            cur.execute(
                "INSERT INTO __persist_schema_versions (table_name, schema_version, updated_at)"
                f" VALUES ({ph}, {ph}, {ph})",
                (table, version, now),
            )

    def schema_version(self, table: str) -> int | None:
        """Return the schema version the database records for ``table`` (None if none)."""
        self._ready()
        with self.transaction() as cur:
            return self._read_schema_version(cur, table)

    def set_schema_version(self, table: str, version: int) -> None:
        """Record ``version`` as ``table``'s schema version (joins an open transaction)."""
        self._ready()
        with self.transaction() as cur:
            self._write_schema_version(cur, table, version)

    # ------------------------------------------------------------------ plans

    def _resolve(self, ref: SpecRef) -> EntitySpec:
        return self.spec(ref) if isinstance(ref, str) else ref

    def plan(self, ref: SpecRef) -> TablePlan:
        """Return the statements and converters for an entity (computed on first use)."""
        spec = self._resolve(ref)
        found = self._plans.get(spec)
        if found is None:
            self._ready()
            found = self._plans[spec] = build_plan(spec, self.dialect)
        return found

    # ------------------------------------------------------------------ create

    def create(self, ref: SpecRef, draft: object) -> Any:
        """Insert a new entity from its ``Draft`` (or draft payload); return the entity.

        Values the database generates (autoincrement keys, defaults) come back through
        ``RETURNING`` or the driver's ``lastrowid``. The new row has version 1.
        """
        plan = self.plan(ref)
        spec = plan.spec
        draft = coerce_draft(spec, draft)
        row = plan.encode_draft(spec.draft_values(draft))
        with self.transaction() as cur:
            generated = insert_row(self, cur, plan, row, draft)
        return spec.from_draft(draft, generated)

    def create_many(
        self, ref: SpecRef, drafts: Iterable[object], *, entities: bool = True
    ) -> list[Any] | int:
        """Insert many entities in one transaction; return them (or their count).

        Without database-generated fields the rows go in through ``executemany``, on SQLite
        as multi-row ``INSERT`` statements (``TablePlan.bulk_rows`` rows each); a generated
        SQLite rowid key is read back from ``last_insert_rowid()`` (rows inserted under the
        write lock get consecutive rowids). Otherwise each row is inserted with
        ``RETURNING``. Pass ``entities=False`` to get the count instead of the entities (the
        rows are the same; building the entities is a good part of the time of a big batch).
        """
        return store_inserts.create_many(self, ref, drafts, entities)

    # ------------------------------------------------------------------ read

    def _load(
        self, cur: Any, plan: TablePlan, key: Sequence[Any], key_text: str
    ) -> tuple[Any, int | None] | None:
        cur.execute(plan.select_sql, (plan.spec.table, key_text, *plan.encode_key(key)))
        rows = cur.fetchall()
        if not rows:
            return None
        row = rows[0]
        version = row[-1]
        entity = plan.spec.from_values(plan.decode_row(row[:-1]))
        return entity, None if version is None else int(version)

    def _not_found(self, plan: TablePlan, key: Sequence[Any]) -> NotFoundError:
        return NotFoundError(f"{plan.spec.name} {plan.key_json(key)!r} not found")

    def load(self, ref: SpecRef, id: object) -> Versioned:
        """Return the entity with key ``id`` and its row version (``NotFoundError`` if none)."""
        plan = self.plan(ref)
        key = plan.key_values(id)
        with self.transaction() as cur:
            found = self._load(cur, plan, key, plan.key_text(key))
        if found is None:
            raise self._not_found(plan, key)
        return Versioned(found[0], found[1] or 1)

    def get(self, ref: SpecRef, id: object) -> Any:
        """Return the entity with key ``id`` (a tuple for composite keys); ``NotFoundError``."""
        return self.load(ref, id).entity

    def find(self, ref: SpecRef, id: object) -> Any | None:
        """Return the entity with key ``id``, or None."""
        try:
            return self.load(ref, id).entity
        except NotFoundError:
            return None

    def version(self, ref: SpecRef, id: object) -> int:
        """Return the row version of the entity with key ``id`` (``NotFoundError`` if none)."""
        return self.load(ref, id).version

    def list(
        self,
        ref: SpecRef,
        where: Mapping[str, object] | None = None,
        *,
        order_by: str | Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        """Return the entities whose fields equal ``where`` (None: ``IS NULL``).

        ``order_by`` names fields (``"-name"`` for descending; default: primary key);
        ``limit``/``offset`` page through the result.
        """
        return store_queries.list_entities(self, ref, where, order_by, limit, offset)

    def list_versioned(
        self,
        ref: SpecRef,
        where: Mapping[str, object] | None = None,
        *,
        order_by: str | Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Versioned]:
        """Like ``list``, with each entity's row version."""
        return store_queries.list_versioned(self, ref, where, order_by, limit, offset)

    def count(self, ref: SpecRef, where: Mapping[str, object] | None = None) -> int:
        """Return how many entities match ``where`` (as in ``list``)."""
        return store_queries.count(self, ref, where)

    # ------------------------------------------------------------------ delete

    def delete(self, ref: SpecRef, id: object, *, expected_version: int | None = None) -> None:
        """Delete the entity with key ``id`` (``NotFoundError`` if none; ``ConflictError``
        when ``expected_version`` is given and stale)."""
        plan = self.plan(ref)
        key = plan.key_values(id)
        key_text = plan.key_text(key)
        with self.transaction() as cur:
            if expected_version is not None:
                found = self._load(cur, plan, key, key_text)
                if found is None:
                    raise self._not_found(plan, key)
                actual = found[1] or 1
                if actual != expected_version:
                    raise stale_error(plan, key, expected_version, actual)
            cur.execute(plan.delete_sql, plan.encode_key(key))
            if cur.rowcount == 0:
                raise self._not_found(plan, key)
            cur.execute(self._sql_version_delete, (plan.spec.table, key_text))

    # ------------------------------------------------------------------ commands

    def execute(
        self,
        ref: SpecRef,
        id: object,
        command: object,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Apply ``command`` to the entity with key ``id`` in one transaction (module doc).

        ``command`` is a generated command object or an envelope
        ``{"command", "payload", "payload_version"}`` (parsed by the spec). Raise
        ``NotFoundError``, ``ValidationError`` (bad payload or a command the entity does not
        have), ``ConflictError`` (stale ``expected_version`` or a concurrent writer won) or
        ``IdempotencyError`` (key reused for another request).
        """
        return store_commands.execute(
            self,
            ref,
            id,
            command,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    def patch(
        self,
        ref: SpecRef,
        id: object,
        patch: object,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> CommandResult:
        """Apply a ``Patch`` (or patch payload) like a command, journaled as ``"Patch"``."""
        return store_commands.patch(
            self,
            ref,
            id,
            patch,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )

    # ------------------------------------------------------------------ journal

    def journal(
        self,
        ref: SpecRef | None = None,
        id: object = None,
        *,
        after_seq: int = 0,
        page_size: int = 1000,
    ) -> Iterator[JournalRecord]:
        """Yield the journal in ``seq`` order (optionally one entity type, or one entity).

        Reads page by page, each page in its own short transaction.
        """
        return store_queries.read_journal(self, ref, id, after_seq, page_size)

    def export_journal(self, path: str, ref: SpecRef | None = None) -> int:
        """Write the journal (optionally one entity type) to ``path`` as JSON Lines,
        atomically; return the number of records."""
        from .snapshot import atomic_write

        count = 0
        with atomic_write(path) as out:
            for record in self.journal(ref):
                out.write(record.to_line())
                out.write("\n")
                count += 1
        return count

    # ------------------------------------------------------------------ snapshots

    def snapshot(
        self, path: str, mode: str = "with_data", specs: Iterable[SpecRef] | None = None
    ) -> int:
        """Write a snapshot (DESIGN §7) of ``specs`` (default: all registered) atomically;
        return the number of records written."""
        from .store_files import write_store_snapshot

        chosen = [self._resolve(s) for s in specs] if specs is not None else list(self.specs)
        return write_store_snapshot(self, path, mode, chosen)

    def restore(
        self,
        path: str,
        plan: Any = None,
        *,
        on_conflict: str = "fail",
        specs: Iterable[EntitySpec] | None = None,
    ) -> Any:
        """Restore a snapshot: create missing tables, then insert its records in one
        transaction, upgrading older records through ``plan`` (anything with
        ``upgrade_record(entity, record, from_version)``, e.g. a ``MigrationPlan``).

        ``on_conflict`` decides what happens when a record's key already exists: ``"fail"``
        (``ConflictError``, nothing restored), ``"skip"`` (keep the stored entity) or
        ``"overwrite"`` (replace it, version included). Returns a ``RestoreReport``.
        """
        from .store_files import restore_snapshot

        return restore_snapshot(self, path, plan, on_conflict, specs)


def _check_version(spec: EntitySpec, current: int | None) -> None:
    if current is None or current == spec.schema_version:
        return
    if current > spec.schema_version:
        raise MigrationError(
            f"database holds {spec.name} (table {spec.table!r}) at schema version {current},"
            f" newer than this code's version {spec.schema_version}: upgrade the code"
        )
    raise MigrationError(
        f"database holds {spec.name} (table {spec.table!r}) at schema version {current},"
        f" older than this code's version {spec.schema_version}: apply the migration plan"
        " first (MigrationPlan.apply(store))"
    )
