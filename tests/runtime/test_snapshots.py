"""Snapshots: DESIGN §7 format, round trips with and without data, conflicts, upgrades."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from persist_runtime import (
    ConflictError,
    MigrationError,
    Store,
    ValidationError,
    read_snapshot,
)

from tests.runtime.handwritten_counter import (
    COUNTER_SPEC,
    CounterDraft,
    CounterIncrement,
)
from tests.runtime.handwritten_item import ITEM_SPEC, ItemSetPrice
from tests.runtime.test_store_crud import item_draft


def fill(store: Store) -> None:
    store.ensure(COUNTER_SPEC)
    store.ensure(ITEM_SPEC)
    a = store.create(COUNTER_SPEC, CounterDraft(name="a", value=1))
    store.create(COUNTER_SPEC, CounterDraft(name="b", value=2))
    store.execute(COUNTER_SPEC, a.id, CounterIncrement(by=10))
    store.execute(COUNTER_SPEC, a.id, CounterIncrement(by=10))
    store.create(ITEM_SPEC, item_draft("S-1", "eu"))
    store.execute(ITEM_SPEC, ("S-1", "eu"), ItemSetPrice(value=Decimal("9.99")))


def state(store: Store) -> list[tuple[str, Any, int, Any]]:
    out = []
    for spec in (COUNTER_SPEC, ITEM_SPEC):
        for item in store.list_versioned(spec):
            out.append((spec.name, spec.to_record(item.entity), item.version, item.entity))
    return out


def test_snapshot_file_has_the_documented_shape(store: Store, tmp_path: Path) -> None:
    fill(store)
    path = tmp_path / "snap.json"
    assert store.snapshot(str(path)) == 3
    data = json.loads(path.read_text())
    assert list(data) == [
        "format",
        "format_version",
        "api_version",
        "mode",
        "created_at",
        "types",
        "records",
    ]
    assert (
        data["format"],
        data["format_version"],
        data["api_version"],
        data["mode"],
    ) == (
        "persist-snapshot",
        1,
        "1.0.0",
        "with_data",
    )
    assert data["types"] == [
        {
            "entity": "Counter",
            "table": "counters",
            "schema_version": 1,
            "fingerprint": "handwritten-counter-v1",
        },
        {
            "entity": "Item",
            "table": "items",
            "schema_version": 1,
            "fingerprint": "handwritten-item-v1",
        },
    ]
    first, second, item = data["records"]
    assert list(first) == ["entity", "id", "version", "schema_version", "fields"]
    assert (first["entity"], first["version"], first["fields"]["value"]) == (
        "Counter",
        3,
        21,
    )
    assert second["version"] == 1
    assert (item["id"], item["version"], item["fields"]["price"]) == (
        ["S-1", "eu"],
        2,
        "9.99",
    )


def test_snapshot_restore_round_trip_with_data(store: Store, tmp_path: Path, dialect: str) -> None:
    fill(store)
    path = tmp_path / "snap.json"
    store.snapshot(str(path))
    before = state(store)
    for spec in (COUNTER_SPEC, ITEM_SPEC):
        for entity in store.list(spec):
            store.delete(spec, store.plan(spec).key_of(spec.to_values(entity)))
    report = store.restore(str(path))
    assert report.inserted == {"Counter": 2, "Item": 1} and report.total == 3
    assert state(store) == before
    # generated keys continue after the restored ones
    fresh = store.create(COUNTER_SPEC, CounterDraft(name="after"))
    assert fresh.id > max(c.id for c in store.list(COUNTER_SPEC) if c.name != "after")
    # versions continue too
    a = store.list(COUNTER_SPEC, {"name": "a"})[0]
    assert store.execute(COUNTER_SPEC, a.id, CounterIncrement(by=1)).version == 4


def test_schema_only_snapshot_recreates_tables_without_rows(store: Store, tmp_path: Path) -> None:
    fill(store)
    path = tmp_path / "schema.json"
    assert store.snapshot(str(path), mode="schema_only") == 0
    snapshot = read_snapshot(path)
    assert snapshot.mode == "schema_only" and snapshot.records == ()
    assert [t.entity for t in snapshot.types] == ["Counter", "Item"]
    fresh = Store.sqlite()
    report = fresh.restore(str(path), specs=[COUNTER_SPEC, ITEM_SPEC])
    assert report.types == ("Counter", "Item") and report.total == 0
    assert fresh.schema_version("counters") == 1 and fresh.count(ITEM_SPEC) == 0


def test_restore_into_another_dialect(store: Store, tmp_path: Path) -> None:
    fill(store)
    path = tmp_path / "snap.json"
    store.snapshot(str(path))
    other = Store.sqlite()
    other.restore(str(path), specs=[COUNTER_SPEC, ITEM_SPEC])
    assert state(other) == state(store)


def test_restore_conflict_policies(store: Store, tmp_path: Path) -> None:
    fill(store)
    path = tmp_path / "snap.json"
    store.snapshot(str(path))
    a = store.list(COUNTER_SPEC, {"name": "a"})[0]
    store.execute(COUNTER_SPEC, a.id, CounterIncrement(by=1000))
    with pytest.raises(ConflictError, match="already exists; nothing was restored"):
        store.restore(str(path))
    assert store.get(COUNTER_SPEC, a.id).value == 1021
    skipped = store.restore(str(path), on_conflict="skip")
    assert skipped.skipped == {"Counter": 2, "Item": 1} and skipped.total == 0
    assert store.get(COUNTER_SPEC, a.id).value == 1021
    overwritten = store.restore(str(path), on_conflict="overwrite")
    assert overwritten.overwritten == {"Counter": 2, "Item": 1}
    restored = store.load(COUNTER_SPEC, a.id)
    assert (restored.entity.value, restored.version) == (21, 3)


class RenamePlan:
    """Stands in for a MigrationPlan: version 0 records called ``value`` ``count``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def upgrade_record(
        self, entity: str, record: Mapping[str, Any], from_version: int
    ) -> Mapping[str, Any]:
        self.calls.append((entity, from_version))
        out = dict(record)
        out["value"] = out.pop("count")
        return out


def write_old_snapshot(path: Path, schema_version: int, fields: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(
            {
                "format": "persist-snapshot",
                "format_version": 1,
                "api_version": "1.2.0",
                "mode": "with_data",
                "created_at": "2026-01-01T00:00:00Z",
                "types": [
                    {
                        "entity": "Counter",
                        "table": "counters",
                        "schema_version": schema_version,
                        "fingerprint": "old",
                    }
                ],
                "records": [
                    {
                        "entity": "Counter",
                        "id": fields["id"],
                        "version": 4,
                        "schema_version": schema_version,
                        "fields": fields,
                    }
                ],
            }
        )
    )


def test_restore_upgrades_older_records_through_the_plan(store: Store, tmp_path: Path) -> None:
    store.register(COUNTER_SPEC)
    path = tmp_path / "old.json"
    write_old_snapshot(
        path,
        0,
        {"id": 5, "name": "old", "count": 7, "updated_at": "2025-01-01T00:00:00Z"},
    )
    with pytest.raises(MigrationError, match="pass plan=<MigrationPlan>"):
        store.restore(str(path))
    plan = RenamePlan()
    store.restore(str(path), plan)
    assert plan.calls == [("Counter", 0)]
    loaded = store.load(COUNTER_SPEC, 5)
    assert (loaded.entity.value, loaded.version) == (7, 4)


def test_restore_refuses_records_newer_than_the_code(store: Store, tmp_path: Path) -> None:
    store.register(COUNTER_SPEC)
    path = tmp_path / "new.json"
    write_old_snapshot(
        path,
        2,
        {"id": 5, "name": "n", "value": 1, "updated_at": "2025-01-01T00:00:00Z"},
    )
    with pytest.raises(MigrationError, match="schema version 2, newer than this code's version 1"):
        store.restore(str(path))


def test_restore_validates_every_record_before_writing_any(store: Store, tmp_path: Path) -> None:
    store.register(COUNTER_SPEC)
    path = tmp_path / "bad.json"
    good = {"id": 1, "name": "ok", "value": 1, "updated_at": "2025-01-01T00:00:00Z"}
    bad = {"id": 2, "name": 3, "value": "x", "updated_at": "2025-01-01T00:00:00Z"}
    doc = {
        "format": "persist-snapshot",
        "format_version": 1,
        "api_version": "1.0.0",
        "mode": "with_data",
        "created_at": "2026-01-01T00:00:00Z",
        "types": [
            {
                "entity": "Counter",
                "table": "counters",
                "schema_version": 1,
                "fingerprint": "x",
            }
        ],
        "records": [
            {
                "entity": "Counter",
                "id": 1,
                "version": 1,
                "schema_version": 1,
                "fields": good,
            },
            {
                "entity": "Counter",
                "id": 2,
                "version": 1,
                "schema_version": 1,
                "fields": bad,
            },
        ],
    }
    path.write_text(json.dumps(doc))
    with pytest.raises(ValidationError) as caught:
        store.restore(str(path))
    assert [str(i) for i in caught.value.issues] == [
        "/records/1/fields/name: expected a string, got int",
        "/records/1/fields/value: expected an integer, got str",
    ]
    store.ensure(COUNTER_SPEC)
    assert store.count(COUNTER_SPEC) == 0


def test_unknown_entities_and_foreign_files_are_rejected(tmp_path: Path) -> None:
    store = Store.sqlite()
    path = tmp_path / "x.json"
    write_old_snapshot(path, 1, {"id": 1})
    with pytest.raises(ValidationError, match="unknown entity 'Counter'"):
        store.restore(str(path))
    path.write_text('{"format": "something-else"}')
    with pytest.raises(ValidationError, match="not a persist-snapshot file"):
        store.restore(str(path))
    path.write_text(
        json.dumps({"format": "persist-snapshot", "format_version": 1, "api_version": "2.0.0"})
    )
    with pytest.raises(MigrationError, match="major versions differ"):
        store.restore(str(path))
