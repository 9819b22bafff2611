"""``plan.upgrade_record`` holds the chains records take inline: one call per record.

Failures raised inside an inline chain are tested with the fused ones
(``test_migration_fuse``, the ``inline`` cases).
"""

from __future__ import annotations

import builtins
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType, MethodType
from typing import Any

import pytest
from persist_runtime import MigrationError, MigrationPlan, MigrationStep
from persist_runtime.migrations import _INLINED_CHAINS

from tests.runtime.test_migration_fuse import (
    _GOOD,
    chain,
    load_module,
    outcome,
    plans,
    runs_fused,
    state_module,
    three_modules,
)


def python_calls(fn: Callable[[], Any]) -> list[str]:
    """Return the name of every Python function called while ``fn`` runs (not ``fn``)."""
    called: list[str] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            called.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return called[1:]  # the first is fn itself


def test_after_the_first_record_an_upgrade_is_one_call_with_the_chain_inline(
    tmp_path: Path,
) -> None:
    three = three_modules(tmp_path)
    plan = MigrationPlan(chain(*three))
    assert isinstance(plan.upgrade_record, MethodType)  # nothing fused yet: the lookups
    assert plan.upgrade_record("Item", dict(_GOOD), 1) == {"a": 1, "b": 2, "c": 2}
    upgrade = plan.upgrade_record
    assert not isinstance(upgrade, MethodType)
    assert python_calls(lambda: upgrade("Item", dict(_GOOD), 1)) == ["upgrade_record"]
    assert upgrade("Item", dict(_GOOD), 1) == {"a": 1, "b": 2, "c": 2}


def test_the_inline_upgrade_takes_keywords_as_the_method_did(tmp_path: Path) -> None:
    three = three_modules(tmp_path)
    plan = MigrationPlan(chain(*three))
    plan.upgrade_record("Item", dict(_GOOD), 1)
    got = plan.upgrade_record(entity="Item", record=dict(_GOOD), from_version=1)
    assert got == {"a": 1, "b": 2, "c": 2}


def test_upgrade_record_is_documented_where_help_looks() -> None:
    doc = inspect.getdoc(MigrationPlan.upgrade_record) or ""
    assert doc.startswith("Return ``record`` (fields of ``entity`` at ``from_version``)")
    assert "EntityDroppedError" in doc


def test_an_unbound_local_in_an_inline_chain_reads_as_written(tmp_path: Path) -> None:
    steps = chain(
        state_module(tmp_path, 'value = 1\nrecord["a"] = value'),
        state_module(tmp_path, 'if "b" in record:\n    value = record["b"]\nrecord["c"] = value'),
    )
    fused, plain = plans(steps)
    fused.upgrade_record("Item", {"b": 1}, 1)
    failed = outcome(fused, {})
    assert failed == outcome(plain, {})
    assert "'value'" in failed[3]


def test_every_chain_records_take_is_inline_and_other_calls_take_the_lookups(
    tmp_path: Path,
) -> None:
    modules = [state_module(tmp_path, f'record["v{i}"] = {i}') for i in range(4)]
    steps = [
        *chain(*modules),
        *[
            MigrationStep("Other", i + 1, i + 2, migrate_state=m.migrate_state)
            for i, m in enumerate(modules[:3])
        ],
    ]
    fused, plain = plans(steps)
    cases = [("Item", v) for v in (1, 2, 3, 4, 5)] + [("Other", v) for v in (1, 2, 3, 4)]
    for _ in range(2):
        for entity, version in cases:
            got = fused.upgrade_record(entity, {"id": 1}, version)
            assert got == plain.upgrade_record(entity, {"id": 1}, version)
    # Chains of several bodies are inline; a single step or none is called as it is.
    assert [(b.names, b.version) for b, _ in fused._inlined] == [
        (("Item",), 1),
        (("Item",), 2),
        (("Item",), 3),
        (("Other",), 1),
        (("Other",), 2),
    ]
    upgrade = fused.upgrade_record
    assert python_calls(lambda: upgrade("Other", {}, 2)) == ["upgrade_record"]
    assert "migrate_state" in python_calls(lambda: upgrade("Item", {}, 4))
    for entity, version in [("Item", 0), ("Item", 9), ("Nobody", 1)]:
        assert outcome(fused, {}, version) == outcome(plain, {}, version)
        with pytest.raises(MigrationError) as caught:
            upgrade(entity, {}, version)
        with pytest.raises(MigrationError) as expected:
            plain.upgrade_record(entity, {}, version)
        assert str(caught.value) == str(expected.value)


def test_at_most_the_first_chains_are_inline_and_the_rest_still_upgrade(
    tmp_path: Path,
) -> None:
    modules = [state_module(tmp_path, f'record["v{i}"] = {i}') for i in range(2)]
    count = _INLINED_CHAINS + 2
    steps = [
        MigrationStep(f"E{e}", i + 1, i + 2, migrate_state=m.migrate_state)
        for e in range(count)
        for i, m in enumerate(modules)
    ]
    fused, plain = plans(steps)
    for e in range(count):
        assert fused.upgrade_record(f"E{e}", {}, 1) == plain.upgrade_record(f"E{e}", {}, 1)
        assert runs_fused(fused, f"E{e}", 1)
    assert len(fused._inlined) == _INLINED_CHAINS
    upgrade = fused.upgrade_record
    assert python_calls(lambda: upgrade("E0", {}, 1)) == ["upgrade_record"]
    last = f"E{count - 1}"
    assert upgrade(last, {"id": 1}, 1) == {"id": 1, "v0": 0, "v1": 1}
    assert python_calls(lambda: upgrade(last, {}, 1))[:2] == ["upgrade_record", "_upgrade_record"]


def test_records_under_a_name_from_before_a_rename_take_the_inline_chain(tmp_path: Path) -> None:
    three = three_modules(tmp_path)
    steps = chain(*three)
    renamed = MigrationStep(
        "Thing", 4, 5, previous_entity="Item", migrate_state=three[0].migrate_state
    )
    fused, plain = plans([*steps, renamed])
    record = {"a": "1", "old_b": 2, "c": 5}
    assert fused.upgrade_record("Thing", dict(record), 1) == plain.upgrade_record(
        "Thing", dict(record), 1
    )
    upgrade = fused.upgrade_record
    assert python_calls(lambda: upgrade("Item", dict(record), 1)) == ["upgrade_record"]
    assert upgrade("Item", dict(record), 1) == plain.upgrade_record("Item", dict(record), 1)


def test_a_body_reading_a_builtin_named_like_a_parameter_is_not_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builtins, "entity", "from builtins", raising=False)
    reads = load_module(
        tmp_path,
        """
        def migrate_state(r):
            r["seen"] = entity
            return r
        """,
    )
    steps = chain(reads, state_module(tmp_path, 'record["b"] = 2'))
    fused, _ = plans(steps)
    expected = {"seen": "from builtins", "b": 2}
    assert fused.upgrade_record("Item", {}, 1) == expected
    assert runs_fused(fused, "Item", 1)
    assert isinstance(fused.upgrade_record, MethodType)  # the dispatcher refused it
    assert fused.upgrade_record("Item", {}, 1) == expected
