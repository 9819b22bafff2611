"""A large package renders the same bytes in worker processes as in one process."""

from __future__ import annotations

import json
import os

import pytest

from persist_tool import ir
from persist_tool.emit.entity import GeneratedFile, render_package
from persist_tool.parallel import MIN_ITEMS
from persist_tool.sources import load_schema


def _schema_document(count: int) -> dict[str, object]:
    definitions: dict[str, object] = {}
    for i in range(count):
        definitions[f"Thing{i:03d}"] = {
            "type": "object",
            "description": f"Thing number {i}.",
            "properties": {
                "id": {"type": "integer", "minimum": 1, "x-persist-primary-key": True},
                "label": {"type": "string", "maxLength": 10 + i},
                "state": {"type": "string", "enum": ["new", "old"]},
                "owner": {"$ref": f"#/$defs/Thing{max(0, i - 1):03d}"},
            },
            "required": ["id", "label"],
        }
    return {"$defs": definitions}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> ir.Schema:
    path = tmp_path_factory.mktemp("parallel") / "things.schema.json"
    path.write_text(json.dumps(_schema_document(2 * MIN_ITEMS)), encoding="utf-8")
    return load_schema([path]).schema


def _render(schema: ir.Schema) -> dict[str, str]:
    files = render_package(schema, source="things", source_hash="0" * 64, dialects=("sqlite",))
    return {f.path: f.text for f in files}


def test_parallel_rendering_writes_the_same_bytes_as_serial(
    schema: ir.Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "1")
    serial = _render(schema)
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "2")
    assert _render(schema) == serial
    assert len(serial) == 2 * MIN_ITEMS + 1


def test_an_error_in_a_worker_reaches_the_caller_as_a_source_error(
    schema: ir.Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "2")
    # A table name MySQL cannot hold (over 64 characters) fails that entity's DDL.
    bad = ir.Entity(name="Long", table="t" * 70, fields=schema.entities[1].fields)
    broken = ir.Schema((*schema.entities[:100], bad, *schema.entities[100:]), schema.source)
    with pytest.raises(ir.SourceError, match="longer than mysql's limit"):
        render_package(broken, source="things", source_hash="0" * 64, dialects=("mysql",))


def test_finish_runs_in_the_workers_and_its_result_stands_for_the_module(
    schema: ir.Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``finish`` returns comes back instead of the text (the parent's pid shows
    where it ran); ``__init__`` comes last, rendered here."""
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "1")
    serial = _render(schema)
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "2")
    parent = os.getpid()

    def finish(module: GeneratedFile) -> tuple[str, str, int]:
        return (module.path, module.text, os.getpid())

    got = render_package(
        schema, source="things", source_hash="0" * 64, dialects=("sqlite",), finish=finish
    )
    *modules, init = got
    assert isinstance(init, GeneratedFile) and init.text == serial["__init__.py"]
    assert {path: text for path, text, _ in modules} == {
        path: text for path, text in serial.items() if path != "__init__.py"
    }
    pids = {pid for _, _, pid in modules}
    assert pids - {parent}, "no module was finished in a worker"
