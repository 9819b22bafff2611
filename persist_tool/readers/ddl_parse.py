"""Classify DDL statements by their first words and parse one statement with sqlglot.

Also small helpers over sqlglot syntax trees shared by the statement readers: absolute
offsets of nodes, column names of constraint and index lists.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from persist_tool.readers.ddl_lex import Statement, Token
from persist_tool.readers.ddl_source import Source
from persist_tool.readers.ddl_table import DdlProblem

__all__ = [
    "Kind",
    "ParseProblem",
    "classify",
    "first_offset",
    "ident_name",
    "column_names",
    "node_offset",
    "parse_statement",
]


# --------------------------------------------------------------------------- classification

# fmt: off
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
}
# fmt: on
"""The object kind after CREATE -> how the statement is read."""

# fmt: off
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
        "XA", "CLOSE", "FETCH", "OPEN", "MOVE", "ABORT", "LABEL", "OWNER", "REASSIGN",
        "TSQL", "DBCC", "BACKUP", "RESTORE", "BULK", "WAITFOR", "GO",
    }
)
# fmt: on
"""First words of statements that define no table and are skipped with a warning."""

# fmt: off
_ALTER_SKIPPED = frozenset(
    {"DATABASE", "SCHEMA", "SEQUENCE", "VIEW", "FUNCTION", "PROCEDURE", "TRIGGER", "TYPE",
     "DOMAIN", "INDEX", "ROLE", "USER", "AGGREGATE", "PROCEDURAL", "LANGUAGE", "EXTENSION",
     "SESSION", "SYSTEM", "DEFAULT", "MATERIALIZED", "EVENT", "SERVER", "TABLESPACE",
     "PUBLICATION", "SUBSCRIPTION", "POLICY", "RULE", "OPERATOR", "COLLATION", "STATISTICS",
     "LOGIN", "AUTHORIZATION", "PACKAGE", "SYNONYM", "INSTANCE", "LARGE", "FOREIGN", "TEXT",
     "CONVERSION", "GROUP", "OWNED"}
)
# fmt: on

# fmt: off
_NOISE = frozenset(
    {"OR", "REPLACE", "TEMPORARY", "TEMP", "GLOBAL", "LOCAL", "UNLOGGED", "UNIQUE",
     "CLUSTERED", "NONCLUSTERED", "BITMAP", "FULLTEXT", "SPATIAL", "IF", "NOT", "EXISTS",
     "DEFINER", "ALGORITHM", "SQL", "SECURITY", "INVOKER", "RECURSIVE", "FORCE", "NO",
     "EDITIONABLE", "NONEDITIONABLE", "CONCURRENTLY", "PROCEDURAL", "TRUSTED", "ONLINE",
     "COLUMNSTORE", "VOLATILE", "MULTISET", "SET", "TRANSIENT", "EXTERNAL", "PRIVATE",
     "SHARDED", "DUPLICATED", "IMMUTABLE", "BLOCKCHAIN", "CONSTRAINT", "AGGREGATE"}
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Kind:
    """How a statement is read: ``table``, ``index``, ``type``, ``domain``, ``alter``,
    ``comment``, ``skip`` or ``unknown``; ``label`` names it in messages."""

    kind: str
    label: str
    temporary: bool = False


def classify(statement: Statement) -> Kind:
    """Decide how to read a statement from its first words."""
    if statement.kind == "trailer":
        return Kind("trailer", "the end of the file")
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
    except Exception as error:
        raise ParseProblem(start, f"{type(error).__name__}: {error}") from None
    found = [t for t in trees if isinstance(t, exp.Expression)]
    if len(found) != 1:
        raise ParseProblem(start, "expected exactly one statement here")
    return found[0]


# --------------------------------------------------------------------------- helpers


def node_offset(node: exp.Expression | None, base: int) -> int:
    """Return the absolute offset of the first identifier (or token) inside ``node``."""
    if node is None:
        return base
    for sub in node.walk():
        meta = sub.meta if isinstance(sub, exp.Expression) else None
        if meta and isinstance(meta.get("start"), int):
            return base + int(meta["start"])
    return base


def column_names(nodes: list[Any], base: int) -> list[tuple[str, int]]:
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
            out.append((target.name, node_offset(target, base)))
            continue
        if isinstance(target, exp.Var):
            out.append((target.name, base))
            continue
        raise DdlProblem(
            node_offset(node, base),
            f"expression {node.sql()!r} where a column name is expected",
            "persist-tool records constraints and indexes over plain columns",
        )
    return out


def ident_name(node: exp.Expression | None) -> str | None:
    if isinstance(node, exp.Identifier):
        return str(node.name)
    if isinstance(node, exp.Expression) and node.name:
        return str(node.name)
    return None


def first_offset(cols: list[tuple[str, int]], base: int) -> int:
    return cols[0][1] if cols else base
