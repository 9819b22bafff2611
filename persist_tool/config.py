"""Options from ``[tool.persist-tool]`` in the nearest ``pyproject.toml``."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Config", "find_config", "load_config"]

_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "sources": list,
    "out-dir": str,
    "dialects": list,
    "read-dialect": str,
    "format": str,
    "lock": str,
    "migrations-dir": str,
    "mode": str,
    "fail-on": str,
    "package-root": str,
    "baseline": list,
    "ignores": list,
}


@dataclass(frozen=True, slots=True)
class Config:
    """Project options; paths are resolved against the directory of ``pyproject.toml``."""

    path: Path | None = None
    values: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """Return an option's value, or ``default`` when it is not set."""
        return self.values.get(key, default)

    def path_value(self, key: str) -> Path | None:
        """Return a path option resolved against the project directory."""
        value = self.values.get(key)
        if value is None:
            return None
        base = self.path.parent if self.path is not None else Path.cwd()
        return base / str(value)

    def paths(self, key: str) -> list[Path]:
        """Return a list-of-paths option resolved against the project directory."""
        base = self.path.parent if self.path is not None else Path.cwd()
        return [base / v for v in self.values.get(key, [])]


def find_config(start: Path) -> Path | None:
    """Return the nearest ``pyproject.toml`` at or above ``start`` that has our table."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "persist-tool" in data.get("tool", {}):
                return candidate
    return None


def load_config(start: Path | None = None) -> Config:
    """Load ``[tool.persist-tool]``; an unknown key or a wrong type is a user error."""
    path = find_config((start or Path.cwd()).resolve())
    if path is None:
        return Config()
    text = path.read_text(encoding="utf-8")
    table = tomllib.loads(text)["tool"]["persist-tool"]
    if not isinstance(table, dict):
        raise _error(path, text, "[tool.persist-tool]", "[tool.persist-tool] must be a table")
    for key, value in table.items():
        expected = _KEYS.get(key)
        if expected is None:
            raise _error(
                path,
                text,
                key,
                f"unknown option {key!r} in [tool.persist-tool]",
                f"known options: {', '.join(sorted(_KEYS))}",
            )
        if not isinstance(value, expected):
            raise _error(
                path,
                text,
                key,
                f"option {key!r} must be a {getattr(expected, '__name__', 'value')}",
            )
    return Config(path, table)


def _error(path: Path, text: str, needle: str, message: str, hint: str | None = None) -> Exception:
    """Return the ``SourceError`` for ``message`` at the line of ``needle``."""
    # The IR module is imported here, not at the top: ``generate entity --check`` reads the
    # configuration on its fast path, which has no other use for the IR (a sixth of its
    # start-up).
    from persist_tool.ir import Location, SourceError

    return SourceError(Location(path.name, _line_of(text, needle), 1), message, hint)


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(needle):
            return number
    return 0
