"""The runtime's pieces of the generated payload fast path: ``exact_*`` and ``frozen_builder``.

Each ``exact_*`` function must return what its reader returns for a string the reader
accepts without an issue, and ``None`` for everything else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from persist_runtime import Issue
from persist_runtime import payload as _p

offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=3))]
)
iso_like = st.one_of(
    st.datetimes().map(datetime.isoformat),
    st.datetimes(timezones=offsets).map(datetime.isoformat),
    st.datetimes().map(lambda d: d.isoformat(sep=" ", timespec="minutes")),
    st.datetimes(timezones=offsets).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    st.dates().map(date.isoformat),
    st.times().map(time.isoformat),
    st.times(timezones=offsets).map(time.isoformat),
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex.upper()),
    st.text(alphabet="0123456789-:T.+Z ", max_size=30),
    st.text(max_size=12),
)
anything = st.one_of(
    iso_like,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.datetimes(),
    st.dates(),
    st.times(),
    st.uuids(),
    st.lists(st.integers(), max_size=2),
)

EXACT_AND_READERS: list[tuple[Callable[[object], object], Callable[..., object]]] = [
    (_p.exact_datetime, _p.read_datetime),
    (lambda v: _p.exact_datetime(v, tz=True), lambda v, p, i: _p.read_datetime(v, p, i, tz=True)),
    (_p.exact_date, _p.read_date),
    (_p.exact_time, _p.read_time),
    (_p.exact_uuid, _p.read_uuid),
]


def _typed(value: object) -> tuple[type, str]:
    # repr keeps what == hides: an offset of a datetime, 1 against 1.0.
    return type(value), repr(value)


@settings(max_examples=600, deadline=None)
@given(value=anything)
def test_exact_parsers_accept_exactly_the_strings_their_readers_accept(value: object) -> None:
    for exact, reader in EXACT_AND_READERS:
        issues: list[Issue] = []
        read = reader(value, "/x", issues)
        fast = exact(value)
        if fast is not None:
            assert not issues and _typed(fast) == _typed(read)
        elif type(value) is str:
            # For a string the exact parser declines, the reader must find an issue.
            assert issues


def test_exact_datetime_keeps_naive_and_zoned_values_apart() -> None:
    assert _p.exact_datetime("2026-11-21T10:00:00") == datetime(2026, 11, 21, 10)
    assert _p.exact_datetime("2026-11-21T10:00:00Z") is None
    assert _p.exact_datetime("2026-11-21T10:00:00Z", tz=True) == datetime(
        2026, 11, 21, 10, tzinfo=UTC
    )
    assert _p.exact_datetime("2026-11-21T10:00:00", tz=True) is None
    assert _p.exact_datetime(datetime(2026, 11, 21)) is None  # only the JSON form
    assert _p.exact_uuid(str(UUID(int=7))) == UUID(int=7)
    assert _p.exact_date("2026-11-31") is None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Point:
    x: int
    label: str = "origin"
    tags: list[str] = dataclasses.field(default_factory=list)


def test_frozen_builder_builds_the_same_value_as_the_constructor() -> None:
    build = _p.frozen_builder(_Point)
    built = build(x=1, label="a", tags=["t"])
    expected = _Point(x=1, label="a", tags=["t"])
    assert type(built) is _Point
    assert built == expected and hash(built.x) == hash(expected.x)
    assert repr(built) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.x = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        build(x=1)  # type: ignore[call-arg]  # every field must be given


@dataclasses.dataclass(frozen=True)
class _NoSlots:
    x: int


@dataclasses.dataclass(frozen=True, slots=True)
class _PostInit:
    x: int

    def __post_init__(self) -> None:
        raise AssertionError("never built without its checks")


class _PlainSlots:
    __slots__ = ("x",)


@pytest.mark.parametrize("cls", [_NoSlots, _PostInit, _PlainSlots, int])
def test_frozen_builder_refuses_classes_it_cannot_build_faithfully(cls: Any) -> None:
    with pytest.raises(TypeError):
        _p.frozen_builder(cls)


def test_frozen_builder_takes_fields_named_like_its_own_helpers() -> None:
    spec = [("self", int), ("cls", int), ("new", int), ("build", int)]
    cls = dataclasses.make_dataclass("Odd", spec, frozen=True, slots=True, kw_only=True)
    built = _p.frozen_builder(cls)(self=1, cls=2, new=3, build=4)
    assert built == cls(self=1, cls=2, new=3, build=4)
