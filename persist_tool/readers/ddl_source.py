"""Positions, comment conventions and the column-item scan shared by the DDL reader modules."""

from __future__ import annotations

import bisect
import keyword
import re
from dataclasses import dataclass, field

from persist_tool import ir
from persist_tool.readers.ddl_lex import Statement, Token, iter_items

__all__ = [
    "ColumnItem",
    "PersistHeader",
    "Source",
    "comment_text",
    "leading_doc",
    "parse_persist_header",
    "scan_column_items",
]


class Source:
    """The text being read and its display path; turns offsets into locations."""

    def __init__(self, text: str, display: str) -> None:
        self.text = text
        self.display = display
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def location(self, offset: int) -> ir.Location:
        """Return the location of an offset."""
        line, column = self.position(offset)
        return ir.Location(self.display, line, column)

    def offset(self, line: int, column: int) -> int:
        """Return the offset of a 1-based (line, column)."""
        index = max(0, min(line - 1, len(self._line_starts) - 1))
        return min(len(self.text), self._line_starts[index] + max(column - 1, 0))


# --------------------------------------------------------------------------- comments

_PERSIST = re.compile(r"^--\s*persist\s*:", re.IGNORECASE)


def is_persist_comment(token: Token) -> bool:
    """Tell whether a comment token is a ``-- persist:`` header."""
    return token.kind == "comment" and bool(_PERSIST.match(token.text))


def comment_text(token: Token) -> str:
    """Return a comment's words without its markers (``-- x`` -> ``x``)."""
    text = token.text
    if text.startswith("--"):
        return text[2:].strip()
    if text.startswith("#"):
        return text[1:].strip()
    return text[2:-2].strip()


def _join_doc(lines: list[str]) -> str | None:
    kept = [line for line in lines if line.strip("-=*# ")]
    return "\n".join(kept) if kept else None


def leading_doc(tokens: list[Token]) -> str | None:
    """Return the doc comment directly above a statement or item.

    The doc is the run of ``--`` line comments that ends on the line just above the
    statement, with no blank line inside the run; block comments (banners) are not docs,
    and ``-- persist:`` headers are left out.
    """
    lines: list[str] = []
    for token in reversed(tokens):
        if token.kind == "space":
            if token.text.count("\n") > 1:
                break
            continue
        if token.kind != "comment" or not token.text.startswith("--"):
            break
        if not is_persist_comment(token):
            lines.append(comment_text(token))
    lines.reverse()
    return _join_doc(lines)


# --------------------------------------------------------------------------- persist header


@dataclass(frozen=True, slots=True)
class PersistHeader:
    """A ``-- persist: Name schema_version=N`` comment."""

    offset: int
    name: str | None = None
    schema_version: int | None = None


class HeaderProblem(Exception):
    """A malformed ``-- persist:`` header; ``offset`` points into the source."""

    def __init__(self, offset: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.hint = hint


_HEADER_HINT = "write it as: -- persist: EntityName schema_version=2 (both parts optional)"
_HEADER_KEYS = frozenset({"schema_version", "name"})


def parse_persist_header(token: Token) -> PersistHeader:
    """Parse a ``-- persist:`` comment (``HeaderProblem`` when malformed)."""
    text = token.text
    body_start = text.index(":") + 1
    name: str | None = None
    version: int | None = None
    seen: set[str] = set()
    parts = list(re.finditer(r"\S+", text[body_start:]))
    if not parts:
        raise HeaderProblem(token.start, "empty -- persist: comment", _HEADER_HINT)
    for index, match in enumerate(parts):
        part = match.group(0)
        offset = token.start + body_start + match.start()
        if "=" not in part:
            if index != 0:
                raise HeaderProblem(
                    offset, f"unexpected {part!r} in -- persist: comment", _HEADER_HINT
                )
            name = _check_name(part, offset)
            continue
        key, _, value = part.partition("=")
        if key not in _HEADER_KEYS:
            raise HeaderProblem(offset, f"unknown key {key!r} in -- persist: comment", _HEADER_HINT)
        if key in seen or (key == "name" and name is not None):
            raise HeaderProblem(offset, f"{key} given twice in -- persist: comment", _HEADER_HINT)
        seen.add(key)
        if key == "name":
            name = _check_name(value, offset + len(key) + 1)
            continue
        if not re.fullmatch(r"[+-]?\d+", value):
            raise HeaderProblem(
                offset + len(key) + 1,
                f"schema_version must be a whole number, not {value!r}",
                _HEADER_HINT,
            )
        version = int(value)
        if version < 1:
            raise HeaderProblem(
                offset + len(key) + 1,
                f"schema_version must be 1 or more, not {version}",
                "versions start at 1",
            )
    return PersistHeader(token.start, name, version)


def _check_name(name: str, offset: int) -> str:
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise HeaderProblem(
            offset,
            f"entity name {name!r} is not a usable Python class name",
            "use a PascalCase identifier such as Todo or OrderLine",
        )
    return name


# --------------------------------------------------------------------------- column items

# fmt: off
_TYPE_STOP = frozenset(
    {
        "NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "CHECK", "REFERENCES", "CONSTRAINT",
        "COLLATE", "AUTO_INCREMENT", "AUTOINCREMENT", "IDENTITY", "GENERATED", "COMMENT",
        "ON", "CHARSET", "AS", "ENCODE", "STORAGE", "COMPRESSION", "KEY", "INVISIBLE",
        "VISIBLE", "FOREIGN", "ROWGUIDCOL", "SPARSE", "FILESTREAM", "MASKED", "HIDDEN",
        "COLUMN_FORMAT", "ENABLE", "DISABLE", "SRID", "CONSTRAINTS",
    }
)
# fmt: on
_DEFAULT_STOP = _TYPE_STOP - {"AS"} | {"WITH"}
# fmt: off
_TABLE_CONSTRAINT_WORDS = frozenset(
    {"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "KEY", "INDEX", "FULLTEXT",
     "SPATIAL", "LIKE", "EXCLUDE", "PERIOD"}
)
# fmt: on


@dataclass(slots=True)
class ColumnItem:
    """The source text of one column definition, as the lexer sees it."""

    name: Token
    type_text: str = ""
    type_start: int = 0
    type_tokens: list[Token] = field(default_factory=list)
    default_text: str | None = None
    default_start: int = 0
    doc: str | None = None


def _span_text(source: str, tokens: list[Token]) -> str:
    if not tokens:
        return ""
    return re.sub(r"\s+", " ", source[tokens[0].start : tokens[-1].end]).strip()


def _take_until(words: list[Token], start: int, stops: frozenset[str]) -> int:
    """Return the index after the run of tokens from ``start`` up to a stop word at depth 0."""
    depth = 0
    index = start
    while index < len(words):
        token = words[index]
        if token.kind == "punct" and token.text in "([":
            depth += 1
        elif token.kind == "punct" and token.text in ")]":
            depth -= 1
        elif depth == 0 and index > start and token.kind == "word" and token.upper in stops:
            if (
                token.upper == "WITH"
                and index + 1 < len(words)
                and words[index + 1].is_word("TIME", "LOCAL")
            ):
                index += 1
                continue
            break
        index += 1
    return index


def describe_column(source: str, words: list[Token]) -> ColumnItem:
    """Return the type and default text of a column definition's significant tokens."""
    item = ColumnItem(words[0])
    stops = _TYPE_STOP | {"CHARACTER"} if _charset_follows(words) else _TYPE_STOP
    end = _take_until(words, 1, stops)
    item.type_tokens = words[1:end]
    item.type_text = _span_text(source, item.type_tokens)
    item.type_start = words[1].start if len(words) > 1 else words[0].end
    for index in range(end, len(words)):
        if words[index].is_word("DEFAULT") and index + 1 < len(words):
            stop = _take_until(words, index + 1, _DEFAULT_STOP)
            item.default_text = _span_text(source, words[index + 1 : stop])
            item.default_start = words[index + 1].start
            break
    return item


def _charset_follows(words: list[Token]) -> bool:
    return any(
        w.is_word("CHARACTER") and i + 1 < len(words) and words[i + 1].is_word("SET")
        for i, w in enumerate(words)
    )


def scan_column_items(source: str, statement: Statement, after: int) -> dict[int, ColumnItem]:
    """Return the column definitions of a CREATE TABLE body, by the offset of their name.

    ``after`` is an offset inside the statement before the body's opening parenthesis (the
    end of the table name). Docs come from ``--`` comments above a column or at the end of
    its line.
    """
    tokens = statement.tokens
    start = next(
        (
            i
            for i, t in enumerate(tokens)
            if t.start >= after and t.kind == "punct" and t.text == "("
        ),
        None,
    )
    if start is None:
        return {}
    depth = 0
    end = len(tokens)
    for index in range(start, len(tokens)):
        token = tokens[index]
        if token.kind == "punct" and token.text in "([":
            depth += 1
        elif token.kind == "punct" and token.text in ")]":
            depth -= 1
            if depth == 0:
                end = index
                break
    body = tokens[start + 1 : end]
    items: dict[int, ColumnItem] = {}
    previous: ColumnItem | None = None
    previous_line_end = -1
    for raw in iter_items(body):
        words = [t for t in raw if t.kind not in ("space", "comment")]
        leading: list[Token] = []
        for token in raw:
            if token.kind not in ("space", "comment"):
                break
            if (
                token.kind == "comment"
                and previous is not None
                and _same_line(source, previous_line_end, token.start)
            ):
                previous.doc = _append(previous.doc, comment_text(token))
                continue
            leading.append(token)
        if not words:
            continue
        trailing = [
            t
            for t in raw
            if t.kind == "comment"
            and t.start > words[-1].end
            and _same_line(source, words[-1].end, t.start)
        ]
        previous_line_end = words[-1].end
        if words[0].kind == "word" and words[0].upper in _TABLE_CONSTRAINT_WORDS:
            previous = None
            continue
        item = describe_column(source, words)
        item.doc = leading_doc(leading)
        for token in trailing:
            item.doc = _append(item.doc, comment_text(token))
        items[item.name.start] = item
        previous = item
    return items


def _same_line(source: str, a: int, b: int) -> bool:
    return a >= 0 and "\n" not in source[a:b]


def _append(doc: str | None, line: str) -> str | None:
    if not line.strip("-=*# "):
        return doc
    return line if doc is None else f"{doc}\n{line}"
