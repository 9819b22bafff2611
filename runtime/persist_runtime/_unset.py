"""The ``UNSET`` sentinel: "not given", distinct from ``None`` ("given as null")."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias

__all__ = ["UNSET", "Unset"]


class _UnsetType(enum.Enum):
    """Type of the single ``UNSET`` value; an enum so type checkers can narrow on it."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


Unset: TypeAlias = Literal[_UnsetType.UNSET]
"""The type of ``UNSET``: write ``str | Unset`` for "a string, or not given"."""

UNSET: Final = _UnsetType.UNSET
"""Marks a ``Patch`` field (or optional argument) that was not given."""
