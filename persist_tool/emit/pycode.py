"""Render Python source fragments the way black would lay them out.

Generated modules must be black-stable without running black on every generation, so the
fragments here follow black's rules by construction: double-quoted strings (unless that
needs more escapes), a construct stays on one line when it fits in ``LINE_LENGTH`` and is
otherwise exploded one element per line with a magic trailing comma, which black keeps.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "LINE_LENGTH",
    "call",
    "docstring",
    "hugging_call",
    "Code",
    "assign",
    "if_all",
    "join_lines",
    "long_string",
    "py_literal",
    "py_str",
    "wrapped_literal",
]

LINE_LENGTH = 88
"""black's default line length."""

_ESCAPES = {
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\0": "\\x00",
}


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF or (not ch.isprintable() and code > 0x7F):
        # Lone surrogates and invisible characters are spelled out so the file stays
        # valid UTF-8 and readable.
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return ch


_TRANSLATE = {code: _escape_char(chr(code)) for code in (*range(0x20), 0x5C, 0x7F)}
"""Backslash and control characters, escaped with ``str.translate`` (fast on long texts)."""


def _needs_escape(ch: str) -> bool:
    """Tell whether a non-ASCII character is spelled as an escape in generated code.

    Letters and digits of any script stay readable; invisible characters and lone
    surrogates must be escaped, and punctuation look-alikes (U+2019 for ') are what
    linters flag as ambiguous.
    """
    if ch.isascii():
        return False
    return not ch.isprintable() or unicodedata.category(ch)[0] not in "LN"


def _unicode_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


class Code(str):
    """Source text that ``py_literal`` writes as it is (a constant's name, say)."""

    __slots__ = ()


_PY_STR: dict[str, str] = {}
_PY_LITERAL: dict[tuple[str, int, int], str] = {}
_SHARED_FLATS: dict[int, tuple[object, str, bool]] = {}  # id -> (container, text, has Code)
_CACHE_LIMIT = 1 << 16  # entries; a cache is emptied when it grows past this
_SHARED_LAYOUT_MAX = 4096  # characters of one-line text, for exploded layouts kept


def py_str(text: str) -> str:
    """Return a string literal for ``text`` as black would quote it."""
    # Generated modules repeat the same short strings (keys, type names) thousands of times.
    literal = _PY_STR.get(text)
    if literal is None:
        if len(_PY_STR) >= _CACHE_LIMIT:
            _PY_STR.clear()
        literal = _PY_STR[text] = _quote(text)
    return literal


def _quote(text: str) -> str:
    # Most texts are printable ASCII without a backslash: nothing to translate.
    if text.isascii() and text.isprintable() and "\\" not in text:
        body = text
    else:
        body = text.translate(_TRANSLATE)
    if not body.isascii():
        body = "".join(_unicode_escape(ch) if _needs_escape(ch) else ch for ch in body)
    # black keeps double quotes unless they need more escapes than single quotes would.
    if body.count('"') > body.count("'"):
        return "'" + body.replace("'", "\\'") + "'"
    return '"' + body.replace('"', '\\"') + '"'


def py_literal(value: Any, indent_level: int = 0, prefix_len: int = 0) -> str:
    """Return a Python literal for a JSON value (``True``/``False``/``None`` spelled out).

    Containers stay on one line when ``prefix_len + len(line)`` fits at ``indent_level``;
    otherwise they are exploded with trailing commas.
    """
    return _Literal().layout(value, indent_level, prefix_len)


class _Literal:
    """One ``py_literal`` rendering: each container's one-line text is made once.

    Exploding a container needs the one-line text of every child to decide its layout; the
    texts are kept by object identity. Values rendered are never modified afterwards (IR
    values are immutable, emitters build fresh ones), and readers share sub-schemas between
    entities, so a container's text is also kept across calls, with the container itself so
    that its identity stays unique. Exploded layouts of containers without ``Code`` are kept
    across calls by their one-line text, which determines the layout.
    """

    __slots__ = ("coded", "flats")

    def __init__(self) -> None:
        self.flats: dict[int, str] = {}
        self.coded: set[int] = set()  # containers holding ``Code`` somewhere inside

    def flat(self, value: Any) -> str:
        if type(value) is str:
            return py_str(value)
        if isinstance(value, Code):
            return str(value)
        if value is None or isinstance(value, bool | int):
            return repr(value)
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, str):
            return py_str(value)
        key = id(value)
        text = self.flats.get(key)
        if text is not None:
            return text
        shared = _SHARED_FLATS.get(key)
        if shared is not None and shared[0] is value:
            if shared[2]:
                self.coded.add(key)
            self.flats[key] = shared[1]
            return shared[1]
        if isinstance(value, Mapping):
            text = "{" + ", ".join(f"{py_str(str(k))}: {self.flat(v)}" for k, v in value.items())
            text += "}"
            children: Any = value.values()
        elif isinstance(value, tuple):
            inner = ", ".join(self.flat(v) for v in value)
            text = f"({inner},)" if len(value) == 1 else f"({inner})"
            children = value
        elif isinstance(value, list):
            text = "[" + ", ".join(self.flat(v) for v in value) + "]"
            children = value
        else:
            raise TypeError(f"not a literal value: {value!r}")
        coded = any(isinstance(v, Code) or id(v) in self.coded for v in children)
        if coded:
            self.coded.add(key)
        self.flats[key] = text
        if len(_SHARED_FLATS) >= _CACHE_LIMIT:
            _SHARED_FLATS.clear()
        _SHARED_FLATS[key] = (value, text, coded)
        return text

    def layout(self, value: Any, indent_level: int, prefix_len: int) -> str:
        flat = self.flat(value)
        fits = indent_level * 4 + prefix_len + len(flat) + 1 <= LINE_LENGTH
        if isinstance(value, str) and not isinstance(value, Code) and not fits and prefix_len > 0:
            # Inside an exploded container: a parenthesised concatenation keeps lines short.
            return split_string(value, indent_level)
        if fits or not isinstance(value, (dict, list, tuple)) or not value:
            return flat
        # Long texts are one module's own (a whole bundle): not worth keeping.
        shared = id(value) not in self.coded and len(flat) <= _SHARED_LAYOUT_MAX
        key = (flat, indent_level, prefix_len)
        if shared and key in _PY_LITERAL:
            return _PY_LITERAL[key]
        pad = "    " * (indent_level + 1)
        lines: list[str] = []
        if isinstance(value, Mapping):
            for k, v in value.items():
                name = py_str(str(k)) + ": "
                lines.append(pad + name + self.layout(v, indent_level + 1, len(name) + 1) + ",")
            open_, close = "{", "}"
        else:
            for v in value:
                lines.append(pad + self.layout(v, indent_level + 1, 1) + ",")
            open_, close = ("(", ")") if isinstance(value, tuple) else ("[", "]")
        text = open_ + "\n" + "\n".join(lines) + "\n" + "    " * indent_level + close
        if shared:
            if len(_PY_LITERAL) >= _CACHE_LIMIT:
                _PY_LITERAL.clear()
            _PY_LITERAL[key] = text
        return text


def _flat_literal(value: Any) -> str:
    return _Literal().flat(value)


def call(head: str, args: Sequence[str], indent_level: int, tail: str = "") -> str:
    """Return ``head(args)tail`` on one line if it fits, else one argument per line.

    ``head`` includes everything before the opening parenthesis (``x = f``), ``tail``
    whatever follows the closing one (``:`` for a ``def``). Arguments must already be
    rendered (they may span lines themselves when exploded).
    """
    pad = "    " * indent_level
    flat = f"{pad}{head}({', '.join(args)}){tail}"
    if (len(flat) <= LINE_LENGTH and "\n" not in flat) or not args:
        return flat
    inner = "    " * (indent_level + 1)
    body = "\n".join(f"{inner}{a}," for a in args)
    return f"{pad}{head}(\n{body}\n{pad}){tail}"


def hugging_call(head: str, args: Sequence[str], indent_level: int, tail: str = "") -> str:
    """Return ``head(args)tail`` split the way black splits a line without a magic comma.

    One line when it fits; else the arguments on one line of their own between the opening
    and the closing line, when that fits (black's right-hand split); else one argument per
    line with a trailing comma. Arguments must be flat (one line each).
    """
    pad = "    " * indent_level
    joined = ", ".join(args)
    flat = f"{pad}{head}({joined}){tail}"
    if len(flat) <= LINE_LENGTH or not args:
        return flat
    inner = "    " * (indent_level + 1)
    if (
        len(inner) + len(joined) <= LINE_LENGTH
        and len(f"{pad}{head}(") <= LINE_LENGTH
        and len(f"{pad}){tail}") <= LINE_LENGTH
    ):
        return f"{pad}{head}(\n{inner}{joined}\n{pad}){tail}"
    return call(head, args, indent_level, tail)


def def_line(name: str, params: Sequence[str], returns: str) -> str:
    """Return ``def name(params) -> returns:`` laid out as black lays it out when long.

    A single parameter goes on a line of its own with a trailing comma (black adds one);
    several share one line between the brackets when they fit there, else one a line.
    """
    tail = f" -> {returns}:"
    if len(params) == 1:
        return call(f"def {name}", params, 0, tail)
    return hugging_call(f"def {name}", params, 0, tail)


def wrapped_literal(fn: str, value: Any, indent_level: int, suffix: str = "") -> str:
    """Return ``fn(<literal>)`` for a sole literal argument, laid out as black would.

    The first line is not indented (it continues a line the caller starts); following
    lines are indented for ``indent_level``, the level of that first line. ``suffix`` is
    what follows the closing parenthesis on its line (``,`` inside an exploded call).
    """
    pad = "    " * indent_level
    literal = _flat_literal(value)
    flat = f"{fn}({literal})"
    if len(pad) + len(flat) + len(suffix) <= LINE_LENGTH:
        return flat
    inner = pad + "    "
    if len(inner) + len(literal) > LINE_LENGTH:
        literal = py_literal(value, indent_level + 1)
    return f"{fn}(\n{inner}{literal}\n{pad})"


def _string_pieces(text: str, room: int) -> list[str]:
    """Cut ``text`` after newlines and, for long lines, at spaces, into literals of ``room``."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        while len(py_str(line)) > room:
            cut = line.rfind(" ", 1, room - 8)
            if cut <= 0:
                cut = max(1, room - 8)
            # Never cut inside an escape's source character run: cut on characters.
            pieces.append(line[:cut])
            line = line[cut:]
        if line:
            pieces.append(line)
    return pieces or [""]


def split_string(text: str, indent_level: int) -> str:
    """Return ``(`` + one literal per line + ``)`` for a string too long for one line.

    The parentheses open on the current line; the pieces sit one level deeper and the
    closing parenthesis at ``indent_level``. black keeps this layout as it is.
    """
    pad = "    " * indent_level
    room = LINE_LENGTH - len(pad) - 4 - 2
    literals = [py_str(p) for p in _string_pieces(text, room)]
    joined = " ".join(literals)
    if len(pad) + 4 + len(joined) <= LINE_LENGTH:
        # black joins the pieces of a concatenation that fits between the parentheses
        # (a text cut only at its newlines, moved off a line with a long prefix).
        return f"(\n{pad}    {joined}\n{pad})"
    inner = "\n".join(f"{pad}    {literal}" for literal in literals)
    return f"(\n{inner}\n{pad})"


def long_string(text: str, indent_level: int, suffix: str = ",") -> str:
    """Return a string literal that fits the line, splitting it into implicit concatenation.

    The flat literal is used when ``indent + literal + suffix`` fits; otherwise the text is
    cut into pieces of at most the line length, one per line inside parentheses.
    """
    pad = "    " * indent_level
    flat = py_str(text)
    if len(pad) + len(flat) + len(suffix) <= LINE_LENGTH:
        return f"{pad}{flat}{suffix}"
    return f"{pad}{split_string(text, indent_level)}{suffix}"


def assign(target: str, expr: str, indent_level: int) -> str:
    """Return ``target = expr``, the value wrapped in parentheses as black does when long.

    A value ending in a bracket (a call, a list) is split at that bracket instead, as
    black prefers (``x = f(`` / ``args`` / ``)``).
    """
    pad = "    " * indent_level
    flat = f"{pad}{target} = {expr}"
    if len(flat) <= LINE_LENGTH:
        return flat
    ternary = _TERNARY.fullmatch(expr)
    if ternary is None and _ends_in_brackets(expr):
        # Where black's choice is not the bracket split, it runs on the module.
        return bracket_split(f"{target} = ", expr, "", indent_level) or flat
    return _parenthesized(f"{target} = ", expr, "", indent_level, ternary) or flat


def _parenthesized(
    prefix: str, expr: str, suffix: str, indent_level: int, ternary: re.Match[str] | None
) -> str | None:
    """Return ``prefix(`` + ``expr`` one level deeper + ``)suffix``, as black wraps a long
    value: a conditional exploded at ``if`` and ``else`` when even that is too long; ``None``
    when that does not fit either (black then splits further, and runs on the module)."""
    pad = "    " * indent_level
    inner = pad + "    "
    if len(inner) + len(expr) <= LINE_LENGTH:
        return f"{pad}{prefix}(\n{inner}{expr}\n{pad}){suffix}"
    if ternary is None or len(inner) + max(map(len, ternary.groups())) > LINE_LENGTH:
        return None
    parts = "\n".join(f"{inner}{p}" for p in ternary.groups())
    return f"{pad}{prefix}(\n{parts}\n{pad}){suffix}"


_TERNARY = re.compile(r"(None) (if \S+ is None) (else .+)")
"""``None if x is None else f(x)``, the one conditional expression generated code uses."""

_CLOSING = {")": "(", "]": "[", "}": "{"}


def _ends_in_brackets(expr: str) -> bool:
    return expr[-1:] in _CLOSING


def bracket_split(prefix: str, expr: str, suffix: str, indent_level: int) -> str | None:
    """Return ``prefix + expr + suffix`` split at ``expr``'s last bracket, as black does.

    ``expr`` must be one operand ending in a bracket (``f(x)``, ``[v for v in x]``) whose
    contents fit on one line: ``prefix`` and the opening bracket, the contents one level
    deeper, then the closing bracket and ``suffix``. ``None`` when ``expr`` is not of that
    form or a line would still be too long (black's choices there are left to black).
    """
    if not _ends_in_brackets(expr) or '"' in expr or "'" in expr:
        return None
    depth = 0
    for index in range(len(expr) - 1, -1, -1):
        char = expr[index]
        if char in _CLOSING:
            depth += 1
        elif char in "([{":
            depth -= 1
            if depth == 0:
                break
    else:
        return None
    head, body = expr[: index + 1], expr[index + 1 : -1]
    if " " in head or not body or head[:-1].endswith((" ", "(")):
        return None  # an operator before the last bracket: a split of another kind
    if index == 0 and "," in body:
        return None  # a literal of several items: black puts one a line
    pad = "    " * indent_level
    lines = (f"{pad}{prefix}{head}", f"{pad}    {body}", f"{pad}{expr[-1]}{suffix}")
    if max(map(len, lines)) > LINE_LENGTH:
        return None
    return "\n".join(lines)


def dict_item(key: str, value: str, indent_level: int) -> str:
    """Return ``key: value,`` in an exploded dict, laid out as black does when long.

    A conditional value goes in parentheses (exploded at ``if`` and ``else`` when even that
    is too long); a value ending in a bracket is split at it. Other long items are left
    long, for black.
    """
    pad = "    " * indent_level
    flat = f"{pad}{key}: {value},"
    if len(flat) <= LINE_LENGTH:
        return flat
    ternary = _TERNARY.fullmatch(value)
    if ternary is None:
        return bracket_split(f"{key}: ", value, ",", indent_level) or flat
    return _parenthesized(f"{key}: ", value, ",", indent_level, ternary) or flat


def if_all(conditions: list[str], indent_level: int) -> str:
    """Return ``if a and b:`` laid out as black does when the line is too long.

    First the whole condition inside parentheses on its own line; when even that is too
    long, one operand per line with ``and`` leading; an operand line still too long is
    split before its comparison operator (``a`` / ``!= b``), as black splits it.
    """
    pad = "    " * indent_level
    joined = " and ".join(conditions)
    flat = f"{pad}if {joined}:"
    if len(flat) <= LINE_LENGTH:
        return flat
    inner = pad + "    "
    if len(inner) + len(joined) <= LINE_LENGTH:
        return f"{pad}if (\n{inner}{joined}\n{pad}):"
    lines = [
        _split_comparison(f"{inner}{'and ' if i else ''}{c}", inner)
        for i, c in enumerate(conditions)
    ]
    return f"{pad}if (\n" + "\n".join(lines) + f"\n{pad}):"


# A comparison of two plain operands (names, attributes, subscripts by a string): what the
# emitters compare in conditions. Anything else (a call, a string with spaces) is left for
# black to lay out.
_OPERAND = r'(?:[\w.]+(?:\["\w*"\])?|"\w*")'
_COMPARISON = re.compile(
    rf"(?P<head>(?:and )?{_OPERAND}) (?P<op>!=|==|is not|is|not in|in) (?P<tail>{_OPERAND})"
)


def _split_comparison(line: str, pad: str) -> str:
    """Return an operand line of an exploded condition, split before its comparison
    operator when too long; as it is when it fits or is no plain comparison."""
    if len(line) <= LINE_LENGTH:
        return line
    match = _COMPARISON.fullmatch(line, len(pad))
    if match is None:
        return line
    return f"{pad}{match['head']}\n{pad}{match['op']} {match['tail']}"


_DOCSTRINGS: dict[tuple[str, int, int], str | None] = {}


def docstring(text: str | None, indent_level: int, width: int = 72) -> str | None:
    """Return a black-stable docstring block, or ``None`` when there is no text.

    Text is wrapped, backslashes and triple quotes escaped, and trailing whitespace dropped,
    which is what black would do to a hand-written one.
    """
    if text is None:
        return None
    # Every module repeats the same method docstrings; wrapping is the costly part.
    key = (text, indent_level, width)
    if key not in _DOCSTRINGS:
        if len(_DOCSTRINGS) >= _CACHE_LIMIT:
            _DOCSTRINGS.clear()
        _DOCSTRINGS[key] = _docstring(text, indent_level, width)
    return _DOCSTRINGS[key]


def _docstring(text: str, indent_level: int, width: int) -> str | None:
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n")]
    paragraphs = [" ".join(p.split()) for p in paragraphs if p.strip()]
    if not paragraphs:
        return None
    pad = "    " * indent_level
    room = max(20, min(width, LINE_LENGTH - len(pad)))
    out_lines: list[str] = []
    for i, para in enumerate(paragraphs):
        if i:
            out_lines.append("")
        if len(para) <= room:
            # What textwrap gives for a paragraph that fits (its spaces are single already).
            out_lines.append(para)
        else:
            out_lines.extend(
                textwrap.wrap(para, room, break_long_words=False, break_on_hyphens=False)
            )
    escaped = [_escape_doc(line) for line in out_lines]
    if len(escaped) == 1:
        line = escaped[0]
        if line.endswith('"'):
            line += " "
        single = f'{pad}"""{line}"""'
        if len(single) <= LINE_LENGTH:
            return single
        return f'{pad}"""{line}\n{pad}"""'
    body = "\n".join(f"{pad}{line}" if line else "" for line in escaped[1:])
    first = escaped[0]
    return f'{pad}"""{first}\n{body}\n{pad}"""'


def _doc_char(ch: str) -> str:
    """Return how one character of documentation text is written inside a docstring."""
    if ch == "\\":
        return "\\\\"
    if ord(ch) < 0x20:
        return f"\\x{ord(ch):02x}"
    return _unicode_escape(ch) if _needs_escape(ch) else ch


def _escape_doc(line: str) -> str:
    if line.isascii() and line.isprintable() and "\\" not in line:
        out = line  # nothing to escape character by character
    else:
        out = "".join(_doc_char(ch) for ch in line)
    out = out.replace('"""', '\\"\\"\\"')
    return out.rstrip()


def join_lines(*parts: str | None) -> str:
    """Join code lines, leaving out the ``None`` parts (an absent docstring, say)."""
    return "\n".join(p for p in parts if p is not None)
