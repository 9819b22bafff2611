"""The schema registry's JSON Schema compatibility cases, through the entity-level check.

Each case's schemas become the sub-schema of a single required ``json`` field of an entity
(version 1 -> 2), so plain JSON Schema semantics apply, and the backward check's verdict
must agree with the registry's ``compatible`` flag (strict policy) for every case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.compat import compare_schemas
from persist_tool.compat.entity import check_entity, has_failures
from persist_tool.rules import Mode

CASES_FILE = (
    Path(__file__).resolve().parents[3] / "shared" / "corpus" / "schema-registry" / "cases.json"
)


def _cases() -> list[dict[str, Any]]:
    if not CASES_FILE.is_file():
        pytest.fail(f"schema-registry corpus not found at {CASES_FILE}")
    cases: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    return cases


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['source_file']}#{case['index']}: {case['description'].strip()}"


CASES = _cases()


def _entity(schema: Any, version: int) -> ir.Entity:
    field = ir.Field(name="json", column="json", type=ir.JsonType(schema=schema))
    return ir.Entity(
        name="Document",
        table="documents",
        schema_version=version,
        fields=(field,),
        location=ir.Location("schemas/document.json", 1, 1),
    )


def test_corpus_holds_all_132_cases(corpus: Path) -> None:
    assert len(CASES) == 132
    assert (corpus / "schema-registry" / "cases.json").resolve() == CASES_FILE.resolve()


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_entity_backward_check_agrees_with_registry_verdict(
    case: dict[str, Any],
) -> None:
    old = _entity(case["original_schema"], 1)
    new = _entity(case["update_schema"], 2)
    findings = check_entity(old, new, mode=Mode.BACKWARD)
    compatible = not has_failures(findings)
    rendered = "\n".join(f.render() for f in findings)
    if case["compatible"]:
        assert compatible, f"registry says compatible, the check found:\n{rendered}"
    else:
        assert not compatible, "registry says INCOMPATIBLE, the check found nothing that fails"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_breaking_differences_never_use_a_registry_compatible_change_type(
    case: dict[str, Any], corpus: Path
) -> None:
    sets = json.loads((corpus / "schema-registry" / "compatible_change_sets.json").read_text())
    strict = set(sets["COMPATIBLE_CHANGES_STRICT"])
    result = compare_schemas(case["original_schema"], case["update_schema"])
    misnamed = [d.render() for d in result.breaking if d.type in strict]
    assert not misnamed
