"""The lexer's shortcut for common tokens gives exactly the tokens of its general rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persist_tool.readers.ddl_lex import (
    _RULES,
    LexError,
    LexRules,
    Token,
    _Lexer,
    lex,
    split_statements,
)

RULES = [LexRules(), *_RULES.values()]


class _GeneralLexer(_Lexer):
    common = None


def _general(text: str, rules: LexRules) -> list[Token] | str:
    lexer = _GeneralLexer(text, rules)
    out: list[Token] = []
    try:
        while (token := lexer.next()) is not None:
            out.append(token)
    except LexError as error:
        return f"{error.offset}: {error.message}"
    return out


def _with_shortcut(text: str, rules: LexRules) -> list[Token] | str:
    try:
        return lex(text, rules)
    except LexError as error:
        return f"{error.offset}: {error.message}"


# Characters where the rules meet: every shortcut start, what follows it, and every start
# the shortcut must leave to the general rules (non-ASCII letters, digits and spaces too).
SQL_ALPHABET = st.sampled_from(
    list(" \t\n\r\f\v\x1c\u00a0\u2003\ufeff")
    + list("azAZ_@$09.eE+-:;,()=[]'\"`#/*\\")
    + ["é", "ß", "٣", "²", "Ⅻ", "ñ"]
)


@settings(max_examples=400)
@given(text=st.text(SQL_ALPHABET, max_size=60), rules=st.sampled_from(RULES))
def test_random_text_lexes_the_same_with_and_without_the_shortcut(
    text: str, rules: LexRules
) -> None:
    assert _with_shortcut(text, rules) == _general(text, rules)


@pytest.mark.parametrize(
    "text",
    ["1٣.5e3x", "12.e", "x1 $a$ 'b' -- c\n/* d */ ::e", "café_$@1 é1", "a\u00a0 \u2003b", ""],
)
def test_edge_texts_lex_the_same_with_and_without_the_shortcut(text: str) -> None:
    for rules in RULES:
        assert _with_shortcut(text, rules) == _general(text, rules)


def test_every_corpus_schema_splits_the_same_with_and_without_the_shortcut(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = sorted((corpus / "ddl").rglob("*.sql"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for rules in RULES:
            with monkeypatch.context() as patch:
                patch.setattr(_Lexer, "common", None)
                expected = _split(text, rules)
            assert _split(text, rules) == expected, path.name


def _split(text: str, rules: LexRules) -> object:
    try:
        return [
            (s.start, s.end, s.kind, s.tokens, s.leading) for s in split_statements(text, rules)
        ]
    except LexError as error:
        return (error.offset, error.message)
