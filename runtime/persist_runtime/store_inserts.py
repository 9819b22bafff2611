"""Inserts of new entities: drafts checked, rows written, generated values read back.

The bodies of ``Store.create`` and ``Store.create_many``. Values the database generates
(autoincrement keys, defaults) come back through ``RETURNING`` where the dialect has it,
otherwise from the driver's ``lastrowid`` and a select of the new row; SQLite bulk inserts
read a generated rowid key from ``last_insert_rowid()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import Issue, ValidationError
from .spec import EntitySpec
from .store_plan import TablePlan

if TYPE_CHECKING:
    from .store import SpecRef, Store

__all__ = ["coerce_draft", "create_many", "insert_row"]


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


def create_many(
    store: Store, ref: SpecRef, drafts: Iterable[object], entities: bool
) -> list[Any] | int:
    """Insert ``drafts`` in one transaction; return the entities, or their count
    (``Store.create_many``)."""
    plan = store.plan(ref)
    spec = plan.spec
    items = [coerce_draft(spec, d) for d in drafts]
    encode, values_of = plan.encode_draft, spec.draft_values
    rows = [encode(values_of(d)) for d in items]
    generated: list[Mapping[str, Any]]
    with store.transaction() as cur:
        if not plan.generated or plan.rowid_bulk:
            bulk_sql = plan.insert_sql.split(" RETURNING ")[0]
            cur.executemany(bulk_sql, rows)
            if plan.generated and rows:
                cur.execute("SELECT last_insert_rowid()")
                last = int(cur.fetchone()[0])
                name = plan.generated[0].name
                first = last - len(rows) + 1
                generated = [{name: first + i} for i in range(len(rows))]
            else:
                generated = [{}] * len(rows)
        else:
            generated = [
                insert_row(store, cur, plan, r, d) for r, d in zip(rows, items, strict=True)
            ]
    if not entities:
        return len(items)
    from_draft = spec.from_draft
    return [from_draft(d, g) for d, g in zip(items, generated, strict=True)]
