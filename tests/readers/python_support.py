"""Helpers for the Python reader tests: write a module into a package and read it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from persist_tool.readers.base import ReadOptions, ReadResult
from persist_tool.readers.python import read

HEADER = """\
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Literal, Optional

from persist_runtime import (
    Immutable, Index, MaxLen, PrimaryKey, RenamedFrom, Unique, command, entity,
)
"""
"""Imports most test modules start with (10 lines, so bodies start on line 11)."""

HEADER_LINES = HEADER.count("\n")


def write_package(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> source) under ``root/pkg`` and return the package."""
    package = root / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return package


def read_module(path: Path, **options: object) -> ReadResult:
    """Read ``path`` with the Python reader, displaying it as ``pkg/<name>``."""
    display = f"pkg/{path.relative_to(path.parent).as_posix()}"
    opts = ReadOptions(path=path, display=display, **options)  # type: ignore[arg-type]
    return read(path.read_text(encoding="utf-8"), opts)


def read_source(root: Path, body: str, *, header: bool = True, **options: object) -> ReadResult:
    """Write ``body`` (after :data:`HEADER` when asked) as ``pkg/models.py`` and read it."""
    text = (HEADER if header else "") + textwrap.dedent(body)
    package = write_package(root, {})
    path = package / "models.py"
    path.write_text(text, encoding="utf-8")
    return read_module(path, **options)
