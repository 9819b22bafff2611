"""The SARIF 2.1.0 report: for code-scanning services (GitHub code scanning and others).

One run; the tool's ``rules`` come from the catalog (``persist_tool.rules``) with their
summary, hint and default level; each result points at its source file and line when the
finding has one, names its subject as a logical location, and carries a partial fingerprint
built from rule id and location key (no line numbers) so services track it across commits.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from persist_tool import __version__
from persist_tool.emit.report_common import source_file
from persist_tool.rules import CATALOG, Finding, Rule, Severity

if TYPE_CHECKING:
    from persist_tool.compat.check import CheckReport

__all__ = ["SARIF_SCHEMA", "render_sarif", "sarif_log"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_INDEX = {rule.id: i for i, rule in enumerate(CATALOG)}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.summary},
        "help": {"text": _template_text(rule.hint)},
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"modes": sorted(m.value for m in rule.modes)},
    }


def _template_text(template: str) -> str:
    """Return a hint template readable without its values (``{entity}`` -> ``<entity>``)."""
    return template.replace("{", "<").replace("}", ">")


def _location(finding: Finding) -> dict[str, Any] | None:
    file = source_file(finding)
    if file is None:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": file}}
    loc = finding.location
    if loc.line > 0:
        region: dict[str, Any] = {"startLine": loc.line}
        if loc.column > 0:
            region["startColumn"] = loc.column
        physical["region"] = region
    out: dict[str, Any] = {"physicalLocation": physical}
    if loc.subject:
        out["logicalLocations"] = [{"fullyQualifiedName": loc.subject}]
    return out


def _result(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    key = f"{finding.rule.id}\0{loc.file or ''}\0{loc.key()}"
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": _INDEX[finding.rule.id],
        "level": _LEVELS[finding.severity],
        "message": {
            "text": f"{finding.message}\nhint: {finding.hint}" if finding.hint else finding.message
        },
        "partialFingerprints": {
            "persistToolFinding/v1": hashlib.sha256(key.encode()).hexdigest()[:32]
        },
    }
    location = _location(finding)
    if location is not None:
        result["locations"] = [location]
    elif loc.subject:
        result["locations"] = [{"logicalLocations": [{"fullyQualifiedName": loc.subject}]}]
    properties: dict[str, Any] = {
        k: v for k, v in (("pointer", loc.pointer), ("record", loc.record), ("file", loc.file)) if v
    }
    occurrences = finding.details.get("occurrences") if finding.details else None
    if isinstance(occurrences, int):
        properties["occurrences"] = occurrences
    if properties:
        result["properties"] = properties
    return result


def sarif_log(report: CheckReport) -> dict[str, Any]:
    """Return the report as a SARIF 2.1.0 log object."""
    results = [_result(f) for f in report.findings]
    suppressed = [
        {**_result(f), "suppressions": [{"kind": "external", "justification": "baseline"}]}
        for f in report.accepted
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "persist-tool",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(r) for r in CATALOG],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "properties": {
                            "mode": report.mode.value,
                            "transitive": report.transitive,
                            "failOn": report.fail_on.value,
                        },
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": results + suppressed,
            }
        ],
    }


def render_sarif(report: CheckReport, *, colour: bool = False) -> str:
    """Return the SARIF log as JSON text (``colour`` is ignored)."""
    return json.dumps(sarif_log(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
