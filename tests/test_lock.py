"""The lock file: recording history, refusing silent rewrites, canonical text, corrupt files."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from persist_tool import ir
from persist_tool.lock import (
    Lock,
    LockConflict,
    drift,
    dumps,
    loads,
    read_lock,
    record,
    versions,
    write_lock,
)

WHERE = ir.Location("models.py", 12, 1)


def todo(version: int = 1, *extra: ir.Field, doc: str | None = None) -> ir.Entity:
    fields = (
        ir.Field("id", "id", ir.IntegerType(), immutable=True, location=WHERE),
        ir.Field("title", "title", ir.StringType(), constraints=ir.Constraints(max_length=200)),
        *extra,
    )
    return ir.Entity(
        "Todo",
        "todos",
        version,
        fields,
        ("id",),
        doc=doc,
        location=WHERE,
        commands=(ir.CommandDef("close", (), location=WHERE),),
    )


def note(version: int = 1) -> ir.Entity:
    return ir.Entity("Note", "notes", version, (ir.Field("id", "id", ir.UuidType()),), ("id",))


def schema(*entities: ir.Entity) -> ir.Schema:
    return ir.Schema(entities, "models.py")


DONE = ir.Field("done", "done", ir.BooleanType(), default=ir.Default("literal", False))


def test_record_keeps_every_version_of_every_entity() -> None:
    lock = record(Lock(), schema(todo(1), note(1)))
    lock = record(lock, schema(todo(2, DONE), note(1)))
    assert [e.schema_version for e in lock.versions("Todo")] == [1, 2]
    assert [e.schema_version for e in versions(lock, "Note")] == [1]
    assert lock.get("Todo", 2).fields[-1].name == "done"
    assert lock.latest("Todo").schema_version == 2
    assert lock.previous("Todo", 2) == lock.get("Todo", 1)
    assert lock.previous("Todo", 1) is None
    assert lock.versions("todos") == lock.versions("Todo")  # the table name works too


def test_recorded_versions_drop_source_locations() -> None:
    lock = record(Lock(), schema(todo(1)))
    stored = lock.get("Todo", 1)
    assert stored.location is None
    assert all(f.location is None for f in stored.fields)
    assert all(c.location is None for c in stored.commands)
    assert stored == todo(1)  # locations do not take part in equality
    assert lock.entities["Todo"][0].fingerprint == todo(1).fingerprint()


def test_recording_the_same_schema_again_changes_nothing() -> None:
    lock = record(Lock(), schema(todo(1)))
    assert record(lock, schema(todo(1))) == lock
    assert dumps(record(lock, schema(todo(1)))) == dumps(lock)


def test_doc_edits_keep_the_first_recording() -> None:
    lock = record(Lock(), schema(todo(1, doc="first")))
    again = record(lock, schema(todo(1, doc="edited")))
    assert again.get("Todo", 1).doc == "first"


def test_a_change_without_a_version_bump_is_refused() -> None:
    lock = record(Lock(), schema(todo(1), note(1)))
    with pytest.raises(LockConflict) as caught:
        record(lock, schema(todo(1, DONE), note(1)))
    error = caught.value
    assert isinstance(error, ir.SourceError)
    assert error.location == WHERE
    assert error.message.startswith("Todo v1: changed since the lock recorded this schema version")
    assert error.hint is not None and "bump schema_version of Todo to 2" in error.hint
    assert [e.name for e, _ in error.conflicts] == ["Todo"]
    forced = record(lock, schema(todo(1, DONE), note(1)), force=True)
    assert forced.get("Todo", 1).fields[-1].name == "done"


def test_entities_the_source_dropped_keep_their_history() -> None:
    lock = record(Lock(), schema(todo(1), note(1)))
    assert record(lock, schema(todo(1))).versions("Note") == [note(1)]


def test_lock_schema_holds_the_newest_version_of_each_entity() -> None:
    lock = record(record(Lock(), schema(todo(1), note(1))), schema(todo(2, DONE)))
    assert [(e.name, e.schema_version) for e in lock.schema().entities] == [
        ("Note", 1),
        ("Todo", 2),
    ]


def test_previous_schema_is_what_a_migration_from_the_lock_starts_at() -> None:
    lock = record(record(Lock(), schema(todo(1), note(1))), schema(todo(2, DONE), note(1)))
    user = ir.Entity("User", "users", 1, (ir.Field("id", "id", ir.IntegerType()),), ("id",))
    before = lock.previous_schema(schema(todo(3, DONE), user))
    assert [(e.name, e.schema_version) for e in before.entities] == [("Todo", 2), ("Note", 1)]
    recorded_already = lock.previous_schema(schema(todo(2, DONE), note(1)))
    assert [(e.name, e.schema_version) for e in recorded_already.entities] == [
        ("Todo", 1),
        ("Note", 1),
    ]


def test_drift_reports_how_the_source_differs_from_the_lock() -> None:
    lock = record(Lock(), schema(todo(2), note(1)))
    user = ir.Entity("User", "users", 1, (ir.Field("id", "id", ir.IntegerType()),), ("id",))
    found = drift(lock, schema(todo(1), user))
    assert [(d.kind, d.entity, d.schema_version) for d in found] == [
        ("behind_lock", "Todo", 1),
        ("unrecorded_entity", "User", 1),
        ("missing_entity", "Note", 1),
    ]
    assert [d.kind for d in drift(lock, schema(todo(2, DONE), note(1)))] == ["changed_without_bump"]
    assert [d.kind for d in drift(lock, schema(todo(3, DONE), note(1)))] == ["unrecorded_version"]
    assert drift(lock, schema(todo(2), note(1))) == []


# --------------------------------------------------------------------------- file format


def test_text_is_canonical_sorted_indented_with_a_trailing_newline() -> None:
    lock = record(Lock(), schema(todo(1), note(1)))
    text = dumps(lock)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert data["format"] == "persist-lock" and data["format_version"] == 1
    assert list(data["entities"]) == ["Note", "Todo"]
    entry = data["entities"]["Todo"]["versions"][0]
    assert set(entry) == {"entity", "fingerprint", "schema_version"}
    assert "models.py" not in json.dumps(data["entities"])  # no source locations
    reordered = record(Lock(), schema(note(1), todo(1)))
    assert dumps(reordered) == text


def test_text_round_trips() -> None:
    lock = record(record(Lock(), schema(todo(1), note(1))), schema(todo(2, DONE)))
    again = loads(dumps(lock))
    assert again == lock
    assert dumps(again) == dumps(lock)


def test_write_lock_is_atomic_and_reports_whether_bytes_changed(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "persist.lock.json"
    lock = record(Lock(), schema(todo(1)))
    assert write_lock(path, lock) is True
    assert write_lock(path, lock) is False
    assert read_lock(path) == lock
    assert [p.name for p in path.parent.iterdir()] == ["persist.lock.json"]


def test_missing_lock_file_is_empty_or_an_error(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "none.json") == Lock()
    with pytest.raises(ir.SourceError, match="lock file not found"):
        read_lock(tmp_path / "none.json", missing_ok=False)


def test_invalid_json_is_reported_at_its_line_and_column() -> None:
    with pytest.raises(ir.SourceError) as caught:
        loads('{\n  "format": "persist-lock",\n  oops\n}', path="persist.lock.json")
    assert caught.value.location == ir.Location("persist.lock.json", 3, 3)
    assert caught.value.render().startswith("persist.lock.json:3:3: error: corrupt lock file:")


def test_an_integer_too_long_to_read_is_a_corrupt_lock_not_a_crash() -> None:
    digits = "9" * (sys.get_int_max_str_digits() + 1)
    with pytest.raises(ir.SourceError) as caught:
        loads('{"format": "persist-lock", "version": ' + digits + "}", path="persist.lock.json")
    assert caught.value.render().startswith("persist.lock.json:1:1: error: corrupt lock file:")


def _valid_text() -> str:
    return dumps(record(Lock(), schema(todo(1), note(1))))


Doc = dict[str, Any]


def _corrupt(edit: Callable[[Doc], object]) -> ir.SourceError:
    data = json.loads(_valid_text())
    edit(data)
    with pytest.raises(ir.SourceError) as caught:
        loads(json.dumps(data, indent=2, sort_keys=True), path="persist.lock.json")
    return caught.value


def _todo_v1(data: Doc) -> Doc:
    entry: Doc = data["entities"]["Todo"]["versions"][0]
    return entry


CORRUPTIONS: list[tuple[Callable[[Doc], object], str, str]] = [
    (lambda d: d.update(format="other"), "/format", '"format" must be "persist-lock"'),
    (lambda d: d.update(format_version=9), "/format_version", "unsupported format_version 9"),
    (lambda d: d.update(entities=[]), "/entities", '"entities" must be a JSON dict'),
    (lambda d: d["entities"].update(Todo=3), "/entities/Todo", "entity Todo must be a JSON dict"),
    (
        lambda d: _todo_v1(d).update(fingerprint="abc"),
        "/entities/Todo/versions/0/fingerprint",
        "fingerprint must be 64 hex digits",
    ),
    (
        lambda d: _todo_v1(d)["entity"].pop("table"),
        "/entities/Todo/versions/0/entity",
        "invalid entity IR (KeyError('table'))",
    ),
    (
        lambda d: _todo_v1(d)["entity"]["fields"][0].update(type={"kind": "x"}),
        "/entities/Todo/versions/0/entity",
        "invalid entity IR",
    ),
    (
        lambda d: d["entities"]["Note"]["versions"][0]["entity"].update(name="Todo"),
        "/entities/Note/versions/0",
        "entry of Note holds entity Todo",
    ),
    (
        lambda d: _todo_v1(d).update(schema_version=2),
        "/entities/Todo/versions/0/schema_version",
        "schema_version 2 does not match the IR's 1",
    ),
    (
        lambda d: d["entities"]["Todo"]["versions"].append(_todo_v1(d)),
        "/entities/Todo/versions",
        "versions must be unique and ascending, got [1, 1]",
    ),
]


@pytest.mark.parametrize(("edit", "pointer", "message"), CORRUPTIONS)
def test_corrupt_lock_files_are_source_errors_with_a_location(
    edit: Callable[[Doc], object], pointer: str, message: str
) -> None:
    error = _corrupt(edit)
    assert error.location is not None
    assert error.location.file == "persist.lock.json"
    assert error.location.pointer == pointer
    assert error.location.line >= 1
    assert message in error.message
    assert error.hint is not None


def test_corrupt_entry_location_points_at_the_entity_line() -> None:
    error = _corrupt(lambda d: _todo_v1(d).update(fingerprint="abc"))
    text = json.dumps({**json.loads(_valid_text())}, indent=2, sort_keys=True)
    expected = text[: text.index('"Todo"')].count("\n") + 1
    assert error.location is not None and error.location.line == expected


def test_fingerprints_survive_ir_reloading() -> None:
    lock = loads(_valid_text())
    entity = lock.get("Todo", 1)
    assert entity.fingerprint() == todo(1).fingerprint()
    bumped = dataclasses.replace(todo(1), doc="docs do not count")
    assert drift(lock, schema(bumped, note(1))) == []
