"""Dialect detection: a mark's required text is looked up before its pattern is searched."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persist_tool.readers.ddl_dialects import (
    _MARKS,
    DIALECTS,
    MARKS,
    Mark,
    detect_dialects,
    required_text,
)

ALL_MARKS = [(dialect, mark) for dialect, marks in MARKS.items() for mark in marks]


@pytest.mark.parametrize(
    ("pattern", "required"),
    [
        (r"\bAUTO_INCREMENT\b", "AUTO_INCREMENT"),
        (r"\bcharacter\s+varying\b", "CHARACTER"),
        (r"\b(BIG|SMALL)?SERIAL\b", "SERIAL"),
        (r"\bNUMBER\s*(\(|\b)", None),  # "|" in a required group: conservative
        ("abc(x)|def", None),
        (r"\[dbo\]", "DBO"),
        (r"::", "::"),
        ("colou?r", "COLO"),
        ("ab*c", "A"),
        ("ab{0,2}cd", "CD"),
        (r"x(ab){1,3}", "X"),
        (r"\bx(a|b)yz", None),
        ("xa+y", "XA"),
        ("abc|def", None),
        (r"\$\$", None),
        (r"\w\[\]", None),
        (r"^\s*\\", None),
    ],
)
def test_required_text_is_a_literal_run_every_match_contains(
    pattern: str, required: str | None
) -> None:
    assert required_text(pattern) == required


@pytest.mark.parametrize(("dialect", "mark"), ALL_MARKS, ids=lambda v: getattr(v, "required", v))
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mark_is_found_exactly_where_its_pattern_matches(
    dialect: str, mark: Mark, data: st.DataObject
) -> None:
    # Texts that match (drawn from the pattern itself), with arbitrary text around them,
    # and arbitrary texts: the shortcut must never change the answer of the search.
    inner = data.draw(st.from_regex(mark.pattern, fullmatch=True) | st.text(max_size=30))
    text = data.draw(st.text(max_size=8)) + inner + data.draw(st.text(max_size=8))
    upper = text.upper() if text.isascii() else None
    assert mark.found_in(text, upper) == (mark.pattern.search(text) is not None)


def test_every_dialect_mark_has_its_pattern_and_most_have_required_text() -> None:
    assert set(MARKS) == set(_MARKS) == set(DIALECTS)
    for dialect, patterns in _MARKS.items():
        assert [m.pattern.pattern for m in MARKS[dialect]] == list(patterns)
    shortcut = sum(m.required is not None for _, m in ALL_MARKS)
    assert shortcut >= len(ALL_MARKS) - 4  # the shortcut is what makes detection cheap


def _detect_by_search(text: str) -> list[str]:
    scores = {
        d: sum(1 for p in _MARKS[d] if re.search(p, text, re.IGNORECASE | re.MULTILINE))
        for d in DIALECTS
    }
    return sorted(DIALECTS, key=lambda d: (-scores[d], DIALECTS.index(d)))


@pytest.mark.parametrize(
    "text",
    [
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);",
        "CREATE TABLE `t` (id INT UNSIGNED AUTO_INCREMENT) ENGINE=InnoDB;",
        "CREATE TABLE t (id BIGSERIAL, at timestamp with time zone, x int[]);",
        "CREATE TABLE [dbo].[t] (id INT IDENTITY(1,1), n NVARCHAR(MAX))\nGO\n",
        "CREATE TABLE t (id NUMBER(10), n VARCHAR2(20)) TABLESPACE users;\n/\n",
        "CREATE TABLE straße (id int); -- AUTOINCREMENT in a comment is no mark",
        "create table t (id serial, note character  varying(3));",
    ],
)
def test_detection_orders_dialects_as_a_search_of_every_pattern_does(text: str) -> None:
    bare = re.sub(r"--[^\n]*", " ", text)
    assert detect_dialects(text) == _detect_by_search(bare)
