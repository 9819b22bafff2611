"""Store.create_many builds the entities with the spec's ``from_drafts`` when it has one.

Generated modules give their specs a bulk builder (``_<entity>_from_drafts``); specs without
one (hand-written, or generated before it existed) build one entity a ``from_draft`` call.
Either way the entities are the same, on every dialect: generated keys read back with
``RETURNING``, SQLite's rowids of a bulk insert, and database defaults.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import itertools
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from persist_runtime import EntitySpec, Store

from persist_tool import ir
from persist_tool.emit.entity import render_package
from tests.emit import samples
from tests.runtime.handwritten_counter import COUNTER_SPEC, CounterDraft

START = datetime(2026, 1, 1, 9, 30)


def event() -> ir.Entity:
    """The benchmark's entity: keys the client chooses, nothing the database generates."""
    return ir.Entity(
        "Event",
        "events",
        1,
        (
            ir.Field("id", "id", ir.IntegerType()),
            ir.Field("title", "title", ir.StringType(), constraints=ir.Constraints(max_length=200)),
            ir.Field("amount", "amount", ir.FloatType()),
            ir.Field("done", "done", ir.BooleanType(), default=ir.Default("literal", False)),
            ir.Field("due_at", "due_at", ir.DateTimeType()),
        ),
        primary_key=("id",),
    )


def ticket() -> ir.Entity:
    """A key the database generates (SQLite reads a bulk insert's rowids), nothing else."""
    return ir.Entity(
        "Ticket",
        "tickets",
        1,
        (
            ir.Field("id", "id", ir.IntegerType(), generated=True, immutable=True),
            ir.Field("title", "title", ir.StringType(), constraints=ir.Constraints(max_length=40)),
            ir.Field("seats", "seats", ir.IntegerType(bits=16)),
            ir.Field("starts_at", "starts_at", ir.DateTimeType(tz=True)),
            ir.Field("note", "note", ir.StringType(), nullable=True),
        ),
        primary_key=("id",),
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """A generated package of ``Event`` (nothing generated), ``Ticket`` (a generated key)
    and ``Todo`` (a generated key and a database default)."""
    root = tmp_path_factory.mktemp("bulk_builder")
    out = root / "bulkpkg"
    out.mkdir()
    for f in render_package(
        ir.Schema((event(), ticket(), samples.todo()), "bulk.sql"),
        source="bulk.sql",
        source_hash="0" * 64,
        dialects=("sqlite", "postgres", "mysql"),
    ):
        (out / f.path).write_text(f.text, encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("bulkpkg")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("bulkpkg")]:
            del sys.modules[name]


def _drafts(package: ModuleType, name: str, count: int) -> list[Any]:
    """Return ``count`` drafts of entity ``name``, every value different."""
    minutes = [START + timedelta(minutes=i, microseconds=i) for i in range(count)]
    if name == "Event":
        return [
            package.EventDraft(
                id=i + 1, title=f"event {i}", amount=i * 0.25, done=i % 3 == 0, due_at=at
            )
            for i, at in enumerate(minutes)
        ]
    if name == "Ticket":
        return [
            package.TicketDraft(
                title=f"t{i}",
                seats=i % 500,
                starts_at=at.replace(tzinfo=UTC),
                note=None if i % 2 else "n",
            )
            for i, at in enumerate(minutes)
        ]
    return [
        package.TodoDraft(
            title=f"todo {i}",
            priority=i % 5 + 1,
            budget=Decimal(f"{i}.25"),
            due_at=at.replace(tzinfo=UTC),
            tags=[f"t{i}"],
            meta={"source": "bulk", "weight": i} if i % 2 else None,
        )
        for i, at in enumerate(minutes)
    ]


NAMES = ["Event", "Ticket", "Todo"]


def _spec(package: ModuleType, name: str) -> EntitySpec:
    spec: EntitySpec = next(s for s in package.ENTITIES if s.name == name)
    return spec


def _by_key(spec: EntitySpec, entities: Sequence[Any]) -> list[Any]:
    key = spec.primary_key
    return sorted(entities, key=lambda e: tuple(getattr(e, k) for k in key))


def _count(store: Store, spec: EntitySpec) -> int:
    return store.plan(spec).bulk_rows + 3  # more than one bulk statement's rows


def _refusing_from_draft(draft: Any, generated: Mapping[str, Any]) -> Any:
    raise AssertionError("from_draft called though the spec has from_drafts")


@pytest.mark.parametrize("name", NAMES)
def test_create_many_builds_with_from_drafts_what_from_draft_builds(
    store: Store, package: ModuleType, name: str
) -> None:
    generated = _spec(package, name)
    calls: list[tuple[list[Any], list[Mapping[str, Any]], bool]] = []

    def spying(drafts: Sequence[Any], values: Any) -> list[Any]:
        # The store passes an endless repeat when the database generates nothing.
        rows = list(itertools.islice(values, len(drafts)))
        calls.append((list(drafts), rows, gc.isenabled()))
        assert generated.from_drafts is not None
        return generated.from_drafts(drafts, rows)

    spec = dataclasses.replace(generated, from_draft=_refusing_from_draft, from_drafts=spying)
    store.ensure(spec)
    drafts = _drafts(package, name, _count(store, spec))
    created = store.create_many(spec, drafts)
    assert isinstance(created, list)
    ((drafts_seen, rows, collecting),) = calls
    assert drafts_seen == drafts and not collecting and gc.isenabled()
    one_by_one = [generated.from_draft(d, g) for d, g in zip(drafts, rows, strict=True)]
    assert created == one_by_one
    assert all(type(e) is spec.entity_type for e in created)
    assert _by_key(spec, created) == _by_key(spec, store.list(spec))


@pytest.mark.parametrize("name", NAMES)
def test_create_many_without_from_drafts_builds_the_same_entities_one_by_one(
    store: Store, package: ModuleType, name: str
) -> None:
    bulk_spec = _spec(package, name)
    calls: list[Any] = []

    def counting(draft: Any, generated: Mapping[str, Any]) -> Any:
        calls.append(draft)
        return bulk_spec.from_draft(draft, generated)

    spec = dataclasses.replace(bulk_spec, from_draft=counting, from_drafts=None)
    store.ensure(spec)
    drafts = _drafts(package, name, _count(store, spec))
    one_by_one = store.create_many(spec, drafts)
    assert calls == drafts
    assert isinstance(one_by_one, list)
    assert _by_key(spec, one_by_one) == _by_key(spec, store.list(spec))
    for entity in one_by_one:
        store.delete(spec, tuple(getattr(entity, k) for k in spec.primary_key))
    bulk = store.create_many(bulk_spec, drafts)
    assert isinstance(bulk, list)
    # Keys and timestamps the database makes differ between the two inserts.
    made = {f.name: None for f in spec.fields if f.generated}
    assert [dataclasses.replace(e, **made) for e in bulk] == [
        dataclasses.replace(e, **made) for e in one_by_one
    ]


def test_a_spec_built_without_from_drafts_has_none_and_creates_in_bulk(store: Store) -> None:
    assert COUNTER_SPEC.from_drafts is None  # hand-written, as older generated modules
    store.ensure(COUNTER_SPEC)
    drafts = [CounterDraft(name=f"c{i}", value=i) for i in range(5)]
    created = store.create_many(COUNTER_SPEC, drafts)
    assert isinstance(created, list)
    assert [(c.name, c.value) for c in created] == [(d.name, d.value) for d in drafts]
    assert created == [store.get(COUNTER_SPEC, c.id) for c in created]


def test_create_many_restores_the_collector_when_from_drafts_fails(
    store: Store, package: ModuleType
) -> None:
    def failing(drafts: Sequence[Any], values: Any) -> list[Any]:
        assert not gc.isenabled()
        raise RuntimeError("constructor refused")

    spec = dataclasses.replace(_spec(package, "Event"), from_drafts=failing)
    store.ensure(spec)
    with pytest.raises(RuntimeError, match="constructor refused"):
        store.create_many(spec, _drafts(package, "Event", 3))
    assert gc.isenabled()


def test_create_many_counting_only_builds_no_entity(store: Store, package: ModuleType) -> None:
    def refusing(drafts: Sequence[Any], values: Any) -> list[Any]:
        raise AssertionError("entities built for a count")

    spec = dataclasses.replace(
        _spec(package, "Ticket"), from_draft=_refusing_from_draft, from_drafts=refusing
    )
    store.ensure(spec)
    assert store.create_many(spec, _drafts(package, "Ticket", 4), entities=False) == 4
    assert store.count(spec) == 4


def test_generated_specs_name_their_bulk_builder(package: ModuleType) -> None:
    for spec in package.ENTITIES:
        module = sys.modules[spec.entity_type.__module__]
        builder = getattr(module, f"_{spec.name.lower()}_from_drafts")
        assert spec.from_drafts is builder
