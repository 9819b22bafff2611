"""Collections: heterogeneous invoke with a report, typed collections, snapshot/restore."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from persist_runtime import Store, UnknownEntityError, ValidationError
from persist_runtime.collections import Collection, TypedCollection

from tests.runtime.handwritten_counter import COUNTER_SPEC, Counter, CounterDraft
from tests.runtime.handwritten_item import ITEM_SPEC, Item, ItemStatus
from tests.runtime.test_store_crud import item_draft

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def counters_and_items() -> Collection:
    return Collection(
        [COUNTER_SPEC, ITEM_SPEC],
        [
            Counter(id=1, name="a", value=1, updated_at=STAMP),
            Item(**{f: getattr(item_draft("S", "eu"), f) for f in ITEM_SPEC.draft_fields}),
            Counter(id=2, name="b", value=2, updated_at=STAMP),
        ],
    )


def test_invoke_applies_to_supporting_types_and_reports_the_rest() -> None:
    collection = counters_and_items()
    result = collection.invoke("Increment", {"by": 5})
    assert [(a.entity, a.id, a.version) for a in result.applied] == [
        ("Counter", 1, 2),
        ("Counter", 2, 2),
    ]
    assert [(s.entity, s.id, s.reason) for s in result.skipped] == [
        ("Item", ["S", "eu"], "Item has no command 'Increment'"),
    ]
    assert result.ok and [c.value for c in collection.of_type(COUNTER_SPEC)] == [6, 7]
    retire = collection.invoke("Retire")
    assert [a.entity for a in retire.applied] == ["Item"]
    assert [s.entity for s in retire.skipped] == ["Counter", "Counter"]
    assert collection.of_type(ITEM_SPEC)[0].status is ItemStatus.RETIRED
    touched = collection.invoke("Touch")
    assert len(touched.applied) == 3 and touched.skipped == ()


def test_invalid_payload_fails_its_type_only() -> None:
    collection = counters_and_items()
    result = collection.invoke("Increment", {"by": "lots"})
    assert [f.entity for f in result.failed] == ["Counter", "Counter"]
    assert isinstance(result.failed[0].error, ValidationError)
    assert "/payload/by: expected an integer" in str(result.failed[0].error)
    assert not result.ok
    assert [c.value for c in collection.of_type(COUNTER_SPEC)] == [1, 2]


def test_collection_reports_the_commands_each_type_offers() -> None:
    collection = counters_and_items()
    offered = {name: [c.name for c in cmds] for name, cmds in collection.commands().items()}
    assert offered == {
        "Counter": ["SetName", "SetValue", "Touch", "Increment"],
        "Item": ["SetPrice", "Touch", "Retire"],
    }
    assert collection.supporting("Touch") == ("Counter", "Item")


def test_foreign_types_are_refused() -> None:
    collection = Collection([COUNTER_SPEC])
    with pytest.raises(UnknownEntityError, match="Item is not a type of this collection"):
        collection.add(Item(**{f: getattr(item_draft(), f) for f in ITEM_SPEC.draft_fields}))
    typed: TypedCollection[Counter] = TypedCollection(COUNTER_SPEC)
    with pytest.raises(ValidationError, match="expected a Counter, got str"):
        typed.add("not a counter")


def test_collection_snapshot_restores_every_type_together(tmp_path: Path) -> None:
    collection = counters_and_items()
    collection.invoke("Increment", {"by": 1})
    path = tmp_path / "collection.json"
    assert collection.snapshot(path) == 3
    restored = Collection.restore(path, [COUNTER_SPEC, ITEM_SPEC])
    assert list(restored) == list(collection)
    assert [m.version for m in restored.members] == [2, 1, 2]


def test_bound_collection_invokes_through_the_store(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    store.ensure(ITEM_SPEC)
    for name in ("a", "b"):
        store.create(COUNTER_SPEC, CounterDraft(name=name, value=1))
    store.create(ITEM_SPEC, item_draft("S", "eu"))
    collection = Collection.load(store, [COUNTER_SPEC, ITEM_SPEC])
    assert len(collection) == 3
    result = collection.invoke("Increment", {"by": 2})
    assert len(result.applied) == 2 and len(result.skipped) == 1
    assert [c.value for c in store.list(COUNTER_SPEC)] == [3, 3]
    journal = list(store.journal())
    assert [(r.entity, r.command, r.new_version) for r in journal] == [
        ("Counter", "Increment", 2),
        ("Counter", "Increment", 2),
    ]
    # a member whose stored row moved on fails with a conflict; the others still apply
    first = store.list(COUNTER_SPEC)[0]
    store.execute(COUNTER_SPEC, first.id, {"command": "Touch", "payload": {}})
    again = collection.invoke("Touch")
    assert [f.entity for f in again.failed] == ["Counter"]
    assert "not the expected version 2" in str(again.failed[0].error)
    assert [a.entity for a in again.applied] == ["Counter", "Item"]
