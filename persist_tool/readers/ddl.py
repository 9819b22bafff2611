"""Read SQL DDL (``CREATE TABLE`` and friends, any dialect sqlglot reads) into the IR.

One entity per ``CREATE TABLE``. Constraints map to the IR as DESIGN §3 says; what has no IR
slot goes to ``extra`` (the source SQL type and dialect of every field, foreign keys, CHECKs
the IR cannot express, index options, table options). Statements that define no table
(views, triggers, routines, sequences, INSERTs, SET/USE, GRANT, ...) are skipped with one
warning each.

Conventions a user can rely on:

* ``DEFAULT`` with a literal (string, number, boolean, ``NULL``) is ``Default("literal", v)``
  with ``v`` converted to the field type (decimals as text). Any other default expression
  (``CURRENT_TIMESTAMP``, ``now()``, ``nextval(...)``, ``('now'::text)::date``) is evaluated
  by the database: the field is ``generated`` and keeps ``Default("sql", "<expr as
  written>")``.
* ``AUTOINCREMENT``/``AUTO_INCREMENT``/``IDENTITY``/``GENERATED ... AS IDENTITY``,
  ``SERIAL`` types and ``nextval`` defaults make a ``generated`` field;
  ``extra["auto_increment"]`` says which construct was used. SQLite's implicit rowid alias
  (``INTEGER PRIMARY KEY`` without ``AUTOINCREMENT``) is not treated as generated.
* ``CHECK (col IN (...))`` makes an ``EnumType`` named entity name + field name
  (``OrderStatus``); ``CHECK`` on length or range becomes ``Constraints``; any other CHECK is
  kept in ``Entity.extra["checks"]``.
* ``--`` comment lines directly above a ``CREATE TABLE`` (or a column, or at the end of a
  column's line) are docs; ``COMMENT`` clauses and ``COMMENT ON`` statements win over them.
* ``-- persist: Name schema_version=N`` right above a ``CREATE TABLE`` names the entity and
  its version.
* Foreign keys are ``Entity.extra["foreign_keys"]``: ``{"columns": [field names],
  "ref_table", "ref_columns": [column names as written; empty means the referenced primary
  key], "on_delete", "on_update", "name"}`` (actions upper-case as written, ``None`` when not
  stated).

Without ``--read-dialect`` the dialects are tried in an order ranked by the marks each
leaves in the text (backticks, ``GO``, ``::``, ``VARCHAR2``...); the first that reads the
whole file wins. When none does, the error of the reading that got furthest is reported.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

import sqlglot

from persist_tool import ir, naming
from persist_tool.readers.base import Diagnostic, ReadOptions, ReadResult
from persist_tool.readers.ddl_dialects import DIALECTS, detect_dialects
from persist_tool.readers.ddl_lex import (
    LexError,
    Token,
    lex_for_any_rules,
    rules_for,
    split_statements,
)
from persist_tool.readers.ddl_parse import ParseProblem
from persist_tool.readers.ddl_source import Source
from persist_tool.readers.ddl_statements import DialectReading
from persist_tool.readers.ddl_table import DdlProblem, TableDraft

__all__ = ["DIALECTS", "detect_dialects", "read"]

_ALIASES: dict[str, str] = {
    "postgresql": "postgres",
    "pg": "postgres",
    "mariadb": "mysql",
    "sqlserver": "tsql",
    "mssql": "tsql",
    "sql-server": "tsql",
    "sqlite3": "sqlite",
    "db2": "postgres",
}
"""Common names for dialects -> sqlglot's names (DB2 DDL reads as standard SQL)."""


def read(text: str, options: ReadOptions) -> ReadResult:
    """Read DDL source text into a schema (``SourceError`` on anything it cannot accept)."""
    source = Source(text, options.display)
    _check_text(source)
    if options.read_dialect:
        dialect = _dialect_name(options.read_dialect, source)
        return _read_as(source, options, dialect)
    failures: list[tuple[str, ir.SourceError]] = []
    tokens = lex_for_any_rules(text)
    for dialect in detect_dialects(text, tokens):
        try:
            return _read_as(source, options, dialect, tokens)
        except ir.SourceError as error:
            if getattr(error, "final", False):
                raise
            failures.append((dialect, error))
    best_dialect, best = max(failures, key=lambda f: _rank(f[1]))
    if all((e.location, e.message) == (best.location, best.message) for _, e in failures):
        raise best  # every dialect says the same: the dialect is not the problem
    tried = ", ".join(d for d, _ in failures)
    hint = (
        f"read as {best_dialect}, the dialect that got furthest (tried {tried}); "
        "pass --read-dialect to choose the dialect"
    )
    if best.hint:
        hint = f"{best.hint}; {hint}"
    raise ir.SourceError(best.location, best.message, hint)


def _rank(error: ir.SourceError) -> tuple[int, int]:
    if error.location is None:
        return (0, 0)
    return (error.location.line, error.location.column)


def _dialect_name(name: str, source: Source) -> str:
    dialect = _ALIASES.get(name.lower(), name.lower())
    try:
        sqlglot.Dialect.get_or_raise(dialect)
    except (ValueError, KeyError, AttributeError):
        error = ir.SourceError(
            ir.Location(source.display, 0, 0),
            f"unknown SQL dialect {name!r}",
            f"use one of {', '.join(DIALECTS)} (or another dialect sqlglot knows)",
        )
        error.final = True  # type: ignore[attr-defined]
        raise error from None
    return dialect


def _final(location: ir.Location | None, message: str, hint: str | None = None) -> ir.SourceError:
    """Return an error that no other dialect can cure (bad text, bad options)."""
    error = ir.SourceError(location, message, hint)
    error.final = True  # type: ignore[attr-defined]
    return error


_BAD_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def _check_text(source: Source) -> None:
    text = source.text
    if not text.strip().strip("\ufeff"):
        raise _final(
            ir.Location(source.display, 1, 1),
            "empty DDL source",
            "write at least one CREATE TABLE statement",
        )
    bad = _BAD_CHARS.search(text)
    if bad is not None:
        char = bad.group(0)
        what = (
            "a NUL byte" if char == "\x00"
            else "bytes that are not valid UTF-8" if char == "\ufffd"
            else f"the control character {char!r}"
        )  # fmt: skip
        raise _final(
            source.location(bad.start()),
            f"the source contains {what}; it does not look like SQL text",
            "check that the file is a UTF-8 text file with SQL statements",
        )


def _read_as(
    source: Source, options: ReadOptions, dialect: str, tokens: list[Token] | None = None
) -> ReadResult:
    """Read the whole source in one dialect (``tokens``: see ``split_statements``)."""
    try:
        statements = split_statements(source.text, rules_for(dialect), tokens)
        reading = DialectReading(source, dialect)
        reading.read(statements)
        entities = _entities(reading, options, dialect, source)
    except LexError as error:
        raise ir.SourceError(source.location(error.offset), error.message, error.hint) from None
    except DdlProblem as error:
        raise ir.SourceError(source.location(error.offset), error.message, error.hint) from None
    except ParseProblem as error:
        raise ir.SourceError(
            source.location(error.offset),
            f"cannot parse this statement as {dialect} SQL: {error.message}",
        ) from None
    except ir.SourceError:
        raise
    except Exception as error:
        offset = reading_statement_start(locals().get("reading"))
        raise ir.SourceError(
            source.location(offset),
            f"cannot read this statement as {dialect} SQL ({type(error).__name__}: {error})",
        ) from None
    return ReadResult(
        ir.Schema(entities=tuple(entities), source=options.display),
        tuple(_dedupe(reading.warnings)),
    )


def reading_statement_start(reading: object) -> int:
    """Return the start of the statement a reading was at (0 when unknown)."""
    statement = getattr(reading, "_statement", None)
    return int(getattr(statement, "start", 0))


def _dedupe(warnings: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, int, int, str]] = set()
    out: list[Diagnostic] = []
    for warning in warnings:
        key = (
            warning.location.file,
            warning.location.line,
            warning.location.column,
            warning.message,
        )
        if key not in seen:
            seen.add(key)
            out.append(warning)
    return out


# --------------------------------------------------------------------------- entities


def _entities(
    reading: DialectReading, options: ReadOptions, dialect: str, source: Source
) -> list[ir.Entity]:
    drafts = list(reading.tables.values())
    if not drafts:
        raise ir.SourceError(
            ir.Location(source.display, 1, 1),
            "no CREATE TABLE statement in this source",
            "a DDL source describes entities with CREATE TABLE statements",
        )
    names = _entity_names(drafts)
    selected = _select(drafts, names, options, source)
    if options.entity_name is not None:
        if len(selected) != 1:
            raise _final(
                ir.Location(source.display, 0, 0),
                f"an entity name was given but the source has {len(selected)} tables",
                "select one table with --entity, or name each table with a "
                "'-- persist: Name' comment",
            )
        if not options.entity_name.isidentifier() or keyword.iskeyword(options.entity_name):
            raise _final(
                ir.Location(source.display, 0, 0),
                f"entity name {options.entity_name!r} is not a Python identifier",
            )
        names[id(selected[0])] = options.entity_name
    if options.schema_version is not None and options.schema_version < 1:
        raise _final(
            ir.Location(source.display, 0, 0),
            f"schema version must be 1 or more, not {options.schema_version}",
        )
    entities: list[ir.Entity] = []
    for draft in selected:
        version = options.schema_version or draft.persist_version or 1
        entities.append(draft.build(names[id(draft)], version, dialect, source.display))
    return entities


def _entity_names(drafts: list[TableDraft]) -> dict[int, str]:
    """Give every table a unique entity name, deterministically and recognisably.

    Names from ``-- persist:`` comments are kept (two equal ones are an error). Otherwise
    the singular class name is used; when two tables share it, a table whose own
    PascalCase already is that name keeps it (``order`` over ``orders``), else the first
    in the file does, and the others fall back to their own PascalCase spelling.
    """
    names: dict[int, str] = {}
    taken: dict[str, TableDraft] = {}
    for draft in drafts:
        if draft.persist_name is None:
            continue
        if draft.persist_name in taken:
            other = taken[draft.persist_name]
            raise DdlProblem(
                draft.offset,
                f"entity name {draft.persist_name!r} is given to two tables",
                f"table {other.table!r} at {other.location} already has it",
            )
        taken[draft.persist_name] = draft
        names[id(draft)] = draft.persist_name
    wanted = {id(d): naming.class_name(d.table) for d in drafts if id(d) not in names}
    position = {id(d): i for i, d in enumerate(drafts)}
    order = sorted(
        (d for d in drafts if id(d) not in names),
        key=lambda d: (naming.pascal_case(d.table) != wanted[id(d)], position[id(d)]),
    )
    for draft in order:
        candidates = [wanted[id(draft)], naming.pascal_case(draft.table) or "Entity"]
        name = next((c for c in candidates if c not in taken), candidates[-1] + "Table")
        while name in taken:
            name += "_"
        taken[name] = draft
        names[id(draft)] = name
    return names


def _select(
    drafts: list[TableDraft],
    names: dict[int, str],
    options: ReadOptions,
    source: Source,
) -> list[TableDraft]:
    if not options.entities:
        return drafts
    chosen: list[TableDraft] = []
    for wanted in options.entities:
        match = [d for d in drafts if names[id(d)] == wanted or d.table == wanted]
        if not match:
            match = [d for d in drafts if d.table.casefold() == wanted.casefold()]
        if not match:
            available = ", ".join(f"{names[id(d)]} ({d.table})" for d in drafts)
            raise _final(
                ir.Location(source.display, 0, 0),
                f"no entity or table named {wanted!r} in this source",
                f"available: {available}",
            )
        for draft in match:
            if draft not in chosen:
                chosen.append(draft)
    return [d for d in drafts if d in chosen]
