"""Entity-level compatibility: what changing one entity does to the data already stored.

``check_entity(old, new, mode=...)`` compares two versions of an entity and returns the
findings (rules PT001-PT025) of every way the change breaks readers or loses data:

* backward (new code, old records): a required field added without a default, a nullable
  field made required, a type or constraint narrowed, enum values removed, a field removed
  (data loss), a unique constraint added over existing rows;
* forward (old code, new records): entity records are *closed* — the runtime rejects
  unknown keys — so any added field breaks old readers, as do removed required fields,
  fields made nullable, widened types and added enum values.

Field types are compared on their full constraint set through their JSON Schema
(``fieldschema``); a ``json`` field's sub-schema is compared as plain JSON Schema, where
open content models stay open.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from persist_tool import ir
from persist_tool.compat.changes import Difference, Policy, describe
from persist_tool.compat.fieldschema import field_schema, type_text
from persist_tool.compat.jsonschema import compare_schemas
from persist_tool.rules import Finding, FindingLocation, Mode, Severity, get_rule

__all__ = [
    "check_entity",
    "check_history",
    "check_schemas",
    "has_failures",
]

_FORWARD_NOTE = "; old code cannot read new records"

_RULE_OF_CHANGE: dict[str, str] = {
    "TYPE_CHANGED": "PT013",
    "TYPE_NARROWED": "PT013",
    "FORMAT_ADDED": "PT013",
    "FORMAT_CHANGED": "PT013",
    "ENUM_ARRAY_NARROWED": "PT015",
    "ENUM_ARRAY_CHANGED": "PT015",
}
"""Rules for breaking differences of typed (non-JSON) fields; the rest are PT014."""


def has_failures(findings: Iterable[Finding], fail_on: Severity = Severity.ERROR) -> bool:
    """Tell whether any finding is at or above ``fail_on``."""
    return any(f.severity.at_least(fail_on) for f in findings)


@dataclass(frozen=True)
class _Pair:
    """An old field and the new field that continues it (same name or declared rename)."""

    old: ir.Field
    new: ir.Field


def _where(
    entity: ir.Entity, field: ir.Field | None = None, pointer: str | None = None
) -> FindingLocation:
    loc = (field.location if field is not None else None) or entity.location
    subject = entity.name if field is None else f"{entity.name}.{field.name}"
    return FindingLocation(
        file=loc.file if loc else None,
        line=loc.line if loc else 0,
        column=loc.column if loc else 0,
        pointer=pointer,
        subject=subject,
    )


def _match_fields(
    old: ir.Entity, new: ir.Entity
) -> tuple[list[_Pair], list[ir.Field], list[ir.Field]]:
    """Return (continued pairs, removed old fields, added new fields)."""
    old_by_name = {f.name: f for f in old.fields}
    pairs: list[_Pair] = []
    added: list[ir.Field] = []
    used: set[str] = set()
    for field in new.fields:
        names = [field.name, *field.renamed_from]
        match = next((old_by_name[n] for n in names if n in old_by_name and n not in used), None)
        if match is None:
            added.append(field)
        else:
            used.add(match.name)
            pairs.append(_Pair(match, field))
    removed = [f for f in old.fields if f.name not in used]
    return pairs, removed, added


def _same_type(a: ir.Field, b: ir.Field) -> bool:
    return a.type.to_json() == b.type.to_json()


def _undeclared_renames(removed: list[ir.Field], added: list[ir.Field]) -> dict[str, ir.Field]:
    """Pair removed fields with same-typed added ones: old name -> the likely new field."""
    out: dict[str, ir.Field] = {}
    free = list(added)
    for old in removed:
        candidates = [f for f in free if _same_type(old, f)]
        if not candidates:
            continue
        best = max(
            candidates,
            key=lambda f: difflib.SequenceMatcher(None, old.name, f.name).ratio(),
        )
        out[old.name] = best
        free.remove(best)
    return out


def check_entity(
    old: ir.Entity,
    new: ir.Entity,
    *,
    mode: Mode = Mode.BACKWARD,
    policy: Policy = Policy.STRICT,
    check_version: bool = True,
    backfilled: Collection[str] = (),
) -> list[Finding]:
    """Return the findings of changing ``old`` into ``new`` in ``mode``.

    ``check_version`` adds the versioning rules (PT001 schema changed without a version
    bump, PT005 version decreased); leave it off when comparing with a version older than
    the latest recorded one. ``backfilled`` names the (new) fields the migration step fills
    in for stored records: they raise neither PT010 nor PT012.
    """
    findings: list[Finding] = []
    if check_version:
        findings += _version_findings(old, new)
    pairs, removed, added = _match_fields(old, new)
    renames = _undeclared_renames(removed, added)
    for direction in mode.directions:
        for pair in pairs:
            if not (direction is Mode.BACKWARD and pair.new.name in backfilled):
                findings += _field_findings(old, new, pair, direction, policy)
            else:
                findings += _type_findings(new, pair, direction, policy)
        findings += _removed_findings(new, removed, renames, direction)
        filled = [f for f in added if direction is Mode.FORWARD or f.name not in backfilled]
        findings += _added_findings(new, filled, renames, direction)
    for old_name, new_field in renames.items():
        findings.append(
            get_rule("PT021").finding(
                _where(new, new_field),
                entity=new.name,
                old_field=old_name,
                new_field=new_field.name,
            )
        )
    rename_map = {p.old.name: p.new.name for p in pairs}
    findings += _key_findings(old, new, rename_map, mode)
    findings += _command_findings(old, new)
    return [f for f in findings if f.rule.applies_to(mode)]


def _version_findings(old: ir.Entity, new: ir.Entity) -> list[Finding]:
    if new.schema_version < old.schema_version:
        rule = get_rule("PT005")
        return [
            rule.finding(
                _where(new),
                entity=new.name,
                version=new.schema_version,
                recorded=old.schema_version,
            )
        ]
    if new.schema_version == old.schema_version and old.fingerprint() != new.fingerprint():
        changes = ", ".join(_summary(old, new)) or "constraints or metadata"
        return [
            get_rule("PT001").finding(
                _where(new),
                entity=new.name,
                changes=changes,
                version=new.schema_version,
                next_version=new.schema_version + 1,
            )
        ]
    return []


def _summary(old: ir.Entity, new: ir.Entity) -> list[str]:
    """Name what changed between two versions, briefly, for the PT001 message."""
    pairs, removed, added = _match_fields(old, new)
    out = [f"+{f.name}" for f in added] + [f"-{f.name}" for f in removed]
    out += [
        f"~{p.new.name}"
        for p in pairs
        if p.old.to_json() | {"location": None} != p.new.to_json() | {"location": None}
    ]
    for attr in ("primary_key", "unique", "indexes", "commands", "table"):
        if getattr(old, attr) != getattr(new, attr):
            out.append(attr.replace("_", " "))
    return out[:8]


def _added_findings(
    entity: ir.Entity,
    added: list[ir.Field],
    renames: dict[str, ir.Field],
    direction: Mode,
) -> list[Finding]:
    findings: list[Finding] = []
    guessed = {f.name: old for old, f in renames.items()}
    for field in added:
        hint = _did_you_mean(entity, guessed.get(field.name), field.name)
        if direction is Mode.FORWARD:
            rule = get_rule("PT018")
        elif field.required:
            rule = get_rule("PT010")
        else:
            continue
        findings.append(
            rule.finding(_where(entity, field), hint=hint, entity=entity.name, field=field.name)
        )
    return findings


def _removed_findings(
    entity: ir.Entity,
    removed: list[ir.Field],
    renames: dict[str, ir.Field],
    direction: Mode,
) -> list[Finding]:
    findings: list[Finding] = []
    for field in removed:
        new_field = renames.get(field.name)
        hint = _did_you_mean(entity, field.name, new_field.name if new_field else None)
        where = FindingLocation(
            file=entity.location.file if entity.location else None,
            line=entity.location.line if entity.location else 0,
            subject=f"{entity.name}.{field.name}",
        )
        if direction is Mode.BACKWARD:
            findings.append(
                get_rule("PT011").finding(where, hint=hint, entity=entity.name, field=field.name)
            )
        elif not field.nullable and field.default is None:
            findings.append(
                get_rule("PT019").finding(
                    where,
                    hint=hint,
                    entity=entity.name,
                    field=field.name,
                    what="field removed",
                )
            )
    return findings


def _did_you_mean(entity: ir.Entity, old_name: str | None, new_name: str | None) -> str | None:
    if old_name is None or new_name is None:
        return None
    return (
        f'did you mean to rename {old_name} to {new_name}? declare RenamedFrom("{old_name}") '
        f"on {new_name} (or --rename {entity.name}.{old_name}={new_name})"
    )


def _field_findings(
    old_entity: ir.Entity,
    entity: ir.Entity,
    pair: _Pair,
    direction: Mode,
    policy: Policy,
) -> list[Finding]:
    findings: list[Finding] = []
    reader, writer = (pair.new, pair.old) if direction is Mode.BACKWARD else (pair.old, pair.new)
    where = _where(entity, pair.new)
    params: dict[str, Any] = {"entity": entity.name, "field": pair.new.name}
    if writer.nullable and not reader.nullable:
        if direction is Mode.BACKWARD:
            findings.append(get_rule("PT012").finding(where, **params))
        else:
            findings.append(get_rule("PT019").finding(where, **params, what="made nullable"))
    findings += _type_findings(entity, pair, direction, policy)
    return findings


def _type_findings(
    entity: ir.Entity, pair: _Pair, direction: Mode, policy: Policy
) -> list[Finding]:
    old, new = pair.old, pair.new
    where = _where(entity, new)
    note = "" if direction is Mode.BACKWARD else _FORWARD_NOTE
    params: dict[str, Any] = {"entity": entity.name, "field": new.name}
    if isinstance(old.type, ir.ObjectType) or isinstance(new.type, ir.ObjectType):
        if old.type.to_json() != new.type.to_json():
            return [
                get_rule("PT013").finding(
                    where,
                    **params,
                    old=type_text(old.type),
                    new=type_text(new.type) + note,
                )
            ]
        return []
    if (
        isinstance(old.type, ir.EnumType)
        and isinstance(new.type, ir.EnumType)
        and old.constraints == new.constraints
    ):
        return _enum_findings(entity, pair, direction)
    writer, reader = (old, new) if direction is Mode.BACKWARD else (new, old)
    comparison = compare_schemas(field_schema(writer), field_schema(reader), policy=policy)
    is_json = isinstance(new.type, ir.JsonType) and isinstance(old.type, ir.JsonType)
    if is_json:
        return _json_findings(entity, new, comparison.differences, note, policy)
    breaking = comparison.breaking
    if not breaking:
        return []
    if any(_RULE_OF_CHANGE.get(d.type) == "PT013" for d in breaking):
        return [
            get_rule("PT013").finding(
                where, **params, old=type_text(old.type), new=type_text(new.type) + note
            )
        ]
    findings: list[Finding] = []
    for diff in breaking:
        rule_id = _RULE_OF_CHANGE.get(diff.type, "PT014")
        if rule_id == "PT015":
            findings.append(
                get_rule(rule_id).finding(
                    where,
                    **params,
                    values=diff.detail or "outside the new set",
                    what="no longer allowed" + note,
                )
            )
            continue
        findings.append(
            get_rule("PT014").finding(
                _where(entity, new, _pointer(diff)),
                **params,
                pointer=_pointer_suffix(diff),
                details={"change_type": diff.type, "pointer": _pointer(diff)},
                change=describe(diff.type),
                detail=f" ({diff.detail})" if diff.detail else "",
                direction=note,
            )
        )
    return findings


def _enum_findings(entity: ir.Entity, pair: _Pair, direction: Mode) -> list[Finding]:
    assert isinstance(pair.old.type, ir.EnumType) and isinstance(pair.new.type, ir.EnumType)
    old_values, new_values = pair.old.type.values, pair.new.type.values
    if direction is Mode.BACKWARD:
        missing = [v for v in old_values if v not in new_values]
        what = "removed (stored records may hold them)"
    else:
        missing = [v for v in new_values if v not in old_values]
        what = "added (old code cannot read them)"
    if not missing:
        return []
    return [
        get_rule("PT015").finding(
            _where(entity, pair.new),
            entity=entity.name,
            field=pair.new.name,
            values=", ".join(repr(v) for v in missing),
            what=what,
        )
    ]


def _pointer(diff: Difference) -> str:
    return diff.pointer.lstrip("#") or "/"


def _pointer_suffix(diff: Difference) -> str:
    pointer = _pointer(diff)
    return "" if pointer == "/" else pointer


def _json_findings(
    entity: ir.Entity,
    field: ir.Field,
    diffs: Sequence[Difference],
    note: str,
    policy: Policy,
) -> list[Finding]:
    findings: list[Finding] = []
    for diff in diffs:
        if diff.breaking:
            rule_id = "PT016"
        elif diff.assumed:
            rule_id = "PT017"
        else:
            continue
        findings.append(
            get_rule(rule_id).finding(
                _where(entity, field, _pointer(diff)),
                entity=entity.name,
                field=field.name,
                pointer=_pointer_suffix(diff),
                details={"change_type": diff.type, "pointer": _pointer(diff)},
                change=describe(diff.type) + (f" ({diff.detail})" if diff.detail else "") + note,
                policy=policy.value,
            )
        )
    return findings


def _key_findings(
    old: ir.Entity, new: ir.Entity, renamed: dict[str, str], mode: Mode
) -> list[Finding]:
    findings: list[Finding] = []
    where = _where(new)

    def carried(names: Iterable[str]) -> tuple[str, ...]:
        return tuple(renamed.get(n, n) for n in names)

    if carried(old.primary_key) != new.primary_key:
        findings.append(
            get_rule("PT024").finding(
                where,
                entity=new.name,
                old=", ".join(old.primary_key),
                new=", ".join(new.primary_key),
            )
        )
    old_unique = {frozenset(carried(u)) for u in old.unique}
    old_unique |= {frozenset(carried(i.columns)) for i in old.indexes if i.unique}
    old_unique.add(frozenset(carried(old.primary_key)))
    new_unique = [tuple(u) for u in new.unique] + [i.columns for i in new.indexes if i.unique]
    reported: set[frozenset[str]] = set()
    for columns in new_unique:
        key = frozenset(columns)
        if (
            key in old_unique
            or key in reported
            or any(frozenset(u) <= key for u in old_unique if u)
        ):
            continue
        reported.add(key)
        findings.append(
            get_rule("PT022").finding(where, entity=new.name, columns=", ".join(columns))
        )
    old_indexes = {i.name: i for i in old.indexes}
    new_indexes = {i.name: i for i in new.indexes}
    for name in sorted(old_indexes.keys() | new_indexes.keys()):
        before, after = old_indexes.get(name), new_indexes.get(name)
        if before is None:
            what = "added"
        elif after is None:
            what = "removed"
        elif carried(before.columns) != after.columns or before.unique != after.unique:
            what = "changed"
        else:
            continue
        findings.append(get_rule("PT023").finding(where, entity=new.name, index=name, what=what))
    return findings


def _command_findings(old: ir.Entity, new: ir.Entity) -> list[Finding]:
    findings: list[Finding] = []
    old_commands = {c.name: c for c in old.commands}
    for command in new.commands:
        before = old_commands.get(command.name)
        if before is None or before.payload_version != command.payload_version:
            continue
        if [_param_key(p) for p in before.params] != [_param_key(p) for p in command.params]:
            loc = command.location or new.location
            where = FindingLocation(
                file=loc.file if loc else None,
                line=loc.line if loc else 0,
                subject=f"{new.name}.{command.name}",
            )
            findings.append(
                get_rule("PT025").finding(
                    where,
                    entity=new.name,
                    command=command.name,
                    version=command.payload_version,
                )
            )
    return findings


def _param_key(param: ir.Field) -> dict[str, object]:
    data = param.to_json()
    data.pop("location", None)
    data.pop("doc", None)
    return data


def check_history(
    history: Sequence[ir.Entity],
    current: ir.Entity,
    *,
    mode: Mode = Mode.BACKWARD,
    policy: Policy = Policy.STRICT,
    transitive: bool = False,
    backfilled: Collection[str] = (),
) -> list[Finding]:
    """Check ``current`` against the recorded versions of its entity (oldest first).

    Without ``transitive`` only the latest recorded version counts; with it every recorded
    version must stay readable (``--transitive``). A finding repeated against several
    versions is reported once, for the newest version it occurs with.
    """
    if not history:
        return []
    ordered = sorted(history, key=lambda e: e.schema_version)
    latest = ordered[-1]
    findings = check_entity(latest, current, mode=mode, policy=policy, backfilled=backfilled)
    if not transitive:
        return findings
    seen = {(f.rule.id, f.location.key(), f.message) for f in findings}
    for version in reversed(ordered[:-1]):
        for finding in check_entity(
            version,
            current,
            mode=mode,
            policy=policy,
            check_version=False,
            backfilled=backfilled,
        ):
            key = (finding.rule.id, finding.location.key(), finding.message)
            if key in seen:
                continue
            seen.add(key)
            message = f"{finding.message} (against schema_version {version.schema_version})"
            findings.append(
                Finding(
                    finding.rule,
                    finding.location,
                    message,
                    finding.hint,
                    finding.severity,
                    finding.details,
                )
            )
    return findings


def check_schemas(
    old: Sequence[ir.Entity],
    new: Sequence[ir.Entity],
    *,
    mode: Mode = Mode.BACKWARD,
    policy: Policy = Policy.STRICT,
) -> list[Finding]:
    """Compare two sets of entities: each entity by name (or table), and removed entities."""
    findings: list[Finding] = []
    by_name = {e.name: e for e in new}
    by_table = {e.table: e for e in new}
    for before in old:
        after = by_name.get(before.name) or by_table.get(before.table)
        if after is None:
            rule = get_rule("PT020")
            if rule.applies_to(mode):
                findings.append(rule.finding(_where(before), entity=before.name))
            continue
        findings += check_entity(before, after, mode=mode, policy=policy)
    return findings
