"""``generate entity``: sources -> rendered entity package (no I/O beyond reading sources).

The package's ``__init__.py`` carries a stamp of what it was made from
(:mod:`persist_tool.stamp`), so that ``current_entity_stamp`` can tell, without parsing
or rendering, that an output is already what the sources would generate.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from persist_tool.output import StagedFile
from persist_tool.paths import display_path
from persist_tool.stamp import (
    INIT_FILE,
    Stamp,
    StampInputs,
    add_stamp,
    current_stamp,
    make_stamp,
)

# The IR and the readers are imported where they are used: ``--check`` on a current output
# answers from the stamp alone, and their import would be a sixth of its time.
if TYPE_CHECKING:
    from persist_tool.emit.entity import GeneratedFile
    from persist_tool.sources import LoadedSchema

__all__ = [
    "DEFAULT_DIALECTS",
    "EntityPackage",
    "EntityRequest",
    "build_entity_package",
    "current_entity_stamp",
    "load_entity_sources",
    "parse_dialects",
    "stamp_entity_package",
]

DEFAULT_DIALECTS: tuple[str, ...] = ("sqlite", "postgres", "mysql")
"""Dialects whose DDL generated specs carry unless told otherwise."""


@dataclass(frozen=True, slots=True)
class EntityPackage:
    """The files of a generated entity package and the names of its entities.

    A module that was written out where it was rendered is a ``StagedFile`` (see
    ``build_entity_package``'s ``finish``); ``__init__.py`` is always a ``GeneratedFile``.
    """

    files: tuple[GeneratedFile | StagedFile, ...]
    entities: tuple[str, ...]

    def texts(self) -> tuple[GeneratedFile, ...]:
        """Return the files with their texts: those of a package built without ``finish``."""
        texts = tuple(f for f in self.files if not isinstance(f, StagedFile))
        if len(texts) != len(self.files):
            raise ValueError("the modules were written out where rendered: no texts here")
        return texts


@dataclass(frozen=True, slots=True)
class EntityRequest:
    """What ``generate entity`` is asked for, configuration applied."""

    sources: tuple[Path, ...]
    out_dir: Path
    fmt: str = "auto"
    read_dialect: str | None = None
    entities: tuple[str, ...] = ()
    entity_name: str | None = None
    schema_version: int | None = None
    package_root: Path | None = None
    dialects: tuple[str, ...] = DEFAULT_DIALECTS

    def stamp_inputs(self) -> StampInputs:
        """Return everything besides file contents that the output depends on."""
        options: dict[str, Any] = {
            "format": self.fmt,
            "read_dialect": self.read_dialect,
            "entities": list(self.entities),
            "entity_name": self.entity_name,
            "schema_version": self.schema_version,
            "package_root": (
                None
                if self.package_root is None
                else os.path.relpath(os.path.abspath(self.package_root), self.out_dir.absolute())
            ),
            "dialects": list(self.dialects),
        }
        sources = tuple((display_path(path), path) for path in self.sources)
        return StampInputs("entity", options, sources)


def parse_dialects(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Return the dialects named in ``--dialects`` (comma-separated), validated."""
    if text is None:
        return DEFAULT_DIALECTS
    items = text.split(",") if isinstance(text, str) else list(text)
    names = tuple(dict.fromkeys(i.strip().lower() for i in items if i.strip()))
    unknown = [n for n in names if n not in DEFAULT_DIALECTS]
    if unknown or not names:
        from persist_tool.ir import SourceError

        raise SourceError(
            None,
            f"unknown dialect {', '.join(unknown)!s}" if unknown else "no dialect given",
            f"choose from: {', '.join(DEFAULT_DIALECTS)}",
        )
    return names


def current_entity_stamp(request: EntityRequest) -> Stamp | None:
    """Return the output's stamp when it proves the output current (its ``warnings`` are
    what reading the sources would warn of); ``None`` means "render and see"."""
    if not request.sources:
        return None
    return current_stamp(request.out_dir, request.stamp_inputs())


def load_entity_sources(request: EntityRequest, *, record_files: bool = False) -> LoadedSchema:
    """Read the request's sources (recording the files read when a stamp is wanted)."""
    from persist_tool.sources import load_schema

    return load_schema(
        list(request.sources),
        fmt=request.fmt,
        read_dialect=request.read_dialect,
        entities=request.entities,
        entity_name=request.entity_name,
        schema_version=request.schema_version,
        package_root=request.package_root,
        record_files=record_files,
    )


def stamp_entity_package(
    request: EntityRequest, loaded: LoadedSchema, package: EntityPackage
) -> EntityPackage:
    """Return ``package`` with its stamp in ``__init__.py``, or as it is when none can be made.

    ``loaded`` must come from ``load_entity_sources(request, record_files=True)``.
    """
    if loaded.files is None:
        return package
    warnings = [w.render() for w in loaded.warnings]
    made = make_stamp(
        request.out_dir, request.stamp_inputs(), loaded.files, package.files, warnings
    )
    if made is None:
        return package
    files = tuple(
        (
            replace(f, text=add_stamp(f.text, made))
            if f.path == INIT_FILE and not isinstance(f, StagedFile)
            else f
        )
        for f in package.files
    )
    return EntityPackage(files, package.entities)


def build_entity_package(
    loaded: LoadedSchema,
    *,
    dialects: Sequence[str] = DEFAULT_DIALECTS,
    progress: Callable[[str], None] | None = None,
    finish: Callable[[GeneratedFile], StagedFile] | None = None,
) -> EntityPackage:
    """Render the entity package for a loaded schema.

    ``progress`` is called as each entity module is rendered (see ``render_package``).
    ``finish`` (a ``TreeWriter.early_writer()``) writes each entity module out in the
    process that rendered it; the package then holds its ``StagedFile`` instead.
    """
    from persist_tool.emit.entity import render_package
    from persist_tool.ir import SourceError

    if not loaded.schema.entities:
        raise SourceError(
            None, f"no entities found in {loaded.label}", "check the sources or --entity names"
        )
    keep: Callable[[GeneratedFile], GeneratedFile | StagedFile] = finish or _as_rendered
    files = render_package(
        loaded.schema,
        source=loaded.label,
        source_hash=loaded.digest,
        dialects=dialects,
        progress=progress,
        finish=keep,
    )
    return EntityPackage(tuple(files), tuple(e.name for e in loaded.schema.entities))


def _as_rendered(module: GeneratedFile) -> GeneratedFile | StagedFile:
    return module
