"""Reads of stored entities: the bodies of ``Store.list``, ``list_versioned``, ``count`` and
``journal``.

Filters are equality on fields (``None`` means ``IS NULL``), values coerced and encoded like
keys; the journal is read page by page in ``seq`` order, each page in its own short
transaction.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .codecs import coerce_key_value
from .journal import JournalRecord
from .store_plan import TablePlan

if TYPE_CHECKING:
    from .store import SpecRef, Store

__all__ = [
    "Versioned",
    "count",
    "list_entities",
    "list_versioned",
    "read_journal",
    "where_clause",
]

_JOURNAL_READ: Final = (
    "SELECT seq, ts, entity, id_json, schema_version, command, payload_version, payload,"
    " expected_version, new_version, idempotency_key FROM __persist_journal"
)


@dataclass(frozen=True, slots=True)
class Versioned:
    """An entity with its stored row version."""

    entity: Any
    version: int


def where_clause(
    plan: TablePlan, where: Mapping[str, object] | None
) -> tuple[str, builtins.list[Any]]:
    """Return ``" WHERE ..."`` (or ``""``) and its parameters for field equalities.

    ``None`` values become ``IS NULL``; other values are coerced like key values (except
    JSON-typed fields) and encoded for the column.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for name, value in (where or {}).items():
        index, column = plan.column(name)
        if value is None:
            clauses.append(f"{column} IS NULL")
            continue
        field = plan.spec.fields[index]
        if field.kind not in ("json", "array", "object"):
            value = coerce_key_value(field, value, plan.enums.get(name), f"/where/{name}")
        clauses.append(f"{column} = {plan.ph}")
        params.append(plan.encode_field(index, value))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_entities(
    store: Store,
    ref: SpecRef,
    where: Mapping[str, object] | None,
    order_by: str | Sequence[str],
    limit: int | None,
    offset: int,
) -> list[Any]:
    """Return the entities matching ``where`` in ``order_by`` order (``Store.list``)."""
    plan = store.plan(ref)
    sql_where, params = where_clause(plan, where)
    order = [order_by] if isinstance(order_by, str) else list(order_by)
    terms = []
    for item in order or list(plan.spec.primary_key):
        descending = item.startswith("-")
        _, column = plan.column(item.lstrip("-+"))
        terms.append(f"{column} DESC" if descending else column)
    sql = f"{plan.select_all_sql}{sql_where} ORDER BY {', '.join(terms)}"
    if limit is not None or offset:
        sql += f" LIMIT {int(limit) if limit is not None else store.dialect.unlimited}"
        sql += f" OFFSET {int(offset)}"
    with store.transaction() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    decode, from_values = plan.decode_row, plan.spec.from_values
    return [from_values(decode(row)) for row in rows]


def list_versioned(
    store: Store,
    ref: SpecRef,
    where: Mapping[str, object] | None,
    order_by: str | Sequence[str],
    limit: int | None,
    offset: int,
) -> list[Versioned]:
    """Return ``store.list(...)`` with each entity's row version (``Store.list_versioned``)."""
    plan = store.plan(ref)
    ph = store.dialect.placeholder
    with store.transaction() as cur:
        entities = store.list(ref, where, order_by=order_by, limit=limit, offset=offset)
        cur.execute(
            f"SELECT entity_id, version FROM __persist_versions WHERE table_name = {ph}",
            (plan.spec.table,),
        )
        versions = {str(k): int(v) for k, v in cur.fetchall()}
    to_values = plan.spec.to_values
    return [
        Versioned(e, versions.get(plan.key_text(plan.key_of(to_values(e))), 1)) for e in entities
    ]


def count(store: Store, ref: SpecRef, where: Mapping[str, object] | None) -> int:
    """Return how many entities match ``where`` (``Store.count``)."""
    plan = store.plan(ref)
    sql_where, params = where_clause(plan, where)
    with store.transaction() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {plan.table}{sql_where}", params)
        return int(cur.fetchone()[0])


def read_journal(
    store: Store, ref: SpecRef | None, id: object, after_seq: int, page_size: int
) -> Iterator[JournalRecord]:
    """Yield journal records after ``after_seq`` in ``seq`` order (``Store.journal``)."""
    ph = store.dialect.placeholder
    store._ready()
    filters: list[str] = []
    params: list[Any] = []
    if ref is not None:
        plan = store.plan(ref)
        filters.append(f"table_name = {ph}")
        params.append(plan.spec.table)
        if id is not None:
            filters.append(f"entity_id = {ph}")
            params.append(plan.key_text(plan.key_values(id)))
    last = after_seq

    while True:
        where = " AND ".join([f"seq > {ph}", *filters])
        sql = f"{_JOURNAL_READ} WHERE {where} ORDER BY seq LIMIT {int(page_size)}"
        with store.transaction() as cur:
            cur.execute(sql, (last, *params))
            rows = cur.fetchall()
        for row in rows:
            (
                seq,
                ts,
                entity,
                id_json,
                schema_version,
                command,
                pv,
                payload,
                exp,
                new,
                ik,
            ) = row
            last = int(seq)
            yield JournalRecord(
                seq=last,
                ts=ts,
                entity=entity,
                id=json.loads(id_json),
                schema_version=int(schema_version),
                command=command,
                payload_version=int(pv),
                payload=json.loads(payload),
                expected_version=None if exp is None else int(exp),
                new_version=int(new),
                idempotency_key=ik,
            )
        if len(rows) < page_size:
            return
