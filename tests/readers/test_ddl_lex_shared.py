"""Text that every dialect lexes alike is lexed once: detection's tokens serve the split."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persist_tool.readers.ddl_lex import (
    _RULES,
    LexError,
    LexRules,
    lex,
    lex_for_any_rules,
    split_statements,
)
from tests.readers.test_ddl_lex_common import SQL_ALPHABET

RULES = [LexRules(), *_RULES.values()]

# SQL-like pieces, so that random text has statements, directives, blocks and comments.
_PIECES = st.sampled_from(
    [
        "CREATE TABLE t (a INT);",
        "CREATE TRIGGER x BEGIN SELECT 1; END;",
        "\nDELIMITER //\n",
        "\nDELIMITER ;\n",
        "\nGO\n",
        "\n/\n",
        "-- note\n",
        "/* block */",
        "'it''s'",
        '"q"',
        "`b`",
        "[c]",
        "#h\n",
        "$$x$$",
        "\\c db\n",
        "E'a\\'b'",
        "BEGIN;",
        " ",
        "\n",
    ]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(SQL_ALPHABET, max_size=8)), max_size=14).map("".join)


def _split(text: str, rules: LexRules, tokens: object = None) -> object:
    try:
        return [
            (s.start, s.end, s.kind, s.tokens, s.leading)
            for s in split_statements(text, rules, tokens)  # type: ignore[arg-type]
        ]
    except LexError as error:
        return (error.offset, error.message)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_shared_tokens_are_every_rule_set_s_tokens_and_split_alike(text: str) -> None:
    shared = lex_for_any_rules(text)
    if shared is None:
        return
    for rules in RULES:
        assert lex(text, rules) == shared
        assert _split(text, rules, shared) == _split(text, rules)


@pytest.mark.parametrize("text", ["a # b", "x = '\\n'", "[a]", "$$a$$", "/* a /* b */ */"])
def test_text_where_the_rules_differ_is_not_shared(text: str) -> None:
    assert lex_for_any_rules(text) is None


def test_unterminated_text_is_left_to_each_dialect_s_split() -> None:
    assert lex_for_any_rules("CREATE TABLE t (a TEXT DEFAULT 'x);") is None


def test_every_corpus_schema_splits_the_same_with_shared_tokens(corpus: Path) -> None:
    files = sorted((corpus / "ddl").rglob("*.sql"))
    assert files
    shared_files = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        shared = lex_for_any_rules(text)
        if shared is None:
            continue
        shared_files += 1
        for rules in RULES:
            assert _split(text, rules, shared) == _split(text, rules), path.name
    assert shared_files, "no corpus schema exercised the shared tokens"
