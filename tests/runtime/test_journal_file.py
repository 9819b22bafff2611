"""The JSON Lines ``Journal`` file: appends, sequence numbers, streaming reads, torn tails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from persist_runtime import Journal, JournalRecord, ValidationError

from tests.runtime.handwritten_counter import CounterIncrement, CounterSetName


def test_append_command_numbers_records_and_reads_them_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j" / "counter.jsonl")
    first = journal.append_command(
        "Counter",
        1,
        CounterIncrement(by=2),
        schema_version=1,
        expected_version=1,
        new_version=2,
    )
    second = journal.append_command(
        "Counter",
        1,
        CounterSetName(value="x"),
        schema_version=1,
        expected_version=2,
        new_version=3,
        idempotency_key="k",
    )
    assert (first.seq, second.seq) == (1, 2)
    assert journal.read() == [first, second]
    assert journal.last_seq() == 2
    line = json.loads((tmp_path / "j" / "counter.jsonl").read_text().splitlines()[1])
    assert line == {
        "format_version": 1,
        "seq": 2,
        "ts": second.ts,
        "entity": "Counter",
        "id": 1,
        "schema_version": 1,
        "command": "SetName",
        "payload_version": 1,
        "payload": {"value": "x"},
        "expected_version": 2,
        "new_version": 3,
        "idempotency_key": "k",
    }


def test_reopened_journal_continues_the_sequence(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    for _ in range(3):
        Journal(path).append_command(
            "Counter",
            1,
            CounterIncrement(by=1),
            schema_version=1,
            expected_version=None,
            new_version=1,
        )
    assert [r.seq for r in Journal(path)] == [1, 2, 3]


def test_torn_final_line_is_ignored_and_replaced_by_the_next_append(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append_command(
        "Counter",
        1,
        CounterIncrement(by=1),
        schema_version=1,
        expected_version=1,
        new_version=2,
    )
    with open(path, "ab") as handle:
        handle.write(b'{"format_version": 1, "seq": 2, "ts": "2026')  # crash mid-append
    assert [r.seq for r in journal] == [1]
    record = journal.append_command(
        "Counter",
        1,
        CounterIncrement(by=5),
        schema_version=1,
        expected_version=2,
        new_version=3,
    )
    assert record.seq == 2
    assert [r.payload for r in journal] == [{"by": 1}, {"by": 5}]
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_corrupt_line_in_the_middle_is_reported_with_its_line_number(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.jsonl"
    good = JournalRecord(
        seq=1,
        ts="2026-01-01T00:00:00Z",
        entity="Counter",
        id=1,
        schema_version=1,
        command="Touch",
        payload_version=1,
        payload={},
        expected_version=1,
        new_version=2,
    )
    path.write_text(good.to_line() + "\nnot json\n" + good.to_line() + "\n")
    with pytest.raises(ValidationError, match="line 2: not valid JSON"):
        Journal(path).read()


def test_records_with_wrong_fields_list_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"format_version": 9, "seq": "1", "payload": []}) + "\n")
    with pytest.raises(ValidationError) as caught:
        Journal(path).read()
    messages = [str(i) for i in caught.value.issues]
    assert "line 1/format_version: unknown journal format version 9 (this runtime reads 1)" in (
        messages
    )
    assert "line 1/seq: expected an integer, got '1'" in messages
    assert "line 1/payload: expected an object" in messages
    assert "line 1/id: required property is missing" in messages


def test_reading_streams_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    record = JournalRecord(
        seq=1,
        ts="2026-01-01T00:00:00Z",
        entity="Counter",
        id=1,
        schema_version=1,
        command="Touch",
        payload_version=1,
        payload={},
        expected_version=1,
        new_version=2,
    )
    with open(path, "w") as handle:
        for _ in range(2000):
            handle.write(record.to_line() + "\n")
        handle.write("garbage that would fail if read eagerly\n")
    iterator = iter(Journal(path))
    assert next(iterator) == record  # the corrupt last line has not been read yet
