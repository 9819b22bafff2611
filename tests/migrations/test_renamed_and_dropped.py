"""Entities renamed or dropped by migration steps, through every runtime path.

A ``Counter`` was called ``Tally`` (table ``tallies``) at v1 and ``Score`` (``scores``) at
v2; a ``Tag`` entity is dropped. Snapshots, journals and collections written under the old
names are read by the current code through the plan alone: ``upgrade_record``,
``store.restore``, ``Collection.restore``, ``check_snapshot``/``check_journal`` and
``plan.apply`` (which keeps the store's row versions with a renamed table).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any
from uuid import UUID

import pytest
from persist_runtime import (
    IndexSpec,
    MigrationError,
    MigrationPlan,
    MigrationPlanError,
    MigrationStep,
    Store,
    ValidationError,
)
from persist_runtime.collections import Collection
from persist_runtime.compat import check_journal, check_snapshot
from persist_runtime.migration_db import read_schema_versions
from persist_runtime.migrations import EntityDroppedError
from persist_runtime.spec import EntitySpec

from tests.runtime.handwritten_counter import (
    COUNTER_SPEC,
    CounterDraft,
    CounterIncrement,
    CounterSetName,
    create_counter,
)
from tests.runtime.handwritten_item import ITEM_SPEC, ItemDraft, ItemStatus, create_item


def named(name: str, table: str, version: int) -> EntitySpec:
    """Return the counter spec under another entity name, table and schema version."""
    ddl = {d: tuple(s.replace("counters", table) for s in st) for d, st in COUNTER_SPEC.ddl.items()}
    return dataclasses.replace(
        COUNTER_SPEC,
        name=name,
        table=table,
        schema_version=version,
        indexes=(IndexSpec(f"{table}_name", ("name",)),),
        ddl=MappingProxyType(ddl),
    )


TALLY_V1 = named("Tally", "tallies", 1)
SCORE_V2 = named("Score", "scores", 2)
COUNTER_V3 = named("Counter", "counters", 3)
TAG_V1 = named("Tag", "tags", 1)


def _portable(*statements: str) -> dict[str, list[str]]:
    return {d: list(statements) for d in ("sqlite", "postgres", "mysql")}


def times_ten(record: dict[str, Any]) -> dict[str, Any]:
    record["value"] = record["value"] * 10
    return record


def plus_one(record: dict[str, Any]) -> dict[str, Any]:
    record["value"] = record["value"] + 1
    return record


TO_SCORE = MigrationStep(
    "Score",
    1,
    2,
    sql=_portable("ALTER TABLE tallies RENAME TO scores", "UPDATE scores SET value = value * 10"),
    migrate_state=times_ten,
    table="scores",
    previous_table="tallies",
    previous_entity="Tally",
)
TO_COUNTER = MigrationStep(
    "Counter",
    2,
    3,
    sql=_portable("ALTER TABLE scores RENAME TO counters", "UPDATE counters SET value = value + 1"),
    migrate_state=plus_one,
    commands={("Bump", 1): lambda p: ("Increment", {"by": p["n"]}, 1)},
    table="counters",
    previous_table="scores",
    previous_entity="Score",
)
DROP_TAG = MigrationStep(
    "Tag", 1, 2, sql=_portable("DROP TABLE tags"), destructive=True, table="tags", drops_entity=True
)


def step(entity: str, a: int, b: int, **kwargs: Any) -> MigrationStep:
    return MigrationStep(entity, a, b, **kwargs)


def problems_of(*steps: MigrationStep, specs: list[EntitySpec] | None = None) -> tuple[str, ...]:
    with pytest.raises(MigrationPlanError) as caught:
        if specs is None:
            MigrationPlan(steps)
        else:
            MigrationPlan.for_specs(steps, specs)
    return caught.value.problems


@pytest.fixture
def plan() -> MigrationPlan:
    return MigrationPlan.for_specs([TO_COUNTER, DROP_TAG, TO_SCORE], [COUNTER_V3])


# --------------------------------------------------------------------------- the plan


def test_for_specs_accepts_the_chain_of_an_entity_it_drops(plan: MigrationPlan) -> None:
    assert plan.dropped == ("Tag",)
    assert plan.dropped_by("Tag") is DROP_TAG
    assert plan.target_version("Tag") == 2
    assert plan.table_for(DROP_TAG) == "tags"
    assert not plan.has_path("Tag", 1)


def test_upgrading_a_record_of_a_dropped_entity_says_it_no_longer_exists(
    plan: MigrationPlan,
) -> None:
    with pytest.raises(EntityDroppedError, match="entity Tag no longer exists: Tag v1 -> v2") as e:
        plan.upgrade_record("Tag", {"id": 1}, 1)
    assert isinstance(e.value, MigrationError)
    assert (e.value.entity, e.value.step) == ("Tag", DROP_TAG)
    with pytest.raises(EntityDroppedError):
        plan.upgrade_records("Tag", [{"id": 1}], 1)
    with pytest.raises(EntityDroppedError):
        plan.upgrade_command("Tag", "SetName", {"value": "x"}, 1)


def test_nothing_may_follow_a_drop() -> None:
    problems = problems_of(DROP_TAG, step("Tag", 2, 3, table="tags"))
    assert problems == ("Tag: Tag v2 -> v3 follows Tag v1 -> v2, which drops the entity",)


def test_a_drop_of_an_entity_the_code_still_defines_is_refused() -> None:
    (problem,) = problems_of(DROP_TAG, specs=[named("Tag", "tags", 2)])
    assert problem == "Tag v1 -> v2: drops 'Tag', but the code still defines it"


def test_a_dropped_entity_without_a_spec_needs_its_table_named() -> None:
    (problem,) = problems_of(step("Tag", 1, 2, drops_entity=True), specs=[COUNTER_SPEC])
    assert "the code no longer defines 'Tag', so the step must name the table" in problem


def test_an_entity_the_code_lacks_without_a_drop_points_at_drops_entity() -> None:
    (problem,) = problems_of(step("Tag", 1, 2, table="tags"), specs=[COUNTER_SPEC])
    assert "knows no entity 'Tag'" in problem and "drops_entity=True" in problem


def test_records_under_every_earlier_name_upgrade_as_the_current_entity(
    plan: MigrationPlan,
) -> None:
    assert plan.aliases == {"Tally": "Counter", "Score": "Counter"}
    assert plan.entities == ("Counter", "Tag")
    assert plan.current_entity("Tally") == plan.current_entity("Score") == "Counter"
    assert plan.current_entity("Other") == "Other"
    assert plan.steps_for("Tally") == plan.steps_for("Counter") == (TO_SCORE, TO_COUNTER)
    assert plan.target_version("Tally") == 3
    assert plan.upgrade_record("Tally", {"value": 1}, 1) == {"value": 11}
    assert plan.upgrade_record("Score", {"value": 1}, 2) == {"value": 2}
    assert plan.upgrade_record("Counter", {"value": 1}, 1) == {"value": 11}
    assert plan.upgrade_command("Tally", "Bump", {"n": 2}, 1) == ("Increment", {"by": 2}, 1)
    with pytest.raises(MigrationError, match=r"Tally \(now Counter\) record at schema version 4"):
        plan.upgrade_record("Tally", {}, 4)


def test_steps_stored_under_an_old_name_join_the_renamed_chain() -> None:
    before_rename = step("Tally", 1, 2, migrate_state=times_ten, table="tallies")
    rename = step("Counter", 2, 3, previous_entity="Tally", previous_table="tallies")
    plan = MigrationPlan.for_specs([rename, before_rename], [COUNTER_V3])
    assert plan.steps_for("Counter") == (before_rename, rename)
    assert plan.upgrade_record("Tally", {"value": 2}, 1) == {"value": 20}
    assert plan.table_for(before_rename) == "tallies"
    assert plan.table_for(rename) == "counters"


def test_a_step_before_a_rename_without_a_table_takes_the_old_table() -> None:
    before_rename = step("Tally", 1, 2)
    rename = step("Counter", 2, 3, previous_entity="Tally", previous_table="tallies")
    plan = MigrationPlan.for_specs([before_rename, rename], [COUNTER_V3])
    assert plan.table_for(before_rename) == "tallies"
    assert plan.table_for(rename) == "counters"


def test_a_renamed_then_dropped_entity_is_dropped_under_its_old_name() -> None:
    rename = step("Label", 1, 2, previous_entity="Tag", table="labels", previous_table="tags")
    drop = step("Label", 2, 3, drops_entity=True, table="labels")
    plan = MigrationPlan.for_specs([rename, drop], [COUNTER_SPEC])
    with pytest.raises(EntityDroppedError, match=r"entity Tag \(later called Label\) no longer"):
        plan.upgrade_record("Tag", {}, 1)


@pytest.mark.parametrize(
    ("steps", "specs", "expected"),
    [
        (
            [step("B", 1, 2, previous_entity="A"), step("C", 1, 2, previous_entity="A")],
            None,
            "'A' is renamed twice (to 'B' by B v1 -> v2, to 'C' here)",
        ),
        (
            [step("B", 1, 2, previous_entity="A", table="b")],
            [named("A", "a", 1), named("B", "b", 2)],
            "renames 'A' to 'B', but the code still defines an entity 'A'",
        ),
        (
            [step("B", 1, 2, previous_entity="A"), step("A", 2, 3, previous_entity="B")],
            None,
            "entity renames go round in a loop (A -> B -> A)",
        ),
        (
            [step("B", 1, 2, previous_entity="A"), step("A", 2, 3)],
            None,
            "A v2 -> v3 starts from entity 'A', but after B v1 -> v2 the entity is called 'B'",
        ),
        ([step("A", 1, 2, previous_entity="A")], None, "previous_entity is the entity's own"),
        (
            [step("B", 1, 2, previous_entity="A", drops_entity=True)],
            None,
            "cannot rename the entity and drop it",
        ),
    ],
)
def test_plan_reports_renames_that_do_not_add_up(
    steps: list[MigrationStep], specs: list[EntitySpec] | None, expected: str
) -> None:
    assert any(expected in p for p in problems_of(*steps, specs=specs))


# --------------------------------------------------------------------------- files


def _store_at_v1(conn: Any = None, dialect_name: str = "sqlite") -> tuple[Store, list[Any]]:
    """A store at v1: two tallies (one incremented twice) and two tags (one renamed once)."""
    store = Store.sqlite() if conn is None else Store.connect(conn, dialect_name)
    store.ensure(TALLY_V1)
    store.ensure(TAG_V1)
    made = [store.create(TALLY_V1, CounterDraft(name=n, value=v)) for n, v in (("a", 1), ("b", 2))]
    store.execute(TALLY_V1, made[0].id, CounterIncrement(by=3))
    store.execute(TALLY_V1, made[0].id, CounterIncrement(by=1))
    tags = [store.create(TAG_V1, CounterDraft(name=n, value=0)) for n in ("x", "y")]
    store.execute(TAG_V1, tags[0].id, CounterSetName(value="z"))
    return store, made


def test_restore_upgrades_old_names_and_reports_dropped_records(
    plan: MigrationPlan, tmp_path: Path
) -> None:
    store, made = _store_at_v1()
    path = str(tmp_path / "v1.json")
    assert store.snapshot(path) == 4
    fresh = Store.sqlite()
    report = fresh.restore(path, plan, specs=[COUNTER_V3])
    assert report.types == ("Counter",)
    assert report.inserted == {"Counter": 2}
    assert report.dropped == {"Tag": 2}
    assert report.notes == ("Tag: 2 record(s) not restored: Tag v1 -> v2 dropped the entity",)
    values = {c.name: c.value for c in fresh.list(COUNTER_V3)}
    assert values == {"a": (1 + 3 + 1) * 10 + 1, "b": 2 * 10 + 1}
    assert fresh.version(COUNTER_V3, made[0].id) == 3
    assert fresh.schema_version("tags") is None


def test_restore_of_a_schema_only_snapshot_skips_dropped_types(
    plan: MigrationPlan, tmp_path: Path
) -> None:
    store, _ = _store_at_v1()
    path = str(tmp_path / "schema.json")
    store.snapshot(path, mode="schema_only")
    fresh = Store.sqlite()
    report = fresh.restore(path, plan, specs=[COUNTER_V3])
    assert (report.types, report.total, report.dropped) == (("Counter",), 0, {"Tag": 0})
    assert fresh.schema_version("counters") == 3


def test_restore_without_the_plan_still_refuses_unknown_entities(tmp_path: Path) -> None:
    store, _ = _store_at_v1()
    path = str(tmp_path / "v1.json")
    store.snapshot(path)
    with pytest.raises(ValidationError, match="unknown entity 'Tally'"):
        Store.sqlite().restore(path, None, specs=[COUNTER_V3])


def _item() -> Any:
    draft = ItemDraft(
        sku="A-1",
        region="eu",
        ref=UUID(int=5),
        price=Decimal("1.50"),
        status=ItemStatus.ACTIVE,
        tags=[],
        active=True,
        seen_at=datetime(2026, 1, 2, 3, 4, 5),
    )
    return create_item(draft)


def test_collection_restore_upgrades_old_names_and_counts_dropped_records(
    tmp_path: Path,
) -> None:
    drop_item = step("Item", 1, 2, drops_entity=True, table="items")
    plan = MigrationPlan.for_specs([TO_SCORE, TO_COUNTER, drop_item], [COUNTER_V3])
    path = str(tmp_path / "collection.json")
    written = Collection([TALLY_V1, ITEM_SPEC])
    written.add(create_counter(CounterDraft(name="c", value=4), id=7), version=2)
    written.add(_item())
    written.snapshot(path)
    restored = Collection.restore(path, [COUNTER_V3], plan=plan)
    assert [(m.spec.name, m.entity.value, m.version) for m in restored.members] == [
        ("Counter", 41, 2)
    ]
    assert restored.dropped == {"Item": 1}
    assert restored.notes == ("Item: 1 record(s) not restored: Item v1 -> v2 dropped the entity",)
    assert restored.invoke("Increment", {"by": 1}).applied[0].entity == "Counter"


def test_compat_primitives_read_old_names_through_the_plan(
    plan: MigrationPlan, tmp_path: Path
) -> None:
    store, _ = _store_at_v1()
    snapshot, journal = str(tmp_path / "v1.json"), str(tmp_path / "v1.jsonl")
    store.snapshot(snapshot)
    assert store.export_journal(journal) == 3
    assert check_snapshot(snapshot, [COUNTER_V3], plan) == []
    assert check_journal(journal, [COUNTER_V3], plan) == []
    assert {(f.rule, f.entity) for f in check_snapshot(snapshot, [COUNTER_V3])} == {
        ("PT037", "Tally"),
        ("PT037", "Tag"),
    }
    assert {(f.rule, f.entity) for f in check_journal(journal, [COUNTER_V3])} == {
        ("PT037", "Tally"),
        ("PT037", "Tag"),
    }


def test_compat_primitives_map_journaled_commands_of_old_names(
    plan: MigrationPlan, tmp_path: Path
) -> None:
    path = tmp_path / "bump.jsonl"
    line = {
        "format_version": 1, "seq": 1, "ts": "2026-01-01T00:00:00Z", "entity": "Score",
        "id": 1, "schema_version": 2, "command": "Bump", "payload_version": 1,
        "payload": {"n": 2}, "expected_version": 1, "new_version": 2, "idempotency_key": None,
    }  # fmt: skip
    bad = {**line, "seq": 2, "payload": {"n": "two"}}
    path.write_text(json.dumps(line) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    (finding,) = check_journal(path, [COUNTER_V3], plan)
    assert (finding.rule, finding.entity, finding.line) == ("PT032", "Counter", 2)


def test_compat_primitives_validate_records_under_old_names_after_the_upgrade(
    plan: MigrationPlan, tmp_path: Path
) -> None:
    store, _ = _store_at_v1()
    path = tmp_path / "v1.json"
    store.snapshot(str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["records"][0]["fields"]["value"] = "many"
    path.write_text(json.dumps(data), encoding="utf-8")
    (finding,) = check_snapshot(path, [COUNTER_V3], plan)
    assert (finding.rule, finding.entity) == ("PT032", "Counter")


# --------------------------------------------------------------------------- databases


def _count(store: Store, sql: str) -> int:
    with store.transaction() as cur:
        cur.execute(sql)
        (count,) = cur.fetchone()
    return int(count)


def _registry(store: Store) -> dict[str, int]:
    with store.transaction() as cur:
        return read_schema_versions(cur, store.dialect)


_CONNECTIONS = {"sqlite": "sqlite_conn", "postgres": "pg_conn", "mysql": "mysql_conn"}
_DIALECTS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.db),
    pytest.param("mysql", marks=pytest.mark.db),
]


@pytest.mark.parametrize("dialect_name", _DIALECTS)
def test_apply_keeps_row_versions_of_renamed_tables_and_forgets_dropped_ones(
    dialect_name: str, plan: MigrationPlan, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    conn = request.getfixturevalue(_CONNECTIONS[dialect_name])
    store, made = _store_at_v1(conn, dialect_name)
    snapshot = str(tmp_path / "v1.json")
    store.snapshot(snapshot)
    versions = "SELECT COUNT(*) FROM __persist_versions WHERE table_name = '{}'"
    journal = "SELECT COUNT(*) FROM __persist_journal WHERE table_name = '{}'"
    assert _count(store, versions.format("tags")) == 1

    applied = plan.apply(store)
    assert [a.step for a in applied] == [TO_SCORE, DROP_TAG, TO_COUNTER]
    assert _registry(store) == {"counters": 3}
    assert [_count(store, versions.format(t)) for t in ("tallies", "counters", "tags")] == [
        0,
        1,
        0,
    ]
    assert _count(store, journal.format("counters")) == 2
    assert _count(store, journal.format("tags")) == 1  # history stays
    assert plan.apply(store) == []

    migrated = Store.connect(conn, dialect_name)
    migrated.ensure(COUNTER_V3)
    assert migrated.version(COUNTER_V3, made[0].id) == 3
    restored = Store.sqlite()
    restored.restore(snapshot, plan, specs=[COUNTER_V3])
    assert migrated.list(COUNTER_V3) == restored.list(COUNTER_V3)  # the dual path

    label = named("Label", "tags", 1)  # a new entity may take the dropped table's name
    migrated.ensure(label)
    created = migrated.create(label, CounterDraft(name="new", value=1))
    assert migrated.version(label, created.id) == 1
