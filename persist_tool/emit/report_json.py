"""The JSON report: for tools. Its schema is ``docs/compat-report.schema.json``.

``{"format": "persist-compat-report", "format_version": 1, "passed", "mode", "transitive",
"fail_on", "summary", "inputs", "entities", "findings": [...], "accepted": [...]}``; each
finding has its rule id and name, severity, entity, message, hint, location (file, line,
column, pointer, subject, record, key) and details (occurrences, examples, change data).
Keys are sorted and the output is deterministic.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from persist_tool import __version__
from persist_tool.emit.report_common import entity_of
from persist_tool.rules import Finding

if TYPE_CHECKING:
    from persist_tool.compat.check import CheckReport

__all__ = ["FORMAT", "FORMAT_VERSION", "finding_json", "render_json", "report_json"]

FORMAT = "persist-compat-report"
FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON data (tuples and sets as lists, anything else as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    return str(value)


def finding_json(finding: Finding) -> dict[str, Any]:
    """Return one finding's JSON object."""
    loc = finding.location
    return {
        "rule": finding.rule.id,
        "name": finding.rule.name,
        "severity": finding.severity.value,
        "entity": entity_of(finding),
        "message": finding.message,
        "hint": finding.hint,
        "location": {
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "pointer": loc.pointer,
            "subject": loc.subject,
            "record": loc.record,
            "key": loc.key(),
        },
        "details": _plain(dict(finding.details)),
    }


def report_json(report: CheckReport) -> dict[str, Any]:
    """Return the whole report as JSON data."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool": {"name": "persist-tool", "version": __version__},
        "passed": not report.failed,
        "mode": report.mode.value,
        "transitive": report.transitive,
        "fail_on": report.fail_on.value,
        "summary": report.counts(),
        "inputs": _plain(report.inputs),
        "entities": list(report.entities),
        "findings": [finding_json(f) for f in report.findings],
        "accepted": [finding_json(f) for f in report.accepted],
    }


def render_json(report: CheckReport, *, colour: bool = False) -> str:
    """Return the report as JSON text (``colour`` is ignored)."""
    return json.dumps(report_json(report), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
