"""The entity module emitter: generated API behaviour, code quality, determinism, goldens."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from persist_runtime import UNSET, ValidationError

from persist_tool import ir
from persist_tool.emit.entity import render_package
from tests.emit import samples
from tests.quality import assert_generated_quality

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "emit"
DIALECTS = ("sqlite", "postgres", "mysql")


def _render(*entities: ir.Entity) -> dict[str, str]:
    files = render_package(
        ir.Schema(entities, "samples.sql"),
        source="samples.sql",
        source_hash="0" * 64,
        dialects=DIALECTS,
    )
    return {f.path: f.text for f in files}


def _write(tmp: Path, name: str, files: dict[str, str]) -> Path:
    package = tmp / name
    package.mkdir(parents=True)
    for path, text in files.items():
        (package / path).write_text(text, encoding="utf-8")
    return package


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("emit")
    _write(root, "samplepkg", _render(samples.todo(), samples.hostile()))
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("samplepkg")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("samplepkg")]:
            del sys.modules[name]


@pytest.fixture
def todo(generated: ModuleType) -> ModuleType:
    return importlib.import_module("samplepkg.todo")


def test_generated_package_passes_black_ruff_mypy_and_imports_alone(
    tmp_path: Path,
) -> None:
    package = _write(tmp_path, "qualitypkg", _render(samples.todo(), samples.hostile()))
    assert_generated_quality(package)


def test_an_entity_with_no_mutable_field_has_one_command_and_passes_every_check(
    tmp_path: Path,
) -> None:
    # A join table: its key is all it holds, so ``Touch`` is its only command, and the
    # one-class command table must be laid out as black lays out a one-element tuple.
    key = (
        ir.Field("order_id", "order_id", ir.IntegerType(), immutable=True),
        ir.Field("tag_id", "tag_id", ir.IntegerType(), immutable=True),
    )
    join = ir.Entity("OrderTag", "order_tags", 1, key, primary_key=("order_id", "tag_id"))
    files = _render(join)
    assert "command.name: command for command in (OrderTagTouch,)" in files["order_tag.py"]
    assert_generated_quality(_write(tmp_path, "joinpkg", files))


def test_two_renders_are_byte_identical() -> None:
    assert _render(samples.todo(), samples.hostile()) == _render(samples.todo(), samples.hostile())


def test_todo_module_matches_golden_file() -> None:
    text = _render(samples.todo())["todo.py"]
    golden = GOLDEN / "todo.py"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_draft_from_payload_fills_defaults_and_converts_json_forms(todo: ModuleType) -> None:
    draft = todo.TodoDraft.from_payload(
        {"title": "Write tests", "due_at": "2026-11-21T10:00:00Z", "budget": "12.50"}
    )
    assert draft.status is todo.TodoStatus.OPEN
    assert draft.priority == 3
    assert draft.budget == Decimal("12.50")
    assert draft.due_at == datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert draft.tags == []
    assert draft.meta is None
    assert todo.TodoDraft.from_payload(draft.to_payload()) == draft


def test_draft_lists_every_problem_with_json_pointers(todo: ModuleType) -> None:
    with pytest.raises(ValidationError) as caught:
        todo.TodoDraft.from_payload(
            {
                "status": "later",
                "priority": 9,
                "due_at": "tomorrow",
                "tags": ["ok", "x" * 21],
                "meta": {"source": 1, "extra": True},
                "surprise": 1,
            }
        )
    problems = {(i.path, i.message.split(",")[0]) for i in caught.value.issues}
    paths = {path for path, _ in problems}
    assert "/surprise" in paths
    assert "/title" in paths  # required and missing
    assert "/status" in paths
    assert "/priority" in paths
    assert "/due_at" in paths
    assert "/tags/1" in paths
    assert any(p.startswith("/meta") for p in paths)
    assert ("/due_at", "expected an ISO 8601 datetime") in problems


def test_create_patch_and_commands_report_changed_fields(todo: ModuleType) -> None:
    entity = todo.create_todo(todo.TodoDraft(title="A"), id=7)
    assert entity.id == 7 and entity.title == "A"
    assert isinstance(entity.created_at, datetime)
    patch = todo.TodoPatch.from_payload({"title": "B", "done": False, "estimate": None})
    assert patch.priority is UNSET
    assert todo.apply_patch(entity, patch) == frozenset({"title"})
    assert todo.TodoPatch().is_empty() and not patch.is_empty()
    command = todo.parse_todo_command(
        {"command": "SetPriority", "payload": {"value": 5}, "payload_version": 1}
    )
    assert todo.apply_command(entity, command) == frozenset({"priority"})
    assert todo.apply_command(entity, command) == frozenset()
    assert todo.apply_command(entity, todo.TodoTouch()) == frozenset()
    assert {c.name for c in todo.TODO_COMMANDS} >= {"SetTitle", "SetPriority", "Touch"}
    assert "id" not in {c.name for c in todo.TODO_COMMANDS}


def test_parse_command_reports_unknown_commands_and_payload_paths(todo: ModuleType) -> None:
    with pytest.raises(ValidationError) as caught:
        todo.parse_todo_command({"command": "Explode", "payload": {}})
    assert [i.path for i in caught.value.issues] == ["/command"]
    with pytest.raises(ValidationError) as caught:
        todo.parse_todo_command({"command": "SetPriority", "payload": {"value": "high"}})
    assert [i.path for i in caught.value.issues] == ["/payload/value"]
    with pytest.raises(ValidationError) as caught:
        todo.parse_todo_command({"command": "Touch", "payload_version": 4})
    assert [i.path for i in caught.value.issues] == ["/payload_version"]


def test_records_round_trip_through_json_form(todo: ModuleType) -> None:
    entity = todo.create_todo(
        todo.TodoDraft(title="A", attachment=b"\x00\x01", tags=["x"], meta={"source": "s"}),
        id=1,
    )
    record = todo.todo_to_record(entity)
    assert record["attachment"] == "AAE="
    assert todo.todo_from_record(record) == entity
    spec = todo.TODO_SPEC
    assert spec.from_values(spec.to_values(entity)) == entity
    assert spec.draft_fields[0] == "title"
    assert [f.name for f in spec.fields if f.generated] == ["id", "created_at"]
    assert set(spec.ddl) == set(DIALECTS)
    assert spec.fingerprint == samples.todo().fingerprint()


def test_hostile_names_and_docs_stay_inert(generated: ModuleType) -> None:
    hostile = importlib.import_module("samplepkg.hostile")
    # DDL-like sources key payloads by the Python field name, not the raw column.
    draft = hostile.HostileDraft.from_payload({"id": 1, "class_": "c", "cafe": "ok", "data_": [1]})
    assert draft.class_ == "c"
    assert draft.cafe == "ok"
    assert draft.data_ == [1]
    assert draft.mode is hostile.WeirdMode("None")
    assert draft.quote == 'it\'s "quoted"\n'
    default = hostile.HostileDraft(id=1)
    assert default.class_ == 'x"""; import os; os.system("echo pwned") #\\'
    assert len({m.name for m in hostile.WeirdMode}) == 6


def test_user_commands_call_the_method_and_report_changes(tmp_path: Path) -> None:
    models = tmp_path / "bank_models.py"
    models.write_text(
        "from dataclasses import dataclass\n"
        "from decimal import Decimal\n\n"
        "@dataclass\n"
        "class Account:\n"
        "    id: int\n"
        "    owner: str\n"
        "    balance: Decimal = Decimal('0')\n"
        "    closed: bool = False\n\n"
        "    def deposit(self, amount: Decimal) -> None:\n"
        "        if amount <= 0:\n"
        "            raise ValueError('amount must be positive')\n"
        "        self.balance += amount\n\n"
        "    def close(self) -> None:\n"
        "        self.closed = True\n",
        encoding="utf-8",
    )
    entity = samples.account()
    entity = ir.Entity(
        **{
            **{f: getattr(entity, f) for f in entity.__dataclass_fields__},
            "extra": {"python_class": {"module": "bank_models", "name": "Account"}},
        }
    )
    package = _write(tmp_path, "bankpkg", _render(entity))
    assert_generated_quality(package, extra_paths=[tmp_path])
    sys.path.insert(0, str(tmp_path))
    try:
        module: Any = importlib.import_module("bankpkg.account")
        account = module.create_account(module.AccountDraft(owner="Ann"), id=1)
        command = module.parse_account_command(
            {"command": "Deposit", "payload": {"amount": "10.25"}}
        )
        assert module.apply_command(account, command) == frozenset({"balance"})
        assert account.balance == Decimal("10.25")
        with pytest.raises(ValueError, match="positive"):
            module.apply_command(account, module.AccountDeposit(amount=Decimal("-1")))
        close = module.parse_account_command({"command": "Close", "payload_version": 2})
        assert module.apply_command(account, close) == frozenset({"closed"})
        assert module.AccountClose.payload_version == 2
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith(("bankpkg", "bank_models"))]:
            del sys.modules[name]
