"""The rule catalog: stable ids, complete coverage of the design's rules, usable templates."""

from __future__ import annotations

import re

import pytest

from persist_tool.rules import (
    CATALOG,
    FindingLocation,
    Mode,
    Rule,
    Severity,
    format_catalog,
    get_rule,
    rule_by_name,
    rules_for_mode,
)

PINNED = [
    ("PT001", "version-not-bumped"),
    ("PT002", "migration-missing"),
    ("PT003", "migration-chain-gap"),
    ("PT004", "lock-out-of-date"),
    ("PT005", "version-decreased"),
    ("PT010", "field-added-without-default"),
    ("PT011", "field-removed"),
    ("PT012", "nullable-made-required"),
    ("PT013", "type-changed"),
    ("PT014", "constraint-narrowed"),
    ("PT015", "enum-values-changed"),
    ("PT016", "json-schema-narrowed"),
    ("PT017", "json-schema-assumed-compatible"),
    ("PT018", "field-added-unknown-to-old-readers"),
    ("PT019", "field-missing-for-old-readers"),
    ("PT020", "entity-removed"),
    ("PT021", "rename-not-declared"),
    ("PT022", "unique-added"),
    ("PT023", "index-changed"),
    ("PT024", "primary-key-changed"),
    ("PT025", "command-payload-changed"),
    ("PT030", "record-from-newer-version"),
    ("PT031", "no-migration-path"),
    ("PT032", "record-invalid-after-upgrade"),
    ("PT033", "unknown-command"),
    ("PT034", "unknown-format-version"),
    ("PT035", "api-major-mismatch"),
    ("PT036", "stubbed-state-migration"),
    ("PT037", "record-of-unknown-entity"),
    ("PT038", "unreadable-record"),
    ("PT040", "unused-baseline-entry"),
]
"""Published ids never change meaning: new rules are appended, none renumbered or reused."""


def test_published_rule_ids_keep_their_names() -> None:
    current = {r.id: r.name for r in CATALOG}
    for rule_id, name in PINNED:
        assert current.get(rule_id) == name, f"{rule_id} was renamed, renumbered or removed"


def test_ids_and_names_are_unique_and_well_formed() -> None:
    ids = [r.id for r in CATALOG]
    names = [r.name for r in CATALOG]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"PT\d{3}", i) for i in ids)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", n) for n in names)
    assert ids == sorted(ids)


@pytest.mark.parametrize(
    ("design_rule", "rule_name"),
    [
        ("schema changed but schema_version not bumped", "version-not-bumped"),
        ("version bumped but no migration step", "migration-missing"),
        ("migration chain with a gap", "migration-chain-gap"),
        ("lock file out of date", "lock-out-of-date"),
        ("field added without default", "field-added-without-default"),
        ("nullable made required", "nullable-made-required"),
        ("type changed", "type-changed"),
        ("type narrowed (length, precision, range, pattern)", "constraint-narrowed"),
        ("enum values", "enum-values-changed"),
        ("field removed", "field-removed"),
        ("entity removed", "entity-removed"),
        ("rename without a declared rename", "rename-not-declared"),
        ("unique constraint added over existing data", "unique-added"),
        ("index changes", "index-changed"),
        ("record from a newer schema version", "record-from-newer-version"),
        ("record with no migration path", "no-migration-path"),
        ("record invalid after upgrade", "record-invalid-after-upgrade"),
        ("command or payload version without command migration", "unknown-command"),
        ("unknown format version", "unknown-format-version"),
        ("API major mismatch", "api-major-mismatch"),
        ("stubbed state migration still present", "stubbed-state-migration"),
        ("unused baseline entry", "unused-baseline-entry"),
    ],
)
def test_every_design_rule_has_a_catalog_entry(design_rule: str, rule_name: str) -> None:
    assert rule_by_name(rule_name).summary, design_rule


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_message_and_hint_templates_fill_from_their_fields(rule: Rule) -> None:
    params = {name: f"<{name}>" for name in rule.template_fields()}
    finding = rule.finding(FindingLocation(file="a.py", line=3, subject="Todo.title"), **params)
    assert "{" not in finding.message and "}" not in finding.message
    assert finding.severity is rule.severity
    assert rule.id in finding.render()
    assert finding.hint


def test_missing_template_parameter_is_named() -> None:
    with pytest.raises(KeyError, match="entity"):
        get_rule("PT001").finding(FindingLocation())


def test_severity_order_drives_fail_on() -> None:
    assert Severity.ERROR.at_least(Severity.WARNING)
    assert Severity.WARNING.at_least(Severity.WARNING)
    assert not Severity.INFO.at_least(Severity.WARNING)


def test_backward_only_rules_apply_in_full_mode_but_not_forward() -> None:
    rule = get_rule("PT010")
    assert rule.applies_to(Mode.BACKWARD) and rule.applies_to(Mode.FULL)
    assert not rule.applies_to(Mode.FORWARD)
    assert rule not in rules_for_mode(Mode.FORWARD)
    assert Mode.FULL.directions == (Mode.BACKWARD, Mode.FORWARD)


def test_baseline_key_ignores_line_numbers() -> None:
    rule = get_rule("PT011")
    a = rule.finding(FindingLocation("m.py", 3, subject="Todo.x"), entity="Todo", field="x")
    b = rule.finding(FindingLocation("m.py", 9, subject="Todo.x"), entity="Todo", field="x")
    assert a.baseline_key() == b.baseline_key() == ("PT011", "Todo.x")


def test_list_rules_table_shows_every_rule_with_severity_and_modes() -> None:
    text = format_catalog()
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "SEVERITY", "MODES"]
    assert len(lines) == len(CATALOG) + 1
    for rule, line in zip(CATALOG, lines[1:], strict=True):
        assert line.startswith(rule.id)
        assert rule.name in line and rule.severity.value in line
    assert "backward,full" in next(line for line in lines if line.startswith("PT010"))


def test_unknown_rule_id_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="PT999"):
        get_rule("PT999")
