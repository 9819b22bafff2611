"""Store.create_many: the garbage collector's pause around building drafts and entities,
and bulk results equal to one-by-one creates, on every dialect."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from persist_runtime import Store, ValidationError

from tests.runtime.handwritten_counter import COUNTER_SPEC, CounterDraft
from tests.runtime.handwritten_item import ITEM_SPEC, ItemDraft, ItemStatus


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    """Each test starts with the collector running, and leaves it running."""
    assert gc.isenabled()
    try:
        yield
    finally:
        gc.enable()


def spying_from_draft(seen: list[bool], fail_at: int | None = None) -> Any:
    """Return ``COUNTER_SPEC.from_draft`` recording whether the collector runs at each call
    (and raising at call ``fail_at``)."""

    def from_draft(draft: CounterDraft, generated: Mapping[str, Any]) -> Any:
        if len(seen) == fail_at:
            raise RuntimeError("constructor refused")
        seen.append(gc.isenabled())
        return COUNTER_SPEC.from_draft(draft, generated)

    return from_draft


def counter_drafts(count: int) -> list[CounterDraft]:
    moment = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    return [CounterDraft(name=f"c{i}", value=i, updated_at=moment) for i in range(count)]


def test_create_many_builds_entities_with_the_collector_paused_then_restores_it(
    store: Store,
) -> None:
    seen: list[bool] = []
    spec = dataclasses.replace(COUNTER_SPEC, from_draft=spying_from_draft(seen))
    store.ensure(spec)
    created = store.create_many(spec, counter_drafts(5))
    assert isinstance(created, list) and len(created) == 5
    assert seen == [False] * 5
    assert gc.isenabled()


def test_create_many_restores_the_collector_when_building_an_entity_fails(
    store: Store,
) -> None:
    seen: list[bool] = []
    spec = dataclasses.replace(COUNTER_SPEC, from_draft=spying_from_draft(seen, fail_at=2))
    store.ensure(spec)
    with pytest.raises(RuntimeError, match="constructor refused"):
        store.create_many(spec, counter_drafts(5))
    assert seen == [False, False]
    assert gc.isenabled()


def test_create_many_restores_the_collector_when_a_payload_is_invalid(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    with pytest.raises(ValidationError):
        store.create_many(COUNTER_SPEC, [CounterDraft(name="ok"), {"name": 5}])
    assert gc.isenabled()
    assert store.count(COUNTER_SPEC) == 0


def test_create_many_leaves_a_collector_the_caller_disabled_disabled(store: Store) -> None:
    seen: list[bool] = []
    spec = dataclasses.replace(COUNTER_SPEC, from_draft=spying_from_draft(seen))
    store.ensure(spec)
    gc.disable()
    store.create_many(spec, counter_drafts(3))
    assert seen == [False] * 3
    assert not gc.isenabled()
    with pytest.raises(ValidationError):
        store.create_many(spec, [{"name": None}])
    assert not gc.isenabled()


def test_create_many_reads_the_callers_iterable_with_the_collector_running(
    store: Store,
) -> None:
    store.ensure(COUNTER_SPEC)
    seen: list[bool] = []

    def drafts() -> Iterator[CounterDraft]:
        for draft in counter_drafts(4):
            seen.append(gc.isenabled())
            yield draft

    assert store.create_many(COUNTER_SPEC, drafts(), entities=False) == 4
    assert seen == [True] * 4


def test_create_many_reads_payloads_into_drafts_with_the_collector_paused(
    store: Store,
) -> None:
    seen: list[bool] = []

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class SpyingDraft(CounterDraft):
        @classmethod
        def from_payload(cls, payload: Mapping[str, object]) -> CounterDraft:
            seen.append(gc.isenabled())
            # not super(): a slots dataclass is a new class, which its methods' cell misses
            read: Any = CounterDraft.from_payload.__func__  # type: ignore[attr-defined]
            draft: CounterDraft = read(cls, payload)
            return draft

    spec = dataclasses.replace(COUNTER_SPEC, draft_type=SpyingDraft)
    store.ensure(spec)
    created = store.create_many(spec, [{"name": "a"}, {"name": "b", "value": 2}])
    assert isinstance(created, list)
    assert [(c.name, c.value) for c in created] == [("a", 0), ("b", 2)]
    assert seen == [False, False]


def item_drafts(count: int) -> list[ItemDraft]:
    return [
        ItemDraft(
            sku=f"B{i:04}",
            region="eu",
            ref=UUID(int=i),
            price=Decimal(f"{i}.25"),
            status=list(ItemStatus)[i % len(ItemStatus)],
            tags=[i, "t", {"n": None}],
            active=i % 2 == 0,
            seen_at=datetime(2026, 2, 3, i % 24, i % 60, i % 60, (i * 7919) % 1_000_000),
            due=None if i % 3 else date(2026, 4, i % 28 + 1),
            photo=None if i % 4 else bytes([i % 256, 0]),
        )
        for i in range(count)
    ]


def test_create_many_gives_the_entities_one_by_one_creates_give(store: Store) -> None:
    store.ensure(ITEM_SPEC)
    drafts = item_drafts(store.plan(ITEM_SPEC).bulk_rows + 5)
    bulk = store.create_many(ITEM_SPEC, drafts)
    loaded_bulk = store.list(ITEM_SPEC)
    for draft in drafts:
        store.delete(ITEM_SPEC, (draft.sku, draft.region))
    single = [store.create(ITEM_SPEC, d) for d in drafts]
    assert bulk == single
    assert sorted(loaded_bulk, key=lambda e: e.sku) == sorted(
        store.list(ITEM_SPEC), key=lambda e: e.sku
    )


def test_create_many_gives_generated_keys_and_values_one_by_one_creates_give(
    store: Store,
) -> None:
    store.ensure(COUNTER_SPEC)
    drafts = counter_drafts(store.plan(COUNTER_SPEC).bulk_rows + 3)
    bulk = store.create_many(COUNTER_SPEC, drafts)
    single = [store.create(COUNTER_SPEC, d) for d in drafts]
    assert isinstance(bulk, list)
    first = bulk[0].id
    assert [c.id for c in bulk] == list(range(first, first + len(drafts)))
    assert [dataclasses.replace(c, id=0) for c in bulk] == [
        dataclasses.replace(c, id=0) for c in single
    ]
    assert [store.get(COUNTER_SPEC, c.id) for c in bulk] == bulk
