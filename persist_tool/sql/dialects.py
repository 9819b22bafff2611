"""Dialect names, identifier quoting and name rules for the SQL the tool writes.

Identifiers are written exactly as the source spells them. They are quoted only where the
dialect would otherwise read them differently: reserved words everywhere, and in PostgreSQL
any name that is not all lower case (PostgreSQL folds unquoted names to lower case, so
``AlbumId`` must be written ``"AlbumId"`` to keep its spelling). SQLite and MySQL compare
column names case-insensitively and keep the declared spelling, so mixed case needs no quotes
there. A lower-case source (Chinook's PostgreSQL script, Northwind) therefore produces
unquoted DDL that the source's own unquoted ``INSERT`` statements match.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator

from persist_tool.ir import Location, SourceError

__all__ = [
    "DIALECTS",
    "NAME_LIMIT",
    "check_dialect",
    "derived_name",
    "identifier",
    "needs_quotes",
    "quote",
    "table",
]

DIALECTS: tuple[str, ...] = ("sqlite", "postgres", "mysql")
"""The dialects the tool writes SQL for (MySQL means MySQL 8 and MariaDB 10.11)."""

_ALIASES: dict[str, str] = {
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
}

NAME_LIMIT = 63
"""Longest name (in UTF-8 bytes) the tool derives: PostgreSQL's limit; MySQL allows 64."""

# (limit, how the dialect measures a name): PostgreSQL counts bytes, MySQL characters.
_IDENTIFIER_LIMITS: dict[str, tuple[int, Callable[[str], int]]] = {
    "sqlite": (1_000_000, len),
    "postgres": (63, lambda n: len(n.encode("utf-8"))),
    "mysql": (64, len),
}

_PLAIN_NAME: dict[str, re.Pattern[str]] = {
    "postgres": re.compile(r"[a-z_][a-z0-9_$]*\Z"),
    "mysql": re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z"),
    "sqlite": re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z"),
}

# Words that cannot be used unquoted as a table or column name. Quoting a word that would
# have worked unquoted is harmless in all three dialects, so the lists err on the long side:
# PostgreSQL's list includes the "cannot be function or type" keywords (``values``, ``time``),
# which PostgreSQL itself accepts as names but other SQL readers, sqlglot among them, do not.
_POSTGRES_RESERVED = """
all analyse analyze and any array as asc asymmetric authorization binary both case cast check
collate collation column concurrently constraint create cross current_catalog current_date
current_role current_schema current_time current_timestamp current_user default deferrable
desc distinct do else end except false fetch for foreign freeze from full grant group having
ilike in initially inner intersect into is isnull join lateral leading left like limit
localtime localtimestamp natural not notnull null offset on only or order outer overlaps
placing primary references returning right select session_user similar some symmetric
system_user table tablesample then to trailing true union unique user using variadic verbose
when where window with
between bigint bit boolean char character coalesce dec decimal exists extract float greatest
grouping inout int integer interval json json_array json_arrayagg json_object json_objectagg
least national nchar none normalize nullif numeric out overlay position precision real row
setof smallint substring time timestamp treat trim values varchar xmlattributes xmlconcat
xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
"""

_MYSQL_RESERVED = """
accessible add all alter analyze and as asc asensitive before between bigint binary blob both
by call cascade case change char character check collate column condition constraint continue
convert create cross cube cume_dist current_date current_role current_time current_timestamp
current_user cursor database databases day_hour day_microsecond day_minute day_second dec
decimal declare default delayed delete delete_domain_id dense_rank desc describe
deterministic distinct distinctrow div do_domain_ids double drop dual each else elseif empty
enclosed escaped except exists exit explain false fetch first_value float float4 float8 for
force foreign from fulltext function general generated get grant group grouping groups having
high_priority hour_microsecond hour_minute hour_second if ignore ignore_domain_ids
ignore_server_ids in index infile inner inout insensitive insert int int1 int2 int3 int4 int8
integer intersect interval into io_after_gtids io_before_gtids is iterate join json_table key
keys kill lag last_value lateral lead leading leave left like limit linear lines load
localtime localtimestamp lock long longblob longtext loop low_priority master_bind
master_heartbeat_period master_ssl_verify_server_cert match maxvalue mediumblob mediumint
mediumtext middleint minute_microsecond minute_second mod modifies natural not
no_write_to_binlog nth_value ntile null numeric of offset on optimize optimizer_costs option
optionally or order out outer outfile over page_checksum parse_vcol_expr partition
percent_rank position precision primary procedure purge range rank read read_write reads real
recursive ref_system_id references regexp release rename repeat replace require resignal
restrict return returning revoke right rlike row row_number rows schema schemas
second_microsecond select sensitive separator set show signal slow smallint spatial specific
sql sql_big_result sql_calc_found_rows sql_small_result sqlexception sqlstate sqlwarning ssl
starting stats_auto_recalc stats_persistent stats_sample_pages stored straight_join system
table terminated then tinyblob tinyint tinytext to trailing trigger true undo union unique
unlock unsigned update usage use using utc_date utc_time utc_timestamp values varbinary
varchar varcharacter varying virtual when where while window with write xor year_month
zerofill
"""

_SQLITE_RESERVED = """
abort action add after all alter always analyze and as asc attach autoincrement before begin
between by cascade case cast check collate column commit conflict constraint create cross
current current_date current_time current_timestamp database default deferrable deferred
delete desc detach distinct do drop each else end escape except exclude exclusive exists
explain fail filter first following for foreign from full generated glob group groups having
if ignore immediate in index indexed initially inner insert instead intersect into is isnull
join key last left like limit match materialized natural no not nothing notnull null nulls
of offset on or order others outer over partition plan pragma preceding primary query raise
range recursive references regexp reindex release rename replace restrict returning right
rollback row rows savepoint select set table temp temporary then ties to transaction trigger
unbounded union unique update using vacuum values view virtual when where window with without
"""

_RESERVED: dict[str, frozenset[str]] = {
    "postgres": frozenset(_POSTGRES_RESERVED.split()),
    "mysql": frozenset(_MYSQL_RESERVED.split()),
    "sqlite": frozenset(_SQLITE_RESERVED.split()),
}

# (test, message) pairs: names a dialect cannot store even when quoted.
_NAME_RULES: dict[str, tuple[tuple[Callable[[str], bool], str], ...]] = {
    "sqlite": ((lambda n: "\0" in n, "contains a NUL character"),),
    "postgres": ((lambda n: "\0" in n, "contains a NUL character"),),
    "mysql": (
        (lambda n: "\0" in n, "contains a NUL character"),
        (lambda n: n.endswith(" "), "ends with a space, which MySQL does not allow"),
        (lambda n: any(ord(c) > 0xFFFF for c in n), "contains a character outside the BMP"),
    ),
}


def check_dialect(dialect: str) -> str:
    """Return the canonical name of ``dialect`` or raise ``SourceError`` listing the valid ones.

    ``postgresql``, ``mariadb`` and ``sqlite3`` are accepted as aliases.
    """
    canonical = _ALIASES.get(dialect.lower()) if isinstance(dialect, str) else None
    if canonical is None:
        raise SourceError(
            None,
            f"unknown SQL dialect {dialect!r}",
            hint="use one of: " + ", ".join(DIALECTS),
        )
    return canonical


def needs_quotes(name: str, dialect: str) -> bool:
    """Tell whether ``name`` must be quoted in ``dialect`` to keep its exact spelling."""
    dialect = check_dialect(dialect)
    if not _PLAIN_NAME[dialect].match(name):
        return True
    return name.lower() in _RESERVED[dialect]


def identifier(name: str, dialect: str, location: Location | None = None) -> exp.Identifier:
    """Return ``name`` as a sqlglot identifier, quoted only where ``dialect`` needs it.

    Raise ``SourceError`` for a name the dialect cannot hold (too long, NUL, ...).
    """
    return exp.to_identifier(name, quoted=_quoted(name, dialect, location))


def _quoted(name: str, dialect: str, location: Location | None) -> bool:
    """Return whether ``name`` is quoted in ``dialect``, checking it the first time.

    The same names come back in every statement: each is checked once (a name that fails
    is never kept, so it fails again, at the location given then).
    """
    quoted = _CHECKED.get((name, dialect))
    if quoted is None:
        quoted = _checked_quoting(name, dialect, location)
        if len(_CHECKED) >= _CHECKED_LIMIT:
            _CHECKED.clear()
        _CHECKED[(name, dialect)] = quoted
    return quoted


_CHECKED: dict[tuple[str, str], bool] = {}  # (name, dialect) -> quoted
_CHECKED_LIMIT = 1 << 16


def _checked_quoting(name: str, dialect: str, location: Location | None) -> bool:
    """Return whether ``name`` needs quotes in ``dialect``; ``SourceError`` if unusable."""
    dialect = check_dialect(dialect)
    problem = next((message for test, message in _NAME_RULES[dialect] if test(name)), None)
    if not name:
        problem = "is empty"
    elif _IDENTIFIER_LIMITS[dialect][1](name) > _IDENTIFIER_LIMITS[dialect][0]:
        problem = f"is longer than {dialect}'s limit of {_IDENTIFIER_LIMITS[dialect][0]}"
    if problem is not None:
        raise SourceError(
            location,
            f"SQL name {name!r} {problem}",
            hint=f"rename it in the source so that {dialect} can store it",
        )
    return needs_quotes(name, dialect)


_GENERATORS: dict[str, Generator] = {}


def render(node: exp.Expr, dialect: str) -> str:
    """Return ``node`` as SQL text of ``dialect``, consuming it (the generator may rewrite it).

    Same text as ``node.sql(dialect=...)`` without copying the tree first or making a new
    generator per call: for freshly built nodes that are rendered once.
    """
    generator = _GENERATORS.get(dialect)
    if generator is None:
        generator = Dialect.get_or_raise(check_dialect(dialect)).generator()
        _GENERATORS[dialect] = generator
    return generator.generate(node, copy=False)


def quote(name: str, dialect: str, location: Location | None = None) -> str:
    """Return ``name`` as SQL text for ``dialect``, quoted where needed."""
    if not _quoted(name, dialect, location):
        return name  # a plain name is its own text
    # Only quoted names need the generator's escaping rules.
    return exp.to_identifier(name, quoted=True).sql(dialect=check_dialect(dialect))


def table(name: str, dialect: str, location: Location | None = None) -> exp.Table:
    """Return a sqlglot table reference for ``name``."""
    return exp.Table(this=identifier(name, dialect, location))


def derived_name(prefix: str, table_name: str, columns: tuple[str, ...] = ()) -> str:
    """Return a constraint or index name made from a table and columns, at most 63 long.

    Longer names keep their start and end with a hash of the whole name, so they stay
    unique, readable and the same in every dialect.
    """
    name = "_".join((prefix, table_name, *columns))
    if len(name.encode("utf-8")) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    head = name
    while len(head.encode("utf-8")) > NAME_LIMIT - 9:
        head = head[:-1]
    return f"{head}_{digest}"
