"""Markers and decorators the Python reader recognises by name in user classes.

They do nothing at run time beyond recording their arguments, so user code that uses them
runs unchanged with or without the generator. Use them inside ``typing.Annotated``::

    id: Annotated[int, PrimaryKey(auto=True)]
    email: Annotated[str, Unique, MaxLen(200)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "Generated",
    "Immutable",
    "Index",
    "MaxLen",
    "PrimaryKey",
    "RenamedFrom",
    "Unique",
    "command",
    "entity",
]

_T = TypeVar("_T")
_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    """Mark the primary key field; ``auto=True`` when the database generates it."""

    auto: bool = False


@dataclass(frozen=True, slots=True)
class _Flag:
    name: str

    def __repr__(self) -> str:
        return self.name


Unique: Any = _Flag("Unique")
"""Mark a field whose values are unique across the table."""

Immutable: Any = _Flag("Immutable")
"""Mark a field that never changes after creation (left out of ``Patch`` and setters)."""


@dataclass(frozen=True, slots=True)
class Index:
    """Mark a field as indexed; ``name`` groups fields into one composite index."""

    name: str | None = None
    unique: bool = False


@dataclass(frozen=True, slots=True)
class Generated:
    """Mark a field whose value the database makes on insert with ``DEFAULT <sql>``.

    ``Annotated[datetime, Generated()]`` is a ``DEFAULT CURRENT_TIMESTAMP`` column; the field
    is left out of the ``Draft``. For keys use ``PrimaryKey(auto=True)``.
    """

    sql: str = "CURRENT_TIMESTAMP"


@dataclass(frozen=True, slots=True)
class MaxLen:
    """Limit a string (or list) to ``n`` characters (items)."""

    n: int


@dataclass(frozen=True, slots=True)
class RenamedFrom:
    """Declare earlier names of a field, so migrations rename instead of drop + add."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", names)


def entity(
    *,
    table: str | None = None,
    schema_version: int = 1,
    name: str | None = None,
    unique: Sequence[Sequence[str]] = (),
) -> Callable[[type[_T]], type[_T]]:
    """Mark a class as a persisted entity stored in ``table`` at ``schema_version``.

    ``unique`` lists multi-field unique constraints by field name
    (``unique=[("customer_id", "currency")]``); single fields use the ``Unique`` marker.
    """

    def mark(cls: type[_T]) -> type[_T]:
        cls.__persist_entity__ = {  # type: ignore[attr-defined]
            "table": table,
            "schema_version": schema_version,
            "name": name or cls.__name__,
            "unique": tuple(tuple(group) for group in unique),
        }
        return cls

    return mark


def command(fn: _F | None = None, *, payload_version: int = 1) -> Any:
    """Mark a method as a domain command; its parameters are the command payload.

    Use bare (``@command``) or with options (``@command(payload_version=2)``).
    """

    def mark(f: _F) -> _F:
        f.__persist_command__ = {"payload_version": payload_version}  # type: ignore[attr-defined]
        return f

    if fn is not None:
        return mark(fn)
    return mark
