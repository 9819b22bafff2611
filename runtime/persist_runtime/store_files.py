"""Snapshots of a ``Store``: writing its tables to a snapshot file and restoring one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, cast

from .dialects import quote_identifier
from .errors import ConflictError, Issue, ValidationError
from .snapshot import (
    DecodedRecord,
    RecordUpgrader,
    SnapshotMode,
    SnapshotRecord,
    SnapshotType,
    decode_snapshot,
    read_snapshot,
    resolve_entity,
    write_snapshot,
)
from .spec import EntitySpec

if TYPE_CHECKING:
    from .store import Store

__all__ = ["ON_CONFLICT", "RestoreReport", "restore_snapshot", "write_store_snapshot"]

ON_CONFLICT: Final = ("fail", "skip", "overwrite")
_PAGE: Final = 1000


@dataclass(slots=True)
class RestoreReport:
    """What ``Store.restore`` did, counted per entity name.

    ``dropped`` counts the snapshot's records (by the entity name the snapshot uses) that
    were not restored because the migration plan drops their entity; ``notes`` says so in
    words, one line per such entity.
    """

    types: tuple[str, ...] = ()
    inserted: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    overwritten: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Records written (inserted or overwritten)."""
        return sum(self.inserted.values()) + sum(self.overwritten.values())


def _records(store: Store, cur: Any, spec: EntitySpec) -> Iterator[SnapshotRecord]:
    plan = store.plan(spec)
    ph = store.dialect.placeholder
    cur.execute(
        f"SELECT entity_id, version FROM __persist_versions WHERE table_name = {ph}",
        (spec.table,),
    )
    versions = {str(k): int(v) for k, v in cur.fetchall()}
    order = ", ".join(quote_identifier(store.dialect, f.column) for f in plan.pk_fields)
    cur.execute(f"{plan.select_all_sql} ORDER BY {order}")
    decode, from_values, to_record = plan.decode_row, spec.from_values, spec.to_record
    while True:
        rows = cur.fetchmany(_PAGE)
        if not rows:
            return
        for row in rows:
            values = decode(row)
            key = plan.key_of(values)
            yield SnapshotRecord(
                entity=spec.name,
                id=plan.key_json(key),
                version=versions.get(plan.key_text(key), 1),
                schema_version=spec.schema_version,
                fields=to_record(from_values(values)),
            )


def write_store_snapshot(store: Store, path: str, mode: str, specs: Sequence[EntitySpec]) -> int:
    """Write ``specs``' tables to a snapshot file, read in one transaction."""
    if mode not in ("with_data", "schema_only"):
        raise ValueError(f"unknown snapshot mode {mode!r} (expected 'with_data' or 'schema_only')")
    types = [SnapshotType.of(s) for s in specs]
    with store.transaction() as cur:

        def records() -> Iterator[SnapshotRecord]:
            for spec in specs:
                yield from _records(store, cur, spec)

        return write_snapshot(path, cast(SnapshotMode, mode), types, records())


def restore_snapshot(
    store: Store,
    path: str,
    plan: RecordUpgrader | None,
    on_conflict: str,
    specs: Iterable[EntitySpec] | None,
) -> RestoreReport:
    """Restore a snapshot into ``store`` (see ``Store.restore``)."""
    if on_conflict not in ON_CONFLICT:
        raise ValueError(f"on_conflict must be one of {ON_CONFLICT}, got {on_conflict!r}")
    snapshot = read_snapshot(path)
    known: dict[str, EntitySpec] = {s.name: s for s in store.specs}
    known.update({s.name: s for s in specs or ()})
    if snapshot.mode != "with_data":
        snapshot = replace(snapshot, records=())
    result = decode_snapshot(snapshot, known, plan)
    decoded = result.records
    chosen: dict[str, EntitySpec] = {}
    for t in snapshot.types:
        spec = known.get(t.entity)
        if spec is None:
            name, dropped = resolve_entity(plan, t.entity)
            if dropped is not None:
                continue
            spec = known[name]  # check_types made sure the renamed entity is known
        chosen.setdefault(spec.name, spec)
    for spec in chosen.values():
        store.ensure(spec)
    report = RestoreReport(types=tuple(chosen), dropped=result.dropped, notes=result.notes)
    with store.transaction() as cur:
        for record in decoded:
            _restore_one(store, cur, record, on_conflict, report)
        if store.dialect.resync_keys is not None:
            for spec in {r.spec.name: r.spec for r in decoded}.values():
                _resync(store, cur, spec)
    return report


def _restore_one(
    store: Store,
    cur: Any,
    record: DecodedRecord,
    on_conflict: str,
    report: RestoreReport,
) -> None:
    spec = record.spec
    plan = store.plan(spec)
    values = spec.to_values(record.entity)
    key = plan.key_of(values)
    if plan.key_json(key) != record.id:
        raise ValidationError(
            [
                Issue(
                    "/records",
                    f"{spec.name} record id {record.id!r} does not match its"
                    f" key fields {plan.key_json(key)!r}",
                )
            ],
            entity=spec.name,
        )
    key_text = plan.key_text(key)
    encoded_key = plan.encode_key(key)
    cur.execute(plan.exists_sql, encoded_key)
    exists = bool(cur.fetchall())
    name = spec.name
    if exists:
        if on_conflict == "fail":
            raise ConflictError(
                f"{name} {record.id!r} already exists; nothing was restored"
                " (pass on_conflict='skip' or 'overwrite')"
            )
        if on_conflict == "skip":
            report.skipped[name] = report.skipped.get(name, 0) + 1
            return
        cur.execute(plan.delete_sql, encoded_key)
        report.overwritten[name] = report.overwritten.get(name, 0) + 1
    else:
        report.inserted[name] = report.inserted.get(name, 0) + 1
    cur.execute(plan.insert_all_sql, plan.encode_row(values))
    ph = store.dialect.placeholder
    cur.execute(
        f"DELETE FROM __persist_versions WHERE table_name = {ph} AND entity_id = {ph}",
        (spec.table, key_text),
    )
    if record.version > 1:
        cur.execute(
            f"INSERT INTO __persist_versions (table_name, entity_id, version)"
            f" VALUES ({ph}, {ph}, {ph})",
            (spec.table, key_text, record.version),
        )


def _resync(store: Store, cur: Any, spec: EntitySpec) -> None:
    template = store.dialect.resync_keys
    assert template is not None
    for f in spec.fields:
        if f.generated and f.primary_key and f.kind == "integer":
            table = quote_identifier(store.dialect, spec.table)
            cur.execute(
                template.format(
                    table=table,
                    table_literal=table.replace("'", "''"),
                    column=quote_identifier(store.dialect, f.column),
                    column_literal=f.column.replace("'", "''"),
                )
            )
            cur.fetchall()
