"""Array and object keyword groups: positions, properties, patterns and dependencies.

Arrays are compared position by position: the schema for position ``i`` is the tuple item
(``items`` array / ``prefixItems``) or the rest schema (``additionalItems`` / ``items``).
Objects are compared name by name for every property either side names, then per
``patternProperties`` region, then for the remaining names (``additionalProperties``).
Where the old side cannot have an element at all (``false``), nothing is compared there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from persist_tool.compat.changes import Difference, child, has_breaking
from persist_tool.compat.keywords import Ctx, Group, bound_diffs
from persist_tool.compat.schemadoc import (
    LOWER,
    UPPER,
    Atom,
    JsonValue,
    Reading,
    effective_kinds,
    is_trivially_true,
    mapping_or_empty,
    search_pattern,
)

if TYPE_CHECKING:
    from persist_tool.compat.inclusion import Checker

__all__ = ["CONTAINER_GROUPS"]


# ---------------------------------------------------------------------- arrays


def _tuple_of(atom: Atom, reading: Reading) -> tuple[list[JsonValue], JsonValue, str, str]:
    """Return (tuple items, rest schema, tuple keyword, rest keyword) of one conjunct."""
    items = atom.get("items")
    prefix = atom.get("prefixItems")
    if isinstance(prefix, list):
        return prefix, (items if atom.has("items") else True), "prefixItems", "items"
    if isinstance(items, list):
        return items, atom.get("additionalItems", True), "items", "additionalItems"
    if atom.has("items"):
        return [], items, "items", "items"
    if reading == LOWER and atom.has("additionalItems"):
        return [], atom.get("additionalItems"), "items", "additionalItems"
    return [], True, "items", "items"


def _old_position(checker: Checker, old: list[Atom], index: int) -> list[Atom]:
    out: list[Atom] = []
    for atom in old:
        prefix, rest, _, _ = _tuple_of(atom, UPPER)
        out += checker.expand_old(prefix[index] if index < len(prefix) else rest, atom.doc)
    return out


def _arrays(ctx: Ctx) -> list[Difference]:
    if "array" not in ctx.kinds:
        return []
    checker, new, doc = ctx.checker, ctx.new, ctx.new.doc
    diffs = bound_diffs(ctx, "minItems", "maxItems", "ITEMS")
    old_max = min(ctx.old_numbers("maxItems"), default=None)
    prefix, rest, tuple_key, rest_key = _tuple_of(new, LOWER)
    old_prefix_len = max((len(_tuple_of(a, UPPER)[0]) for a in ctx.old), default=0)
    width = max(len(prefix), old_prefix_len)
    for index in range(width + 1):
        if old_max is not None and index >= old_max:
            break
        old = _old_position(checker, ctx.old, index)
        if not effective_kinds(old):
            break  # the old side has no element here, nor after
        is_rest = index == width
        schema = rest if is_rest or index >= len(prefix) else prefix[index]
        if is_trivially_true(schema):
            continue
        where = child(ctx.ptr, rest_key) if is_rest else child(ctx.ptr, tuple_key, index)
        nested = checker.conj(old, schema, doc, where)
        if has_breaking(nested):
            opened = is_rest and all(is_trivially_true(_tuple_of(a, UPPER)[1]) for a in ctx.old)
            diffs += _array_summary(
                index,
                is_rest,
                schema,
                opened,
                len(prefix),
                old_prefix_len,
                where,
                rest_key,
            )
        diffs += nested
    diffs += _unique(ctx, old_max)
    diffs += _contains(ctx)
    return diffs


def _array_summary(
    index: int,
    is_rest: bool,
    schema: JsonValue,
    old_rest_open: bool,
    new_len: int,
    old_len: int,
    where: str,
    rest_key: str,
) -> list[Difference]:
    """Name what happened at an array position whose comparison broke."""
    if is_rest:
        if schema is False:
            return [Difference("ADDITIONAL_ITEMS_REMOVED", where, True)]
        if not old_rest_open:
            return []  # the nested differences say how the rest schema narrowed
        kind = "SCHEMA_ADDED" if rest_key == "items" else "ADDITIONAL_ITEMS_NARROWED"
        return [Difference(kind, where, True)]
    if index >= old_len:
        return [Difference("ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", where, True)]
    if index >= new_len:
        return [Difference("ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL", where, True)]
    return []


def _unique(ctx: Ctx, old_max: int | float | None) -> list[Difference]:
    where = child(ctx.ptr, "uniqueItems")
    old_unique = any(v is True for v in ctx.old_values_of("uniqueItems"))
    if ctx.new.get("uniqueItems") is True:
        if old_unique or (old_max is not None and old_max <= 1):
            return []
        return [Difference("UNIQUE_ITEMS_ADDED", where, True, "duplicates no longer allowed")]
    if old_unique and ctx.solo:
        return [Difference("UNIQUE_ITEMS_REMOVED", where, False)]
    return []


def _contains(ctx: Ctx) -> list[Difference]:
    if not ctx.new.has("contains"):
        return []
    new, checker = ctx.new, ctx.checker
    low, high = new.get("minContains", 1), new.get("maxContains")
    if low == 0 and high is None:
        return []
    for atom in ctx.old:
        if not atom.has("contains") or atom.get("minContains", 1) < low:
            continue
        old_schema = checker.expand_old(atom.get("contains"), atom.doc)
        if high is None and checker.includes(old_schema, new.get("contains"), new.doc):
            return []
    where = child(ctx.ptr, "contains")
    return [Difference("CONTAINS_CHANGED", where, True, "arrays must now contain other items")]


# ---------------------------------------------------------------------- objects


def _props(atom: Atom) -> Mapping[str, JsonValue]:
    return mapping_or_empty(atom.get("properties"))


def _patterns(atom: Atom) -> Mapping[str, JsonValue]:
    return mapping_or_empty(atom.get("patternProperties"))


def _dependencies(atom: Atom) -> list[tuple[str, JsonValue]]:
    """Return (property, dependency) pairs of every dependency keyword of one conjunct."""
    out: list[tuple[str, JsonValue]] = []
    for key in ("dependencies", "dependentRequired", "dependentSchemas"):
        out += list(mapping_or_empty(atom.get(key)).items())
    return out


def _old_property(ctx: Ctx, name: str) -> list[Atom]:
    """Return the old conjunction a property called ``name`` satisfies (a superset)."""
    out: list[Atom] = []
    for atom in ctx.old:
        subs: list[JsonValue] = []
        if name in _props(atom):
            subs.append(_props(atom)[name])
        unsure = False
        for pattern, sub in _patterns(atom).items():
            found = search_pattern(pattern, name)
            unsure = unsure or found is None
            if found:
                subs.append(sub)
        if not subs and not unsure:
            subs.append(False if ctx.checker.lenient else atom.get("additionalProperties", True))
        for sub in subs:
            out += ctx.checker.expand_old(sub, atom.doc)
    return out


def _new_property(ctx: Ctx, name: str) -> list[JsonValue]:
    """Return the schemas the new conjunct applies to a property called ``name``."""
    new = ctx.new
    subs: list[JsonValue] = []
    matched = name in _props(new)
    if matched:
        subs.append(_props(new)[name])
    for pattern, sub in _patterns(new).items():
        found = search_pattern(pattern, name)
        if found is None or found:
            subs.append(sub)
        matched = matched or bool(found)
    if not matched and not ctx.checker.lenient and new.has("additionalProperties"):
        subs.append(new.get("additionalProperties"))
    return subs


def _names(ctx: Ctx) -> list[str]:
    names: set[str] = set()
    for atom in [*ctx.old, ctx.new]:
        names |= set(_props(atom))
        names |= {name for name, _ in _dependencies(atom)}
        required = atom.get("required")
        if isinstance(required, list):
            names |= {r for r in required if isinstance(r, str)}
    return sorted(names)


def _objects(ctx: Ctx) -> list[Difference]:
    if "object" not in ctx.kinds:
        return []
    diffs = bound_diffs(ctx, "minProperties", "maxProperties", "PROPERTIES")
    for name in _names(ctx):
        diffs += _property(ctx, name)
    diffs += _pattern_regions(ctx)
    diffs += _other_names(ctx)
    diffs += _required(ctx)
    diffs += _dependency_checks(ctx)
    diffs += _property_names(ctx)
    return diffs


def _property(ctx: Ctx, name: str) -> list[Difference]:
    where = child(ctx.ptr, "properties", name)
    declared_old = any(name in _props(a) for a in ctx.old)
    declared_new = name in _props(ctx.new)
    subs = [s for s in _new_property(ctx, name) if not is_trivially_true(s)]
    old = _old_property(ctx, name)
    if not effective_kinds(old):
        if declared_new and not declared_old and ctx.checker.lenient:
            text = "assumes old documents never carry it"
            kind = "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            if not _closed(ctx.old):
                return [Difference(kind, where, False, text, assumed=True)]
        return []
    nested: list[Difference] = []
    for sub in subs:
        nested += ctx.checker.conj(old, sub, ctx.new.doc, where)
    if not has_breaking(nested):
        if declared_old and not declared_new and ctx.checker.lenient and _closed([ctx.new]):
            text = "assumes readers ignore unknown properties"
            kind = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            return [Difference(kind, where, False, text, assumed=True)]
        return nested
    if declared_new and not declared_old:
        open_old = not any(a.has("additionalProperties") for a in ctx.old)
        kind = (
            "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            if open_old
            else "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        )
        nested.insert(0, Difference(kind, where, True, "old documents may hold other values"))
    elif declared_old and not declared_new:
        kind = (
            "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            if ctx.new.get("additionalProperties") is False
            else "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        )
        nested.insert(0, Difference(kind, where, True, "old values are no longer allowed"))
    return nested


def _closed(atoms: list[Atom]) -> bool:
    return any(a.get("additionalProperties") is False for a in atoms)


def _either(values: list[JsonValue]) -> JsonValue:
    return values[0] if len(values) == 1 else {"anyOf": values}


def _pattern_regions(ctx: Ctx) -> list[Difference]:
    diffs: list[Difference] = []
    lenient = ctx.checker.lenient
    for pattern, sub in _patterns(ctx.new).items():
        if is_trivially_true(sub):
            continue
        old: list[Atom] = []
        for atom in ctx.old:
            own = _patterns(atom)
            if pattern in own:
                old += ctx.checker.expand_old(own[pattern], atom.doc)
                continue
            others = list(own.values())
            fallback = [] if lenient else [atom.get("additionalProperties", True)]
            alternatives = fallback + others
            old += ctx.checker.expand_old(
                _either(alternatives) if alternatives else False, atom.doc
            )
        where = child(ctx.ptr, "patternProperties", pattern)
        nested = ctx.checker.conj(old, sub, ctx.new.doc, where)
        if has_breaking(nested):
            diffs.append(Difference("PATTERN_PROPERTY_NARROWED", where, True))
        diffs += nested
    return diffs


def _other_names(ctx: Ctx) -> list[Difference]:
    """Compare what the remaining property names may hold (``additionalProperties``)."""
    extra = ctx.new.get("additionalProperties")
    where = child(ctx.ptr, "additionalProperties")
    if not ctx.new.has("additionalProperties") or is_trivially_true(extra):
        return []
    if ctx.checker.lenient:
        kind = (
            "ADDITIONAL_PROPERTIES_REMOVED" if extra is False else "ADDITIONAL_PROPERTIES_NARROWED"
        )
        return [Difference(kind, where, False, "assumes no undeclared properties", assumed=True)]
    new_patterns = set(_patterns(ctx.new))
    old: list[Atom] = []
    for atom in ctx.old:
        alternatives = [atom.get("additionalProperties", True)]
        alternatives += [s for p, s in _patterns(atom).items() if p not in new_patterns]
        old += ctx.checker.expand_old(_either(alternatives), atom.doc)
    nested = ctx.checker.conj(old, extra, ctx.new.doc, where)
    if not has_breaking(nested):
        return nested
    kind = "ADDITIONAL_PROPERTIES_REMOVED" if extra is False else "ADDITIONAL_PROPERTIES_NARROWED"
    return [
        Difference(kind, where, True, "undeclared properties of old documents"),
        *nested,
    ]


def _required(ctx: Ctx) -> list[Difference]:
    diffs: list[Difference] = []
    old_required: set[str] = set()
    for atom in ctx.old:
        if isinstance(atom.get("required"), list):
            old_required |= set(atom.get("required"))
    new_required = ctx.new.get("required")
    new_required = set(new_required) if isinstance(new_required, list) else set()
    new_props = _props(ctx.new)
    for name in sorted(new_required - old_required):
        where = child(ctx.ptr, "required", name)
        declared_old = any(name in _props(a) for a in ctx.old)
        if name not in new_props and not declared_old:
            text = "not a declared property (the schema registry counts it compatible)"
            diffs.append(Difference("REQUIRED_UNDECLARED_PROPERTY_ADDED", where, False, text, True))
        elif isinstance(new_props.get(name), dict) and "default" in new_props[name]:
            text = "compatible only for readers that fill in defaults"
            diffs.append(
                Difference("REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED", where, False, text, True)
            )
        elif declared_old:
            diffs.append(
                Difference("REQUIRED_ATTRIBUTE_ADDED", where, True, "old documents may lack it")
            )
        else:
            kind = "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            diffs.append(Difference(kind, where, True, "old documents lack it"))
    if ctx.solo:
        for name in sorted(old_required - new_required):
            diffs.append(
                Difference(
                    "REQUIRED_ATTRIBUTE_REMOVED",
                    child(ctx.ptr, "required", name),
                    False,
                )
            )
    return diffs


def _dependency_checks(ctx: Ctx) -> list[Difference]:
    diffs: list[Difference] = []
    old_required: set[str] = set()
    for atom in ctx.old:
        if isinstance(atom.get("required"), list):
            old_required |= set(atom.get("required"))
    for name, dep in _dependencies(ctx.new):
        if not effective_kinds(_old_property(ctx, name)):
            continue  # old documents never hold the property
        where = child(ctx.ptr, "dependencies", name)
        found = [(d, a) for a in ctx.old for n, d in _dependencies(a) if n == name]
        olds = [value for value, _ in found]
        if isinstance(dep, list):
            known = set(old_required)
            for old in olds:
                known |= set(old) if isinstance(old, list) else set()
            missing = sorted(set(dep) - known)
            if missing:
                kind = "DEPENDENCY_ARRAY_EXTENDED" if olds else "DEPENDENCY_ARRAY_ADDED"
                diffs.append(Difference(kind, where, True, f"now needs {', '.join(missing)}"))
            continue
        if is_trivially_true(dep):
            continue
        old_schemas = [(o, a) for o, a in found if not isinstance(o, list)]
        base = list(ctx.old)
        for old, atom in old_schemas:
            base += ctx.checker.expand_old(old, atom.doc)
        nested = ctx.checker.conj(base, dep, ctx.new.doc, where)
        if has_breaking(nested):
            kind = "DEPENDENCY_SCHEMA_CHANGED" if old_schemas else "DEPENDENCY_SCHEMA_ADDED"
            diffs += [Difference(kind, where, True), *nested]
    return diffs


def _property_names(ctx: Ctx) -> list[Difference]:
    names = ctx.new.get("propertyNames")
    if not ctx.new.has("propertyNames") or is_trivially_true(names):
        return []
    old: list[Atom] = [Atom({"type": "string"}, ctx.new.doc)]
    for atom in ctx.old:
        if atom.has("propertyNames"):
            old += ctx.checker.expand_old(atom.get("propertyNames"), atom.doc)
        if atom.get("additionalProperties") is False and not _patterns(atom):
            old.append(Atom({"enum": sorted(_props(atom))}, atom.doc))
    where = child(ctx.ptr, "propertyNames")
    nested = ctx.checker.conj(old, names, ctx.new.doc, where)
    if has_breaking(nested):
        return [Difference("PROPERTY_NAMES_CHANGED", where, True), *nested]
    return []


_ARRAY_KEYS = ("items", "prefixItems", "additionalItems", "minItems", "maxItems",
               "uniqueItems", "contains")  # fmt: skip
_OBJECT_KEYS = ("properties", "patternProperties", "additionalProperties", "required",
                "minProperties", "maxProperties", "dependencies", "dependentRequired",
                "dependentSchemas", "propertyNames")  # fmt: skip

CONTAINER_GROUPS: dict[str, Group] = {
    **{key: _arrays for key in _ARRAY_KEYS},
    **{key: _objects for key in _OBJECT_KEYS},
}
"""The array and object keyword groups, by keyword."""
