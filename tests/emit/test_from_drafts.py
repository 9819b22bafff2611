"""The generated bulk builder ``_<entity>_from_drafts``: ``_<entity>_from_draft`` for many.

Every property renders a made-up entity, imports its module and builds the same drafts and
generated values both ways: one ``from_draft`` call a draft, and ``from_drafts`` once. The
entities must be equal, of the same class, and hold the very same field values. Generated
classes are built without their ``__init__``; a user's class only ever through the
constructor ``create_<entity>`` calls.
"""

from __future__ import annotations

import dataclasses
import itertools
import string
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import MappingProxyType, ModuleType
from typing import Any

import black
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from persist_runtime import payload

from persist_tool import ir
from persist_tool.emit.entity import render_entity_module, render_package
from persist_tool.emit.model import plan_entity
from tests.emit import samples
from tests.quality import assert_generated_quality
from tests.strategies import field_types, json_values

_counter = itertools.count()

# Names the builder binds (``new``, ``built``, ``append``, ``draft``, ``values``), reads
# (``zip``) or takes (``drafts``, ``generated``), and entity variable names: a field or an
# entity of one of these names must not make two of them one variable.
_CLASHING = ["draft", "drafts", "generated", "values", "new", "built", "append", "zip", "todo"]
_ENTITY_NAMES = ["Todo", "LineItem", "Draft", "Values", "New", "Zip", "Generated", "Built"]

_NOW = datetime(2031, 2, 3, 4, 5, 6)
_NOW_UTC = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)


def _own_enum(t: ir.FieldType, field: str) -> ir.FieldType:
    """Return ``t`` with an enum of the field's own (every drawn enum is called ``Status``)."""
    if isinstance(t, ir.ArrayType):
        return dataclasses.replace(t, item=_own_enum(t.item, field))
    if isinstance(t, ir.EnumType):
        return dataclasses.replace(t, name=f"Status{field.title().replace('_', '')}")
    return t


@st.composite
def _fields(draw: st.DrawFn, name: str) -> ir.Field:
    """Draw a field of any type, generated or not; generated timestamps may have a default
    (the database's, standing in for a missing generated value with the module's clock)."""
    t = _own_enum(draw(field_types), name)
    default = None
    if isinstance(t, ir.DateTimeType):
        default = draw(
            st.sampled_from(
                [None, ir.Default("sql", "CURRENT_TIMESTAMP"), ir.Default("factory", "now")]
            )
        )
    return ir.Field(
        name, name, t, nullable=draw(st.booleans()), default=default, generated=draw(st.booleans())
    )


@st.composite
def entities(draw: st.DrawFn, user_class: str | None = None) -> ir.Entity:
    """Draw an entity; ``user_class`` makes it a Python source's (``dataclass``/``plain``)."""
    plain = st.text(string.ascii_lowercase, min_size=1, max_size=6).map("f_".__add__)
    names = draw(st.lists(plain | st.sampled_from(_CLASHING), min_size=1, max_size=7, unique=True))
    name = draw(st.sampled_from(_ENTITY_NAMES))
    extra: dict[str, Any] = {}
    if user_class is not None:
        module = f"bulk_user_models_{next(_counter)}"
        extra["python_class"] = {"module": module, "name": name, "flavour": user_class}
    fields = [draw(_fields(n)) for n in names]
    identities = [f for f in fields if f.generated and isinstance(f.type, ir.IntegerType)]
    # The database generates one integer key a table at most (SQLite and MySQL).
    for extra_identity in identities[1:]:
        fields[fields.index(extra_identity)] = dataclasses.replace(extra_identity, generated=False)
    return ir.Entity(name, "things", 1, tuple(fields), primary_key=(names[0],), extra=extra)


class _Clock:
    """The runtime's payload module with a fixed clock, so factories give known values."""

    now = staticmethod(lambda: _NOW)
    now_utc = staticmethod(lambda: _NOW_UTC)

    def __getattr__(self, name: str) -> Any:
        return getattr(payload, name)


def _user_module(entity: ir.Entity, constructed: list[object]) -> ModuleType:
    """Return the module of the user's class ``entity`` names, recording each construction."""
    module_name = entity.extra["python_class"]["module"]
    flavour = entity.extra["python_class"]["flavour"]
    module = ModuleType(module_name)
    cls: type[Any]
    if flavour == "dataclass":

        def post_init(self: Any) -> None:
            constructed.append(self)

        cls = dataclasses.make_dataclass(
            entity.name,
            [(f.name, Any) for f in entity.fields],
            kw_only=True,
            namespace={"__post_init__": post_init},
        )
    else:
        cls = type(entity.name, (), {})
    cls.__module__ = module_name
    setattr(module, entity.name, cls)
    return module


def _import(entity: ir.Entity, constructed: list[object] | None = None) -> ModuleType:
    """Render ``entity``'s module, import it under a fresh name, with the fixed clock."""
    text = render_entity_module(
        entity, source="things.sql", source_hash="0" * 64, dialects=("sqlite",), formatted=False
    ).text
    module = ModuleType(f"bulk_{entity.name.lower()}_{next(_counter)}")
    user = None
    if "python_class" in entity.extra:
        user = _user_module(entity, [] if constructed is None else constructed)
        sys.modules[user.__name__] = user
    sys.modules[module.__name__] = module  # dataclasses look their module up
    try:
        exec(compile(text, module.__name__, "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
        if user is not None:
            del sys.modules[user.__name__]
    module.__dict__["_p"] = _Clock()
    return module


_SCALAR_VALUES: dict[type[ir.FieldType], Callable[[Any], st.SearchStrategy[Any]]] = {
    ir.StringType: lambda t: st.text(max_size=4),
    ir.IntegerType: lambda t: st.integers(-(2 ** (t.bits - 1)), 2 ** (t.bits - 1) - 1),
    ir.FloatType: lambda t: st.floats(allow_nan=False),
    ir.DecimalType: lambda t: st.decimals(allow_nan=False, allow_infinity=False, places=2),
    ir.BooleanType: lambda t: st.booleans(),
    ir.DateType: lambda t: st.dates(),
    ir.DateTimeType: lambda t: st.datetimes(timezones=st.just(UTC) if t.tz else st.none()),
    ir.TimeType: lambda t: st.times(),
    ir.UuidType: lambda t: st.uuids(),
    ir.BytesType: lambda t: st.binary(max_size=4),
    ir.JsonType: lambda t: json_values,
}


def _values(t: ir.FieldType, module: ModuleType, entity: ir.Entity) -> st.SearchStrategy[Any]:
    """Return values of type ``t`` as the module holds them (its own enum classes)."""
    if isinstance(t, ir.ArrayType):
        return st.lists(_values(t.item, module, entity), max_size=2)
    if isinstance(t, ir.EnumType):
        enum_class = getattr(module, plan_entity(entity).names.enums[t.name])
        return st.sampled_from(list(enum_class))
    return _SCALAR_VALUES[type(t)](t)


def _field_values(f: ir.Field, module: ModuleType, entity: ir.Entity) -> st.SearchStrategy[Any]:
    values = _values(f.type, module, entity)
    return st.none() | values if f.nullable else values


def _drafts(data: Any, entity: ir.Entity, module: ModuleType) -> list[Any]:
    draft_type = getattr(module, f"{entity.name}Draft")
    fields = [f for f in entity.fields if not f.generated]
    return [
        draft_type(**{f.name: data.draw(_field_values(f, module, entity)) for f in fields})
        for _ in range(data.draw(st.integers(0, 4)))
    ]


def _generated(data: Any, entity: ir.Entity, module: ModuleType, count: int) -> list[Any]:
    """Return what the database gave back for each draft: every generated field's value,
    ``None`` among them for a timestamp the module's clock then stands in for."""
    rows = []
    for _ in range(count):
        row = {}
        for f in entity.fields:
            if f.generated:
                values = _field_values(f, module, entity)
                row[f.name] = data.draw(st.none() | values if f.default else values)
        rows.append(row)
    return rows


def _built_both_ways(
    entity: ir.Entity, data: Any, constructed: list[object] | None = None
) -> tuple[list[Any], list[Any]]:
    """Import ``entity``'s module, draw drafts and generated values, and return the
    entities ``from_draft`` builds one by one and those ``from_drafts`` builds (in that
    order: ``constructed`` then holds the latter's constructions only)."""
    module = _import(entity, constructed)
    spec = next(v for k, v in vars(module).items() if k.endswith("_SPEC"))
    assert spec.from_drafts is not None
    drafts = _drafts(data, entity, module)
    rows = _generated(data, entity, module, len(drafts))
    pairs = zip(drafts, _endless_or_listed(entity, rows), strict=False)
    one_by_one = [spec.from_draft(d, g) for d, g in pairs]
    if constructed is not None:
        del constructed[:]
    bulk = spec.from_drafts(drafts, _endless_or_listed(entity, rows))
    assert all(type(e) is getattr(module, entity.name) for e in bulk)
    return one_by_one, bulk


def _assert_built_alike(one_by_one: list[Any], bulk: list[Any], entity: ir.Entity) -> None:
    assert type(bulk) is list and len(bulk) == len(one_by_one)
    for expected, got in zip(one_by_one, bulk, strict=True):
        assert type(got) is type(expected)
        for f in entity.fields:
            # The very value objects: equal, of the same type, nothing converted or copied.
            assert getattr(got, f.name) is getattr(expected, f.name), f.name


def _endless_or_listed(entity: ir.Entity, rows: list[Any]) -> Iterator[Any]:
    """The generated values as the store passes them: an endless repeat of an empty
    mapping when the database generates nothing, else one mapping a row (an iterator)."""
    if any(f.generated for f in entity.fields):
        return iter(rows)
    return itertools.repeat(MappingProxyType({}))


_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_SETTINGS
@given(entity=entities(), data=st.data())
def test_from_drafts_builds_what_from_draft_builds_for_any_entity(
    entity: ir.Entity, data: Any
) -> None:
    one_by_one, bulk = _built_both_ways(entity, data)
    assert bulk == one_by_one
    _assert_built_alike(one_by_one, bulk, entity)


@_SETTINGS
@given(entity=entities(user_class="dataclass"), data=st.data())
def test_from_drafts_builds_a_users_class_through_its_constructor(
    entity: ir.Entity, data: Any
) -> None:
    constructed: list[object] = []
    one_by_one, bulk = _built_both_ways(entity, data, constructed)
    assert len(constructed) == len(bulk)
    assert all(a is b for a, b in zip(constructed, bulk, strict=True))
    assert bulk == one_by_one
    _assert_built_alike(one_by_one, bulk, entity)


@_SETTINGS
@given(entity=entities(user_class="plain"), data=st.data())
def test_from_drafts_builds_a_plain_users_class_as_create_does(
    entity: ir.Entity, data: Any
) -> None:
    one_by_one, bulk = _built_both_ways(entity, data)
    _assert_built_alike(one_by_one, bulk, entity)


def test_a_missing_generated_timestamp_takes_the_modules_clock() -> None:
    module = _import(samples.todo())
    draft = module.TodoDraft(title="t")
    (todo,) = module._todo_from_drafts([draft], [{"id": 7, "created_at": None}])
    assert (todo.id, todo.created_at) == (7, _NOW)
    (todo,) = module._todo_from_drafts([draft], [{"id": 8, "created_at": _NOW_UTC}])
    assert todo.created_at is _NOW_UTC


def test_from_drafts_stops_with_the_drafts_as_zip_does() -> None:
    module = _import(samples.booking())
    drafts = [
        module.BookingDraft(title="t", seats=1, price=1.0, starts_at=_NOW_UTC) for _ in range(3)
    ]
    built = module._booking_from_drafts(drafts, ({"id": i} for i in itertools.count(1)))
    assert [b.id for b in built] == [1, 2, 3]
    assert module._booking_from_drafts([], []) == []


# --------------------------------------------------------------------------- the code itself


def _builder_text(text: str, var: str) -> str:
    start = text.index(f"def _{var}_from_drafts(")
    return text[start : text.index("\n\n\n", start)] + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entity=st.one_of(entities(), entities("dataclass"), entities("plain")))
def test_builder_is_laid_out_as_black_lays_it_out(entity: ir.Entity) -> None:
    # Without the emitter's black pass: a builder whose lines fit is black's layout already
    # (one with a line too long makes the emitter run black over the module).
    text = render_entity_module(
        entity, source="things.sql", source_hash="0" * 64, dialects=("sqlite",), formatted=False
    ).text
    part = _builder_text(text, plan_entity(entity).var)
    if max(map(len, part.splitlines())) <= black.Mode().line_length:
        assert black.format_str(part, mode=black.Mode()) == part


@pytest.mark.parametrize(
    "long_name", ["seats_held_back_for_the_organisers", "x" * 36, "y" * 40, "z" * 75]
)
def test_builder_of_long_field_names_is_laid_out_as_black_lays_it_out(long_name: str) -> None:
    fields = (
        ir.Field("id", "id", ir.IntegerType(), generated=True),
        ir.Field(long_name, long_name, ir.StringType()),
        ir.Field(long_name + "_at", long_name + "_at", ir.DateTimeType(), generated=True),
        ir.Field(
            long_name + "_on",
            long_name + "_on",
            ir.DateTimeType(),
            generated=True,
            default=ir.Default("sql", "CURRENT_TIMESTAMP"),
        ),
    )
    entity = ir.Entity("Thing", "things", 1, fields, primary_key=("id",))
    text = render_entity_module(
        entity, source="things.sql", source_hash="0" * 64, dialects=("sqlite",)
    ).text
    part = _builder_text(text, "thing")
    assert black.format_str(part, mode=black.Mode()) == part


def test_builders_of_user_classes_pass_black_ruff_mypy_and_import_alone(tmp_path: Any) -> None:
    """A plain class (built by ``_new_<entity>``) and a dataclass, with generated values."""
    fields = (
        ir.Field("id", "id", ir.IntegerType(), generated=True, immutable=True),
        ir.Field("owner", "owner", ir.StringType()),
        ir.Field(
            "opened_at",
            "opened_at",
            ir.DateTimeType(tz=True),
            generated=True,
            default=ir.Default("sql", "CURRENT_TIMESTAMP"),
        ),
    )
    models = tmp_path / "models"
    models.mkdir()
    (models / "bulk_models.py").write_text(
        "from dataclasses import dataclass\n"
        "from datetime import datetime\n\n\n"
        "class Ledger:\n"
        "    id: int\n    owner: str\n    opened_at: datetime\n\n\n"
        "@dataclass(kw_only=True)\n"
        "class Wallet:\n"
        "    id: int\n    owner: str\n    opened_at: datetime\n",
        encoding="utf-8",
    )
    entities_ = [
        ir.Entity(
            name,
            name.lower() + "s",
            1,
            fields,
            primary_key=("id",),
            extra={"python_class": {"module": "bulk_models", "name": name, "flavour": flavour}},
        )
        for name, flavour in [("Ledger", "plain"), ("Wallet", "dataclass")]
    ]
    package = tmp_path / "bulkpkg"
    package.mkdir()
    for f in render_package(
        ir.Schema(tuple(entities_), "models.py"),
        source="models.py",
        source_hash="0" * 64,
        dialects=("sqlite",),
    ):
        (package / f.path).write_text(f.text, encoding="utf-8")
    ledger = (package / "ledger.py").read_text(encoding="utf-8")
    assert "ledger = _new_ledger(" in _builder_text(ledger, "ledger")
    wallet = (package / "wallet.py").read_text(encoding="utf-8")
    assert "wallet = Wallet(" in _builder_text(wallet, "wallet")
    assert_generated_quality(package, extra_paths=[models])
