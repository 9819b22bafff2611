"""Diff two schemas (or two versions of one entity) into an ordered list of changes.

Matching, per entity and per field, in this order:

1. renames passed explicitly (``--rename Entity.old=new``, ``entity_renames``);
2. same name;
3. renames the new version declares (``Field.renamed_from``, ``Entity.extra["renamed_from"]``);
4. same storage: a field with the same column (or an entity with the same table) under a
   new name is the same data, so it is a rename of the Python name only.

Whatever is left over is dropped or added. A dropped field next to an added field of the
same type is *not* turned into a rename: both changes carry the other as a rename candidate,
and their hint asks the user to declare the rename.

The result is ordered so that running it top to bottom is valid SQL: per entity, drop
indexes and unique constraints, drop fields, rename fields (a rename into a name waits for
the rename out of it), alter fields, add fields, then the primary key, unique constraints and
indexes over the final fields. Entities: drops first (reverse source order), then renames,
then each kept entity's changes (new source order), then new entities (new source order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from persist_tool import ir
from persist_tool.diff.changes import (
    AddCommand,
    AddEntity,
    AddField,
    AddIndex,
    AddUnique,
    AlterCommand,
    AlterConstraints,
    AlterDefault,
    AlterFieldType,
    AlterNullability,
    AlterPrimaryKey,
    Change,
    DropCommand,
    DropEntity,
    DropField,
    DropIndex,
    DropUnique,
    RenameEntity,
    RenameField,
)

__all__ = ["diff_entities", "diff_schemas"]

_T = TypeVar("_T")

_BACKFILL_KINDS = frozenset({ir.Default.LITERAL, ir.Default.FACTORY})


# --------------------------------------------------------------------------- matching


def _match(
    old: Sequence[_T],
    new: Sequence[_T],
    *,
    key: Callable[[_T], str],
    explicit: Mapping[str, str],
    declared: Callable[[_T], Iterable[str]],
    storage: Callable[[_T], str],
    what: str,
    where: str,
) -> tuple[list[tuple[_T, _T]], list[_T], list[_T]]:
    """Pair ``old`` with ``new`` items; return (pairs in new order, dropped, added)."""
    old_by = {key(o): o for o in old}
    new_by = {key(n): n for n in new}
    pairs: dict[str, str] = {}  # new key -> old key

    for old_key, new_key in explicit.items():
        if old_key not in old_by:
            raise ir.SourceError(
                None,
                f"--rename {where}{old_key}={new_key}: the old version has no {what} `{old_key}`",
                f"{what}s there: " + ", ".join(sorted(old_by)),
            )
        if new_key not in new_by:
            raise ir.SourceError(
                None,
                f"--rename {where}{old_key}={new_key}: the new version has no {what} `{new_key}`",
                f"{what}s there: " + ", ".join(sorted(new_by)),
            )
        if new_key in pairs or old_key in pairs.values():
            raise ir.SourceError(
                None,
                f"--rename {where}{old_key}={new_key}: {what} named in two renames",
            )
        pairs[new_key] = old_key

    taken = set(pairs.values())
    for k in new_by:
        if k not in pairs and k in old_by and k not in taken:
            pairs[k] = k
            taken.add(k)
    for k, item in new_by.items():
        if k in pairs:
            continue
        for earlier in declared(item):
            if earlier in old_by and earlier not in taken:
                pairs[k] = earlier
                taken.add(earlier)
                break
    old_by_storage = {storage(o): key(o) for o in old if key(o) not in taken}
    for k, item in new_by.items():
        if k in pairs:
            continue
        same_storage = old_by_storage.get(storage(item))
        if same_storage is not None and same_storage not in taken:
            pairs[k] = same_storage
            taken.add(same_storage)

    matched = [(old_by[pairs[key(n)]], n) for n in new if key(n) in pairs]
    dropped = [o for o in old if key(o) not in taken]
    added = [n for n in new if key(n) not in pairs]
    return matched, dropped, added


def _order_renames(
    renames: list[_T],
    sources: Callable[[_T], set[str]],
    targets: Callable[[_T], set[str]],
) -> list[_T]:
    """Order renames so none moves into a name another rename has not vacated yet."""
    pending = list(renames)
    ordered: list[_T] = []
    while pending:
        occupied = set().union(*(sources(r) for r in pending))
        ready = [r for r in pending if not ((targets(r) - sources(r)) & occupied)]
        if not ready:
            return []
        ordered.extend(ready)
        pending = [r for r in pending if r not in ready]
    return ordered


# --------------------------------------------------------------------------- fields


def _field_changes(entity: str, old: ir.Field, new: ir.Field) -> list[Change]:
    """Return the alter changes between two versions of one field (under its new name)."""
    out: list[Change] = []
    if old.type != new.type:
        out.append(AlterFieldType(entity, new.name, old.type, new.type))
    if old.nullable != new.nullable:
        # A literal or factory default is the natural value for stored NULLs.
        backfill = new.default
        unusable = (
            backfill is None or backfill.kind not in _BACKFILL_KINDS or backfill.value is None
        )
        if new.nullable or unusable:
            backfill = None
        out.append(AlterNullability(entity, new.name, old.nullable, new.nullable, backfill))
    if old.default != new.default or old.generated != new.generated:
        out.append(
            AlterDefault(entity, new.name, old.default, new.default, old.generated, new.generated)
        )
    if old.constraints != new.constraints:
        out.append(AlterConstraints(entity, new.name, old.constraints, new.constraints))
    return out


def _candidates(item: ir.Field, others: Sequence[ir.Field]) -> tuple[str, ...]:
    return tuple(o.name for o in others if o.type == item.type)


def _semantic_command(c: ir.CommandDef) -> ir.CommandDef:
    return replace(c, doc=None, params=tuple(replace(p, doc=None) for p in c.params))


def diff_entities(
    old: ir.Entity, new: ir.Entity, *, renames: Mapping[str, str] | None = None
) -> list[Change]:
    """Return the ordered changes that turn ``old`` into ``new`` (field level and below).

    ``renames`` maps old field names to new ones (the ``--rename`` option; column names are
    accepted too); renames the new
    version declares (``renamed_from``) are used too. Entity name and table changes are not
    reported here (see ``diff_schemas``): changes name the entity by ``new.name``.
    """
    entity = new.name
    old_columns = {f.column: f.name for f in old.fields}
    new_columns = {f.column: f.name for f in new.fields}
    explicit = {
        (k if k in {f.name for f in old.fields} else old_columns.get(k, k)): (
            v if v in {f.name for f in new.fields} else new_columns.get(v, v)
        )
        for k, v in (renames or {}).items()
    }
    pairs, dropped, added = _match(
        old.fields,
        new.fields,
        key=lambda f: f.name,
        explicit=explicit,
        declared=lambda f: f.renamed_from,
        storage=lambda f: f.column,
        what="field",
        where=f"{entity}.",
    )
    to_new = {o.name: n.name for o, n in pairs}

    def translate(names: Iterable[str]) -> tuple[str, ...]:
        return tuple(to_new.get(n, n) for n in names)

    renames_out = [
        RenameField(entity, o.name, n.name, o.column, n.column)
        for o, n in pairs
        if (o.name, o.column) != (n.name, n.column)
    ]
    ordered_renames = _order_renames(
        renames_out,
        sources=lambda r: {r.old_name, "\0" + r.old_column},
        targets=lambda r: {r.new_name, "\0" + r.new_column},
    )
    if renames_out and not ordered_renames:
        cycle = ", ".join(f"{r.old_name} -> {r.new_name}" for r in renames_out)
        raise ir.SourceError(
            new.location,
            f"{entity}: the field renames form a cycle ({cycle})",
            "swap names through an intermediate schema version",
        )

    old_indexes = {replace(i, columns=translate(i.columns)): i for i in old.indexes}
    new_indexes = set(new.indexes)
    old_unique = {translate(u): u for u in old.unique}
    new_unique = set(new.unique)

    changes: list[Change] = []
    changes += [DropIndex(entity, i) for t, i in old_indexes.items() if t not in new_indexes]
    changes += [DropUnique(entity, u) for t, u in old_unique.items() if t not in new_unique]
    changes += [DropField(entity, f, _candidates(f, added)) for f in dropped]
    changes += ordered_renames
    for o, n in pairs:
        changes += _field_changes(entity, o, n)
    changes += [AddField(entity, f, None, _candidates(f, dropped)) for f in added]
    if translate(old.primary_key) != new.primary_key:
        changes.append(AlterPrimaryKey(entity, translate(old.primary_key), new.primary_key))
    changes += [AddUnique(entity, u) for u in new.unique if u not in old_unique]
    changes += [AddIndex(entity, i) for i in new.indexes if i not in old_indexes]
    changes += _command_changes(entity, old.commands, new.commands)
    return changes


def _command_changes(
    entity: str, old: Sequence[ir.CommandDef], new: Sequence[ir.CommandDef]
) -> list[Change]:
    old_by = {c.name: c for c in old}
    new_by = {c.name: c for c in new}
    out: list[Change] = [DropCommand(entity, c) for c in old if c.name not in new_by]
    out += [AddCommand(entity, c) for c in new if c.name not in old_by]
    out += [
        AlterCommand(entity, old_by[c.name], c)
        for c in new
        if c.name in old_by and _semantic_command(old_by[c.name]) != _semantic_command(c)
    ]
    return out


# --------------------------------------------------------------------------- schemas


def _declared_entity_renames(e: ir.Entity) -> tuple[str, ...]:
    value = e.extra.get("renamed_from")
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def _field_shape(e: ir.Entity) -> tuple[tuple[str, ir.FieldType], ...]:
    return tuple(sorted(((f.name, f.type) for f in e.fields), key=lambda p: p[0]))


def _resolve_renames(
    renames: Mapping[str, Mapping[str, str]],
    pairs: Sequence[tuple[ir.Entity, ir.Entity]],
) -> dict[str, Mapping[str, str]]:
    """Key the ``--rename`` mappings by the new entity name (accepting old names, tables)."""
    out: dict[str, Mapping[str, str]] = {}
    for key, mapping in renames.items():
        for o, n in pairs:
            if key in (n.name, n.table, o.name, o.table):
                out[n.name] = mapping
                break
        else:
            known = sorted({n.name for _, n in pairs})
            raise ir.SourceError(
                None,
                f"--rename {key}.…: no entity `{key}` in both versions of the schema",
                "entities there: " + ", ".join(known),
            )
    return out


def diff_schemas(
    old: ir.Schema,
    new: ir.Schema,
    *,
    renames: Mapping[str, Mapping[str, str]] | None = None,
    entity_renames: Mapping[str, str] | None = None,
) -> list[Change]:
    """Return the ordered changes that turn schema ``old`` into ``new``.

    ``renames`` maps an entity (name or table, old or new) to its field renames
    (``{"Note": {"body": "text"}}``, from ``--rename Note.body=text``); ``entity_renames``
    maps old entity names to new ones. Renames the new schema declares are used too.
    """
    pairs, dropped, added = _match(
        old.entities,
        new.entities,
        key=lambda e: e.name,
        explicit=entity_renames or {},
        declared=_declared_entity_renames,
        storage=lambda e: e.table,
        what="entity",
        where="",
    )
    field_renames = _resolve_renames(renames or {}, pairs)

    entity_renames_out = [
        RenameEntity(o.name, n.name, o.table, n.table)
        for o, n in pairs
        if (o.name, o.table) != (n.name, n.table)
    ]
    ordered = _order_renames(
        entity_renames_out,
        sources=lambda r: {r.old_name, "\0" + r.old_table},
        targets=lambda r: {r.new_name, "\0" + r.new_table},
    )
    if entity_renames_out and not ordered:
        cycle = ", ".join(f"{r.old_name} -> {r.new_name}" for r in entity_renames_out)
        raise ir.SourceError(
            None,
            f"the entity renames form a cycle ({cycle})",
            "swap names through an intermediate schema version",
        )

    def shape_candidates(e: ir.Entity, others: Sequence[ir.Entity]) -> tuple[str, ...]:
        return tuple(o.name for o in others if _field_shape(o) == _field_shape(e))

    changes: list[Change] = [DropEntity(e, shape_candidates(e, added)) for e in reversed(dropped)]
    changes += ordered
    for o, n in pairs:
        changes += diff_entities(o, n, renames=field_renames.get(n.name))
    changes += [AddEntity(e, shape_candidates(e, dropped)) for e in added]
    return changes
