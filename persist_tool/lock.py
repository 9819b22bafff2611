"""The lock file, ``persist.lock.json``: every entity's IR at every schema version it has had.

``persist-tool lock`` records the current schemas in it; ``generate migration --from-lock``
diffs the recorded version against the source, and ``compat-check`` reads it to know what
stored data may look like. A recorded version is history: recording a schema whose entity
changed without a ``schema_version`` bump is refused (``LockConflict``), never overwritten.

The file is canonical JSON (sorted keys, two-space indent, trailing newline), so recording
the same schemas twice gives identical bytes and reviews show only real changes::

    {"entities": {"Todo": {"versions": [
        {"entity": {...IR...}, "fingerprint": "9f2c…", "schema_version": 1}, ...]}},
     "format": "persist-lock", "format_version": 1}

Source locations are not recorded (moving a class must not touch the lock).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persist_tool import ir

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Drift",
    "Lock",
    "LockConflict",
    "LockedVersion",
    "drift",
    "dumps",
    "loads",
    "read_lock",
    "record",
    "versions",
    "write_lock",
]

FORMAT = "persist-lock"
FORMAT_VERSION = 1
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class LockedVersion:
    """One recorded version of an entity: its IR and the fingerprint recorded with it."""

    entity: ir.Entity
    fingerprint: str

    @property
    def schema_version(self) -> int:
        """Return the recorded schema version."""
        return self.entity.schema_version


@dataclass(frozen=True, slots=True)
class Lock:
    """The recorded history: entity name -> its versions, oldest first."""

    entities: Mapping[str, tuple[LockedVersion, ...]] = dataclasses.field(default_factory=dict)

    def _history(self, entity: str) -> tuple[LockedVersion, ...]:
        if entity in self.entities:
            return self.entities[entity]
        for history in self.entities.values():
            if history and history[-1].entity.table == entity:
                return history
        raise KeyError(entity)

    def versions(self, entity: str) -> list[ir.Entity]:
        """Return every recorded version of ``entity`` (name or table), oldest first."""
        return [v.entity for v in self._history(entity)]

    def get(self, entity: str, schema_version: int) -> ir.Entity:
        """Return ``entity`` as recorded at ``schema_version`` (``KeyError`` when absent)."""
        for v in self._history(entity):
            if v.schema_version == schema_version:
                return v.entity
        raise KeyError(f"{entity} v{schema_version}")

    def latest(self, entity: str) -> ir.Entity:
        """Return the newest recorded version of ``entity`` (``KeyError`` when unknown)."""
        return self._history(entity)[-1].entity

    def previous(self, entity: str, schema_version: int) -> ir.Entity | None:
        """Return the newest recorded version older than ``schema_version``, if any."""
        older = [v.entity for v in self._history(entity) if v.schema_version < schema_version]
        return older[-1] if older else None

    def previous_schema(self, schema: ir.Schema, *, source: str = "persist.lock.json") -> ir.Schema:
        """Return what ``generate migration --from-lock`` diffs ``schema`` against.

        For each entity of ``schema``: the newest recorded version older than its current
        one; else the recorded current version (unchanged, nothing to migrate); else nothing
        (a new entity). Entities recorded but gone from ``schema`` come at their newest
        version, so the diff reports them dropped. Source order first, then the lock's.
        """
        out: list[ir.Entity] = []
        for entity in schema.entities:
            if entity.name not in self.entities:
                continue
            older = self.previous(entity.name, entity.schema_version)
            if older is None:
                recorded = _recorded(self.entities[entity.name], entity.schema_version)
                older = recorded.entity if recorded is not None else None
            if older is not None:
                out.append(older)
        names = {e.name for e in schema.entities}
        out += [h[-1].entity for n, h in self.entities.items() if n not in names and h]
        return ir.Schema(tuple(out), source)

    def schema(self, *, source: str = "persist.lock.json") -> ir.Schema:
        """Return the newest recorded version of every entity, as one schema."""
        return ir.Schema(tuple(h[-1].entity for h in self.entities.values() if h), source)

    def to_json(self) -> dict[str, ir.JsonValue]:
        """Return the file's JSON form."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "entities": {
                name: {
                    "versions": [
                        {
                            "schema_version": v.schema_version,
                            "fingerprint": v.fingerprint,
                            "entity": v.entity.to_json(),
                        }
                        for v in history
                    ]
                }
                for name, history in sorted(self.entities.items())
            },
        }


def versions(lock: Lock, entity: str) -> list[ir.Entity]:
    """Return every recorded version of ``entity`` in ``lock``, oldest first."""
    return lock.versions(entity)


# --------------------------------------------------------------------------- recording


class LockConflict(ir.SourceError):
    """An entity changed but kept a schema version the lock already holds differently."""

    def __init__(self, conflicts: list[tuple[ir.Entity, LockedVersion]]) -> None:
        first = conflicts[0][0]
        names = ", ".join(f"{e.name} v{e.schema_version}" for e, _ in conflicts)
        super().__init__(
            first.location,
            f"{names}: changed since the lock recorded this schema version"
            f" (fingerprint {conflicts[0][1].fingerprint[:12]} ->"
            f" {first.fingerprint()[:12]})",
            f"bump schema_version of {first.name} to {_next_version(first, conflicts[0][1])}"
            " and generate a migration; a recorded version is never rewritten",
        )
        self.conflicts = conflicts


def _next_version(entity: ir.Entity, recorded: LockedVersion) -> int:
    return max(entity.schema_version, recorded.schema_version) + 1


def _strip_locations(entity: ir.Entity) -> ir.Entity:
    """Return ``entity`` without source locations (they are not history)."""
    replace = dataclasses.replace
    return replace(
        entity,
        location=None,
        fields=tuple(replace(f, location=None) for f in entity.fields),
        commands=tuple(
            replace(
                c,
                location=None,
                params=tuple(replace(p, location=None) for p in c.params),
            )
            for c in entity.commands
        ),
    )


def _recorded(history: Iterable[LockedVersion], version: int) -> LockedVersion | None:
    for v in history:
        if v.schema_version == version:
            return v
    return None


def record(lock: Lock, schema: ir.Schema, *, force: bool = False) -> Lock:
    """Return ``lock`` with every entity of ``schema`` recorded at its current version.

    A version recorded already with the same fingerprint is kept as it is (its first
    recording stays, docs included). A recorded version whose fingerprint differs raises
    ``LockConflict`` naming every such entity, unless ``force`` (then it is replaced).
    Entities the schema no longer has keep their history.
    """
    entities = dict(lock.entities)
    conflicts: list[tuple[ir.Entity, LockedVersion]] = []
    for entity in schema.entities:
        history = entities.get(entity.name, ())
        fingerprint = entity.fingerprint()
        existing = _recorded(history, entity.schema_version)
        if existing is not None and existing.entity.fingerprint() == fingerprint:
            continue
        if existing is not None and not force:
            conflicts.append((entity, existing))
            continue
        entry = LockedVersion(_strip_locations(entity), fingerprint)
        kept = [v for v in history if v.schema_version != entity.schema_version]
        entities[entity.name] = tuple(sorted([*kept, entry], key=lambda v: v.schema_version))
    if conflicts:
        raise LockConflict(conflicts)
    return Lock(dict(sorted(entities.items())))


# --------------------------------------------------------------------------- drift


@dataclass(frozen=True, slots=True)
class Drift:
    """One way the source and the lock disagree (for compat-check and ``lock --check``).

    ``kind`` is one of ``unrecorded_entity`` (the lock has never seen it),
    ``unrecorded_version`` (a new schema version not recorded yet), ``changed_without_bump``
    (recorded at this version with another fingerprint), ``behind_lock`` (the source's
    version is older than the newest recorded one) or ``missing_entity`` (recorded, but the
    source no longer has it).
    """

    kind: str
    entity: str
    schema_version: int
    message: str
    location: ir.Location | None = None


def _drift_for(entity: ir.Entity, history: tuple[LockedVersion, ...]) -> Drift | None:
    name, version = entity.name, entity.schema_version
    if not history:
        return Drift(
            "unrecorded_entity",
            name,
            version,
            f"{name} is not in the lock",
            entity.location,
        )
    existing = _recorded(history, version)
    if existing is None:
        newest = history[-1].schema_version
        if version < newest:
            return Drift(
                "behind_lock",
                name,
                version,
                f"{name} is at schema version {version} but the lock records {newest}",
                entity.location,
            )
        return Drift(
            "unrecorded_version",
            name,
            version,
            f"{name} v{version} is not recorded (the lock has up to v{newest})",
            entity.location,
        )
    if existing.entity.fingerprint() != entity.fingerprint():
        return Drift(
            "changed_without_bump",
            name,
            version,
            f"{name} changed but its schema_version is still {version}",
            entity.location,
        )
    return None


def drift(lock: Lock, schema: ir.Schema) -> list[Drift]:
    """Return how ``schema`` differs from what ``lock`` records, in schema then lock order."""
    out: list[Drift] = []
    for entity in schema.entities:
        found = _drift_for(entity, lock.entities.get(entity.name, ()))
        if found is not None:
            out.append(found)
    names = {e.name for e in schema.entities}
    for name, history in lock.entities.items():
        if name not in names and history:
            version = history[-1].schema_version
            out.append(
                Drift(
                    "missing_entity",
                    name,
                    version,
                    f"{name} is in the lock but not the source",
                )
            )
    return out


# --------------------------------------------------------------------------- file I/O


def dumps(lock: Lock) -> str:
    """Return the lock file's canonical text (sorted keys, indented, trailing newline)."""
    return json.dumps(lock.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return 0 if index < 0 else text.count("\n", 0, index) + 1


class _Reader:
    """Check the decoded lock document, raising ``SourceError`` at the offending spot."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path

    def fail(self, pointer: str, message: str, needle: str | None = None) -> ir.SourceError:
        line = _line_of(self.text, needle) if needle else 1
        return ir.SourceError(
            ir.Location(self.path, line, 1 if line else 0, pointer),
            f"corrupt lock file: {message} (at {pointer or '/'})",
            "regenerate it with `persist-tool lock` from the sources at each recorded version,"
            " or restore it from version control",
        )

    def expect(self, value: Any, kind: type, pointer: str, what: str) -> Any:
        if not isinstance(value, kind):
            raise self.fail(pointer, f"{what} must be a JSON {kind.__name__}")
        return value

    def document(self, data: Any) -> Lock:
        data = self.expect(data, dict, "", "the document")
        if data.get("format") != FORMAT:
            raise self.fail("/format", f'"format" must be "{FORMAT}"', '"format"')
        if data.get("format_version") != FORMAT_VERSION:
            raise self.fail(
                "/format_version",
                f"unsupported format_version {data.get('format_version')!r}"
                f" (this persist-tool reads {FORMAT_VERSION})",
                '"format_version"',
            )
        entities = self.expect(data.get("entities", {}), dict, "/entities", '"entities"')
        return Lock({name: self.history(name, item) for name, item in sorted(entities.items())})

    def history(self, name: str, item: Any) -> tuple[LockedVersion, ...]:
        pointer = f"/entities/{name}"
        item = self.expect(item, dict, pointer, f"entity {name}")
        raw = self.expect(item.get("versions"), list, pointer + "/versions", "versions")
        out: list[LockedVersion] = []
        for i, entry in enumerate(raw):
            out.append(self.version(name, f"{pointer}/versions/{i}", entry))
        numbers = [v.schema_version for v in out]
        if numbers != sorted(set(numbers)):
            raise self.fail(
                pointer + "/versions",
                f"{name}: versions must be unique and ascending, got {numbers}",
                f'"{name}"',
            )
        return tuple(out)

    def version(self, name: str, pointer: str, entry: Any) -> LockedVersion:
        entry = self.expect(entry, dict, pointer, "a version entry")
        needle = f'"{name}"'
        fingerprint = entry.get("fingerprint")
        if not isinstance(fingerprint, str) or not _HEX64.match(fingerprint):
            raise self.fail(pointer + "/fingerprint", "fingerprint must be 64 hex digits", needle)
        try:
            entity = ir.Entity.from_json(self.expect(entry.get("entity"), dict, pointer, "IR"))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise self.fail(pointer + "/entity", f"invalid entity IR ({error!r})", needle) from None
        if entity.name != name:
            raise self.fail(pointer, f"entry of {name} holds entity {entity.name}", needle)
        if entry.get("schema_version") != entity.schema_version:
            raise self.fail(
                pointer + "/schema_version",
                f"schema_version {entry.get('schema_version')!r} does not match the IR's"
                f" {entity.schema_version}",
                needle,
            )
        return LockedVersion(entity, fingerprint)


def loads(text: str, *, path: str = "persist.lock.json") -> Lock:
    """Parse lock file text; ``path`` is used in error locations."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ir.SourceError(
            ir.Location(path, error.lineno, error.colno),
            f"corrupt lock file: {error.msg}",
            "restore it from version control or regenerate it with `persist-tool lock`",
        ) from None
    except ValueError as error:  # valid JSON Python cannot read: an over-long integer
        raise ir.SourceError(
            ir.Location(path, 1, 1),
            f"corrupt lock file: {error}",
            "restore it from version control or regenerate it with `persist-tool lock`",
        ) from None
    return _Reader(text, path).document(data)


def read_lock(path: Path | str, *, missing_ok: bool = True, display: str | None = None) -> Lock:
    """Read the lock file at ``path``; an absent file is an empty lock when ``missing_ok``."""
    shown = display if display is not None else str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return Lock()
        raise ir.SourceError(
            ir.Location(shown),
            "lock file not found",
            "create it with `persist-tool lock`",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ir.SourceError(ir.Location(shown), f"cannot read lock file: {error}") from None
    return loads(text, path=shown)


def write_lock(path: Path | str, lock: Lock) -> bool:
    """Write ``lock`` atomically (temp file, fsync, rename); return whether bytes changed."""
    target = Path(path)
    text = dumps(lock)
    try:
        if target.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
