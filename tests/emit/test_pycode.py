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


@st.composite
def _comparisons(draw: st.DrawFn) -> list[str]:
    owner = draw(st.sampled_from(["patch", "data", "customer_customer_demo"]))
    # Long names, so that operands often need the split before their operator.
    name = st.from_regex(r"[a-z][a-z_]{12,44}", fullmatch=True)
    operand = st.one_of(
        st.builds(lambda n: f"{owner}.{n}", name),
        st.builds(lambda n: f'data["{n}"]', name),
        st.builds(lambda n: f'"{n}"', name),
        st.sampled_from(["UNSET", "None", "data"]),
    )
    op = st.sampled_from(["!=", "==", "is not", "is", "in", "not in"])
    return draw(
        st.lists(st.builds(lambda a, o, b: f"{a} {o} {b}", operand, op, operand), min_size=2)
    )


@settings(max_examples=200, deadline=None)
@given(conditions=_comparisons(), level=st.integers(1, 4))
def test_long_conditions_are_laid_out_as_black_lays_them_out(
    conditions: list[str], level: int
) -> None:
    """Exploded ``and`` operands, each split before its operator when still too long:
    black keeps what fits; what does not fit stays long, and black runs on the module."""
    pad = "    " * level
    line = pycode.if_all(conditions, level)
    source = _in_function(f"{line}\n{pad}    pass", level)
    if max(map(len, line.split("\n"))) <= pycode.LINE_LENGTH:
        flat = f"{pad}if {' and '.join(conditions)}:\n{pad}    pass"
        assert _black(_in_function(flat, level)) == source


@settings(max_examples=120, deadline=None)
@given(
    name=st.from_regex(r"[A-Z][a-z]{0,3}(?:[A-Z][a-z]{1,8}){0,8}", fullmatch=True),
    fields=st.integers(0, 2),
)
def test_command_tables_are_laid_out_as_black_lays_them_out(name: str, fields: int) -> None:
    """The name table of an entity's commands, whatever the length of the entity's name:
    black keeps it, or it keeps a line too long and the module goes through black."""
    from persist_tool import ir
    from persist_tool.emit import reducers
    from persist_tool.emit.model import plan_entity

    key = ir.Field(name="id", column="id", type=ir.IntegerType(64), immutable=True)
    more = tuple(
        ir.Field(name=f"f{i}", column=f"f{i}", type=ir.StringType()) for i in range(fields)
    )
    entity = ir.Entity(name=name, table="t", fields=(key, *more), primary_key=("id",))
    table = reducers.commands_constant(plan_entity(entity))[1] + "\n"
    if max(map(len, table.split("\n"))) <= pycode.LINE_LENGTH:
        assert _black(table) == table


@settings(max_examples=200, deadline=None)
@given(
    key=st.from_regex(r"[a-z][a-z_]{5,40}", fullmatch=True),
    # Lengths around the line width: texts that need cutting, of pieces that often fit.
    lines=st.lists(
        st.from_regex(r"[A-Za-z][A-Za-z .:/#-]{10,40}", fullmatch=True), min_size=2, max_size=3
    ),
    level=st.integers(0, 3),
)
def test_texts_cut_at_newlines_are_laid_out_as_black_lays_them_out(
    key: str, lines: list[str], level: int
) -> None:
    """A text too long after its key sits in parentheses, on one line when its pieces fit
    there (black joins them), else one piece a line."""
    text = "\n".join(lines)
    value = {"type": "object", key: text}
    pad = "    " * level
    source = _in_function(f"{pad}x = {pycode.py_literal(value, level, 4)}", max(level, 1))
    if level == 0:
        source = f"x = {pycode.py_literal(value, 0, 4)}\n"
    if max(map(len, source.split("\n"))) <= pycode.LINE_LENGTH:
        assert _black(source) == source


_LONG_TEXT = st.text(
    alphabet=st.sampled_from(list("abcdefgh ._-/#()[]\\\"'")), min_size=60, max_size=110
)


@settings(max_examples=150, deadline=None)
@given(
    text=_LONG_TEXT,
    key=_NAME,
    form=st.sampled_from(["call", "dict", "constant", "piece"]),
    level=st.integers(1, 6),
)
def test_lines_black_cannot_split_are_left_long_by_black(
    text: str, key: str, form: str, level: int
) -> None:
    """What the black-stability check lets through as unsplittable (a lone string, or one
    ``key=``/``"key":`` item of a string or a constant, in exploded brackets) is left as it
    is by black."""
    from persist_tool.emit.entity import _unsplittable

    pad = "    " * level
    literal = pycode.py_str(text)
    item = {
        "call": f"{key}={literal},",
        "dict": f"{pycode.py_str(key)}: {literal},",
        "constant": f"{pycode.py_str(key + text)}: False,",
        "piece": literal,
    }[form]
    opening, closing = {
        "call": ("f(", ")"),
        "dict": ("{", "}"),
        "constant": ("{", "}"),
        "piece": ("(", ")"),
    }[form]
    if form == "piece":
        item = f"{literal}\n{pad}    {pycode.py_str('tail')}"
    body = f"{pad}x = {opening}\n{pad}    {item}\n{pad}{closing}"
    source = _in_function(body, level)
    lines = source.split("\n")
    index = lines.index(f"{pad}    {item.split(chr(10))[0]}")
    if len(lines[index]) <= pycode.LINE_LENGTH:
        return
    assert _unsplittable(lines, index)
    assert _black(source) == source


@settings(max_examples=30, deadline=None)
@given(text=_LONG_TEXT, level=st.integers(1, 4))
def test_a_long_string_alone_in_parentheses_is_left_to_black(text: str, level: int) -> None:
    """black drops parentheses around a lone string, so such a line sends the module to
    black."""
    from persist_tool.emit.entity import _unsplittable

    pad = "    " * level
    lines = _in_function(f"{pad}x = (\n{pad}    {pycode.py_str(text)}\n{pad})", level).split("\n")
    index = len(lines) - 3
    if len(lines[index]) > pycode.LINE_LENGTH:
        assert not _unsplittable(lines, index)


@settings(max_examples=60, deadline=None)
@given(
    name=st.from_regex(r"[a-z][a-z_]{0,30}", fullmatch=True).filter(
        lambda n: not keyword.iskeyword(n)
    ),
    items=st.lists(st.from_regex(r"[a-z*/?.()\[\]]{1,24}", fullmatch=True), max_size=8),
    as_dict=st.booleans(),
)
def test_list_and_dict_defaults_are_laid_out_as_black_lays_them_out(
    name: str, items: list[str], as_dict: bool
) -> None:
    """A draft field defaulting to a list or dict: the factory lambda's literal and the
    payload reader's fallback are exploded where they do not fit, and black keeps the
    module as it is."""
    from persist_tool import ir
    from persist_tool.emit.entity import render_entity_module

    value: object = {i: False for i in items} if as_dict else items
    kind: ir.FieldType = ir.JsonType({}) if as_dict else ir.ArrayType(ir.StringType())
    key = ir.Field(name="id", column="id", type=ir.IntegerType(64), immutable=True)
    field = ir.Field(
        name=name + "_x", column=name, type=kind, default=ir.Default(ir.Default.LITERAL, value)
    )
    entity = ir.Entity(name="Thing", table="things", fields=(key, field), primary_key=("id",))
    text = render_entity_module(
        entity, source="s.json", source_hash="0" * 64, dialects=("sqlite",), formatted=False
    ).text
    if max(map(len, text.split("\n")[1:])) <= pycode.LINE_LENGTH:
        assert _black(text) == text
