"""Migrations of the shop fixture (``fixtures/shop/shop.sql``) on every dialect.

The shop brings what Chinook lacks: database-generated keys and timestamps, enumerations
with CHECKs, named unique indexes, foreign keys between the migrated tables and defaults.
Its v1 tables are created by the v1 store and filled through it; then the same generated
migration and dual-path check as for Chinook run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from tests.migrations.harness import (
    Prepared,
    Scenario,
    Version,
    add_field,
    edit_field,
    fill_shop,
    prepare,
    run,
    shop_connection,
)

ENTITIES = ("Customer", "Order", "Account")


def _evolve(s: ir.Schema) -> ir.Schema:
    points = ir.Field("loyalty_points", "loyalty_points", ir.IntegerType(32))
    s = add_field(s, "Customer", points)
    s = edit_field(s, "Customer", "display_name", nullable=True)
    status = s.get_entity("Order").get_field("status").type
    assert isinstance(status, ir.EnumType)
    wider = ir.EnumType(status.name, (*status.values, "refunded"))
    s = edit_field(s, "Order", "status", type=wider)
    s = edit_field(s, "Order", "note", name="delivery_note", column="delivery_note")
    s = edit_field(s, "Order", "total", type=ir.DecimalType(14, 2))
    return edit_field(s, "Account", "balance", type=ir.DecimalType(16, 4))


SHOP = Scenario(
    "shop_evolution",
    ENTITIES,
    (
        Version(
            _evolve,
            renames=("Order.note=delivery_note",),
            defaults=("Customer.loyalty_points=100",),
        ),
    ),
    kinds=("add_field", "alter_nullability", "alter_field_type", "rename_field"),
    base="shop",
)


@pytest.fixture(scope="module")
def prepared(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return prepare(SHOP, corpus, tmp_path_factory.mktemp("shop_migrations"))


@pytest.fixture
def connection(request: pytest.FixtureRequest) -> Iterator[Any]:
    with shop_connection(request.param) as conn:
        yield conn


@pytest.mark.parametrize(
    ("connection", "dialect"),
    [
        ("sqlite", "sqlite"),
        pytest.param("postgres", "postgres", marks=pytest.mark.db),
        pytest.param("mysql", "mysql", marks=pytest.mark.db),
    ],
    indirect=["connection"],
)
def test_shop_evolution_keeps_every_row_and_both_paths_agree(
    prepared: Prepared, connection: Any, dialect: str, tmp_path: Path
) -> None:
    fill_shop(prepared, connection, dialect)
    outcome = run(prepared, connection, dialect, tmp_path)
    assert outcome.counts_before == outcome.counts_after
    assert outcome.counts_after["Customer"] == 40
    assert outcome.compared == sum(outcome.counts_after.values())
