"""Property tests: the checker never calls a pair compatible when a value proves otherwise.

The oracle is the ``jsonschema`` library (draft-07): for random pairs of small schemas, when
the checker says backward compatible (and assumes nothing), every sampled value valid under
the old schema must be valid under the new one; forward, the converse.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from persist_tool.compat import Policy, compare_schemas
from persist_tool.rules import Mode
from tests.compat.schemas import json_values, schema_pairs, schemas

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _valid(schema: Any, value: Any) -> bool:
    try:
        return bool(jsonschema.Draft7Validator(schema).is_valid(value))
    except TypeError:
        # The oracle itself fails on some legal schemas (``items: true`` beside
        # ``additionalItems``); such examples prove nothing either way.
        reject()


def _witnesses(schema: Any) -> list[Any]:
    """Return the enum/const values written inside ``schema`` (likely edge cases)."""
    out: list[Any] = []
    if isinstance(schema, dict):
        if "const" in schema:
            out.append(schema["const"])
        if isinstance(schema.get("enum"), list):
            out += schema["enum"]
        for value in schema.values():
            out += _witnesses(value)
    elif isinstance(schema, list):
        for value in schema:
            out += _witnesses(value)
    return out


def _counterexample(reader: Any, writer: Any, values: list[Any]) -> Any:
    for value in [*values, *_witnesses(writer)]:
        if _valid(writer, value) and not _valid(reader, value):
            return value
    return None


@SETTINGS
@given(pair=schema_pairs(), values=st.lists(json_values, min_size=30, max_size=60))
def test_backward_compatible_verdict_holds_for_every_sampled_old_value(
    pair: tuple[Any, Any], values: list[Any]
) -> None:
    old, new = pair
    result = compare_schemas(old, new, mode=Mode.BACKWARD)
    event("compatible" if result.compatible else "incompatible")
    if result.compatible and not result.assumed:
        value = _counterexample(new, old, values)
        assert value is None, f"{value!r} is valid under {old} but not under {new}"


@SETTINGS
@given(pair=schema_pairs(), values=st.lists(json_values, min_size=30, max_size=60))
def test_forward_compatible_verdict_holds_for_every_sampled_new_value(
    pair: tuple[Any, Any], values: list[Any]
) -> None:
    old, new = pair
    result = compare_schemas(old, new, mode=Mode.FORWARD)
    if result.compatible and not result.assumed:
        value = _counterexample(old, new, values)
        assert value is None, f"{value!r} is valid under {new} but not under {old}"


@SETTINGS
@given(pair=schema_pairs())
def test_full_mode_is_compatible_only_when_both_directions_are(pair: tuple[Any, Any]) -> None:
    old, new = pair
    full = compare_schemas(old, new, mode=Mode.FULL).compatible
    backward = compare_schemas(old, new, mode=Mode.BACKWARD).compatible
    forward = compare_schemas(old, new, mode=Mode.FORWARD).compatible
    assert full == (backward and forward)


@SETTINGS
@given(schema=schemas)
def test_a_schema_is_compatible_with_itself(schema: Any) -> None:
    assert compare_schemas(schema, schema, mode=Mode.FULL).compatible


@SETTINGS
@given(pair=schema_pairs())
def test_lenient_policy_accepts_whatever_strict_accepts(pair: tuple[Any, Any]) -> None:
    old, new = pair
    if compare_schemas(old, new).compatible:
        assert compare_schemas(old, new, policy=Policy.LENIENT).compatible
