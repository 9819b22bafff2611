"""Read the statements of one DDL file in one dialect into table drafts.

``DialectReading`` walks the statements: ``CREATE TABLE``, ``CREATE TYPE ... AS ENUM`` and
``CREATE DOMAIN`` are read in order (later tables use earlier types); ``ALTER TABLE``,
``CREATE INDEX`` and ``COMMENT ON`` are applied after every table is known. Everything else
is skipped with one warning. sqlglot parses single statements; this module maps its syntax
trees to the drafts of ``ddl_table``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import sqlglot
from sqlglot import exp

from persist_tool import ir
from persist_tool.readers.base import Diagnostic
from persist_tool.readers.ddl_lex import Statement, Token
from persist_tool.readers.ddl_source import (
    ColumnItem,
    HeaderProblem,
    PersistHeader,
    Source,
    describe_column,
    is_persist_comment,
    leading_doc,
    parse_persist_header,
    scan_column_items,
)
from persist_tool.readers.ddl_table import (
    ColumnDraft,
    DdlProblem,
    IndexDraft,
    TableDraft,
    analyse_check,
    apply_check,
)
from persist_tool.readers.ddl_types import TypeProblem, TypeSpec, map_type

__all__ = ["DialectReading", "classify"]


# --------------------------------------------------------------------------- classification

_CREATE_KINDS: dict[str, str] = {
    "TABLE": "table",
    "INDEX": "index",
    "TYPE": "type",
    "DOMAIN": "domain",
    **{
        kind: "skip"
        for kind in (
            "VIEW", "TRIGGER", "FUNCTION", "PROCEDURE", "SEQUENCE", "EXTENSION", "SCHEMA",
            "DATABASE", "ROLE", "USER", "LANGUAGE", "AGGREGATE", "RULE", "POLICY",
            "PUBLICATION", "SUBSCRIPTION", "SERVER", "TABLESPACE", "COLLATION", "CAST",
            "OPERATOR", "CONVERSION", "EVENT", "PACKAGE", "SYNONYM", "MATERIALIZED",
            "STATISTICS", "LOGIN", "ASSEMBLY", "TEXT", "FOREIGN", "ACCESS", "DIRECTORY",
            "CONTEXT", "PROFILE", "ALIAS", "VARIABLE", "MASK", "PERMISSION", "NICKNAME",
            "BUFFERPOOL", "TRANSFORM", "GROUP", "STAGE", "STREAM", "TASK", "WAREHOUSE",
            "MACRO", "SECRET", "LIBRARY", "JAVA", "CLUSTER", "DIMENSION", "OUTLINE",
        )
    },
}  # fmt: skip
"""The object kind after CREATE -> how the statement is read."""

_SKIPPED_FIRST_WORDS = frozenset(
    {
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "WITH", "VALUES",
        "SET", "RESET", "USE", "DROP", "TRUNCATE", "GRANT", "REVOKE", "DENY", "BEGIN", "START",
        "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "LOCK", "UNLOCK", "ANALYZE",
        "ANALYSE", "VACUUM", "EXPLAIN", "PRAGMA", "ATTACH", "DETACH", "REINDEX", "CALL", "EXEC",
        "EXECUTE", "DECLARE", "IF", "DO", "COPY", "CONNECT", "DISCONNECT", "RENAME", "LOAD",
        "SHOW", "DESCRIBE", "DESC", "PRINT", "FLUSH", "OPTIMIZE", "CHECKPOINT", "CLUSTER",
        "DISCARD", "LISTEN", "NOTIFY", "UNLISTEN", "PREPARE", "DEALLOCATE", "REFRESH",
        "SECURITY", "IMPORT", "EXPORT", "SPOOL", "PROMPT", "WHENEVER", "DEFINE", "UNDEFINE",
        "EXIT", "QUIT", "RAISERROR", "THROW", "WHILE", "RETURN", "AUDIT", "NOAUDIT", "PURGE",
        "FLASHBACK", "ASSOCIATE", "DISASSOCIATE", "KILL", "CHANGE", "CHECK", "CHECKSUM",
        "REPAIR", "INSTALL", "UNINSTALL", "HANDLER", "HELP", "SHUTDOWN", "RESTART", "CACHE",
        "PURGE", "XA", "CLOSE", "FETCH", "OPEN", "MOVE", "ABORT", "LABEL", "OWNER", "REASSIGN",
        "SECURITY", "CONNECT", "TSQL", "DBCC", "BACKUP", "RESTORE", "BULK", "WAITFOR", "GO",
    }
)  # fmt: skip
"""First words of statements that define no table and are skipped with a warning."""

_ALTER_SKIPPED = frozenset(
    {"DATABASE", "SCHEMA", "SEQUENCE", "VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "TYPE",
     "DOMAIN", "INDEX", "ROLE", "USER", "AGGREGATE", "PROCEDURAL", "LANGUAGE", "EXTENSION",
     "SESSION", "SYSTEM", "DEFAULT", "MATERIALIZED", "EVENT", "SERVER", "TABLESPACE",
     "PUBLICATION", "SUBSCRIPTION", "POLICY", "RULE", "OPERATOR", "COLLATION", "STATISTICS",
     "LOGIN", "AUTHORIZATION", "PACKAGE", "SYNONYM", "INSTANCE", "LARGE", "FOREIGN", "TEXT",
     "CONVERSION", "GROUP", "OWNED", "EVENT"}
)  # fmt: skip

_NOISE = frozenset(
    {"OR", "REPLACE", "TEMPORARY", "TEMP", "GLOBAL", "LOCAL", "UNLOGGED", "UNIQUE",
     "CLUSTERED", "NONCLUSTERED", "BITMAP", "FULLTEXT", "SPATIAL", "IF", "NOT", "EXISTS",
     "DEFINER", "ALGORITHM", "SQL", "SECURITY", "INVOKER", "RECURSIVE", "FORCE", "NO",
     "EDITIONABLE", "NONEDITIONABLE", "CONCURRENTLY", "PROCEDURAL", "TRUSTED", "ONLINE",
     "COLUMNSTORE", "VOLATILE", "MULTISET", "SET", "TRANSIENT", "EXTERNAL", "PRIVATE",
     "SHARDED", "DUPLICATED", "IMMUTABLE", "BLOCKCHAIN", "CONSTRAINT", "AGGREGATE"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Kind:
    """How a statement is read: ``table``, ``index``, ``type``, ``domain``, ``alter``,
    ``comment``, ``skip`` or ``unknown``; ``label`` names it in messages."""

    kind: str
    label: str
    temporary: bool = False


def classify(statement: Statement) -> Kind:
    """Decide how to read a statement from its first words."""
    words = statement.words
    first = words[0].upper if words[0].kind == "word" else words[0].text
    if statement.kind == "directive":
        return Kind("skip", f"client command {words[0].text.split()[0]}")
    if first == "CREATE":
        temporary = False
        previous: Token | None = None
        for token in words[1:16]:
            if previous is not None and previous.kind == "punct" and previous.text == "=":
                previous = token
                continue
            previous = token
            if token.kind != "word":
                continue
            upper = token.upper
            if upper in ("TEMPORARY", "TEMP"):
                temporary = True
            if upper in _CREATE_KINDS:
                label = "CREATE " + ("MATERIALIZED VIEW" if upper == "MATERIALIZED" else upper)
                return Kind(_CREATE_KINDS[upper], label, temporary)
            if upper not in _NOISE:
                break
        return Kind("unknown", "CREATE " + (words[1].text if len(words) > 1 else ""))
    if first == "ALTER":
        second = words[1].upper if len(words) > 1 and words[1].kind == "word" else ""
        if second == "TABLE":
            return Kind("alter", "ALTER TABLE")
        if second in _ALTER_SKIPPED:
            return Kind("skip", f"ALTER {second}")
        return Kind("unknown", f"ALTER {words[1].text if len(words) > 1 else ''}")
    if first == "COMMENT":
        return Kind("comment", "COMMENT ON")
    if first in _SKIPPED_FIRST_WORDS:
        return Kind("skip", first)
    return Kind("unknown", words[0].text)


# --------------------------------------------------------------------------- parsing


class ParseProblem(Exception):
    """sqlglot could not parse a statement; ``offset`` is where (absolute)."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@contextlib.contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """Silence sqlglot's 'falling back to Command' log lines; the reader reports instead."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def parse_statement(source: Source, sql: str, start: int, dialect: str) -> exp.Expression:
    """Parse one statement's text (which starts at ``start`` in the source)."""
    try:
        with _quiet_sqlglot():
            trees = sqlglot.parse(sql, read=dialect)
    except sqlglot.errors.ParseError as error:
        first = error.errors[0] if error.errors else {}
        offset = start
        line, col = first.get("line"), first.get("col")
        if isinstance(line, int) and isinstance(col, int):
            base_line, base_col = source.position(start)
            if line == 1:
                col += base_col - 1
            offset = source.offset(base_line + line - 1, col)
            highlight = first.get("highlight")
            if isinstance(highlight, str) and highlight:
                offset = max(start, offset - len(highlight) + 1)
        description = first.get("description") or str(error).splitlines()[0]
        raise ParseProblem(offset, str(description)) from None
    except sqlglot.errors.TokenError as error:
        raise ParseProblem(start, f"cannot tokenise: {error}") from None
    except (RecursionError, Exception) as error:  # noqa: BLE001 - never let sqlglot crash us
        raise ParseProblem(start, f"{type(error).__name__}: {error}") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise ParseProblem(start, "expected exactly one statement here")
    return trees[0]


# --------------------------------------------------------------------------- helpers


def _offset(node: exp.Expression | None, base: int) -> int:
    """Return the absolute offset of the first identifier (or token) inside ``node``."""
    if node is None:
        return base
    for sub in node.walk():
        meta = sub.meta if isinstance(sub, exp.Expression) else None
        if meta and isinstance(meta.get("start"), int):
            return base + int(meta["start"])
    return base


def _names(nodes: list[Any], base: int) -> list[tuple[str, int]]:
    """Return (column name, offset) for the column references of a constraint or index."""
    out: list[tuple[str, int]] = []
    for node in nodes:
        target = node
        if isinstance(target, exp.Ordered):
            target = target.this
        if isinstance(target, exp.ColumnPrefix):
            target = target.this
        if isinstance(target, exp.Column) and not target.table:
            target = target.this
        if isinstance(target, exp.Identifier):
            out.append((target.name, _offset(target, base)))
            continue
        if isinstance(target, exp.Var):
            out.append((target.name, base))
            continue
        raise DdlProblem(
            _offset(node, base),
            f"expression {node.sql()!r} where a column name is expected",
            "persist-tool records constraints and indexes over plain columns",
        )
    return out


def _ident_name(node: exp.Expression | None) -> str | None:
    if isinstance(node, exp.Identifier):
        return str(node.name)
    if isinstance(node, exp.Expression) and node.name:
        return str(node.name)
    return None


_FK_ACTION = re.compile(
    r"ON\s+(DELETE|UPDATE)\s+(CASCADE|SET\s+NULL|SET\s+DEFAULT|RESTRICT|NO\s+ACTION)",
    re.IGNORECASE,
)

_PG_SPECIAL_TIMES = frozenset({"now", "today", "tomorrow", "yesterday", "epoch", "infinity",
                               "-infinity", "allballs"})  # fmt: skip
_TIME_TYPES = (ir.DateType, ir.DateTimeType, ir.TimeType)


# --------------------------------------------------------------------------- the reading


class DialectReading:
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
        self.warn(statement.start, f"skipped {kind.label} statement ({head} ...): it defines no table")

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
            self.warn(statement.start, "skipped CREATE TEMPORARY TABLE: temporary tables hold no entities")
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
        name_offset = _offset(table.this, base)
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
            draft.persist_name, draft.persist_version = header.name, header.schema_version
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
                    self._inherit(draft, parent, _offset(prop, base))
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

    # -- columns ----------------------------------------------------------------------

    def _column(
        self,
        draft: TableDraft,
        node: exp.ColumnDef,
        base: int,
        items: dict[int, ColumnItem],
        statement: Statement,
    ) -> None:
        ident = node.this
        offset = _offset(ident, base)
        item = items.get(offset) or self._item_at(statement, offset)
        type_node = node.args.get("kind")
        if type_node is None:
            if self.dialect != "sqlite":
                raise DdlProblem(offset, f"column {node.name!r} has no type")
            spec = TypeSpec(ir.StringType() if False else ir.JsonType({}))
            sql_type = ""
        else:
            sql_type = item.type_text if item else type_node.sql(dialect=self.dialect)
            try:
                spec = map_type(type_node, sql_type, self.dialect, self.user_types)
            except TypeProblem as problem:
                where = item.type_start if item else offset
                raise DdlProblem(where, problem.message, problem.hint) from None
        column = ColumnDraft(
            column=node.name,
            quoted=bool(isinstance(ident, exp.Identifier) and ident.quoted),
            offset=offset,
            spec=spec,
            sql_type=sql_type,
            doc=item.doc if item else None,
            location=self.source.location(offset),
        )
        if spec.auto_increment:
            column.generated, column.auto_increment, column.nullable = True, spec.auto_increment, False
        if spec.nullable is False:
            column.nullable = False
        if spec.default is not None:
            column.default = spec.default
            column.default_offset = offset
            column.generated = column.generated or spec.default[0] == ir.Default.SQL
        draft.add_column(column)
        for constraint in node.args.get("constraints") or []:
            self._column_constraint(draft, column, constraint, base, item)

    def _item_at(self, statement: Statement, offset: int) -> ColumnItem | None:
        words = statement.words
        for index, token in enumerate(words):
            if token.start == offset:
                depth = 0
                end = index
                while end < len(words):
                    t = words[end]
                    if t.kind == "punct" and t.text in "([":
                        depth += 1
                    elif t.kind == "punct" and t.text in ")]":
                        depth -= 1
                    elif depth == 0 and t.kind == "punct" and t.text == ",":
                        break
                    end += 1
                return describe_column(self.source.text, words[index:end])
        return None

    def _column_constraint(
        self,
        draft: TableDraft,
        column: ColumnDraft,
        constraint: exp.Expression,
        base: int,
        item: ColumnItem | None,
    ) -> None:
        kind = constraint.args.get("kind") if isinstance(constraint, exp.ColumnConstraint) else constraint
        name = _ident_name(constraint.this) if isinstance(constraint, exp.ColumnConstraint) else None
        offset = column.offset
        if isinstance(kind, exp.NotNullColumnConstraint):
            column.nullable = bool(kind.args.get("allow_null"))
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            draft.set_primary_key([column.column], offset, name)
        elif isinstance(kind, exp.UniqueColumnConstraint):
            draft.add_unique([column.column], offset, name)
        elif isinstance(kind, exp.DefaultColumnConstraint):
            self._default(column, kind.this, item)
        elif isinstance(kind, exp.AutoIncrementColumnConstraint):
            word = "AUTO_INCREMENT" if self.dialect == "mysql" else "AUTOINCREMENT"
            if self.dialect == "tsql":
                word = "IDENTITY"
            column.generated, column.auto_increment, column.nullable = True, word, False
        elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            self._identity(column, kind)
        elif isinstance(kind, exp.ComputedColumnConstraint):
            column.generated = True
            column.default = (ir.Default.SQL, kind.this.sql(dialect=self.dialect))
            column.extra["computed"] = "stored" if kind.args.get("persisted") else "virtual"
        elif isinstance(kind, exp.CheckColumnConstraint):
            self._check(draft, kind.this, base, name, column)
        elif isinstance(kind, exp.Reference):
            self._foreign_key(draft, [(column.column, offset)], kind, name, base)
        elif isinstance(kind, exp.CommentColumnConstraint):
            column.doc = str(kind.this.name) if kind.this is not None else column.doc
        elif isinstance(kind, exp.OnUpdateColumnConstraint):
            column.extra["on_update"] = kind.this.sql(dialect=self.dialect)
        elif isinstance(kind, exp.CollateColumnConstraint):
            column.extra["collate"] = kind.this.name if kind.this is not None else None
        elif isinstance(kind, exp.CharacterSetColumnConstraint):
            column.extra["charset"] = kind.this.name if kind.this is not None else None
        elif isinstance(kind, exp.Expression):
            column.extra.setdefault("sql_constraints", []).append(kind.sql(dialect=self.dialect))

    def _identity(self, column: ColumnDraft, kind: exp.Expression) -> None:
        if kind.args.get("expression") is not None:
            column.generated = True
            column.default = (ir.Default.SQL, kind.args["expression"].sql(dialect=self.dialect))
            column.extra["computed"] = "stored"
            return
        if self.dialect == "tsql" and not re.search(r"GENERATED", self._statement_text(), re.I):
            word = "IDENTITY"
        else:
            word = "GENERATED ALWAYS AS IDENTITY" if kind.this else "GENERATED BY DEFAULT AS IDENTITY"
        column.generated, column.auto_increment, column.nullable = True, word, False

    def _statement_text(self) -> str:
        if self._statement is None:
            return ""
        return self.source.text[self._statement.start : self._statement.end]

    def _default(self, column: ColumnDraft, node: exp.Expression, item: ColumnItem | None) -> None:
        text = item.default_text if item and item.default_text else node.sql(dialect=self.dialect)
        column.default_offset = item.default_start if item and item.default_text else column.offset
        value = node
        while isinstance(value, exp.Paren):
            value = value.this
        literal = self._literal(value)
        if literal is not None and not self._is_special_time(literal[1], column):
            column.default = literal
            return
        column.default = (ir.Default.SQL, text)
        column.generated = True
        if isinstance(value, exp.Anonymous) and value.name.lower() == "nextval":
            column.auto_increment = "SEQUENCE"
            column.nullable = False

    def _literal(self, node: exp.Expression) -> tuple[str, Any] | None:
        if isinstance(node, exp.Null):
            return (ir.Default.LITERAL, None)
        if isinstance(node, exp.Boolean):
            return (ir.Default.LITERAL, bool(node.this))
        if isinstance(node, exp.Literal):
            return (ir.Default.LITERAL, node.this if node.is_string else node.this)
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
            return (ir.Default.LITERAL, "-" + node.this.this)
        if isinstance(node, exp.Cast):
            inner = node.this
            while isinstance(inner, exp.Paren):
                inner = inner.this
            return self._literal(inner)
        return None

    @staticmethod
    def _is_special_time(value: Any, column: ColumnDraft) -> bool:
        return (
            isinstance(value, str)
            and value.strip().lower() in _PG_SPECIAL_TIMES
            and isinstance(column.spec.type, _TIME_TYPES)
        )

    # -- table constraints ------------------------------------------------------------

    def _table_constraint(self, draft: TableDraft, node: exp.Expression, base: int) -> None:
        name: str | None = None
        parts: list[exp.Expression] = [node]
        if isinstance(node, exp.Constraint):
            name = _ident_name(node.this)
            parts = list(node.expressions)
        index = 0
        while index < len(parts):
            part = parts[index]
            index += 1
            if isinstance(part, exp.PrimaryKey):
                cols = _names(part.expressions, base)
                draft.set_primary_key([c for c, _ in cols], _first(cols, base), name)
            elif isinstance(part, exp.PrimaryKeyColumnConstraint | exp.UniqueColumnConstraint) and (
                index < len(parts)
                and isinstance(parts[index], exp.ClusteredColumnConstraint | exp.NonClusteredColumnConstraint)
            ):
                cols = _names(parts[index].this or [], base)
                index += 1
                if isinstance(part, exp.PrimaryKeyColumnConstraint):
                    draft.set_primary_key([c for c, _ in cols], _first(cols, base), name)
                else:
                    draft.add_unique([c for c, _ in cols], _first(cols, base), name)
            elif isinstance(part, exp.UniqueColumnConstraint):
                target = part.this
                columns = target.expressions if isinstance(target, exp.Schema) else []
                if isinstance(target, exp.Schema) and isinstance(target.this, exp.Identifier):
                    name = name or target.this.name
                cols = _names(columns, base)
                if not cols:
                    raise DdlProblem(_offset(part, base), "UNIQUE without columns")
                draft.add_unique([c for c, _ in cols], _first(cols, base), name)
            elif isinstance(part, exp.ForeignKey):
                cols = _names(part.expressions, base)
                self._foreign_key(draft, cols, part.args.get("reference"), name, base)
            elif isinstance(part, exp.CheckColumnConstraint):
                self._check(draft, part.this, base, name, None)
            elif isinstance(part, exp.IndexColumnConstraint):
                self._inline_index(draft, part, base)
            else:
                draft.extra.setdefault("table_constraints", []).append(
                    part.sql(dialect=self.dialect)
                )
                self.warn(_offset(part, base), f"table constraint kept as text only: {part.sql(dialect=self.dialect)[:60]}")

    def _inline_index(self, draft: TableDraft, part: exp.Expression, base: int) -> None:
        cols = _names(part.expressions, base)
        columns = [c for c, _ in cols]
        index_name = _ident_name(part.this) or f"{draft.table}_{'_'.join(columns)}_idx"
        options: dict[str, Any] = {}
        if part.args.get("kind"):
            options["kind"] = str(part.args["kind"])
        prefixes = {
            n.this.name: int(n.expression.this)
            for n in part.expressions
            if isinstance(n, exp.ColumnPrefix) and isinstance(n.expression, exp.Literal)
        }
        if prefixes:
            options["prefix_lengths"] = prefixes
        draft.add_index(IndexDraft(index_name, columns, False, _first(cols, base), options))

    def _foreign_key(
        self,
        draft: TableDraft,
        cols: list[tuple[str, int]],
        reference: exp.Expression | None,
        name: str | None,
        base: int,
    ) -> None:
        if not isinstance(reference, exp.Reference):
            raise DdlProblem(_first(cols, base), "FOREIGN KEY without REFERENCES")
        target = reference.this
        ref_columns: list[str] = []
        if isinstance(target, exp.Schema):
            ref_columns = [n for n, _ in _names(target.expressions, base)]
            target = target.this
        if not isinstance(target, exp.Table):
            raise DdlProblem(_offset(reference, base), "REFERENCES without a table name")
        columns = [draft.require(c, o, "FOREIGN KEY").column for c, o in cols]
        if ref_columns and len(ref_columns) != len(columns):
            raise DdlProblem(
                _offset(reference, base),
                f"FOREIGN KEY has {len(columns)} column(s) but REFERENCES lists {len(ref_columns)}",
            )
        actions: dict[str, str | None] = {"DELETE": None, "UPDATE": None}
        others: list[str] = []
        for option in reference.args.get("options") or []:
            text = str(option)
            matched = False
            for match in _FK_ACTION.finditer(text):
                actions[match.group(1).upper()] = re.sub(r"\s+", " ", match.group(2).upper())
                matched = True
            if not matched:
                others.append(text)
        fk: dict[str, Any] = {
            "columns": columns,
            "ref_table": target.name,
            "ref_columns": ref_columns,
            "on_delete": actions["DELETE"],
            "on_update": actions["UPDATE"],
            "name": name,
        }
        if others:
            fk["options"] = others
        draft.foreign_keys.append(fk)
        draft.extra.setdefault("_fk_offsets", []).append(_offset(target, base))

    def _check(
        self,
        draft: TableDraft,
        condition: exp.Expression,
        base: int,
        name: str | None,
        column: ColumnDraft | None,
    ) -> None:
        facts = analyse_check(condition)
        if facts is not None:
            target = draft.require(facts.column, _offset(condition, base), "CHECK")
            if apply_check(target, facts):
                return
        entry: dict[str, Any] = {"name": name, "sql": condition.sql(dialect=self.dialect)}
        if column is not None:
            entry["column"] = column.column
        draft.checks.append(entry)

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
            from persist_tool import naming

            enum_type = ir.EnumType(naming.class_name(type_name).rstrip("_") or "Enum", spec.type.values)  # type: ignore[attr-defined]
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
        self._column(draft, column_def, statement.start, {column_def.this.meta.get("start", -1) + statement.start: item}, fake)
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
            self.warn(statement.start, f"domain {domain_name} has CHECKs persist-tool cannot express; they are not carried to columns")

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
        columns_nodes = params.args.get("columns") if isinstance(params, exp.IndexParameters) else None
        columns_nodes = columns_nodes or index.expressions
        try:
            cols = _names(list(columns_nodes or []), base)
        except DdlProblem:
            self.warn(base, "skipped an index over expressions: persist-tool records indexes over columns only")
            draft.extra.setdefault("expression_indexes", []).append(tree.sql(dialect=self.dialect))
            return
        if not cols:
            raise DdlProblem(base, "CREATE INDEX without columns")
        columns = [c for c, _ in cols]
        name = _ident_name(index.this) or f"{draft.table}_{'_'.join(columns)}_idx"
        options: dict[str, Any] = {}
        if isinstance(params, exp.IndexParameters):
            if params.args.get("using") is not None:
                options["using"] = params.args["using"].sql(dialect=self.dialect)
            if params.args.get("where") is not None:
                options["where"] = params.args["where"].this.sql(dialect=self.dialect)
        descending = [
            n.this.name for n in columns_nodes or [] if isinstance(n, exp.Ordered) and n.args.get("desc")
        ]
        if descending:
            options["descending"] = descending
        offset = _offset(index.this, base) if index.this is not None else base
        draft.add_index(IndexDraft(name, columns, bool(tree.args.get("unique")), offset, options))

    def _table_for(self, table: exp.Expression | None, base: int, what: str) -> TableDraft:
        if not isinstance(table, exp.Table):
            raise DdlProblem(base, f"{what} without a table name")
        draft = self.tables.get(table.name.casefold())
        if draft is None:
            known = ", ".join(d.table for d in self.tables.values()) or "none"
            raise DdlProblem(
                _offset(table, base),
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
            self.warn(base, f"skipped ALTER TABLE statement ({self._head(statement)} ...): nothing persist-tool records")
            return
        draft = self._table_for(tree.this, base, "ALTER TABLE")
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.AddConstraint):
                for part in action.expressions:
                    self._table_constraint(draft, part, base)
            elif isinstance(action, exp.ColumnDef):
                item = self._item_at(statement, _offset(action.this, base))
                self._column(draft, action, base, {}, statement) if item is None else self._column(
                    draft, action, base, {item.name.start: item}, statement
                )
            elif isinstance(action, exp.AlterColumn) and self._alter_column(draft, action, base):
                continue
            elif isinstance(action, (exp.AlterColumn, exp.Expression)):
                self.warn(_offset(action, base), f"ignored ALTER TABLE action: {action.sql(dialect=self.dialect)[:80]}")

    def _alter_column(self, draft: TableDraft, action: exp.AlterColumn, base: int) -> bool:
        column = draft.require(action.name, _offset(action.this, base), "ALTER COLUMN")
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
            draft.require(target.name, _offset(target.this, base), "COMMENT ON COLUMN").doc = doc
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
                    self.warn(offset, f"foreign key of {draft.table!r} references table {fk['ref_table']!r}, which this file does not create")

    _HANDLERS: dict[str, Callable[[DialectReading, Statement, Kind], None]] = {
        "table": _table,
        "index": _defer_index,
        "type": _type,
        "domain": _domain,
        "alter": _defer_alter,
        "comment": _defer_comment,
        "skip": _skip,
        "unknown": _unknown,
    }


def _first(cols: list[tuple[str, int]], base: int) -> int:
    return cols[0][1] if cols else base
