"""Store commands: changed-columns updates, optimistic versions, idempotency, the journal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from persist_runtime import (
    ConflictError,
    IdempotencyError,
    Journal,
    NotFoundError,
    Store,
    ValidationError,
)
from persist_runtime.store_commands import bump_version

from tests.runtime.handwritten_counter import (
    COUNTER_SPEC,
    CounterDraft,
    CounterIncrement,
    CounterPatch,
    CounterSetName,
    CounterTouch,
)
from tests.runtime.handwritten_item import ITEM_SPEC, ItemRetire, ItemSetPrice
from tests.runtime.test_store_crud import item_draft


def updates_of(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if s.startswith("UPDATE") and table in s.split(" SET ")[0]]


@pytest.fixture
def counter(store: Store) -> Any:
    store.ensure(COUNTER_SPEC)
    return store.create(COUNTER_SPEC, CounterDraft(name="c", value=10))


def test_execute_applies_command_and_bumps_version(store: Store, counter: Any) -> None:
    result = store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=5))
    assert (result.entity.value, result.version, result.replayed) == (15, 2, False)
    assert result.changed == {"value", "updated_at"}
    again = store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=1))
    assert again.version == 3
    stored = store.load(COUNTER_SPEC, counter.id)
    assert (stored.entity.value, stored.version) == (16, 3)
    assert stored.entity == again.entity


def test_update_sets_exactly_the_changed_columns(store: Store, counter: Any, recorder: Any) -> None:
    q = store.dialect.quote
    recorder.statements.clear()
    store.execute(COUNTER_SPEC, counter.id, CounterSetName(value="renamed"))
    assert updates_of(recorder.statements, "counters") == [
        f"UPDATE {q}counters{q} SET {q}name{q} = {store.dialect.placeholder}"
        f" WHERE {q}id{q} = {store.dialect.placeholder}"
    ]
    recorder.statements.clear()
    store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=1))
    [update] = updates_of(recorder.statements, "counters")
    assigned = update.split(" SET ")[1].split(" WHERE ")[0]
    assert sorted(a.split(" = ")[0] for a in assigned.split(", ")) == [
        f"{q}updated_at{q}",
        f"{q}value{q}",
    ]


def test_command_that_changes_nothing_sends_no_table_update(
    store: Store, counter: Any, recorder: Any
) -> None:
    recorder.statements.clear()
    result = store.execute(COUNTER_SPEC, counter.id, CounterTouch())
    assert result.changed == frozenset() and result.version == 2
    assert updates_of(recorder.statements, "counters") == []
    assert [r.command for r in store.journal()] == ["Touch"]


def test_stale_expected_version_is_a_conflict_and_changes_nothing(
    store: Store, counter: Any
) -> None:
    store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=1), expected_version=1)
    with pytest.raises(
        ConflictError, match=r"Counter \d+ is at version 2, not the expected version 1"
    ) as caught:
        store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=1), expected_version=1)
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    assert store.get(COUNTER_SPEC, counter.id).value == 11
    assert len(list(store.journal())) == 1


def test_concurrent_writer_that_loses_the_race_gets_a_conflict(store: Store, counter: Any) -> None:
    """Simulate a writer that loaded version 1 but commits after another writer."""
    plan = store.plan(COUNTER_SPEC)
    key = plan.key_values(counter.id)
    store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=1))  # version 1 -> 2
    with (
        pytest.raises(ConflictError, match="changed concurrently"),
        store.transaction() as cur,
    ):
        bump_version(store, cur, plan, key, plan.key_text(key), 1, has_row=False)
    store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=1))  # 2 -> 3
    with (
        pytest.raises(ConflictError, match="version 2 is no longer current"),
        store.transaction() as cur,
    ):
        bump_version(store, cur, plan, key, plan.key_text(key), 2, has_row=True)
    assert store.version(COUNTER_SPEC, counter.id) == 3


def test_idempotency_key_replays_first_result(store: Store, counter: Any) -> None:
    first = store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=2), idempotency_key="req-1")
    store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=100))
    replay = store.execute(
        COUNTER_SPEC, counter.id, CounterIncrement(by=2), idempotency_key="req-1"
    )
    assert replay.replayed is True
    assert (replay.version, replay.entity, replay.seq) == (
        first.version,
        first.entity,
        first.seq,
    )
    assert store.get(COUNTER_SPEC, counter.id).value == 112  # applied once, not twice
    assert len(list(store.journal())) == 2


def test_idempotency_key_reused_for_another_payload_is_an_error(store: Store, counter: Any) -> None:
    store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=2), idempotency_key="req-1")
    with pytest.raises(IdempotencyError, match="'req-1' was already used for Increment"):
        store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=3), idempotency_key="req-1")
    other = store.create(COUNTER_SPEC, CounterDraft(name="other"))
    with pytest.raises(IdempotencyError):
        store.execute(COUNTER_SPEC, other.id, CounterIncrement(by=2), idempotency_key="req-1")
    assert store.get(COUNTER_SPEC, counter.id).value == 12
    assert store.get(COUNTER_SPEC, other.id).value == 0


def test_patch_updates_given_fields_and_is_journaled_as_patch(
    store: Store, counter: Any, recorder: Any
) -> None:
    recorder.statements.clear()
    result = store.patch(COUNTER_SPEC, counter.id, CounterPatch(name="patched"))
    assert result.changed == {"name"} and result.entity.name == "patched"
    [update] = updates_of(recorder.statements, "counters")
    assert "value" not in update
    from_payload = store.patch(COUNTER_SPEC, counter.id, {"value": 99}, expected_version=2)
    assert (from_payload.entity.value, from_payload.version) == (99, 3)
    records = list(store.journal())
    assert [(r.command, r.payload_version, r.payload) for r in records] == [
        ("Patch", 1, {"name": "patched"}),
        ("Patch", 1, {"value": 99}),
    ]


def test_journal_records_carry_the_documented_fields(store: Store, counter: Any) -> None:
    store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=1))
    store.execute(
        COUNTER_SPEC,
        counter.id,
        {"command": "SetName", "payload": {"value": "n"}},
        idempotency_key="k",
    )
    first, second = store.journal(COUNTER_SPEC, counter.id)
    assert first.to_json().keys() == {
        "format_version",
        "seq",
        "ts",
        "entity",
        "id",
        "schema_version",
        "command",
        "payload_version",
        "payload",
        "expected_version",
        "new_version",
        "idempotency_key",
    }
    assert list(first.to_json())[:3] == ["format_version", "seq", "ts"]
    assert (first.entity, first.id, first.schema_version, first.command) == (
        "Counter",
        counter.id,
        1,
        "Increment",
    )
    assert (first.payload, first.expected_version, first.new_version) == (
        {"by": 1},
        1,
        2,
    )
    assert first.idempotency_key is None and first.ts.endswith("Z")
    assert (
        second.command,
        second.payload,
        second.new_version,
        second.idempotency_key,
    ) == (
        "SetName",
        {"value": "n"},
        3,
        "k",
    )
    assert second.seq > first.seq


def test_journal_ids_of_composite_keys_are_lists(store: Store) -> None:
    store.ensure(ITEM_SPEC)
    store.create(ITEM_SPEC, item_draft("K", "us"))
    store.execute(ITEM_SPEC, ("K", "us"), ItemSetPrice(value=Decimal("3.10")))
    store.execute("Item", ["K", "us"], ItemRetire())
    records = list(store.journal(ITEM_SPEC, ("K", "us")))
    assert [(r.id, r.command, r.payload) for r in records] == [
        (["K", "us"], "SetPrice", {"value": "3.10"}),
        (["K", "us"], "Retire", {}),
    ]
    item = store.get(ITEM_SPEC, ("K", "us"))
    assert (item.price, item.status.value, item.active) == (
        Decimal("3.10"),
        "retired",
        False,
    )


def test_export_journal_writes_json_lines_that_journal_reads(
    store: Store, counter: Any, tmp_path: Path
) -> None:
    for by in (1, 2, 3):
        store.execute(COUNTER_SPEC, counter.id, CounterIncrement(by=by))
    path = tmp_path / "journal.jsonl"
    assert store.export_journal(str(path)) == 3
    lines = path.read_text().splitlines()
    assert [json.loads(line)["payload"] for line in lines] == [
        {"by": 1},
        {"by": 2},
        {"by": 3},
    ]
    assert Journal(path).read() == list(store.journal())


def test_execute_on_missing_entity_is_not_found(store: Store, counter: Any) -> None:
    with pytest.raises(NotFoundError, match="Counter 424242 not found"):
        store.execute(COUNTER_SPEC, 424242, CounterIncrement(by=1))
    assert list(store.journal()) == []


def test_invalid_command_payload_lists_problems_and_commits_nothing(
    store: Store, counter: Any
) -> None:
    with pytest.raises(ValidationError) as caught:
        store.execute(
            "Counter",
            counter.id,
            {"command": "Increment", "payload": {"by": "1", "x": 0}},
        )
    assert [str(i) for i in caught.value.issues] == [
        "/payload/x: unknown property",
        "/payload/by: expected an integer, got str",
    ]
    with pytest.raises(ValidationError, match="unknown command 'Explode'"):
        store.execute("Counter", counter.id, {"command": "Explode", "payload": {}})
    with pytest.raises(ValidationError, match="Counter has no command ItemRetire"):
        store.execute(COUNTER_SPEC, counter.id, ItemRetire())
    assert store.load(COUNTER_SPEC, counter.id).version == 1
    assert list(store.journal()) == []


def test_failure_inside_the_transaction_rolls_back_table_and_journal(
    store: Store, counter: Any
) -> None:
    """A reducer that raises half-way leaves no version bump, update or journal row."""
    import dataclasses

    def exploding(entity: Any, command: Any) -> frozenset[str]:
        COUNTER_SPEC.apply_command(entity, command)  # mutates the loaded entity
        raise RuntimeError("reducer failed after mutating")

    broken = dataclasses.replace(COUNTER_SPEC, apply_command=exploding)
    with pytest.raises(RuntimeError):
        store.execute(broken, counter.id, CounterIncrement(by=1))
    assert store.load(COUNTER_SPEC, counter.id).version == 1
    assert store.get(COUNTER_SPEC, counter.id).value == 10
    assert list(store.journal()) == []
