"""What stored data may look like: the recorded versions of every entity.

The history comes from the lock file (every version each entity has had) and, with
``--against GIT_REF``, from the repository at that commit: the sources as they were there
(read with ``git show REF:path``, no checkout) and the lock file as it was there. A version
read from the sources at the ref replaces the lock's record of the same version.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from persist_tool import ir, lock
from persist_tool.readers import Diagnostic, ReadOptions, detect_format, get_reader

__all__ = [
    "History",
    "GitRef",
    "history_from",
]


@dataclass(frozen=True, slots=True)
class History:
    """Recorded versions per entity name (oldest first), and where they were read."""

    versions: Mapping[str, tuple[ir.Entity, ...]] = field(default_factory=dict)
    origin: str = "persist.lock.json"
    """What findings about recorded-only entities point at (the lock file, or REF:path)."""

    def of(self, entity: ir.Entity) -> tuple[ir.Entity, ...]:
        """Return the recorded versions of ``entity`` (by name, else by table)."""
        if entity.name in self.versions:
            return self.versions[entity.name]
        for versions in self.versions.values():
            if versions and versions[-1].table == entity.table:
                return versions
        return ()


class GitRef:
    """Read files of a git repository at one commit, without checking anything out."""

    def __init__(self, ref: str, start: Path) -> None:
        self.ref = ref
        self.root = self._toplevel(start)
        self._verify()

    def _git(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                ["git", *args],
                cwd=cwd or self.root,
                capture_output=True,
                check=False,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ir.SourceError(None, f"cannot run git: {error}") from None

    def _toplevel(self, start: Path) -> Path:
        done = self._git("rev-parse", "--show-toplevel", cwd=start)
        if done.returncode != 0:
            raise ir.SourceError(
                None,
                f"--against needs a git repository, and {start} is not in one",
                "run compat-check inside the repository, or use --lock",
            )
        return Path(done.stdout.decode().strip())

    def _verify(self) -> None:
        done = self._git("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}")
        if done.returncode != 0:
            raise ir.SourceError(
                None,
                f"--against {self.ref}: no such commit in {self.root}",
                "fetch it first (CI checkouts are often shallow: fetch-depth 0)",
            )

    def relative(self, path: Path) -> str:
        """Return ``path`` relative to the repository root, POSIX style."""
        try:
            return Path(os.path.relpath(path.resolve(), self.root.resolve())).as_posix()
        except ValueError:
            raise ir.SourceError(
                ir.Location(str(path)), f"{path} is outside the repository {self.root}"
            ) from None

    def read(self, path: Path) -> str | None:
        """Return the text of ``path`` at the ref, or ``None`` when it did not exist there."""
        rel = self.relative(path)
        done = self._git("show", f"{self.ref}:{rel}")
        if done.returncode != 0:
            return None
        try:
            return done.stdout.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ir.SourceError(
                ir.Location(f"{self.ref}:{rel}"), "not valid UTF-8 text at that commit"
            ) from None

    def label(self, path: Path) -> str:
        """Return ``REF:relative/path`` (for locations)."""
        return f"{self.ref}:{self.relative(path)}"


def _read_sources_at(
    ref: GitRef,
    paths: Sequence[Path],
    *,
    fmt: str,
    read_dialect: str | None,
    package_root: Path | None,
) -> tuple[list[ir.Entity], list[Diagnostic]]:
    entities: list[ir.Entity] = []
    warnings: list[Diagnostic] = []
    for path in paths:
        text = ref.read(path)
        if text is None:
            continue  # the source is new since the ref: its entities have no history there
        chosen = fmt if fmt != "auto" else detect_format(path)
        if chosen is None:
            raise ir.SourceError(ir.Location(ref.label(path)), "cannot tell the source format")
        options = ReadOptions(
            path=path,
            display=ref.label(path),
            read_dialect=read_dialect,
            package_root=package_root,
        )
        result = get_reader(chosen)(text, options)
        warnings.extend(result.warnings)
        entities.extend(result.schema.entities)
    return entities, warnings


def _lock_versions(recorded: lock.Lock) -> dict[str, list[ir.Entity]]:
    return {name: [v.entity for v in h] for name, h in recorded.entities.items()}


def history_from(
    *,
    recorded: lock.Lock | None,
    lock_label: str,
    against: str | None,
    sources: Sequence[Path],
    lock_path: Path,
    fmt: str = "auto",
    read_dialect: str | None = None,
    package_root: Path | None = None,
    start: Path | None = None,
) -> tuple[History, list[Diagnostic]]:
    """Return the recorded history: the lock, or (with ``against``) the repository at a ref.

    With ``against`` the lock file as it was at the ref gives the older versions and the
    sources at the ref give the version the change is checked against.
    """
    if against is None:
        versions = _lock_versions(recorded or lock.Lock())
        return History({k: tuple(v) for k, v in versions.items()}, lock_label), []
    ref = GitRef(against, start or Path.cwd())
    versions = {}
    old_lock = ref.read(lock_path)
    if old_lock is not None:
        versions = _lock_versions(lock.loads(old_lock, path=ref.label(lock_path)))
    entities, warnings = _read_sources_at(
        ref, sources, fmt=fmt, read_dialect=read_dialect, package_root=package_root
    )
    for entity in entities:
        kept = [
            e for e in versions.get(entity.name, []) if e.schema_version != entity.schema_version
        ]
        versions[entity.name] = sorted([*kept, entity], key=lambda e: e.schema_version)
    origin = ref.label(sources[0]) if sources else against
    return History({k: tuple(v) for k, v in versions.items()}, origin), warnings
