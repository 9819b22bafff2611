"""Run changes against the IR: the meaning of a change list, executable.

``apply_changes(schema, changes)`` returns the schema the changes produce when run top to
bottom; emitters use it to know an entity's exact shape between two changes (for example to
write a full column definition or to rebuild a SQLite table), and tests use it to check that
a diff really leads from one schema to the other and that its inverse leads back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

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

__all__ = ["apply_change", "apply_changes", "invert_changes", "table_steps"]

_Entities = dict[str, ir.Entity]


def invert_changes(changes: Iterable[Change]) -> list[Change]:
    """Return the changes that undo ``changes``: each inverted, in reverse order."""
    return [c.invert() for c in reversed(list(changes))]


def apply_changes(schema: ir.Schema, changes: Iterable[Change]) -> ir.Schema:
    """Return ``schema`` after running ``changes`` in order.

    Raises ``ValueError`` when a change does not fit the schema it meets (a field that is
    not there, an entity added twice): such a list was not made for this schema.
    """
    entities: _Entities = {e.name: e for e in schema.entities}
    for change in changes:
        apply_change(change, entities)
    return replace(schema, entities=tuple(entities.values()))


def table_steps(
    before: ir.Entity, changes: Iterable[Change]
) -> Iterator[tuple[Change, ir.Entity, ir.Entity]]:
    """Yield each change of ``before``'s table, with the entity before and after it.

    Changes that do not touch the table (``touches_table`` false) are passed over.
    """
    state: _Entities = {before.name: before}
    for change in changes:
        if not change.touches_table:
            continue
        name = change.old_name if isinstance(change, RenameEntity) else change.entity
        prev = state[name]
        apply_change(change, state)
        yield change, prev, state[change.entity]


@functools.singledispatch
def apply_change(change: Change, entities: _Entities) -> None:
    """Run one change against ``entities`` (entity name -> entity), in place."""
    raise TypeError(f"no way to apply {type(change).__name__}")


def _entity(entities: _Entities, name: str) -> ir.Entity:
    try:
        return entities[name]
    except KeyError:
        raise ValueError(f"no entity `{name}` to change") from None


def _update(entities: _Entities, name: str, fn: Callable[[ir.Entity], ir.Entity]) -> None:
    entities[name] = fn(_entity(entities, name))


def _field_index(entity: ir.Entity, name: str) -> int:
    for i, f in enumerate(entity.fields):
        if f.name == name:
            return i
    raise ValueError(f"{entity.name} has no field `{name}`")


def _update_field(
    entities: _Entities, entity: str, field: str, fn: Callable[[ir.Field], ir.Field]
) -> None:
    e = _entity(entities, entity)
    i = _field_index(e, field)
    fields = list(e.fields)
    fields[i] = fn(fields[i])
    entities[entity] = replace(e, fields=tuple(fields))


@apply_change.register
def _(change: AddField, entities: _Entities) -> None:
    e = _entity(entities, change.entity)
    if any(f.name == change.field_name for f in e.fields):
        raise ValueError(f"{e.name} already has a field `{change.field_name}`")
    entities[e.name] = replace(e, fields=(*e.fields, change.definition))


@apply_change.register
def _(change: DropField, entities: _Entities) -> None:
    e = _entity(entities, change.entity)
    i = _field_index(e, change.field_name)
    entities[e.name] = replace(e, fields=e.fields[:i] + e.fields[i + 1 :])


@apply_change.register
def _(change: RenameField, entities: _Entities) -> None:
    def rename(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(change.new_name if n == change.old_name else n for n in names)

    _update_field(
        entities,
        change.entity,
        change.old_name,
        lambda f: replace(f, name=change.new_name, column=change.new_column),
    )
    _update(
        entities,
        change.entity,
        lambda e: replace(
            e,
            primary_key=rename(e.primary_key),
            unique=tuple(rename(u) for u in e.unique),
            indexes=tuple(replace(i, columns=rename(i.columns)) for i in e.indexes),
        ),
    )


@apply_change.register
def _(change: AlterFieldType, entities: _Entities) -> None:
    _update_field(entities, change.entity, change.field, lambda f: replace(f, type=change.after))


@apply_change.register
def _(change: AlterNullability, entities: _Entities) -> None:
    _update_field(
        entities,
        change.entity,
        change.field,
        lambda f: replace(f, nullable=change.after),
    )


@apply_change.register
def _(change: AlterDefault, entities: _Entities) -> None:
    _update_field(
        entities,
        change.entity,
        change.field,
        lambda f: replace(f, default=change.after, generated=change.generated_after),
    )


@apply_change.register
def _(change: AlterConstraints, entities: _Entities) -> None:
    _update_field(
        entities,
        change.entity,
        change.field,
        lambda f: replace(f, constraints=change.after),
    )


@apply_change.register
def _(change: AlterPrimaryKey, entities: _Entities) -> None:
    _update(entities, change.entity, lambda e: replace(e, primary_key=change.after))


@apply_change.register
def _(change: AddUnique, entities: _Entities) -> None:
    _update(
        entities,
        change.entity,
        lambda e: replace(e, unique=(*e.unique, change.columns)),
    )


@apply_change.register
def _(change: DropUnique, entities: _Entities) -> None:
    e = _entity(entities, change.entity)
    if change.columns not in e.unique:
        raise ValueError(f"{e.name} has no unique constraint on {change.columns}")
    entities[e.name] = replace(e, unique=tuple(u for u in e.unique if u != change.columns))


@apply_change.register
def _(change: AddIndex, entities: _Entities) -> None:
    _update(
        entities,
        change.entity,
        lambda e: replace(e, indexes=(*e.indexes, change.index)),
    )


@apply_change.register
def _(change: DropIndex, entities: _Entities) -> None:
    e = _entity(entities, change.entity)
    if change.index not in e.indexes:
        raise ValueError(f"{e.name} has no index {change.index}")
    entities[e.name] = replace(e, indexes=tuple(i for i in e.indexes if i != change.index))


@apply_change.register
def _(change: AddEntity, entities: _Entities) -> None:
    if change.entity in entities:
        raise ValueError(f"entity `{change.entity}` already exists")
    entities[change.entity] = change.definition


@apply_change.register
def _(change: DropEntity, entities: _Entities) -> None:
    _entity(entities, change.entity)
    del entities[change.entity]


@apply_change.register
def _(change: RenameEntity, entities: _Entities) -> None:
    e = _entity(entities, change.old_name)
    if change.new_name != change.old_name and change.new_name in entities:
        raise ValueError(f"entity `{change.new_name}` already exists")
    renamed = replace(e, name=change.new_name, table=change.new_table)
    # Keep the entity's position so the schema's order stays the source order.
    items = [(renamed.name, renamed) if k == e.name else (k, v) for k, v in entities.items()]
    entities.clear()
    entities.update(items)


@apply_change.register
def _(change: AddCommand, entities: _Entities) -> None:
    _update(
        entities,
        change.entity,
        lambda e: replace(e, commands=(*e.commands, change.command)),
    )


@apply_change.register
def _(change: DropCommand, entities: _Entities) -> None:
    _update(
        entities,
        change.entity,
        lambda e: replace(
            e, commands=tuple(c for c in e.commands if c.name != change.command.name)
        ),
    )


@apply_change.register
def _(change: AlterCommand, entities: _Entities) -> None:
    _update(
        entities,
        change.entity,
        lambda e: replace(
            e,
            commands=tuple(change.after if c.name == change.before.name else c for c in e.commands),
        ),
    )
