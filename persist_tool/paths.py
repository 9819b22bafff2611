"""Paths as messages and generated headers show them."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["display_path"]


def display_path(path: Path) -> str:
    """Return ``path`` relative to the working directory when it lies below it (POSIX style)."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()
