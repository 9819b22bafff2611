"""What every reader takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from persist_tool.ir import Location, Schema

__all__ = ["Diagnostic", "ReadOptions", "ReadResult"]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Options common to the readers; each reader uses the ones that apply to it."""

    path: Path
    """The source file on disk (the Python reader looks for sibling modules beside it)."""
    display: str
    """The path to show in messages and locations (relative to the working directory)."""
    read_dialect: str | None = None
    """DDL: the sqlglot dialect to parse with; ``None`` tries the common ones."""
    entities: tuple[str, ...] = ()
    """Only these entities (class, table or definition names); all when empty."""
    entity_name: str | None = None
    """DDL: entity name for a single-table source, overriding the ``-- persist:`` comment."""
    schema_version: int | None = None
    """Schema version overriding the source's own."""
    package_root: Path | None = None
    """Python: the directory that module paths are relative to."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A warning a reader wants shown (``path:line:col: warning: message``)."""

    location: Location
    message: str

    def render(self) -> str:
        """Return the warning line as printed on stderr."""
        return f"{self.location}: warning: {self.message}"


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A reader's answer: the schema and the warnings met on the way."""

    schema: Schema
    warnings: tuple[Diagnostic, ...] = field(default=())
