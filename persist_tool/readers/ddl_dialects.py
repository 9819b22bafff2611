"""Guess the SQL dialect of a DDL text from the marks each dialect leaves in it.

Each dialect has a list of marks (backticks, ``GO``, ``::``, ``VARCHAR2``...), patterns
searched case-insensitively in the text with its comments blanked out; the dialects are tried
in the order of how many of their marks the text shows.

Most marks contain a word that any match must contain. For ASCII text (where matching a
letter regardless of case is comparing upper-cased letters) that word is looked up in the
upper-cased text first, in C, and the pattern is searched only when the word is there: on a
big schema this spares most of the forty regular-expression scans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from persist_tool.readers.ddl_lex import LexError, LexRules, Token, lex

__all__ = ["DIALECTS", "Mark", "detect_dialects"]

DIALECTS: tuple[str, ...] = ("sqlite", "postgres", "mysql", "tsql", "oracle")
"""Dialects tried, in this order when the text shows no marks of any."""

# fmt: off
_MARKS: dict[str, tuple[str, ...]] = {
    "mysql": (
        r"`", r"\bAUTO_INCREMENT\b", r"\bENGINE\s*=", r"\bUNSIGNED\b", r"^\s*DELIMITER\s",
        r"\bCHARSET\b", r"\bON\s+UPDATE\s+CURRENT_TIMESTAMP\b", r"\bTINYINT\b", r"\bENUM\s*\(",
    ),
    "postgres": (
        r"::", r"\b(BIG|SMALL)?SERIAL\b", r"\bcharacter\s+varying\b", r"\bnextval\s*\(",
        r"\$\$", r"\bTIMESTAMPTZ\b", r"\bJSONB\b", r"\bBYTEA\b", r"\bALTER\s+TABLE\s+ONLY\b",
        r"\bOWNER\s+TO\b", r"^\s*\\", r"\bCREATE\s+EXTENSION\b", r"\w\[\]",
        r"\bwith(out)?\s+time\s+zone\b", r"\bCREATE\s+DOMAIN\b",
    ),
    "tsql": (
        r"^\s*GO\s*$", r"\[dbo\]", r"\bIDENTITY\s*\(", r"\(\s*MAX\s*\)", r"\bUNIQUEIDENTIFIER\b",
        r"\b(NON)?CLUSTERED\b", r"\bDATETIME2\b", r"\bDATETIMEOFFSET\b",
        r"\bNVARCHAR\b.*\bIDENTITY\b",
    ),
    "oracle": (
        r"\bN?VARCHAR2\b", r"\bNUMBER\s*(\(|\b)", r"^\s*CONNECT\s", r"\bSYSDATE\b",
        r"\bTABLESPACE\b", r"^\s*/\s*$", r"\bNCLOB\b",
    ),
    "sqlite": (r"\bAUTOINCREMENT\b", r"\bPRAGMA\b", r"\bWITHOUT\s+ROWID\b", r"\bSTRICT\s*;"),
}
# fmt: on


# Hold no required text: optional groups (``(BIG|SMALL)?``), escapes (``\s``), character
# classes, and a character made optional or repeatable from zero (``u?``, ``s*``, ``x{0,2}``).
_QUANTIFIER_FROM_ZERO = r"(?:[?*]|\{[^}]*\})"  # ``{m,n}`` counted as such: conservative
_NOT_REQUIRED = re.compile(
    rf"\((?:[^()\\]|\\.)*\){_QUANTIFIER_FROM_ZERO}|\\.|\[(?:[^\]\\]|\\.)*\]"
    rf"|[^\\]{_QUANTIFIER_FROM_ZERO}"
)
_LITERAL_RUN = re.compile(r"[^\s()|?*+.^$\\\[\]{}]+")


def required_text(pattern: str) -> str | None:
    """Return the longest literal run that every match of ``pattern`` contains (upper-cased),
    or None when no run is certainly required.

    A pattern with alternatives (outside optional groups) has none: any run could belong to
    one alternative. Otherwise only the part before any remaining group counts.
    """
    stripped = _NOT_REQUIRED.sub(" ", pattern)
    if "|" in stripped:
        return None
    plain = stripped.split("(")[0]
    runs = [run for run in _LITERAL_RUN.findall(plain) if run.isascii()]
    return max(runs, key=len).upper() if runs else None


@dataclass(frozen=True, slots=True)
class Mark:
    """One mark of a dialect: its pattern and the text every match contains."""

    pattern: re.Pattern[str]
    required: str | None

    def found_in(self, text: str, upper: str | None) -> bool:
        """Tell whether the mark is in ``text``; ``upper`` is the text upper-cased when it
        is ASCII (else None: the required text is not checked first)."""
        if upper is not None and self.required is not None and self.required not in upper:
            return False
        return self.pattern.search(text) is not None


MARKS: dict[str, tuple[Mark, ...]] = {
    dialect: tuple(
        Mark(re.compile(p, re.IGNORECASE | re.MULTILINE), required_text(p)) for p in patterns
    )
    for dialect, patterns in _MARKS.items()
}


def detect_dialects(text: str, tokens: list[Token] | None = None) -> list[str]:
    """Return the dialects to try, the one whose marks the text shows most first.

    ``tokens`` are the text's tokens under the standard rules, when the caller has them.
    """
    try:
        if tokens is None:
            tokens = lex(text, LexRules())
        bare = "".join(t.text if t.kind != "comment" else " " for t in tokens)
    except LexError:
        bare = text
    upper = bare.upper() if bare.isascii() else None
    scores = {d: sum(1 for m in MARKS[d] if m.found_in(bare, upper)) for d in DIALECTS}
    return sorted(DIALECTS, key=lambda d: (-scores[d], DIALECTS.index(d)))
