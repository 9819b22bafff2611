"""``check_snapshot`` / ``check_journal``: every per-record rule, folding, streaming memory.

The specs are generated from the shop fixture with ``Order`` at schema version 2 (field
``shipped_on`` dropped, ``gift_wrap`` added, so the ``SetShippedOn`` command is gone); the
plan's step v1 -> v2 upgrades stored orders and, where a test says so, maps the old command.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from persist_runtime import (
    API_VERSION,
    EntitySpec,
    MigrationPlan,
    MigrationStep,
    Store,
    check_journal,
    check_snapshot,
)
from persist_runtime.compat import COMPAT_RULES, CompatFinding

from persist_tool.compat.specs import generated_specs
from persist_tool.rules import CATALOG, get_rule
from persist_tool.sources import load_schema

ROOT = Path(__file__).resolve().parents[2]
SHOP_SQL = ROOT / "fixtures" / "shop" / "shop.sql"


def shop_v2_text() -> str:
    text = SHOP_SQL.read_text(encoding="utf-8")
    text = text.replace("-- persist: Order schema_version=1", "-- persist: Order schema_version=2")
    text = text.replace(
        "    shipped_on DATE\n);", "    gift_wrap BOOLEAN NOT NULL DEFAULT FALSE\n);"
    )
    assert "gift_wrap" in text and "schema_version=2" in text
    return text


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EntitySpec]]:
    source = tmp_path_factory.mktemp("shop") / "shop.sql"
    source.write_text(shop_v2_text(), encoding="utf-8")
    with generated_specs(load_schema([source]).schema) as found:
        yield found


def upgrade_order(record: dict[str, Any]) -> dict[str, Any]:
    record.pop("shipped_on", None)
    record["gift_wrap"] = False
    return record


def plan_for(
    specs: Mapping[str, EntitySpec],
    *,
    commands: Mapping[tuple[str, int], Callable[[dict[str, Any]], Any]] | None = None,
    state: Callable[[dict[str, Any]], dict[str, Any]] | None = upgrade_order,
    stub: bool = False,
) -> MigrationPlan:
    step = MigrationStep(
        "Order", 1, 2, migrate_state=state, commands=dict(commands or {}), stub=stub
    )
    return MigrationPlan.for_specs([step], specs.values())


# --------------------------------------------------------------------------- journals

BASE: dict[str, Any] = {
    "format_version": 1,
    "seq": 1,
    "ts": "2026-11-21T10:00:00.000000Z",
    "entity": "Order",
    "id": 7,
    "schema_version": 2,
    "command": "SetStatus",
    "payload_version": 1,
    "payload": {"value": "paid"},
    "expected_version": 1,
    "new_version": 2,
    "idempotency_key": None,
}


def write_journal(path: Path, *records: Mapping[str, Any] | str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for seq, record in enumerate(records, start=1):
            line = record if isinstance(record, str) else json.dumps({**BASE, "seq": seq, **record})
            out.write(line + "\n")
    return path


def rules(found: list[CompatFinding]) -> list[str]:
    return [f.rule for f in found]


def test_a_journal_the_code_reads_gives_no_findings(tmp_path: Path, specs: Any) -> None:
    path = write_journal(
        tmp_path / "j.jsonl",
        {},
        {"command": "SetGiftWrap", "payload": {"value": True}},
        {"command": "Patch", "payload": {"note": "ring twice", "total": "12.50"}},
        {"command": "Touch", "payload": {}},
        {"schema_version": 1, "command": "SetNote", "payload": {"value": None}},
    )
    assert check_journal(path, specs, plan_for(specs)) == []


def test_a_removed_command_without_a_command_migration_is_pt033_folded_per_kind(
    tmp_path: Path, specs: Any
) -> None:
    old = {"schema_version": 1, "command": "SetShippedOn", "payload": {"value": "2026-01-02"}}
    path = write_journal(tmp_path / "j.jsonl", {}, old, old, {}, old)
    [finding] = check_journal(path, specs, plan_for(specs))
    assert finding.rule == "PT033" and finding.severity == "error"
    assert finding.line == 2 and finding.pointer == "/command"
    assert finding.occurrences == 3
    assert finding.examples == ("line 2", "line 3", "line 5")
    assert "SetShippedOn (payload_version 1) no longer exists" in finding.message
    assert finding.record == "#7 (seq 2)"


def test_a_command_migration_maps_the_removed_command(tmp_path: Path, specs: Any) -> None:
    old = {"schema_version": 1, "command": "SetShippedOn", "payload": {"value": "2026-01-02"}}
    path = write_journal(tmp_path / "j.jsonl", old)
    plan = plan_for(specs, commands={("SetShippedOn", 1): lambda p: ("Touch", {}, 1)})
    assert check_journal(path, specs, plan) == []
    # The mapping counts only for records written before the step's version.
    newer = write_journal(tmp_path / "newer.jsonl", {**old, "schema_version": 2})
    assert rules(check_journal(newer, specs, plan)) == ["PT033"]


def test_a_command_migration_giving_an_invalid_payload_is_pt032(tmp_path: Path, specs: Any) -> None:
    old = {"schema_version": 1, "command": "SetShippedOn", "payload": {"value": "x"}}
    path = write_journal(tmp_path / "j.jsonl", old)
    plan = plan_for(specs, commands={("SetShippedOn", 1): lambda p: ("SetGiftWrap", p, 1)})
    [finding] = check_journal(path, specs, plan)
    assert finding.rule == "PT032" and finding.pointer == "/payload/value"
    assert "expected a boolean" in finding.message or "boolean" in finding.message


def test_patch_records_are_read_with_the_patch_type(tmp_path: Path, specs: Any) -> None:
    path = write_journal(
        tmp_path / "j.jsonl",
        {"command": "Patch", "payload": {"note": 5, "shipped_on": "2026-01-01"}},
    )
    found = check_journal(path, specs, plan_for(specs))
    assert [(f.rule, f.pointer) for f in found] == [
        ("PT032", "/payload/shipped_on"),
        ("PT032", "/payload/note"),
    ] or sorted((f.rule, f.pointer) for f in found) == [
        ("PT032", "/payload/note"),
        ("PT032", "/payload/shipped_on"),
    ]
    assert all(f.line == 1 for f in found)


def test_payloads_of_existing_commands_are_validated(tmp_path: Path, specs: Any) -> None:
    path = write_journal(tmp_path / "j.jsonl", {"payload": {"value": "lost"}}, {"payload": []})
    found = check_journal(path, specs, plan_for(specs))
    assert [(f.rule, f.line, f.pointer) for f in found] == [
        ("PT032", 1, "/payload/value"),
        ("PT032", 2, "/payload"),
    ]


def test_versions_entities_format_and_damage_have_their_rules(tmp_path: Path, specs: Any) -> None:
    path = write_journal(
        tmp_path / "j.jsonl",
        {"schema_version": 3},
        {"schema_version": 1, "command": "SetNote", "payload": {"value": "x"}},
        {"entity": "Refund"},
        {"format_version": 2},
        "{not json",
        json.dumps({"format_version": 1, "entity": "Order"}),
        "",
        "[1, 2]",
    )
    found = check_journal(path, specs, None)
    assert [(f.rule, f.line) for f in found] == [
        ("PT030", 1),
        ("PT031", 2),
        ("PT037", 3),
        ("PT034", 4),
        ("PT038", 5),
        ("PT038", 6),
        ("PT038", 8),
    ]
    by_rule = {f.rule: f for f in found}
    assert "schema_version 3 is newer than the code's 2" in by_rule["PT030"].message
    assert "no migration path from schema_version 1 to 2" in by_rule["PT031"].message
    assert "entity Refund is not defined" in by_rule["PT037"].message
    assert "format_version 2 is not supported (supported: 1)" in by_rule["PT034"].message


def test_a_final_line_cut_short_by_a_crash_is_not_a_record(tmp_path: Path, specs: Any) -> None:
    path = write_journal(tmp_path / "j.jsonl", {})
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps({**BASE, "command": "Gone"})[:-5])
    assert check_journal(path, specs, plan_for(specs)) == []


def test_a_missing_journal_raises_oserror(tmp_path: Path, specs: Any) -> None:
    with pytest.raises(FileNotFoundError):
        check_journal(tmp_path / "absent.jsonl", specs, None)


# --------------------------------------------------------------------------- snapshots

ORDER_V1 = {
    "id": 1,
    "customer_id": 1,
    "status": "paid",
    "total": "10.00",
    "note": None,
    "placed_at": "2026-11-21T10:00:00",
    "shipped_on": None,
}


def write_snapshot(
    path: Path,
    records: list[Any],
    *,
    types: list[dict[str, Any]] | None = None,
    **header: Any,
) -> Path:
    document = {
        "format": "persist-snapshot",
        "format_version": 1,
        "api_version": API_VERSION,
        "mode": "with_data" if records else "schema_only",
        "created_at": "2026-11-21T10:00:00Z",
        "types": types or [],
        **header,
    }
    text = json.dumps(document)[:-1]
    text += ',\n "records": [' + ",".join("\n  " + json.dumps(r) for r in records) + "\n ]}\n"
    path.write_text(text, encoding="utf-8")
    return path


def record(id: int, version: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "entity": "Order",
        "id": id,
        "version": 1,
        "schema_version": version,
        "fields": {**ORDER_V1, "id": id, **fields},
    }


def test_snapshot_records_are_upgraded_then_validated(tmp_path: Path, specs: Any) -> None:
    path = write_snapshot(
        tmp_path / "s.json", [record(1), record(2, status="lost"), record(3, status="lost")]
    )
    [finding] = check_snapshot(path, specs, plan_for(specs))
    assert finding.rule == "PT032"
    assert finding.pointer == "/records/1/fields/status"
    assert finding.record == "#2" and finding.line == 4  # one record a line, from line 3
    assert finding.occurrences == 2 and finding.examples == ("#2", "#3")
    assert "Order #2 /fields/status: invalid after upgrade" in finding.message


def test_a_state_migration_that_fails_is_pt032_naming_the_step(tmp_path: Path, specs: Any) -> None:
    def broken(record: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("placed")

    path = write_snapshot(tmp_path / "s.json", [record(1)])
    [finding] = check_snapshot(path, specs, plan_for(specs, state=broken))
    assert finding.rule == "PT032"
    assert "Order v1 -> v2: migrate_state failed: KeyError" in finding.message


def test_snapshot_version_rules(tmp_path: Path, specs: Any) -> None:
    newer = {**record(1), "schema_version": 5, "fields": {}}
    path = write_snapshot(tmp_path / "s.json", [newer, record(2)])
    assert rules(check_snapshot(path, specs, None)) == ["PT030", "PT031"]
    stub = plan_for(specs, stub=True)
    [finding] = [f for f in check_snapshot(path, specs, stub) if f.rule != "PT030"]
    assert finding.rule == "PT036" and "step v1 -> v2" in finding.message


def test_schema_only_snapshots_are_checked_by_their_types(tmp_path: Path, specs: Any) -> None:
    types = [
        {"entity": "Order", "table": "orders", "schema_version": 3, "fingerprint": "f"},
        {"entity": "Refund", "table": "refunds", "schema_version": 1, "fingerprint": "f"},
        {"entity": "Customer", "table": "customers", "schema_version": 1, "fingerprint": "f"},
    ]
    path = write_snapshot(tmp_path / "s.json", [], types=types)
    found = check_snapshot(path, specs, None)
    assert [(f.rule, f.pointer) for f in found] == [("PT030", "/types/0"), ("PT037", "/types/1")]


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ({"format_version": 2}, "PT034"),
        ({"api_version": "2.0.0"}, "PT035"),
        ({"api_version": None}, "PT035"),
        ({"format": "something-else"}, "PT038"),
    ],
)
def test_snapshot_file_level_rules(
    tmp_path: Path, specs: Any, header: dict[str, Any], rule: str
) -> None:
    path = write_snapshot(tmp_path / "s.json", [record(1)], **header)
    assert rules(check_snapshot(path, specs, plan_for(specs))) == [rule]


def test_a_snapshot_that_is_not_json_is_pt038_with_its_line(tmp_path: Path, specs: Any) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"format": "persist-snapshot",\n oops}\n', encoding="utf-8")
    [finding] = check_snapshot(path, specs, None)
    assert finding.rule == "PT038" and finding.line == 2


def test_damaged_snapshot_records_are_pt038(tmp_path: Path, specs: Any) -> None:
    path = write_snapshot(tmp_path / "s.json", [{"entity": "Order"}, "x", record(1, version=2)])
    found = check_snapshot(path, specs, plan_for(specs))
    assert [f.rule for f in found][:2] == ["PT038", "PT038"]


def test_files_written_by_the_store_pass(tmp_path: Path, specs: Any) -> None:
    store = Store.sqlite()
    for spec in specs.values():
        store.ensure(spec)
    customer_spec, order_spec = specs["Customer"], specs["Order"]
    customer = store.create(
        customer_spec,
        customer_spec.draft_type(
            email="a@example.com", display_name="Ada", birth_date=date(1990, 1, 2)
        ),
    )
    order = store.create(
        order_spec, order_spec.draft_type(customer_id=customer.id, total=Decimal("12.50"))
    )
    store.execute(order_spec, order.id, {"command": "SetStatus", "payload": {"value": "paid"}})
    store.patch(order_spec, order.id, {"note": "ring twice"})
    store.snapshot(str(tmp_path / "s.json"))
    store.export_journal(str(tmp_path / "j.jsonl"))
    assert len((tmp_path / "j.jsonl").read_text().splitlines()) == 2
    assert check_snapshot(tmp_path / "s.json", specs, plan_for(specs)) == []
    assert check_journal(tmp_path / "j.jsonl", specs, plan_for(specs)) == []


# --------------------------------------------------------------------------- the catalog


def test_runtime_rules_match_the_tool_catalog() -> None:
    catalog = {r.id: r for r in CATALOG}
    for rule_id, (severity, message, hint) in COMPAT_RULES.items():
        rule = catalog[rule_id]
        assert (severity, message, hint) == (rule.severity.value, rule.message, rule.hint)


def test_runtime_finding_params_fill_the_catalog_templates(tmp_path: Path, specs: Any) -> None:
    path = write_journal(
        tmp_path / "j.jsonl",
        {"schema_version": 3},
        {"command": "Gone"},
        {"payload": {"value": 1}},
        {"entity": "Refund"},
        {"format_version": 9},
        "nope",
    )
    found = check_journal(path, specs, None)
    found += check_snapshot(write_snapshot(tmp_path / "s.json", [], api_version="9.0"), specs)
    assert len({f.rule for f in found}) == 7
    for f in found:
        remade = get_rule(f.rule).finding(_location(), **dict(f.params))
        assert remade.message == f.message and remade.hint == f.hint


def _location() -> Any:
    from persist_tool.rules import FindingLocation

    return FindingLocation()


# --------------------------------------------------------------------------- memory


def _journal_of(path: Path, lines: int) -> Path:
    commands = [
        ("SetStatus", {"value": "shipped"}),
        ("Patch", {"note": "leave at the door", "total": "99.10"}),
        ("SetNote", {"value": None}),
        ("SetGiftWrap", {"value": True}),
    ]
    with path.open("w", encoding="utf-8") as out:
        for seq in range(1, lines + 1):
            name, payload = commands[seq % 4]
            if seq % 997 == 0:
                name, payload = "SetShippedOn", {"value": "2026-01-01"}  # a folded finding
            record = {**BASE, "seq": seq, "id": seq % 5000, "command": name, "payload": payload}
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
    return path


def _peak(path: Path, specs: Any) -> tuple[int, list[CompatFinding]]:
    tracemalloc.start()
    try:
        found = check_journal(path, specs, plan_for(specs))
        return tracemalloc.get_traced_memory()[1], found
    finally:
        tracemalloc.stop()


def test_journal_memory_does_not_grow_with_length(tmp_path: Path, specs: Any) -> None:
    small_peak, small = _peak(_journal_of(tmp_path / "small.jsonl", 10_000), specs)
    large_peak, large = _peak(_journal_of(tmp_path / "large.jsonl", 100_000), specs)
    assert [f.rule for f in small] == [f.rule for f in large] == ["PT033"]
    assert small[0].occurrences == 10_000 // 997 and large[0].occurrences == 100_000 // 997
    # Ten times the lines, the same memory: the file is streamed, findings are folded.
    assert large_peak < small_peak * 1.25 + 64 * 1024, (small_peak, large_peak)
    assert large_peak < 8 * 1024 * 1024
