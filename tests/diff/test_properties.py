"""Properties of the diff over generated schema evolutions.

* ``diff(a, a) == []``;
* running ``diff(a, b)`` on ``a`` gives ``b`` (in storage terms);
* running the inverted diff on ``b`` gives ``a`` back;
* without renames, ``diff(a, b)`` inverted equals ``diff(b, a)`` as a multiset;
* with renames passed both ways, the rename changes invert into each other.
"""

from __future__ import annotations

import dataclasses
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from persist_tool import ir
from persist_tool.diff import (
    AlterNullability,
    Change,
    RenameField,
    apply_changes,
    diff_schemas,
    invert_changes,
)
from tests import strategies as irs

names = st.text(string.ascii_lowercase, min_size=1, max_size=4).map(lambda s: "c_" + s)


@st.composite
def plain_fields(draw: st.DrawFn, name: str) -> ir.Field:
    """A field named ``name`` stored in column ``name``, declaring no renames."""
    drawn = draw(irs.fields(name))
    return dataclasses.replace(drawn, column=name, renamed_from=())


@st.composite
def entities(draw: st.DrawFn, name: str, field_names: list[str]) -> ir.Entity:
    fields = tuple(draw(plain_fields(n)) for n in field_names)
    keys = st.sampled_from(field_names)
    return ir.Entity(
        name=name,
        table=name.lower(),
        fields=fields,
        primary_key=(field_names[0],),
        unique=tuple(draw(st.lists(keys.map(lambda n: (n,)), max_size=2, unique=True))),
        indexes=tuple(
            ir.Index(f"ix_{n}", (n,), draw(st.booleans()))
            for n in draw(st.lists(keys, max_size=2, unique=True))
        ),
        commands=tuple(
            ir.CommandDef(c, (draw(plain_fields("amount")),), None, draw(st.integers(1, 2)))
            for c in draw(st.lists(st.sampled_from(["deposit", "close"]), max_size=2, unique=True))
        ),
    )


@st.composite
def evolutions(
    draw: st.DrawFn,
) -> tuple[ir.Schema, ir.Schema, dict[str, dict[str, str]]]:
    """Draw a schema, an evolution of it, and the field renames the evolution declares."""
    old_entities: list[ir.Entity] = []
    new_entities: list[ir.Entity] = []
    renames: dict[str, dict[str, str]] = {}
    entity_names = draw(st.lists(st.sampled_from(["Todo", "Order", "Tag"]), unique=True))
    for ename in entity_names:
        old_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
        old = draw(entities(ename, old_names))
        fate = draw(st.sampled_from(["keep", "keep", "keep", "drop"]))
        old_entities.append(old)
        if fate == "drop":
            continue
        new_fields: list[ir.Field] = []
        used = set(old_names)
        for field in old.fields:
            op = draw(st.sampled_from(["same", "same", "alter", "drop", "rename"]))
            if op == "drop" and field.name != old_names[0]:
                continue
            if op == "alter":
                field = dataclasses.replace(draw(plain_fields(field.name)))
            if op == "rename":
                fresh = draw(names.filter(lambda n, taken=frozenset(used): n not in taken))
                used.add(fresh)
                renames.setdefault(ename, {})[field.name] = fresh
                field = dataclasses.replace(field, name=fresh, column=fresh)
            new_fields.append(field)
        for fresh in draw(st.lists(names, max_size=2, unique=True)):
            if fresh not in used:
                used.add(fresh)
                new_fields.append(draw(plain_fields(fresh)))
        new_names = [x.name for x in new_fields]
        reshaped = draw(entities(ename, new_names))
        new_entities.append(
            dataclasses.replace(
                reshaped,
                fields=tuple(new_fields),
                schema_version=2,
                commands=draw(st.sampled_from([old.commands, reshaped.commands])),
            )
        )
    for ename in draw(st.lists(st.sampled_from(["Note", "User"]), unique=True)):
        new_entities.append(
            draw(entities(ename, draw(st.lists(names, min_size=1, max_size=3, unique=True))))
        )
    return ir.Schema(tuple(old_entities)), ir.Schema(tuple(new_entities)), renames


def storage(schema: ir.Schema) -> dict[str, Any]:
    """Return what a schema means for stored data, ignoring order and non-storage details."""

    def field_key(f: ir.Field) -> Any:
        return (f.column, f.type, f.nullable, f.default, f.generated, f.constraints)

    def command_key(c: ir.CommandDef) -> Any:
        return (c.payload_version, tuple(field_key(p) for p in c.params))

    return {
        e.name: (
            e.table,
            {f.name: field_key(f) for f in e.fields},
            e.primary_key,
            frozenset(e.unique),
            frozenset(e.indexes),
            {c.name: command_key(c) for c in e.commands},
        )
        for e in schema.entities
    }


def inverted_renames(renames: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {e: {new: old for old, new in m.items()} for e, m in renames.items()}


def same_multiset(a: list[Change], b: list[Change]) -> bool:
    """Tell whether ``a`` and ``b`` hold equal changes, each as often, in any order."""
    rest = list(b)
    for change in a:
        for i, other in enumerate(rest):
            if other == change:
                del rest[i]
                break
        else:
            return False
    return not rest


schema_pairs = evolutions()


@given(
    st.builds(
        ir.Schema,
        st.lists(irs.entities(), max_size=3, unique_by=lambda e: e.name).map(tuple),
    )
)
@settings(max_examples=60, deadline=None)
def test_a_schema_diffed_with_itself_has_no_changes(schema: ir.Schema) -> None:
    assert diff_schemas(schema, schema) == []


@given(schema_pairs)
@settings(max_examples=120, deadline=None)
def test_running_the_diff_turns_old_into_new(pair: Any) -> None:
    old, new, renames = pair
    changes = diff_schemas(old, new, renames=renames)
    assert storage(apply_changes(old, changes)) == storage(new)


@given(schema_pairs)
@settings(max_examples=120, deadline=None)
def test_running_the_inverted_diff_turns_new_back_into_old(pair: Any) -> None:
    old, new, renames = pair
    changes = diff_schemas(old, new, renames=renames)
    assert storage(apply_changes(new, invert_changes(changes))) == storage(old)


@given(schema_pairs)
@settings(max_examples=120, deadline=None)
def test_inverted_diff_equals_the_reverse_diff_without_renames(pair: Any) -> None:
    old, new, renames = pair
    if renames:
        return
    forward = diff_schemas(old, new)
    backward = diff_schemas(new, old)
    assert same_multiset([c.invert() for c in forward], backward)


@given(schema_pairs)
@settings(max_examples=80, deadline=None)
def test_renames_invert_into_the_reverse_diffs_renames(pair: Any) -> None:
    old, new, renames = pair
    forward = diff_schemas(old, new, renames=renames)
    backward = diff_schemas(new, old, renames=inverted_renames(renames))
    forward_renames = [c.invert() for c in forward if isinstance(c, RenameField)]
    assert same_multiset(forward_renames, [c for c in backward if isinstance(c, RenameField)])
    assert storage(apply_changes(new, backward)) == storage(old)


@given(schema_pairs)
@settings(max_examples=80, deadline=None)
def test_diff_is_deterministic(pair: Any) -> None:
    old, new, renames = pair
    first = diff_schemas(old, new, renames=renames)
    assert diff_schemas(old, new, renames=renames) == first
    assert [c.describe() for c in first] == [
        c.describe() for c in diff_schemas(old, new, renames=renames)
    ]


@given(schema_pairs)
@settings(max_examples=80, deadline=None)
def test_every_change_is_classified_described_and_inverts_twice_to_itself(
    pair: Any,
) -> None:
    old, new, renames = pair
    for change in diff_schemas(old, new, renames=renames):
        assert change.classification.value in {
            "safe",
            "needs_backfill",
            "narrowing",
            "destructive",
        }
        assert change.describe()
        twice = change.invert().invert()
        if isinstance(change, AlterNullability):
            assert (twice.before, twice.after) == (change.before, change.after)  # type: ignore[attr-defined]
        else:
            assert twice == change
