"""Read the statements of one DDL file in one dialect into table drafts.

``DialectReading`` walks the statements: ``CREATE TABLE``, ``CREATE TYPE ... AS ENUM`` and
``CREATE DOMAIN`` are read in order (later tables use earlier types); ``ALTER TABLE``,
``CREATE INDEX`` and ``COMMENT ON`` are applied after every table is known. Everything else
is skipped with one warning. sqlglot parses single statements; this module maps its syntax
trees to the drafts of ``ddl_table``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from sqlglot import exp

from persist_tool import ir, naming
from persist_tool.readers.base import Diagnostic
from persist_tool.readers.ddl_columns import TableSyntax
from persist_tool.readers.ddl_lex import Statement
from persist_tool.readers.ddl_parse import (
    Kind,
    ParseProblem,
    classify,
    column_names,
    ident_name,
    node_offset,
    parse_statement,
)
from persist_tool.readers.ddl_source import (
    ColumnItem,
    HeaderProblem,
    PersistHeader,
    Source,
    is_persist_comment,
    leading_doc,
    parse_persist_header,
    scan_column_items,
)
from persist_tool.readers.ddl_table import DdlProblem, IndexDraft, TableDraft
from persist_tool.readers.ddl_types import TypeProblem, TypeSpec, map_type

__all__ = ["DialectReading"]


# --------------------------------------------------------------------------- the reading


class DialectReading(TableSyntax):
    """Read the statements of a file in one dialect into table drafts."""

    def __init__(self, source: Source, dialect: str) -> None:
        self.source = source
        self.dialect = dialect
        self.tables: dict[str, TableDraft] = {}
        self.user_types: dict[str, TypeSpec] = {}
        self.warnings: list[Diagnostic] = []
        self._deferred: list[Callable[[], None]] = []
        self._statement: Statement | None = None

    # -- entry point -------------------------------------------------------------------

    def read(self, statements: list[Statement]) -> None:
        """Read every statement (``DdlProblem``/``ParseProblem`` on user mistakes)."""
        for statement in statements:
            self._statement = statement
            kind = classify(statement)
            self._check_headers(statement, kind)
            handler = self._HANDLERS[kind.kind]
            handler(self, statement, kind)
        for action in self._deferred:
            action()
        self._check_references()

    def _check_headers(self, statement: Statement, kind: Kind) -> None:
        headers = [t for t in statement.leading if is_persist_comment(t)]
        if headers and kind.kind != "table":
            raise DdlProblem(
                headers[0].start,
                f"-- persist: comment before {kind.label}, not before a CREATE TABLE",
                "put the comment on the line right above the CREATE TABLE it describes",
            )
        if len(headers) > 1:
            raise DdlProblem(headers[1].start, "two -- persist: comments for one table")

    def warn(self, offset: int, message: str) -> None:
        """Record a warning at an offset."""
        self.warnings.append(Diagnostic(self.source.location(offset), message))

    def parse(self, statement: Statement) -> exp.Expression:
        """Parse a statement in this reading's dialect."""
        sql = self.source.text[statement.start : statement.end]
        return parse_statement(self.source, sql, statement.start, self.dialect)

    # -- skipped statements -----------------------------------------------------------

    def _skip(self, statement: Statement, kind: Kind) -> None:
        head = " ".join(t.text for t in statement.words[:4] if t.kind != "space")
        self.warn(
            statement.start,
            f"skipped {kind.label} statement ({head} ...): it defines no table",
        )

    def _unknown(self, statement: Statement, kind: Kind) -> None:
        raise DdlProblem(
            statement.start,
            f"unrecognised statement {kind.label.strip()!r}",
            "a DDL source holds CREATE TABLE / CREATE INDEX / ALTER TABLE / COMMENT ON "
            "statements; check the spelling",
        )

    # -- CREATE TABLE -----------------------------------------------------------------

    def _table(self, statement: Statement, kind: Kind) -> None:
        if kind.temporary:
            self.warn(
                statement.start,
                "skipped CREATE TEMPORARY TABLE: temporary tables hold no entities",
            )
            return
        tree = self._parse_table(statement)
        schema = tree.this
        if not isinstance(schema, exp.Schema) or not isinstance(schema.this, exp.Table):
            raise DdlProblem(
                statement.start,
                "CREATE TABLE without a column list cannot be read",
                "list the columns: CREATE TABLE name (column TYPE, ...)",
            )
        base = statement.start
        table = schema.this
        name = table.name
        name_offset = node_offset(table.this, base)
        key = name.casefold()
        if key in self.tables:
            raise DdlProblem(
                name_offset,
                f"duplicate table {name!r}",
                f"it is already created at {self.tables[key].location}",
            )
        draft = TableDraft(
            table=name,
            offset=name_offset,
            location=self.source.location(name_offset),
            sql_schema=table.db or None,
            doc=leading_doc(statement.leading),
        )
        header = self._header(statement)
        if header is not None:
            draft.persist_name, draft.persist_version = (
                header.name,
                header.schema_version,
            )
        items = scan_column_items(self.source.text, statement, name_offset + 1)
        self._properties(draft, tree, base)
        for node in schema.expressions:
            if isinstance(node, exp.ColumnDef):
                self._column(draft, node, base, items, statement)
            else:
                self._table_constraint(draft, node, base)
        self.tables[key] = draft

    def _parse_table(self, statement: Statement) -> exp.Expression:
        try:
            tree = self.parse(statement)
        except ParseProblem:
            if self.dialect != "sqlite":
                raise
            # SQLite accepts any run of words as a type name (``BLOB SUB_TYPE TEXT``);
            # sqlglot does not. Join such names with underscores (same length, so offsets
            # hold) and parse again; the type mapper applies SQLite's affinity rules.
            sql = self._join_sqlite_type_words(statement)
            tree = parse_statement(self.source, sql, statement.start, self.dialect)
        if not isinstance(tree, exp.Create):
            raise DdlProblem(statement.start, "cannot read this CREATE TABLE statement")
        return tree

    def _join_sqlite_type_words(self, statement: Statement) -> str:
        text = self.source.text
        sql = list(text[statement.start : statement.end])
        items = scan_column_items(text, statement, statement.start)
        for item in items.values():
            words = [t for t in item.type_tokens if t.kind == "word"]
            plain = [t for t in item.type_tokens if t.kind != "punct"]
            if len(words) < 2 or len(plain) != len(words):
                continue
            stop = next((t.start for t in item.type_tokens if t.kind == "punct"), words[-1].end)
            for index in range(words[0].start, min(stop, words[-1].end)):
                if sql[index - statement.start].isspace():
                    sql[index - statement.start] = "_"
        return "".join(sql)

    def _header(self, statement: Statement) -> PersistHeader | None:
        for token in statement.leading:
            if is_persist_comment(token):
                try:
                    return parse_persist_header(token)
                except HeaderProblem as problem:
                    raise DdlProblem(problem.offset, problem.message, problem.hint) from None
        return None

    def _properties(self, draft: TableDraft, tree: exp.Expression, base: int) -> None:
        properties = tree.args.get("properties")
        if not isinstance(properties, exp.Properties):
            return
        options: list[str] = []
        for prop in properties.expressions:
            if isinstance(prop, exp.SchemaCommentProperty):
                draft.doc = str(prop.this.name) if prop.this is not None else draft.doc
            elif isinstance(prop, exp.InheritsProperty):
                parents = [t.name for t in prop.expressions if isinstance(t, exp.Table)]
                for parent in parents:
                    self._inherit(draft, parent, node_offset(prop, base))
                draft.extra["inherits"] = parents
            else:
                options.append(prop.sql(dialect=self.dialect))
        if options:
            draft.extra["table_options"] = options

    def _inherit(self, draft: TableDraft, parent_name: str, offset: int) -> None:
        parent = self.tables.get(parent_name.casefold())
        if parent is None:
            raise DdlProblem(offset, f"INHERITS names unknown table {parent_name!r}")
        for column in parent.columns:
            draft.add_column(
                replace(
                    column,
                    bounds=dict(column.bounds),
                    extra={**column.extra, "inherited_from": parent.table},
                )
            )

    # -- CREATE TYPE / DOMAIN --------------------------------------------------------------

    def _type(self, statement: Statement, kind: Kind) -> None:
        tree = self.parse(statement)
        definition = tree.args.get("expression")
        target = tree.this
        if (
            isinstance(tree, exp.Create)
            and isinstance(definition, exp.DataType)
            and definition.this == exp.DataType.Type.ENUM
            and isinstance(target, exp.Table)
        ):
            try:
                spec = map_type(definition, "ENUM", self.dialect, {})
            except TypeProblem as problem:
                raise DdlProblem(statement.start, problem.message, problem.hint) from None
            type_name = target.name
            assert isinstance(spec.type, ir.EnumType)
            enum_name = naming.class_name(type_name).rstrip("_") or "Enum"
            enum_type = ir.EnumType(enum_name, spec.type.values)
            self.user_types[type_name.lower()] = TypeSpec(enum_type, extra={"sql_enum": type_name})
            return
        self._skip(statement, Kind("skip", "CREATE TYPE"))

    def _domain(self, statement: Statement, kind: Kind) -> None:
        # sqlglot has no syntax tree for CREATE DOMAIN; read it as a one-column table.
        words = statement.words
        index = next(i for i, t in enumerate(words) if t.is_word("DOMAIN"))
        if index + 2 > len(words):
            raise DdlProblem(statement.start, "CREATE DOMAIN without a name and type")
        name_token = words[index + 1]
        rest = index + 2
        if rest < len(words) and words[rest].is_word("AS"):
            rest += 1
        if rest >= len(words):
            raise DdlProblem(name_token.start, "CREATE DOMAIN without a type")
        text = self.source.text
        body = text[words[rest].start : statement.end]
        body = re.sub(r"\bVALUE\b", "value", body, flags=re.IGNORECASE)
        sql = f"CREATE TABLE d (value {body})"
        tree = parse_statement(self.source, sql, words[rest].start, self.dialect)
        if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
            raise DdlProblem(statement.start, "cannot read this CREATE DOMAIN")
        column_def = tree.this.expressions[0]
        draft = TableDraft("domain", statement.start, self.source.location(statement.start))
        type_text = re.sub(r"\s+", " ", body.split(" CONSTRAINT ")[0]).strip()
        item = ColumnItem(name_token, type_text=type_text, type_start=words[rest].start)
        fake = Statement(statement.start, statement.end, [])
        self._column(
            draft,
            column_def,
            statement.start,
            {column_def.this.meta.get("start", -1) + statement.start: item},
            fake,
        )
        column = draft.columns[0]
        column.sql_type = type_text.split()[0] if type_text else ""
        bounds = dict(column.spec.constraints)
        bounds.update(column.bounds)
        domain_name = name_token.text.strip('"')
        self.user_types[domain_name.lower()] = TypeSpec(
            column.field_type(""),
            bounds,
            {"sql_domain": domain_name},
            column.auto_increment,
            False if not column.nullable else None,
            column.default,
        )
        if draft.checks:
            self.warn(
                statement.start,
                f"domain {domain_name} has CHECKs persist-tool cannot express; "
                "they are not carried to the columns of this type",
            )

    # -- deferred statements ----------------------------------------------------------

    def _defer_index(self, statement: Statement, kind: Kind) -> None:
        tree = self.parse(statement)
        self._deferred.append(lambda: self._index(statement, tree))

    def _index(self, statement: Statement, tree: exp.Expression) -> None:
        base = statement.start
        index = tree.this
        if not isinstance(index, exp.Index):
            raise DdlProblem(statement.start, "cannot read this CREATE INDEX")
        table = index.args.get("table")
        draft = self._table_for(table, base, "CREATE INDEX")
        params = index.args.get("params")
        columns_nodes = (
            params.args.get("columns") if isinstance(params, exp.IndexParameters) else None
        )
        columns_nodes = columns_nodes or index.expressions
        try:
            cols = column_names(list(columns_nodes or []), base)
        except DdlProblem:
            self.warn(
                base,
                "skipped an index over expressions: persist-tool records indexes over columns only",
            )
            draft.extra.setdefault("expression_indexes", []).append(tree.sql(dialect=self.dialect))
            return
        if not cols:
            raise DdlProblem(base, "CREATE INDEX without columns")
        columns = [c for c, _ in cols]
        name = ident_name(index.this) or f"{draft.table}_{'_'.join(columns)}_idx"
        options: dict[str, Any] = {}
        if isinstance(params, exp.IndexParameters):
            if params.args.get("using") is not None:
                options["using"] = params.args["using"].sql(dialect=self.dialect)
            if params.args.get("where") is not None:
                options["where"] = params.args["where"].this.sql(dialect=self.dialect)
        descending = [
            n.this.name
            for n in columns_nodes or []
            if isinstance(n, exp.Ordered) and n.args.get("desc")
        ]
        if descending:
            options["descending"] = descending
        offset = node_offset(index.this, base) if index.this is not None else base
        draft.add_index(
            IndexDraft(
                name,
                columns,
                bool(tree.args.get("unique")),
                offset,
                options,
                [o for _, o in cols],
            )
        )

    def _table_for(self, table: exp.Expression | None, base: int, what: str) -> TableDraft:
        if not isinstance(table, exp.Table):
            raise DdlProblem(base, f"{what} without a table name")
        draft = self.tables.get(table.name.casefold())
        if draft is None:
            known = ", ".join(d.table for d in self.tables.values()) or "none"
            raise DdlProblem(
                node_offset(table, base),
                f"{what} on unknown table {table.name!r}",
                f"tables created in this file: {known}",
            )
        return draft

    def _defer_alter(self, statement: Statement, kind: Kind) -> None:
        tree = self.parse(statement)
        self._deferred.append(lambda: self._alter(statement, tree))

    def _alter(self, statement: Statement, tree: exp.Expression) -> None:
        base = statement.start
        if not isinstance(tree, exp.Alter):
            self.warn(
                base,
                f"skipped ALTER TABLE statement ({self._head(statement)} ...): "
                "nothing persist-tool records",
            )
            return
        draft = self._table_for(tree.this, base, "ALTER TABLE")
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.AddConstraint):
                for part in action.expressions:
                    self._table_constraint(draft, part, base)
            elif isinstance(action, exp.ColumnDef):
                item = self._item_at(statement, node_offset(action.this, base))
                (
                    self._column(draft, action, base, {}, statement)
                    if item is None
                    else self._column(draft, action, base, {item.name.start: item}, statement)
                )
            elif isinstance(action, exp.AlterColumn) and self._alter_column(draft, action, base):
                continue
            elif isinstance(action, (exp.AlterColumn, exp.Expression)):
                self.warn(
                    node_offset(action, base),
                    f"ignored ALTER TABLE action: {action.sql(dialect=self.dialect)[:80]}",
                )

    def _alter_column(self, draft: TableDraft, action: exp.AlterColumn, base: int) -> bool:
        column = draft.require(action.name, node_offset(action.this, base), "ALTER COLUMN")
        if action.args.get("default") is not None:
            self._default(column, action.args["default"], None)
            return True
        if action.args.get("drop") and action.args.get("allow_null") is None:
            column.default = None
            column.generated = False
            return True
        if action.args.get("allow_null") is not None and action.args.get("dtype") is None:
            column.nullable = bool(action.args.get("allow_null")) and not action.args.get("drop")
            return True
        return False

    def _defer_comment(self, statement: Statement, kind: Kind) -> None:
        tree = self.parse(statement)
        self._deferred.append(lambda: self._comment(statement, tree))

    def _comment(self, statement: Statement, tree: exp.Expression) -> None:
        base = statement.start
        if not isinstance(tree, exp.Comment):
            self.warn(base, f"skipped COMMENT statement ({self._head(statement)} ...)")
            return
        kind = str(tree.args.get("kind") or "").upper()
        text_node = tree.args.get("expression")
        doc = str(text_node.name) if isinstance(text_node, exp.Literal) else None
        target = tree.this
        if kind == "TABLE":
            self._table_for(target, base, "COMMENT ON TABLE").doc = doc
        elif kind == "COLUMN" and isinstance(target, exp.Column):
            table = exp.Table(this=exp.to_identifier(target.table)) if target.table else None
            if table is not None and isinstance(target.args.get("table"), exp.Identifier):
                table = exp.Table(this=target.args["table"])
            draft = self._table_for(table, base, "COMMENT ON COLUMN")
            draft.require(target.name, node_offset(target.this, base), "COMMENT ON COLUMN").doc = (
                doc
            )
        else:
            self.warn(base, f"skipped COMMENT ON {kind}: only tables and columns have docs")

    @staticmethod
    def _head(statement: Statement) -> str:
        return " ".join(t.text for t in statement.words[:4])

    def _check_references(self) -> None:
        for draft in self.tables.values():
            offsets = draft.extra.pop("_fk_offsets", [])
            for fk, offset in zip(draft.foreign_keys, offsets, strict=False):
                if fk["ref_table"].casefold() not in self.tables:
                    self.warn(
                        offset,
                        f"foreign key of {draft.table!r} references table {fk['ref_table']!r}, "
                        "which this file does not create",
                    )

    _HANDLERS: ClassVar[dict[str, Callable[[DialectReading, Statement, Kind], None]]] = {
        "table": _table,
        "index": _defer_index,
        "type": _type,
        "domain": _domain,
        "alter": _defer_alter,
        "comment": _defer_comment,
        "skip": _skip,
        "unknown": _unknown,
        "trailer": lambda self, statement, kind: None,
    }
