"""Migration SQL: the statements that take one entity's table from one version to the next.

``step_statements(before, after, changes, dialect)`` turns the ordered diff changes of one
entity (``persist_tool.diff``) into statements for one dialect:

* **PostgreSQL, MySQL/MariaDB**: ``ALTER TABLE`` per change — ADD/DROP/RENAME COLUMN,
  column type changes (PostgreSQL ``USING`` a conversion, MySQL ``MODIFY COLUMN`` with the
  full definition), NOT NULL and DEFAULT changes, backfills (``UPDATE`` / a temporary
  ``DEFAULT``), and the constraints and indexes the change affects.
* **SQLite**: the same ``ALTER``s where SQLite has them (rename column or table, add a plain
  column, drop an unconstrained column, indexes); anything else rebuilds the table with
  SQLite's documented procedure: create the new table, ``INSERT .. SELECT`` the rows through
  the rename mapping, conversions and backfills, drop the old table, rename the new one and
  recreate the indexes (the runtime runs the step with foreign keys off and checks them
  before committing).

Constraints and indexes are compared as data: before and after each change, every primary
key, unique constraint, CHECK and index is keyed by what it covers (field names), so a
change drops what disappears or changes, renames what only changed name (derived names
follow table and column renames) and adds what is new. Every statement is a sqlglot
expression; the table definitions come from ``persist_tool.sql.ddl``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from persist_tool import ir
from persist_tool.diff import (
    AddEntity,
    AddField,
    AddIndex,
    AlterConstraints,
    AlterDefault,
    AlterFieldType,
    AlterNullability,
    Change,
    DropEntity,
    DropField,
    DropIndex,
    RenameEntity,
    RenameField,
    apply_change,
)
from persist_tool.sql.constraints import default_expression
from persist_tool.sql.ddl import (
    column_definition,
    create_indexes,
    create_table,
    ddl,
    table_checks,
    table_primary_key,
    table_uniques,
)
from persist_tool.sql.dialects import check_dialect, derived_name, identifier, table
from persist_tool.sql.model import ForeignKey, foreign_keys, identity_field, resolve_fields
from persist_tool.sql.types import ColumnType, plan_types

__all__ = [
    "REBUILD_PREFIX",
    "backfill_expression",
    "conversion_expression",
    "drop_table",
    "needs_rebuild",
    "step_statements",
]

REBUILD_PREFIX = "__persist_new_"
"""Name prefix of the table SQLite's rebuild procedure fills before renaming it."""

_Entities = dict[str, ir.Entity]


# --------------------------------------------------------------------------- expressions


def _dtype(text: str) -> exp.DataType:
    return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=text)


def _col(field: ir.Field, dialect: str) -> exp.Column:
    return exp.column(identifier(field.column, dialect, field.location))


def _cast(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    if before.text == after.text:
        return value
    return exp.Cast(this=value, to=_dtype(after.text))


def _nonzero(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    # PostgreSQL has no bigint -> boolean cast; a comparison works for every integer width.
    return exp.NEQ(this=value, expression=exp.Literal.number(0))


def _date_part(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    if dialect == "sqlite":  # ISO text: the date is its first ten characters
        return exp.Substring(this=value, start=exp.Literal.number(1), length=exp.Literal.number(10))
    return _cast(value, before, after, dialect)


def _midnight(value: exp.Expr, before: ColumnType, after: ColumnType, dialect: str) -> exp.Expr:
    if dialect == "sqlite":
        return exp.DPipe(this=value, expression=exp.Literal.string(" 00:00:00"))
    return _cast(value, before, after, dialect)


_Conversion = Callable[[exp.Expr, ColumnType, ColumnType, str], exp.Expr]

_CONVERSIONS: dict[tuple[str, str], _Conversion] = {
    ("integer", "boolean"): _nonzero,
    ("datetime", "date"): _date_part,
    ("date", "datetime"): _midnight,
}
"""(old kind, new kind) -> how stored values convert; a CAST to the new type otherwise."""


def conversion_expression(
    value: exp.Expr, before: ColumnType, after: ColumnType, kinds: tuple[str, str], dialect: str
) -> exp.Expr:
    """Return ``value`` (of the old column type) converted to the new column type."""
    return _CONVERSIONS.get(kinds, _cast)(value, before, after, dialect)


_UUID_SQL = {
    "postgres": "gen_random_uuid()",
    "mysql": "UUID()",
    "sqlite": (
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||"
        " substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||"
        " substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
    ),
}
_EMPTY_JSON: dict[str, ir.JsonValue] = {"list": [], "dict": {}}


def backfill_expression(
    entity: ir.Entity, field: ir.Field, value: ir.Default, ctype: ColumnType, dialect: str
) -> exp.Expr:
    """Return the SQL value stored rows get for ``field`` from a backfill or default.

    Literals and clock factories are what the column's ``DEFAULT`` would be; ``uuid4``
    gives every row its own UUID and ``list``/``dict`` an empty JSON document.
    """
    if value.kind == ir.Default.FACTORY and value.value in _EMPTY_JSON:
        value = ir.Default(ir.Default.LITERAL, _EMPTY_JSON[str(value.value)])
    if value.kind == ir.Default.FACTORY and value.value == "uuid4":
        return sqlglot.parse_one(_UUID_SQL[dialect], read=dialect)
    node = default_expression(dataclasses.replace(field, default=value), entity, ctype, dialect)
    if node is None:
        raise ir.SourceError(
            field.location or entity.location,
            f"{entity.name}.{field.name}: {dialect} has no SQL value for the backfill"
            f" {value.value!r}",
            hint="pass a literal with --default ENTITY.FIELD=VALUE",
        )
    return node


# --------------------------------------------------------------------------- constraints


@dataclass(frozen=True, slots=True)
class _Named:
    """A constraint or index: its name, what it says (comparable text) and how to add it."""

    name: str
    body: str
    node: exp.Expr
    kind: str
    """``pk``, ``uq``, ``ck`` or ``ix``."""
    index: ir.Index | None = None


def _field_names_sql(node: exp.Expr, entity: ir.Entity, rename: Mapping[str, str]) -> str:
    """Render a condition with columns replaced by (renamed) field names, for comparison."""
    by_column = {f.column.casefold(): rename.get(f.name, f.name) for f in entity.fields}

    def swap(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Column) and n.name.casefold() in by_column:
            return exp.column(exp.to_identifier(by_column[n.name.casefold()], quoted=True))
        return n

    return node.transform(swap).sql(dialect="postgres")


def _safe(entity: ir.Entity) -> ir.Entity:
    """Return ``entity`` keeping only foreign keys whose fields it has (between changes)."""
    keys = entity.extra.get("foreign_keys")
    if not keys:
        return entity
    names = {f.name for f in entity.fields} | {f.column for f in entity.fields}
    kept = [k for k in keys if isinstance(k, Mapping) and set(k.get("columns") or ()) <= names]
    if len(kept) == len(keys):
        return entity
    return dataclasses.replace(entity, extra={**entity.extra, "foreign_keys": kept})


def _constraints(
    entity: ir.Entity, dialect: str, rename: Mapping[str, str] | None = None
) -> dict[tuple[object, ...], _Named]:
    """Key every primary key, unique constraint, CHECK and index of ``entity``.

    Keys and bodies speak of field names (after ``rename``), so renaming a column or the
    table changes only the derived names, not what a constraint is.
    """
    rename = rename or {}
    entity = _safe(entity)

    def names(fields: Iterable[str]) -> tuple[str, ...]:
        return tuple(rename.get(f, f) for f in fields)

    out: dict[tuple[object, ...], _Named] = {}
    types = plan_types(entity, dialect)
    for node in table_primary_key(entity, dialect):
        key_fields = names(f.name for f in resolve_fields(entity, entity.primary_key, "key"))
        name = node.name if isinstance(node, exp.Constraint) else "PRIMARY"
        out[("pk",)] = _Named(name, repr(key_fields), node, "pk")
    for group, node in zip(entity.unique, table_uniques(entity, dialect), strict=True):
        fields = names(f.name for f in resolve_fields(entity, group, "unique constraint"))
        out[("uq", fields)] = _Named(node.name, repr(fields), node, "uq")
    by_check_name = {derived_name("ck", entity.table, (f.column,)): f for f in entity.fields}
    for number, node in enumerate(table_checks(entity, dialect, types)):
        owner = by_check_name.get(node.name)
        key: tuple[object, ...] = (
            ("ck", names([owner.name])[0]) if owner is not None else ("ck#", number)
        )
        body = _field_names_sql(node.expressions[0], entity, rename)
        out[key] = _Named(node.name, body, node, "ck")
    for index in entity.indexes:
        fields = names(f.name for f in resolve_fields(entity, index.columns, "index"))
        name = index.name or derived_name(
            "ix", entity.table, tuple(f.column for f in resolve_fields(entity, index.columns, ""))
        )
        ikey: tuple[object, ...] = ("ix", fields, index.unique)
        out[ikey] = _Named(name, repr((fields, index.unique)), exp.Null(), "ix", index)
    return out


def _alter(entity: ir.Entity, dialect: str, *actions: exp.Expr, quiet: bool = False) -> str:
    """Return ``ALTER TABLE <entity's table> <actions>``.

    ``quiet`` silences sqlglot's "unsupported" warning that ``SET NOT NULL`` wrongly raises
    (the statement it writes is the right one).
    """
    node = exp.Alter(this=table(entity.table, dialect), kind="TABLE", actions=list(actions))
    if quiet:
        return node.sql(dialect=dialect, unsupported_level=ErrorLevel.IGNORE)
    return node.sql(dialect=dialect)


def _drop_constraint(entity: ir.Entity, named: _Named, dialect: str) -> list[str]:
    if named.kind == "ix":
        return [_drop_index(entity, named.name, dialect)]
    if dialect == "mysql" and named.kind == "pk":
        return [_alter(entity, dialect, exp.DropPrimaryKey())]
    kind = "INDEX" if dialect == "mysql" and named.kind == "uq" else "CONSTRAINT"
    drop = exp.Drop(tables=[table(named.name, dialect)], kind=kind)
    return [_alter(entity, dialect, drop)]


def _drop_index(entity: ir.Entity, name: str, dialect: str) -> str:
    on = exp.OnProperty(this=table(entity.table, dialect)) if dialect == "mysql" else None
    return exp.Drop(tables=[table(name, dialect)], kind="INDEX", cluster=on).sql(dialect=dialect)


def _add_constraint(entity: ir.Entity, named: _Named, dialect: str) -> list[str]:
    if named.kind == "ix":
        assert named.index is not None
        return create_indexes(dataclasses.replace(entity, indexes=(named.index,)), dialect)
    return [_alter(entity, dialect, exp.AddConstraint(expressions=[named.node.copy()]))]


def _rename_constraint(entity: ir.Entity, old: _Named, new: _Named, dialect: str) -> list[str]:
    if old.name == new.name:
        return []
    if new.kind == "ix" or (dialect == "mysql" and new.kind == "uq"):
        if dialect == "mysql":
            rename = exp.RenameIndex(
                this=identifier(old.name, dialect), to=identifier(new.name, dialect)
            )
            return [_alter(entity, dialect, rename)]
        if dialect == "postgres":
            node = exp.Alter(
                this=table(old.name, dialect),
                kind="INDEX",
                actions=[exp.AlterRename(this=table(new.name, dialect))],
            )
            return [node.sql(dialect=dialect)]
        # SQLite cannot rename an index: recreate it under its new name.
        return [_drop_index(entity, old.name, dialect), *_add_constraint(entity, new, dialect)]
    if dialect == "postgres":
        # sqlglot has no node for RENAME CONSTRAINT; both names are sqlglot identifiers.
        head = _alter(entity, dialect, exp.AlterRename(this=table("__x__", dialect)))
        head = head[: head.rindex(" RENAME ")]
        old_sql = identifier(old.name, dialect).sql(dialect=dialect)
        new_sql = identifier(new.name, dialect).sql(dialect=dialect)
        return [f"{head} RENAME CONSTRAINT {old_sql} TO {new_sql}"]
    if dialect == "mysql" and new.kind == "ck":
        return [*_drop_constraint(entity, old, dialect), *_add_constraint(entity, new, dialect)]
    return []  # SQLite keeps constraint names inside CREATE TABLE; MySQL's key is PRIMARY


@dataclass(frozen=True, slots=True)
class _ConstraintPlan:
    drop: list[str]
    rename: list[str]
    add: list[str]


def _constraint_plan(
    before: ir.Entity,
    after: ir.Entity,
    dialect: str,
    rename: Mapping[str, str],
    *,
    indexes_only: bool = False,
) -> _ConstraintPlan:
    old = _constraints(before, dialect, rename)
    new = _constraints(after, dialect)
    if indexes_only:
        old = {k: v for k, v in old.items() if v.kind == "ix"}
        new = {k: v for k, v in new.items() if v.kind == "ix"}
    plan = _ConstraintPlan([], [], [])
    for key, named in old.items():
        if key not in new or new[key].body != named.body:
            plan.drop.extend(_drop_constraint(before, named, dialect))
    for key, named in new.items():
        if key not in old or old[key].body != named.body:
            plan.add.extend(_add_constraint(after, named, dialect))
        else:
            plan.rename.extend(_rename_constraint(after, old[key], named, dialect))
    return plan


# --------------------------------------------------------------------------- columns


def _field(entity: ir.Entity, name: str) -> ir.Field:
    return entity.get_field(name)


def _fill(change: AddField) -> ir.Default | None:
    """Return the value existing rows get for an added field (backfill, else its default)."""
    if change.backfill is not None:
        return change.backfill
    default = change.definition.default
    if default is not None and default.kind in (ir.Default.LITERAL, ir.Default.FACTORY):
        return default if default.value is not None else None
    return None


def _own_default(entity: ir.Entity, field: ir.Field, dialect: str) -> str | None:
    types = plan_types(_safe(entity), dialect)
    node = default_expression(field, entity, types[field.name], dialect)
    return None if node is None else node.sql(dialect=dialect)


def _add_field(change: AddField, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    field = _field(after, change.field_name)
    after = _safe(after)
    types = plan_types(after, dialect)
    fill = _fill(change)
    definition = column_definition(after, field, dialect, types)
    if fill is None or fill == field.default:
        return [_alter(after, dialect, definition)]
    value = backfill_expression(after, field, fill, types[field.name], dialect)
    temporary = column_definition(after, dataclasses.replace(field, default=None), dialect, types)
    temporary.append(
        "constraints", exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=value))
    )
    out = [_alter(after, dialect, temporary)]
    out += _set_default(after, field, dialect, types)
    return out


def _set_default(
    entity: ir.Entity, field: ir.Field, dialect: str, types: dict[str, ColumnType]
) -> list[str]:
    """Return statements giving the column ``field``'s own default (or none)."""
    if dialect == "mysql":
        modify = exp.ModifyColumn(this=column_definition(entity, field, dialect, types))
        return [_alter(entity, dialect, modify)]
    node = default_expression(field, entity, types[field.name], dialect)
    column = identifier(field.column, dialect)
    action = (
        exp.AlterColumn(this=column, drop=True)
        if node is None
        else exp.AlterColumn(this=column, default=node)
    )
    return [_alter(entity, dialect, action)]


def _drop_field(change: DropField, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    column = exp.column(identifier(change.definition.column, dialect))
    return [_alter(before, dialect, exp.Drop(tables=[column], kind="COLUMN"))]


def _rename_field(
    change: RenameField, before: ir.Entity, after: ir.Entity, dialect: str
) -> list[str]:
    if change.old_column == change.new_column:
        return []
    action = exp.RenameColumn(
        this=identifier(change.old_column, dialect), to=identifier(change.new_column, dialect)
    )
    return [_alter(after, dialect, action)]


def _rename_entity(
    change: RenameEntity, before: ir.Entity, after: ir.Entity, dialect: str
) -> list[str]:
    if change.old_table == change.new_table:
        return []
    return [_alter(before, dialect, exp.AlterRename(this=table(change.new_table, dialect)))]


def _backfill_nulls(
    entity: ir.Entity, field: ir.Field, value: ir.Default, types: dict[str, ColumnType], d: str
) -> str:
    fill = backfill_expression(entity, field, value, types[field.name], d)
    column = _col(field, d)
    update = exp.update(
        table(entity.table, d),
        {column.this.copy(): fill},
        where=exp.Is(this=column, expression=exp.Null()),
    )
    return update.sql(dialect=d)


def _alter_field(change: Change, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    """Alter one column in place: type (with conversion), NOT NULL, DEFAULT."""
    name = change.field_name
    assert name is not None
    old, new = _field(before, name), _field(after, name)
    before, after = _safe(before), _safe(after)
    old_types, new_types = plan_types(before, dialect), plan_types(after, dialect)
    out: list[str] = []
    backfill = change.backfill if isinstance(change, AlterNullability) else None
    if backfill is not None and old.nullable and not new.nullable:
        out.append(_backfill_nulls(after, new, backfill, new_types, dialect))
    type_changed = old_types[name].text != new_types[name].text
    null_changed = old.nullable != new.nullable
    identity_changed = (identity_field(before) is old) != (identity_field(after) is new)
    default_changed = _own_default(before, old, dialect) != _own_default(after, new, dialect)
    if dialect == "mysql":
        if type_changed or null_changed or default_changed or identity_changed:
            modify = exp.ModifyColumn(this=column_definition(after, new, dialect, new_types))
            out.append(_alter(after, dialect, modify))
        return out
    column = identifier(new.column, dialect)
    if type_changed:
        using = conversion_expression(
            _col(old, dialect),
            old_types[name],
            new_types[name],
            (old.type.kind, new.type.kind),
            dialect,
        )
        action = exp.AlterColumn(this=column, dtype=_dtype(new_types[name].text), using=using)
        out.append(_alter(after, dialect, action))
    if null_changed:
        if new.nullable:
            nullable = exp.AlterColumn(this=column.copy(), drop=True, allow_null=True)
        else:
            nullable = exp.AlterColumn(this=column.copy(), allow_null=False)
        out.append(_alter(after, dialect, nullable, quiet=True))
    if identity_changed:
        ident = (
            "ADD GENERATED BY DEFAULT AS IDENTITY"
            if identity_field(after) is new
            else "DROP IDENTITY"
        )
        head = _alter(after, dialect, exp.AlterColumn(this=column.copy(), drop=True))
        out.append(head[: head.rindex(" DROP DEFAULT")] + " " + ident)
    elif default_changed:
        out += _set_default(after, new, dialect, new_types)
    return out


def _no_columns(change: Change, before: ir.Entity, after: ir.Entity, dialect: str) -> list[str]:
    return []


_ColumnOp = Callable[[Change, ir.Entity, ir.Entity, str], list[str]]

_COLUMN_OPS: dict[type[Change], _ColumnOp] = {
    AddField: _add_field,  # type: ignore[dict-item]
    DropField: _drop_field,  # type: ignore[dict-item]
    RenameField: _rename_field,  # type: ignore[dict-item]
    RenameEntity: _rename_entity,  # type: ignore[dict-item]
    AlterFieldType: _alter_field,
    AlterNullability: _alter_field,
    AlterDefault: _alter_field,
    AlterConstraints: _alter_field,
}
"""Change type -> the column statements it needs (keys and indexes are compared apart)."""


def _renames(change: Change) -> dict[str, str]:
    return {change.old_name: change.new_name} if isinstance(change, RenameField) else {}


def _change_statements(
    change: Change, before: ir.Entity, after: ir.Entity, dialect: str
) -> list[str]:
    constraints = _constraint_plan(before, after, dialect, _renames(change))
    columns = _COLUMN_OPS.get(type(change), _no_columns)(change, before, after, dialect)
    return [*constraints.drop, *columns, *constraints.rename, *constraints.add]


# --------------------------------------------------------------------------- SQLite


_SQLITE_ALTERS: tuple[type[Change], ...] = (RenameField, RenameEntity, AddIndex, DropIndex)
"""Changes SQLite's ALTER TABLE / CREATE INDEX always make in place."""


def _table_constraints(
    entity: ir.Entity, rename: Mapping[str, str] | None = None
) -> dict[tuple[object, ...], str]:
    items = _constraints(entity, "sqlite", rename).items()
    return {k: v.body for k, v in items if v.kind != "ix"}


def _sqlite_add_in_place(change: AddField, before: ir.Entity, after: ir.Entity) -> bool:
    """SQLite adds a column in place only without keys, checks, or a non-constant default."""
    field = after.get_field(change.field_name)
    own = field.default
    return (
        _table_constraints(before) == _table_constraints(after)
        and identity_field(_safe(after)) is not field
        and _fill(change) == own
        and (own is None or own.kind == ir.Default.LITERAL)
        and (field.nullable or own is not None)
        and not any(field.name in fk.columns for fk in foreign_keys(_safe(after)))
    )


def _sqlite_drop_in_place(change: DropField, before: ir.Entity, after: ir.Entity) -> bool:
    """SQLite drops a column in place only when no key, index or check uses it."""
    used = {*before.primary_key, *(c for u in before.unique for c in u)}
    used |= {c for i in before.indexes for c in i.columns}
    used |= {c for fk in foreign_keys(_safe(before)) for c in fk.columns}
    field = change.definition
    return (
        field.name not in used
        and field.column not in used
        and _table_constraints(before) == _table_constraints(after)
    )


def _sqlite_unchanged(change: Change, before: ir.Entity, after: ir.Entity) -> bool:
    """Tell whether SQLite's table definition is the same after ``change`` (nothing to do)."""
    return create_table(_safe(before), "sqlite") == create_table(_safe(after), "sqlite")


_SQLITE_IN_PLACE: dict[type[Change], Callable[[Any, ir.Entity, ir.Entity], bool]] = {
    AddField: _sqlite_add_in_place,
    DropField: _sqlite_drop_in_place,
}


def _sqlite_native(change: Change, before: ir.Entity, after: ir.Entity) -> bool:
    """Tell whether SQLite can make ``change`` without rebuilding the table."""
    if not change.touches_table or isinstance(change, _SQLITE_ALTERS):
        return True
    check = _SQLITE_IN_PLACE.get(type(change), _sqlite_unchanged)
    return check(change, before, after)


_SQLITE_COLUMN_OPS = (AddField, DropField, RenameField, RenameEntity)


def needs_rebuild(before: ir.Entity, changes: Sequence[Change]) -> bool:
    """Tell whether SQLite must rebuild ``before``'s table to make ``changes``."""
    state: _Entities = {before.name: before}
    for change in changes:
        if not change.touches_table:
            continue
        name = change.old_name if isinstance(change, RenameEntity) else change.entity
        prev = state[name]
        apply_change(change, state)
        if not _sqlite_native(change, prev, state[change.entity]):
            return True
    return False


def _sources(before: ir.Entity, changes: Sequence[Change]) -> dict[str, exp.Expr]:
    """Return, per field of the new table, the SQL value read from the old table's row."""
    d = "sqlite"
    values: dict[str, exp.Expr] = {f.name: _col(f, d) for f in before.fields}
    state: _Entities = {before.name: before}
    for change in changes:
        if not change.touches_table:
            continue
        name = change.old_name if isinstance(change, RenameEntity) else change.entity
        prev = state[name]
        apply_change(change, state)
        cur = state[change.entity]
        if isinstance(change, RenameField):
            values[change.new_name] = values.pop(change.old_name)
        elif isinstance(change, DropField):
            del values[change.field_name]
        elif isinstance(change, AddField):
            field = cur.get_field(change.field_name)
            fill = _fill(change)
            types = plan_types(_safe(cur), d)
            values[field.name] = (
                exp.Null()
                if fill is None
                else backfill_expression(cur, field, fill, types[field.name], d)
            )
        elif isinstance(change, AlterFieldType):
            old_t = plan_types(_safe(prev), d)[change.field]
            new_t = plan_types(_safe(cur), d)[change.field]
            kinds = (change.before.kind, change.after.kind)
            values[change.field] = conversion_expression(
                values[change.field], old_t, new_t, kinds, d
            )
        elif isinstance(change, AlterNullability) and change.backfill is not None:
            field = cur.get_field(change.field)
            types = plan_types(_safe(cur), d)
            value = backfill_expression(cur, field, change.backfill, types[field.name], d)
            values[change.field] = exp.Coalesce(this=values[change.field], expressions=[value])
    return values


def _rebuild(before: ir.Entity, after: ir.Entity, changes: Sequence[Change]) -> list[str]:
    """Return SQLite's table-rebuild procedure taking ``before``'s table to ``after``."""
    d = "sqlite"
    out: list[str] = []
    current = before
    for change in changes:
        if isinstance(change, RenameEntity):
            out += _rename_entity(change, current, after, d)
            current = dataclasses.replace(current, name=change.new_name, table=change.new_table)
    values = _sources(before, changes)
    temp = REBUILD_PREFIX + after.table
    # The new table is created under a temporary name, with the final table's definition
    # (constraint names included, so later migrations find them by their usual names).
    head = "CREATE TABLE " + table(after.table, d).sql(dialect=d)
    created = create_table(after, d)
    assert created.startswith(head)
    out.append("CREATE TABLE " + table(temp, d).sql(dialect=d) + created[len(head) :])
    select = exp.select(*[values[f.name] for f in after.fields]).from_(table(current.table, d))
    insert = exp.Insert(
        expression=select,
        this=exp.Schema(
            this=table(temp, d), expressions=[identifier(f.column, d) for f in after.fields]
        ),
    )
    out.append(insert.sql(dialect=d))
    out.append(drop_table(current, d))
    out.append(
        _alter(
            dataclasses.replace(after, table=temp), d, exp.AlterRename(this=table(after.table, d))
        )
    )
    out += create_indexes(after, d)
    return out


# --------------------------------------------------------------------------- foreign keys


def _foreign_key_name(entity: ir.Entity, fk: ForeignKey) -> str:
    """Return the name the table's DDL gives ``fk`` (the source's, else the derived one)."""
    fields = resolve_fields(entity, fk.columns, "foreign key")
    return fk.name or derived_name("fk", entity.table, tuple(f.column for f in fields))


def _drop_foreign_key(entity: ir.Entity, fk: ForeignKey, dialect: str) -> str:
    name = table(_foreign_key_name(entity, fk), dialect)
    return _alter(entity, dialect, exp.Drop(tables=[name], kind="FOREIGN KEY"))


_FOREIGN_KEYS_FIRST = frozenset({"mysql"})
"""Dialects that refuse to drop a column, or the index, a foreign key still uses.

PostgreSQL drops the foreign keys of a dropped column with it, and SQLite rebuilds the
table; MySQL/MariaDB fail (``Cannot drop index ...: needed in a foreign key constraint``),
so the keys go first, before any index or column of the step."""


def _dropped_foreign_keys(before: ir.Entity, changes: Sequence[Change], dialect: str) -> list[str]:
    """Return ``DROP FOREIGN KEY`` for every key of ``before`` over a column the step drops."""
    if dialect not in _FOREIGN_KEYS_FIRST:
        return []
    dropped = {c.field_name for c in changes if isinstance(c, DropField)}
    return [
        _drop_foreign_key(before, fk, dialect)
        for fk in foreign_keys(before)
        if dropped.intersection(fk.columns)
    ]


# --------------------------------------------------------------------------- steps


def drop_table(entity: ir.Entity, dialect: str) -> str:
    """Return ``DROP TABLE`` for ``entity``'s table."""
    dialect = check_dialect(dialect)
    return exp.Drop(tables=[table(entity.table, dialect)], kind="TABLE").sql(dialect=dialect)


def step_statements(
    before: ir.Entity | None,
    after: ir.Entity | None,
    changes: Sequence[Change],
    dialect: str,
) -> list[str]:
    """Return the statements that migrate one entity's table in ``dialect``.

    ``before`` and ``after`` are the entity's two versions (``None`` for an entity that is
    added or dropped); ``changes`` are its changes in diff order, backfills attached.
    Command changes need no SQL and are skipped. On MySQL/MariaDB the foreign keys over
    a dropped column are dropped first (by the name the table's DDL gave them).
    """
    dialect = check_dialect(dialect)
    if before is None:
        if after is None:
            return []
        return list(ddl(after, dialect))
    if after is None or any(isinstance(c, DropEntity) for c in changes):
        return [drop_table(before, dialect)]
    if any(isinstance(c, AddEntity) for c in changes):
        return list(ddl(after, dialect))
    if dialect == "sqlite" and needs_rebuild(before, changes):
        return _rebuild(before, after, changes)
    state: _Entities = {before.name: before}
    out: list[str] = _dropped_foreign_keys(before, changes, dialect)
    for change in changes:
        if not change.touches_table:
            continue
        name = change.old_name if isinstance(change, RenameEntity) else change.entity
        prev = state[name]
        apply_change(change, state)
        cur = state[change.entity]
        if dialect == "sqlite":
            plan = _constraint_plan(prev, cur, dialect, _renames(change), indexes_only=True)
            op = _COLUMN_OPS.get(type(change)) if isinstance(change, _SQLITE_COLUMN_OPS) else None
            columns = op(change, prev, cur, dialect) if op is not None else []
            out += [*plan.drop, *columns, *plan.rename, *plan.add]
        else:
            out += _change_statements(change, prev, cur, dialect)
    return out
