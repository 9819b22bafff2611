"""GitHub Actions workflow commands: one annotation per finding.

``::error file=shop.sql,line=33,col=1,title=PT002::Order: schema_version ...`` (``warning``
and ``notice`` for the other severities). Property values escape ``%``, ``\\r``, ``\\n``,
``:`` and ``,``; the message escapes ``%``, ``\\r`` and ``\\n``, as the workflow-command
documentation and the actions toolkit specify. A finding without a source file becomes an
annotation on the run without ``file``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from persist_tool.emit.report_common import headline, source_file
from persist_tool.rules import Finding, Severity

if TYPE_CHECKING:
    from persist_tool.compat.check import CheckReport

__all__ = ["escape_data", "escape_property", "render_github"]

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (``%``, CR, LF, ``:``, ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(finding: Finding) -> str:
    props: list[tuple[str, str]] = []
    file = source_file(finding)
    if file is not None:
        props.append(("file", file))
        if finding.location.line > 0:
            props.append(("line", str(finding.location.line)))
            if finding.location.column > 0:
                props.append(("col", str(finding.location.column)))
    props.append(("title", finding.rule.id))
    text = f"{finding.rule.id}[{finding.rule.name}] {finding.message}"
    key = finding.location.key()
    if file is None and finding.location.file:
        text = f"{finding.location.file}: {text}"
    elif key and key not in text:
        text += f" ({key})"
    if finding.hint:
        text += f"\nhint: {finding.hint}"
    joined = ",".join(f"{name}={escape_property(value)}" for name, value in props)
    return f"::{_COMMANDS[finding.severity]} {joined}::{escape_data(text)}"


def render_github(report: CheckReport, *, colour: bool = False) -> str:
    """Return one workflow command per finding and a summary line (``colour`` is ignored)."""
    lines = [_annotation(f) for f in report.findings]
    verdict = "FAILED" if report.failed else "OK"
    lines.append(f"persist-tool compat-check: {headline(report)} - {verdict}")
    return "\n".join(lines) + "\n"
