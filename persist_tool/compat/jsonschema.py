"""JSON Schema compatibility: can a reader with one schema read documents valid under another?

``compare_schemas(old, new, mode=...)`` answers on the full constraint set — types
(``integer`` inside ``number``), lengths, ranges with exclusive bounds, ``multipleOf``,
patterns, formats, ``enum``/``const``, tuple and list items, open, closed and partially open
objects, dependencies, ``allOf``/``anyOf``/``oneOf``/``not``/``if``, and ``$ref`` inside each
document — and lists every difference with a change type and a JSON pointer.

* backward: every document valid under ``old`` is valid under ``new`` (new readers, old
  data);
* forward: every document valid under ``new`` is valid under ``old`` (old readers, new data);
* full: both.

The answer is sound: "compatible" is only given when proven. See ``inclusion`` for how.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from persist_tool.compat.changes import Difference, Policy
from persist_tool.compat.inclusion import Checker
from persist_tool.compat.schemadoc import Doc, JsonValue
from persist_tool.rules import Mode

__all__ = ["SchemaComparison", "compare_schemas", "is_compatible"]


@dataclass(frozen=True, slots=True)
class SchemaComparison:
    """The differences between two schemas in one mode, and the verdict they give."""

    mode: Mode
    policy: Policy
    differences: tuple[Difference, ...]

    @property
    def compatible(self) -> bool:
        """Tell whether no difference breaks compatibility in the mode checked."""
        return not self.breaking

    @property
    def breaking(self) -> tuple[Difference, ...]:
        """Return the differences that break compatibility."""
        return tuple(d for d in self.differences if d.breaking)

    @property
    def assumed(self) -> tuple[Difference, ...]:
        """Return the differences counted compatible by convention or policy, not proven."""
        return tuple(d for d in self.differences if d.assumed)

    def change_types(self) -> frozenset[str]:
        """Return the change types reported."""
        return frozenset(d.type for d in self.differences)


def _direction(old: JsonValue, new: JsonValue, policy: Policy, label: str) -> list[Difference]:
    diffs = Checker(policy).compare(old, Doc(old), new, Doc(new))
    if label:
        diffs = [replace(d, detail=f"{label}: {d.detail}" if d.detail else label) for d in diffs]
    return diffs


def compare_schemas(
    old: JsonValue,
    new: JsonValue,
    *,
    mode: Mode = Mode.BACKWARD,
    policy: Policy = Policy.STRICT,
) -> SchemaComparison:
    """Compare two self-contained JSON Schemas (``$ref`` resolves inside each document).

    In ``full`` mode the forward differences are labelled ``forward`` and their pointers
    point into ``old``.
    """
    diffs: list[Difference] = []
    if mode in (Mode.BACKWARD, Mode.FULL):
        diffs += _direction(old, new, policy, "")
    if mode in (Mode.FORWARD, Mode.FULL):
        diffs += _direction(new, old, policy, "forward" if mode is Mode.FULL else "")
    return SchemaComparison(mode, policy, _unique(diffs))


def _unique(diffs: list[Difference]) -> tuple[Difference, ...]:
    seen: set[tuple[str, str, bool]] = set()
    out: list[Difference] = []
    for diff in diffs:
        key = (diff.type, diff.pointer, diff.breaking)
        if key not in seen:
            seen.add(key)
            out.append(diff)
    return tuple(out)


def is_compatible(
    old: JsonValue,
    new: JsonValue,
    *,
    mode: Mode = Mode.BACKWARD,
    policy: Policy = Policy.STRICT,
) -> bool:
    """Tell whether ``new`` can replace ``old`` in ``mode`` (see ``compare_schemas``)."""
    return compare_schemas(old, new, mode=mode, policy=policy).compatible
