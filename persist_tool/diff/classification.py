"""How risky a change is for stored data."""

from __future__ import annotations

import enum

__all__ = ["Classification"]


class Classification(enum.StrEnum):
    """How risky a change is for stored data, from harmless to data-losing."""

    SAFE = "safe"
    """Existing data stays valid and complete; nothing to decide."""
    NEEDS_BACKFILL = "needs_backfill"
    """Existing rows and records need a value someone must choose."""
    NARROWING = "narrowing"
    """Some existing values may no longer fit (type, range, length, uniqueness)."""
    DESTRUCTIVE = "destructive"
    """Data is removed."""

    @property
    def rank(self) -> int:
        """Return the severity order: safe 0 < needs_backfill 1 < narrowing 2 < destructive 3."""
        return _RANK[self]


_RANK = {
    Classification.SAFE: 0,
    Classification.NEEDS_BACKFILL: 1,
    Classification.NARROWING: 2,
    Classification.DESTRUCTIVE: 3,
}
