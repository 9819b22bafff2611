"""JSON positions found on demand are the ones a scan of the whole text records."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persist_tool.ir import SourceError
from persist_tool.readers.jsonschema_positions import escape_pointer, parse_json, scan_offsets
from tests.conftest import CORPUS

_KEYS = st.text(st.sampled_from('ab/~"\\é\n '), max_size=4)
_NUMBERS = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
_SCALARS = st.none() | st.booleans() | _NUMBERS | _KEYS
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=25,
)
_LAYOUTS = st.sampled_from(
    [
        {"indent": None},
        {"indent": 2},
        {"indent": "\t"},
        {"indent": None, "separators": (",", ":")},
        {"indent": 0, "separators": (" , ", " : ")},
    ]
)


def old_position(offsets: dict[str, int], pointer: str) -> int:
    """Return what the index answered when it looked pointers up in the scan's table."""
    while pointer not in offsets and pointer:
        pointer = pointer.rsplit("/", 1)[0]
    return offsets.get(pointer, 0)


def assert_same_offsets(text: str) -> None:
    _, index = parse_json(text, "x.json")
    offsets = scan_offsets(index)
    for pointer, offset in offsets.items():
        assert index.offset(pointer) == offset, pointer
        for missing in ("/zz", "/0~2", "/01", "/99", "/"):
            assert index.offset(pointer + missing) == old_position(offsets, pointer + missing)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES, layout=_LAYOUTS, padding=st.sampled_from(["", " ", "\n\t "]))
def test_every_pointer_is_found_where_the_scan_finds_it(
    value: Any, layout: dict[str, Any], padding: str
) -> None:
    assert_same_offsets(padding + json.dumps(value, **layout) + padding)


def test_keys_with_escapes_are_found_by_their_escaped_pointer() -> None:
    text = '{\n  "a/b": {"~": [1, {"x\\u0041": 2}]}\n}'
    _, index = parse_json(text, "x.json")
    pointer = f"/{escape_pointer('a/b')}/{escape_pointer('~')}/1/xA"
    assert index.position(pointer) == (2, 21)
    assert index.position("/a~1b/~0/1") == (2, 20)
    assert index.position("/a~1b/~2") == (2, 3)  # not a pointer any key escapes to
    assert index.position("/a~1b/~0/01") == (2, 11)  # not an array index: the array's key


def test_a_pointer_no_key_escapes_to_is_not_taken_for_that_key() -> None:
    _, index = parse_json('{"~2": 1, "a~b": 2}', "x.json")
    assert index.position("/~02") == (1, 2)
    assert index.position("/a~0b") == (1, 11)
    assert index.position("/~2") == (1, 1)  # "~2" is no escape: the root, as before


@pytest.mark.parametrize(
    "path", sorted((CORPUS / "jsonschema").rglob("*.json")), ids=lambda p: p.name
)
def test_corpus_documents_give_the_scan_s_positions(path: Path) -> None:
    assert_same_offsets(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ('{\n  "a": 1,\n  "a": 2\n}', "duplicate key 'a' in JSON object", 3, 3),
        ('[{"k": {"x": 1, "x": 1}}]', "duplicate key 'x' in JSON object", 1, 17),
        ('{"a": [1, NaN]}', "NaN is not a JSON number", 1, 11),
        ('{"a": -Infinity}', "-Infinity is not a JSON number", 1, 7),
    ],
)
def test_invalid_json_is_reported_where_it_is(
    text: str, message: str, line: int, column: int
) -> None:
    with pytest.raises(SourceError) as caught:
        parse_json(text, "x.json")
    location = caught.value.location
    assert location is not None and (location.line, location.column) == (line, column)
    assert message in str(caught.value)


def test_an_array_with_an_empty_object_before_other_items_reads_and_scans() -> None:
    text = '{"enum": [{}, 1, {}], "x": [[], {}]}'
    data, index = parse_json(text, "x.json")
    assert data == {"enum": [{}, 1, {}], "x": [[], {}]}
    assert index.position("/enum/1") == (1, 15)
    assert scan_offsets(index)["/enum/1"] == 14


def test_an_integer_too_long_for_python_is_reported_where_it_is() -> None:
    digits = sys.get_int_max_str_digits() + 1
    text = '{\n  "maximum": -1' + "0" * (digits - 1) + ',\n  "x": 1.' + "0" * digits + "\n}"
    with pytest.raises(SourceError) as caught:
        parse_json(text, "x.json")
    location = caught.value.location
    assert location is not None and (location.line, location.column) == (2, 14)
    assert f"an integer of {digits} digits" in str(caught.value)
    assert caught.value.hint is not None and "string" in caught.value.hint


def test_a_document_too_deep_for_the_scanner_at_the_caller_s_depth_is_still_placed() -> None:
    depth = 150
    text = '{"a": ' * depth + "1" + "}" * depth
    _, index = parse_json(text, "x.json")
    expected = scan_offsets(index)["/a" * depth]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth // 2)  # json's scanner now fails on the outer containers
    try:
        assert index.offset("/a" * depth) == expected
        assert index.offset("/a" * depth + "/b") == expected
    finally:
        sys.setrecursionlimit(limit)
