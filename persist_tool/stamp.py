"""The stamp of a generated package: what it was made from, so ``--check`` can skip the work.

``generate entity`` writes, right after the header line of the package's ``__init__.py``::

    # persist-tool input <sha256 over everything the output depends on>
    # persist-tool output <sha256 over each generated file's name and sha256, stamp left out>
    # persist-tool read ../shop/money.py     (a file read besides the sources, one a line)
    # persist-tool dir ../shop               (a directory whose entries decided what was read)
    # persist-tool warning "s.sql:3:1: ..."  (a reader's warning, as JSON text, one a line)

The input digest covers the tool (version, its own code and templates, the versions of the
libraries that shape its output), the options after configuration is applied, the
sources' labels and bytes, every other file the readers read (sibling modules of a Python
source, files a ``$ref`` reaches) and the entries of every directory the readers looked
into for a file, present or not (a new module can shadow an import that used to be
external). Paths are relative to the output directory: no absolute path is written.

``current_stamp`` recomputes that digest without parsing anything, hashes the generated files
on disk and compares both with the stamp. Only a match proves the output current; any
difference or a missing stamp sends the caller down the full render-and-compare path, so
the answer never depends on the stamp being right. The readers' warnings are kept in the
stamp so that a run answered from it says what a full run would have said (source labels
are part of the input digest, so the locations they name read the same).

The stamp lives in ``__init__.py`` because the design fixes the package's files (one module
per entity plus ``__init__``): an extra file there would not be ours to add.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persist_tool import __version__
from persist_tool.output import (
    GENERATED_MARK,
    STAMP_PREFIX,
    StagedFile,
    TreeFile,
    file_sha256,
    sha256_hex,
    strip_stamp,
)

__all__ = [
    "INIT_FILE",
    "OUTPUT_LIBRARIES",
    "Listing",
    "SourceFiles",
    "Stamp",
    "StampInputs",
    "add_stamp",
    "current_stamp",
    "list_directory",
    "make_stamp",
    "sha256_hex",
]

INIT_FILE = "__init__.py"
"""The generated file that carries the stamp."""

OUTPUT_LIBRARIES: tuple[str, ...] = ("black", "jinja2", "referencing", "sqlglot")
"""Distributions whose behaviour reaches generated text (formatting, templates, ``$ref``
resolution, SQL); their versions are part of the input. typer only parses the command line."""

_IGNORED_ENTRIES = frozenset({"__pycache__"})
"""Directory entries no reader looks for: bytecode caches come and go as code is imported."""

_LINE_LENGTH = 100

Listing = tuple[tuple[str, str], ...]
"""A directory's entries as ``(name, kind)`` pairs, kind ``d``, ``f`` or ``o``, sorted."""


def list_directory(path: str) -> Listing | None:
    """Return the entries of directory ``path`` (symlinks followed), or ``None`` if unreadable."""
    try:
        with os.scandir(path) as entries:
            found = [
                (e.name, "d" if e.is_dir() else "f" if e.is_file() else "o")
                for e in entries
                if e.name not in _IGNORED_ENTRIES
            ]
    except OSError:
        return None
    return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class SourceFiles:
    """The files the readers read and the directories they looked into for files."""

    reads: Mapping[str, str]
    """Absolute path -> sha256 (hex) of the bytes read, sources included."""
    listings: Mapping[str, Listing]
    """Absolute path of a directory -> its entries, listed before anything in it was looked at.

    A file looked for (present or not) is decided by its directory's entries, or, when that
    directory does not exist, by the entries of its nearest existing ancestor."""
    looked_for: frozenset[str] = frozenset()
    """Absolute paths the readers asked about (exists, is_file, is_dir)."""


@dataclass(frozen=True, slots=True)
class StampInputs:
    """What an output depends on besides the contents of the files it was read from."""

    command: str
    """The command that made the output (``entity``)."""
    options: Mapping[str, Any]
    """Options after configuration is applied (JSON values)."""
    sources: tuple[tuple[str, Path], ...]
    """The sources in order: the label the output names each by, and its path."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """The stamp lines of a generated package."""

    input: str
    output: str
    reads: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    """The readers' warnings, rendered (``path:line:col: warning: ...`` and any hint)."""

    def render(self) -> str:
        """Return the stamp as comment lines (each ending in a newline)."""
        lines = [f"input {self.input}", f"output {self.output}"]
        lines += [f"read {path}" for path in self.reads]
        lines += [f"dir {path}" for path in self.dirs]
        lines += [f"warning {json.dumps(text)}" for text in self.warnings]
        text = ""
        for line in lines:
            line = STAMP_PREFIX + line
            if len(line) > _LINE_LENGTH:
                line += "  # noqa: E501"  # a path cannot be wrapped
            text += line + "\n"
        return text

    @classmethod
    def parse(cls, text: str) -> Stamp | None:
        """Read the stamp after ``text``'s first line; ``None`` when there is none."""
        lines = text.split("\n")[1:]
        fields: dict[str, list[str]] = {
            "input": [],
            "output": [],
            "read": [],
            "dir": [],
            "warning": [],
        }
        for line in lines:
            if not line.startswith(STAMP_PREFIX):
                break
            key, _, value = line[len(STAMP_PREFIX) :].partition(" ")
            value = value.removesuffix("  # noqa: E501")
            if key not in fields or not value:
                return None
            fields[key].append(value)
        if len(fields["input"]) != 1 or len(fields["output"]) != 1:
            return None
        warnings = []
        for value in fields["warning"]:
            try:
                text = json.loads(value)
            except ValueError:
                return None
            if not isinstance(text, str):
                return None
            warnings.append(text)
        return cls(
            fields["input"][0],
            fields["output"][0],
            tuple(fields["read"]),
            tuple(fields["dir"]),
            tuple(warnings),
        )


def add_stamp(text: str, stamp: Stamp) -> str:
    """Return ``text`` with ``stamp`` after its first line (replacing any stamp there)."""
    text = strip_stamp(text)
    first = text.find("\n") + 1
    return text[:first] + stamp.render() + text[first:]


def make_stamp(
    out_dir: Path,
    inputs: StampInputs,
    recorded: SourceFiles,
    files: Sequence[TreeFile],
    warnings: Sequence[str] = (),
) -> Stamp | None:
    """Return the stamp for ``files`` made from ``inputs``, or ``None`` when none can be made.

    ``recorded`` holds what the readers read and looked into while the sources were read,
    ``warnings`` what they warned of (rendered).
    No stamp is made when a path cannot be written relative to ``out_dir`` on one line, or
    when the readers looked inside the output directory (the output would be its own
    input): ``--check`` then always takes the full path.
    """
    base = os.path.abspath(out_dir)
    created = _created_by_writing(base)
    inside = tuple(os.path.join(d, "") for d in (base, *created))
    if any(p in (base, *created) or p.startswith(inside) for p in _paths_used(recorded)):
        return None
    sources = []
    for label, path in inputs.sources:
        digest = recorded.reads.get(os.path.abspath(path))
        if digest is None:
            return None
        sources.append((label, digest))
    source_paths = {os.path.abspath(path) for _, path in inputs.sources}
    extra: dict[str, str] = {}
    for read, digest in recorded.reads.items():
        if read not in source_paths:
            relative = _relative(read, base)
            if relative is None:
                return None
            extra[relative] = digest
    dirs: dict[str, str] = {}
    for directory, listing in recorded.listings.items():
        relative = _relative(directory, base)
        if relative is None:
            return None
        # Writing creates the output directory (and missing parents): list them as the
        # check will find them.
        new = {(os.path.basename(c), "d") for c in created if os.path.dirname(c) == directory}
        dirs[relative] = _listing_digest(tuple(sorted(set(listing) | new)))
    return Stamp(
        _input_digest(inputs, sources, extra, dirs),
        _output_digest(_file_digests(files)),
        tuple(sorted(extra)),
        tuple(sorted(dirs)),
        tuple(warnings),
    )


def _created_by_writing(out_dir: str) -> list[str]:
    """Return ``out_dir`` and its ancestors that do not exist yet (writing creates them)."""
    created = []
    path = out_dir
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        created.append(path)
        path = os.path.dirname(path)
    return created


def _paths_used(recorded: SourceFiles) -> set[str]:
    return {*recorded.reads, *recorded.looked_for}


def current_stamp(out_dir: Path, inputs: StampInputs) -> Stamp | None:
    """Return ``out_dir``'s stamp when it proves the output is what ``inputs`` would generate.

    Reads the sources, the files and directories the stamp names and the generated files;
    parses and renders nothing. ``None`` means "not proven": the caller does the full work.
    """
    try:
        with open(out_dir / INIT_FILE, encoding="utf-8", newline="") as handle:
            stamp = Stamp.parse(handle.read())
    except (OSError, UnicodeDecodeError):
        return None
    if stamp is None:
        return None
    base = os.path.abspath(out_dir)
    try:
        sources = [(label, _file_digest(path)) for label, path in inputs.sources]
        extra = {r: _file_digest(os.path.join(base, r)) for r in stamp.reads}
    except OSError:
        return None
    dirs: dict[str, str] = {}
    for relative in stamp.dirs:
        path = os.path.normpath(os.path.join(base, relative))
        listing = list_directory(path)
        if listing is None:
            return None
        dirs[relative] = _listing_digest(listing)
    if _input_digest(inputs, sources, extra, dirs) != stamp.input:
        return None
    generated = _generated_on_disk(out_dir)
    if generated is None or _output_digest(generated) != stamp.output:
        return None
    return stamp


def _relative(path: str, base: str) -> str | None:
    try:
        relative = Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive
        return None
    if "\n" in relative or "\r" in relative or relative != relative.strip():
        return None
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:  # an undecodable file name: it cannot go into the text
        return None
    return relative


def _file_digest(path: str | Path) -> str:
    # ``..`` in a stamp path is taken lexically, as it was written (normpath).
    with open(os.path.normpath(path), "rb") as handle:
        return sha256_hex(handle.read())


def _listing_digest(listing: Listing) -> str:
    text = "\n".join(f"{kind} {name}" for name, kind in listing)
    return sha256_hex(text.encode("utf-8", "surrogateescape"))


def _input_digest(
    inputs: StampInputs,
    sources: Iterable[tuple[str, str]],
    extra: Mapping[str, str],
    dirs: Mapping[str, str],
) -> str:
    document = {
        "tool": _tool_fingerprint(),
        "command": inputs.command,
        "options": inputs.options,
        "sources": [list(s) for s in sources],
        "reads": dict(extra),
        "dirs": dict(dirs),
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return sha256_hex(text.encode("ascii"))


def _output_digest(digests: Iterable[tuple[str, str]]) -> str:
    """Digest the generated files from each one's name and sha256."""
    text = "".join(f"{name}\0{digest}\n" for name, digest in sorted(digests))
    return sha256_hex(text.encode("utf-8", "surrogateescape"))


def _file_digests(files: Sequence[TreeFile]) -> list[tuple[str, str]]:
    """Return each file's name and sha256 as written (``__init__``'s stamp left out)."""
    return [
        (
            f.path,
            (
                sha256_hex(strip_stamp(f.text).encode())
                if f.path == INIT_FILE and not isinstance(f, StagedFile)
                else file_sha256(f)
            ),
        )
        for f in files
    ]


def _generated_on_disk(out_dir: Path) -> list[tuple[str, str]] | None:
    """Return the name and sha256 of each generated file at the top of ``out_dir``.

    Each file is hashed right after it is read, while its bytes are still in the cache.
    """
    mark = GENERATED_MARK.encode()
    found = []
    try:
        with os.scandir(out_dir) as entries:
            names = [e.name for e in entries if e.name.endswith(".py") and e.is_file()]
        for name in names:
            with open(os.path.join(out_dir, name), "rb") as handle:
                data = handle.read()
            if not data.startswith(mark):
                continue
            if name == INIT_FILE:
                data = strip_stamp(data.decode("utf-8")).encode("utf-8")
            found.append((name, sha256_hex(data)))
    except (OSError, UnicodeDecodeError):
        return None
    return found


@functools.cache
def _tool_fingerprint() -> dict[str, Any]:
    """Return what identifies the generator: version, code and templates, output libraries."""
    from persist_tool.emit.templating import template_dir

    package = Path(__file__).resolve().parent
    code = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            _update_file(code, path, package)
    templates = template_dir()
    for path in sorted(templates.iterdir()):
        if path.is_file():
            _update_file(code, path, templates)
    return {
        "version": __version__,
        "code": code.hexdigest(),
        "libraries": _library_versions(OUTPUT_LIBRARIES),
    }


def _update_file(digest: Any, path: Path, root: Path) -> None:
    data = path.read_bytes()
    digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
    digest.update(data)


def _library_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Return each distribution's installed version, read from its ``.dist-info`` name.

    Cheaper than :mod:`importlib.metadata` (which costs more to import than this whole
    check) and enough here: the first ``.dist-info`` on ``sys.path`` is the one imported.
    """
    wanted = {_normalise(n): n for n in names}
    found: dict[str, str | None] = dict.fromkeys(names)
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as entries:
                infos = [e.name for e in entries if e.name.endswith(".dist-info")]
        except OSError:
            continue
        for info in infos:
            name, _, version = info.removesuffix(".dist-info").partition("-")
            original = wanted.get(_normalise(name))
            if original is not None and found[original] is None:
                found[original] = version
    return found


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")
