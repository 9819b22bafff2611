"""The store over modules generated from ``fixtures/shop/shop.sql`` on every dialect.

The shop is generated once per session into a temporary package. It brings what the
hand-written modules do not: DDL written by ``persist_tool.sql`` (foreign keys, checks,
defaults), database-made timestamps (``DEFAULT CURRENT_TIMESTAMP``) coming back on insert,
StrEnum fields, and the emitter's own reducers and payload validation. The hand-written
``Counter``/``Item`` stay for what the shop lacks: a user command (``Increment``) for the
concurrency tests, and UUID, JSON, bytes and client-chosen composite keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from persist_runtime import ConflictError, Store, ValidationError
from persist_runtime.collections import Collection

from tests.runtime.conftest import generated_package

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated shop package, importable for the session."""
    out = tmp_path_factory.mktemp("generated")
    with generated_package(ROOT / "fixtures" / "shop" / "shop.sql", out, "shop") as package:
        yield package


@pytest.fixture
def shop_store(store: Store, shop: ModuleType) -> Store:
    for spec in shop.ENTITIES:  # dependency order: customers before orders...
        store.ensure(spec)
    return store


def customer(shop: ModuleType, store: Store, email: str = "ada@example.com") -> Any:
    return store.create(
        shop.CUSTOMER_SPEC,
        shop.CustomerDraft(email=email, display_name="Ada", birth_date=date(1990, 12, 10)),
    )


def test_generated_tables_are_created_and_registered(shop_store: Store, shop: Any) -> None:
    assert [shop_store.schema_version(s.table) for s in shop.ENTITIES] == [1] * 5


def test_create_returns_database_made_values(shop_store: Store, shop: Any) -> None:
    ada = customer(shop, shop_store)
    assert isinstance(ada.id, int) and isinstance(ada.created_at, datetime)
    assert ada.marketing_opt_in is False
    assert shop_store.get(shop.CUSTOMER_SPEC, ada.id) == ada


def test_order_lifecycle_with_changed_columns_only(
    shop_store: Store, shop: Any, recorder: Any
) -> None:
    ada = customer(shop, shop_store)
    order = shop_store.create(
        shop.ORDER_SPEC, {"customer_id": ada.id, "total": "19.90", "note": "ring twice"}
    )
    assert order.status is shop.order.OrderStatus.PENDING and order.total == Decimal("19.90")
    recorder.statements.clear()
    result = shop_store.execute(
        shop.ORDER_SPEC,
        order.id,
        {"command": "SetStatus", "payload": {"value": "paid"}},
    )
    assert result.changed == {"status"} and result.version == 2
    updates = [s for s in recorder.statements if s.startswith("UPDATE") and "orders" in s]
    q, ph = shop_store.dialect.quote, shop_store.dialect.placeholder
    assert updates == [f"UPDATE {q}orders{q} SET {q}status{q} = {ph} WHERE {q}id{q} = {ph}"]
    loaded = shop_store.get(shop.ORDER_SPEC, order.id)
    assert loaded.status is shop.order.OrderStatus.PAID and loaded.note == "ring twice"
    with pytest.raises(ConflictError):
        shop_store.patch(shop.ORDER_SPEC, order.id, {"note": None}, expected_version=1)
    patched = shop_store.patch(shop.ORDER_SPEC, order.id, {"note": None}, expected_version=2)
    assert patched.entity.note is None and patched.changed == {"note"}
    assert [(r.command, r.new_version) for r in shop_store.journal(shop.ORDER_SPEC)] == [
        ("SetStatus", 2),
        ("Patch", 3),
    ]


def test_generated_validation_errors_reach_the_caller(shop_store: Store, shop: Any) -> None:
    ada = customer(shop, shop_store)
    order = shop_store.create(shop.ORDER_SPEC, {"customer_id": ada.id, "total": "1.00"})
    with pytest.raises(ValidationError) as caught:
        shop_store.execute(
            "Order", order.id, {"command": "SetStatus", "payload": {"value": "lost"}}
        )
    assert any(i.path == "/payload/value" for i in caught.value.issues)
    assert shop_store.version(shop.ORDER_SPEC, order.id) == 1


def test_composite_key_order_lines(shop_store: Store, shop: Any) -> None:
    ada = customer(shop, shop_store)
    product = shop_store.create(
        shop.PRODUCT_SPEC, {"sku": "P-1", "name": "Pen", "price": "2.50", "stock": 10}
    )
    order = shop_store.create(shop.ORDER_SPEC, {"customer_id": ada.id, "total": "5.00"})
    lines = shop_store.create_many(
        shop.ORDER_LINE_SPEC,
        [
            {
                "order_id": order.id,
                "line_no": n,
                "product_id": product.id,
                "quantity": n,
                "unit_price": "2.50",
            }
            for n in (1, 2)
        ],
    )
    assert isinstance(lines, list)
    assert shop_store.get(shop.ORDER_LINE_SPEC, (order.id, 2)).quantity == 2
    result = shop_store.execute(
        shop.ORDER_LINE_SPEC,
        (order.id, 1),
        {"command": "SetQuantity", "payload": {"value": 7}},
    )
    assert result.entity.quantity == 7
    assert [r.id for r in shop_store.journal(shop.ORDER_LINE_SPEC)] == [[order.id, 1]]


def test_shop_snapshot_round_trip(shop_store: Store, shop: Any, tmp_path: Path) -> None:
    ada = customer(shop, shop_store)
    shop_store.create(
        shop.ACCOUNT_SPEC,
        {
            "customer_id": ada.id,
            "number": "A-1",
            "balance": "10.50",
            "opened_on": "2026-01-01",
        },
    )
    order = shop_store.create(shop.ORDER_SPEC, {"customer_id": ada.id, "total": "3.00"})
    shop_store.execute(shop.ORDER_SPEC, order.id, {"command": "Touch", "payload": {}})
    path = tmp_path / "shop.json"
    assert shop_store.snapshot(str(path)) == 3
    other = Store.sqlite()
    other.restore(str(path), specs=shop.ENTITIES)
    for spec in shop.ENTITIES:
        assert other.list(spec) == shop_store.list(spec)
    assert other.version(shop.ORDER_SPEC, order.id) == 2
    account = other.list(shop.ACCOUNT_SPEC)[0]
    assert str(account.balance) == "10.50"


def test_heterogeneous_collection_over_generated_types(shop_store: Store, shop: Any) -> None:
    ada = customer(shop, shop_store)
    shop_store.create(shop.ORDER_SPEC, {"customer_id": ada.id, "total": "3.00"})
    shop_store.create(
        shop.ACCOUNT_SPEC,
        {"customer_id": ada.id, "number": "A-9", "opened_on": "2026-01-01"},
    )
    collection = Collection.load(shop_store, [shop.ORDER_SPEC, shop.ACCOUNT_SPEC])
    result = collection.invoke("SetStatus", {"value": "cancelled"})
    assert [a.entity for a in result.applied] == ["Order"]
    assert [s.entity for s in result.skipped] == ["Account"]
    assert shop_store.list(shop.ORDER_SPEC)[0].status is shop.order.OrderStatus.CANCELLED
    touched = collection.invoke("Touch")
    assert [a.entity for a in touched.applied] == ["Order", "Account"]
