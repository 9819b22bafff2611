"""Real JSON Schemas (SchemaStore, in ``../shared/corpus/jsonschema``) through the checker."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from persist_tool.compat import compare_schemas
from persist_tool.rules import Mode

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "jsonschema" / "schemas"
NAMES = sorted(p.stem for p in SCHEMAS.glob("*.json"))


def _load(name: str) -> Any:
    return json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))


def _reworded(schema: Any) -> Any:
    """Return ``schema`` with every title and description string changed."""
    if isinstance(schema, list):
        return [_reworded(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        k: (
            v + " (reworded)"
            if k in ("title", "description") and isinstance(v, str)
            else _reworded(v)
        )
        for k, v in schema.items()
    }


def _string_schemas(schema: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(schema, dict):
        if schema.get("type") == "string" and "maxLength" not in schema and "enum" not in schema:
            yield path
        for key, value in schema.items():
            yield from _string_schemas(value, (*path, key))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _string_schemas(value, (*path, index))


def test_corpus_has_the_schemastore_schemas(corpus: Path) -> None:
    assert (corpus / "jsonschema" / "schemas").resolve() == SCHEMAS.resolve()
    assert len(NAMES) >= 14


@pytest.mark.parametrize("name", NAMES)
def test_rewording_docs_is_compatible_in_full_mode(name: str) -> None:
    schema = _load(name)
    result = compare_schemas(schema, _reworded(schema), mode=Mode.FULL)
    assert result.compatible, [d.render() for d in result.breaking][:5]


@pytest.mark.parametrize("name", NAMES)
def test_a_max_length_added_to_a_property_schema_breaks_backward(name: str) -> None:
    schema = _load(name)
    paths = [p for p in _string_schemas(schema) if len(p) >= 2 and p[-2] == "properties"]
    if not paths:
        pytest.skip(f"{name} has no string-typed property schema")
    path = paths[0]
    new = copy.deepcopy(schema)
    target = new
    for key in path:
        target = target[key]
    target["maxLength"] = 3
    result = compare_schemas(schema, new)
    assert not result.compatible
    assert compare_schemas(new, schema).compatible, "removing the bound again must widen"


def test_ninjs_major_version_is_not_backward_compatible() -> None:
    result = compare_schemas(_load("ninjs-1.4"), _load("ninjs-2.0"))
    assert not result.compatible
    pointers = {d.pointer for d in result.breaking}
    assert "#/properties/associations" in pointers  # an object map became an array
