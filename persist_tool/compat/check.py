"""``compat-check``: is every schema change versioned, migrated and safe for stored data?

``run_check(options)`` reads the current sources, the recorded history (the lock file, or
the repository at ``--against REF``), the migrations directory, and any snapshot and journal
files, and returns a ``CheckReport``: the findings of the rule catalog (``persist_tool.rules``)
that the baseline does not accept, the accepted ones, and what was checked.

The checks, in order:

1. versioning and the lock: schema changed without a version bump (PT001), version lower
   than recorded (PT005), lock file not recording the current schema (PT004);
2. migrations: bumped version without a step (PT002), gaps in a chain (PT003), steps still
   carrying a placeholder (PT036);
3. entity compatibility in the chosen mode (``persist_tool.compat.entity``) against the
   previous recorded version, or every recorded version with ``transitive``; fields a
   migration step fills in count as backfilled;
4. snapshots and journals (``persist_runtime.compat``): every record read by the code
   generated from the current sources, through the migration plan.

User mistakes (a missing source, an unknown ref, a broken migration module) raise
``ir.SourceError``; findings never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from persist_runtime import MigrationPlan

from persist_tool import ir, lock
from persist_tool.compat import migration_modules as mm
from persist_tool.compat.baseline import (
    BaselineEntry,
    apply_baseline,
    parse_baseline,
    parse_ignores,
)
from persist_tool.compat.entity import check_entity, check_history
from persist_tool.compat.history import History, history_from
from persist_tool.config import Config
from persist_tool.emit.report_common import entity_of
from persist_tool.readers import Diagnostic
from persist_tool.rules import Finding, FindingLocation, Mode, Severity, get_rule
from persist_tool.sources import display_path, load_schema

__all__ = ["CheckOptions", "CheckReport", "options_from_config", "run_check"]

DEFAULT_LOCK = "persist.lock.json"
DEFAULT_MIGRATIONS = "migrations"


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Everything one compat-check run reads (command line merged with the config)."""

    sources: tuple[Path, ...]
    lock: Path
    lock_given: bool = False
    """The lock path was named (option or config): a missing file is then an error."""
    against: str | None = None
    migrations: Path | None = None
    snapshots: tuple[Path, ...] = ()
    journals: tuple[Path, ...] = ()
    mode: Mode = Mode.BACKWARD
    transitive: bool = False
    fail_on: Severity = Severity.ERROR
    baseline: tuple[BaselineEntry, ...] = ()
    ignores: frozenset[str] = frozenset()
    source_format: str = "auto"
    read_dialect: str | None = None
    package_root: Path | None = None


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome: reported findings, baseline-accepted ones, and what was checked."""

    findings: tuple[Finding, ...]
    accepted: tuple[Finding, ...]
    mode: Mode
    transitive: bool
    fail_on: Severity
    entities: tuple[str, ...]
    inputs: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def failed(self) -> bool:
        """Tell whether any reported finding is at or above ``fail_on``."""
        return any(f.severity.at_least(self.fail_on) for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Return how many findings each severity has (and how many were accepted)."""
        out = {s.value: 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
        for f in self.findings:
            out[f.severity.value] += 1
        out["accepted"] = len(self.accepted)
        return out


def _choice(value: str, allowed: type[Mode] | type[Severity], option: str) -> Any:
    try:
        return allowed(value.lower())
    except ValueError:
        names = ", ".join(m.value for m in allowed)
        raise ir.SourceError(None, f"{option} {value!r} is not one of: {names}") from None


def options_from_config(
    config: Config,
    *,
    sources: Sequence[Path] = (),
    lock_file: Path | None = None,
    against: str | None = None,
    migrations: Path | None = None,
    snapshots: Sequence[Path] = (),
    journals: Sequence[Path] = (),
    mode: str | None = None,
    transitive: bool = False,
    fail_on: str | None = None,
) -> CheckOptions:
    """Merge command-line values with ``[tool.persist-tool]`` (the command line wins)."""
    base = config.path.parent if config.path is not None else Path.cwd()
    paths = tuple(sources) or tuple(config.paths("sources"))
    if not paths:
        raise ir.SourceError(
            None,
            "no source given",
            "name SOURCE files, or set sources in [tool.persist-tool] of pyproject.toml",
        )
    config_lock = config.path_value("lock")
    migrations_dir = migrations or config.path_value("migrations-dir")
    return CheckOptions(
        sources=paths,
        lock=lock_file or config_lock or base / DEFAULT_LOCK,
        lock_given=lock_file is not None or config_lock is not None,
        against=against,
        migrations=migrations_dir or base / DEFAULT_MIGRATIONS,
        snapshots=tuple(snapshots),
        journals=tuple(journals),
        mode=_choice(mode or config.get("mode", "backward"), Mode, "--mode"),
        transitive=transitive,
        fail_on=_choice(fail_on or config.get("fail-on", "error"), Severity, "--fail-on"),
        baseline=tuple(parse_baseline(config.get("baseline", []), config.path)),
        ignores=parse_ignores(config.get("ignores", []), config.path),
        source_format=str(config.get("format", "auto")),
        read_dialect=config.get("read-dialect"),
        package_root=config.path_value("package-root"),
    )


# --------------------------------------------------------------------------- the run


def run_check(options: CheckOptions) -> CheckReport:
    """Run every check of ``options``; return the report (``SourceError`` on bad input)."""
    loaded = load_schema(
        list(options.sources),
        fmt=options.source_format,
        read_dialect=options.read_dialect,
        package_root=options.package_root,
    )
    schema = loaded.schema
    warnings = list(loaded.warnings)
    current = {e.name: e for e in schema.entities}

    lock_exists = options.lock.is_file()
    if options.lock_given and not lock_exists and options.against is None:
        raise ir.SourceError(
            ir.Location(display_path(options.lock)),
            "lock file not found",
            "create it with `persist-tool lock`",
        )
    recorded = lock.read_lock(options.lock, display=display_path(options.lock))
    history, more = history_from(
        recorded=recorded,
        lock_label=display_path(options.lock),
        against=options.against,
        sources=options.sources,
        lock_path=options.lock,
        fmt=options.source_format,
        read_dialect=options.read_dialect,
        package_root=options.package_root,
        start=options.sources[0].parent,
    )
    warnings += more

    steps = mm.load_migrations(options.migrations) if options.migrations else []
    versions = {name: e.schema_version for name, e in current.items()}
    mm.check_chain_shape(steps, versions)

    findings: list[Finding] = []
    if lock_exists or options.against is None:
        findings += _lock_findings(recorded, schema)
    starts: dict[str, int] = {}
    for entity in schema.entities:
        past = history.of(entity)
        older = [e for e in past if e.schema_version < entity.schema_version]
        if older:
            first = older[0] if options.transitive else older[-1]
            starts[entity.name] = first.schema_version
        findings += _entity_findings(entity, past, options, steps)
    findings += _removed_entities(history, schema, options.mode)
    findings += mm.chain_findings(steps, current, starts)
    findings += mm.stub_findings(s for s in steps if s.step.entity in current)
    if options.snapshots or options.journals:
        findings += _data_findings(schema, steps, versions, options)

    findings = [f for f in _unique(findings) if f.rule.id not in options.ignores]
    reported, accepted, unused = apply_baseline(findings, options.baseline)
    reported += [f for f in unused if f.rule.id not in options.ignores]
    return CheckReport(
        findings=tuple(sorted(reported, key=_order)),
        accepted=tuple(sorted(accepted, key=_order)),
        mode=options.mode,
        transitive=options.transitive,
        fail_on=options.fail_on,
        entities=tuple(current),
        inputs=_inputs(options, lock_exists),
        warnings=tuple(warnings),
    )


def _inputs(options: CheckOptions, lock_exists: bool) -> dict[str, Any]:
    return {
        "sources": [display_path(p) for p in options.sources],
        "lock": display_path(options.lock) if lock_exists else None,
        "against": options.against,
        "migrations": display_path(options.migrations) if options.migrations else None,
        "snapshots": [display_path(p) for p in options.snapshots],
        "journals": [display_path(p) for p in options.journals],
    }


def _entity_location(entity: ir.Entity) -> FindingLocation:
    loc = entity.location
    return FindingLocation(
        file=loc.file if loc else None,
        line=loc.line if loc else 0,
        column=loc.column if loc else 0,
        subject=entity.name,
    )


def _lock_findings(recorded: lock.Lock, schema: ir.Schema) -> list[Finding]:
    """PT004 for entities or versions the lock does not record (the rest is PT001/PT005)."""
    rule = get_rule("PT004")
    by_name = {e.name: e for e in schema.entities}
    return [
        rule.finding(_entity_location(by_name[d.entity]), entity=d.entity, version=d.schema_version)
        for d in lock.drift(recorded, schema)
        if d.kind in ("unrecorded_entity", "unrecorded_version") and d.entity in by_name
    ]


def _entity_findings(
    entity: ir.Entity,
    past: Sequence[ir.Entity],
    options: CheckOptions,
    steps: Sequence[mm.LoadedStep],
) -> list[Finding]:
    """Compare ``entity`` with its recorded versions (see the module docstring, step 1, 3)."""
    if not past:
        return []
    out: list[Finding] = []
    newest = past[-1]
    if entity.schema_version < newest.schema_version:
        out += [f for f in check_entity(newest, entity, mode=options.mode) if f.rule.id == "PT005"]
        return out
    same = next((e for e in past if e.schema_version == entity.schema_version), None)
    if same is not None and same.fingerprint() != entity.fingerprint():
        out += check_entity(same, entity, mode=options.mode)
    older = [e for e in past if e.schema_version < entity.schema_version]
    if older:
        filled = mm.backfilled(steps, entity.name, older[-1].schema_version)
        out += check_history(
            older,
            entity,
            mode=options.mode,
            transitive=options.transitive,
            backfilled=filled,
        )
    return out


def _removed_entities(history: History, schema: ir.Schema, mode: Mode) -> list[Finding]:
    rule = get_rule("PT020")
    if not rule.applies_to(mode):
        return []
    names = {e.name for e in schema.entities}
    tables = {e.table for e in schema.entities}
    return [
        rule.finding(FindingLocation(file=history.origin, subject=name), entity=name)
        for name, versions in history.versions.items()
        if versions and name not in names and versions[-1].table not in tables
    ]


def _data_findings(
    schema: ir.Schema,
    steps: Sequence[mm.LoadedStep],
    versions: dict[str, int],
    options: CheckOptions,
) -> list[Finding]:
    from persist_tool.compat.data import check_data_files
    from persist_tool.compat.specs import generated_specs

    with generated_specs(schema) as specs:
        plan = MigrationPlan.for_specs(mm.usable_steps(steps, versions), specs.values())
        return check_data_files(options.snapshots, options.journals, specs, plan)


def _unique(findings: Sequence[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.rule.id, f.location.key(), f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _order(f: Finding) -> tuple[str, int, str, str, int, str]:
    return (
        entity_of(f) or "",
        -f.severity.rank,
        f.rule.id,
        f.location.file or "",
        f.location.line,
        f.location.key(),
    )
