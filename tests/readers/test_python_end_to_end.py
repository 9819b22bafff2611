"""Generated modules for the Python shop fixture use the user's classes and methods.

The package is generated through the command line, imported beside the fixture package, and
driven: payload -> parsed command -> ``apply_command`` -> the user's method -> changed fields,
with the user's domain errors propagating unchanged, also through the SQLite store.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from persist_runtime import ValidationError

from tests.conftest import ROOT
from tests.quality import assert_black_stable, assert_mypy_strict, assert_ruff_clean

PYTHON_ROOT = ROOT / "fixtures" / "shop" / "python"
MODELS = PYTHON_ROOT / "shop" / "models.py"


def generate(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "persist_tool",
            "generate",
            "entity",
            str(MODELS.relative_to(ROOT)),
            "-o",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def shopgen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("python_e2e")
    result = generate(root / "shopgen")
    assert result.returncode == 0, result.stderr
    sys.path[:0] = [str(root), str(PYTHON_ROOT)]
    try:
        yield importlib.import_module("shopgen")
    finally:
        sys.path.remove(str(root))
        sys.path.remove(str(PYTHON_ROOT))
        for name in [m for m in sys.modules if m.split(".")[0] in ("shopgen", "shop")]:
            del sys.modules[name]


@pytest.fixture
def account_module(shopgen: ModuleType) -> ModuleType:
    return importlib.import_module("shopgen.account")


@pytest.fixture
def models(shopgen: ModuleType) -> ModuleType:
    return importlib.import_module("shop.models")


def new_account(account_module: ModuleType, balance: str = "0") -> object:
    draft = account_module.AccountDraft.from_payload(
        {"customer_id": 1, "number": "A-1", "opened_on": "2024-01-01", "balance": balance}
    )
    return account_module.create_account(draft, id=7)


def run(
    account_module: ModuleType, account: object, name: str, **payload: object
) -> frozenset[str]:
    command = account_module.parse_account_command(
        {"command": name, "payload": payload, "payload_version": 1}
    )
    changed: frozenset[str] = account_module.apply_command(account, command)
    return changed


def test_generated_modules_use_the_users_classes(shopgen: ModuleType, models: ModuleType) -> None:
    for module, name in [
        ("customer", "Customer"),
        ("product", "Product"),
        ("order", "Order"),
        ("order_line", "OrderLine"),
        ("account", "Account"),
    ]:
        generated = importlib.import_module(f"shopgen.{module}")
        assert getattr(generated, name) is getattr(models, name)
    assert [spec.name for spec in shopgen.ENTITIES] == [
        "Customer",
        "Product",
        "Order",
        "OrderLine",
        "Account",
    ]


def test_every_flavour_is_built_by_its_create_function(
    shopgen: ModuleType, models: ModuleType
) -> None:
    customer = importlib.import_module("shopgen.customer")
    built = customer.create_customer(
        customer.CustomerDraft(email="a@example.com", display_name="Ann"),
        id=1,
        created_at=datetime(2024, 1, 1, 9),
    )
    assert isinstance(built, models.Customer) and built.marketing_opt_in is False
    product = importlib.import_module("shopgen.product")
    item = product.create_product(
        product.ProductDraft(sku="SKU-1", name="Mug", price=Decimal("4.50")), id=2
    )
    assert isinstance(item, models.Product) and (item.stock, item.active) == (0, True)
    line = importlib.import_module("shopgen.order_line")
    made = line.create_order_line(
        line.OrderLineDraft(
            order_id=1, line_no=1, product_id=2, quantity=3, unit_price=Decimal("4.50")
        )
    )
    assert isinstance(made, models.OrderLine) and made.amount == Decimal("13.50")


def test_user_commands_are_listed_with_their_payload_schemas(account_module: ModuleType) -> None:
    specs = {spec.name: spec for spec in account_module.ACCOUNT_COMMANDS}
    for name in ("Deposit", "Withdraw", "Close"):
        assert specs[name].payload_version == 1
    assert specs["Deposit"].type is account_module.AccountDeposit
    assert specs["Deposit"].payload_schema["required"] == ["amount"]
    assert specs["Deposit"].doc == "Add ``amount`` to the balance."


def test_deposit_payload_runs_the_users_method_and_reports_the_changed_field(
    account_module: ModuleType,
) -> None:
    account = new_account(account_module)
    assert run(account_module, account, "Deposit", amount="12.50") == frozenset({"balance"})
    assert account.balance == Decimal("12.50")  # type: ignore[attr-defined]
    assert run(account_module, account, "Withdraw", amount=2) == frozenset({"balance"})
    assert account.balance == Decimal("10.50")  # type: ignore[attr-defined]


def test_domain_errors_propagate_unchanged_and_change_nothing(
    account_module: ModuleType, models: ModuleType
) -> None:
    account = new_account(account_module, balance="5.00")
    with pytest.raises(models.InsufficientFunds, match=r"cannot withdraw 9: the balance is 5\.00"):
        run(account_module, account, "Withdraw", amount="9")
    with pytest.raises(models.InvalidAmount, match="amount must be positive, got -1"):
        run(account_module, account, "Deposit", amount="-1")
    with pytest.raises(models.InvalidAmount, match="whole cents"):
        run(account_module, account, "Deposit", amount="0.001")
    with pytest.raises(models.AccountError, match=r"cannot close an account holding 5\.00"):
        run(account_module, account, "Close")
    assert account.balance == Decimal("5.00")  # type: ignore[attr-defined]
    assert account.closed_at is None  # type: ignore[attr-defined]


def test_close_changes_closed_at_and_then_every_command_is_refused(
    account_module: ModuleType, models: ModuleType
) -> None:
    account = new_account(account_module)
    assert run(account_module, account, "Close") == frozenset({"closed_at"})
    assert isinstance(account.closed_at, datetime)  # type: ignore[attr-defined]
    with pytest.raises(models.AccountClosed):
        run(account_module, account, "Deposit", amount="1")


def test_invalid_payload_is_rejected_before_the_method_runs(account_module: ModuleType) -> None:
    with pytest.raises(ValidationError) as caught:
        account_module.parse_account_command(
            {"command": "Deposit", "payload": {"amount": "lots", "memo": "x"}}
        )
    paths = [issue.path for issue in caught.value.issues]
    assert "/payload/amount" in paths and "/payload/memo" in paths


def test_generated_setters_and_touch_work_on_the_users_class(account_module: ModuleType) -> None:
    account = new_account(account_module)
    changed = account_module.apply_command(account, account_module.AccountSetCurrency(value="USD"))
    assert changed == frozenset({"currency"}) and account.currency == "USD"  # type: ignore[attr-defined]
    assert account_module.apply_command(account, account_module.AccountTouch()) == frozenset()


def test_store_executes_user_commands_and_journals_them(
    account_module: ModuleType, models: ModuleType
) -> None:
    from persist_runtime.store import Store

    store = Store.sqlite()
    try:
        spec = account_module.ACCOUNT_SPEC
        store.ensure(spec)
        created = store.create(spec, {"customer_id": 1, "number": "A-9", "opened_on": "2024-02-01"})
        assert isinstance(created, models.Account)
        store.execute(spec, created.id, {"command": "Deposit", "payload": {"amount": "30.00"}})
        with pytest.raises(models.InsufficientFunds):
            store.execute(spec, created.id, {"command": "Withdraw", "payload": {"amount": "31"}})
        loaded = store.get(spec, created.id)
        assert isinstance(loaded, models.Account)
        assert loaded.balance == Decimal("30.00")
        assert loaded.opened_on == date(2024, 2, 1)
        assert [r.command for r in store.journal(spec)] == ["Deposit"]
    finally:
        store.close()


def test_enum_fields_use_the_users_enum_class(shopgen: ModuleType) -> None:
    from shop.enums import OrderStatus  # type: ignore[import-not-found]

    order = importlib.import_module("shopgen.order")
    assert order.OrderStatus is OrderStatus
    draft = order.OrderDraft.from_payload({"customer_id": 1, "total": "3.00"})
    made = order.create_order(draft, id=1, placed_at=datetime(2024, 1, 1))
    assert type(made.status) is OrderStatus


@pytest.mark.slow
def test_generated_package_for_python_sources_passes_black_ruff_and_mypy(tmp_path: Path) -> None:
    result = generate(tmp_path / "shopgen")
    assert result.returncode == 0, result.stderr
    package = tmp_path / "shopgen"
    assert_black_stable(sorted(package.glob("*.py")))
    assert_ruff_clean(package)
    assert_mypy_strict([package], extra_paths=[PYTHON_ROOT])
