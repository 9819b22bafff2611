"""Parse JSON text and say where every value and key sits (line and column by JSON pointer).

``parse_json`` turns text into plain JSON values, reporting invalid input as a
``SourceError`` at the offending character: syntax errors (from ``json``), duplicate keys,
``NaN``/``Infinity`` (which Python's ``json`` accepts but JSON does not) and nesting too deep
to handle. The returned ``PositionIndex`` maps JSON pointers to ``(line, column)``: of the
member's key when the value is an object member, of the value otherwise.

Positions are found on demand: a pointer is followed from the root through the containers
on its way, each container's members read once with ``json``'s own scanner (which also
steps over every member's value). A reader asks for a few places per definition, so most of
the text is never looked at by Python code. Invalid input is located by ``scan_offsets``, a
small tokenizer over the whole text that records every pointer; the tests hold the two to
the same answers. It also answers for a document nested too deeply for ``json``'s scanner
at the depth of the caller's stack.
"""

from __future__ import annotations

import bisect
import json
import re
import sys
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined, unused-ignore]
from typing import Any

from persist_tool.ir import Location, SourceError

__all__ = ["PositionIndex", "escape_pointer", "parse_json", "scan_offsets"]

_TOKEN = re.compile(
    r"""[ \t\n\r]*(?:
        (?P<punct>[{}\[\],:])
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<constant>NaN|-?Infinity)
      | (?P<scalar>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null)
    )""",
    re.VERBOSE | re.DOTALL,
)


def escape_pointer(part: str | int) -> str:
    """Return one JSON pointer segment, escaped (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    text = part if type(part) is str else str(part)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


class _BadConstant(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _BadConstant(name)


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice (``scan_offsets`` says where)."""
    built = dict(pairs)
    if len(built) != len(pairs):
        raise _DuplicateKey
    return built


_SPACE = re.compile(r"[ \t\n\r]*")
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"[ \t\n\r]*:[ \t\n\r]*', re.DOTALL).match
"""A member's key, its colon and the space before its value."""
_SPACE_COMMA = re.compile(r"[ \t\n\r]*,?[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _next_member(text: str, pos: int) -> int:
    """Return where the member after the value ending at ``pos`` starts (or the closing)."""
    match = _SPACE_COMMA.match(text, pos)
    return match.end() if match else pos


_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_VALUE_END = json.JSONDecoder().raw_decode
_Members = dict[str, tuple[int, int]] | list[int]
"""An object's members by key (key offset, value offset), or an array's value offsets."""


@dataclass(slots=True)
class PositionIndex:
    """Where each JSON pointer's key (or value) starts in the text (valid JSON only)."""

    file: str
    text: str
    line_starts: list[int] = field(default_factory=list)
    _containers: dict[int, _Members | None] = field(default_factory=dict)
    _places: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Pointers followed so far: (offset, offset of the value)."""
    _scanned: dict[str, int] | None = None

    def position(self, pointer: str) -> tuple[int, int]:
        """Return ``(line, column)`` of ``pointer`` (1-based), or of its nearest ancestor."""
        return self._line_col(self.offset(pointer))

    def offset(self, pointer: str) -> int:
        """Return the text offset of ``pointer``, or of its nearest ancestor."""
        try:
            return self._follow(pointer)
        except RecursionError:  # json's scanner recurses; the scan does not
            if self._scanned is None:
                self._scanned = scan_offsets(self)
            while pointer not in self._scanned and pointer:
                pointer = pointer.rsplit("/", 1)[0] if pointer.startswith("/") else ""
            return self._scanned.get(pointer, 0)

    def _follow(self, pointer: str) -> int:
        places = self._places
        if not places:
            root = _skip_space(self.text, 0)
            places[""] = (root, root)
        if not pointer.startswith("/"):
            return places[""][0]
        # Up to the nearest pointer already followed (siblings share their parent), then
        # down one member at a time.
        head, below = pointer, []
        while head not in places:
            head, _, part = head.rpartition("/")
            below.append(part)
        found, value = places[head]
        for part in reversed(below):
            place = self._member(value, part)
            if place is None:
                break
            head = f"{head}/{part}"
            places[head] = place
            found, value = place
        return found

    def _member(self, container: int, part: str) -> tuple[int, int] | None:
        """Return (offset, value offset) of member ``part`` of the value at ``container``."""
        members = self._members(container)
        if isinstance(members, dict):
            key = part.replace("~1", "/").replace("~0", "~")
            return members.get(key) if escape_pointer(key) == part else None
        if members is not None and _ARRAY_INDEX.fullmatch(part) and int(part) < len(members):
            item = members[int(part)]
            return item, item
        return None

    def _members(self, start: int) -> _Members | None:
        """Return the members of the container starting at ``start`` (``None``: a scalar)."""
        if start in self._containers:
            return self._containers[start]
        text = self.text
        members: _Members | None = None
        if text[start] == "{":
            keys: dict[str, tuple[int, int]] = {}
            pos = _skip_space(text, start + 1)
            while (match := _KEY(text, pos)) is not None:
                key = match.group(1)
                if "\\" in key:
                    key = scanstring(text, pos + 1)[0]
                value = match.end()
                keys[key] = (pos, value)
                pos = _next_member(text, _VALUE_END(text, value)[1])
            members = keys
        elif text[start] == "[":
            items: list[int] = []
            pos = _skip_space(text, start + 1)
            while text[pos] != "]":
                items.append(pos)
                pos = _next_member(text, _VALUE_END(text, pos)[1])
            members = items
        self._containers[start] = members
        return members

    def location(self, pointer: str) -> Location:
        """Return the ``Location`` of ``pointer`` in this file."""
        line, column = self.position(pointer)
        return Location(self.file, line, column, pointer)

    def _line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def _error(self, offset: int, message: str, hint: str | None = None) -> SourceError:
        line, column = self._line_col(offset)
        return SourceError(Location(self.file, line, column), message, hint)


def parse_json(text: str, file: str) -> tuple[Any, PositionIndex]:
    """Return the JSON value of ``text`` and its position index; ``SourceError`` when invalid."""
    index = PositionIndex(file, text)
    index.line_starts = [0, *(m.end() for m in re.finditer("\n", text))]
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise SourceError(
            Location(file, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}"
        ) from None
    except (_BadConstant, _DuplicateKey, ValueError) as exc:
        # ValueError: an integer longer than int() takes (sys.get_int_max_str_digits()).
        scan_offsets(index)  # raises at the first such place in the text
        raise SourceError(Location(file, 1, 1), f"invalid JSON: {exc}") from None
    except RecursionError:
        raise SourceError(Location(file, 1, 1), "invalid JSON: nested too deeply to read") from None
    return data, index


def _too_many_digits(token: str) -> bool:
    """Tell whether number ``token`` is an integer too long for ``int()`` to read."""
    limit = sys.get_int_max_str_digits()
    digits = len(token) - token.startswith("-")
    return 0 < limit < digits and token[-1].isdigit() and not any(c in token for c in ".eE")


def scan_offsets(index: PositionIndex) -> dict[str, int]:
    """Return the offset of every pointer; report duplicate keys and non-JSON constants.

    ``PositionIndex.offset`` gives the same answers for valid text, finding them lazily.
    """
    offsets: dict[str, int] = {}
    text = index.text
    # Each frame: [pointer, is_object, next array index, keys seen].
    stack: list[list[Any]] = []
    pos = 0
    pending_key: str | None = None
    key_offset = 0
    expect_key = False
    while True:
        match = _TOKEN.match(text, pos)
        if match is None:
            return offsets  # trailing whitespace only: json.loads validated the rest
        pos = match.end()
        start = match.start(match.lastgroup or 0)
        kind = match.lastgroup
        token = match.group(kind or 0)
        if kind == "constant":
            raise index._error(
                start, f"invalid JSON: {token} is not a JSON number", "use null or a string"
            )
        if kind == "scalar" and _too_many_digits(token):
            raise index._error(
                start,
                f"invalid JSON: an integer of {len(token.lstrip('-'))} digits is more than"
                f" Python reads ({sys.get_int_max_str_digits()})",
                "write it as a string, or with a fraction or an exponent if a float will do",
            )
        if kind == "punct" and token in "}]":
            stack.pop()
            expect_key = False  # set by an empty object's "{"; a "," decides what is next
            if not stack:
                return offsets
            continue
        if kind == "punct" and token == ",":
            top = stack[-1]
            if top[1]:
                expect_key = True
            else:
                top[2] += 1
            continue
        if kind == "punct" and token == ":":
            continue
        if expect_key:
            # Most keys have no escapes: their text between the quotes is the key.
            key = json.loads(token) if "\\" in token else token[1:-1]
            top = stack[-1]
            if key in top[3]:
                raise index._error(
                    start,
                    f"duplicate key {key!r} in JSON object",
                    "JSON readers disagree on which value wins; keep one",
                )
            top[3].add(key)
            pending_key, key_offset, expect_key = key, start, False
            continue
        # A value starts here.
        if not stack:
            pointer = ""
            offset = start
        elif stack[-1][1]:
            pointer = f"{stack[-1][0]}/{escape_pointer(pending_key or '')}"
            offset = key_offset
        else:
            pointer = f"{stack[-1][0]}/{stack[-1][2]}"
            offset = start
        offsets[pointer] = offset
        if kind == "punct" and token == "{":
            stack.append([pointer, True, 0, set()])
            expect_key = True  # an empty object's "}" is handled before keys
        elif kind == "punct" and token == "[":
            stack.append([pointer, False, 0, None])
        elif not stack:
            return offsets
