"""The DDL lexer's words: a letter, ``_`` or ``@``, then letters, digits, ``_``, ``$``, ``@``."""

from __future__ import annotations

import sys

from persist_tool.readers.ddl_lex import _WORD_REST, LexRules, lex


def test_word_characters_are_exactly_alphanumerics_and_underscore_dollar_at() -> None:
    # The pattern stands for ``ch.isalnum() or ch in "_$@"``; check every code point.
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        assert bool(_WORD_REST.fullmatch(ch)) == (ch.isalnum() or ch in "_$@"), hex(code)


def test_words_run_to_the_first_other_character() -> None:
    tokens = lex("Größe_2$x@y+ñ 1a", LexRules())
    assert [(t.kind, t.text) for t in tokens] == [
        ("word", "Größe_2$x@y"),
        ("punct", "+"),
        ("word", "ñ"),
        ("space", " "),
        ("number", "1"),
        ("word", "a"),
    ]
