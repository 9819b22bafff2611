"""Snapshot files (DESIGN §7): writing them atomically, reading and upgrading their records.

A snapshot is one JSON document::

    {"format": "persist-snapshot", "format_version": 1, "api_version": "1.0.0",
     "mode": "with_data", "created_at": "2026-11-21T10:00:00Z",
     "types": [{"entity": "Todo", "table": "todos", "schema_version": 2, "fingerprint": "..."}],
     "records": [{"entity": "Todo", "id": "...", "version": 3, "schema_version": 2,
                  "fields": {...}}]}

``mode`` is ``"with_data"`` or ``"schema_only"`` (no records). Files are written to a
temporary file in the target directory, flushed, ``fsync``ed and renamed over the target, so
a reader (or a crash) sees the old snapshot or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Literal, Protocol, cast, runtime_checkable

from .codecs import json_default
from .errors import Issue, MigrationError, ValidationError
from .journal import utc_now_text
from .spec import EntitySpec

__all__ = [
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_FORMAT_VERSION",
    "DecodedRecord",
    "DecodedSnapshot",
    "EntityHistory",
    "RecordUpgrader",
    "Snapshot",
    "SnapshotMode",
    "SnapshotRecord",
    "SnapshotType",
    "atomic_write",
    "decode_records",
    "decode_snapshot",
    "read_snapshot",
    "resolve_entity",
    "write_snapshot",
]

SNAPSHOT_FORMAT: Final = "persist-snapshot"
SNAPSHOT_FORMAT_VERSION: Final = 1
SnapshotMode = Literal["with_data", "schema_only"]
_MODES: Final = ("with_data", "schema_only")


class RecordUpgrader(Protocol):
    """Anything that upgrades a stored record to the current schema (a ``MigrationPlan``)."""

    def upgrade_record(
        self, entity: str, record: Mapping[str, Any], from_version: int
    ) -> Mapping[str, Any]:
        """Return ``record`` (the ``fields`` of entity ``entity`` at ``from_version``) upgraded."""
        ...


@runtime_checkable
class EntityHistory(Protocol):
    """What an upgrader knows of renamed and dropped entities (a ``MigrationPlan`` does)."""

    def current_entity(self, name: str) -> str:
        """Return the current name of the entity once called ``name``."""
        ...

    def dropped_by(self, name: str) -> Any:
        """Return the step that dropped the entity once called ``name`` (``None`` if none)."""
        ...


def resolve_entity(plan: object, name: str) -> tuple[str, str | None]:
    """Return the current name of entity ``name`` and, when ``plan`` dropped it, why.

    Without a plan that knows the entity history, names are taken as they are.
    """
    if not isinstance(plan, EntityHistory):
        return name, None
    step = plan.dropped_by(name)
    if step is not None:
        return name, f"{getattr(step, 'label', step)} dropped the entity"
    return plan.current_entity(name), None


@dataclass(frozen=True, slots=True)
class SnapshotType:
    """One entity type in a snapshot."""

    entity: str
    table: str
    schema_version: int
    fingerprint: str

    @classmethod
    def of(cls, spec: EntitySpec) -> SnapshotType:
        """Describe ``spec``."""
        return cls(spec.name, spec.table, spec.schema_version, spec.fingerprint)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "entity": self.entity,
            "table": self.table,
            "schema_version": self.schema_version,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """One stored entity in a snapshot: its key (JSON form), row version and fields."""

    entity: str
    id: Any
    version: int
    schema_version: int
    fields: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object."""
        return {
            "entity": self.entity,
            "id": self.id,
            "version": self.version,
            "schema_version": self.schema_version,
            "fields": self.fields,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A snapshot file's content."""

    mode: SnapshotMode
    created_at: str
    api_version: str
    types: tuple[SnapshotType, ...]
    records: tuple[SnapshotRecord, ...]


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On an exception (or a crash) the temporary file is removed (or left as ``.*.tmp``) and
    ``path`` keeps its previous content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=json_default)


def write_snapshot(
    path: str | os.PathLike[str],
    mode: SnapshotMode,
    types: Sequence[SnapshotType],
    records: Iterable[SnapshotRecord],
) -> int:
    """Write a snapshot atomically, streaming ``records`` (one per line); return their count."""
    if mode not in _MODES:
        raise ValueError(f"unknown snapshot mode {mode!r} (expected one of {_MODES})")
    from . import API_VERSION

    count = 0
    with atomic_write(path) as out:
        out.write("{")
        out.write(f'"format": {_dump(SNAPSHOT_FORMAT)}, ')
        out.write(f'"format_version": {SNAPSHOT_FORMAT_VERSION}, ')
        out.write(f'"api_version": {_dump(API_VERSION)},\n')
        out.write(f' "mode": {_dump(mode)}, "created_at": {_dump(utc_now_text())},\n')
        out.write(' "types": [')
        out.write(",".join("\n  " + _dump(t.to_json()) for t in types))
        out.write("\n ],\n" if types else "],\n")
        out.write(' "records": [')
        if mode == "with_data":
            for record in records:
                out.write(",\n  " if count else "\n  ")
                out.write(_dump(record.to_json()))
                count += 1
        out.write("\n ]}\n" if count else "]}\n")
    return count


def _int(data: Mapping[str, Any], key: str, where: str, issues: list[Issue]) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        issues.append(Issue(f"{where}/{key}", f"expected an integer, got {value!r}"))
        return 0
    return value


def _str(data: Mapping[str, Any], key: str, where: str, issues: list[Issue]) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        issues.append(Issue(f"{where}/{key}", f"expected a string, got {value!r}"))
        return ""
    return value


def read_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Read and check a snapshot file's structure; ``ValidationError`` lists every problem.

    A snapshot written by a runtime with another API major version, or in an unknown format
    version, raises ``MigrationError``.
    """
    from . import API_VERSION

    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except ValueError as error:
            raise ValidationError([Issue("", f"{path}: not valid JSON: {error}")]) from None
    if not isinstance(data, Mapping) or data.get("format") != SNAPSHOT_FORMAT:
        raise ValidationError([Issue("/format", f"{path}: not a {SNAPSHOT_FORMAT} file")])
    if data.get("format_version") != SNAPSHOT_FORMAT_VERSION:
        raise MigrationError(
            f"{path}: snapshot format version {data.get('format_version')!r} is not"
            f" {SNAPSHOT_FORMAT_VERSION}, the one this runtime reads"
        )
    api = str(data.get("api_version", ""))
    if api.split(".")[0] != API_VERSION.split(".")[0]:
        raise MigrationError(
            f"{path}: written by persist_runtime API {api}, this runtime is API {API_VERSION}"
            " (major versions differ)"
        )
    issues: list[Issue] = []
    mode = data.get("mode")
    if mode not in _MODES:
        issues.append(Issue("/mode", f"expected one of {list(_MODES)}, got {mode!r}"))
    types: list[SnapshotType] = []
    raw_types = data.get("types")
    if not isinstance(raw_types, list):
        issues.append(Issue("/types", "expected an array"))
        raw_types = []
    for i, item in enumerate(raw_types):
        where = f"/types/{i}"
        if not isinstance(item, Mapping):
            issues.append(Issue(where, "expected an object"))
            continue
        types.append(
            SnapshotType(
                entity=_str(item, "entity", where, issues),
                table=_str(item, "table", where, issues),
                schema_version=_int(item, "schema_version", where, issues),
                fingerprint=_str(item, "fingerprint", where, issues),
            )
        )
    records: list[SnapshotRecord] = []
    raw_records = data.get("records", [])
    if not isinstance(raw_records, list):
        issues.append(Issue("/records", "expected an array"))
        raw_records = []
    for i, item in enumerate(raw_records):
        where = f"/records/{i}"
        if not isinstance(item, Mapping):
            issues.append(Issue(where, "expected an object"))
            continue
        fields = item.get("fields")
        if not isinstance(fields, Mapping):
            issues.append(Issue(f"{where}/fields", "expected an object"))
            fields = {}
        if "id" not in item:
            issues.append(Issue(f"{where}/id", "required property is missing"))
        records.append(
            SnapshotRecord(
                entity=_str(item, "entity", where, issues),
                id=item.get("id"),
                version=_int(item, "version", where, issues),
                schema_version=_int(item, "schema_version", where, issues),
                fields=fields,
            )
        )
    if issues:
        raise ValidationError(issues)
    return Snapshot(
        mode=cast(SnapshotMode, mode),
        created_at=str(data.get("created_at", "")),
        api_version=api,
        types=tuple(types),
        records=tuple(records),
    )


@dataclass(frozen=True, slots=True)
class DecodedRecord:
    """A snapshot record turned into an entity of the current schema."""

    spec: EntitySpec
    id: Any
    version: int
    entity: Any


@dataclass(frozen=True, slots=True)
class DecodedSnapshot:
    """A snapshot's records decoded, and those left out because their entity was dropped."""

    records: list[DecodedRecord]
    dropped: dict[str, int]
    """Per entity name (as the snapshot spells it): records not decoded because the plan
    dropped the entity (0 for a type without records)."""
    notes: tuple[str, ...]
    """One line per dropped entity, for people."""


def _spec_of(
    name: str, specs: Mapping[str, EntitySpec], plan: object
) -> tuple[EntitySpec | None, str | None]:
    """Return the current spec of entity ``name`` (renames followed), or why it is gone."""
    spec = specs.get(name)
    if spec is not None:
        return spec, None
    current, dropped = resolve_entity(plan, name)
    if dropped is not None:
        return None, dropped
    return specs.get(current), None


def check_types(snapshot: Snapshot, specs: Mapping[str, EntitySpec], plan: object = None) -> None:
    """Refuse snapshot types the code does not know or that are newer than the code.

    With ``plan`` (a ``MigrationPlan``), a type under a name the entity had before a
    rename is checked as the renamed entity, and a type the plan dropped is accepted.
    """
    for t in snapshot.types:
        spec, dropped = _spec_of(t.entity, specs, plan)
        if dropped is not None:
            continue
        if spec is None:
            known = ", ".join(sorted(specs)) or "none"
            raise ValidationError(
                [Issue("/types", f"unknown entity {t.entity!r} (known: {known})")]
            )
        if t.schema_version > spec.schema_version:
            raise MigrationError(
                f"snapshot holds {t.entity} at schema version {t.schema_version}, newer than"
                f" this code's version {spec.schema_version}: upgrade the code first"
            )


def decode_snapshot(
    snapshot: Snapshot, specs: Mapping[str, EntitySpec], plan: RecordUpgrader | None
) -> DecodedSnapshot:
    """Upgrade (through ``plan``) and validate every record; raise once listing all problems.

    Records at an older schema version need ``plan``; without one ``MigrationError`` says so.
    A record stored under a name its entity had before a rename is decoded as the renamed
    entity; a record of an entity the plan dropped is left out and counted in ``dropped``.
    Fields that fail validation raise ``ValidationError`` with paths
    ``/records/<i>/fields/...``.
    """
    check_types(snapshot, specs, plan)
    issues: list[Issue] = []
    out: list[DecodedRecord] = []
    dropped: dict[str, int] = {}
    reasons: dict[str, str] = {}
    seen: dict[str, tuple[EntitySpec | None, str | None]] = {}
    for t in snapshot.types:
        spec, reason = seen[t.entity] = _spec_of(t.entity, specs, plan)
        if reason is not None:
            dropped.setdefault(t.entity, 0)
            reasons[t.entity] = reason
    for i, record in enumerate(snapshot.records):
        found = seen.get(record.entity)
        if found is None:
            found = seen[record.entity] = _spec_of(record.entity, specs, plan)
        spec, reason = found
        where = f"/records/{i}"
        if reason is not None:
            dropped[record.entity] = dropped.get(record.entity, 0) + 1
            reasons[record.entity] = reason
            continue
        if spec is None:
            issues.append(Issue(f"{where}/entity", f"unknown entity {record.entity!r}"))
            continue
        fields: Mapping[str, Any] = record.fields
        if record.schema_version > spec.schema_version:
            raise MigrationError(
                f"{where}: {record.entity} record at schema version {record.schema_version},"
                f" newer than this code's version {spec.schema_version}"
            )
        if record.schema_version < spec.schema_version:
            if plan is None:
                raise MigrationError(
                    f"{where}: {record.entity} record at schema version"
                    f" {record.schema_version}, code is at {spec.schema_version}:"
                    " pass plan=<MigrationPlan> to upgrade it"
                )
            fields = plan.upgrade_record(spec.name, dict(fields), record.schema_version)
        try:
            entity = spec.from_record(fields)
        except ValidationError as error:
            issues.extend(Issue(f"{where}/fields{x.path}", x.message) for x in error.issues)
            continue
        out.append(DecodedRecord(spec=spec, id=record.id, version=record.version, entity=entity))
    if issues:
        raise ValidationError(issues)
    notes = tuple(
        f"{name}: {count} record(s) not restored: {reasons[name]}"
        for name, count in dropped.items()
    )
    return DecodedSnapshot(out, dropped, notes)


def decode_records(
    snapshot: Snapshot, specs: Mapping[str, EntitySpec], plan: RecordUpgrader | None
) -> list[DecodedRecord]:
    """Return ``decode_snapshot(...).records`` (records of dropped entities left out)."""
    return decode_snapshot(snapshot, specs, plan).records
