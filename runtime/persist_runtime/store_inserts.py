"""Inserts of new entities: drafts checked, rows written, generated values read back.

The bodies of ``Store.create`` and ``Store.create_many``. Values the database generates
(autoincrement keys, defaults) come back through ``RETURNING`` where the dialect has it,
otherwise from the driver's ``lastrowid`` and a select of the new row; SQLite bulk inserts
read a generated rowid key from ``last_insert_rowid()``.

A bulk insert does its per-row work in C where it can: the draft types are checked as one
set, the values are encoded column by column (``TablePlan.draft_params``), cut into
statements by slicing, and the entities are built by the spec's ``from_drafts`` (one
generated loop) or, for specs without one, by ``map`` of ``from_draft`` over the drafts. The
cyclic garbage collector waits while drafts and entities are built (``_collector_paused``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import repeat
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from .errors import Issue, ValidationError
from .spec import EntitySpec
from .store_plan import TablePlan

if TYPE_CHECKING:
    from .store import SpecRef, Store

__all__ = ["coerce_draft", "create_many", "insert_row"]

_NOTHING_GENERATED: Final[Mapping[str, Any]] = MappingProxyType({})


def coerce_draft(spec: EntitySpec, draft: object) -> Any:
    """Return ``draft`` as ``spec``'s ``Draft`` (parsing a payload mapping).

    Raise ``ValidationError`` for anything that is neither a draft nor a mapping.
    """
    if type(draft) is spec.draft_type:  # the common case, checked first: bulk inserts
        return draft
    if isinstance(draft, Mapping):
        return spec.draft_type.from_payload(draft)
    if not isinstance(draft, spec.draft_type):
        raise ValidationError(
            [
                Issue(
                    "",
                    f"expected a {spec.draft_type.__name__} or a payload object,"
                    f" got {type(draft).__name__}",
                )
            ],
            entity=spec.name,
        )
    return draft


def insert_row(
    store: Store, cur: Any, plan: TablePlan, row: Sequence[Any], draft: Any
) -> dict[str, Any]:
    """Insert one encoded row; return the generated values by field name."""
    cur.execute(plan.insert_sql, row)
    if not plan.generated:
        return {}
    if store.dialect.insert_returning:
        values = plan.decode_generated(cur.fetchall()[0])
        return {f.name: v for f, v in zip(plan.generated, values, strict=True)}
    return _generated_after_insert(store, cur, plan, draft)


def _generated_after_insert(store: Store, cur: Any, plan: TablePlan, draft: Any) -> dict[str, Any]:
    """Read generated values without ``RETURNING``: the key from ``lastrowid``, the rest
    by selecting the new row."""
    spec = plan.spec
    draft_values = dict(zip(spec.draft_fields, spec.draft_values(draft), strict=True))
    raw: dict[str, Any] = {}
    key = []
    for f in plan.pk_fields:
        if f.generated:
            raw[f.name] = cur.lastrowid
        key.append(raw[f.name] if f.generated else draft_values[f.name])
    rest = [f for f in plan.generated if f.name not in raw]
    if rest:
        q = store.dialect.quote
        columns = ", ".join(f"{q}{f.column}{q}" for f in rest)
        cur.execute(
            f"SELECT {columns} FROM {plan.table} WHERE {plan.where_key}",
            plan.encode_key(key),
        )
        raw.update(zip((f.name for f in rest), cur.fetchall()[0], strict=True))
    decoded = plan.decode_generated([raw[f.name] for f in plan.generated])
    return {f.name: v for f, v in zip(plan.generated, decoded, strict=True)}


def _coerce_all(spec: EntitySpec, items: list[Any]) -> list[Any]:
    """Return ``items`` as ``spec``'s drafts (``coerce_draft``), checking the types in C
    when every one already is a draft (then ``items`` itself)."""
    if set(map(type, items)) <= {spec.draft_type}:
        return items
    return [coerce_draft(spec, d) for d in items]


def _rows(params: list[Any], width: int, count: int) -> list[list[Any]]:
    """Return ``params`` (flat) cut into ``count`` rows of ``width`` values."""
    if not width:
        return [[] for _ in range(count)]
    return [params[i : i + width] for i in range(0, len(params), width)]


def _insert_all(cur: Any, plan: TablePlan, params: list[Any], count: int) -> None:
    """Insert ``count`` rows whose values ``params`` holds flat, ``plan.bulk_rows`` rows a
    statement; the last statement takes the rows that remain."""
    per = plan.bulk_rows
    width = len(plan.spec.draft_fields)
    if per == 1:
        cur.executemany(plan.bulk_insert_sql(1), _rows(params, width, count))
        return
    full, rest = divmod(count, per)
    step = per * width
    if full:
        cur.executemany(
            plan.bulk_insert_sql(per), [params[i : i + step] for i in range(0, full * step, step)]
        )
    if rest:
        cur.execute(plan.bulk_insert_sql(rest), params[full * step :])


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block; restore it after, even on error.

    Building a hundred thousand drafts or entities allocates as many long-lived objects,
    which sets off over a hundred young collections, a dozen older ones and a full one
    (traversing every object of the process): with the collector running, building the
    entities takes half as long again. Reference counting frees objects as usual
    meanwhile; only the search for reference cycles waits. The blocks paused build drafts
    (generated ``from_payload``) and entities (``from_drafts`` or ``from_draft``), which
    hold their field values and make no cycles; should a user's own constructor make one,
    the first collection after the block finds it: delayed, never leaked. Neither the caller's
    iterable of drafts nor the database statements run paused: those may take long, and
    the switch is the whole process's. A collector the caller had disabled stays so.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _insert_drafts(store: Store, plan: TablePlan, items: list[Any]) -> Iterable[Mapping[str, Any]]:
    """Insert ``items`` in one transaction; return the generated values of each.

    The values are encoded before the transaction opens, so the write lock is held for the
    statements only, and dropped on return, before the caller builds the entities.
    """
    params = plan.draft_params(items)
    with store.transaction() as cur:
        if plan.generated and not plan.rowid_bulk:
            rows = _rows(params, len(plan.spec.draft_fields), len(items))
            return [insert_row(store, cur, plan, r, d) for r, d in zip(rows, items, strict=True)]
        _insert_all(cur, plan, params, len(items))
        if not plan.generated:
            return repeat(_NOTHING_GENERATED)
        cur.execute("SELECT last_insert_rowid()")
        last = int(cur.fetchone()[0])
    name = plan.generated[0].name
    return [{name: key} for key in range(last - len(items) + 1, last + 1)]


def create_many(
    store: Store, ref: SpecRef, drafts: Iterable[object], entities: bool
) -> list[Any] | int:
    """Insert ``drafts`` in one transaction; return the entities, or their count
    (``Store.create_many``)."""
    plan = store.plan(ref)
    spec = plan.spec
    listed = drafts if type(drafts) is list else list(drafts)
    if not listed:
        return [] if entities else 0
    with _collector_paused():
        items = _coerce_all(spec, listed)
    generated = _insert_drafts(store, plan, items)
    if not entities:
        return len(items)
    build_all = spec.from_drafts
    with _collector_paused():
        if build_all is not None:
            return build_all(items, generated)
        return list(map(spec.from_draft, items, generated))
