"""Hashable keys of IR values for the memo tables that rendering keeps per process.

Schemas repeat fields (``id``, ``created_at``) across entities, so emitters keep what they
rendered for a field and reuse it. A key must then tell apart every value that renders
differently, and Python's ``==`` and ``hash`` do not: ``1``, ``1.0`` and ``True`` are one
dictionary key, so ``Constraints(minimum=1)`` would find the ``CHECK (x >= 1.0)`` kept for
``Constraints(minimum=1.0)``. ``value_key`` keeps the type of every scalar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping

from persist_tool import ir

__all__ = ["value_key"]

_SCALARS = frozenset({int, float, bool})
_DATACLASS_FIELDS: dict[type, tuple[str, ...]] = {}


def value_key(value: object) -> Hashable:
    """Return a hashable key of ``value`` (JSON or IR) that holds the type of every scalar.

    Dataclasses are keyed by their type and fields; mappings by their items in order.
    """
    kind = type(value)
    if value is None or kind is str:
        return value
    if kind in _SCALARS:
        return (kind, value)
    if isinstance(value, ir.Constraints) and value.is_empty():
        return ir.Constraints  # the common case, decided without a walk
    if isinstance(value, list | tuple):
        return (kind, *map(value_key, value))
    if isinstance(value, Mapping):
        return (dict, *((k, value_key(v)) for k, v in value.items()))
    names = _DATACLASS_FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _DATACLASS_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return (kind, *(value_key(getattr(value, name)) for name in names))
    return (kind, value)
