"""End to end from the shop DDL fixture: generate, check the code, drive every generated API."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from persist_runtime import UNSET, ValidationError

from tests.quality import assert_generated_quality

ROOT = Path(__file__).resolve().parent.parent
SHOP_SQL = ROOT / "fixtures" / "shop" / "shop.sql"

# Two valid payloads per entity: the first creates, the second supplies new values for
# patches and setter commands. Generated fields get values in GENERATED.
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "customer": (
        {"email": "ann@example.com", "display_name": "Ann", "birth_date": "1990-02-03"},
        {
            "email": "ann@example.org",
            "display_name": "Ann B.",
            "phone": "+49 30 1234",
            "marketing_opt_in": True,
            "birth_date": "1990-02-04",
        },
    ),
    "product": (
        {"sku": "SKU-1", "name": "Teapot", "price": "19.90"},
        {
            "sku": "SKU-2",
            "name": "Kettle",
            "description": "Steel",
            "price": 25,
            "stock": 3,
            "active": False,
        },
    ),
    "order": (
        {"customer_id": 1, "total": "19.90"},
        {
            "customer_id": 2,
            "status": "paid",
            "total": "20.00",
            "note": "Ring twice",
            "shipped_on": "2026-11-22",
        },
    ),
    "order_line": (
        {"order_id": 1, "line_no": 1, "product_id": 1, "quantity": 2, "unit_price": "9.95"},
        {"product_id": 2, "quantity": 3, "unit_price": "1.00"},
    ),
    "account": (
        {"customer_id": 1, "number": "DE001", "opened_on": "2026-01-01"},
        {
            "customer_id": 2,
            "number": "DE002",
            "currency": "USD",
            "balance": "10.50",
            "opened_on": "2026-01-02",
            "closed_at": "2026-11-21T10:00:00",
        },
    ),
}
GENERATED = {"id": 42, "created_at": datetime(2026, 1, 1), "placed_at": datetime(2026, 1, 1)}
# A value of the wrong JSON type for each kind of field.
WRONG = {
    "string": 12,
    "integer": "twelve",
    "decimal": "12,5",
    "boolean": "yes",
    "date": "03/02/1990",
    "datetime": "noon",
    "enum": "lost",
}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("shop")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "persist_tool",
            "generate",
            "entity",
            str(SHOP_SQL),
            "-o",
            str(root / "shopddl"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("shopddl")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("shopddl")]:
            del sys.modules[name]


def test_shop_generates_clean_code_that_imports_with_the_runtime_only(shop: ModuleType) -> None:
    package = Path(shop.__file__).parent
    assert sorted(p.name for p in package.glob("*.py")) == [
        "__init__.py",
        "account.py",
        "customer.py",
        "order.py",
        "order_line.py",
        "product.py",
    ]
    assert_generated_quality(package)
    assert [s.name for s in shop.ENTITIES] == [
        "Customer",
        "Product",
        "Order",
        "OrderLine",
        "Account",
    ]


@pytest.mark.parametrize("module_name", sorted(SAMPLES))
def test_every_generated_api_works(shop: ModuleType, module_name: str) -> None:
    module = importlib.import_module(f"shopddl.{module_name}")
    spec = next(s for s in shop.ENTITIES if s.entity_type.__module__ == module.__name__)
    first, second = SAMPLES[module_name]

    draft = spec.draft_type.from_payload(first)
    assert spec.draft_type.from_payload(draft.to_payload()) == draft
    generated = {f.name: GENERATED[f.name] for f in spec.fields if f.generated}
    entity = spec.from_draft(draft, generated)
    for name, value in generated.items():
        assert getattr(entity, name) == value
    record = spec.to_record(entity)
    assert spec.from_record(record) == entity
    assert spec.from_values(spec.to_values(entity)) == entity

    patch = spec.patch_type.from_payload(second)
    expected = {
        f.name
        for f in spec.fields
        if getattr(patch, f.name, UNSET) is not UNSET
        and getattr(patch, f.name) != getattr(entity, f.name)
    }
    assert expected, "the second sample must change something"
    assert spec.apply_patch(entity, patch) == frozenset(expected)
    assert spec.apply_patch(entity, patch) == frozenset()
    assert spec.patch_type.from_payload(patch.to_payload()) == patch

    fresh = spec.from_draft(draft, generated)
    for command in spec.commands:
        if command.name == "Touch":
            assert (
                spec.apply_command(fresh, spec.parse_command({"command": "Touch"})) == frozenset()
            )
            continue
        field = next(f for f in spec.fields if f"Set{_pascal(f.name)}" == command.name)
        payload = {"value": second.get(field.name, first.get(field.name))}
        if payload["value"] is None:
            continue
        parsed = spec.parse_command(
            {"command": command.name, "payload": payload, "payload_version": 1}
        )
        assert parsed.to_payload() == command.type.from_payload(payload).to_payload()
        before = getattr(fresh, field.name)
        changed = spec.apply_command(fresh, parsed)
        assert getattr(fresh, field.name) == parsed.value
        assert changed == (frozenset() if before == parsed.value else frozenset({field.name}))


@pytest.mark.parametrize("module_name", sorted(SAMPLES))
def test_invalid_payloads_list_every_problem_with_its_pointer(
    shop: ModuleType, module_name: str
) -> None:
    module = importlib.import_module(f"shopddl.{module_name}")
    spec = next(s for s in shop.ENTITIES if s.entity_type.__module__ == module.__name__)
    bad = {f.name: WRONG[f.kind] for f in spec.fields if f.name in spec.draft_fields}
    bad["not_a_field"] = 1
    with pytest.raises(ValidationError) as caught:
        spec.draft_type.from_payload(bad)
    paths = [issue.path for issue in caught.value.issues]
    assert sorted(paths) == sorted(f"/{name}" for name in bad)
    with pytest.raises(ValidationError) as caught:
        spec.draft_type.from_payload({})
    required = [issue.path for issue in caught.value.issues]
    assert required and all(
        i.message == "required property is missing" for i in caught.value.issues
    )
    with pytest.raises(ValidationError):
        spec.draft_type.from_payload(["not", "an", "object"])


def test_enum_and_length_constraints_from_checks_are_enforced(shop: ModuleType) -> None:
    order = importlib.import_module("shopddl.order")
    account = importlib.import_module("shopddl.account")
    with pytest.raises(ValidationError) as caught:
        order.OrderDraft.from_payload({"customer_id": 1, "total": "-1", "status": "lost"})
    assert {i.path for i in caught.value.issues} == {"/total", "/status"}
    with pytest.raises(ValidationError) as caught:
        account.AccountDraft.from_payload(
            {"customer_id": 1, "number": "x" * 35, "opened_on": "2026-01-01", "currency": "EURO"}
        )
    assert {i.path for i in caught.value.issues} == {"/number", "/currency"}
    draft = order.OrderDraft.from_payload({"customer_id": 1, "total": "3"})
    assert draft.status is order.OrderStatus.PENDING
    customer = importlib.import_module("shopddl.customer")
    parsed = customer.CustomerDraft.from_payload(
        {"email": "a@b.c", "display_name": "A", "birth_date": "1990-02-03"}
    )
    assert parsed.birth_date == date(1990, 2, 3)


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))
