"""The CI gate end to end on the shop fixture, the way a team's pipeline meets it.

A schema bump without a migration fails (PT002); ``generate migration`` plus ``lock`` make
it pass; a journal holding a command the new schema removed fails until a command
migration maps it (PT033); a snapshot written by a newer version fails (PT030).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.compat_check.conftest import ShopRepo, order_record, snapshot


def test_a_clean_locked_tree_passes(shop: ShopRepo) -> None:
    outcome = shop.run("compat-check")
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert "0 errors, 0 warnings, 0 infos" in outcome.stdout
    assert outcome.stdout.rstrip().endswith("OK")


def test_the_full_ci_story(shop: ShopRepo) -> None:
    # 1. Bump Order without a migration: exit 1, PT002 (and the lock is behind: PT004).
    shop.bump_order()
    outcome = shop.check()
    assert outcome.exit_code == 1
    assert outcome.rules.count("PT002") == 1 and "PT004" in outcome.rules
    text = shop.run("compat-check")
    assert text.exit_code == 1
    assert re.search(
        r"shop\.sql:33:\d+ Order: error PT002\[migration-missing\] Order: schema_version 1 -> 2"
        r" has no migration step",
        text.stdout,
    ), text.stdout
    assert "migrations/order_v1_to_v2.py" in text.stdout

    # The same change judged against the last commit instead of the lock file.
    against = shop.check("--against", "HEAD")
    assert against.exit_code == 1 and "PT002" in against.rules

    # 2. A journal written by v1 holds SetShippedOn, which v2 no longer has.
    journal = shop.write_journal(
        "orders.jsonl",
        [
            {"command": "SetShippedOn", "payload": {"value": "2026-11-23"}},
            {"command": "SetStatus", "payload": {"value": "shipped"}},
        ],
    )
    # Without any step its v1 records have no way to the code's v2 at all.
    before = shop.check("--journal", journal.name)
    assert before.exit_code == 1 and "PT031" in before.rules

    # 3. Generate the migration (it maps the removed setter) and record the lock: exit 0.
    generated = shop.run("generate", "migration", "--from-lock")
    assert generated.exit_code == 0, generated.stderr
    assert (shop.root / "migrations" / "order_v1_to_v2.py").is_file()
    assert shop.run("lock").exit_code == 0
    after = shop.check("--journal", journal.name)
    assert after.exit_code == 0, after.stdout
    assert after.rules == ["PT011"]  # shipped_on's values are dropped: a warning, not a failure

    # 4. Without the command migration the journal fails again, naming line and command.
    module = shop.root / "migrations" / "order_v1_to_v2.py"
    text_before = module.read_text(encoding="utf-8")
    module.write_text(
        re.sub(
            r"COMMANDS: Final\[.*?\] = \{.*?\n\}\n",
            "COMMANDS: Final[dict[tuple[str, int], CommandMigration]] = {}\n",
            text_before,
            flags=re.S,
        ),
        encoding="utf-8",
    )
    unmapped = shop.check("--journal", journal.name)
    assert unmapped.exit_code == 1
    [finding] = [f for f in unmapped.findings if f["rule"] == "PT033"]
    assert finding["location"]["file"] == "orders.jsonl"
    assert finding["location"]["line"] == 1
    assert "command SetShippedOn (payload_version 1) no longer exists" in finding["message"]
    module.write_text(text_before, encoding="utf-8")

    # 5. A v1 snapshot is upgraded through the step and validated: fine. One written by a
    #    newer version than the code: exit 1, PT030 with the record's id.
    good = shop.write_json("good.snapshot.json", snapshot([order_record(1)]))
    assert shop.check("--snapshot", good.name).exit_code == 0
    newer = shop.write_json(
        "newer.snapshot.json", snapshot([order_record(1), order_record(2, schema_version=3)])
    )
    outcome = shop.check("--snapshot", newer.name)
    assert outcome.exit_code == 1
    [finding] = [f for f in outcome.findings if f["rule"] == "PT030"]
    assert finding["location"]["record"] == "#2"
    assert finding["location"]["pointer"] == "/records/1/schema_version"
    assert "schema_version 3 is newer than the code's 2" in finding["message"]


def test_a_snapshot_record_invalid_after_upgrade_names_id_and_pointer(shop: ShopRepo) -> None:
    shop.bump_order()
    assert shop.run("generate", "migration", "--from-lock").exit_code == 0
    assert shop.run("lock").exit_code == 0
    path = shop.write_json(
        "s.json", snapshot([order_record(1), order_record(5, status="misplaced")])
    )
    outcome = shop.check("--snapshot", path.name)
    assert outcome.exit_code == 1
    [finding] = [f for f in outcome.findings if f["rule"] == "PT032"]
    assert finding["location"]["record"] == "#5"
    assert finding["location"]["pointer"] == "/records/1/fields/status"


def test_a_stubbed_migration_fails_until_it_is_written(shop: ShopRepo) -> None:
    shop.bump_order()
    assert shop.run("generate", "migration", "--from-lock").exit_code == 0
    assert shop.run("lock").exit_code == 0
    module = shop.root / "migrations" / "order_v1_to_v2.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(
        text.replace(
            '    record["gift_wrap"] = False\n',
            "    # stub: decide which orders were gift wrapped.\n"
            '    raise NotImplementedError("gift_wrap")\n',
        ).replace("stub=False", "stub=True"),
        encoding="utf-8",
    )
    outcome = shop.check()
    assert outcome.exit_code == 1
    [finding] = [f for f in outcome.findings if f["rule"] == "PT036"]
    assert finding["location"]["file"] == "migrations/order_v1_to_v2.py"
    assert "decide which orders were gift wrapped" in finding["message"]
    stub_line = (
        module.read_text(encoding="utf-8")
        .splitlines()
        .index("    # stub: decide which orders were gift wrapped.")
    )
    assert finding["location"]["line"] == stub_line + 1


def test_outputs_never_leave_bytecode_in_the_migrations_directory(shop: ShopRepo) -> None:
    shop.bump_order()
    assert shop.run("generate", "migration", "--from-lock").exit_code == 0
    shop.check()
    assert sorted(p.name for p in Path(shop.root / "migrations").iterdir()) == ["order_v1_to_v2.py"]
