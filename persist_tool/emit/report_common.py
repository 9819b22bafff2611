"""What every compat report format shares: grouping by entity, counts, headline text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from persist_tool.rules import Finding, Severity

if TYPE_CHECKING:
    from persist_tool.compat.check import CheckReport

__all__ = [
    "PROJECT",
    "by_entity",
    "entity_of",
    "headline",
    "source_file",
]

PROJECT = "(project)"
"""The group of findings about no single entity (the baseline, the check itself)."""


def entity_of(finding: Finding) -> str | None:
    """Return the entity a finding is about, ``None`` for project-wide findings."""
    named = finding.details.get("entity") if finding.details else None
    if isinstance(named, str):
        return named
    subject = finding.location.subject
    if subject and finding.rule.id != "PT040":
        return subject.split(".", 1)[0].split("/", 1)[0]
    return None


def by_entity(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Return findings grouped by entity, entities sorted, project-wide ones last."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(entity_of(f) or PROJECT, []).append(f)
    return sorted(groups.items(), key=lambda kv: (kv[0] == PROJECT, kv[0]))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def headline(report: CheckReport) -> str:
    """Return ``3 errors, 1 warning, 0 infos`` plus the baseline count when there is one."""
    counts = report.counts()
    text = ", ".join(
        _plural(counts[s.value], s.value) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
    )
    if counts["accepted"]:
        text += f" ({counts['accepted']} accepted by the baseline)"
    return text


def source_file(finding: Finding) -> str | None:
    """Return the finding's file when it is a path in the work tree (not ``REF:path``)."""
    file = finding.location.file
    if not file or ":" in file:
        return None
    return file
