"""Accepted findings: the baseline and ignores of ``[tool.persist-tool]``.

An intended break is accepted without turning the check off by naming it::

    [tool.persist-tool]
    baseline = [
      { rule = "PT012", location = "Order.status", reason = "backfilled by ops ticket 812" },
      { rule = "PT023", location = "Product.*" },
    ]
    ignores = ["PT023"]          # rules not to report at all

``rule`` is a rule id (``PT012``) or name (``nullable-made-required``); ``location`` is what
the finding's location is keyed by: its subject (``Order.status``, ``Order``), its record
(``line 17``), or the whole key shown in reports (``Order #42 /records/3/fields/total``),
with ``*`` wildcards allowed. Line numbers are never part of it: they drift. A baseline
entry that matches no finding is itself reported (PT040), so the baseline cannot rot.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persist_tool import ir
from persist_tool.rules import CATALOG, Finding, FindingLocation, Rule, get_rule, rule_by_name

__all__ = ["BaselineEntry", "apply_baseline", "parse_baseline", "parse_ignores"]

_ENTRY_KEYS = frozenset({"rule", "location", "reason"})
_RULE_KEY = re.compile(r"\brule\s*=")


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """One accepted finding: a rule and a location key (pattern)."""

    rule: Rule
    location: str
    reason: str | None = None
    file: str | None = None
    line: int = 0

    def matches(self, finding: Finding) -> bool:
        """Tell whether ``finding`` is the one this entry accepts."""
        if finding.rule.id != self.rule.id:
            return False
        loc = finding.location
        names = [n for n in (loc.key(), loc.subject, loc.record, loc.file) if n]
        if self.location in names:
            return True
        if any(c in self.location for c in "*?["):
            return any(fnmatch.fnmatchcase(n, self.location) for n in names)
        return False


def _rule(value: object, where: ir.Location) -> Rule:
    if not isinstance(value, str) or not value:
        raise ir.SourceError(where, "baseline and ignores entries name a rule id or name")
    try:
        return get_rule(value.upper()) if value.upper().startswith("PT") else rule_by_name(value)
    except KeyError:
        raise ir.SourceError(
            where,
            f"unknown rule {value!r}",
            f"known rules: {', '.join(r.id for r in CATALOG)} (see compat-check --list-rules)",
        ) from None


def _entry_lines(config_file: Path | None, count: int) -> list[int]:
    """Return the line of each baseline entry's ``rule = ...`` (0 when unknown)."""
    if config_file is None:
        return [0] * count
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return [0] * count
    start = next(
        (i for i, ln in enumerate(lines) if ln.strip().startswith("[tool.persist-tool")), 0
    )
    found: list[int] = []
    for number, line in enumerate(lines[start:], start=start + 1):
        found += [number] * len(_RULE_KEY.findall(line.split("#", 1)[0]))
    return (found + [0] * count)[:count]


def parse_baseline(raw: Sequence[Any], config_file: Path | None) -> list[BaselineEntry]:
    """Read the ``baseline`` option (a list of tables); a malformed entry is a user error."""
    shown = config_file.name if config_file is not None else "pyproject.toml"
    lines = _entry_lines(config_file, len(raw))
    entries: list[BaselineEntry] = []
    for index, item in enumerate(raw):
        where = ir.Location(shown, lines[index], 1)
        if not isinstance(item, dict):
            raise ir.SourceError(
                where,
                f"baseline entry {index + 1} is not a table",
                'write it as { rule = "PT012", location = "Order.status" }',
            )
        unknown = sorted(set(item) - _ENTRY_KEYS)
        if unknown:
            raise ir.SourceError(
                where,
                f"baseline entry {index + 1}: unknown key(s) {', '.join(unknown)}",
                "an entry has rule, location and optionally reason",
            )
        location = item.get("location")
        if not isinstance(location, str) or not location:
            raise ir.SourceError(
                where,
                f"baseline entry {index + 1} has no location",
                "name the finding's location as reports show it, e.g. Order.status",
            )
        reason = item.get("reason")
        entries.append(
            BaselineEntry(
                rule=_rule(item.get("rule"), where),
                location=location,
                reason=reason if isinstance(reason, str) else None,
                file=shown,
                line=lines[index],
            )
        )
    return entries


def parse_ignores(raw: Sequence[Any], config_file: Path | None) -> frozenset[str]:
    """Read the ``ignores`` option: rule ids or names that are not reported at all."""
    shown = config_file.name if config_file is not None else "pyproject.toml"
    return frozenset(_rule(item, ir.Location(shown, 0, 0)).id for item in raw)


def apply_baseline(
    findings: Iterable[Finding], entries: Sequence[BaselineEntry]
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """Split findings into (reported, accepted) and report unused entries (PT040)."""
    reported: list[Finding] = []
    accepted: list[Finding] = []
    used: set[int] = set()
    for finding in findings:
        hits = [i for i, entry in enumerate(entries) if entry.matches(finding)]
        if hits:
            used.update(hits)
            accepted.append(finding)
        else:
            reported.append(finding)
    unused = [
        get_rule("PT040").finding(
            FindingLocation(file=entry.file, line=entry.line, subject=entry.location),
            rule=entry.rule.id,
            where=entry.location,
        )
        for i, entry in enumerate(entries)
        if i not in used
    ]
    return reported, accepted, unused
