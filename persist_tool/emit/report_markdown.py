"""The Markdown report: a pull-request comment, one table per entity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persist_tool.emit.report_common import by_entity, headline
from persist_tool.rules import Finding

if TYPE_CHECKING:
    from persist_tool.compat.check import CheckReport

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    """Return ``text`` safe inside a table cell (pipes escaped, lines joined)."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace("\r", "")
        .replace("\n", "<br>")
    )


def _code(text: str) -> str:
    """Return ``text`` as inline code; a backtick inside gets a longer fence."""
    if not text:
        return ""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def _row(finding: Finding) -> str:
    rule = finding.rule
    loc = finding.location
    where = loc.file or ""
    if where and loc.line:
        where += f":{loc.line}"
    key = loc.key()
    place = " ".join(p for p in (_code(where), _cell(key) if key != loc.file else "") if p)
    text = _cell(finding.message)
    if finding.hint:
        text += f"<br>*hint:* {_cell(finding.hint)}"
    return f"| **{finding.severity.value}** | `{rule.id}` {rule.name} | {place} | {text} |"


def render_markdown(report: CheckReport, *, colour: bool = False) -> str:
    """Return the report as GitHub-flavoured Markdown (``colour`` is ignored)."""
    verdict = "failed" if report.failed else "passed"
    mode = report.mode.value + (", transitive" if report.transitive else "")
    lines = [
        f"### persist-tool compat-check {verdict}",
        "",
        f"{headline(report)} · mode {mode} · {len(report.entities)} entities"
        f" · failing at {report.fail_on.value}",
        "",
    ]
    for entity, findings in by_entity(report.findings):
        lines += [
            f"#### {_cell(entity)}",
            "",
            "| Severity | Rule | Location | Finding |",
            "| --- | --- | --- | --- |",
            *(_row(f) for f in findings),
            "",
        ]
    if report.accepted:
        lines += [
            "<details><summary>Accepted by the baseline " f"({len(report.accepted)})</summary>",
            "",
            "| Severity | Rule | Location | Finding |",
            "| --- | --- | --- | --- |",
            *(_row(f) for f in report.accepted),
            "",
            "</details>",
            "",
        ]
    if not report.findings:
        lines += ["No findings.", ""]
    return "\n".join(lines)
