"""Bundles that share copies and ``$defs`` entries between fields equal bundles made afresh.

The reader copies a reference target once per read and reuses its entries in every bundle
that reaches it, when the names would come out the same. These tests read every corpus
schema (and name-clashing cases) both ways and compare the whole IR.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.readers.base import ReadOptions
from persist_tool.readers.jsonschema import read
from persist_tool.readers.jsonschema_bundle import Bundler
from tests.conftest import CORPUS

SCHEMAS = CORPUS / "jsonschema" / "schemas"
NAMES = sorted(p.stem for p in SCHEMAS.glob("*.json")) if SCHEMAS.is_dir() else []


def _read(path: Path) -> dict[str, Any]:
    options = ReadOptions(path=path, display=path.name)
    return read(path.read_text(encoding="utf-8"), options).schema.to_json()


def _read_without_sharing(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        patch.setattr(Bundler, "_fits", lambda self, shared: False)
        patch.setattr(
            Bundler, "_copy_child", lambda self, node, *p: _copy_afresh(self, node.child(*p))
        )
        patch.setattr(Bundler, "copy", _copy_afresh)
        return _read(path)


def _copy_afresh(self: Bundler, node: Any) -> Any:
    return node.schema if isinstance(node.schema, bool) else self._copy(node)


@pytest.mark.parametrize("name", NAMES)
def test_corpus_schemas_read_the_same_with_and_without_sharing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = SCHEMAS / f"{name}.json"
    assert _read(path) == _read_without_sharing(path, monkeypatch)


def _clashing_document() -> dict[str, Any]:
    # Two targets whose pointers end in the same segment ("Item") force a suffixed name in
    # some bundles and not in others; shared entries must never carry a suffix over.
    item_a = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Chain"}}}
    item_b = {"type": "object", "properties": {"size": {"type": "integer"}}}
    return {
        "$defs": {
            "Chain": {"type": "object", "properties": {"item": {"$ref": "#/$defs/a/Item"}}},
            "a": {"Item": item_a},
            "b": {"Item": item_b},
            "One": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "x-persist-primary-key": True},
                    "early": {
                        "type": "object",
                        "properties": {"x": {"$ref": "#/$defs/b/Item"}},
                    },
                    "late": {
                        "type": "object",
                        "properties": {
                            "x": {"$ref": "#/$defs/b/Item"},
                            "z": {"$ref": "#/$defs/a/Item"},
                        },
                    },
                    "both": {
                        "type": "object",
                        "properties": {
                            "z": {"$ref": "#/$defs/a/Item"},
                            "x": {"$ref": "#/$defs/b/Item"},
                            "y": {"$ref": "#/$defs/Chain"},
                        },
                    },
                    "chain": {"$ref": "#/$defs/Chain"},
                    "item": {"$ref": "#/$defs/a/Item"},
                },
            },
        }
    }


def test_name_clashes_and_recursion_read_the_same_with_and_without_sharing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clash.schema.json"
    path.write_text(json.dumps(_clashing_document()), encoding="utf-8")
    shared = _read(path)
    assert shared == _read_without_sharing(path, monkeypatch)
    fields = {f["name"]: f for e in shared["entities"] if e["name"] == "One" for f in e["fields"]}
    assert "Item_2" in json.dumps(fields["both"]["type"]["schema"])


def test_sharing_does_not_depend_on_which_entities_are_read(tmp_path: Path) -> None:
    path = tmp_path / "clash.schema.json"
    path.write_text(json.dumps(_clashing_document()), encoding="utf-8")
    everything = {e.name: e for e in ir.Schema.from_json(_read(path)).entities}
    options = ReadOptions(path=path, display=path.name, entities=("One",))
    alone = read(path.read_text(encoding="utf-8"), options).schema.entities
    assert [e.to_json() for e in alone] == [everything["One"].to_json()]
