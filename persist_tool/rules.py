"""The catalog of compat rules: one table of ids, names, severities, modes, messages and hints.

Every finding ``persist-tool compat-check`` reports names one rule of this table. Ids are
stable: a rule is never renumbered or reused, so baselines and CI configurations that name an
id keep meaning the same thing. New rules take the next free id of their group:

* ``PT00x`` versioning, migrations and the lock file;
* ``PT01x`` fields of an entity;
* ``PT02x`` entities, keys, constraints and indexes;
* ``PT03x`` snapshots and journals;
* ``PT04x`` the configuration of the check itself.

Messages and hints are ``str.format`` templates over the keyword arguments a finding is
made with (``Rule.finding(location, entity="Todo", field="title", ...)``).
"""

from __future__ import annotations

import enum
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CATALOG",
    "Finding",
    "FindingLocation",
    "Mode",
    "Rule",
    "Severity",
    "format_catalog",
    "get_rule",
    "rule_by_name",
    "rules_for_mode",
]


class Severity(enum.Enum):
    """How bad a finding is; ``--fail-on`` compares against this order."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Return 0 for info, 1 for warning, 2 for error."""
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        """Tell whether this severity is ``other`` or worse."""
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Mode(enum.Enum):
    """Which way data must stay readable (the schema-registry convention).

    * ``backward``: new code reads data written under the old schema (the default);
    * ``forward``: old code reads data written under the new schema;
    * ``full``: both.
    """

    BACKWARD = "backward"
    FORWARD = "forward"
    FULL = "full"

    @property
    def directions(self) -> tuple[Mode, ...]:
        """Return the one-way modes this mode checks (``full`` is backward and forward)."""
        if self is Mode.FULL:
            return (Mode.BACKWARD, Mode.FORWARD)
        return (self,)


_ALL_MODES = frozenset(Mode)
_BACKWARD = frozenset({Mode.BACKWARD, Mode.FULL})
_FORWARD = frozenset({Mode.FORWARD, Mode.FULL})


@dataclass(frozen=True, slots=True)
class FindingLocation:
    """Where a finding points: a file position, a JSON pointer and/or an ``entity.field``.

    ``subject`` names the schema element (``Todo``, ``Todo.title``, ``Todo.title/items``);
    ``pointer`` is a JSON pointer inside a JSON document (a JSON Schema source, a snapshot
    record or a journal line); ``record`` identifies a stored record (``Todo#42`` or
    ``journal line 17``).
    """

    file: str | None = None
    line: int = 0
    column: int = 0
    pointer: str | None = None
    subject: str | None = None
    record: str | None = None

    def key(self) -> str:
        """Return the stable text a baseline entry matches (no line numbers: they drift)."""
        parts = [p for p in (self.subject, self.record) if p]
        if self.pointer is not None:
            parts.append(self.pointer or "/")
        if not parts and self.file:
            parts.append(self.file)
        return " ".join(parts)

    def __str__(self) -> str:
        where: list[str] = []
        if self.file:
            where.append(
                f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
                if self.line
                else self.file
            )
        key = self.key()
        if key and key != self.file:
            where.append(key)
        return " ".join(where) or "-"


@dataclass(frozen=True, slots=True)
class Rule:
    """One compat rule: a stable id, a name, a default severity and its message templates."""

    id: str
    name: str
    severity: Severity
    modes: frozenset[Mode]
    message: str
    hint: str
    summary: str
    """One line for ``--list-rules``: what the rule catches."""

    def applies_to(self, mode: Mode) -> bool:
        """Tell whether the rule is checked in ``mode``."""
        return mode in self.modes

    def finding(
        self,
        location: FindingLocation,
        *,
        severity: Severity | None = None,
        hint: str | None = None,
        details: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Finding:
        """Make a finding of this rule, filling the message and hint templates from ``params``.

        ``hint`` replaces the rule's hint template (already formatted text) when a finding
        knows better, for example a "did you mean" suggestion; ``details`` are kept for the
        machine-readable reports.
        """
        return Finding(
            rule=self,
            location=location,
            message=_fill(self.message, params),
            hint=hint if hint is not None else _fill(self.hint, params),
            severity=severity or self.severity,
            details=dict(details or {}),
        )

    def template_fields(self) -> frozenset[str]:
        """Return the parameter names the message and hint templates use."""
        names: set[str] = set()
        for text in (self.message, self.hint):
            for _, name, _, _ in string.Formatter().parse(text):
                if name:
                    names.add(name)
        return frozenset(names)


def _fill(template: str, params: Mapping[str, Any]) -> str:
    try:
        return template.format_map(params)
    except KeyError as missing:
        raise KeyError(f"finding needs parameter {missing} for {template!r}") from None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem the check found: a rule, where, what and how to fix it."""

    rule: Rule
    location: FindingLocation
    message: str
    hint: str
    severity: Severity
    details: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Machine-readable extras (JSON pointer lists, change types) for the JSON report."""

    @property
    def rule_id(self) -> str:
        """Return the rule id (``PT001``)."""
        return self.rule.id

    def baseline_key(self) -> tuple[str, str]:
        """Return what a baseline entry names to accept this finding: rule id and location."""
        return (self.rule.id, self.location.key())

    def render(self) -> str:
        """Return the one-line text form: ``location: severity PTnnn[name] message``."""
        text = f"{self.location}: {self.severity.value} {self.rule.id}[{self.rule.name}] "
        text += self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def _rule(
    id: str,
    name: str,
    severity: Severity,
    modes: frozenset[Mode],
    summary: str,
    message: str,
    hint: str,
) -> Rule:
    return Rule(id, name, severity, modes, message, hint, summary)


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

CATALOG: tuple[Rule, ...] = (
    # ------------------------------------------------------------ versioning and migrations
    _rule(
        "PT001",
        "version-not-bumped",
        E,
        _ALL_MODES,
        "The schema changed but schema_version did not.",
        "{entity}: the schema changed ({changes}) but schema_version is still {version}",
        "bump schema_version to {next_version} and run `persist-tool generate migration`",
    ),
    _rule(
        "PT002",
        "migration-missing",
        E,
        _ALL_MODES,
        "schema_version was bumped but no migration step covers the change.",
        "{entity}: schema_version {from_version} -> {to_version} has no migration step",
        "run `persist-tool generate migration` to write "
        "migrations/{module}_v{from_version}_to_v{to_version}.py",
    ),
    _rule(
        "PT003",
        "migration-chain-gap",
        E,
        _ALL_MODES,
        "The migration steps of an entity do not form an unbroken chain.",
        "{entity}: migration steps jump from v{from_version} to v{to_version}",
        "add the missing step(s) so every version from 1 to the current one is covered",
    ),
    _rule(
        "PT004",
        "lock-out-of-date",
        E,
        _ALL_MODES,
        "The lock file does not record the current schema.",
        "{entity}: the lock file does not record schema_version {version} as it is now",
        "run `persist-tool lock` and commit the lock file",
    ),
    _rule(
        "PT005",
        "version-decreased",
        E,
        _ALL_MODES,
        "schema_version is lower than a version already recorded.",
        "{entity}: schema_version {version} is lower than the recorded {recorded}",
        "versions only grow; restore schema_version {recorded} or higher",
    ),
    # ------------------------------------------------------------ fields
    _rule(
        "PT010",
        "field-added-without-default",
        E,
        _BACKWARD,
        "A required field was added, but stored records lack it and nothing fills it in.",
        "{entity}.{field}: new required field without a default; stored records lack it",
        "give it a default, make it nullable, or backfill it in the migration step "
        "(`--default {entity}.{field}=VALUE`)",
    ),
    _rule(
        "PT011",
        "field-removed",
        W,
        _BACKWARD,
        "A field was removed: its stored values are dropped.",
        "{entity}.{field}: field removed; its stored values are lost",
        'if it was renamed, declare RenamedFrom("{field}") on the new field',
    ),
    _rule(
        "PT012",
        "nullable-made-required",
        E,
        _BACKWARD,
        "A nullable field became required: stored nulls no longer load.",
        "{entity}.{field}: was nullable, now required; stored nulls no longer load",
        "keep it nullable, or backfill the nulls in the migration step",
    ),
    _rule(
        "PT013",
        "type-changed",
        E,
        _ALL_MODES,
        "A field's type changed to one that cannot hold the other's values.",
        "{entity}.{field}: type changed from {old} to {new}",
        "add a new field and convert the values in the migration step, or keep the old type",
    ),
    _rule(
        "PT014",
        "constraint-narrowed",
        E,
        _ALL_MODES,
        "A length, range, precision, multipleOf or pattern constraint now rejects values "
        "the other side accepts.",
        "{entity}.{field}{pointer}: {change}{detail}{direction}",
        "widen the constraint back, or convert the values in the migration step",
    ),
    _rule(
        "PT015",
        "enum-values-changed",
        E,
        _ALL_MODES,
        "Enum values one side may hold are missing on the other side.",
        "{entity}.{field}: enum value(s) {what}: {values}",
        "keep the values, or map them to remaining ones in the migration step",
    ),
    _rule(
        "PT016",
        "json-schema-narrowed",
        E,
        _ALL_MODES,
        "A JSON field's sub-schema rejects documents the other side accepts.",
        "{entity}.{field}{pointer}: {change}",
        "relax the sub-schema, or convert stored documents in the migration step",
    ),
    _rule(
        "PT017",
        "json-schema-assumed-compatible",
        W,
        _ALL_MODES,
        "A JSON sub-schema change counts as compatible under the policy but is not proven.",
        "{entity}.{field}{pointer}: {change} (counted compatible by the {policy} policy, "
        "not proven)",
        "check that stored documents satisfy the new sub-schema",
    ),
    _rule(
        "PT018",
        "field-added-unknown-to-old-readers",
        E,
        _FORWARD,
        "A field was added: old code rejects records carrying the unknown key.",
        "{entity}.{field}: new field; old code rejects records that carry it",
        "roll the readers out before the writers, or check in backward mode only",
    ),
    _rule(
        "PT019",
        "field-missing-for-old-readers",
        E,
        _FORWARD,
        "A field old code requires was removed or made optional.",
        "{entity}.{field}: {what}; old code requires a value",
        "keep writing the field until every reader is upgraded",
    ),
    # ------------------------------------------------------------ entities and keys
    _rule(
        "PT020",
        "entity-removed",
        W,
        _BACKWARD,
        "An entity was removed: its stored records are orphaned.",
        "{entity}: entity removed; its stored records can no longer be read",
        "keep the entity until its data is migrated or deleted",
    ),
    _rule(
        "PT021",
        "rename-not-declared",
        W,
        _ALL_MODES,
        "A field was removed and a same-typed one added: probably an undeclared rename.",
        "{entity}: field {old_field} removed and {new_field} added with the same type",
        'did you mean a rename? declare RenamedFrom("{old_field}") on {new_field} '
        "(or `--rename {entity}.{old_field}={new_field}`)",
    ),
    _rule(
        "PT022",
        "unique-added",
        W,
        _BACKWARD,
        "A unique constraint was added: existing rows may hold duplicates.",
        "{entity}: unique constraint on ({columns}) added; existing rows may violate it",
        "check for duplicates before migrating (SELECT {columns}, COUNT(*) ... HAVING "
        "COUNT(*) > 1)",
    ),
    _rule(
        "PT023",
        "index-changed",
        INFO,
        _ALL_MODES,
        "An index was added, removed or changed.",
        "{entity}: index {index} {what}",
        "index changes need no data migration but may take long on big tables",
    ),
    _rule(
        "PT024",
        "primary-key-changed",
        E,
        _ALL_MODES,
        "The primary key changed: stored identities and references break.",
        "{entity}: primary key changed from ({old}) to ({new})",
        "keep the primary key; add a unique constraint for the new identity instead",
    ),
    _rule(
        "PT025",
        "command-payload-changed",
        E,
        _ALL_MODES,
        "A command's parameters changed without a new payload_version.",
        "{entity}.{command}: parameters changed but payload_version is still {version}",
        "bump payload_version and add a command migration for journaled payloads",
    ),
    # ------------------------------------------------------------ snapshots and journals
    _rule(
        "PT030",
        "record-from-newer-version",
        E,
        _ALL_MODES,
        "A stored record was written by a newer schema version than the code knows.",
        "{entity} {record}: schema_version {version} is newer than the code's {current}",
        "upgrade the code before reading this data",
    ),
    _rule(
        "PT031",
        "no-migration-path",
        E,
        _ALL_MODES,
        "No chain of migration steps leads from a record's version to the current one.",
        "{entity} {record}: no migration path from schema_version {version} to {current}",
        "add the missing migration steps (persist-tool generate migration)",
    ),
    _rule(
        "PT032",
        "record-invalid-after-upgrade",
        E,
        _ALL_MODES,
        "A record fails validation after it is upgraded to the current version.",
        "{entity} {record}{pointer}: invalid after upgrade: {problem}",
        "fix migrate_state in the step to v{current}, or fix the stored data",
    ),
    _rule(
        "PT033",
        "unknown-command",
        E,
        _ALL_MODES,
        "A journal names a command or payload version that no longer exists and no command "
        "migration maps it.",
        "{entity} {record}: command {command} (payload_version {payload_version}) no longer "
        "exists",
        "add a command migration mapping {command} v{payload_version} to a current command",
    ),
    _rule(
        "PT034",
        "unknown-format-version",
        E,
        _ALL_MODES,
        "A snapshot or journal uses a format version this tool does not read.",
        "{what}: format_version {version} is not supported (supported: {supported})",
        "upgrade persist-tool, or re-export the file with this version",
    ),
    _rule(
        "PT035",
        "api-major-mismatch",
        E,
        _ALL_MODES,
        "A file was written by a runtime with another API major version.",
        "api_version {version} does not match the runtime's {current} (major differs)",
        "regenerate the entity modules and re-export the data with the current runtime",
    ),
    _rule(
        "PT036",
        "stubbed-state-migration",
        E,
        _ALL_MODES,
        "A migration step still carries a placeholder migrate_state that needs a decision.",
        "{entity}: step v{from_version} -> v{to_version} has an unfinished migrate_state "
        "({reason})",
        "write the state conversion in {file} and remove the placeholder",
    ),
    _rule(
        "PT037",
        "record-of-unknown-entity",
        E,
        _ALL_MODES,
        "A stored record names an entity the code no longer defines.",
        "{record}: entity {entity} is not defined by the current schema",
        "restore the entity, or migrate or delete its records",
    ),
    _rule(
        "PT038",
        "unreadable-record",
        E,
        _ALL_MODES,
        "A snapshot record or journal line is not valid JSON or lacks required keys.",
        "{record}: {problem}",
        "repair or remove the damaged record",
    ),
    # ------------------------------------------------------------ the check itself
    _rule(
        "PT040",
        "unused-baseline-entry",
        W,
        _ALL_MODES,
        "A baseline entry accepts a finding that no longer occurs.",
        "baseline entry {rule} at {where} matches no finding",
        "remove the entry from [tool.persist-tool] compat baseline",
    ),
)

_BY_ID: dict[str, Rule] = {r.id: r for r in CATALOG}
_BY_NAME: dict[str, Rule] = {r.name: r for r in CATALOG}


def get_rule(rule_id: str) -> Rule:
    """Return the rule with id ``rule_id`` (``KeyError`` naming the id when unknown)."""
    try:
        return _BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}") from None


def rule_by_name(name: str) -> Rule:
    """Return the rule called ``name`` (``KeyError`` when unknown)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown rule name {name!r}") from None


def rules_for_mode(mode: Mode) -> tuple[Rule, ...]:
    """Return the rules checked in ``mode``, in catalog order."""
    return tuple(r for r in CATALOG if r.applies_to(mode))


def _mode_text(modes: Iterable[Mode]) -> str:
    return ",".join(m.value for m in Mode if m in set(modes))


def format_catalog(rules: Iterable[Rule] = CATALOG) -> str:
    """Return the catalog as an aligned text table for ``compat-check --list-rules``."""
    rows = [("ID", "NAME", "SEVERITY", "MODES", "WHAT IT CATCHES")]
    rows += [(r.id, r.name, r.severity.value, _mode_text(r.modes), r.summary) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    ]
    return "\n".join(lines) + "\n"
