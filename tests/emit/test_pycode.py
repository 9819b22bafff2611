"""Source fragments: string literals and docstrings, their shortcuts checked against the
general rule."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from persist_tool.emit import pycode

_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from(["\\", "\n", "\t", "\x00", "\x7f", "é", "\u2019", "\u200b", '"', "'"]),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_string_literals_evaluate_to_their_text(text: str) -> None:
    """Printable ASCII takes a shortcut past the escape table; every literal still reads
    back as the text, and equals what the escape table gives."""
    literal = pycode._quote(text)
    assert ast.literal_eval(literal) == text
    body = text.translate(pycode._TRANSLATE)
    if body.isascii():
        quote = "'" if body.count('"') > body.count("'") else '"'
        assert literal == quote + body.replace(quote, "\\" + quote) + quote


def _reference_lines(text: str, room: int) -> list[str]:
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    lines: list[str] = []
    for i, para in enumerate(paragraphs):
        if i:
            lines.append("")
        lines.extend(textwrap.wrap(para, room, break_long_words=False, break_on_hyphens=False))
    return lines


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text("abc", min_size=1, max_size=9),
            st.sampled_from([" ", "  ", "\n", "\n\n", "\t", "\xa0"]),
        ),
        min_size=1,
        max_size=30,
    ).map(lambda parts: "".join(word + gap for word, gap in parts)),
    st.sampled_from([20, 40, 72]),
)
def test_docstring_lines_are_textwrap_lines(text: str, width: int) -> None:
    """A paragraph that fits is kept whole without textwrap; the lines are the ones
    textwrap gives either way."""
    block = pycode._docstring(text, 0, width)
    expected = _reference_lines(text, width)
    if not expected:
        assert block is None
        return
    assert block is not None
    inner = block.removeprefix('"""').removesuffix('"""').rstrip("\n")
    assert [line.rstrip() for line in inner.split("\n")] == [line.rstrip() for line in expected]
