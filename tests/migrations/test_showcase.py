"""The showcase, end to end through the command line and the runtime.

A ``Todo`` (SQL DDL) and a ``Note`` (JSON Schema) are generated, created, patched and
commanded through the store, and snapshotted at v1. Both change: the todo's ``title`` is
renamed and its ``priority`` becomes required (backfilled); the note becomes a ``Memo``
(table ``memos``) and gains a field. ``persist-tool generate migration`` writes one step per
entity, each with SQL and a state upgrade; the snapshot, whose records still say ``Note``,
is restored through the plan into a fresh v2 database, the v1 database is migrated in place
by the same plan (row versions follow the renamed table), and a heterogeneous collection is
restored with the per-entity chains of the plan and commanded only where its members
support the command.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from persist_runtime import MigrationPlan, Store
from persist_runtime.collections import Collection
from persist_runtime.compat import check_journal, check_snapshot

TODO_V1 = """-- persist: Todo schema_version=1
CREATE TABLE todos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title VARCHAR(80) NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    priority INTEGER
);
"""

TODO_V2 = """-- persist: Todo schema_version=2
CREATE TABLE todos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    summary VARCHAR(120) NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    priority INTEGER NOT NULL
);
"""


def _note(version: int) -> dict[str, Any]:
    """The note's JSON Schema: ``Note`` (table ``notes``) at v1, ``Memo`` (``memos``) at v2."""
    properties: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid"},
        "text": {"type": "string", "maxLength": 500},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
    }
    if version > 1:
        properties["pinned"] = {"type": "boolean", "default": False}
    name, table = ("Note", "notes") if version == 1 else ("Memo", "memos")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            name: {
                "type": "object",
                "x-persist-table": table,
                "x-persist-schema-version": version,
                "x-persist-primary-key": "id",
                "properties": properties,
                "required": ["id", "text"],
                "additionalProperties": False,
            }
        },
    }


def _tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "persist_tool", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def _import(root: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("showcase")
    tag = uuid.uuid4().hex[:6]
    for version, todo in ((1, TODO_V1), (2, TODO_V2)):
        src = root / f"v{version}"
        src.mkdir()
        (src / "todo.sql").write_text(todo, encoding="utf-8")
        (src / "note.schema.json").write_text(json.dumps(_note(version)), encoding="utf-8")
        done = _tool(
            "generate",
            "entity",
            "todo.sql",
            "note.schema.json",
            "-o",
            f"../m{version}_{tag}",
            cwd=src,
        )
        assert done.returncode == 0, done.stderr
    migrations = root / f"migrations_{tag}"
    done = _tool(
        "generate", "migration",
        "--from", "v1/todo.sql", "--from", "v1/note.schema.json",
        "--to", "v2/todo.sql", "--to", "v2/note.schema.json",
        "--rename", "Todo.title=summary", "--rename", "Note=Memo",
        "--default", "Todo.priority=3",
        "-o", migrations.name,
        cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (migrations / "__init__.py").write_text("", encoding="utf-8")
    steps = [
        _import(root, f"{migrations.name}.{p.stem}").STEP
        for p in sorted(migrations.glob("*_v1_to_v2.py"))
    ]
    return {
        "root": root,
        "v1": _import(root, f"m1_{tag}"),
        "v2": _import(root, f"m2_{tag}"),
        "steps": steps,
    }


def _fill_v1(v1: ModuleType, store: Store) -> None:
    for spec in v1.ENTITIES:
        store.ensure(spec)
    first = store.create(v1.TODO_SPEC, v1.TodoDraft(title="write the plan"))
    store.create(v1.TODO_SPEC, v1.TodoDraft(title="ship it", priority=1))
    store.patch(v1.TODO_SPEC, first.id, v1.TodoPatch(title="write the migration plan"))
    store.execute(v1.TODO_SPEC, first.id, v1.todo.TodoSetDone(value=True))
    note = store.create(v1.NOTE_SPEC, v1.NoteDraft(id=uuid.UUID(int=1), text="hello", tags=[]))
    store.patch(v1.NOTE_SPEC, note.id, v1.NotePatch(tags=["a"]))


def test_both_entities_get_a_step_with_sql_and_a_state_upgrade(project: dict[str, Any]) -> None:
    by_entity = {s.entity: s for s in project["steps"]}
    assert set(by_entity) == {"Todo", "Memo"}
    memo = by_entity["Memo"]
    assert (memo.previous_entity, memo.previous_table, memo.table) == ("Note", "notes", "memos")
    assert memo.migrate_state({"id": "x", "text": "t", "tags": []}) == {
        "id": "x",
        "text": "t",
        "tags": [],
        "pinned": False,
    }
    todo = by_entity["Todo"]
    assert todo.statements("sqlite") and todo.statements("postgres") and todo.statements("mysql")
    assert not todo.stub
    record = {"id": 7, "title": "t", "done": False, "priority": None}
    assert todo.migrate_state(dict(record)) == {
        "id": 7,
        "summary": "t",
        "done": False,
        "priority": 3,
    }
    assert todo.commands[("SetTitle", 1)]({"value": "x"}) == ("SetSummary", {"value": "x"}, 1)


def test_snapshot_at_v1_restores_through_the_plan_and_migrates_in_place(
    project: dict[str, Any], tmp_path: Path
) -> None:
    v1, v2 = project["v1"], project["v2"]
    store = Store.sqlite()
    _fill_v1(v1, store)
    snapshot = str(tmp_path / "v1.json")
    assert store.snapshot(snapshot) == 3
    journal = str(tmp_path / "v1.jsonl")
    assert store.export_journal(journal) == 3  # todo patch and command, note patch
    plan = MigrationPlan.for_specs(project["steps"], v2.ENTITIES)
    assert check_snapshot(snapshot, v2.ENTITIES, plan) == []
    # The note's journal lines say "Note" and are read as Memo commands; nothing about
    # them is unknown or invalid.
    assert not [f for f in check_journal(journal, v2.ENTITIES, plan) if f.entity != "Todo"]

    fresh = Store.sqlite()
    report = fresh.restore(snapshot, plan, specs=v2.ENTITIES)
    assert report.inserted == {"Todo": 2, "Memo": 1}  # the snapshot says "Note"
    todos = fresh.list(v2.TODO_SPEC)
    assert [(t.summary, t.done, t.priority) for t in todos] == [
        ("write the migration plan", True, 3),
        ("ship it", False, 1),
    ]
    (memo,) = fresh.list(v2.MEMO_SPEC)
    assert memo.pinned is False and memo.tags == ["a"]
    assert fresh.version(v2.TODO_SPEC, todos[0].id) == 3  # create, patch, command
    assert fresh.version(v2.MEMO_SPEC, memo.id) == 2

    applied_todo, applied_memo = sorted(
        plan.apply(store), key=lambda a: a.step.entity, reverse=True
    )
    assert applied_todo.step.entity == "Todo" and applied_memo.step.entity == "Memo"
    migrated = Store.connect(store.connection, "sqlite")
    for spec in v2.ENTITIES:
        migrated.ensure(spec)
    assert migrated.list(v2.TODO_SPEC) == todos
    assert migrated.list(v2.MEMO_SPEC) == [memo]
    assert migrated.version(v2.MEMO_SPEC, memo.id) == 2  # row versions follow the table
    assert plan.upgrade_command("Todo", "SetTitle", {"value": "x"}, 1) == (
        "SetSummary",
        {"value": "x"},
        1,
    )


def test_heterogeneous_collection_restores_per_type_and_commands_where_supported(
    project: dict[str, Any], tmp_path: Path
) -> None:
    v1, v2 = project["v1"], project["v2"]
    todo = v1.todo.create_todo(v1.TodoDraft(title="collect"), id=1)
    note = v1.note.create_note(v1.NoteDraft(id=uuid.UUID(int=2), text="kept"))
    path = str(tmp_path / "collection.json")
    Collection([v1.TODO_SPEC, v1.NOTE_SPEC], [todo, note]).snapshot(path)

    plan = MigrationPlan.for_specs(project["steps"], v2.ENTITIES)
    restored = Collection.restore(path, v2.ENTITIES, plan=plan)
    assert [type(e).__name__ for e in restored] == ["Todo", "Memo"]
    assert restored.supporting("SetDone") == ("Todo",)
    result = restored.invoke("SetDone", {"value": True})
    assert [a.entity for a in result.applied] == ["Todo"]
    assert [s.entity for s in result.skipped] == ["Memo"]
    (restored_todo,) = restored.of_type(v2.TODO_SPEC)
    assert (restored_todo.summary, restored_todo.priority, restored_todo.done) == (
        "collect",
        3,
        True,
    )
