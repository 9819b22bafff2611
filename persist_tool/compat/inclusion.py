"""Decide whether every value one JSON Schema accepts is accepted by another.

The checker proves inclusion ``old ⊆ new`` structurally and soundly: it answers
"compatible" only when it has shown that every value valid under the old schema is valid
under the new one. What it cannot prove it reports as a breaking difference. It works on
conjunctions of schema objects (``allOf`` and ``$ref`` flattened, see ``schemadoc``):

* disjunctions of the old schema (``anyOf``, ``oneOf``, ``if``/``then``/``else``) are
  split, and each branch must be included;
* an old schema with finitely many values (``enum``/``const``) is decided exactly by
  validating each value against the new schema;
* each keyword group of the new schema (type, string, number, array, object, ``enum``,
  combinators, ``not``, ``if``) must be implied by the old conjunction; the group checks
  live in ``keywords``;
* recursive ``$ref`` chains are compared coinductively: a pair already being compared is
  assumed included, which is sound because each recursion step descends into a strictly
  smaller part of the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from persist_tool.compat.changes import Difference, Policy, child, has_breaking
from persist_tool.compat.containers import CONTAINER_GROUPS
from persist_tool.compat.keywords import GROUPS, NOT_UNDERSTOOD, Ctx, Group
from persist_tool.compat.schemadoc import (
    LOWER,
    UPPER,
    Atom,
    Doc,
    JsonValue,
    UnresolvedRef,
    effective_kinds,
    expand,
    first_finite,
    has_ref,
    is_trivially_true,
    json_equal,
)
from persist_tool.compat.validate import Undecidable, is_valid

__all__ = ["Checker"]

_KIND_TYPES: dict[str, str] = {
    "null": "null",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
    "string": "string",
}


_EMPTY_DOC = Doc({})
_MAX_DEPTH = 256
"""Nesting past this is reported as unproven rather than risking unbounded recursion."""
_ALL_GROUPS: dict[str, Group] = {**GROUPS, **CONTAINER_GROUPS}


@dataclass
class Checker:
    """Compare schemas under one policy; keeps the set of pairs under comparison."""

    policy: Policy = Policy.STRICT
    _active: set[tuple[frozenset[tuple[int, frozenset[str]]], int]] = field(default_factory=set)

    @property
    def lenient(self) -> bool:
        """Tell whether open content models are read leniently."""
        return self.policy is Policy.LENIENT

    # ------------------------------------------------------------------ entry points

    def compare(
        self, old: JsonValue, old_doc: Doc, new: JsonValue, new_doc: Doc
    ) -> list[Difference]:
        """Return the differences of ``old`` -> ``new``; none breaking means ``old ⊆ new``."""
        return self.conj(self.expand_old(old, old_doc), new, new_doc, "#/")

    def expand_old(self, schema: JsonValue, doc: Doc) -> list[Atom]:
        """Expand an old-side schema (upper reading; an unresolvable ``$ref`` admits anything)."""
        try:
            return expand(schema, doc, UPPER)
        except UnresolvedRef:
            return []

    def includes(self, old: list[Atom], new: JsonValue, new_doc: Doc) -> bool:
        """Tell whether the conjunction ``old`` is proven included in ``new``."""
        return not has_breaking(self.conj(old, new, new_doc, "#/"))

    # ------------------------------------------------------------------ the core

    def conj(self, old: list[Atom], new: JsonValue, new_doc: Doc, ptr: str) -> list[Difference]:
        """Return the differences between the conjunction ``old`` and the schema ``new``."""
        if is_trivially_true(new):
            return []
        kinds = effective_kinds(old)
        if not kinds:
            return []  # the old schema accepts nothing
        if self._same(old, new, new_doc):
            return []
        key = (frozenset(a.key() for a in old), id(new))
        if key in self._active:
            return []
        if len(self._active) >= _MAX_DEPTH:
            return [Difference("KEYWORD_NOT_UNDERSTOOD", ptr, True, "schemas nest too deep")]
        self._active.add(key)
        try:
            return self._conj(old, kinds, new, new_doc, ptr)
        finally:
            self._active.discard(key)

    def _same(self, old: list[Atom], new: JsonValue, new_doc: Doc) -> bool:
        if len(old) != 1 or old[0].skip != frozenset({"allOf", "$ref"}):
            return False
        atom = old[0]
        if not json_equal(atom.schema, new):
            return False
        return not has_ref(new) or json_equal(atom.doc.root, new_doc.root)

    def _stated(self, old: list[Atom], new: Atom) -> bool:
        """Tell whether the old side states the new conjunct verbatim (so it implies it)."""
        whole = frozenset({"allOf", "$ref"})
        if not new.skip <= whole:
            return False
        return any(
            atom.skip <= whole
            and json_equal(atom.schema, new.schema)
            and (not has_ref(new.schema) or json_equal(atom.doc.root, new.doc.root))
            for atom in old
        )

    def _conj(
        self,
        old: list[Atom],
        kinds: frozenset[str],
        new: JsonValue,
        new_doc: Doc,
        ptr: str,
    ) -> list[Difference]:
        exact = self._finite(old, new, new_doc)
        if exact is True:
            return []
        split = self._split_old(old)
        if split is not None:
            out: list[Difference] = []
            for branch in split:
                out += self.conj(branch, new, new_doc, ptr)
            return out
        try:
            atoms = expand(new, new_doc, LOWER)
        except UnresolvedRef as error:
            return [Difference("REFERENCE_UNRESOLVED", ptr, True, str(error))]
        diffs: list[Difference] = []
        for atom in atoms:
            if not self._stated(old, atom):
                diffs += self.atom(old, kinds, atom, ptr, solo=len(atoms) == 1)
        if exact is False and not has_breaking(diffs):
            diffs.append(Difference("ENUM_ARRAY_NARROWED", ptr, True, "an old value is rejected"))
        return diffs

    def _finite(self, old: list[Atom], new: JsonValue, new_doc: Doc) -> bool | None:
        """Decide exactly when the old side has finitely many values; ``None``: cannot."""
        values = self.old_values(old)
        if values is None:
            return None
        try:
            return all(is_valid(v, new, new_doc, LOWER) for v in values)
        except Undecidable:
            return None

    def old_values(self, old: list[Atom]) -> list[JsonValue] | None:
        """Return the values a finite old conjunction accepts (a superset when unsure)."""
        candidates = first_finite(old)
        if candidates is None:
            return None
        out = []
        for value in candidates:
            try:
                ok = all(is_valid(value, a.schema, a.doc, UPPER) for a in old)
            except Undecidable:
                ok = True
            if ok:
                out.append(value)
        return out

    def _split_old(self, old: list[Atom]) -> list[list[Atom]] | None:
        """Split the first disjunction of the old conjunction into branch conjunctions."""
        for index, atom in enumerate(old):
            rest = old[:index] + old[index + 1 :]
            for keyword in ("anyOf", "oneOf"):
                branches = atom.get(keyword)
                if isinstance(branches, list):
                    kept = Atom(atom.schema, atom.doc, atom.skip | {keyword})
                    return [[kept, *rest, *self.expand_old(b, atom.doc)] for b in branches]
            if atom.has("if"):
                kept = Atom(atom.schema, atom.doc, atom.skip | {"if", "then", "else"})
                condition = atom.get("if")
                then = self.expand_old(condition, atom.doc)
                then += self.expand_old(atom.get("then", True), atom.doc)
                otherwise = [Atom({"not": condition}, atom.doc)]
                otherwise += self.expand_old(atom.get("else", True), atom.doc)
                return [[kept, *rest, *then], [kept, *rest, *otherwise]]
        return None

    def atom(
        self, old: list[Atom], kinds: frozenset[str], new: Atom, ptr: str, solo: bool
    ) -> list[Difference]:
        """Return the differences between the old conjunction and one new conjunct."""
        if new.is_false:
            return [Difference("SCHEMA_NARROWED", ptr, True, "the new schema is false")]
        ctx = Ctx(self, old, kinds, new, ptr, solo)
        done: list[Group] = []
        diffs: list[Difference] = []
        keywords = list(new.keywords())
        if solo:  # removed constraints are worth reporting (as compatible differences)
            keywords += [k for a in old for k in a.keywords() if k not in keywords]
        for keyword in keywords:
            group = _ALL_GROUPS.get(keyword)
            if group is None:
                if (
                    new.has(keyword)
                    and keyword in NOT_UNDERSTOOD
                    and not is_trivially_true(new.get(keyword))
                ):
                    where = child(ptr, keyword)
                    diffs.append(Difference("KEYWORD_NOT_UNDERSTOOD", where, True, keyword))
                continue  # annotations and unknown keywords never reject a value
            if group not in done:
                done.append(group)
                diffs += group(ctx)
        return diffs

    # ------------------------------------------------------------------ unions and not

    def covered_by_union(
        self, old: list[Atom], kinds: frozenset[str], branches: list[JsonValue], doc: Doc,
        exclusive: bool, ptr: str, keyword: str,
    ) -> tuple[bool, list[Difference]]:  # fmt: skip
        """Tell whether ``old`` is included in the union of ``branches`` (``oneOf`` if exclusive).

        Tries the whole old side against each branch first, then each kind of value the
        old side admits on its own (``string | number`` into ``oneOf: [string, number]``).
        Returns the nested differences of the closest branch for the report.
        """
        ok, nested = self._one_branch(old, branches, doc, exclusive, ptr, keyword)
        if ok:
            return True, []
        parts = self.split_by_kind(old, kinds)
        if len(parts) < 2:
            return False, nested
        for part in parts:
            part_ok, _ = self._one_branch(part, branches, doc, exclusive, ptr, keyword)
            if not part_ok:
                return False, nested
        return True, []

    def split_by_kind(self, old: list[Atom], kinds: frozenset[str]) -> list[list[Atom]]:
        """Return ``old`` restricted to each kind of value it admits (numbers stay together)."""
        return [[*old, Atom({"type": name}, _EMPTY_DOC)] for name in _kind_groups(kinds)]

    def _one_branch(
        self, old: list[Atom], branches: list[JsonValue], doc: Doc, exclusive: bool, ptr: str,
        keyword: str,
    ) -> tuple[bool, list[Difference]]:  # fmt: skip
        closest: list[Difference] | None = None
        for index, branch in enumerate(branches):
            diffs = self.conj(old, branch, doc, child(ptr, keyword, index))
            if has_breaking(diffs):
                if closest is None or _weight(diffs) < _weight(closest):
                    closest = diffs
                continue
            others = [b for j, b in enumerate(branches) if j != index]
            if not exclusive or all(self.disjoint(old, b, doc) for b in others):
                return True, []
            closest = [Difference("ONE_OF_OVERLAP", child(ptr, keyword), True)]
        return False, closest or []

    def disjoint(self, old: list[Atom], other: JsonValue, doc: Doc) -> bool:
        """Tell whether no value satisfies both ``old`` and ``other`` (sound, incomplete)."""
        try:
            theirs = expand(other, doc, UPPER)
        except UnresolvedRef:
            return False
        if not (effective_kinds(old) & effective_kinds(theirs)):
            return True
        for atom in theirs:
            for keyword in ("anyOf", "oneOf"):
                branches = atom.get(keyword)
                if isinstance(branches, list) and all(
                    self.disjoint(old, b, atom.doc) for b in branches
                ):
                    return True
        if self._values_outside(self.old_values(old), theirs):
            return True
        if self._values_outside(self.old_values(theirs), old):
            return True
        for mine, yours in ((old, theirs), (theirs, old)):
            for atom in mine:
                if atom.has("not") and self.includes(yours, atom.get("not"), atom.doc):
                    return True
        return False

    def _values_outside(self, values: list[JsonValue] | None, atoms: list[Atom]) -> bool:
        if values is None:
            return False
        try:
            return all(not all(is_valid(v, a.schema, a.doc, UPPER) for a in atoms) for v in values)
        except Undecidable:
            return False


def _kind_groups(kinds: frozenset[str]) -> list[str]:
    groups = [_KIND_TYPES[k] for k in sorted(kinds) if k in _KIND_TYPES]
    if "fraction" in kinds:
        groups.append("number")
    elif "integer" in kinds:
        groups.append("integer")
    return groups


def _weight(diffs: Sequence[Difference]) -> int:
    return sum(1 for d in diffs if d.breaking)
