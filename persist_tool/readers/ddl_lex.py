"""Split SQL source text into statements, the way the database clients do.

sqlglot parses one statement well but does not know the client conventions that real
schema files use between statements: MySQL's ``DELIMITER``, SQL Server's ``GO`` batch
separator, psql meta-commands (``\\c db``), SQL*Plus's ``/`` line, and compound bodies
(``CREATE TRIGGER ... BEGIN ...; END;``) whose inner semicolons do not end the statement.
This module handles exactly that: a small lexer (strings, quoted identifiers, comments,
dollar quotes, per dialect) and a splitter that yields statements with their offsets and the
comments before them. It also reports unterminated strings, comments, parentheses and blocks
with the position where they start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "LexError",
    "LexRules",
    "Statement",
    "Token",
    "lex",
    "lex_for_any_rules",
    "rules_for",
    "split_statements",
]


class LexError(Exception):
    """A lexical problem at ``offset`` (unterminated string, comment, block...)."""

    def __init__(self, offset: int, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class LexRules:
    """The lexical conventions of one dialect."""

    hash_comments: bool = False
    """``#`` starts a comment to the end of the line (MySQL)."""
    backslash_escapes: bool = False
    """A backslash escapes the next character inside string literals (MySQL)."""
    bracket_identifiers: bool = False
    """``[name]`` quotes an identifier (SQL Server, SQLite)."""
    dollar_quotes: bool = False
    """``$tag$ ... $tag$`` quotes a string (PostgreSQL)."""
    nested_comments: bool = False
    """``/* /* */ */`` nests (PostgreSQL)."""


_RULES: dict[str, LexRules] = {
    "mysql": LexRules(hash_comments=True, backslash_escapes=True),
    "postgres": LexRules(dollar_quotes=True, nested_comments=True),
    "tsql": LexRules(bracket_identifiers=True),
    "sqlite": LexRules(bracket_identifiers=True),
}


def rules_for(dialect: str) -> LexRules:
    """Return the lexical rules of a sqlglot dialect name (standard SQL when unknown)."""
    return _RULES.get(dialect, LexRules())


class Token(NamedTuple):
    """One lexical token; ``start``/``end`` are offsets into the whole source text.

    A named tuple rather than a frozen dataclass: a big schema has hundreds of thousands of
    tokens, and a frozen dataclass takes three times as long to make.
    """

    kind: str
    """``word``, ``qident`` (quoted identifier), ``string``, ``number``, ``punct``,
    ``comment`` or ``space``."""
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        """Return the text upper-cased (for keyword comparisons)."""
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        """Tell whether this is an unquoted word equal (case-insensitively) to one of ``words``."""
        return self.kind == "word" and self.text.upper() in words


_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
# The rest of a word: letters and digits (``\w`` is ``str.isalnum()`` or ``_``), ``$``, ``@``.
_WORD_REST = re.compile(r"[\w$@]*")


def _is_word_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_@"


# The tokens most of a schema is made of, in one match: ASCII-led spaces, words and numbers,
# and punctuation that starts nothing else. Each alternative gives exactly what the general
# rules in ``_Lexer.next`` give for such a start; any other start takes those rules.
_COMMON = re.compile(
    r"(?P<space>[ \t\n\r\f\v]\s*)"
    r"|(?P<word>[A-Za-z_@][\w$@]*)"
    r"|(?P<number>[0-9]\d*\.?\d*(?:[eE][+-]?\d+)?)"
    r"|(?P<punct>::|[(),;=])"
)


class _Lexer:
    """Produce tokens from ``pos`` on; the splitter drives it and may skip whole lines."""

    common: re.Pattern[str] | None = _COMMON
    """The shortcut for common tokens (None: the general rules only, as tests compare)."""

    def __init__(self, text: str, rules: LexRules) -> None:
        self.text = text
        self.rules = rules
        self.pos = 0

    def next(self) -> Token | None:
        """Return the token at ``pos`` and advance past it (``None`` at the end)."""
        text, pos = self.text, self.pos
        common = self.common.match(text, pos) if self.common is not None else None
        if common is not None:
            stop = self.pos = common.end()
            return Token(common.lastgroup or "", text[pos:stop], pos, stop)
        if pos >= len(text):
            return None
        ch = text[pos]
        end: int
        kind: str
        if ch.isspace() or ch == "\ufeff":
            match = _SPACE.match(text, pos)
            end = match.end() if match else pos + 1
            kind = "space"
        elif text.startswith("--", pos) or (ch == "#" and self.rules.hash_comments):
            newline = text.find("\n", pos)
            end = len(text) if newline < 0 else newline
            kind = "comment"
        elif text.startswith("/*", pos):
            end = self._block_comment(pos)
            kind = "comment"
        elif ch == "'":
            escapes = self.rules.backslash_escapes or (
                self.rules.dollar_quotes and pos > 0 and text[pos - 1] in "eE"
            )
            end = self._quoted(pos, "'", escapes, "string literal")
            kind = "string"
        elif ch == '"':
            end = self._quoted(pos, '"', False, "quoted identifier")
            kind = "qident"
        elif ch == "`":
            end = self._quoted(pos, "`", False, "quoted identifier")
            kind = "qident"
        elif ch == "[" and self.rules.bracket_identifiers:
            end = self._quoted(pos, "]", False, "bracketed identifier")
            kind = "qident"
        elif ch == "$" and self.rules.dollar_quotes and (tag := _DOLLAR_TAG.match(text, pos)):
            closing = text.find(tag.group(0), tag.end())
            if closing < 0:
                raise LexError(
                    pos,
                    f"unterminated dollar-quoted string {tag.group(0)}",
                    f"close it with {tag.group(0)}",
                )
            end = closing + len(tag.group(0))
            kind = "string"
        elif ch.isdigit() or (ch == "." and pos + 1 < len(text) and text[pos + 1].isdigit()):
            match = _NUMBER.match(text, pos)
            end = match.end() if match else pos + 1
            kind = "number"
        elif _is_word_start(ch):
            rest = _WORD_REST.match(text, pos + 1)
            end = rest.end() if rest else pos + 1  # the pattern also matches nothing
            kind = "word"
        else:
            end = pos + 2 if text.startswith("::", pos) else pos + 1
            kind = "punct"
        self.pos = end
        return Token(kind, text[pos:end], pos, end)

    def _block_comment(self, pos: int) -> int:
        text = self.text
        depth = 0
        i = pos
        while i < len(text):
            if text.startswith("/*", i):
                depth += 1
                i += 2
                if not self.rules.nested_comments and depth > 1:
                    depth = 1
            elif text.startswith("*/", i):
                depth -= 1
                i += 2
                if depth == 0:
                    return i
            else:
                i += 1
        raise LexError(pos, "unterminated block comment", "close it with */")

    def _quoted(self, pos: int, close: str, escapes: bool, what: str) -> int:
        text = self.text
        i = pos + 1
        while i < len(text):
            ch = text[i]
            if escapes and ch == "\\":
                i += 2
                continue
            if ch == close:
                if text.startswith(close * 2, i):
                    i += 2
                    continue
                return i + 1
            i += 1
        raise LexError(pos, f"unterminated {what}", f"close it with {close}")


def lex(text: str, rules: LexRules, start: int = 0, end: int | None = None) -> list[Token]:
    """Return every token of ``text[start:end]`` (offsets stay those of ``text``)."""
    lexer = _Lexer(text if end is None else text[:end], rules)
    lexer.pos = start
    tokens: list[Token] = []
    while (token := lexer.next()) is not None:
        tokens.append(token)
    return tokens


# Where the rule sets part ways: ``#`` comments, backslash escapes, ``[`` identifiers, ``$``
# quotes and nested block comments. Text without any of these lexes alike under every set.
_RULE_SENSITIVE = re.compile(r"[#\\\[$]|/\*")


def lex_for_any_rules(text: str) -> list[Token] | None:
    """Return the tokens of ``text`` when every dialect's rules give the same ones.

    ``None`` when the text holds a character where the rules differ, or does not lex (each
    dialect's split reports that itself). The tokens serve dialect detection and then the
    split of whichever dialect reads the text, which is then lexed once instead of twice.
    """
    if _RULE_SENSITIVE.search(text) is not None:
        return None
    try:
        return lex(text, LexRules())
    except LexError:
        return None


class _Replay(_Lexer):
    """A lexer that hands out tokens made already, by start offset.

    A token depends only on the text and where it starts, so where the splitter jumps
    (past a directive or a delimiter) and lands inside a known token, lexing goes on from
    there as usual.
    """

    def __init__(self, text: str, rules: LexRules, tokens: list[Token]) -> None:
        super().__init__(text, rules)
        self.made = {token.start: token for token in tokens}

    def next(self) -> Token | None:
        token = self.made.get(self.pos)
        if token is None:
            return super().next()
        self.pos = token.end
        return token


@dataclass(slots=True)
class Statement:
    """One statement of the source, with the comments and directives met before it."""

    start: int
    """Offset of its first token."""
    end: int
    """Offset just past its last token (the delimiter excluded)."""
    tokens: list[Token]
    """Its tokens, spaces and comments included."""
    leading: list[Token] = field(default_factory=list)
    """Comments and spaces between the previous statement and this one, in order."""
    kind: str = "sql"
    """``sql``; ``directive`` for client commands (``DELIMITER``, psql ``\\c``); ``trailer``
    for the comments after the last statement (no tokens)."""

    @property
    def words(self) -> list[Token]:
        """Return the significant tokens (no spaces, no comments)."""
        return [t for t in self.tokens if t.kind not in ("space", "comment")]


_LINE_GO = re.compile(r"[ \t]*GO(?:[ \t]+\d+)?[ \t]*;?[ \t]*(?=\r?\n|$)", re.IGNORECASE)
_LINE_DELIMITER = re.compile(r"[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?=\r?\n|$)", re.IGNORECASE)
_LINE_SLASH = re.compile(r"[ \t]*/[ \t]*(?=\r?\n|$)")
_LINE_META = re.compile(r"[ \t]*\\[^\n]*")

_BLOCK_ROUTINES = frozenset({"TRIGGER", "FUNCTION", "PROCEDURE", "PACKAGE", "EVENT"})
_BLOCK_LEADERS = frozenset({"IF", "DECLARE", "WHILE", "DO", "LOOP", "FOR"})
_TRANSACTION_FOLLOWERS = frozenset(
    {"TRANSACTION", "TRAN", "WORK", "DEFERRED", "IMMEDIATE", "EXCLUSIVE", "ISOLATION"}
)
_END_NOT_CLOSING = frozenset({"IF", "LOOP", "WHILE", "REPEAT", "FOR"})


class _Splitter:
    def __init__(self, text: str, rules: LexRules, tokens: list[Token] | None = None) -> None:
        self.text = text
        self.lexer = _Lexer(text, rules) if tokens is None else _Replay(text, rules, tokens)
        self.delimiter = ";"
        self.statements: list[Statement] = []
        self.pending_comments: list[Token] = []
        self._reset()

    def _reset(self) -> None:
        self.tokens: list[Token] = []
        self.words: list[Token] = []
        self.parens: list[Token] = []
        self.blocks: list[Token] = []
        self.tracks_blocks: bool | None = None

    def _at_line_start(self) -> bool:
        pos = self.lexer.pos
        if pos and not self.text[pos - 1].isspace():
            return False  # most tokens follow another on the same line: decided at once
        line_start = self.text.rfind("\n", 0, pos) + 1
        return self.text[line_start:pos].strip() == ""

    def run(self) -> list[Statement]:
        text = self.text
        while True:
            pos = self.lexer.pos
            if pos >= len(text):
                break
            if self._at_line_start() and self._directive(pos):
                continue
            at_delimiter = not self.parens and text.startswith(self.delimiter, pos)
            if at_delimiter and (self.delimiter != ";" or not self.blocks):
                self.lexer.pos = pos + len(self.delimiter)
                self._finish()
                continue
            token = self.lexer.next()
            if token is None:
                break
            self._take(token)
        self._finish(at_eof=True)
        return self.statements

    def _directive(self, pos: int) -> bool:
        text = self.text
        line_start = text.rfind("\n", 0, pos) + 1
        if match := _LINE_GO.match(text, line_start):
            # The batch separator ends whatever statement is open, block or not.
            self.blocks.clear()
            self.lexer.pos = match.end()
            self._finish()
            return True
        if self.words:
            return False
        if match := _LINE_DELIMITER.match(text, line_start):
            self._directive_statement(line_start, match.end())
            self.delimiter = match.group(1)
            return True
        if match := _LINE_META.match(text, line_start):
            self._directive_statement(line_start, match.end())
            return True
        if match := _LINE_SLASH.match(text, line_start):
            self.lexer.pos = match.end()
            return True
        return False

    def _directive_statement(self, line_start: int, end: int) -> None:
        start = line_start + (
            len(self.text[line_start:end]) - len(self.text[line_start:end].lstrip())
        )
        token = Token("word", self.text[start:end].rstrip(), start, end)
        self.statements.append(Statement(start, end, [token], self.pending_comments, "directive"))
        self.pending_comments = []
        self.lexer.pos = end

    def _take(self, token: Token) -> None:
        if token.kind in ("space", "comment"):
            (self.tokens if self.words else self.pending_comments).append(token)
            return
        self.tokens.append(token)
        self.words.append(token)
        if token.kind == "punct":
            if token.text == "(":
                self.parens.append(token)
            elif token.text == ")" and self.parens:
                self.parens.pop()
            return
        if token.kind != "word":
            return
        if self.tracks_blocks is None:
            self.tracks_blocks = self._decide_tracking()
        if not self.tracks_blocks:
            return
        word = token.upper
        if word in ("BEGIN", "CASE"):
            if not (word == "BEGIN" and len(self.words) == 1 and self._transaction_begin()):
                self.blocks.append(token)
        elif word == "END":
            following = self._peek_word()
            if following not in _END_NOT_CLOSING and self.blocks:
                self.blocks.pop()

    def _decide_tracking(self) -> bool:
        """Decide from the first words whether the statement may hold a compound body."""
        first = self.words[0].upper
        if first in _BLOCK_LEADERS or first == "BEGIN":
            return True
        if first != "CREATE":
            return False
        # Look ahead a few words: CREATE [OR REPLACE] [DEFINER=...] TRIGGER|FUNCTION|...
        lexer = _Lexer(self.text, self.lexer.rules)
        lexer.pos = self.lexer.pos
        for _ in range(24):
            token = lexer.next()
            if token is None or (token.kind == "punct" and token.text in ";("):
                return False
            if token.kind == "word" and token.upper in _BLOCK_ROUTINES:
                return True
            if token.kind == "word" and token.upper in (
                "TABLE",
                "INDEX",
                "VIEW",
                "TYPE",
            ):
                return False
        return False

    def _transaction_begin(self) -> bool:
        following = self._peek_word()
        return following is None or following in _TRANSACTION_FOLLOWERS

    def _peek_word(self) -> str | None:
        lexer = _Lexer(self.text, self.lexer.rules)
        lexer.pos = self.lexer.pos
        while (token := lexer.next()) is not None:
            if token.kind in ("space", "comment"):
                continue
            return token.upper if token.kind == "word" else None
        return None

    def _finish(self, at_eof: bool = False) -> None:
        if self.words:
            if at_eof and self.parens:
                opened = self.parens[-1]
                raise LexError(
                    opened.start,
                    "unterminated statement: this '(' is never closed",
                    "add the missing ')' (and end the statement with ';')",
                )
            if at_eof and self.blocks:
                opened = self.blocks[-1]
                raise LexError(
                    opened.start,
                    f"unterminated statement: this {opened.upper} has no matching END",
                    "close the block with END and end the statement with the delimiter",
                )
            last = self.words[-1]
            tokens = [t for t in self.tokens if t.end <= last.end]
            self.statements.append(
                Statement(self.words[0].start, last.end, tokens, self.pending_comments)
            )
            self.pending_comments = []
        elif at_eof and any(t.kind == "comment" for t in self.pending_comments):
            # Comments after the last statement: kept so that a misplaced header is seen.
            end = len(self.text)
            self.statements.append(Statement(end, end, [], self.pending_comments, "trailer"))
            self.pending_comments = []
        self._reset()


def split_statements(
    text: str, rules: LexRules, tokens: list[Token] | None = None
) -> list[Statement]:
    """Split ``text`` into statements (``LexError`` on unterminated constructs).

    ``tokens`` are those ``lex_for_any_rules(text)`` gave, when it gave some.
    """
    return _Splitter(text, rules, tokens).run()


def iter_items(tokens: list[Token]) -> Iterator[list[Token]]:
    """Yield the comma-separated items of a parenthesised list's inner tokens (depth 0)."""
    depth = 0
    item: list[Token] = []
    for token in tokens:
        if token.kind == "punct" and token.text in "([":
            depth += 1
        elif token.kind == "punct" and token.text in ")]":
            depth -= 1
        if depth == 0 and token.kind == "punct" and token.text == ",":
            yield item
            item = []
            continue
        item.append(token)
    yield item
