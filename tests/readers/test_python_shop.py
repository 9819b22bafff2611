"""The shop fixture as Python classes reads to the same IR as its DDL and JSON Schema forms."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.readers import ReadOptions, get_reader
from tests.conftest import FIXTURES

SHOP = FIXTURES / "shop"
PYTHON_ROOT = SHOP / "python"
MODELS = PYTHON_ROOT / "shop" / "models.py"


def read(fmt: str, path: Path) -> ir.Schema:
    display = path.relative_to(FIXTURES.parent).as_posix()
    options = ReadOptions(path=path, display=display)
    return get_reader(fmt)(path.read_text(encoding="utf-8"), options).schema


def comparable(entity: ir.Entity) -> dict[str, Any]:
    """Return what must agree across sources: everything but docs, places, extras, commands."""
    plain = dataclasses.replace(entity, doc=None, location=None, extra={}, commands=())
    data = plain.to_json()
    data["fields"] = {
        f["name"]: {k: v for k, v in f.items() if k not in ("doc", "location", "extra")}
        for f in data["fields"]
    }
    return data


def differences(left: ir.Entity, right: ir.Entity) -> list[str]:
    """List every differing attribute as ``Entity.field.key: left != right``."""
    a, b = comparable(left), comparable(right)
    out: list[str] = []
    for key in sorted(set(a) | set(b)):
        if key == "fields":
            continue
        if a.get(key) != b.get(key):
            out.append(f"{left.name}.{key}: {a.get(key)!r} != {b.get(key)!r}")
    if list(a["fields"]) != list(b["fields"]):
        out.append(f"{left.name} field order: {list(a['fields'])} != {list(b['fields'])}")
    for name in a["fields"].keys() & b["fields"].keys():
        fa, fb = a["fields"][name], b["fields"][name]
        for key in sorted(fa):
            if fa[key] != fb.get(key):
                out.append(f"{left.name}.{name}.{key}: {fa[key]!r} != {fb.get(key)!r}")
    return out


@pytest.fixture(scope="module")
def python_schema() -> ir.Schema:
    return read("python", MODELS)


@pytest.mark.parametrize(
    ("fmt", "name"), [("ddl", "shop.sql"), ("json-schema", "shop.schema.json")]
)
def test_python_shop_equals_the_other_sources_field_for_field(
    python_schema: ir.Schema, fmt: str, name: str
) -> None:
    other = read(fmt, SHOP / name)
    assert [e.name for e in python_schema.entities] == [e.name for e in other.entities]
    problems = [
        line
        for ours in python_schema.entities
        for line in differences(ours, other.get_entity(ours.name))
    ]
    assert problems == []
    for ours in python_schema.entities:
        theirs = other.get_entity(ours.name)
        assert _without_extras(ours).fingerprint() == _without_extras(theirs).fingerprint()


def _without_extras(entity: ir.Entity) -> ir.Entity:
    return dataclasses.replace(
        entity,
        extra={},
        commands=(),
        fields=tuple(dataclasses.replace(f, extra={}) for f in entity.fields),
    )


def test_python_shop_records_where_each_class_lives(python_schema: ir.Schema) -> None:
    classes = {e.name: e.extra["python_class"] for e in python_schema.entities}
    assert classes == {
        "Customer": {
            "module": "shop.models",
            "name": "Customer",
            "flavour": "pydantic",
            "frozen": False,
        },
        "Product": {
            "module": "shop.models",
            "name": "Product",
            "flavour": "attrs",
            "frozen": False,
        },
        "Order": {
            "module": "shop.models",
            "name": "Order",
            "flavour": "dataclass",
            "frozen": False,
        },
        "OrderLine": {
            "module": "shop.models",
            "name": "OrderLine",
            "flavour": "plain",
            "frozen": False,
        },
        "Account": {
            "module": "shop.models",
            "name": "Account",
            "flavour": "dataclass",
            "frozen": False,
        },
    }
    status = python_schema.get_entity("Order").get_field("status")
    assert status.extra == {
        "python_enum": {
            "module": "shop.enums",
            "name": "OrderStatus",
            "members": [
                ["PENDING", "pending"],
                ["PAID", "paid"],
                ["SHIPPED", "shipped"],
                ["CANCELLED", "cancelled"],
            ],
        }
    }


def test_python_shop_account_commands(python_schema: ir.Schema) -> None:
    account = python_schema.get_entity("Account")
    commands = {c.name: c for c in account.commands}
    assert list(commands) == ["deposit", "withdraw", "close"]
    for name in ("deposit", "withdraw"):
        (amount,) = commands[name].params
        assert (amount.name, amount.type, amount.required) == ("amount", ir.DecimalType(), True)
        assert commands[name].payload_version == 1
    assert commands["close"].params == ()
    assert commands["close"].doc == "Close the account; its balance must be zero."


def test_python_shop_docs_come_from_the_classes(python_schema: ir.Schema) -> None:
    customer = python_schema.get_entity("Customer")
    assert customer.doc == "A person who buys from the shop."
    assert customer.get_field("email").doc == "Login and contact address."
    assert customer.get_field("phone").doc == "Optional contact number."
    product = python_schema.get_entity("Product")
    assert product.get_field("sku").doc == "Stock keeping unit, unique per product."
    assert product.get_field("price").doc == "Unit price in the shop currency."


def test_python_shop_fixture_is_importable_and_runs() -> None:
    sys.path.insert(0, str(PYTHON_ROOT))
    try:
        from datetime import date
        from decimal import Decimal

        from shop.models import Account, InsufficientFunds  # type: ignore[import-not-found]

        account = Account(id=1, customer_id=1, number="A-1", opened_on=date(2024, 1, 1))
        account.deposit(Decimal("10.00"))
        with pytest.raises(InsufficientFunds):
            account.withdraw(Decimal("10.01"))
        assert account.balance == Decimal("10.00")
    finally:
        sys.path.remove(str(PYTHON_ROOT))
