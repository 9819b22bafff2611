"""The errors the runtime and generated code raise."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ConflictError",
    "Issue",
    "MigrationError",
    "NotFoundError",
    "PersistError",
    "ValidationError",
]


class PersistError(Exception):
    """Base of every error ``persist_runtime`` raises on purpose."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a payload: where (a JSON pointer, ``""`` for the root) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


class ValidationError(PersistError, ValueError):
    """A payload or record is invalid; ``issues`` lists every problem found, in order."""

    def __init__(self, issues: Iterable[Issue], *, entity: str | None = None) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        self.entity = entity
        head = f"invalid {entity} payload" if entity else "invalid payload"
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"{head} ({len(self.issues)} problem(s)):\n{lines}")


class ConflictError(PersistError):
    """A write lost a race: the stored row version is not the one the caller expected."""

    def __init__(
        self, message: str, *, expected: int | None = None, actual: int | None = None
    ) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class NotFoundError(PersistError, LookupError):
    """No stored entity has the given identity."""


class MigrationError(PersistError):
    """A migration plan is invalid, or applying or upgrading through it failed."""
