"""compat-check options, exit codes, modes, the baseline and the migrations directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from persist_tool.rules import CATALOG
from tests.compat_check.conftest import ShopRepo

# --------------------------------------------------------------------------- exit codes


def test_list_rules_prints_the_catalog(shop: ShopRepo) -> None:
    outcome = shop.run("compat-check", "--list-rules")
    assert outcome.exit_code == 0
    lines = outcome.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "SEVERITY", "MODES"]
    assert [ln.split()[0] for ln in lines[1:]] == [r.id for r in CATALOG]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "sideways"], "--mode 'sideways' is not one of: backward, forward, full"),
        (["--fail-on", "fatal"], "--fail-on 'fatal' is not one of"),
        (["--format", "xml"], "unknown --format 'xml'"),
        (["missing.sql"], "missing.sql:0:0: error: no such file"),
        (["--against", "no-such-ref"], "--against no-such-ref: no such commit"),
        (["--lock", "nowhere.lock.json"], "nowhere.lock.json:0:0: error: lock file not found"),
        (["--snapshot", "absent.json"], "absent.json:0:0: error: no such file"),
        (["--journal", "."], "is a directory"),
    ],
)
def test_bad_input_exits_2_with_a_located_message_and_no_traceback(
    shop: ShopRepo, args: list[str], message: str
) -> None:
    outcome = shop.run("compat-check", *args)
    assert outcome.exit_code == 2, outcome.stdout
    assert message in outcome.stderr
    assert "Traceback" not in outcome.stderr + outcome.stdout


def test_fail_on_decides_which_severities_fail(shop: ShopRepo) -> None:
    shop.edit(
        "CREATE INDEX idx_products_name ON products (name);",
        "CREATE INDEX idx_products_name ON products (name, sku);",
    )
    shop.edit(
        "-- Something the shop sells.\n",
        "-- Something the shop sells.\n-- persist: Product schema_version=2\n",
    )
    shop.run("lock")
    (shop.root / "migrations").mkdir()
    (shop.root / "migrations" / "product_v1_to_v2.py").write_text(
        "from persist_runtime import MigrationStep\n" "STEP = MigrationStep('Product', 1, 2)\n",
        encoding="utf-8",
    )
    default = shop.check()
    assert default.exit_code == 0 and default.rules == ["PT023"]
    assert default.findings[0]["severity"] == "info"
    assert shop.check("--fail-on", "warning").exit_code == 0
    assert shop.check("--fail-on", "info").exit_code == 1
    shop.configure('fail-on = "info"\n')
    assert shop.check().exit_code == 1
    assert shop.check("--fail-on", "error").exit_code == 0  # the command line wins


# --------------------------------------------------------------------------- versioning


def test_a_change_without_a_version_bump_is_pt001(shop: ShopRepo) -> None:
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(100),")
    outcome = shop.check()
    assert outcome.exit_code == 1
    assert "PT001" in outcome.rules and "PT014" in outcome.rules
    pt001 = next(f for f in outcome.findings if f["rule"] == "PT001")
    assert "Order: the schema changed (~note) but schema_version is still 1" in str(
        pt001["message"]
    )
    assert pt001["location"] == {
        "file": "shop.sql",
        "line": 33,
        "column": 14,
        "pointer": None,
        "subject": "Order",
        "record": None,
        "key": "Order",
    }


def test_locking_a_breaking_version_does_not_hide_the_break(shop: ShopRepo) -> None:
    shop.edit("-- persist: Order schema_version=1", "-- persist: Order schema_version=2")
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(100),")
    assert shop.run("lock").exit_code == 0
    outcome = shop.check()
    assert outcome.exit_code == 1
    assert sorted(outcome.rules) == ["PT002", "PT014"]


def test_a_version_lower_than_recorded_is_pt005(shop: ShopRepo) -> None:
    shop.edit("-- persist: Order schema_version=1", "-- persist: Order schema_version=2")
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(600),")
    shop.run("lock")
    shop.edit("-- persist: Order schema_version=2", "-- persist: Order schema_version=1")
    outcome = shop.check()
    assert "PT005" in outcome.rules


def test_a_removed_entity_is_a_warning(shop: ShopRepo) -> None:
    text = shop.sql
    start = text.index("-- Store credit a customer holds")
    (shop.root / "shop.sql").write_text(text[:start], encoding="utf-8")
    outcome = shop.check()
    assert outcome.exit_code == 0
    [finding] = outcome.findings
    assert finding["rule"] == "PT020" and finding["severity"] == "warning"
    assert finding["location"]["file"] == "persist.lock.json"


def test_without_a_lock_every_entity_is_unrecorded(shop: ShopRepo) -> None:
    (shop.root / "persist.lock.json").unlink()
    outcome = shop.check()
    assert outcome.exit_code == 1 and outcome.rules == ["PT004"] * 5


# --------------------------------------------------------------------------- modes


def test_modes_backward_forward_full(shop: ShopRepo) -> None:
    shop.edit("-- persist: Order schema_version=1", "-- persist: Order schema_version=2")
    shop.edit("    shipped_on DATE\n", "    shipped_on DATE,\n    coupon VARCHAR(20)\n")
    shop.run("lock")
    (shop.root / "migrations").mkdir()
    (shop.root / "migrations" / "order_v1_to_v2.py").write_text(
        "from persist_runtime import MigrationStep\nSTEP = MigrationStep('Order', 1, 2)\n",
        encoding="utf-8",
    )
    # A new optional field: new code reads old records, old code rejects new ones.
    assert shop.check().exit_code == 0
    forward = shop.check("--mode", "forward")
    assert forward.exit_code == 1 and forward.rules == ["PT018"]
    full = shop.check("--mode", "full")
    assert full.exit_code == 1 and full.rules == ["PT018"]
    shop.configure('mode = "forward"\n')
    assert shop.check().rules == ["PT018"]
    assert shop.check("--mode", "backward").exit_code == 0


def test_transitive_checks_every_recorded_version(shop: ShopRepo) -> None:
    (shop.root / "migrations").mkdir()
    step = "from persist_runtime import MigrationStep\nSTEP = MigrationStep('Order', {a}, {b})\n"
    # v2 narrows note to 100, v3 widens it back to 200: v2 data fits, v1 data may not.
    shop.edit("-- persist: Order schema_version=1", "-- persist: Order schema_version=2")
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(100),")
    shop.run("lock")
    shop.edit("-- persist: Order schema_version=2", "-- persist: Order schema_version=3")
    shop.edit("    note VARCHAR(100),", "    note VARCHAR(200),")
    shop.run("lock")
    for a, b in ((1, 2), (2, 3)):
        (shop.root / "migrations" / f"order_v{a}_to_v{b}.py").write_text(
            step.format(a=a, b=b), encoding="utf-8"
        )
    assert shop.check().exit_code == 0
    transitive = shop.check("--transitive")
    assert transitive.exit_code == 1 and transitive.rules == ["PT014"]
    assert "(against schema_version 1)" in str(transitive.findings[0]["message"])


# --------------------------------------------------------------------------- migrations


def _bump_order(shop: ShopRepo, to: int) -> None:
    shop.edit("-- persist: Order schema_version=1", f"-- persist: Order schema_version={to}")
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(600),")


def _step(shop: ShopRepo, a: int, b: int, body: str = "") -> None:
    directory = shop.root / "migrations"
    directory.mkdir(exist_ok=True)
    (directory / f"order_v{a}_to_v{b}.py").write_text(
        "from persist_runtime import MigrationStep\n"
        f"{body}STEP = MigrationStep('Order', {a}, {b}"
        + (", migrate_state=migrate_state" if body else "")
        + ")\n",
        encoding="utf-8",
    )


def test_a_gap_in_the_chain_is_pt003(shop: ShopRepo) -> None:
    _bump_order(shop, 4)
    shop.run("lock")
    _step(shop, 1, 2)
    _step(shop, 3, 4)
    outcome = shop.check("--lock", "persist.lock.json")
    gaps = [f for f in outcome.findings if f["rule"] == "PT003"]
    assert [str(f["message"]) for f in gaps] == ["Order: migration steps jump from v2 to v3"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"bad.py": "STEP = ("}, "migrations/bad.py:1:8: error: migration module does not parse"),
        (
            {"bad.py": "raise RuntimeError('boom')\n"},
            "migrations/bad.py:1:0: error: migration module fails on import: RuntimeError: boom",
        ),
        ({"bad.py": "X = 1\n"}, "migrations/bad.py:0:0: error: migration module defines no STEP"),
    ],
)
def test_broken_migration_modules_exit_2(
    shop: ShopRepo, files: dict[str, str], message: str
) -> None:
    (shop.root / "migrations").mkdir()
    for name, text in files.items():
        (shop.root / "migrations" / name).write_text(text, encoding="utf-8")
    outcome = shop.run("compat-check")
    assert outcome.exit_code == 2
    assert message in outcome.stderr, outcome.stderr


def test_a_step_past_the_current_version_exits_2(shop: ShopRepo) -> None:
    _step(shop, 1, 2)
    outcome = shop.run("compat-check")
    assert outcome.exit_code == 2
    assert "Order v1 -> v2 goes past Order's schema_version 1" in outcome.stderr


def test_a_required_field_is_fine_when_the_step_fills_it(shop: ShopRepo) -> None:
    shop.edit("-- persist: Order schema_version=1", "-- persist: Order schema_version=2")
    shop.edit("    shipped_on DATE\n", "    shipped_on DATE,\n    channel VARCHAR(10) NOT NULL\n")
    shop.run("lock")
    _step(shop, 1, 2)
    unfilled = shop.check()
    assert unfilled.exit_code == 1 and unfilled.rules == ["PT010"]
    _step(
        shop,
        1,
        2,
        "def migrate_state(record):\n    record['channel'] = 'web'\n    return record\n",
    )
    assert shop.check().exit_code == 0


# --------------------------------------------------------------------------- baseline


def _narrow_note(shop: ShopRepo) -> None:
    shop.edit("-- persist: Order schema_version=1", "-- persist: Order schema_version=2")
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(100),")
    shop.run("lock")
    _step(shop, 1, 2)


def test_a_baseline_entry_accepts_an_intended_break(shop: ShopRepo) -> None:
    _narrow_note(shop)
    assert shop.check().rules == ["PT014"]
    shop.configure(
        'baseline = [{ rule = "PT014", location = "Order.note", reason = "notes were trimmed" }]\n'
    )
    outcome = shop.check()
    assert outcome.exit_code == 0 and outcome.rules == []
    data = json.loads(outcome.stdout)
    assert [f["rule"] for f in data["accepted"]] == ["PT014"]
    assert data["summary"]["accepted"] == 1
    text = shop.run("compat-check")
    assert "(1 accepted by the baseline)" in text.stdout


def test_baseline_entries_match_by_name_and_pattern(shop: ShopRepo) -> None:
    _narrow_note(shop)
    shop.configure('baseline = [{ rule = "constraint-narrowed", location = "Order.*" }]\n')
    assert shop.check().exit_code == 0


def test_an_unused_baseline_entry_is_reported(shop: ShopRepo) -> None:
    shop.configure(
        "baseline = [\n"
        '  { rule = "PT012", location = "Order.status" },\n'
        '  { rule = "PT014", location = "Order.note" },\n'
        "]\n"
    )
    outcome = shop.check("--fail-on", "warning")
    assert outcome.exit_code == 1
    unused = outcome.findings
    assert [f["rule"] for f in unused] == ["PT040", "PT040"]
    assert unused[0]["location"]["file"] == "pyproject.toml"
    assert unused[0]["location"]["line"] == 10
    assert unused[1]["location"]["line"] == 11
    assert "baseline entry PT012 at Order.status matches no finding" in str(unused[0]["message"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('baseline = [{ rule = "PT999", location = "x" }]\n', "unknown rule 'PT999'"),
        ('baseline = [{ rule = "PT014" }]\n', "baseline entry 1 has no location"),
        ('baseline = ["PT014"]\n', "baseline entry 1 is not a table"),
        ('baseline = [{ rule = "PT014", location = "x", why = 1 }]\n', "unknown key(s) why"),
        ('ignores = ["nope"]\n', "unknown rule 'nope'"),
    ],
)
def test_a_malformed_baseline_exits_2(shop: ShopRepo, extra: str, message: str) -> None:
    shop.configure(extra)
    outcome = shop.run("compat-check")
    assert outcome.exit_code == 2
    assert message in outcome.stderr and "pyproject.toml:" in outcome.stderr


def test_ignored_rules_are_not_reported(shop: ShopRepo) -> None:
    _narrow_note(shop)
    shop.configure('ignores = ["PT014"]\n')
    assert shop.check().exit_code == 0


# --------------------------------------------------------------------------- --against


def test_against_a_ref_compares_with_the_sources_at_that_commit(shop: ShopRepo) -> None:
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(100),")
    shop.run("lock", "--lock", "other.lock.json")  # the working lock is not what counts
    (shop.root / "persist.lock.json").unlink()
    outcome = shop.check("--against", "HEAD")
    assert outcome.exit_code == 1
    assert sorted(outcome.rules) == ["PT001", "PT014"]
    data = json.loads(outcome.stdout)
    assert data["inputs"]["against"] == "HEAD" and data["inputs"]["lock"] is None
    shop.commit("narrow note")
    assert shop.check("--against", "HEAD").exit_code == 0
    assert sorted(shop.check("--against", "HEAD~1").rules) == ["PT001", "PT014"]


def test_against_a_ref_where_the_source_did_not_exist_yet(shop: ShopRepo) -> None:
    (shop.root / "extra.sql").write_text(
        "-- persist: Coupon schema_version=1\nCREATE TABLE coupons (id INTEGER PRIMARY KEY);\n",
        encoding="utf-8",
    )
    outcome = shop.check("shop.sql", "extra.sql", "--against", "HEAD")
    assert outcome.exit_code == 1  # the working lock does not record Coupon
    assert outcome.rules == ["PT004"]


def test_against_outside_a_git_repository_exits_2(tmp_path: Path) -> None:
    repo = ShopRepo(tmp_path / "plain")
    shutil.rmtree(repo.root / ".git")
    outcome = repo.run("compat-check", "--against", "HEAD")
    assert outcome.exit_code == 2
    assert "--against needs a git repository" in outcome.stderr
