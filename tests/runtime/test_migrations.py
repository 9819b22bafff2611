"""Migration steps and plans: chain validation, record and command upgrades, applying SQL."""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

import pytest
from persist_runtime import (
    DbTarget,
    MigrationApplyError,
    MigrationError,
    MigrationPlan,
    MigrationPlanError,
    MigrationStep,
    Store,
)
from persist_runtime.dialects import dialect
from persist_runtime.migration_db import (
    PROGRESS_TABLE,
    read_schema_versions,
)

from tests.runtime.handwritten_counter import COUNTER_SPEC, CounterDraft


def step(entity: str, a: int, b: int, **kwargs: Any) -> MigrationStep:
    return MigrationStep(entity, a, b, **kwargs)


# --------------------------------------------------------------------------- validation


def problems_of(*steps: MigrationStep, **kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(MigrationPlanError) as caught:
        MigrationPlan(steps, **kwargs)
    return caught.value.problems


def test_plan_accepts_contiguous_chains_given_in_any_order() -> None:
    plan = MigrationPlan([step("Todo", 2, 3), step("Note", 1, 2), step("Todo", 1, 2)])
    assert [s.label for s in plan.steps] == [
        "Todo v1 -> v2",
        "Note v1 -> v2",
        "Todo v2 -> v3",
    ]
    assert plan.target_version("Todo") == 3


def test_plan_accepts_a_step_spanning_several_versions() -> None:
    plan = MigrationPlan([step("Todo", 1, 3), step("Todo", 3, 4)], current={"Todo": 4})
    assert plan.has_path("Todo", 1) and plan.has_path("Todo", 3) and not plan.has_path("Todo", 2)


def test_plan_reports_a_gap_between_steps() -> None:
    (problem,) = problems_of(step("Todo", 1, 2), step("Todo", 3, 4))
    assert problem == "Todo: gap between v2 and v3: no step from v2"


def test_plan_reports_two_steps_from_the_same_version() -> None:
    (problem,) = problems_of(step("Todo", 1, 2), step("Todo", 1, 2))
    assert "two steps start at v1" in problem


def test_plan_reports_overlapping_steps() -> None:
    (problem,) = problems_of(step("Todo", 1, 3), step("Todo", 2, 4))
    assert problem == "Todo: Todo v1 -> v3 and Todo v2 -> v4 overlap"


def test_plan_reports_a_step_past_the_current_version() -> None:
    (problem,) = problems_of(step("Todo", 1, 2), step("Todo", 2, 3), current={"Todo": 2})
    assert problem == "Todo v2 -> v3: goes past the current version 2"


def test_plan_reports_a_chain_that_stops_short_of_the_current_version() -> None:
    (problem,) = problems_of(step("Todo", 1, 2), current={"Todo": 4})
    assert "gap between v2 and the current version 4" in problem


def test_plan_reports_a_step_for_an_entity_the_code_does_not_have() -> None:
    (problem,) = problems_of(step("Ghost", 1, 2), current={"Todo": 1})
    assert "knows no entity 'Ghost'" in problem


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (step("Todo", 0, 1), "from_version must be at least 1"),
        (step("Todo", 2, 2), "to_version must be greater than from_version"),
        (step("Todo", 3, 1), "to_version must be greater than from_version"),
        (step("Todo", 1, 2, migrate_state="nope"), "migrate_state is not callable"),
        (step("Todo", 1, 2, sql={"sqlite": ["  "]}), "empty or non-text statement"),
        (
            step("Todo", 1, 2, commands={("Rename", 0): lambda p: p}),
            "is not (name, payload_ver",
        ),
        (
            step("Todo", 1, 2, commands={"Rename": lambda p: p}),
            "is not (name, payload_version)",
        ),
    ],
)
def test_plan_reports_malformed_steps(bad: MigrationStep, expected: str) -> None:
    assert any(expected in p for p in problems_of(bad))


def test_plan_lists_every_problem_at_once() -> None:
    steps = [
        step("Todo", 1, 2),
        step("Todo", 3, 4),
        step("Note", 2, 2),
        step("Note", 5, 6),
    ]
    with pytest.raises(MigrationPlanError, match=r"invalid migration plan \(3 problem\(s\)\)") as e:
        MigrationPlan(steps)
    assert e.value.problems == (
        "Note v2 -> v2: to_version must be greater than from_version",
        "Todo: gap between v2 and v3: no step from v2",
        "Note: gap between v2 and v5: no step from v2",
    )


def test_plan_errors_are_migration_errors() -> None:
    assert issubclass(MigrationPlanError, MigrationError)


def test_step_normalises_dialect_aliases() -> None:
    s = step("Todo", 1, 2, sql={"postgresql": ["SELECT 1"], "mariadb": ["SELECT 2"]})
    assert s.statements("postgres") == ("SELECT 1",)
    assert s.statements("mysql") == ("SELECT 2",)
    with pytest.raises(MigrationError, match="has no SQL for sqlite"):
        s.statements("sqlite")


# --------------------------------------------------------------------------- records


def add_priority(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "priority": 0}


def rename_body(r: dict[str, Any]) -> dict[str, Any]:
    r = dict(r)
    r["text"] = r.pop("body")
    return r


def upper_text(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "text": r["text"].upper()}


@pytest.fixture
def plan() -> MigrationPlan:
    return MigrationPlan(
        [
            step("Note", 1, 2, migrate_state=add_priority),
            step("Note", 2, 3, migrate_state=rename_body),
            step("Note", 3, 4),  # SQL-only step: records unchanged
            step("Note", 4, 5, migrate_state=upper_text),
        ],
        current={"Note": 5, "Tag": 1},
    )


def test_upgrade_record_chains_every_later_step(plan: MigrationPlan) -> None:
    assert plan.upgrade_record("Note", {"id": 1, "body": "hi"}, 1) == {
        "id": 1,
        "text": "HI",
        "priority": 0,
    }


def test_upgrade_record_starts_at_the_record_version(plan: MigrationPlan) -> None:
    assert plan.upgrade_record("Note", {"id": 1, "body": "hi", "priority": 7}, 2) == {
        "id": 1,
        "text": "HI",
        "priority": 7,
    }
    assert plan.upgrade_record("Note", {"text": "a"}, 4) == {"text": "A"}


def test_upgrade_record_at_the_current_version_returns_the_record(
    plan: MigrationPlan,
) -> None:
    record = {"text": "same"}
    assert plan.upgrade_record("Note", record, 5) is record
    assert plan.upgrade_record("Tag", record, 1) is record


def test_upgrade_record_refuses_a_record_newer_than_the_code(
    plan: MigrationPlan,
) -> None:
    with pytest.raises(MigrationError, match="schema version 6 is newer than the code"):
        plan.upgrade_record("Note", {}, 6)


def test_upgrade_record_refuses_a_version_without_a_path() -> None:
    plan = MigrationPlan([step("Note", 2, 3, migrate_state=rename_body)])
    with pytest.raises(MigrationError, match="no migration path for Note from schema version 1"):
        plan.upgrade_record("Note", {}, 1)


def test_upgrade_record_refuses_an_unknown_entity(plan: MigrationPlan) -> None:
    with pytest.raises(MigrationError, match="knows no entity 'Ghost'"):
        plan.upgrade_record("Ghost", {}, 1)


def test_upgrade_record_names_the_step_that_failed(plan: MigrationPlan) -> None:
    with pytest.raises(MigrationError, match=r"Note v2 -> v3: migrate_state failed: KeyError"):
        plan.upgrade_record("Note", {"id": 1}, 1)


def test_upgrade_record_reports_an_unwritten_stub() -> None:
    def split_name(r: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError("split `name` into `first` and `last`")

    plan = MigrationPlan([step("User", 1, 2, migrate_state=split_name, stub=True)])
    assert plan.stubs == plan.steps
    with pytest.raises(MigrationError, match="User v1 -> v2: the state migration is not written"):
        plan.upgrade_record("User", {"name": "Ada Lovelace"}, 1)


def test_upgrade_records_upgrades_a_batch(plan: MigrationPlan) -> None:
    out = plan.upgrade_records("Note", [{"body": "a"}, {"body": "b"}], 1)
    assert out == [{"text": "A", "priority": 0}, {"text": "B", "priority": 0}]


def test_upgrade_record_calls_each_step_once_per_record() -> None:
    calls: list[int] = []

    def counted(n: int) -> Any:
        def migrate(r: dict[str, Any]) -> dict[str, Any]:
            calls.append(n)
            return r

        return migrate

    plan = MigrationPlan([step("Note", v, v + 1, migrate_state=counted(v)) for v in (1, 2, 3)])
    for _ in range(3):
        plan.upgrade_record("Note", {}, 2)
    assert calls == [2, 3] * 3


def test_plan_for_specs_takes_versions_and_tables_from_specs() -> None:
    class FakeSpec:
        def __init__(self, name: str, table: str, schema_version: int) -> None:
            self.name, self.table, self.schema_version = name, table, schema_version

    plan = MigrationPlan.for_specs([step("Note", 1, 2)], [FakeSpec("Note", "notes", 2)])  # type: ignore[list-item]
    assert plan.table_for(plan.steps[0]) == "notes"
    with pytest.raises(MigrationPlanError, match="goes past the current version 1"):
        MigrationPlan.for_specs([step("Note", 1, 2)], [FakeSpec("Note", "notes", 1)])  # type: ignore[list-item]


# --------------------------------------------------------------------------- commands


def test_upgrade_command_chains_across_steps() -> None:
    plan = MigrationPlan(
        [
            step("Account", 1, 2, commands={("Credit", 1): lambda p: ("Deposit", p, 1)}),
            step("Account", 2, 3),
            step(
                "Account",
                3,
                4,
                commands={
                    ("Deposit", 1): lambda p: (
                        "Deposit",
                        {"cents": p["amount"] * 100},
                        2,
                    )
                },
            ),
        ]
    )
    assert plan.upgrade_command("Account", "Credit", {"amount": 5}, 1) == (
        "Deposit",
        {"cents": 500},
        2,
    )


def test_upgrade_command_chains_within_one_step() -> None:
    plan = MigrationPlan(
        [
            step(
                "Account",
                1,
                2,
                commands={
                    ("Credit", 1): lambda p: ("Credit", {**p, "currency": "EUR"}, 2),
                    ("Credit", 2): lambda p: ("Deposit", p, 1),
                },
            )
        ]
    )
    assert plan.upgrade_command("Account", "Credit", {"amount": 1}, 1) == (
        "Deposit",
        {"amount": 1, "currency": "EUR"},
        1,
    )


def test_upgrade_command_skips_steps_before_the_journal_records_schema_version() -> None:
    plan = MigrationPlan(
        [
            step("Account", 1, 2, commands={("Close", 1): lambda p: ("Archive", p, 1)}),
            step("Account", 2, 3),
        ]
    )
    assert plan.upgrade_command("Account", "Close", {}, 1, schema_version=2) == (
        "Close",
        {},
        1,
    )
    assert plan.upgrade_command("Account", "Close", {}, 1, schema_version=1) == (
        "Archive",
        {},
        1,
    )


def test_upgrade_command_leaves_unmapped_commands_alone() -> None:
    plan = MigrationPlan([step("Account", 1, 2)])
    assert plan.upgrade_command("Account", "Touch", {"a": 1}, 1) == (
        "Touch",
        {"a": 1},
        1,
    )
    assert plan.upgrade_command("Other", "Touch", {}, 3) == ("Touch", {}, 3)


def test_upgrade_command_detects_a_loop() -> None:
    plan = MigrationPlan(
        [
            step(
                "A",
                1,
                2,
                commands={
                    ("X", 1): lambda p: ("Y", p, 1),
                    ("Y", 1): lambda p: ("X", p, 1),
                },
            )
        ]
    )
    with pytest.raises(MigrationError, match="command migrations loop"):
        plan.upgrade_command("A", "X", {}, 1)


def test_upgrade_command_checks_what_a_migration_returns() -> None:
    plan = MigrationPlan([step("A", 1, 2, commands={("X", 1): lambda p: ("Y", p)})])
    with pytest.raises(
        MigrationError, match=r"must return \(name, payload dict, payload_version\)"
    ):
        plan.upgrade_command("A", "X", {}, 1)


# --------------------------------------------------------------------------- databases

CREATE_NOTES = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(100) NOT NULL)"

STEP_1_2 = [
    "ALTER TABLE notes ADD COLUMN priority INTEGER",
    "UPDATE notes SET priority = 1",
]
STEP_2_3 = ["CREATE INDEX ix_notes_priority ON notes (priority)"]
FAILING = "INSERT INTO no_such_table VALUES (1)"

_INDEXES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'notes'"
    " AND sql IS NOT NULL ORDER BY name",
    "postgres": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    " AND tablename = 'notes' ORDER BY indexname",
    "mysql": "SELECT DISTINCT index_name FROM information_schema.statistics"
    " WHERE table_schema = DATABASE() AND table_name = 'notes' ORDER BY index_name",
}


class Db:
    """A connection under test, with helpers to run SQL and read the whole state back."""

    def __init__(self, conn: Any, dialect_name: str) -> None:
        self.conn = conn
        self.name = dialect_name
        self.target = DbTarget(conn, dialect_name)

    def run(self, *statements: str) -> None:
        cur = self.conn.cursor()
        for s in statements:
            cur.execute(s)
        cur.close()
        self.conn.commit()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        cur.execute(sql)
        rows = [tuple(r) for r in cur.fetchall()]
        cur.close()
        self.conn.commit()
        return rows

    def columns(self, table: str) -> list[str]:
        cur = self.conn.cursor()
        cur.execute(f"SELECT * FROM {table} WHERE 1 = 0")
        names = [c[0] for c in cur.description]
        cur.fetchall()
        cur.close()
        self.conn.commit()
        return names

    def registry(self) -> dict[str, int]:
        cur = self.conn.cursor()
        out = read_schema_versions(cur, dialect(self.name))
        cur.close()
        self.conn.commit()
        return out

    def state(self) -> dict[str, Any]:
        return {
            "columns": self.columns("notes"),
            "rows": sorted(self.query("SELECT * FROM notes")),
            "indexes": [
                r[0]
                for r in self.query(_INDEXES[self.name])
                if r[0] not in ("PRIMARY", "notes_pkey")
            ],
            "registry": self.registry(),
        }


_CONNECTIONS = {"sqlite": "sqlite_conn", "postgres": "pg_conn", "mysql": "mysql_conn"}


def _open(request: pytest.FixtureRequest) -> Db:
    conn = request.getfixturevalue(_CONNECTIONS[request.param])
    d = Db(conn, request.param)
    d.run(CREATE_NOTES, "INSERT INTO notes (id, body) VALUES (1, 'a'), (2, 'b')")
    return d


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.db),
        pytest.param("mysql", marks=pytest.mark.db),
    ]
)
def db(request: pytest.FixtureRequest) -> Db:
    """A ``notes`` table with two rows, on each dialect."""
    return _open(request)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.db)])
def tx_db(request: pytest.FixtureRequest) -> Db:
    """A ``notes`` table with two rows, on each dialect with transactional DDL."""
    return _open(request)


def notes_plan(*steps: MigrationStep) -> MigrationPlan:
    return MigrationPlan(steps, current={"Note": max(s.to_version for s in steps)})


def portable(a: int, b: int, statements: list[str], **kwargs: Any) -> MigrationStep:
    sql = {d: statements for d in ("sqlite", "postgres", "mysql")}
    return MigrationStep("Note", a, b, sql=sql, table="notes", **kwargs)


def test_apply_runs_pending_steps_and_records_the_versions(db: Db) -> None:
    plan = notes_plan(portable(1, 2, STEP_1_2), portable(2, 3, STEP_2_3))
    applied = plan.apply(db.target, baseline={"Note": 1})
    assert [a.step.label for a in applied] == ["Note v1 -> v2", "Note v2 -> v3"]
    state = db.state()
    assert state["columns"] == ["id", "body", "priority"]
    assert state["rows"] == [(1, "a", 1), (2, "b", 1)]
    assert state["indexes"] == ["ix_notes_priority"]
    assert state["registry"] == {"notes": 3}
    assert plan.apply(db.target) == []  # nothing pending any more
    assert plan.pending(db.target) == []


def test_apply_starts_at_the_recorded_version(db: Db) -> None:
    plan = notes_plan(portable(1, 2, STEP_1_2), portable(2, 3, STEP_2_3))
    notes_plan(portable(1, 2, STEP_1_2)).apply(db.target, baseline={"Note": 1})
    assert [s.label for s in plan.pending(db.target)] == ["Note v2 -> v3"]
    assert [a.step.label for a in plan.apply(db.target)] == ["Note v2 -> v3"]
    assert db.registry() == {"notes": 3}


def test_earlier_steps_stay_applied_when_a_later_step_fails(db: Db) -> None:
    plan = notes_plan(portable(1, 2, STEP_1_2), portable(2, 3, [*STEP_2_3, FAILING]))
    with pytest.raises(MigrationApplyError) as caught:
        plan.apply(db.target, baseline={"Note": 1})
    assert caught.value.step.label == "Note v2 -> v3"
    assert db.registry() == {"notes": 2}
    assert db.columns("notes") == ["id", "body", "priority"]


def test_failed_step_leaves_database_and_registry_exactly_as_before(tx_db: Db) -> None:
    db = tx_db
    notes_plan(portable(1, 2, STEP_1_2)).apply(db.target, baseline={"Note": 1})
    before = db.state()
    plan = notes_plan(
        portable(1, 2, STEP_1_2),
        portable(
            2,
            3,
            [
                "ALTER TABLE notes ADD COLUMN tag VARCHAR(20)",
                "UPDATE notes SET tag = 'x', priority = 9",
                "CREATE INDEX ix_notes_tag ON notes (tag)",
                FAILING,
                "UPDATE notes SET body = 'never'",
            ],
        ),
    )
    with pytest.raises(MigrationApplyError) as caught:
        plan.apply(db.target)
    error = caught.value
    assert error.statement_index == 3 and error.statement == FAILING
    assert error.rolled_back and error.applied == 0
    assert "failed at statement 4 of 5" in str(error) and "rolled back" in str(error)
    assert db.state() == before


def test_mariadb_failure_names_the_statement_reached_and_a_rerun_resumes(
    mysql_conn: Any,
) -> None:
    db = Db(mysql_conn, "mysql")
    db.run(CREATE_NOTES, "INSERT INTO notes (id, body) VALUES (1, 'a'), (2, 'a')")
    statements = [
        "ALTER TABLE notes ADD COLUMN tag VARCHAR(20)",
        "UPDATE notes SET tag = body",
        "CREATE UNIQUE INDEX ux_notes_tag ON notes (tag)",  # fails: duplicate 'a'
        "ALTER TABLE notes ADD COLUMN done INTEGER",
    ]
    plan = notes_plan(portable(1, 2, statements))
    with pytest.raises(MigrationApplyError) as caught:
        plan.apply(db.target, baseline={"Note": 1})
    error = caught.value
    assert (error.statement_index, error.applied, error.rolled_back) == (2, 2, False)
    assert error.statement == statements[2]
    assert "failed at statement 3 of 4" in str(error)
    assert "statements 1-2 ran" in str(error) and "resume at statement 3" in str(error)
    assert db.registry() == {}
    assert db.query(f"SELECT statement_index FROM {PROGRESS_TABLE} ORDER BY 1") == [
        (0,),
        (1,),
    ]
    assert db.columns("notes") == ["id", "body", "tag"]

    db.run("UPDATE notes SET body = 'b' WHERE id = 2")  # fix the data, keep the step
    db.run("UPDATE notes SET tag = body")
    (applied,) = plan.apply(db.target, baseline={"Note": 1})
    assert applied.resumed_at == 2  # ADD COLUMN tag was not run again (it would fail)
    assert db.columns("notes") == ["id", "body", "tag", "done"]
    assert db.registry() == {"notes": 2}
    assert db.query(f"SELECT COUNT(*) FROM {PROGRESS_TABLE}") == [(0,)]


def test_mariadb_refuses_to_resume_when_an_applied_statement_changed(
    mysql_conn: Any,
) -> None:
    db = Db(mysql_conn, "mysql")
    db.run(CREATE_NOTES)
    first = notes_plan(portable(1, 2, ["ALTER TABLE notes ADD COLUMN tag VARCHAR(20)", FAILING]))
    with pytest.raises(MigrationApplyError):
        first.apply(db.target, baseline={"Note": 1})
    edited = notes_plan(portable(1, 2, ["ALTER TABLE notes ADD COLUMN label VARCHAR(20)"]))
    with pytest.raises(MigrationError, match="statement 1 already ran but the step now holds"):
        edited.apply(db.target, baseline={"Note": 1})


def test_apply_needs_a_baseline_for_an_unrecorded_existing_table(db: Db) -> None:
    plan = notes_plan(portable(1, 2, STEP_1_2))
    with pytest.raises(MigrationError, match=r"no recorded schema version: pass baseline="):
        plan.apply(db.target)
    assert db.columns("notes") == ["id", "body"]


def test_apply_skips_entities_whose_table_does_not_exist_yet(db: Db) -> None:
    plan = MigrationPlan(
        [
            MigrationStep(
                "Tag",
                1,
                2,
                sql={db.name: ["ALTER TABLE tags ADD COLUMN x INTEGER"]},
                table="tags",
            )
        ]
    )
    assert plan.apply(db.target) == []


def test_apply_refuses_a_database_newer_than_the_code(db: Db) -> None:
    notes_plan(portable(1, 2, STEP_1_2), portable(2, 3, STEP_2_3)).apply(
        db.target, baseline={"Note": 1}
    )
    with pytest.raises(MigrationError, match="newer than the code's 2"):
        notes_plan(portable(1, 2, STEP_1_2)).apply(db.target)


def test_apply_refuses_stubs_destructive_steps_and_missing_dialects_before_running(
    db: Db,
) -> None:
    before = db.state()
    stub = notes_plan(portable(1, 2, STEP_1_2), portable(2, 3, STEP_2_3, stub=True))
    with pytest.raises(MigrationError, match="Note v2 -> v3 is a stub"):
        stub.apply(db.target, baseline={"Note": 1})
    destructive = notes_plan(
        portable(1, 2, ["ALTER TABLE notes DROP COLUMN body"], destructive=True)
    )
    with pytest.raises(MigrationError, match="Note v1 -> v2 is destructive"):
        destructive.apply(db.target, baseline={"Note": 1}, allow_destructive=False)
    other = notes_plan(MigrationStep("Note", 1, 2, sql={"oracle": ["SELECT 1"]}, table="notes"))
    with pytest.raises(MigrationError, match=f"has no SQL for {db.name}"):
        other.apply(db.target, baseline={"Note": 1})
    assert db.state() == before


def test_apply_runs_state_only_steps_by_recording_the_version(db: Db) -> None:
    plan = notes_plan(MigrationStep("Note", 1, 2, migrate_state=add_priority, table="notes"))
    (applied,) = plan.apply(db.target, baseline={"Note": 1})
    assert applied.statements == 0
    assert db.registry() == {"notes": 2}


def test_apply_moves_the_registry_row_of_a_renamed_table(db: Db) -> None:
    rename = {
        "sqlite": ["ALTER TABLE notes RENAME TO memos"],
        "postgres": ["ALTER TABLE notes RENAME TO memos"],
        "mysql": ["RENAME TABLE notes TO memos"],
    }
    plan = MigrationPlan(
        [
            portable(1, 2, STEP_1_2),
            MigrationStep("Note", 2, 3, sql=rename, table="memos", previous_table="notes"),
        ]
    )
    plan.apply(db.target, baseline={"Note": 1})
    assert db.registry() == {"memos": 3}
    assert db.columns("memos") == ["id", "body", "priority"]


def test_apply_refuses_a_connection_inside_a_transaction(
    sqlite_conn: sqlite3.Connection,
) -> None:
    db = Db(sqlite_conn, "sqlite")
    db.run(CREATE_NOTES)
    sqlite_conn.execute("INSERT INTO notes (id, body) VALUES (3, 'c')")  # opens a transaction
    with pytest.raises(MigrationError, match="open transaction"):
        notes_plan(portable(1, 2, STEP_1_2)).apply(db.target, baseline={"Note": 1})


def test_apply_accepts_a_bare_sqlite_connection(
    sqlite_conn: sqlite3.Connection,
) -> None:
    Db(sqlite_conn, "sqlite").run(CREATE_NOTES)
    notes_plan(portable(1, 2, STEP_1_2)).apply(sqlite_conn, baseline={"Note": 1})
    assert Db(sqlite_conn, "sqlite").registry() == {"notes": 2}


def test_apply_keeps_sqlite_foreign_keys_on_and_checks_them(
    sqlite_conn: sqlite3.Connection,
) -> None:
    db = Db(sqlite_conn, "sqlite")
    sqlite_conn.execute("PRAGMA foreign_keys = ON")
    db.run(
        CREATE_NOTES,
        "CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES notes (id))",
        "INSERT INTO notes (id, body) VALUES (1, 'a')",
        "INSERT INTO tags (id, note_id) VALUES (1, 1)",
    )
    rebuild = [  # the SQLite table-rebuild procedure, which needs foreign keys off
        "CREATE TABLE notes_new (id INTEGER PRIMARY KEY, body VARCHAR(100) NOT NULL, x INTEGER)",
        "INSERT INTO notes_new (id, body) SELECT id, body FROM notes",
        "DROP TABLE notes",
        "ALTER TABLE notes_new RENAME TO notes",
    ]
    notes_plan(MigrationStep("Note", 1, 2, sql={"sqlite": rebuild}, table="notes")).apply(
        db.target, baseline={"Note": 1}
    )
    assert db.query("SELECT note_id FROM tags") == [(1,)]
    assert db.query("PRAGMA foreign_keys") == [(1,)]

    orphaning = ["DELETE FROM notes"]
    plan = notes_plan(
        MigrationStep("Note", 1, 2, sql={"sqlite": rebuild}, table="notes"),
        MigrationStep("Note", 2, 3, sql={"sqlite": orphaning}, table="notes"),
    )
    with pytest.raises(MigrationApplyError, match="foreign key violations"):
        plan.apply(db.target)
    assert db.query("SELECT id FROM notes") == [(1,)]


@pytest.mark.db
def test_apply_works_on_an_autocommit_postgres_connection() -> None:
    from tests import dbs

    with dbs.postgres_connection(autocommit=True) as conn:
        db = Db(conn, "postgres")
        db.run(CREATE_NOTES, "INSERT INTO notes (id, body) VALUES (1, 'a')")
        before = db.state()
        failing = notes_plan(portable(1, 2, [*STEP_1_2, FAILING]))
        with pytest.raises(MigrationApplyError):
            failing.apply(db.target, baseline={"Note": 1})
        assert db.state() == before | {"registry": {}}
        notes_plan(portable(1, 2, STEP_1_2)).apply(db.target, baseline={"Note": 1})
        assert db.registry() == {"notes": 2}


def test_apply_on_a_store_brings_its_tables_to_the_code_version(db: Db) -> None:
    store = Store.connect(db.conn, db.name)
    store.ensure(COUNTER_SPEC)
    store.create(COUNTER_SPEC, CounterDraft(name="a", value=1))
    v2 = dataclasses.replace(COUNTER_SPEC, schema_version=2)
    with pytest.raises(MigrationError):
        store.ensure(v2)  # the database is still at v1
    add_index = ["CREATE INDEX counters_value ON counters (value)"]
    sql = {"sqlite": add_index, "postgres": add_index, "mysql": add_index}
    plan = MigrationPlan.for_specs([MigrationStep("Counter", 1, 2, sql=sql)], [v2])
    assert [s.label for s in plan.pending(store)] == ["Counter v1 -> v2"]
    (applied,) = plan.apply(store)
    assert applied.table == "counters"
    assert store.schema_version("counters") == 2
    store.ensure(v2)
    assert store.count(v2) == 1
    assert plan.apply(store) == []


def test_apply_takes_table_names_from_the_stores_specs() -> None:
    store = Store.sqlite()
    store.ensure(COUNTER_SPEC)
    plan = MigrationPlan(
        [MigrationStep("Counter", 1, 2, sql={"sqlite": ["ALTER TABLE counters ADD x INTEGER"]})]
    )
    with pytest.raises(MigrationError, match="names no table"):
        plan.table_for(plan.steps[0])
    (applied,) = plan.apply(store)
    assert applied.table == "counters" and store.schema_version("counters") == 2
