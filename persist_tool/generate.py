"""``generate entity``: sources -> rendered entity package (no I/O beyond reading sources)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from persist_tool import ir
from persist_tool.emit.entity import GeneratedFile, render_package
from persist_tool.sources import LoadedSchema

__all__ = ["DEFAULT_DIALECTS", "EntityPackage", "build_entity_package", "parse_dialects"]

DEFAULT_DIALECTS: tuple[str, ...] = ("sqlite", "postgres", "mysql")
"""Dialects whose DDL generated specs carry unless told otherwise."""


@dataclass(frozen=True, slots=True)
class EntityPackage:
    """The files of a generated entity package and the warnings met on the way."""

    files: tuple[GeneratedFile, ...]
    entities: tuple[str, ...]


def parse_dialects(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Return the dialects named in ``--dialects`` (comma-separated), validated."""
    if text is None:
        return DEFAULT_DIALECTS
    items = text.split(",") if isinstance(text, str) else list(text)
    names = tuple(dict.fromkeys(i.strip().lower() for i in items if i.strip()))
    unknown = [n for n in names if n not in DEFAULT_DIALECTS]
    if unknown or not names:
        raise ir.SourceError(
            None,
            f"unknown dialect {', '.join(unknown)!s}" if unknown else "no dialect given",
            f"choose from: {', '.join(DEFAULT_DIALECTS)}",
        )
    return names


def build_entity_package(
    loaded: LoadedSchema,
    *,
    dialects: Sequence[str] = DEFAULT_DIALECTS,
    progress: Callable[[str], None] | None = None,
) -> EntityPackage:
    """Render the entity package for a loaded schema."""
    if not loaded.schema.entities:
        raise ir.SourceError(
            None, f"no entities found in {loaded.label}", "check the sources or --entity names"
        )
    files = render_package(
        loaded.schema,
        source=loaded.label,
        source_hash=loaded.digest,
        dialects=dialects,
        progress=progress,
    )
    return EntityPackage(tuple(files), tuple(e.name for e in loaded.schema.entities))
