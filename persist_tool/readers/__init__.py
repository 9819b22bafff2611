"""Source readers: one module per format, each ``read(text, options) -> ReadResult``.

Readers import only ``persist_tool.ir`` (and ``persist_tool.naming``); they are loaded
lazily so that a command only pays for the parser it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from persist_tool.readers.base import Diagnostic, ReadOptions, ReadResult

__all__ = ["FORMATS", "Diagnostic", "ReadOptions", "ReadResult", "detect_format", "get_reader"]

FORMATS: dict[str, str] = {
    "ddl": "persist_tool.readers.ddl",
    "json-schema": "persist_tool.readers.jsonschema",
    "python": "persist_tool.readers.python",
}
"""Format name -> module holding its ``read`` function."""

_SUFFIXES: dict[str, str] = {
    ".sql": "ddl",
    ".ddl": "ddl",
    ".json": "json-schema",
    ".py": "python",
    ".pyi": "python",
}


def detect_format(path: Path) -> str | None:
    """Return the format a path's name implies, or ``None`` when it implies none."""
    name = path.name.lower()
    if name.endswith((".schema.json", ".jsonschema")):
        return "json-schema"
    return _SUFFIXES.get(path.suffix.lower())


def get_reader(fmt: str) -> Callable[[str, ReadOptions], ReadResult]:
    """Return the ``read`` function of a format."""
    module = importlib.import_module(FORMATS[fmt])
    reader: Callable[[str, ReadOptions], ReadResult] = module.read
    return reader
