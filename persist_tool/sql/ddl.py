"""CREATE TABLE / CREATE INDEX / COMMENT statements for one entity (schema order: ``order``).

Every clause is a sqlglot expression rendered for the target dialect; this module only lays
the rendered clauses out, one table element a line:

    CREATE TABLE album (
      album_id INTEGER NOT NULL,
      title VARCHAR(160) NOT NULL,
      CONSTRAINT pk_album PRIMARY KEY (album_id)
    )

Constraint names are derived from the table (``pk_<table>``, ``uq_<table>_<cols>``,
``ck_<table>_<column>``, ``fk_<table>_<cols>``, ``ix_<table>_<cols>``) unless the source
named them (``Index.name``, foreign key ``name``, ``extra["primary_key_name"]``,
``extra["unique_names"]`` keyed by comma-joined field names), so later migrations can drop
them by name in every dialect.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from persist_tool import ir
from persist_tool.keys import value_key
from persist_tool.sql.constraints import default_expression, field_checks, sql_default_dialect
from persist_tool.sql.dialects import (
    check_dialect,
    derived_name,
    identifier,
    quote,
    render,
    table,
)
from persist_tool.sql.model import (
    ForeignKey,
    find_entity,
    foreign_keys,
    identity_field,
    resolve_fields,
)
from persist_tool.sql.types import ColumnType, plan_types

__all__ = [
    "add_foreign_key",
    "column_definition",
    "comment_statements",
    "create_indexes",
    "create_table",
    "ddl",
    "select_statement",
]

_MYSQL_TABLE_OPTIONS = (
    exp.EngineProperty(this=exp.var("InnoDB")),
    exp.CharacterSetProperty(this=exp.var("utf8mb4"), default=True),
    exp.CollateProperty(this=exp.var("utf8mb4_bin")),
)
_MYSQL_COMMENT_LIMITS = {"table": 2048, "column": 1024}
_MYSQL_KEY_LIMIT = 3072
_CASCADING = frozenset({"CASCADE", "SET NULL", "SET DEFAULT"})


# --------------------------------------------------------------------------- columns


_IDENTITY: dict[str, Callable[[], list[exp.ColumnConstraintKind]]] = {
    "sqlite": lambda: [exp.PrimaryKeyColumnConstraint(), exp.AutoIncrementColumnConstraint()],
    "postgres": lambda: [exp.GeneratedAsIdentityColumnConstraint(this=False)],
    "mysql": lambda: [exp.AutoIncrementColumnConstraint()],
}
"""How each dialect declares a database-generated integer key column."""


def _identity_problem(entity: ir.Entity, field: ir.Field, dialect: str) -> str | None:
    """Return why ``dialect`` cannot generate ``field``'s values, or ``None`` when it can."""
    first_columns = [entity.primary_key[:1], *(u[:1] for u in entity.unique)]
    first_columns.extend(index.columns[:1] for index in entity.indexes)
    firsts = {f.name for group in first_columns for f in resolve_fields(entity, group, "key")}
    sole_key = [f.name for f in resolve_fields(entity, entity.primary_key, "primary key")]
    checks: dict[str, Callable[[], str | None]] = {
        "sqlite": lambda: (
            None
            if sole_key == [field.name]
            else "SQLite generates integers only for a table's single-column INTEGER PRIMARY KEY"
        ),
        "mysql": lambda: (
            None
            if field.name in firsts
            else "MySQL's AUTO_INCREMENT column must lead the primary key or an index"
        ),
        "postgres": lambda: None,
    }
    return checks[dialect]()


def identity_notes(entity: ir.Entity, dialect: str) -> list[str]:
    """Return a line for a generated integer that ``dialect`` cannot generate."""
    field = identity_field(entity)
    if field is None:
        return []
    problem = _identity_problem(entity, field, dialect)
    if problem is None:
        return []
    return [f"{entity.name}.{field.name}: not generated in {dialect} ({problem}); give it"]


def _comment(text: str, dialect: str, kind: str) -> str:
    limit = _MYSQL_COMMENT_LIMITS[kind] if dialect == "mysql" else None
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def column_definition(
    entity: ir.Entity,
    field: ir.Field,
    dialect: str,
    types: dict[str, ColumnType] | None = None,
) -> exp.ColumnDef:
    """Return the column definition of ``field`` (type, NOT NULL, identity, DEFAULT, COMMENT).

    Keys, unique sets and checks are table constraints, so the same definition serves
    ``ALTER TABLE ... ADD COLUMN``.
    """
    dialect = check_dialect(dialect)
    types = types if types is not None else plan_types(entity, dialect)
    ctype = types[field.name]
    constraints: list[exp.ColumnConstraintKind] = []
    if not field.nullable:
        constraints.append(exp.NotNullColumnConstraint())
    if identity_field(entity) is field:
        # A dialect that cannot generate this column (SQLite outside the rowid key, MySQL
        # off an index) gets a plain column: writers must then give the value. The note
        # says so (``identity_notes``) rather than refusing a schema that is valid where
        # it came from, such as PostgreSQL partitions sharing a sequence.
        if _identity_problem(entity, field, dialect) is None:
            constraints.extend(_IDENTITY[dialect]())
    else:
        default = default_expression(field, entity, ctype, dialect)
        if default is not None:
            constraints.append(exp.DefaultColumnConstraint(this=default))
    if dialect == "mysql" and field.doc:
        text = _comment(field.doc, dialect, "column")
        constraints.append(exp.CommentColumnConstraint(this=exp.Literal.string(text)))
    return exp.ColumnDef(
        this=identifier(field.column, dialect, field.location),
        kind=exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=ctype.text),
        constraints=[exp.ColumnConstraint(kind=c) for c in constraints],
    )


# --------------------------------------------------------------------------- table elements


def _columns(
    entity: ir.Entity, names: Sequence[str], dialect: str, what: str
) -> list[exp.Identifier]:
    return [identifier(f.column, dialect, f.location) for f in resolve_fields(entity, names, what)]


def _named(name: str, dialect: str, body: exp.Expr) -> exp.Constraint:
    return exp.Constraint(this=identifier(name, dialect), expressions=[body])


def table_primary_key(entity: ir.Entity, dialect: str) -> list[exp.Expr]:
    identity = identity_field(entity)
    if not entity.primary_key or (dialect == "sqlite" and identity is not None):
        return []  # SQLite's AUTOINCREMENT key is declared on the column itself
    columns = _columns(entity, entity.primary_key, dialect, "primary key")
    body = exp.PrimaryKey(expressions=columns)
    if dialect == "mysql":
        return [body]  # MySQL names every primary key PRIMARY and warns about any other name
    name = _source_name(entity.extra.get("primary_key_name")) or derived_name("pk", entity.table)
    return [_named(name, dialect, body)]


def _source_name(value: object) -> str | None:
    """Return a constraint name the source gave (kept so migrations can refer to it)."""
    return value if isinstance(value, str) and value else None


def table_uniques(entity: ir.Entity, dialect: str) -> list[exp.Expr]:
    out: list[exp.Expr] = []
    for group in entity.unique:
        fields = resolve_fields(entity, group, "unique constraint")
        body = exp.UniqueColumnConstraint(
            this=exp.Schema(expressions=_columns(entity, group, dialect, "unique constraint"))
        )
        given = entity.extra.get("unique_names")
        key = ",".join(f.name for f in fields)
        name = _source_name(given.get(key) if isinstance(given, dict) else None)
        name = name or derived_name("uq", entity.table, tuple(f.column for f in fields))
        out.append(_named(name, dialect, body))
    return out


def _unchecked_columns(entity: ir.Entity, dialect: str) -> set[str]:
    """Return the fields whose CHECKs ``dialect`` refuses."""
    skip: set[str] = set()
    if dialect == "mysql":
        # MySQL 8 rejects CHECKs on AUTO_INCREMENT columns and on columns of cascading keys.
        identity = identity_field(entity)
        skip.update([identity.name] if identity is not None else [])
        for fk in foreign_keys(entity):
            if {fk.on_delete, fk.on_update} & _CASCADING:
                skip.update(fk.columns)
    return skip


def table_checks(entity: ir.Entity, dialect: str, types: dict[str, ColumnType]) -> list[exp.Expr]:
    skip = _unchecked_columns(entity, dialect)
    out: list[exp.Expr] = []
    for field in entity.fields:
        condition = None if field.name in skip else field_checks(field, types[field.name], dialect)
        if condition is not None:
            name = derived_name("ck", entity.table, (field.column,))
            out.append(_named(name, dialect, exp.CheckColumnConstraint(this=condition)))
    out.extend(_source_checks(entity, dialect))
    return out


def _source_checks(entity: ir.Entity, dialect: str) -> list[exp.Expr]:
    """Reproduce the CHECKs a source stated that the IR has no slot for (``extra["checks"]``).

    Each is ``{"sql", "name"?}`` in the source dialect (``extra["dialect"]``); column names
    in it are re-spelled as the generated columns are, so quoting stays consistent.
    """
    source = entity.extra.get("dialect") if isinstance(entity.extra.get("dialect"), str) else None
    columns = {f.column.casefold(): f.column for f in entity.fields}
    out: list[exp.Expr] = []
    for number, check in enumerate(entity.extra.get("checks") or (), start=1):
        text = str(check.get("sql", "")) if isinstance(check, dict) else ""
        try:
            condition = sqlglot.parse_one(text, read=source)
        except SqlglotError as error:
            raise ir.SourceError(
                entity.location, f"cannot read CHECK ({text}) of {entity.name}: {error}"
            ) from None

        def respell(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and node.name.casefold() in columns:
                return exp.column(identifier(columns[node.name.casefold()], dialect))
            return node

        condition = condition.transform(respell)
        name = _source_name(check.get("name")) or derived_name("ck", entity.table, (str(number),))
        out.append(_named(name, dialect, exp.CheckColumnConstraint(this=condition)))
    return out


def _referenced_columns(
    entity: ir.Entity, fk: ForeignKey, dialect: str, schema: ir.Schema | None
) -> tuple[str, tuple[str, ...]]:
    """Return the referenced table name and columns, filling in its primary key if unnamed."""
    target = find_entity(schema, fk.ref_table) if schema is not None else None
    ref_table = target.table if target is not None else fk.ref_table
    if fk.ref_columns or dialect != "mysql":
        return ref_table, fk.ref_columns
    if target is None or not target.primary_key:
        raise ir.SourceError(
            entity.location,
            f"foreign key {entity.name}({', '.join(fk.columns)}) references {fk.ref_table} "
            "without naming its columns, and MySQL needs them",
            hint="name the referenced columns, or generate the whole schema at once",
        )
    pk = resolve_fields(target, target.primary_key, "primary key")
    return ref_table, tuple(f.column for f in pk)


def _foreign_key(
    entity: ir.Entity, fk: ForeignKey, dialect: str, schema: ir.Schema | None
) -> exp.Constraint:
    if dialect == "mysql" and "SET DEFAULT" in (fk.on_delete, fk.on_update):
        raise ir.SourceError(
            entity.location,
            f"foreign key {entity.name}({', '.join(fk.columns)}) uses SET DEFAULT, "
            "which MySQL/InnoDB rejects",
            hint="use SET NULL, CASCADE, RESTRICT or NO ACTION",
        )
    ref_table, ref_columns = _referenced_columns(entity, fk, dialect, schema)
    fields = resolve_fields(entity, fk.columns, "foreign key")
    target: exp.Expr = table(ref_table, dialect, entity.location)
    if ref_columns:
        target = exp.Schema(this=target, expressions=[identifier(c, dialect) for c in ref_columns])
    # SET NULL on a NOT NULL column can never succeed: PostgreSQL accepts the declaration
    # and fails the delete, MySQL refuses the table. RESTRICT fails the same deletes.
    required = any(not f.nullable for f in fields)
    options = [
        f"ON {event} {'RESTRICT' if action == 'SET NULL' and required else action}"
        for event, action in (("DELETE", fk.on_delete), ("UPDATE", fk.on_update))
        if action is not None
    ]
    body = exp.ForeignKey(
        expressions=[identifier(f.column, dialect, f.location) for f in fields],
        reference=exp.Reference(this=target, options=options),
    )
    name = fk.name or derived_name("fk", entity.table, tuple(f.column for f in fields))
    return _named(name, dialect, body)


def _check_mysql_keys(entity: ir.Entity, types: dict[str, ColumnType]) -> None:
    """Raise ``SourceError`` for a MySQL key over unindexable or too wide columns."""
    groups: list[tuple[str, Sequence[str]]] = [("primary key", entity.primary_key)]
    groups.extend(("unique constraint", u) for u in entity.unique)
    groups.extend((f"index {i.name}", i.columns) for i in entity.indexes)
    groups.extend(("foreign key", fk.columns) for fk in foreign_keys(entity))
    for what, names in groups:
        fields = resolve_fields(entity, names, what)
        sizes = [types[f.name].key_bytes for f in fields]
        unindexable = [f.name for f, size in zip(fields, sizes, strict=True) if size is None]
        if unindexable:
            raise ir.SourceError(
                entity.location,
                f"{what} of {entity.name} uses {', '.join(unindexable)}, whose MySQL type "
                f"({', '.join(types[n].text for n in unindexable)}) cannot be indexed",
                hint="give the field a max length, or leave mysql out with --dialects",
            )
        width = sum(s for s in sizes if s is not None)
        if width > _MYSQL_KEY_LIMIT:
            raise ir.SourceError(
                entity.location,
                f"{what} of {entity.name} is {width} bytes wide in MySQL "
                f"(InnoDB allows {_MYSQL_KEY_LIMIT}; utf8mb4 takes 4 bytes a character)",
                hint="lower the max length of its string fields",
            )


# --------------------------------------------------------------------------- statements


def _layout(head: str, items: Sequence[str], tail: str = "") -> str:
    body = ",\n".join("  " + item for item in items)
    return f"{head} (\n{body}\n){tail}"


# Rendered SQL of the parts of a table that depend only on the field, its column type and
# the dialect. Real schemas repeat columns (``id``, ``created_at``, ...) across tables and
# rendering through sqlglot costs far more than building the key, so each distinct part is
# rendered once per process. IR values are immutable, and a key holds everything of the
# field that column definitions and checks read (``_field_key``).
_PART_SQL: dict[tuple[object, ...], str] = {}
_PART_SQL_LIMIT = 1 << 14

# What of a field type reaches the DDL beyond its column type: not the JSON Schema of a JSON
# or object field, nor the Python name of an enumeration (its values make the CHECK).
_TYPE_KEYS: dict[type[ir.FieldType], Callable[[Any], object]] = {
    ir.JsonType: lambda t: ir.JsonType,
    ir.ObjectType: lambda t: ir.ObjectType,
    ir.EnumType: lambda t: (ir.EnumType, value_key(t.values)),
}


_FIELD_KEYS: dict[int, tuple[ir.Field, tuple[object, ...]]] = {}  # id -> (field, key)


def _field_key(field: ir.Field) -> tuple[object, ...]:
    """Return what of ``field`` its column definition and CHECK depend on in every dialect.

    The column's key adds the doc (MySQL comments) and the dialect of a ``Default("sql")``
    (``_column_sql``). Values are keyed with their types (``value_key``): ``1``, ``1.0`` and
    ``True`` are equal in Python but render differently (``DEFAULT 1.0``).
    """
    known = _FIELD_KEYS.get(id(field))
    if known is not None and known[0] is field:
        return known[1]
    ftype = field.type
    default = field.default
    key = (
        field.column,
        field.nullable,
        None if default is None else (default.kind, value_key(default.value)),
        value_key(field.constraints),
        _TYPE_KEYS[type(ftype)](ftype) if type(ftype) in _TYPE_KEYS else value_key(ftype),
    )
    if len(_FIELD_KEYS) >= _PART_SQL_LIMIT:
        _FIELD_KEYS.clear()
    _FIELD_KEYS[id(field)] = (field, key)  # holding the field keeps its id from reuse
    return key


def _part_sql(key: tuple[object, ...], build: Callable[[], exp.Expr | None]) -> str:
    text = _PART_SQL.get(key)
    if text is None:
        node = build()
        text = "" if node is None else render(node, str(key[0]))
        if len(_PART_SQL) >= _PART_SQL_LIMIT:  # a long-lived process meets many schemas
            _PART_SQL.clear()
        _PART_SQL[key] = text
    return text


def _column_sql(
    entity: ir.Entity,
    field: ir.Field,
    dialect: str,
    types: dict[str, ColumnType],
    identity: ir.Field | None,
) -> str:
    """Return the rendered column definition of ``field`` (see ``column_definition``)."""
    doc = field.doc if dialect == "mysql" else None  # only MySQL comments columns inline
    role: object = None
    if identity is field:
        role = ("identity", _identity_problem(entity, field, dialect) is None)
    elif field.default is not None and field.default.kind == ir.Default.SQL:
        role = ("sql default", sql_default_dialect(field, entity))
    return _part_sql(
        (dialect, "column", *_field_key(field), types[field.name], role, doc),
        lambda: column_definition(entity, field, dialect, types),
    )


def _check_sql(entity: ir.Entity, dialect: str, types: dict[str, ColumnType]) -> list[str]:
    """Return the rendered CHECK constraints of ``entity`` (see ``table_checks``)."""
    skip = _unchecked_columns(entity, dialect)
    out: list[str] = []
    for field in entity.fields:
        if field.name in skip:
            continue
        ctype = types[field.name]
        condition = _part_sql(
            (dialect, "check", *_field_key(field), ctype),
            functools.partial(field_checks, field, ctype, dialect),
        )
        if condition:
            name = quote(derived_name("ck", entity.table, (field.column,)), dialect)
            out.append(f"CONSTRAINT {name} CHECK ({condition})")
    out.extend(render(node, dialect) for node in _source_checks(entity, dialect))
    return out


def create_table(
    entity: ir.Entity,
    dialect: str,
    *,
    schema: ir.Schema | None = None,
    foreign_keys_inline: Sequence[ForeignKey] | None = None,
) -> str:
    """Return the ``CREATE TABLE`` statement of ``entity`` in ``dialect``.

    ``schema`` lets foreign keys name the referenced table's primary key when the source
    left it implicit. ``foreign_keys_inline`` limits the foreign keys declared in the table
    (all by default); the others can be added later with ``add_foreign_key``.
    """
    dialect = check_dialect(dialect)
    types = plan_types(entity, dialect, schema=schema)
    if dialect == "mysql":
        _check_mysql_keys(entity, types)
    fks = foreign_keys(entity) if foreign_keys_inline is None else tuple(foreign_keys_inline)
    identity = identity_field(entity)
    items = [_column_sql(entity, f, dialect, types, identity) for f in entity.fields]
    keys: list[exp.Expr] = [*table_primary_key(entity, dialect), *table_uniques(entity, dialect)]
    keys.extend(_foreign_key(entity, fk, dialect, schema) for fk in fks)
    items.extend(render(node, dialect) for node in keys)
    items.extend(_check_sql(entity, dialect, types))
    head = "CREATE TABLE " + quote(entity.table, dialect, entity.location)
    tail = ""
    if dialect == "mysql":
        options: list[exp.Expr] = [o.copy() for o in _MYSQL_TABLE_OPTIONS]
        if entity.doc:
            text = _comment(entity.doc, dialect, "table")
            options.append(exp.SchemaCommentProperty(this=exp.Literal.string(text)))
        tail = " " + render(exp.Properties(expressions=options), dialect)
    return _layout(head, items, tail)


@dataclass(frozen=True, slots=True)
class _NameOwners:
    """Which tables use each (case-folded) table or index name of one schema."""

    schema: ir.Schema
    tables: frozenset[str]
    indexes: dict[str, frozenset[str]]


_name_owners: list[_NameOwners] = []  # the last schema's, computed once for all its tables


def _owners(schema: ir.Schema) -> _NameOwners:
    if _name_owners and _name_owners[0].schema is schema:
        return _name_owners[0]
    indexes: dict[str, set[str]] = {}
    for other in schema.entities:
        for index in other.indexes:
            if index.name:
                indexes.setdefault(index.name.casefold(), set()).add(other.table)
    owners = _NameOwners(
        schema,
        frozenset(e.table.casefold() for e in schema.entities),
        {name: frozenset(tables) for name, tables in indexes.items()},
    )
    _name_owners[:] = [owners]
    return owners


def _name_taken(schema: ir.Schema | None, entity: ir.Entity, name: str) -> bool:
    """Say whether a table, or an index of another table, already uses ``name``."""
    if schema is None:
        return False
    owners = _owners(schema)
    key = name.casefold()
    return key in owners.tables or bool(owners.indexes.get(key, frozenset()) - {entity.table})


def create_indexes(
    entity: ir.Entity, dialect: str, *, schema: ir.Schema | None = None
) -> list[str]:
    """Return a ``CREATE [UNIQUE] INDEX`` statement for every index of ``entity``.

    MySQL scopes index names to their table; SQLite and PostgreSQL to the whole schema. With
    ``schema``, an index name another table also uses (MySQL sources do that) is prefixed
    with its table name in those two dialects.
    """
    dialect = check_dialect(dialect)
    out: list[str] = []
    for index in entity.indexes:
        fields = resolve_fields(entity, index.columns, f"index {index.name}")
        name = index.name or derived_name("ix", entity.table, tuple(f.column for f in fields))
        if dialect != "mysql" and _name_taken(schema, entity, name):
            name = derived_name(entity.table, name)
        node = exp.Create(
            kind="INDEX",
            unique=index.unique,
            this=exp.Index(
                this=identifier(name, dialect, entity.location),
                table=table(entity.table, dialect, entity.location),
                params=exp.IndexParameters(
                    columns=[exp.column(identifier(f.column, dialect)) for f in fields]
                ),
            ),
        )
        out.append(render(node, dialect))
    return out


def comment_statements(entity: ir.Entity, dialect: str) -> list[str]:
    """Return the statements that attach docs as comments (``COMMENT ON`` in PostgreSQL).

    MySQL takes comments inside ``CREATE TABLE`` and SQLite has none, so both get ``[]``.
    """
    if check_dialect(dialect) != "postgres":
        return []
    target = table(entity.table, dialect, entity.location)
    out: list[str] = []
    if entity.doc:
        node = exp.Comment(this=target, kind="TABLE", expression=exp.Literal.string(entity.doc))
        out.append(render(node, "postgres"))
    for field in entity.fields:
        if field.doc:
            column = exp.Column(
                this=identifier(field.column, dialect),
                table=table(entity.table, dialect, entity.location).this,
            )
            node = exp.Comment(this=column, kind="COLUMN", expression=exp.Literal.string(field.doc))
            out.append(render(node, "postgres"))
    return out


def ddl(entity: ir.Entity, dialect: str, *, schema: ir.Schema | None = None) -> tuple[str, ...]:
    """Return ``CREATE TABLE``, then ``CREATE INDEX`` statements, then comment statements."""
    return (
        create_table(entity, dialect, schema=schema),
        *create_indexes(entity, dialect, schema=schema),
        *comment_statements(entity, dialect),
    )


def add_foreign_key(
    entity: ir.Entity, fk: ForeignKey, dialect: str, *, schema: ir.Schema | None = None
) -> str:
    """Return ``ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY`` (PostgreSQL and MySQL only).

    SQLite cannot add a constraint to an existing table: declare its foreign keys in
    ``CREATE TABLE`` (SQLite accepts references to tables created later).
    """
    dialect = check_dialect(dialect)
    if dialect == "sqlite":
        raise ir.SourceError(
            entity.location,
            "SQLite cannot add a foreign key to an existing table",
            hint="declare it in CREATE TABLE",
        )
    node = exp.Alter(
        this=table(entity.table, dialect, entity.location),
        kind="TABLE",
        actions=[exp.AddConstraint(expressions=[_foreign_key(entity, fk, dialect, schema)])],
    )
    return node.sql(dialect=dialect)


def select_statement(entity: ir.Entity, dialect: str) -> str:
    """Return ``SELECT <every column in field order> FROM <table> ORDER BY <primary key>``."""
    dialect = check_dialect(dialect)
    columns = [exp.column(identifier(f.column, dialect)) for f in entity.fields]
    query = exp.select(*columns).from_(table(entity.table, dialect, entity.location))
    key = resolve_fields(entity, entity.primary_key, "primary key")
    if key:
        query = query.order_by(*[exp.column(identifier(f.column, dialect)) for f in key])
    return query.sql(dialect=dialect)
