"""compat-check reads migration chains across entity renames and drops."""

from __future__ import annotations

from persist_runtime import MigrationPlan, MigrationStep

from persist_tool.compat.migration_modules import LoadedStep, usable_steps


def _loaded(step: MigrationStep) -> LoadedStep:
    return LoadedStep(step, f"{step.entity}.py", 1, (), frozenset())


def test_steps_written_before_a_rename_stay_in_the_renamed_entitys_chain() -> None:
    steps = [
        _loaded(MigrationStep("Note", 1, 2, table="notes")),
        _loaded(MigrationStep("Memo", 2, 3, table="memos", previous_entity="Note")),
        _loaded(MigrationStep("Memo", 3, 4, table="memos")),
    ]
    usable = usable_steps(steps, {"Memo": 4})
    assert [(s.entity, s.from_version) for s in usable] == [("Note", 1), ("Memo", 2), ("Memo", 3)]
    plan = MigrationPlan(usable)
    assert plan.upgrade_record("Note", {"x": 1}, 1) == {"x": 1}


def test_a_dropped_entitys_chain_is_kept_though_the_code_no_longer_has_it() -> None:
    steps = [
        _loaded(MigrationStep("Tag", 1, 2, table="tags")),
        _loaded(MigrationStep("Tag", 2, 3, table="tags", drops_entity=True, destructive=True)),
    ]
    assert [s.to_version for s in usable_steps(steps, {})] == [2, 3]
    assert usable_steps(steps[:1], {}) == []
