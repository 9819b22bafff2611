"""Snapshot and journal checks: the runtime's compat primitives, as catalog findings.

``persist_runtime.check_snapshot`` / ``check_journal`` do the reading (streamed for
journals); this module turns their findings into ``persist_tool.rules.Finding``s so every
report shows them with the catalog's names, messages and severities.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from persist_runtime import CompatFinding, EntitySpec, MigrationPlan, check_journal, check_snapshot

from persist_tool import ir
from persist_tool.rules import Finding, FindingLocation, get_rule
from persist_tool.sources import display_path

__all__ = ["check_data_files", "to_finding"]

_Check = Callable[..., list[CompatFinding]]


def to_finding(found: CompatFinding) -> Finding:
    """Return a runtime finding as a catalog finding (occurrences and examples in details)."""
    rule = get_rule(found.rule)
    location = FindingLocation(
        file=found.file,
        line=found.line,
        pointer=found.pointer,
        subject=found.entity,
        record=found.record,
    )
    details: dict[str, object] = {"occurrences": found.occurrences}
    if found.entity:
        details["entity"] = found.entity
    if found.occurrences > 1:
        details["examples"] = list(found.examples)
    finding = rule.finding(location, details=details, **dict(found.params))
    if found.occurrences > 1:
        more = found.occurrences - 1
        finding = Finding(
            finding.rule,
            finding.location,
            f"{finding.message} (and {more} more record{'s' if more > 1 else ''} like it)",
            finding.hint,
            finding.severity,
            finding.details,
        )
    return finding


def _run(
    check: _Check, path: Path, specs: Mapping[str, EntitySpec], plan: MigrationPlan
) -> list[Finding]:
    shown = display_path(path)
    try:
        found = check(path, specs, plan, display=shown)
    except FileNotFoundError:
        raise ir.SourceError(ir.Location(shown), "no such file", "check the path") from None
    except IsADirectoryError:
        raise ir.SourceError(ir.Location(shown), "is a directory, not a file") from None
    except OSError as error:
        raise ir.SourceError(ir.Location(shown), f"cannot read: {error.strerror}") from None
    return [to_finding(f) for f in found]


def check_data_files(
    snapshots: Sequence[Path],
    journals: Sequence[Path],
    specs: Mapping[str, EntitySpec],
    plan: MigrationPlan,
) -> list[Finding]:
    """Check every snapshot and journal against the current specs and migration plan."""
    out: list[Finding] = []
    for path in snapshots:
        out += _run(check_snapshot, path, specs, plan)
    for path in journals:
        out += _run(check_journal, path, specs, plan)
    return out
