"""Parse JSON text and say where every value and key sits (line and column by JSON pointer).

``parse_json`` turns text into plain JSON values, reporting invalid input as a
``SourceError`` at the offending character: syntax errors (from ``json``), duplicate keys,
``NaN``/``Infinity`` (which Python's ``json`` accepts but JSON does not) and nesting too deep
to handle. The returned ``PositionIndex`` maps JSON pointers to ``(line, column)``: of the
member's key when the value is an object member, of the value otherwise. This is a small
tokenizer over the already-validated text, used only to point at places in error messages
and locations.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from persist_tool.ir import Location, SourceError

__all__ = ["PositionIndex", "escape_pointer", "parse_json"]

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


@dataclass(slots=True)
class PositionIndex:
    """Where each JSON pointer's key (or value) starts in the text."""

    file: str
    text: str
    offsets: dict[str, int] = field(default_factory=dict)
    line_starts: list[int] = field(default_factory=list)

    def position(self, pointer: str) -> tuple[int, int]:
        """Return ``(line, column)`` of ``pointer`` (1-based), or of its nearest ancestor."""
        while pointer not in self.offsets and pointer:
            pointer = pointer.rsplit("/", 1)[0]
        return self._line_col(self.offsets.get(pointer, 0))

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
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SourceError(
            Location(file, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}"
        ) from None
    except _BadConstant:
        data = None  # the scan below reports the constant at its place
    except RecursionError:
        raise SourceError(Location(file, 1, 1), "invalid JSON: nested too deeply to read") from None
    _scan(index)
    return data, index


def _scan(index: PositionIndex) -> None:
    """Record the offset of every pointer; report duplicate keys and non-JSON constants."""
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
            return  # trailing whitespace only: json.loads validated the rest
        pos = match.end()
        start = match.start(match.lastgroup or 0)
        kind = match.lastgroup
        token = match.group(kind or 0)
        if kind == "constant":
            raise index._error(
                start, f"invalid JSON: {token} is not a JSON number", "use null or a string"
            )
        if kind == "punct" and token in "}]":
            stack.pop()
            if not stack:
                return
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
        index.offsets[pointer] = offset
        if kind == "punct" and token == "{":
            stack.append([pointer, True, 0, set()])
            expect_key = True  # an empty object's "}" is handled before keys
        elif kind == "punct" and token == "[":
            stack.append([pointer, False, 0, None])
        elif not stack:
            return
