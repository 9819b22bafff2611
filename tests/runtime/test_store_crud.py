"""Store: schema registration, create/get/list/delete and value round trips on every dialect."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from persist_runtime import (
    MigrationError,
    NotFoundError,
    Store,
    UnknownEntityError,
    ValidationError,
)

from tests.runtime.handwritten_counter import COUNTER_SPEC, Counter, CounterDraft
from tests.runtime.handwritten_item import ITEM_SPEC, Item, ItemDraft, ItemStatus


def item_draft(sku: str = "A-1", region: str = "eu", **changes: Any) -> ItemDraft:
    values: dict[str, Any] = {
        "sku": sku,
        "region": region,
        "ref": uuid4(),
        "price": Decimal("12.50"),
        "status": ItemStatus.ACTIVE,
        "tags": ["red", "sale"],
        "active": True,
        "due": date(2026, 3, 1),
        "photo": b"\x00\xffPNG",
        "seen_at": datetime(2026, 1, 2, 3, 4, 5, 678901),
    }
    values.update(changes)
    return ItemDraft(**values)


def test_ensure_creates_table_and_registers_schema_version(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    store.ensure(COUNTER_SPEC)  # second call: table exists, nothing happens
    assert store.schema_version("counters") == 1
    assert store.count(COUNTER_SPEC) == 0


def test_ensure_refuses_database_with_newer_schema_version(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    store.set_schema_version("counters", 3)
    with pytest.raises(MigrationError, match=r"schema version 3, newer than this code's version 1"):
        store.ensure(COUNTER_SPEC)


def test_ensure_refuses_database_with_older_schema_version(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    newer = dataclasses.replace(COUNTER_SPEC, schema_version=2)
    with pytest.raises(MigrationError, match="apply the migration plan"):
        store.ensure(newer)


def test_ensure_adopts_existing_table_and_keeps_its_columns(store: Store, recorder: Any) -> None:
    with store.transaction() as cur:
        for statement in COUNTER_SPEC.ddl[store.dialect.name]:
            cur.execute(statement)
    store.ensure(COUNTER_SPEC)
    assert store.schema_version("counters") == 1
    # the user table has exactly the spec's columns: a column-list-less insert still works
    ph = store.dialect.placeholder
    stamp = "2026-01-01 00:00:00"
    with store.transaction() as cur:
        cur.execute(f"INSERT INTO counters VALUES (7, {ph}, {ph}, {ph})", ("raw", 5, stamp))
    counter = store.get(COUNTER_SPEC, 7)
    assert (counter.name, counter.value, store.version(COUNTER_SPEC, 7)) == (
        "raw",
        5,
        1,
    )


def test_create_returns_entity_with_generated_key(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    first = store.create(COUNTER_SPEC, CounterDraft(name="a", value=3))
    second = store.create(COUNTER_SPEC, {"name": "b"})
    assert isinstance(first, Counter)
    assert second.id > first.id
    assert store.get(COUNTER_SPEC, first.id) == first
    assert store.version(COUNTER_SPEC, first.id) == 1


def test_every_field_kind_round_trips(store: Store) -> None:
    store.ensure(ITEM_SPEC)
    draft = item_draft()
    created = store.create(ITEM_SPEC, draft)
    loaded = store.get(ITEM_SPEC, ("A-1", "eu"))
    assert loaded == created
    assert isinstance(loaded.ref, UUID)
    assert loaded.price == Decimal("12.50") and str(loaded.price) == "12.50"
    assert loaded.status is ItemStatus.ACTIVE
    assert loaded.active is True
    assert loaded.photo == b"\x00\xffPNG"
    assert loaded.seen_at == datetime(2026, 1, 2, 3, 4, 5, 678901)
    empty = store.create(ITEM_SPEC, item_draft("B-2", due=None, photo=None, active=False))
    assert store.get(ITEM_SPEC, ("B-2", "eu")) == empty


def test_timezone_aware_datetimes_come_back_as_the_same_instant(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    from datetime import timedelta

    stamp = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    created = store.create(COUNTER_SPEC, CounterDraft(name="tz", updated_at=stamp))
    loaded = store.get(COUNTER_SPEC, created.id)
    assert loaded.updated_at == stamp
    assert loaded.updated_at.utcoffset() is not None


def test_composite_key_needs_a_tuple(store: Store) -> None:
    store.ensure(ITEM_SPEC)
    store.create(ITEM_SPEC, item_draft())
    with pytest.raises(ValidationError, match="composite key"):
        store.get(ITEM_SPEC, "A-1")
    with pytest.raises(NotFoundError, match=r"Item \['A-1', 'us'\] not found"):
        store.get(ITEM_SPEC, ("A-1", "us"))


def test_list_filters_orders_and_pages(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    for i in range(10):
        store.create(COUNTER_SPEC, CounterDraft(name="even" if i % 2 == 0 else "odd", value=i))
    evens = store.list(COUNTER_SPEC, {"name": "even"}, order_by="-value")
    assert [c.value for c in evens] == [8, 6, 4, 2, 0]
    page = store.list(COUNTER_SPEC, order_by=["name", "value"], limit=3, offset=4)
    assert [(c.name, c.value) for c in page] == [("even", 8), ("odd", 1), ("odd", 3)]
    tail = store.list(COUNTER_SPEC, order_by="value", offset=8)
    assert [c.value for c in tail] == [8, 9]
    assert store.count(COUNTER_SPEC, {"name": "odd"}) == 5


def test_list_filters_on_converted_values(store: Store) -> None:
    store.ensure(ITEM_SPEC)
    a = store.create(ITEM_SPEC, item_draft("A"))
    store.create(ITEM_SPEC, item_draft("B", status=ItemStatus.RETIRED, due=None))
    assert store.list(ITEM_SPEC, {"status": "active"}) == [a]
    assert store.list(ITEM_SPEC, {"ref": str(a.ref)}) == [a]
    assert [i.sku for i in store.list(ITEM_SPEC, {"due": None})] == ["B"]


def test_list_rejects_unknown_fields(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    with pytest.raises(ValidationError, match="Counter has no field 'colour'"):
        store.list(COUNTER_SPEC, {"colour": "red"})


def test_delete_removes_entity_and_reports_missing_ones(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    counter = store.create(COUNTER_SPEC, CounterDraft(name="gone"))
    store.delete(COUNTER_SPEC, counter.id)
    assert store.find(COUNTER_SPEC, counter.id) is None
    with pytest.raises(NotFoundError, match=f"Counter {counter.id} not found"):
        store.delete(COUNTER_SPEC, counter.id)


def test_create_many_returns_entities_with_consecutive_generated_keys(
    store: Store, recorder: Any
) -> None:
    store.ensure(COUNTER_SPEC)
    store.create(COUNTER_SPEC, CounterDraft(name="before"))
    per = store.plan(COUNTER_SPEC).bulk_rows
    recorder.statements.clear()
    created = store.create_many(
        COUNTER_SPEC, [CounterDraft(name=f"n{i}") for i in range(2 * per + 7)]
    )
    assert isinstance(created, list) and len(created) == 2 * per + 7
    assert [c.name for c in created] == [f"n{i}" for i in range(2 * per + 7)]
    assert [store.get(COUNTER_SPEC, c.id) for c in created] == created
    inserts = [s for s in recorder.statements if s.startswith("INSERT")]
    if store.dialect.name == "sqlite":
        # two statements of `per` rows and one of the rest; keys from last_insert_rowid()
        assert len(inserts) == 2


def test_create_many_sends_multi_row_inserts_on_sqlite_and_one_executemany_elsewhere(
    store: Store, recorder: Any
) -> None:
    store.ensure(ITEM_SPEC)
    plan = store.plan(ITEM_SPEC)
    per = plan.bulk_rows
    recorder.statements.clear()
    count = store.create_many(
        ITEM_SPEC, [item_draft(f"S{i}") for i in range(2 * per + 3)], entities=False
    )
    assert count == 2 * per + 3
    inserts = [s for s in recorder.statements if s.startswith("INSERT")]
    if store.dialect.name == "sqlite":
        assert per == 999 // len(ITEM_SPEC.draft_fields)
        assert inserts == [plan.bulk_insert_sql(per), plan.bulk_insert_sql(3)]
    else:  # one executemany; the driver batches the rows itself
        assert per == 1
        assert inserts == [plan.insert_sql]
    assert store.count(ITEM_SPEC) == 2 * per + 3


def test_create_many_stores_the_same_values_as_create(store: Store) -> None:
    store.ensure(ITEM_SPEC)
    per = store.plan(ITEM_SPEC).bulk_rows
    drafts = [
        item_draft(
            f"V{i:03}",
            region="bulk",
            due=None if i % 2 else date(2026, 1, i % 28 + 1),
            photo=None if i % 3 else bytes([i % 256]),
            seen_at=datetime(2026, 1, 1, 0, i % 60, i % 60, i),
            tags=[i, {"n": None}],
        )
        for i in range(per + 5)
    ]
    created = store.create_many(ITEM_SPEC, drafts)
    for d in drafts:
        store.create(ITEM_SPEC, dataclasses.replace(d, region="single", ref=uuid4()))
    assert created == [store.get(ITEM_SPEC, (d.sku, d.region)) for d in drafts]
    columns = "sku, price, status, tags, active, due, photo, seen_at"
    ph = store.dialect.placeholder
    with store.transaction() as cur:
        stored = {}
        for region in ("bulk", "single"):
            cur.execute(f"SELECT {columns} FROM items WHERE region = {ph} ORDER BY sku", (region,))
            stored[region] = [tuple(row) for row in cur.fetchall()]
    assert len(stored["bulk"]) == per + 5
    assert stored["bulk"] == stored["single"]


def test_create_many_converts_aware_datetimes_like_create(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    plus_two = timezone(timedelta(hours=2))
    moments = [datetime(2026, 1, 1, 12, i, tzinfo=plus_two) for i in range(3)]
    created = store.create_many(
        COUNTER_SPEC,
        [CounterDraft(name=f"t{i}", updated_at=m) for i, m in enumerate(moments)],
    )
    single = store.create(COUNTER_SPEC, CounterDraft(name="single", updated_at=moments[0]))
    loaded = [store.get(COUNTER_SPEC, c.id).updated_at for c in (*created, single)]
    assert loaded == [*moments, moments[0]]
    if store.dialect.name == "sqlite":
        with store.transaction() as cur:
            cur.execute("SELECT updated_at FROM counters ORDER BY id")
            texts = [row[0] for row in cur.fetchall()]
        assert texts[0] == texts[-1] == "2026-01-01T10:00:00+00:00"


def test_create_many_accepts_payloads_among_drafts(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    created = store.create_many(
        COUNTER_SPEC, [CounterDraft(name="draft"), {"name": "payload", "value": 3}]
    )
    assert [(c.name, c.value) for c in created] == [("draft", 0), ("payload", 3)]


def test_create_many_of_nothing_inserts_nothing(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    assert store.create_many(COUNTER_SPEC, []) == []
    assert store.create_many(COUNTER_SPEC, iter([]), entities=False) == 0
    assert store.count(COUNTER_SPEC) == 0


def test_create_many_writes_no_row_versions_and_entities_start_at_version_1(
    store: Store,
) -> None:
    store.ensure(ITEM_SPEC)
    store.create_many(ITEM_SPEC, [item_draft(f"R{i}") for i in range(5)])
    with store.transaction() as cur:
        cur.execute("SELECT COUNT(*) FROM __persist_versions")
        assert cur.fetchone()[0] == 0
    assert [v.version for v in store.list_versioned(ITEM_SPEC)] == [1] * 5


def test_create_many_refuses_a_spec_whose_draft_values_miscount(store: Store) -> None:
    broken = dataclasses.replace(COUNTER_SPEC, draft_values=lambda d: (d.name, d.value))
    store.ensure(broken)
    with pytest.raises(ValueError, match="draft_values must give 3 values per draft"):
        store.create_many(broken, [CounterDraft(name="a"), CounterDraft(name="b")])
    assert store.count(broken) == 0


def test_create_rejects_invalid_payload_and_commits_nothing(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    with pytest.raises(ValidationError) as caught:
        store.create(COUNTER_SPEC, {"name": 5, "value": "three", "colour": "red"})
    assert [str(i) for i in caught.value.issues] == [
        "/colour: unknown property",
        "/name: expected a string, got int",
        "/value: expected an integer, got str",
    ]
    assert store.count(COUNTER_SPEC) == 0


def test_unknown_entity_name_is_reported_with_the_known_ones(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    with pytest.raises(UnknownEntityError, match=r"unknown entity 'Invoice' \(known: Counter\)"):
        store.get("Invoice", 1)


def test_wrong_key_type_is_a_validation_error(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    with pytest.raises(
        ValidationError, match="/id/id: expected a value of kind integer, got 'seven'"
    ):
        store.get(COUNTER_SPEC, "seven")


def test_items_of_one_store_do_not_leak_between_entity_types(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    store.ensure(ITEM_SPEC)
    store.create(COUNTER_SPEC, CounterDraft(name="x"))
    store.create(ITEM_SPEC, item_draft())
    assert [type(e) for e in store.list(COUNTER_SPEC)] == [Counter]
    assert [type(e) for e in store.list(ITEM_SPEC)] == [Item]
