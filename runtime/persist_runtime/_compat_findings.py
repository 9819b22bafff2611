"""Findings of the compat primitives and what they share (see ``persist_runtime.compat``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .migrations import MigrationPlan
from .spec import EntitySpec

__all__ = [
    "COMPAT_RULES",
    "MAX_CACHED_KEYS",
    "CompatFinding",
    "Findings",
    "Upgrades",
    "api_major",
    "id_text",
    "is_int",
    "make",
    "spec_map",
    "step_file",
]

COMPAT_RULES: Final[Mapping[str, tuple[str, str, str]]] = {
    "PT030": (
        "error",
        "{entity} {record}: schema_version {version} is newer than the code's {current}",
        "upgrade the code before reading this data",
    ),
    "PT031": (
        "error",
        "{entity} {record}: no migration path from schema_version {version} to {current}",
        "add the missing migration steps (persist-tool generate migration)",
    ),
    "PT032": (
        "error",
        "{entity} {record}{pointer}: invalid after upgrade: {problem}",
        "fix migrate_state in the step to v{current}, or fix the stored data",
    ),
    "PT033": (
        "error",
        "{entity} {record}: command {command} (payload_version {payload_version}) no longer "
        "exists",
        "add a command migration mapping {command} v{payload_version} to a current command",
    ),
    "PT034": (
        "error",
        "{what}: format_version {version} is not supported (supported: {supported})",
        "upgrade persist-tool, or re-export the file with this version",
    ),
    "PT035": (
        "error",
        "api_version {version} does not match the runtime's {current} (major differs)",
        "regenerate the entity modules and re-export the data with the current runtime",
    ),
    "PT036": (
        "error",
        "{entity}: step v{from_version} -> v{to_version} has an unfinished migrate_state "
        "({reason})",
        "write the state conversion in {file} and remove the placeholder",
    ),
    "PT037": (
        "error",
        "{record}: entity {entity} is not defined by the current schema",
        "restore the entity, or migrate or delete its records",
    ),
    "PT038": (
        "error",
        "{record}: {problem}",
        "repair or remove the damaged record",
    ),
}
"""Rule id -> (severity, message template, hint template) for the findings made here."""

MAX_EXAMPLES: Final = 5
MAX_CACHED_KEYS: Final = 4096


@dataclass(frozen=True, slots=True)
class CompatFinding:
    """One kind of problem met in a snapshot or journal file.

    ``line`` is the 1-based line of the first occurrence (0 when unknown), ``pointer`` a
    JSON pointer into that record (``/records/3/fields/total``, ``/payload/value``),
    ``record`` names the first record (``#42`` in a snapshot, ``line 17`` in a journal).
    ``params`` are the values the message was made from (the rule catalog's template
    parameters); ``occurrences`` counts the records with this problem and ``examples``
    names the first few of them.
    """

    rule: str
    severity: str
    message: str
    hint: str
    file: str
    line: int = 0
    pointer: str | None = None
    record: str | None = None
    entity: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    occurrences: int = 1
    examples: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        more = f" (x{self.occurrences})" if self.occurrences > 1 else ""
        return f"{where}: {self.severity} {self.rule} {self.message}{more}"


def make(
    rule: str,
    file: str,
    /,
    *,
    line: int = 0,
    at: str | None = None,
    record: str | None = None,
    entity: str | None = None,
    **params: Any,
) -> CompatFinding:
    """Make a finding of ``rule``; ``at`` is its JSON pointer, ``params`` fill the templates."""
    severity, message, hint = COMPAT_RULES[rule]
    values = {"entity": entity, "record": record, **params}
    return CompatFinding(
        rule=rule,
        severity=severity,
        message=message.format_map(values),
        hint=hint.format_map(values),
        file=file,
        line=line,
        pointer=at,
        record=record,
        entity=entity,
        params=values,
    )


class Findings:
    """Fold findings of the same kind into one, counting occurrences (bounded memory)."""

    __slots__ = ("_groups",)

    def __init__(self) -> None:
        self._groups: dict[tuple[Any, ...], list[Any]] = {}

    def add(self, key: tuple[Any, ...], make: Callable[[], CompatFinding], example: str) -> None:
        """Count one occurrence of ``key``; build its finding on the first one only."""
        group = self._groups.get(key)
        if group is None:
            self._groups[key] = [make(), 1, [example]]
            return
        group[1] += 1
        if len(group[2]) < MAX_EXAMPLES:
            group[2].append(example)

    def has(self, key: tuple[Any, ...]) -> bool:
        """Tell whether ``key`` occurred."""
        return key in self._groups

    def result(self) -> list[CompatFinding]:
        """Return one finding per kind, in order of first occurrence."""
        out: list[CompatFinding] = []
        for finding, count, examples in self._groups.values():
            out.append(
                CompatFinding(
                    rule=finding.rule,
                    severity=finding.severity,
                    message=finding.message,
                    hint=finding.hint,
                    file=finding.file,
                    line=finding.line,
                    pointer=finding.pointer,
                    record=finding.record,
                    entity=finding.entity,
                    params=finding.params,
                    occurrences=count,
                    examples=tuple(examples),
                )
            )
        return out


def spec_map(specs: Iterable[EntitySpec] | Mapping[str, EntitySpec]) -> dict[str, EntitySpec]:
    if isinstance(specs, Mapping):
        return dict(specs)
    return {s.name: s for s in specs}


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def id_text(value: object) -> str:
    if isinstance(value, list):
        return ",".join(id_text(v) for v in value)
    return str(value)


def api_major(version: object) -> str | None:
    if not isinstance(version, str) or not version:
        return None
    return version.split(".", 1)[0]


class Upgrades:
    """What a record of (entity, schema_version) needs: nothing, a plan path, or a problem."""

    def __init__(self, specs: Mapping[str, EntitySpec], plan: MigrationPlan | None) -> None:
        self.specs = specs
        self.plan = plan

    def spec_for(self, entity: str) -> tuple[EntitySpec | None, bool]:
        """Return the current spec of records stored as ``entity``, and whether it was dropped.

        A name the entity had before a rename in the plan maps to the renamed entity's
        spec; an entity the plan drops has no spec and its records are no problem.
        """
        spec = self.specs.get(entity)
        if spec is not None or self.plan is None:
            return spec, False
        if self.plan.dropped_by(entity) is not None:
            return None, True
        return self.specs.get(self.plan.current_entity(entity)), False

    def problem(self, spec: EntitySpec, version: int) -> tuple[str, dict[str, Any]] | None:
        """Return (rule, params) when records at ``version`` cannot be brought up to date."""
        current = spec.schema_version
        if version > current:
            return "PT030", {"version": version, "current": current}
        if version == current:
            return None
        if self.plan is None or not self.plan.has_path(spec.name, version):
            return "PT031", {"version": version, "current": current}
        return None

    def stubs(self, spec: EntitySpec, version: int) -> list[Any]:
        """Return the stubbed steps a record at ``version`` would go through."""
        if self.plan is None or version >= spec.schema_version:
            return []
        return [s for s in self.plan.steps_for(spec.name) if s.stub and s.from_version >= version]


def step_file(step: Any) -> str:
    code = getattr(step.migrate_state, "__code__", None)
    name = getattr(code, "co_filename", None)
    return os.path.basename(name) if isinstance(name, str) else "the migration module"
