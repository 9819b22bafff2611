"""The migrations directory as compat-check sees it: loaded steps, their chains and stubs.

Migration modules (``migrations/<entity>_v<from>_to_v<to>.py``) are the project's own
generated code, reviewed and committed like any other module; compat-check executes each one
from its file (compiled in memory under a private module name: nothing is added to
``sys.path`` and no bytecode is written beside it) to read its ``STEP``. A module that
does not import, or has no ``MigrationStep`` called ``STEP``, is an input error naming the
file and line.

Besides the step, each module is read as text for what a person still has to do
(``# stub:`` comments, a ``migrate_state`` that raises ``NotImplementedError``) and for the
record keys ``migrate_state`` fills in (``record["x"] = ...``, ``record.setdefault("x",
...)``), which the entity check counts as backfilled.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import sys
import traceback
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from persist_runtime import MigrationStep

from persist_tool import ir, naming
from persist_tool.rules import Finding, FindingLocation, get_rule
from persist_tool.sources import display_path

__all__ = [
    "LoadedStep",
    "backfilled",
    "chain_findings",
    "check_chain_shape",
    "load_migrations",
    "stub_findings",
    "usable_steps",
]


@dataclass(frozen=True, slots=True)
class LoadedStep:
    """A step read from a migration module, with what its source text tells."""

    step: MigrationStep
    file: str
    """The module's path as shown in findings."""
    line: int
    """The line of ``STEP = ...`` (0 when not found)."""
    stubs: tuple[tuple[int, str], ...]
    """(line, text) of each placeholder a person must still replace."""
    backfills: frozenset[str]
    """Record keys ``migrate_state`` assigns."""

    @property
    def is_stub(self) -> bool:
        """Tell whether the step still waits for a person."""
        return self.step.stub or bool(self.stubs)


def load_migrations(directory: Path) -> list[LoadedStep]:
    """Import every migration module in ``directory`` (not ``_*.py``), sorted by file name."""
    shown = display_path(directory)
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise ir.SourceError(ir.Location(shown), "the migrations path is not a directory")
    loaded: list[LoadedStep] = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        loaded.append(_load(path))
    return loaded


def _load(path: Path) -> LoadedStep:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ir.SourceError(ir.Location(shown), f"cannot read migration module: {error}") from None
    try:
        tree = ast.parse(text, filename=shown)
    except SyntaxError as error:
        raise ir.SourceError(
            ir.Location(shown, error.lineno or 0, error.offset or 0),
            f"migration module does not parse: {error.msg}",
        ) from None
    step = _import_step(path, text, shown)
    return LoadedStep(
        step=step,
        file=shown,
        line=_step_line(tree),
        stubs=tuple(_stub_marks(text, tree)),
        backfills=frozenset(_assigned_keys(tree)),
    )


def _import_step(path: Path, text: str, shown: str) -> MigrationStep:
    """Execute the module's source (compiled here: no bytecode is written beside it)."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"_persist_compat_migration_{digest}_{path.stem}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # dataclasses and typing look modules up while executing
    try:
        code = compile(text, str(path), "exec")
        exec(code, module.__dict__)
    except Exception as error:
        line = _line_in(error, path)
        raise ir.SourceError(
            ir.Location(shown, line, 0),
            f"migration module fails on import: {type(error).__name__}: {error}",
            "fix the module; compat-check imports it to read its STEP",
        ) from None
    finally:
        sys.modules.pop(name, None)
    step = getattr(module, "STEP", None)
    if not isinstance(step, MigrationStep):
        raise ir.SourceError(
            ir.Location(shown),
            "migration module defines no STEP = MigrationStep(...)",
            "regenerate it with `persist-tool generate migration`",
        )
    return step


def _line_in(error: BaseException, path: Path) -> int:
    resolved = str(path.resolve())
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if str(Path(frame.filename).resolve()) == resolved:
            line = frame.lineno or 0
    return line


def _step_line(tree: ast.Module) -> int:
    for node in tree.body:
        targets = (
            [node.target]
            if isinstance(node, ast.AnnAssign)
            else node.targets if isinstance(node, ast.Assign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "STEP" for t in targets):
            return node.lineno
    return 0


def _migrate_state(tree: ast.Module) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "migrate_state":
            return node
    return None


def _stub_marks(text: str, tree: ast.Module) -> list[tuple[int, str]]:
    """Return the ``# stub:`` comments and ``raise NotImplementedError`` in migrate_state."""
    marks: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("# stub:"):
            marks.append((number, stripped.removeprefix("# stub:").strip()))
    function = _migrate_state(tree)
    if function is not None and not marks:
        for node in ast.walk(function):
            if isinstance(node, ast.Raise) and _is_not_implemented(node.exc):
                marks.append((node.lineno, "migrate_state raises NotImplementedError"))
    return marks


def _is_not_implemented(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Call):
        node = node.func
    return isinstance(node, ast.Name) and node.id == "NotImplementedError"


def _assigned_keys(tree: ast.Module) -> set[str]:
    """Return the string keys ``migrate_state`` assigns on its record argument."""
    function = _migrate_state(tree)
    if function is None or not function.args.args:
        return set()
    record = function.args.args[0].arg
    keys: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                key = _record_key(target, record)
                if key is not None:
                    keys.add(key)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if not (isinstance(owner, ast.Name) and owner.id == record):
                continue
            if node.func.attr == "setdefault" and node.args:
                key = _constant_text(node.args[0])
                if key is not None:
                    keys.add(key)
            elif node.func.attr == "update" and node.args and isinstance(node.args[0], ast.Dict):
                keys.update(k for k in map(_constant_text, node.args[0].keys) if k is not None)
    return keys


def _record_key(target: ast.expr, record: str) -> str | None:
    if (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and target.value.id == record
    ):
        return _constant_text(target.slice)
    return None


def _constant_text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


# --------------------------------------------------------------------------- chains


def _current_names(steps: Iterable[LoadedStep]) -> dict[str, str]:
    """Return entity name -> its latest name, following ``previous_entity`` renames."""
    renamed: dict[str, str] = {}
    for s in steps:
        before = s.step.previous_entity
        if before is not None and before != s.step.entity:
            renamed[before] = s.step.entity

    def latest(name: str) -> str:
        seen = {name}
        while name in renamed and renamed[name] not in seen:
            name = renamed[name]
            seen.add(name)
        return name

    return {name: latest(name) for name in {*renamed, *renamed.values()}}


def _by_entity(steps: Iterable[LoadedStep]) -> dict[str, list[LoadedStep]]:
    """Group steps by the entity's current name (steps written before a rename included)."""
    steps = list(steps)
    names = _current_names(steps)
    out: dict[str, list[LoadedStep]] = {}
    for s in steps:
        out.setdefault(names.get(s.step.entity, s.step.entity), []).append(s)
    for chain in out.values():
        chain.sort(key=lambda s: (s.step.from_version, s.step.to_version))
    return out


def _where(step: LoadedStep, entity: str) -> FindingLocation:
    return FindingLocation(file=step.file, line=step.line, subject=entity)


def check_chain_shape(steps: Sequence[LoadedStep], current: Mapping[str, int]) -> None:
    """Refuse steps that cannot belong to any chain: duplicates, overlaps, past the code."""
    for entity, chain in _by_entity(steps).items():
        version = current.get(entity)
        for prev, step in itertools.pairwise(chain):
            if step.step.from_version < prev.step.to_version:
                raise ir.SourceError(
                    ir.Location(step.file, step.line),
                    f"{step.step.label} overlaps {prev.step.label} ({prev.file})",
                    "keep one step per version; delete the stale module",
                )
        for step in chain:
            problems = step.step.problems()
            if problems:
                raise ir.SourceError(ir.Location(step.file, step.line), "; ".join(problems))
            if version is not None and step.step.to_version > version:
                raise ir.SourceError(
                    ir.Location(step.file, step.line),
                    f"{step.step.label} goes past {entity}'s schema_version {version}",
                    f"bump {entity}'s schema_version to {step.step.to_version},"
                    " or delete the module if the change was dropped",
                )


def chain_findings(
    steps: Sequence[LoadedStep],
    current: Mapping[str, ir.Entity],
    starts: Mapping[str, int],
) -> list[Finding]:
    """Return PT002 (no step from a recorded version) and PT003 (gaps) per current entity.

    ``starts`` maps an entity to the oldest version stored data may have (the previous
    recorded version, or the first one under ``--transitive``); the chain must lead from
    there to the current version. Gaps between steps are reported wherever they are.
    """
    out: list[Finding] = []
    chains = _by_entity(steps)
    for name, entity in current.items():
        chain = chains.get(name, [])
        by_from = {s.step.from_version: s for s in chain}
        target = entity.schema_version
        gaps: set[tuple[int, int]] = set()
        for prev, step in itertools.pairwise(chain):
            if step.step.from_version > prev.step.to_version:
                gaps.add((prev.step.to_version, step.step.from_version))
        version = starts.get(name)
        while version is not None and version < target:
            found = by_from.get(version)
            if found is not None:
                version = found.step.to_version
                continue
            later = [v for v in by_from if v > version]
            if later:
                gaps.add((version, min(later)))
                version = min(later)
                continue
            out.append(
                get_rule("PT002").finding(
                    _entity_where(entity),
                    entity=name,
                    from_version=version,
                    to_version=target,
                    module=_module_name(name),
                )
            )
            break
        for low, high in sorted(gaps):
            out.append(
                get_rule("PT003").finding(
                    _entity_where(entity), entity=name, from_version=low, to_version=high
                )
            )
    return out


def _entity_where(entity: ir.Entity) -> FindingLocation:
    loc = entity.location
    return FindingLocation(
        file=loc.file if loc else None,
        line=loc.line if loc else 0,
        column=loc.column if loc else 0,
        subject=entity.name,
    )


def _module_name(entity: str) -> str:
    return naming.snake_case(entity)


def stub_findings(steps: Iterable[LoadedStep]) -> list[Finding]:
    """Return PT036 for every step that still carries a placeholder."""
    out: list[Finding] = []
    for s in steps:
        if not s.is_stub:
            continue
        line = s.stubs[0][0] if s.stubs else s.line
        reasons = "; ".join(text for _, text in s.stubs) or "marked stub=True"
        out.append(
            get_rule("PT036").finding(
                FindingLocation(file=s.file, line=line, subject=s.step.entity),
                entity=s.step.entity,
                from_version=s.step.from_version,
                to_version=s.step.to_version,
                reason=reasons,
                file=s.file,
            )
        )
    return out


def usable_steps(steps: Sequence[LoadedStep], current: Mapping[str, int]) -> list[MigrationStep]:
    """Return, per current entity, the unbroken run of steps that ends at its version.

    A plan built from these always validates; records older than the run's start have no
    migration path (and are reported so by the data checks).
    """
    out: list[MigrationStep] = []
    for entity, chain in _by_entity(steps).items():
        target = current.get(entity)
        if target is None and chain and chain[-1].step.drops_entity:
            target = chain[-1].step.to_version  # dropped: its records are skipped on restore
        if target is None or not chain or chain[-1].step.to_version != target:
            continue
        run = [chain[-1].step]
        for step in reversed(chain[:-1]):
            if step.step.to_version != run[0].from_version:
                break
            run.insert(0, step.step)
        out.extend(run)
    return out


def backfilled(steps: Iterable[LoadedStep], entity: str, since: int) -> frozenset[str]:
    """Return the record keys the steps of ``entity`` from version ``since`` on fill in."""
    keys: set[str] = set()
    for s in steps:
        if s.step.entity == entity and s.step.from_version >= since:
            keys |= s.backfills
    return frozenset(keys)
