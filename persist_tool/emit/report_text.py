"""The text report: for people at a terminal or reading a CI log.

Findings are grouped by entity; every finding line and its hint line carry the rule id, so
``grep PT002`` finds both. Colour (ANSI) only when the caller says the output is a
terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from persist_tool.emit.report_common import by_entity, headline
from persist_tool.rules import Finding, Severity

if TYPE_CHECKING:
    from persist_tool.compat.check import CheckReport

__all__ = ["render_text"]

_COLOURS = {
    Severity.ERROR: "\x1b[31;1m",
    Severity.WARNING: "\x1b[33;1m",
    Severity.INFO: "\x1b[36m",
}
_BOLD, _DIM, _RESET, _GREEN, _RED = "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[32;1m", "\x1b[31;1m"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour else text


def _finding_lines(finding: Finding, colour: bool) -> list[str]:
    rule = finding.rule
    severity = _paint(finding.severity.value, _COLOURS[finding.severity], colour)
    lines = [f"  {finding.location}: {severity} {rule.id}[{rule.name}] {finding.message}"]
    if finding.hint:
        lines.append(_paint(f"    {rule.id} hint: {finding.hint}", _DIM, colour))
    return lines


def render_text(report: CheckReport, *, colour: bool = False) -> str:
    """Return the report as text (ANSI colours when ``colour``)."""
    lines: list[str] = []
    for entity, findings in by_entity(report.findings):
        lines.append(_paint(entity, _BOLD, colour))
        for finding in findings:
            lines.extend(_finding_lines(finding, colour))
        lines.append("")
    mode = report.mode.value + (", transitive" if report.transitive else "")
    summary = f"compat-check ({mode}, {len(report.entities)} entities): {headline(report)}"
    if report.failed:
        verdict = _paint("FAILED", _RED, colour)
        summary += f"\n{verdict}: findings at or above {report.fail_on.value}"
    else:
        summary += "\n" + _paint("OK", _GREEN, colour)
    lines.append(summary)
    return "\n".join(lines) + "\n"
