"""Rendering an entity module does not depend on what the process rendered before it.

Emitters keep rendered pieces per process (DDL parts, literal layouts, quoting) and reuse
them for later entities. A key that misses something the piece depends on makes a module's
text depend on which entities came first, and so on the number of worker processes.
Each test renders the same modules in two fresh processes, in opposite orders, and
compares them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CORPUS

ROOT = Path(__file__).resolve().parents[2]

# Renders every entity of every source given, in the order given (or reversed), and prints
# {"source#entity": sha256 of the module text}.
_RENDER = """
import hashlib, json, sys
from pathlib import Path
from persist_tool import ir
from persist_tool.emit.entity import render_entity_module
from persist_tool.sources import load_schema

sources, reverse = json.loads(sys.argv[1]), sys.argv[2] == "reverse"
work = []
for source in sources:
    try:
        schema = load_schema([Path(source)]).schema
    except ir.SourceError:
        continue  # a source the readers refuse is covered by the reader tests
    work += [(source, schema, entity) for entity in schema.entities]
digests = {}
for source, schema, entity in reversed(work) if reverse else work:
    try:
        module = render_entity_module(
            entity, source="s", source_hash="0" * 64,
            dialects=("sqlite", "postgres", "mysql"), schema=schema,
            formatted=False,  # black's own pass is not what is tested, and slow
        )
    except ir.SourceError as error:
        text = error.render()
    else:
        text = module.text
    digests[f"{source}#{entity.name}"] = hashlib.sha256(text.encode()).hexdigest()
print(json.dumps(digests))
"""


def _render(sources: list[Path], order: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", _RENDER, json.dumps([str(s) for s in sources]), order],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    digests: dict[str, str] = json.loads(result.stdout)
    return digests


def _same_in_both_orders(sources: list[Path]) -> int:
    forward = _render(sources, "forward")
    assert _render(sources, "reverse") == forward
    return len(forward)


def test_values_equal_in_python_but_written_differently_do_not_leak_between_entities(
    tmp_path: Path,
) -> None:
    """``1``, ``1.0`` and ``True`` are one dictionary key; each entity keeps its own."""
    properties = [
        {"type": "number", "minimum": 1},
        {"type": "number", "minimum": 1.0},
        {"type": "number", "default": 1},
        {"type": "number", "default": 1.0},
        {"type": "integer", "enum": [0, 1]},
        {"type": "number", "enum": [0.0, 1.0]},
        {"type": "integer", "maximum": 10, "default": 1},
        {"type": "boolean", "default": True},
    ]
    definitions = {
        f"Thing{i}": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "x": schema},
            "required": ["id"],
        }
        for i, schema in enumerate(properties)
    }
    source = tmp_path / "things.schema.json"
    source.write_text(json.dumps({"$defs": definitions}), encoding="utf-8")
    assert _same_in_both_orders([source]) == len(properties)


def test_corpus_modules_render_the_same_whatever_came_before() -> None:
    sources = sorted(
        p
        for folder in ("ddl", "jsonschema")
        for p in (CORPUS / folder).rglob("*")
        if p.suffix in (".sql", ".json")
    )
    assert _same_in_both_orders(sources) > 100
