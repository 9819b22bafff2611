"""Source fragments: string literals and docstrings, their shortcuts checked against the
general rule."""

from __future__ import annotations

import ast
import keyword
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


# Values the emitters put in long assignments and dict items: attribute reads, calls that
# dump them, list copies, comprehensions, and the one conditional expression they write.
_NAME = st.from_regex(r"[a-z][a-z_]{0,40}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n)
)


@st.composite
def _values(draw: st.DrawFn) -> str:
    owner = draw(st.sampled_from(["self", "draft", "customer_customer_demo"]))
    attribute = f"{owner}.{draw(_NAME)}"
    inner = draw(
        st.sampled_from(
            [
                attribute,
                f"_p.dump_datetime({attribute})",
                f"list({attribute})",
                f"[v.value for v in {attribute}]",
                f"{attribute}.value",
                f"[{attribute}, {attribute}]",
                f"({attribute}, {attribute})",
            ]
        )
    )
    if draw(st.booleans()):
        return f"None if {attribute} is None else {inner}"
    return inner


def _black(source: str) -> str:
    import black

    return black.format_str(source, mode=black.Mode())


def _in_function(statement: str, level: int) -> str:
    """Return a function holding ``statement`` (indented for ``level``) in nested ifs."""
    ifs = "".join(f"{'    ' * i}if x:\n" for i in range(1, level))
    return f"def f():\n{ifs}{statement}\n"


@settings(max_examples=150, deadline=None)
@given(key=_NAME, value=_values(), level=st.integers(1, 4))
def test_long_dict_items_are_laid_out_as_black_lays_them_out(
    key: str, value: str, level: int
) -> None:
    """Where ``dict_item`` splits an item, black keeps it; where it cannot, it leaves the
    item long and the module goes through black."""
    pad = "    " * level
    flat = f'{pad}    "{key}": {value},'
    item = pycode.dict_item(f'"{key}"', value, level + 1)
    source = _in_function(f"{pad}x = {{\n{item}\n{pad}}}", level)
    if max(map(len, item.split("\n"))) <= pycode.LINE_LENGTH:
        assert _black(_in_function(f"{pad}x = {{\n{flat}\n{pad}}}", level)) == source
    else:
        assert item == flat


@settings(max_examples=150, deadline=None)
@given(
    target=st.sampled_from(["payload[{}]", "{}", "self.{}"]),
    name=_NAME,
    value=_values(),
    level=st.integers(1, 4),
)
def test_long_assignments_are_laid_out_as_black_lays_them_out(
    target: str, name: str, value: str, level: int
) -> None:
    """Where ``assign`` splits, black keeps it; where it cannot, the line stays long."""
    subject = target.format(f'"{name}"' if target.startswith("payload") else name)
    line = pycode.assign(subject, value, level)
    if max(map(len, line.split("\n"))) <= pycode.LINE_LENGTH:
        flat = f"{'    ' * level}{subject} = {value}"
        assert _black(_in_function(flat, level)) == _in_function(line, level)


@settings(max_examples=100, deadline=None)
@given(
    name=_NAME,
    params=st.lists(
        st.builds(lambda n, t: f"{n}: {t}", _NAME, st.sampled_from(["object", "dict[str, Any]"])),
        min_size=1,
        max_size=3,
    ),
    returns=st.builds(lambda n: f"{n.title().replace('_', '')}Draft | None", _NAME),
)
def test_long_function_heads_are_laid_out_as_black_lays_them_out(
    name: str, params: list[str], returns: str
) -> None:
    """One parameter: on its own line with a trailing comma, as black adds one; several:
    black's layout when they share a line, else one a line with a trailing comma, which
    black keeps."""
    head = pycode.def_line(name, params, returns)
    source = f"{head}\n    pass\n"
    if max(map(len, head.split("\n"))) > pycode.LINE_LENGTH:
        return  # a name too long for any layout: the module goes through black
    assert _black(source) == source
    if len(params) == 1 or "\n    " + ", ".join(params) + "\n" in head:
        flat = f"def {name}({', '.join(params)}) -> {returns}:\n    pass\n"
        assert _black(flat) == source
