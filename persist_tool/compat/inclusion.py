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
from dataclasses import dataclass, field, replace

from persist_tool.compat.changes import Difference, Policy, child, has_breaking, is_proven
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
    mapping_or_empty,
    search_pattern,
    signature,
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
_TYPE_ATOMS = {
    name: Atom({"type": name}, _EMPTY_DOC) for name in (*_KIND_TYPES, "integer", "number")
}
_Key = tuple[frozenset[tuple[int, frozenset[str]]], int]


def _rebase(diffs: list[Difference], ptr: str, *, to_root: bool = False) -> list[Difference]:
    """Move pointers between ``ptr`` and the root ``#``, to reuse results found elsewhere."""
    base = ptr.rstrip("/")
    out: list[Difference] = []
    for diff in diffs:
        if to_root:
            rest = diff.pointer.rstrip("/")[len(base) :] if diff.pointer.startswith(base) else ""
            pointer = "#" + rest
        else:
            pointer = base + diff.pointer.rstrip("/")[1:]
        out.append(replace(diff, pointer=pointer if pointer != "#" else "#/"))
    return out


_MAX_DEPTH = 256
"""Nesting past this is reported as unproven rather than risking unbounded recursion."""
_ALL_GROUPS: dict[str, Group] = {**GROUPS, **CONTAINER_GROUPS}


@dataclass
class Checker:
    """Compare schemas under one policy; keeps the set of pairs under comparison."""

    policy: Policy = Policy.STRICT
    _active: set[_Key] = field(default_factory=set)
    _memo: dict[_Key, tuple[list[Difference], list[Atom], JsonValue]] = field(default_factory=dict)
    _negations: dict[tuple[int, int], Atom] = field(default_factory=dict)
    _assumed_cycles: int = 0
    _strict: Checker | None = None
    _disjoint_active: set[tuple[frozenset[tuple[int, frozenset[str]]], ...]] = field(
        default_factory=set
    )

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
        """Tell whether the conjunction ``old`` is proven included in ``new``.

        Differences counted compatible only by convention (``assumed``) do not prove
        anything here: this answer feeds other proofs (``not``, ``if``, ``oneOf``).
        """
        if self.lenient:  # proofs feed negations too, where lenient reading is unsound
            return self._strict_checker().includes(old, new, new_doc)
        return is_proven(self.conj(old, new, new_doc, "#/"))

    def _strict_checker(self) -> Checker:
        if self._strict is None:
            self._strict = Checker(Policy.STRICT)
        return self._strict

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
            self._assumed_cycles += 1
            return []
        if key in self._memo:
            return _rebase(self._memo[key][0], ptr)
        if len(self._active) >= _MAX_DEPTH:
            return [Difference("KEYWORD_NOT_UNDERSTOOD", ptr, True, "schemas nest too deep")]
        cycles_before = self._assumed_cycles
        self._active.add(key)
        try:
            diffs = self._conj(old, kinds, new, new_doc, ptr)
        finally:
            self._active.discard(key)
        # A result that leaned on a cycle assumption holds only inside that proof; a
        # breaking result never depends on one (assumptions only ever remove failures).
        if has_breaking(diffs) or self._assumed_cycles == cycles_before:
            # The entry keeps the compared objects alive, so their ids are never reused.
            self._memo[key] = (_rebase(diffs, ptr, to_root=True), old, new)
        return diffs

    def _same(self, old: list[Atom], new: JsonValue, new_doc: Doc) -> bool:
        if len(old) != 1 or old[0].skip != frozenset({"allOf", "$ref"}):
            return False
        return self._equal(old[0].schema, old[0].doc, new, new_doc)

    def _equal(self, old: JsonValue, old_doc: Doc, new: JsonValue, new_doc: Doc) -> bool:
        """Tell whether two schemas mean the same (equal but for annotations)."""
        if signature(old) != signature(new):
            return False
        return not has_ref(new) or old_doc.closure_signature(old) == new_doc.closure_signature(new)

    def _stated(self, old: list[Atom], new: Atom) -> bool:
        """Tell whether the old side states the new conjunct verbatim (so it implies it)."""
        whole = frozenset({"allOf", "$ref"})
        if not new.skip <= whole:
            return False
        return any(
            atom.skip <= whole and self._equal(atom.schema, atom.doc, new.schema, new.doc)
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
                    out = []
                    for index, branch in enumerate(branches):
                        part = [kept, *rest, *self.expand_old(branch, atom.doc)]
                        if keyword == "oneOf":  # exactly one: every other branch fails
                            others = branches[:index] + branches[index + 1 :]
                            part += [self.negation(other, atom.doc) for other in others]
                        out.append(part)
                    return out
            if atom.has("if"):
                kept = Atom(atom.schema, atom.doc, atom.skip | {"if", "then", "else"})
                condition = atom.get("if")
                then = self.expand_old(condition, atom.doc)
                then += self.expand_old(atom.get("then", True), atom.doc)
                otherwise = [self.negation(condition, atom.doc)]
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
            return True, nested
        parts = self.split_by_kind(old, kinds)
        if len(parts) < 2:
            return False, nested
        notes: list[Difference] = []
        for part in parts:
            part_ok, part_notes = self._one_branch(part, branches, doc, exclusive, ptr, keyword)
            if not part_ok:
                return False, nested
            notes += part_notes
        return True, notes

    def split_by_kind(self, old: list[Atom], kinds: frozenset[str]) -> list[list[Atom]]:
        """Return ``old`` restricted to each kind of value it admits (numbers stay together)."""
        return [[*old, _TYPE_ATOMS[name]] for name in _kind_groups(kinds)]

    def negation(self, schema: JsonValue, doc: Doc) -> Atom:
        """Return the conjunct ``not: schema`` (one object per schema, so caches recognise it)."""
        key = (id(schema), id(doc))
        if key not in self._negations:
            self._negations[key] = Atom({"not": schema}, doc)
        return self._negations[key]

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
                return True, [d for d in diffs if d.assumed]
            closest = [Difference("ONE_OF_OVERLAP", child(ptr, keyword), True)]
        return False, closest or []

    def disjoint(self, old: list[Atom], other: JsonValue, doc: Doc) -> bool:
        """Tell whether no value satisfies both ``old`` and ``other`` (sound, incomplete)."""
        try:
            theirs = expand(other, doc, UPPER)
        except UnresolvedRef:
            return False
        return self.disjoint_atoms(old, theirs)

    def disjoint_atoms(self, mine: list[Atom], theirs: list[Atom]) -> bool:
        """Tell whether no value satisfies both conjunctions (sound, incomplete)."""
        common = effective_kinds(mine) & effective_kinds(theirs)
        if not common:
            return True
        key = (frozenset(a.key() for a in mine), frozenset(a.key() for a in theirs))
        if key in self._disjoint_active:
            return False  # a cycle proves nothing here
        self._disjoint_active.add(key)
        try:
            return self._disjoint(mine, theirs, common)
        finally:
            self._disjoint_active.discard(key)

    def _disjoint(self, mine: list[Atom], theirs: list[Atom], common: frozenset[str]) -> bool:
        for one, other in ((mine, theirs), (theirs, mine)):
            for atom in one:
                for keyword in ("anyOf", "oneOf"):
                    branches = atom.get(keyword)
                    if isinstance(branches, list) and all(
                        self.disjoint_atoms(other, self.expand_old(b, atom.doc)) for b in branches
                    ):
                        return True
            if self._values_outside(self.old_values(one), other):
                return True
            for atom in one:
                if atom.has("not") and self.includes(other, atom.get("not"), atom.doc):
                    return True
        if common <= {"object"}:
            required = _required_names(mine) | _required_names(theirs)
            for name in sorted(required):
                if self.disjoint_atoms(
                    self._property_atoms(mine, name), self._property_atoms(theirs, name)
                ):
                    return True
        return False

    def _property_atoms(self, atoms: list[Atom], name: str) -> list[Atom]:
        """Return what a property called ``name`` satisfies (a superset; false if forbidden)."""
        out: list[Atom] = []
        for atom in atoms:
            props = mapping_or_empty(atom.get("properties"))
            subs = [props[name]] if name in props else []
            unsure = False
            for pattern, sub in mapping_or_empty(atom.get("patternProperties")).items():
                found = search_pattern(pattern, name)
                unsure = unsure or found is None
                if found:
                    subs.append(sub)
            if not subs and not unsure and atom.has("additionalProperties"):
                subs.append(atom.get("additionalProperties"))
            for sub in subs:
                out += self.expand_old(sub, atom.doc)
        return out

    def _values_outside(self, values: list[JsonValue] | None, atoms: list[Atom]) -> bool:
        if values is None:
            return False
        try:
            return all(not all(is_valid(v, a.schema, a.doc, UPPER) for a in atoms) for v in values)
        except Undecidable:
            return False


def _required_names(atoms: list[Atom]) -> set[str]:
    names: set[str] = set()
    for atom in atoms:
        required = atom.get("required")
        if isinstance(required, list):
            names |= {r for r in required if isinstance(r, str)}
    return names


def _kind_groups(kinds: frozenset[str]) -> list[str]:
    groups = [_KIND_TYPES[k] for k in sorted(kinds) if k in _KIND_TYPES]
    if "fraction" in kinds:
        groups.append("number")
    elif "integer" in kinds:
        groups.append("integer")
    return groups


def _weight(diffs: Sequence[Difference]) -> int:
    return sum(1 for d in diffs if d.breaking)
