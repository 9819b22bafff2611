"""The fast path of generated ``Draft.from_payload``: same answers as the readers, sooner.

A plain dict whose values have their exact JSON types is read by the generated
``_<entity>_draft_from_exact``; anything else goes through the readers. The fast path must
not change what is accepted, the value read, or the issues reported, so every property here
compares ``from_payload`` on a dict (fast path first) with ``from_payload`` on the same
payload behind a read-only mapping, which only the readers take.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import os
import string
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any
from uuid import UUID

import black
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from persist_runtime import ValidationError

from persist_tool import ir
from persist_tool.emit.entity import render_entity_module, render_package
from persist_tool.emit.model import FieldPlan, plan_entity
from tests.emit import samples
from tests.quality import assert_generated_quality

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "emit"
DIALECTS = ("sqlite", "postgres", "mysql")
_counter = itertools.count()


def _import(entity: ir.Entity) -> ModuleType:
    """Render ``entity``'s module and import it under a fresh name."""
    text = render_entity_module(
        entity, source="samples.sql", source_hash="0" * 64, dialects=("sqlite",), formatted=False
    ).text
    module = ModuleType(f"fastpath_{entity.name.lower()}_{next(_counter)}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile(text, module.__name__, "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module


@pytest.fixture(scope="module")
def booking() -> ModuleType:
    return _import(samples.booking())


# --------------------------------------------------------------------------- payloads

_ABSENT = object()

zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=3))]
)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.datetimes(),
    st.dates(),
    st.uuids(),
)


def _around(*bounds: int | float | None) -> st.SearchStrategy[Any]:
    """Values at and next to each bound (a bound's neighbours decide off-by-one errors)."""
    near: list[int | float] = []
    for b in bounds:
        if b is not None:
            near += [b - 1, b, b + 1]
    return st.sampled_from(near) if near else st.nothing()


def _int_values(t: ir.IntegerType, c: ir.Constraints) -> st.SearchStrategy[Any]:
    half = 2 ** (t.bits - 1)
    return st.one_of(
        st.integers(-half - 2, half + 1),
        st.integers(-1100, 1100),
        _around(-half, half - 1, c.minimum, c.maximum, c.exclusive_minimum, c.exclusive_maximum),
        _around(-half, half - 1).map(float),
        st.sampled_from([0, 1, -1, 3, 6, 10**30]),
    )


def _float_values(c: ir.Constraints) -> st.SearchStrategy[Any]:
    bounds = (c.minimum, c.maximum, c.exclusive_minimum, c.exclusive_maximum)
    return st.one_of(
        st.floats(),
        st.floats(-2e6, 2e6),
        _around(*bounds).map(float),
        st.sampled_from([0.0, -0.0, 1e-300, math.inf, -math.inf, math.nan]),
        st.integers(-(10**7), 10**7),
        st.sampled_from([10**400, -(10**400)]),  # too large for a float
    )


def _str_values(c: ir.Constraints) -> st.SearchStrategy[Any]:
    sizes = _around(c.min_length, c.max_length).filter(lambda n: n >= 0)
    return st.one_of(st.text(max_size=15), sizes.map(lambda n: "é" * int(n)))


def _datetime_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.datetimes().map(datetime.isoformat),
        st.datetimes(timezones=zones).map(datetime.isoformat),
        st.datetimes(timezones=zones).map(lambda d: d.isoformat().replace("+00:00", "Z")),
        st.dates().map(date.isoformat),
        st.text(alphabet="0123456789-:T+Z ", max_size=22),
        st.datetimes(),
        st.datetimes(timezones=zones),
    )


def values_for(f: ir.Field) -> st.SearchStrategy[Any]:
    """Values a payload may give field ``f``: right ones, near misses, anything at all."""
    t, c = f.type, f.constraints
    right: st.SearchStrategy[Any]
    if isinstance(t, ir.StringType):
        right = _str_values(c)
    elif isinstance(t, ir.IntegerType):
        right = _int_values(t, c)
    elif isinstance(t, ir.FloatType):
        right = _float_values(c)
    elif isinstance(t, ir.BooleanType):
        right = st.one_of(st.booleans(), st.sampled_from([0, 1, 2, "true"]))
    elif isinstance(t, ir.DateTimeType):
        right = _datetime_values()
    elif isinstance(t, ir.DateType):
        right = st.one_of(st.dates().map(date.isoformat), st.dates(), st.text(max_size=10))
    elif isinstance(t, ir.TimeType):
        right = st.one_of(
            st.times().map(time.isoformat),
            st.times(timezones=zones).map(time.isoformat),
            st.times(),
            st.text("0123456789:.", max_size=10),
        )
    elif isinstance(t, ir.UuidType):
        right = st.one_of(
            st.uuids().map(str), st.uuids().map(lambda u: u.hex), st.uuids(), st.text(max_size=8)
        )
    else:
        right = junk
    return st.one_of(right, right, right, junk)


def _exact_values(f: ir.Field) -> st.SearchStrategy[Any]:
    """Only values the fast path takes: the exact JSON type, within every bound."""
    t, c = f.type, f.constraints
    if isinstance(t, ir.StringType):
        return st.text(min_size=c.min_length or 0, max_size=c.max_length or 20)
    if isinstance(t, ir.IntegerType):
        low = max(-(2 ** (t.bits - 1)), -1000 if c.minimum is None else int(c.minimum))
        high = min(2 ** (t.bits - 1) - 1, 1000 if c.maximum is None else int(c.maximum))
        step = c.multiple_of if type(c.multiple_of) is int and c.multiple_of > 0 else 1
        first, last = -(-low // step), high // step
        return st.integers(min(first, last), max(first, last)).map(lambda n: n * step)
    if isinstance(t, ir.FloatType):
        return st.floats(1.0, 999_999.0)
    if isinstance(t, ir.BooleanType):
        return st.booleans()
    if isinstance(t, ir.DateTimeType):
        aware = st.datetimes(timezones=zones) if t.tz else st.datetimes()
        return aware.map(datetime.isoformat)
    if isinstance(t, ir.DateType):
        return st.dates().map(date.isoformat)
    if isinstance(t, ir.TimeType):
        return st.times().map(time.isoformat)
    assert isinstance(t, ir.UuidType)
    return st.uuids().map(str)


def exact_payloads(entity: ir.Entity) -> st.SearchStrategy[dict[str, Any]]:
    """Plain payloads: each value of its exact JSON type, within bounds (where they allow)."""
    fields = _draft_fields(entity)
    required = {fp.key: _exact_values(fp.field) for fp in fields if fp.field.required}
    optional = {
        fp.key: (
            _exact_values(fp.field) | st.none() if fp.field.nullable else _exact_values(fp.field)
        )
        for fp in fields
        if not fp.field.required
    }
    return st.fixed_dictionaries(required, optional=optional)


class _Text(str):
    """A string of a subclass: the readers take it, the fast path leaves it to them."""


def _other_forms(f: ir.Field) -> st.SearchStrategy[Any]:
    """Values the readers accept in another form than the exact JSON one."""
    t = f.type
    exact = _exact_values(f)
    if isinstance(t, ir.StringType):
        return exact.map(_Text)
    if isinstance(t, ir.IntegerType):
        return exact.map(float)
    if isinstance(t, ir.FloatType):
        return exact.map(int)
    if isinstance(t, ir.BooleanType):
        return st.sampled_from([0, 1])
    if isinstance(t, ir.DateTimeType):
        return exact.map(datetime.fromisoformat)
    if isinstance(t, ir.DateType):
        return exact.map(date.fromisoformat)
    if isinstance(t, ir.TimeType):
        return exact.map(time.fromisoformat)
    return exact.map(UUID)


def _edges(f: ir.Field) -> st.SearchStrategy[Any]:
    """Values at and next to the limits of the field's type and constraints."""
    t, c = f.type, f.constraints
    bounds = (c.minimum, c.maximum, c.exclusive_minimum, c.exclusive_maximum)
    if isinstance(t, ir.IntegerType):
        half = 2 ** (t.bits - 1)
        return _around(-half, half - 1, *bounds)
    if isinstance(t, ir.FloatType):
        return _around(*bounds).map(float) | st.sampled_from(
            [math.inf, math.nan, sys.float_info.max]
        )
    if isinstance(t, ir.StringType):
        return _str_values(c)
    return values_for(f)


def payloads(entity: ir.Entity) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads for ``entity``'s draft: plain ones with a few values changed or left out (the
    near misses), and ones with anything at all under each key, sometimes unknown keys."""
    fields = _draft_fields(entity)

    def changed(chosen: list[FieldPlan]) -> st.SearchStrategy[dict[str, Any]]:
        changes = {
            fp.key: st.just(_ABSENT)
            | values_for(fp.field)
            | _other_forms(fp.field)
            | _edges(fp.field)
            for fp in chosen
        }
        return st.fixed_dictionaries(changes)

    def build(base: dict[str, Any], changes: dict[str, Any], more: Any = None) -> Any:
        out = {**base, **changes, **(more or {})}
        return {k: v for k, v in out.items() if v is not _ABSENT}

    extra = st.dictionaries(st.sampled_from(["surprise", "ID", ""]), junk, max_size=1)
    near = st.builds(
        build,
        exact_payloads(entity),
        st.lists(st.sampled_from(fields), max_size=3).flatmap(changed),
        st.just({}) | st.just({}) | extra,
    )

    anything = st.builds(build, st.just({}), changed(fields), extra)
    return near | one_changed(entity) | anything


def one_changed(entity: ir.Entity) -> st.SearchStrategy[dict[str, Any]]:
    """Plain payloads with one value in another form the readers take, or at a limit."""

    def change(fp: FieldPlan) -> st.SearchStrategy[dict[str, Any]]:
        value = _other_forms(fp.field) | _edges(fp.field)
        return st.fixed_dictionaries({fp.key: value})

    changes = st.sampled_from(_draft_fields(entity)).flatmap(change)
    return st.builds(lambda base, new: {**base, **new}, exact_payloads(entity), changes)


def _draft_fields(entity: ir.Entity) -> list[FieldPlan]:
    return list(plan_entity(entity).draft_fields)


# --------------------------------------------------------------------------- outcomes


def _typed(value: object) -> tuple[type, str]:
    # repr keeps what == hides: 1 against 1.0 or True, a datetime's offset.
    return type(value), repr(value)


def _describe(draft: Any, payload: Any, factories: dict[str, str]) -> tuple[Any, ...]:
    """Return a draft as its type and each field's type and repr.

    A field filled by a default factory (``now``, ``uuid4``) differs from call to call, so
    only its type is kept when the payload leaves it out.
    """
    values = {}
    for f in dataclasses.fields(draft):
        value = getattr(draft, f.name)
        absent = f.name in factories and factories[f.name] not in payload
        values[f.name] = type(value) if absent else _typed(value)
    return ("valid", type(draft), values)


def _outcome(draft_type: Any, payload: Any, factories: dict[str, str]) -> tuple[Any, ...]:
    """Return what ``from_payload`` made of ``payload``: the value, the issues, or the error."""
    try:
        draft = draft_type.from_payload(payload)
    except ValidationError as error:
        return ("invalid", [(i.path, i.message) for i in error.issues])
    except Exception as error:  # the readers' own failures must stay the same too
        return ("raised", type(error), str(error))
    return _describe(draft, payload, factories)


def _factories(entity: ir.Entity) -> dict[str, str]:
    return {
        fp.name: fp.key
        for fp in _draft_fields(entity)
        if fp.field.default is not None and fp.field.default.kind == ir.Default.FACTORY
    }


def _assert_same_as_readers(module: ModuleType, entity: ir.Entity, payload: dict[str, Any]) -> None:
    draft_type = getattr(module, f"{entity.name}Draft")
    factories = _factories(entity)
    readers = _outcome(draft_type, MappingProxyType(payload), factories)
    assert _outcome(draft_type, payload, factories) == readers
    exact = getattr(module, f"_{entity.name.lower()}_draft_from_exact", None)
    fast = None if exact is None else exact(payload)
    if fast is not None:
        assert _describe(fast, payload, factories) == readers


# --------------------------------------------------------------------------- properties


@settings(max_examples=800, deadline=None)
@given(payload=payloads(samples.booking()))
def test_fast_path_agrees_with_the_readers_on_every_payload(
    booking: ModuleType, payload: dict[str, Any]
) -> None:
    _assert_same_as_readers(booking, samples.booking(), payload)


@settings(max_examples=500, deadline=None)
@given(payload=one_changed(samples.booking()))
def test_values_in_other_forms_or_at_the_limits_read_the_same(
    booking: ModuleType, payload: dict[str, Any]
) -> None:
    _assert_same_as_readers(booking, samples.booking(), payload)


@settings(max_examples=300, deadline=None)
@given(payload=exact_payloads(samples.booking()))
def test_plain_payloads_of_exact_types_take_the_fast_path(
    booking: ModuleType, payload: dict[str, Any]
) -> None:
    draft = booking._booking_draft_from_exact(payload)
    assert draft is not None
    _assert_same_as_readers(booking, samples.booking(), payload)


# Entities made up field by field, of the types the fast path checks (and a few it leaves to
# the readers), with any constraints and defaults those types take.

_bounds = st.none() | st.integers(-50, 50)


@st.composite
def _fields(draw: st.DrawFn) -> ir.Field:
    clashing = st.sampled_from(["type", "len", "math", "data", "exact", "cls", "payload"])
    name = draw(
        clashing | st.text(string.ascii_lowercase, min_size=1, max_size=6).map("f_".__add__)
    )
    kind = draw(
        st.sampled_from(["str", "int", "float", "bool", "datetime", "date", "time", "uuid"])
    )
    c = ir.Constraints()
    default: ir.Default | None = None
    t: ir.FieldType
    if kind == "str":
        t = ir.StringType()
        low = draw(st.none() | st.integers(0, 4))
        c = ir.Constraints(
            min_length=low,
            max_length=draw(st.none() | st.integers(low or 0, 8)),
            pattern=draw(st.sampled_from([None, None, "^[a-z]*$"])),
        )
        default = draw(st.none() | st.just(ir.Default("literal", "abc")))
    elif kind == "int":
        t = ir.IntegerType(bits=draw(st.sampled_from([16, 32, 64])))
        c = ir.Constraints(
            minimum=draw(_bounds),
            maximum=draw(_bounds),
            exclusive_minimum=draw(_bounds),
            exclusive_maximum=draw(_bounds),
            multiple_of=draw(st.none() | st.sampled_from([1, 3, 0.5])),
        )
        default = draw(st.none() | st.just(ir.Default("literal", 6)))
    elif kind == "float":
        t = ir.FloatType()
        c = ir.Constraints(
            minimum=draw(_bounds | st.floats(-10, 10)),
            exclusive_maximum=draw(_bounds | st.floats(-10, 10)),
        )
        default = draw(st.none() | st.just(ir.Default("literal", 1.5)))
    elif kind == "bool":
        t = ir.BooleanType()
        default = draw(st.none() | st.just(ir.Default("literal", True)))
    elif kind == "datetime":
        t = ir.DateTimeType(tz=draw(st.booleans()))
        literal = "2026-01-02T03:04:05+00:00" if t.tz else "2026-01-02T03:04:05"
        default = draw(
            st.none()
            | st.just(ir.Default("literal", literal))
            | st.just(ir.Default("factory", "now"))
        )
    elif kind == "date":
        t = ir.DateType()
        default = draw(st.none() | st.just(ir.Default("factory", "today")))
    elif kind == "time":
        t = ir.TimeType()
    else:
        t = ir.UuidType()
        default = draw(st.none() | st.just(ir.Default("factory", "uuid4")))
    nullable = draw(st.booleans())
    return ir.Field(name, name, t, nullable=nullable, default=default, constraints=c)


entities = st.lists(_fields(), min_size=1, max_size=6, unique_by=lambda f: f.name).map(
    lambda fields: ir.Entity(
        "Made",
        "made",
        1,
        (ir.Field("id", "id", ir.IntegerType(), generated=True), *fields),
        primary_key=("id",),
    )
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(entity=entities, data=st.data())
def test_fast_path_agrees_with_the_readers_for_any_entity(entity: ir.Entity, data: Any) -> None:
    module = _import(entity)
    for _ in range(25):
        _assert_same_as_readers(module, entity, data.draw(payloads(entity)))
    if hasattr(module, "_made_draft_from_exact"):
        for _ in range(15):
            _assert_same_as_readers(module, entity, data.draw(one_changed(entity)))


# --------------------------------------------------------------------------- examples


def test_a_plain_payload_takes_the_fast_path_and_reads_the_same(booking: ModuleType) -> None:
    payload = {
        "title": "Concert",
        "seats": 2,
        "price": 12.5,
        "starts_at": "2026-11-21T10:00:00+01:00",
        "ends_at": "2026-11-21T12:00:00",
        "ref": "12345678-1234-5678-1234-567812345678",
        "booked_at": "2026-11-01T09:30:00",
    }
    fast = booking._booking_draft_from_exact(payload)
    assert fast == booking.BookingDraft.from_payload(MappingProxyType(payload))
    assert fast.ref == UUID("12345678-1234-5678-1234-567812345678")
    assert fast.note == "none yet" and fast.len == 7 and fast.cls is True


def test_near_misses_leave_the_payload_to_the_readers(booking: ModuleType) -> None:
    good = {"title": "T", "seats": 1, "price": 1.0, "starts_at": "2026-01-01T00:00:00Z"}
    assert booking._booking_draft_from_exact(good) is not None
    for key, value in [
        ("price", 1),  # an int for a float: the readers convert it
        ("seats", True),  # a bool is no int, for either
        ("seats", 2**15),  # past 16 bits
        ("starts_at", "2026-01-01T00:00:00"),  # no offset for a zoned field
        ("title", ""),  # shorter than min_length
        ("surprise", 1),  # an unknown key
    ]:
        payload = {**good, key: value}
        assert booking._booking_draft_from_exact(payload) is None, (key, value)
    assert booking.BookingDraft.from_payload({**good, "price": 1}).price == 1.0
    with pytest.raises(ValidationError) as caught:
        booking.BookingDraft.from_payload({**good, "surprise": 1, "seats": 0})
    assert [(i.path, i.message) for i in caught.value.issues] == [
        ("/surprise", "unknown property"),
        ("/seats", "expected a value >= 1, got 0"),
    ]


def test_subclasses_of_a_draft_are_read_into_the_subclass(booking: ModuleType) -> None:
    class Special(booking.BookingDraft):  # type: ignore[misc]
        __slots__ = ()

    payload = {"title": "T", "seats": 1, "price": 1.0, "starts_at": "2026-01-01T00:00:00Z"}
    assert type(Special.from_payload(payload)) is Special


def test_drafts_with_types_the_fast_path_leaves_alone_have_none() -> None:
    module = _import(samples.todo())  # decimals, enums, bytes, JSON and arrays
    assert not hasattr(module, "_todo_draft_from_exact")
    assert hasattr(module.TodoDraft, "from_payload")


# --------------------------------------------------------------------------- the code itself


@functools.cache
def _render_booking(formatted: bool = True) -> str:
    files = render_package(
        ir.Schema((samples.booking(),), "samples.sql"),
        source="samples.sql",
        source_hash="0" * 64,
        dialects=("sqlite",),
        formatted=formatted,
    )
    return {f.path: f.text for f in files}["booking.py"]


def test_fast_path_module_passes_black_ruff_mypy_and_imports_alone(tmp_path: Path) -> None:
    package = tmp_path / "bookingpkg"
    package.mkdir()
    files = render_package(
        ir.Schema((samples.booking(),), "samples.sql"),
        source="samples.sql",
        source_hash="0" * 64,
        dialects=DIALECTS,
    )
    for f in files:
        (package / f.path).write_text(f.text, encoding="utf-8")
    assert_generated_quality(package)


def test_fast_path_is_laid_out_as_black_lays_it_out() -> None:
    # Without the emitter's black pass: the fast path's own layout must already be black's.
    text = _render_booking(formatted=False)
    start = text.index("# Drafts read from plain payloads")
    end = text.index("\n\n\n", text.index("def _booking_draft_from_exact"))
    part = text[start:end] + "\n"
    assert black.format_str(part, mode=black.Mode()) == part


def test_booking_module_matches_golden_file() -> None:
    text = _render_booking()
    golden = GOLDEN / "booking.py"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_fast_path_calls_no_reader_and_keeps_no_issue_list() -> None:
    text = _render_booking()
    fast = text[text.index("def _booking_draft_from_exact") :]
    fast = fast[: fast.index("\n\n\n")]
    # No reader call, no issue list: what the fast path saves.
    assert "_p.read_" not in fast and "issues" not in fast
    assert '_p.exact_datetime(data.get("starts_at"), tz=True)' in fast
