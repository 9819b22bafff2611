"""A new entity needs no migration module: the store creates its table itself.

Migration steps start at schema version 1 or later, so there is nothing to migrate a new
entity from; ``store.ensure(spec)`` creates its table and indexes at the spec's version.
``generate migration`` says so in a note naming the entity, its spec and its table, and
writes no module; ``compat-check`` asks only for the lock to record the entity, never for a
migration.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from persist_runtime import MigrationPlan, Store

from persist_tool import ir
from persist_tool.migrate import plan_migration
from persist_tool.readers import ReadOptions, get_reader
from tests.migrations.harness import generate_package

NOTE_V1 = """-- persist: Note schema_version=1
CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(40) NOT NULL);
"""

NOTE_V2 = """-- persist: Note schema_version=2
CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(40) NOT NULL, score INTEGER);
"""

TAG = """-- persist: Tag schema_version={version}
CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20) NOT NULL);
CREATE INDEX ix_tags_label ON tags (label);
"""


def tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "persist_tool", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def rules(done: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    report = json.loads(done.stdout)
    return [(f["rule"], f["entity"]) for f in report["findings"]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Note recorded in the lock at v1; the source now also has a Tag."""
    (tmp_path / "note.sql").write_text(NOTE_V1, encoding="utf-8")
    assert tool("lock", "note.sql", cwd=tmp_path).returncode == 0
    (tmp_path / "tag.sql").write_text(TAG.format(version=1), encoding="utf-8")
    return tmp_path


def test_generate_migration_notes_that_ensure_creates_the_new_table_and_writes_nothing(
    project: Path,
) -> None:
    done = tool(
        "generate", "migration", "--from-lock", "--to", "note.sql", "--to", "tag.sql",
        "-o", "migrations",
        cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        "note: Tag is a new entity: no migration module is written for it;"
        " store.ensure(TAG_SPEC) creates its table tags at schema version 1"
    ) in done.stderr
    assert not list(project.glob("migrations/*.py"))


def test_a_new_entity_beside_a_changed_one_gets_no_module_of_its_own(project: Path) -> None:
    (project / "note.sql").write_text(NOTE_V2, encoding="utf-8")
    done = tool(
        "generate", "migration", "--from-lock", "--to", "note.sql", "--to", "tag.sql",
        "-o", "migrations",
        cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in project.glob("migrations/*.py")) == ["note_v1_to_v2.py"]
    assert "store.ensure(TAG_SPEC)" in done.stderr


@pytest.mark.parametrize("version", [1, 3])
def test_compat_check_asks_only_for_the_lock_for_a_new_entity(project: Path, version: int) -> None:
    (project / "tag.sql").write_text(TAG.format(version=version), encoding="utf-8")
    args = ("compat-check", "note.sql", "tag.sql", "--format", "json")
    for extra in ((), ("--transitive",)):
        done = tool(*args, *extra, cwd=project)
        assert rules(done) == [("PT004", "Tag")], done.stdout  # the lock, not a migration
        assert done.returncode == 1
    assert tool("lock", "note.sql", "tag.sql", cwd=project).returncode == 0
    done = tool(*args, cwd=project)
    assert (done.returncode, rules(done)) == (0, [])


def test_compat_check_still_wants_the_step_of_the_changed_entity_beside_a_new_one(
    project: Path,
) -> None:
    (project / "note.sql").write_text(NOTE_V2, encoding="utf-8")
    assert tool("lock", "note.sql", "tag.sql", cwd=project).returncode == 0
    done = tool("compat-check", "note.sql", "tag.sql", "--format", "json", cwd=project)
    assert rules(done) == [("PT002", "Note")]


def test_the_store_creates_the_new_entitys_table_at_its_version(tmp_path: Path) -> None:
    def read(text: str) -> ir.Schema:
        options = ReadOptions(path=Path("s.sql"), display="s.sql", read_dialect="sqlite")
        return get_reader("ddl")(text, options).schema

    old = read(NOTE_V1)
    new = ir.Schema((*old.entities, *read(TAG.format(version=2)).entities), "s.sql")
    result = plan_migration(old, new, source="s.sql", source_hash="0" * 64)
    assert result.modules == () and [c.kind for c in result.changes] == ["add_entity"]
    package = generate_package(new, tmp_path, "new_entity_pkg")
    plan = MigrationPlan.for_specs([], package.ENTITIES)
    store = Store.sqlite()
    assert plan.apply(store) == []
    for spec in package.ENTITIES:
        store.ensure(spec)
    assert store.schema_version("tags") == 2
    tag = store.create(package.TAG_SPEC, package.TagDraft(id=1, label="red"))
    assert store.list(package.TAG_SPEC) == [tag]
