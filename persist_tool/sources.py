"""Read source files into one schema: format detection, decoding, merging."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from persist_tool import ir
from persist_tool.readers import FORMATS, Diagnostic, ReadOptions, detect_format, get_reader

__all__ = ["LoadedSchema", "display_path", "load_schema", "read_text"]


@dataclass(frozen=True, slots=True)
class LoadedSchema:
    """Entities read from the sources, with what headers and messages need to name them."""

    schema: ir.Schema
    warnings: tuple[Diagnostic, ...]
    label: str
    """The sources as relative paths, comma-separated (for generated-file headers)."""
    digest: str
    """sha256 of the sources' bytes (hex)."""


def display_path(path: Path) -> str:
    """Return ``path`` relative to the working directory when it lies below it (POSIX style)."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()


def read_text(path: Path, display: str) -> tuple[str, bytes]:
    """Return a source's text and bytes; refuse binary or non-UTF-8 files."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ir.SourceError(ir.Location(display, 0, 0), "no such file", "check the path") from None
    except IsADirectoryError:
        raise ir.SourceError(
            ir.Location(display, 0, 0), "is a directory, not a source file", None
        ) from None
    except OSError as error:
        raise ir.SourceError(ir.Location(display, 0, 0), f"cannot read: {error.strerror}") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        column = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        raise ir.SourceError(
            ir.Location(display, line, column),
            "binary data (a NUL byte), not a text source",
            "pass a .sql, .json or .py text file",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ir.SourceError(
            ir.Location(display, line, column),
            "not valid UTF-8 text",
            "save the file as UTF-8",
        ) from None
    return text, data


def load_schema(
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    read_dialect: str | None = None,
    entities: Sequence[str] = (),
    entity_name: str | None = None,
    schema_version: int | None = None,
    package_root: Path | None = None,
) -> LoadedSchema:
    """Read every source and merge their entities; names must be unique across them."""
    if not paths:
        raise ir.SourceError(None, "no source given", "name at least one SOURCE file")
    merged: list[ir.Entity] = []
    where: dict[str, str] = {}
    warnings: list[Diagnostic] = []
    digest = hashlib.sha256()
    labels: list[str] = []
    single = len(paths) == 1
    for path in paths:
        display = display_path(path)
        labels.append(display)
        chosen = fmt if fmt != "auto" else detect_format(path)
        if chosen is None or chosen not in FORMATS:
            raise ir.SourceError(
                ir.Location(display, 0, 0),
                (
                    f"cannot tell the format of {path.name!r}"
                    if chosen is None
                    else f"unknown format {chosen!r}"
                ),
                f"use --format with one of: {', '.join(FORMATS)}",
            )
        text, data = read_text(path, display)
        digest.update(display.encode() + b"\0" + data + b"\0")
        options = ReadOptions(
            path=path,
            display=display,
            read_dialect=read_dialect,
            entities=tuple(entities) if single else (),
            entity_name=entity_name,
            schema_version=schema_version,
            package_root=package_root,
        )
        result = get_reader(chosen)(text, options)
        warnings.extend(result.warnings)
        for entity in result.schema.entities:
            if entity.name in where:
                raise ir.SourceError(
                    entity.location,
                    f"entity {entity.name} is defined twice (first in {where[entity.name]})",
                    "rename one of them or pass --entity to pick",
                )
            where[entity.name] = display
            merged.append(entity)
    if entities and not single:
        wanted = set(entities)
        found = {e.name for e in merged} | {e.table for e in merged}
        missing = sorted(wanted - found)
        if missing:
            raise ir.SourceError(
                None,
                f"no entity named {', '.join(missing)} in the sources",
                f"known entities: {', '.join(e.name for e in merged)}",
            )
        merged = [e for e in merged if e.name in wanted or e.table in wanted]
    label = ", ".join(labels)
    return LoadedSchema(ir.Schema(tuple(merged), label), tuple(warnings), label, digest.hexdigest())
