"""Journal records (DESIGN §7) and the JSON Lines journal file.

A journal is append-only, one command a line::

    {"format_version": 1, "seq": 41, "ts": "...", "entity": "Todo", "id": "...",
     "schema_version": 2, "command": "SetTitle", "payload_version": 1, "payload": {...},
     "expected_version": 2, "new_version": 3, "idempotency_key": null}

``expected_version`` is the row version the command was applied to (the optimistic guard),
``new_version`` the version it produced. Partial updates are journaled under the reserved
command name ``"Patch"`` (payload: the ``Patch``'s payload, payload version 1).

``Journal`` appends records to a file with ``fsync`` (each append is durable when it returns)
and reads them back one line at a time. A final line cut short by a crash is not a record:
readers skip it and the next append replaces it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from .codecs import json_default
from .errors import Issue, ValidationError

try:  # POSIX: serialise appends from several processes
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]

__all__ = [
    "JOURNAL_FORMAT_VERSION",
    "PATCH_COMMAND",
    "Journal",
    "JournalRecord",
    "utc_now_text",
]

JOURNAL_FORMAT_VERSION: Final = 1
"""The ``format_version`` this runtime writes and reads."""

PATCH_COMMAND: Final = "Patch"
"""The command name under which ``Store.patch`` journals partial updates."""

_INT_KEYS: Final = (
    "format_version",
    "seq",
    "schema_version",
    "payload_version",
    "new_version",
)


def utc_now_text() -> str:
    """Return the current UTC time as ISO 8601 text ending in ``Z``."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One journaled command, as in DESIGN §7."""

    seq: int
    ts: str
    entity: str
    id: Any
    """The entity's key in JSON form: a scalar, or a list for composite keys."""
    schema_version: int
    command: str
    payload_version: int
    payload: Mapping[str, Any]
    expected_version: int | None
    new_version: int
    idempotency_key: str | None = None
    format_version: int = JOURNAL_FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        """Return the record as its JSON object, keys in the documented order."""
        return {
            "format_version": self.format_version,
            "seq": self.seq,
            "ts": self.ts,
            "entity": self.entity,
            "id": self.id,
            "schema_version": self.schema_version,
            "command": self.command,
            "payload_version": self.payload_version,
            "payload": self.payload,
            "expected_version": self.expected_version,
            "new_version": self.new_version,
            "idempotency_key": self.idempotency_key,
        }

    def to_line(self) -> str:
        """Return the record as one JSON line (without the newline)."""
        return json.dumps(
            self.to_json(),
            ensure_ascii=False,
            separators=(",", ":"),
            default=json_default,
        )

    @classmethod
    def from_json(cls, data: object, *, where: str = "") -> JournalRecord:
        """Read a record from its JSON object; ``ValidationError`` lists every problem.

        ``where`` prefixes the JSON pointers in the issues (e.g. ``"line 7"``).
        """
        issues: list[Issue] = []
        if not isinstance(data, Mapping):
            raise ValidationError([Issue(where, "expected a JSON object")])
        version = data.get("format_version")
        if version != JOURNAL_FORMAT_VERSION:
            issues.append(
                Issue(
                    f"{where}/format_version",
                    f"unknown journal format version {version!r}"
                    f" (this runtime reads {JOURNAL_FORMAT_VERSION})",
                )
            )
        for key in _INT_KEYS:
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                issues.append(Issue(f"{where}/{key}", f"expected an integer, got {value!r}"))
        expected = data.get("expected_version")
        if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
            issues.append(Issue(f"{where}/expected_version", "expected an integer or null"))
        for key in ("ts", "entity", "command"):
            if not isinstance(data.get(key), str):
                issues.append(Issue(f"{where}/{key}", "expected a string"))
        if "id" not in data:
            issues.append(Issue(f"{where}/id", "required property is missing"))
        if not isinstance(data.get("payload"), Mapping):
            issues.append(Issue(f"{where}/payload", "expected an object"))
        idempotency_key = data.get("idempotency_key")
        if idempotency_key is not None and not isinstance(idempotency_key, str):
            issues.append(Issue(f"{where}/idempotency_key", "expected a string or null"))
        if issues:
            raise ValidationError(issues)
        return cls(
            seq=data["seq"],
            ts=data["ts"],
            entity=data["entity"],
            id=data["id"],
            schema_version=data["schema_version"],
            command=data["command"],
            payload_version=data["payload_version"],
            payload=data["payload"],
            expected_version=expected,
            new_version=data["new_version"],
            idempotency_key=idempotency_key,
            format_version=data["format_version"],
        )


class Journal:
    """An append-only JSON Lines journal file.

    ``append`` writes one record, flushes and ``fsync``s before it returns (pass
    ``fsync=False`` to trade durability for speed); concurrent appenders on POSIX take an
    exclusive ``flock`` so lines never interleave and ``seq`` stays increasing.
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.fsync = fsync

    # ------------------------------------------------------------------ writing

    def append(self, record: JournalRecord) -> JournalRecord:
        """Append ``record``; when its ``seq`` is 0, give it the next sequence number."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            if _fcntl is not None:
                _fcntl.flock(handle.fileno(), _fcntl.LOCK_EX)
            try:
                last_seq = _repair_and_last_seq(handle)
                if record.seq == 0:
                    record = _with_seq(record, last_seq + 1)
                handle.seek(0, os.SEEK_END)
                handle.write(record.to_line().encode("utf-8") + b"\n")
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
            finally:
                if _fcntl is not None:
                    _fcntl.flock(handle.fileno(), _fcntl.LOCK_UN)
        return record

    def append_command(
        self,
        entity: str,
        id: Any,
        command: Any,
        *,
        schema_version: int,
        expected_version: int | None,
        new_version: int,
        idempotency_key: str | None = None,
    ) -> JournalRecord:
        """Append a record of ``command`` (a generated command object) applied to ``id``.

        ``id`` is the key in JSON form; the command's ``name``, ``payload_version`` and
        ``to_payload()`` give the rest.
        """
        record = JournalRecord(
            seq=0,
            ts=utc_now_text(),
            entity=entity,
            id=id,
            schema_version=schema_version,
            command=type(command).name,
            payload_version=type(command).payload_version,
            payload=command.to_payload(),
            expected_version=expected_version,
            new_version=new_version,
            idempotency_key=idempotency_key,
        )
        return self.append(record)

    # ------------------------------------------------------------------ reading

    def __iter__(self) -> Iterator[JournalRecord]:
        """Yield the records in file order, reading one line at a time."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.endswith(b"\n"):
                    return  # a line cut short by a crash: never acknowledged, not a record
                text = raw.strip()
                if not text:
                    continue
                where = f"line {number}"
                try:
                    data = json.loads(text)
                except ValueError as error:
                    raise ValidationError([Issue(where, f"not valid JSON: {error}")]) from None
                yield JournalRecord.from_json(data, where=where)

    def read(self) -> list[JournalRecord]:
        """Return every record (see ``__iter__`` to stream instead)."""
        return list(self)

    def last_seq(self) -> int:
        """Return the ``seq`` of the last complete record (0 for an empty journal)."""
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as handle:
            return _last_seq(handle)


def _with_seq(record: JournalRecord, seq: int) -> JournalRecord:
    data = record.to_json()
    data["seq"] = seq
    return JournalRecord.from_json(data)


def _last_complete_line(handle: Any) -> tuple[int, bytes]:
    """Return (offset just past the last newline, the last complete line)."""
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    position = end
    block = 4096
    tail = b""
    while position > 0:
        step = min(block, position)
        position -= step
        handle.seek(position)
        tail = handle.read(step) + tail
        cut = tail.rfind(b"\n")
        if cut == -1:
            continue
        complete_end = position + cut + 1
        previous = tail.rfind(b"\n", 0, cut)
        while previous == -1 and position > 0:
            step = min(block, position)
            position -= step
            handle.seek(position)
            tail = handle.read(step) + tail
            cut += step
            previous = tail.rfind(b"\n", 0, cut)
        return complete_end, tail[previous + 1 : cut]
    return 0, b""


def _last_seq(handle: Any) -> int:
    _, line = _last_complete_line(handle)
    if not line.strip():
        return 0
    seq = json.loads(line).get("seq", 0)
    return seq if isinstance(seq, int) else 0


def _repair_and_last_seq(handle: Any) -> int:
    """Cut a torn final line (a crash mid-append) and return the last complete ``seq``."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    complete_end, _ = _last_complete_line(handle)
    if complete_end != size:
        handle.truncate(complete_end)
    return _last_seq(handle)
