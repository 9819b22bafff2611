"""Read source files into one schema: format detection, decoding, merging.

On request, ``load_schema`` also records which files the readers read and which
directories they looked into (:class:`SourceFiles`), for the stamp that lets ``--check``
skip regenerating an output that is current (:mod:`persist_tool.stamp`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persist_tool import ir
from persist_tool.paths import display_path
from persist_tool.readers import FORMATS, Diagnostic, ReadOptions, detect_format, get_reader
from persist_tool.stamp import Listing, SourceFiles, list_directory, sha256_hex

__all__ = ["LoadedSchema", "SourceFiles", "display_path", "load_schema", "read_text"]


@dataclass(frozen=True, slots=True)
class LoadedSchema:
    """Entities read from the sources, with what headers and messages need to name them."""

    schema: ir.Schema
    warnings: tuple[Diagnostic, ...]
    label: str
    """The sources as relative paths, comma-separated (for generated-file headers)."""
    digest: str
    """sha256 of the sources' bytes (hex)."""
    files: SourceFiles | None = None
    """What the readers read, when ``load_schema`` was asked to record it and could."""


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
    record_files: bool = False,
) -> LoadedSchema:
    """Read every source and merge their entities; names must be unique across them.

    ``record_files`` also records what the readers read (``LoadedSchema.files``).
    """
    if not paths:
        raise ir.SourceError(None, "no source given", "name at least one SOURCE file")
    if not record_files:
        return _load(paths, fmt, read_dialect, entities, entity_name, schema_version, package_root)
    for path in paths:  # import the readers first: their imports are not inputs
        chosen = fmt if fmt != "auto" else detect_format(path)
        if chosen in FORMATS:
            get_reader(chosen)
    with _recording() as recorder:
        loaded = _load(
            paths, fmt, read_dialect, entities, entity_name, schema_version, package_root
        )
    files = recorder.result()
    return LoadedSchema(loaded.schema, loaded.warnings, loaded.label, loaded.digest, files)


def _load(
    paths: Sequence[Path],
    fmt: str,
    read_dialect: str | None,
    entities: Sequence[str],
    entity_name: str | None,
    schema_version: int | None,
    package_root: Path | None,
) -> LoadedSchema:
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


# --------------------------------------------------------------------------- recording
# The readers reach the disk only through ``pathlib.Path`` and in the calling thread
# (tests/test_stamp.py keeps them to it), so while ``load_schema`` records, those methods
# note each file read and each directory looked into. The hooks stay in place only while
# some recording runs and act only for the context that started it.

_ACTIVE: ContextVar[_Recorder | None] = ContextVar("persist_tool_source_recorder", default=None)


@functools.cache
def _library_dirs() -> tuple[str, ...]:
    """Return where installed code lives: files there belong to the tool, not to the input.

    The readers' libraries may read data files of their own; the tool's fingerprint in the
    stamp covers those (``stamp.OUTPUT_LIBRARIES``).
    """
    import sysconfig

    paths = sysconfig.get_paths()
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple(os.path.join(os.path.abspath(paths[k]), "") for k in keys if k in paths)


class _Recorder:
    """Collect what the readers read while a recording is active."""

    def __init__(self) -> None:
        self.reads: dict[str, str] = {}
        self.listings: dict[str, Listing] = {}
        self.looked_for: dict[str, set[str]] = {}
        self.complete = True

    def read(self, path: Path, data: bytes) -> None:
        """Note a file read and the digest of the bytes the reader got."""
        absolute = os.path.abspath(path)
        if absolute.startswith(_library_dirs()):
            return
        digest = sha256_hex(data)
        if self.reads.setdefault(absolute, digest) != digest:
            self.complete = False  # read twice, changed in between: no stamp can be right

    def probe(self, path: Path) -> None:
        """List the directory that decides whether ``path`` exists, before it is looked at."""
        absolute = os.path.abspath(path)
        directory = os.path.dirname(absolute)
        if absolute.startswith(_library_dirs()):
            return
        while directory not in self.listings and not os.path.isdir(directory):
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        if directory not in self.listings:
            listing = list_directory(directory)
            if listing is None:
                self.complete = False
                return
            self.listings[directory] = listing
        self.looked_for.setdefault(directory, set()).add(absolute)

    def result(self) -> SourceFiles | None:
        """Return what was recorded, or ``None`` when it cannot describe the inputs.

        A directory is kept only where something was looked for and not read: a file that
        was read is pinned by its digest already.
        """
        if not self.complete:
            return None
        listings = {
            directory: listing
            for directory, listing in self.listings.items()
            if not self.looked_for.get(directory, set()) <= self.reads.keys()
        }
        looked_for = frozenset(p for paths in self.looked_for.values() for p in paths)
        return SourceFiles(dict(self.reads), listings, looked_for)


_PROBES = ("exists", "is_dir", "is_file")
_ORIGINAL: dict[str, Callable[..., Any]] = {
    name: getattr(Path, name) for name in ("read_bytes", "read_text", *_PROBES)
}


def _read_bytes(self: Path) -> bytes:
    recorder = _ACTIVE.get()
    if recorder is None:
        return _ORIGINAL["read_bytes"](self)  # type: ignore[no-any-return]
    with open(self, "rb") as handle:
        data = handle.read()
    recorder.read(self, data)
    return data


def _read_text(
    self: Path, encoding: str | None = None, errors: str | None = None, newline: str | None = None
) -> str:
    recorder = _ACTIVE.get()
    if recorder is None:
        extra = {} if newline is None else {"newline": newline}
        return _ORIGINAL["read_text"](self, encoding, errors, **extra)  # type: ignore[no-any-return]
    # Decode the very bytes that are hashed, as ``read_text`` would, so the digest
    # describes what the reader saw even if the file changes meanwhile.
    data = _read_bytes(self)
    stream = io.TextIOWrapper(
        io.BytesIO(data), encoding=io.text_encoding(encoding), errors=errors, newline=newline
    )
    return stream.read()


def _probe(name: str) -> Callable[..., bool]:
    original = _ORIGINAL[name]

    @functools.wraps(original)
    def probe(self: Path, *args: Any, **kwargs: Any) -> bool:
        recorder = _ACTIVE.get()
        if recorder is not None:
            recorder.probe(self)
        return bool(original(self, *args, **kwargs))

    return probe


_HOOKS: dict[str, Callable[..., Any]] = {
    "read_bytes": _read_bytes,
    "read_text": _read_text,
    **{name: _probe(name) for name in _PROBES},
}


class _Hooks:
    """Install the ``Path`` hooks while at least one recording runs (thread-safe)."""

    lock = threading.Lock()
    users = 0

    @classmethod
    def acquire(cls) -> None:
        with cls.lock:
            if cls.users == 0:
                for name, hook in _HOOKS.items():
                    setattr(Path, name, hook)
            cls.users += 1

    @classmethod
    def release(cls) -> None:
        with cls.lock:
            cls.users -= 1
            if cls.users == 0:
                for name, original in _ORIGINAL.items():
                    setattr(Path, name, original)


@contextlib.contextmanager
def _recording() -> Iterator[_Recorder]:
    recorder = _Recorder()
    token = _ACTIVE.set(recorder)
    _Hooks.acquire()
    try:
        yield recorder
    finally:
        _Hooks.release()
        _ACTIVE.reset(token)
