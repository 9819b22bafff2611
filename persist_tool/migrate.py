"""``generate migration`` and ``lock``: sources and lock file -> migration modules, lock file.

Everything here returns values; the command line only prints them and writes files.

* ``plan_migration(old, new, ...)`` diffs two schemas, attaches ``--default`` backfills,
  refuses what would fail on stored data (a required field without a value, a changed
  entity whose ``schema_version`` was not bumped) and renders one migration module per
  changed entity, with the SQL of every dialect.
* ``schema_before(lock, new)`` is the ``--from-lock`` side: the version of every entity the
  lock recorded before the source's current one.
* ``record_lock(lock, schema)`` records the current schemas in the lock (``persist-tool lock``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persist_tool import ir, lock, sql
from persist_tool.diff import (
    AddEntity,
    Change,
    DropEntity,
    RenameEntity,
    apply_defaults,
    backfill_key,
    diff_schemas,
    missing_backfills,
    parse_default_option,
)
from persist_tool.emit.entity import GeneratedFile
from persist_tool.emit.migration import MigrationModule, render_migration
from persist_tool.emit.model import plan_entity
from persist_tool.output import GENERATED_MARK

__all__ = [
    "BuiltMigration",
    "LockResult",
    "MigrationResult",
    "UpdatedLock",
    "build_migration",
    "existing_modules",
    "parse_renames",
    "plan_migration",
    "record_lock",
    "schema_before",
    "update_lock",
]

_RENAME = re.compile(r"^\s*(?:([^.=\s]+)\.)?([^.=\s]+)\s*=\s*([^.=\s]+)\s*$")


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """What ``generate migration`` produced: modules, the changes, and notes for people."""

    modules: tuple[MigrationModule, ...]
    changes: tuple[Change, ...]
    notes: tuple[str, ...]

    @property
    def files(self) -> tuple[GeneratedFile, ...]:
        """Return the module files, in entity order."""
        return tuple(m.file for m in self.modules)


def parse_renames(
    options: Sequence[str],
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Split ``--rename`` options into field renames per entity and entity renames.

    ``Entity.old=new`` renames a field (or column) of ``Entity`` (its name or table);
    ``Old=New`` renames an entity.
    """
    fields: dict[str, dict[str, str]] = {}
    entities: dict[str, str] = {}
    for option in options:
        m = _RENAME.match(option)
        if m is None:
            raise ir.SourceError(
                None,
                f"--rename {option!r}: expected ENTITY.OLD=NEW (a field) or OLD=NEW (an entity)",
                "for example --rename Note.body=text",
            )
        entity, old, new = m.groups()
        if entity is None:
            entities[old] = new
        else:
            fields.setdefault(entity, {})[old] = new
    return fields, entities


def _defaults(options: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for option in options:
        entity, field, value = parse_default_option(option)
        values[f"{entity}.{field}"] = value
    return values


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True, slots=True)
class _Step:
    before: ir.Entity | None
    after: ir.Entity | None
    changes: tuple[Change, ...]


def _steps(old: ir.Schema, new: ir.Schema, changes: Sequence[Change]) -> list[_Step]:
    """Group changes per entity (in diff order) with the entity's two versions."""
    groups: dict[str, list[Change]] = {}
    old_names: dict[str, str] = {}
    for change in changes:
        if isinstance(change, RenameEntity):
            old_names[change.new_name] = change.old_name
        groups.setdefault(change.entity, []).append(change)
    out: list[_Step] = []
    for name, group in groups.items():
        if any(isinstance(c, AddEntity) for c in group):
            out.append(_Step(None, new.get_entity(name), tuple(group)))
        elif any(isinstance(c, DropEntity) for c in group):
            out.append(_Step(old.get_entity(name), None, tuple(group)))
        else:
            before = old.get_entity(old_names.get(name, name))
            out.append(_Step(before, new.get_entity(name), tuple(group)))
    return out


def _check_bumped(step: _Step) -> None:
    before, after = step.before, step.after
    if before is None or after is None or after.schema_version > before.schema_version:
        return
    listed = "; ".join(c.describe() for c in step.changes[:3])
    more = f" (and {len(step.changes) - 3} more)" if len(step.changes) > 3 else ""
    raise ir.SourceError(
        after.location,
        f"{after.name} changed but its schema_version is still {after.schema_version}:"
        f" {listed}{more}",
        f"bump schema_version of {after.name} to {before.schema_version + 1}",
    )


def _check_backfills(changes: Sequence[Change]) -> None:
    missing = missing_backfills(changes)
    if not missing:
        return
    first = missing[0]
    keys = ", ".join(backfill_key(c) for c in missing)
    raise ir.SourceError(
        None,
        f"{keys}: stored rows and records need a value, and the source gives no default"
        f" ({first.describe()})",
        f"pass --default {backfill_key(first)}=VALUE (one per field), give the field a"
        " default in the source, or make it nullable",
    )


# --------------------------------------------------------------------------- planning


def _new_entity_note(entity: ir.Entity) -> str:
    """Say why a new entity gets no migration module and what creates its table.

    Steps start at schema version 1 or later: there is nothing to migrate from, and the
    store creates a missing table (with its indexes) at the spec's version when the code
    first calls ``ensure``.
    """
    spec = f"{plan_entity(entity).const}_SPEC"
    return (
        f"{entity.name} is a new entity: no migration module is written for it;"
        f" store.ensure({spec}) creates its table {entity.table} at schema version"
        f" {entity.schema_version}"
    )


def plan_migration(
    old: ir.Schema,
    new: ir.Schema,
    *,
    renames: Sequence[str] = (),
    defaults: Sequence[str] = (),
    dialects: Sequence[str] = sql.DIALECTS,
    source: str,
    source_hash: str,
) -> MigrationResult:
    """Diff ``old`` against ``new`` and render the migration module of every changed entity.

    ``renames``/``defaults`` are the ``--rename``/``--default`` option texts; ``source`` and
    ``source_hash`` name the new sources in the modules' header. Raises ``SourceError`` for
    a required field without a value, a change without a ``schema_version`` bump, and bad
    options.
    """
    field_renames, entity_renames = parse_renames(renames)
    changes = diff_schemas(old, new, renames=field_renames, entity_renames=entity_renames)
    changes = apply_defaults(changes, _defaults(defaults), schema=new)
    _check_backfills(changes)
    modules: list[MigrationModule] = []
    notes: list[str] = []
    for step in _steps(old, new, changes):
        if step.before is None:
            assert step.after is not None
            notes.append(_new_entity_note(step.after))
            continue
        _check_bumped(step)
        statements = {
            d: sql.step_statements(step.before, step.after, step.changes, d) for d in dialects
        }
        module = render_migration(
            step.before,
            step.after,
            step.changes,
            sql=statements,
            source=source,
            source_hash=source_hash,
        )
        modules.append(module)
        notes += [f"{module.file.path}: stub: {s}" for s in module.stubs]
    notes += [f"{c.describe()}\n  hint: {c.hint}" for c in changes if c.hint]
    return MigrationResult(tuple(modules), tuple(changes), tuple(notes))


def schema_before(recorded: lock.Lock, new: ir.Schema) -> ir.Schema:
    """Return the schema ``new`` migrates from: per entity the lock's version before it.

    An entity recorded at its current version (same fingerprint) is compared with the
    version recorded before that, so regenerating after ``persist-tool lock`` gives the
    same migration; an entity changed without a bump, or older than the lock, is an error.
    Entities only the lock has are kept (they are dropped, or renamed in ``new``).
    """
    for entity in new.entities:
        history = recorded.entities.get(entity.name, ())
        if not history or entity.schema_version > history[-1].schema_version:
            continue
        same = next((v for v in history if v.schema_version == entity.schema_version), None)
        if same is None:
            raise ir.SourceError(
                entity.location,
                f"{entity.name} is at schema version {entity.schema_version} but the lock"
                f" records up to {history[-1].schema_version}",
                "check out the newer source, or regenerate the lock",
            )
        # The recorded IR is fingerprinted again rather than its recorded fingerprint read:
        # a lock written before a change in how fingerprints are made must not turn an
        # unchanged entity into a conflict (lock.drift compares the same way).
        if same.entity.fingerprint() != entity.fingerprint():
            raise lock.LockConflict([(entity, same)])
    return recorded.previous_schema(new)


def existing_modules(
    out_dir: Path, files: Sequence[GeneratedFile]
) -> tuple[list[GeneratedFile], list[str]]:
    """Split ``files`` into those to write and those a person took over (kept as they are).

    A module whose first line is no longer the generated header was edited by hand (for
    example to write a stubbed conversion); regenerating never overwrites it. The other
    generated modules already in ``out_dir`` are returned unchanged, so a comparison sees
    them as current rather than as stale output.
    """
    write: list[GeneratedFile] = []
    kept: list[str] = []
    ours = {f.path for f in files}
    for f in files:
        target = out_dir / f.path
        try:
            text = target.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            write.append(f)
            continue
        if text.startswith(GENERATED_MARK):
            write.append(f)
        else:
            kept.append(f.path)
    if out_dir.is_dir():
        for path in sorted(out_dir.glob("*.py")):
            if path.name in ours:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            if text.startswith(GENERATED_MARK):
                write.append(GeneratedFile(path.name, text))
    return write, kept


# --------------------------------------------------------------------------- lock


@dataclass(frozen=True, slots=True)
class LockResult:
    """The lock after recording, its text, and which entity versions are new in it."""

    lock: lock.Lock
    text: str
    recorded: tuple[str, ...]


def record_lock(current: lock.Lock, schema: ir.Schema) -> LockResult:
    """Record every entity of ``schema`` in ``current`` (``LockConflict`` when changed
    without a version bump); return the new lock and what was added."""
    updated = lock.record(current, schema)
    before: Mapping[str, tuple[lock.LockedVersion, ...]] = current.entities
    added = [
        f"{e.name} v{e.schema_version}"
        for e in schema.entities
        if not any(v.schema_version == e.schema_version for v in before.get(e.name, ()))
    ]
    return LockResult(updated, lock.dumps(updated), tuple(added))


# --------------------------------------------------------------------------- commands


_DEFAULT_LOCK = "persist.lock.json"
_DEFAULT_MIGRATIONS = "migrations"


@dataclass(frozen=True, slots=True)
class BuiltMigration:
    """``generate migration``'s result with where it goes and what to write or compare."""

    result: MigrationResult
    out_dir: Path
    files: tuple[GeneratedFile, ...]
    """The modules to write, plus the other generated modules already there, unchanged."""
    kept: tuple[str, ...]
    """Modules edited by hand, left as they are."""


def _lock_path(lock_file: Path | None, config: Any) -> Path:
    return lock_file or config.path_value("lock") or Path(_DEFAULT_LOCK)


def build_migration(
    *,
    to: Sequence[Path],
    from_sources: Sequence[Path] = (),
    from_lock: bool = False,
    lock_file: Path | None = None,
    out: Path | None = None,
    renames: Sequence[str] = (),
    defaults: Sequence[str] = (),
    dialects: str | Sequence[str] | None = None,
    fmt: str = "auto",
    read_dialect: str | None = None,
) -> BuiltMigration:
    """Read the sources (and the lock) and plan the migration; options fall back to
    ``[tool.persist-tool]`` (``sources``, ``lock``, ``migrations-dir``, ``dialects``)."""
    from persist_tool.config import load_config
    from persist_tool.generate import parse_dialects
    from persist_tool.sources import display_path, load_schema

    config = load_config()
    fmt = fmt if fmt != "auto" else config.get("format", "auto")
    read_dialect = read_dialect or config.get("read-dialect")
    if from_sources and from_lock:
        raise ir.SourceError(None, "give --from SOURCE or --from-lock, not both")
    to_paths = list(to) or config.paths("sources")
    if not to_paths:
        raise ir.SourceError(None, "no current source given", "pass --to SOURCE")
    new = load_schema(to_paths, fmt=fmt, read_dialect=read_dialect)
    if from_sources:
        old = load_schema(list(from_sources), fmt=fmt, read_dialect=read_dialect).schema
    else:
        path = _lock_path(lock_file, config)
        recorded = lock.read_lock(path, missing_ok=False, display=display_path(path))
        old = schema_before(recorded, new.schema)
    result = plan_migration(
        old,
        new.schema,
        renames=renames,
        defaults=defaults,
        dialects=parse_dialects(dialects or config.get("dialects")),
        source=new.label,
        source_hash=new.digest,
    )
    out_dir = out or config.path_value("migrations-dir") or Path(_DEFAULT_MIGRATIONS)
    files, kept = existing_modules(out_dir, result.files)
    return BuiltMigration(result, out_dir, tuple(files), tuple(kept))


@dataclass(frozen=True, slots=True)
class UpdatedLock:
    """``persist-tool lock``'s result: the new lock text and whether it differs on disk."""

    path: Path
    label: str
    result: LockResult
    changed: bool

    @property
    def recorded(self) -> tuple[str, ...]:
        """Return the entity versions new in the lock (``Todo v2``)."""
        return self.result.recorded or ("changed entries",)

    def write(self) -> bool:
        """Write the lock atomically; return whether its bytes changed."""
        return lock.write_lock(self.path, self.result.lock)


def update_lock(
    *,
    sources: Sequence[Path],
    lock_file: Path | None = None,
    fmt: str = "auto",
    read_dialect: str | None = None,
) -> UpdatedLock:
    """Read the sources and the lock; return the lock recording the current schemas."""
    from persist_tool.config import load_config
    from persist_tool.sources import display_path, load_schema

    config = load_config()
    paths = list(sources) or config.paths("sources")
    loaded = load_schema(
        paths,
        fmt=fmt if fmt != "auto" else config.get("format", "auto"),
        read_dialect=read_dialect or config.get("read-dialect"),
    )
    path = _lock_path(lock_file, config)
    label = display_path(path)
    current = lock.read_lock(path, display=label)
    result = record_lock(current, loaded.schema)
    try:
        on_disk: str | None = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        on_disk = None
    return UpdatedLock(path, label, result, on_disk != result.text)
