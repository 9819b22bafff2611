"""Checking a JSON Lines journal as a stream (see ``persist_runtime.compat``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from ._compat_findings import (
    MAX_CACHED_KEYS,
    CompatFinding,
    Findings,
    Upgrades,
    id_text,
    is_int,
    make,
    spec_map,
)
from .errors import MigrationError, ValidationError
from .journal import JOURNAL_FORMAT_VERSION, PATCH_COMMAND
from .migrations import MigrationPlan
from .spec import EntitySpec

__all__ = ["check_journal"]

_Action = Callable[[dict[str, Any], int], None]


def check_journal(
    path: str | os.PathLike[str],
    specs: Iterable[EntitySpec] | Mapping[str, EntitySpec],
    plan: MigrationPlan | None = None,
    *,
    display: str | None = None,
) -> list[CompatFinding]:
    """Return what keeps the code (``specs`` + ``plan``) from reading the journal at ``path``.

    The JSON Lines file is streamed (memory does not grow with its length). Each command is
    mapped through the plan's command migrations and its payload validated with the current
    command's ``from_payload`` (``spec.patch_type.from_payload`` for ``"Patch"`` records).
    A final line cut short by a crash is not a record and is skipped, as ``Journal`` does.
    """
    checker = _JournalChecker(
        spec_map(specs), plan, display if display is not None else os.fspath(path)
    )
    return checker.run(path)


class _JournalChecker:
    def __init__(
        self, specs: Mapping[str, EntitySpec], plan: MigrationPlan | None, file: str
    ) -> None:
        self.specs = specs
        self.plan = plan
        self.upgrades = Upgrades(specs, plan)
        self.file = file
        self.out = Findings()
        self.actions: dict[tuple[Any, ...], _Action | None] = {}
        self.readers: dict[tuple[Any, ...], Callable[[Any], Any]] = {}
        """Keys whose lines need nothing but their payload read (the fast path)."""
        self.parsers: dict[tuple[str, str, int], Callable[[Any], Any] | None] = {}

    def run(self, path: str | os.PathLike[str]) -> list[CompatFinding]:
        # The hot loop: a line whose key has a plain payload reader costs one UTF-8 decode
        # and JSON parse, one lookup and the generated validation. Anything else (a new
        # key, a damaged line, an invalid payload, a key with a problem) goes to the slow
        # path, which reads the line again and reports. Decoding the bytes first and
        # calling the decoder directly skips ``json.loads``'s encoding detection.
        parse = _DECODER.decode
        readers = self.readers
        slow = self.slow
        number = 0
        with open(path, "rb", buffering=1 << 20) as handle:
            for raw in handle:
                number += 1
                try:
                    data = parse(raw.decode())
                    read = readers[
                        data["entity"],
                        data["schema_version"],
                        data["command"],
                        data["payload_version"],
                    ]
                    if data["format_version"] == 1 and raw[-1] == 10 and "id" in data:
                        read(data["payload"])
                        continue
                except Exception:
                    pass
                slow(raw, number)
        return self.out.result()

    # ------------------------------------------------------------------ the slow path

    def slow(self, raw: bytes, number: int) -> None:
        """Check a line the fast path could not take: a new key or a damaged line."""
        if not raw.endswith(b"\n"):
            return  # a final line cut short by a crash: never acknowledged, not a record
        text = raw.strip()
        if not text:
            return
        try:
            data = json.loads(text)
        except ValueError as error:
            self.damaged(number, "json", f"not valid JSON: {error}")
            return
        if not isinstance(data, dict):
            self.damaged(number, "object", "expected a JSON object")
            return
        version = data.get("format_version")
        if version != JOURNAL_FORMAT_VERSION:
            shown = json.dumps(version)
            self.out.add(
                ("PT034", shown),
                lambda: make(
                    "PT034",
                    self.file,
                    line=number,
                    at="/format_version",
                    record=f"line {number}",
                    what=f"journal {self.file} line {number}",
                    version=shown,
                    supported=str(JOURNAL_FORMAT_VERSION),
                ),
                f"line {number}",
            )
            return
        bad = [
            key
            for key, ok in (
                ("entity", isinstance(data.get("entity"), str)),
                ("id", "id" in data),
                ("schema_version", is_int(data.get("schema_version"))),
                ("command", isinstance(data.get("command"), str)),
                ("payload_version", is_int(data.get("payload_version"))),
            )
            if not ok
        ]
        if bad:
            self.damaged(number, tuple(bad), "missing or mistyped " + ", ".join(bad))
            return
        key = (data["entity"], data["schema_version"], data["command"], data["payload_version"])
        action = self.actions.get(key, _UNSEEN)
        if action is _UNSEEN:
            action = self.decide(*key)
            if len(self.actions) < MAX_CACHED_KEYS:
                self.actions[key] = action
                read = getattr(action, "reads", None)
                if read is not None:
                    self.readers[key] = read
        if action is not None:
            assert callable(action)
            action(data, number)

    def damaged(self, number: int, kind: object, problem: str) -> None:
        self.out.add(
            ("PT038", kind),
            lambda: make("PT038", self.file, line=number, record=f"line {number}", problem=problem),
            f"line {number}",
        )

    # ------------------------------------------------------------------ decisions per key

    def decide(self, entity: str, version: int, command: str, payload_version: int) -> _Action:
        """Return what to do with every line of this (entity, version, command, payload v)."""
        spec, dropped = self.upgrades.spec_for(entity)
        if dropped:
            return _ignored  # the plan drops the entity: its commands are history
        if spec is None:
            return self.report(("PT037", entity), "PT037", None, "/entity", {})
        problem = self.upgrades.problem(spec, version)
        if problem is not None:
            rule, params = problem
            return self.report((rule, entity, version), rule, entity, "/schema_version", params)
        if self.migrated(spec, version, command, payload_version):
            return self.migrating(spec, version, command, payload_version)
        parse = self.parser(spec, command, payload_version)
        if parse is None:
            return self.unknown_command(spec, command, payload_version)
        return self.validating(spec, command, payload_version, parse)

    def migrated(self, spec: EntitySpec, version: int, command: str, payload_version: int) -> bool:
        """Tell whether a command migration at or after ``version`` maps this command."""
        if self.plan is None:
            return False
        wanted = (command, payload_version)
        return any(
            wanted in step.commands
            for step in self.plan.steps_for(spec.name)
            if step.from_version >= version
        )

    def parser(
        self, spec: EntitySpec, command: str, payload_version: int
    ) -> Callable[[Any], Any] | None:
        """Return the current payload reader of a command (``None`` when it does not exist)."""
        key = (spec.name, command, payload_version)
        if key in self.parsers:
            return self.parsers[key]
        found: Callable[[Any], Any] | None = None
        if command == PATCH_COMMAND and payload_version == 1:
            found = spec.patch_type.from_payload
        else:
            for c in spec.commands:
                if c.name == command and c.payload_version == payload_version:
                    found = c.type.from_payload
                    break
        if len(self.parsers) < MAX_CACHED_KEYS:
            self.parsers[key] = found
        return found

    def report(
        self,
        key: tuple[Any, ...],
        rule: str,
        entity: str | None,
        pointer: str,
        params: Mapping[str, Any],
    ) -> _Action:
        out, file = self.out, self.file

        def action(data: dict[str, Any], number: int) -> None:
            record = f"line {number}"
            label = _journal_label(data)
            out.add(
                key,
                lambda: make(
                    rule,
                    file,
                    line=number,
                    at=pointer,
                    record=label if entity is not None else record,
                    entity=entity if entity is not None else data["entity"],
                    **params,
                ),
                record,
            )

        return action

    def unknown_command(self, spec: EntitySpec, command: str, payload_version: int) -> _Action:
        return self.report(
            ("PT033", spec.name, command, payload_version),
            "PT033",
            spec.name,
            "/command",
            {"command": command, "payload_version": payload_version},
        )

    def validating(
        self, spec: EntitySpec, command: str, payload_version: int, parse: Callable[[Any], Any]
    ) -> _Action:
        invalid = self.invalid

        def action(data: dict[str, Any], number: int) -> None:
            try:
                parse(data["payload"])
            except ValidationError as error:
                invalid(spec, command, payload_version, error, data, number)

        action.reads = parse  # type: ignore[attr-defined]
        return action

    def migrating(
        self, spec: EntitySpec, version: int, command: str, payload_version: int
    ) -> _Action:
        plan = self.plan
        assert plan is not None

        def action(data: dict[str, Any], number: int) -> None:
            payload = data["payload"]
            if not isinstance(payload, dict):
                self.invalid_text(
                    spec, command, payload_version, "", "expected an object", data, number
                )
                return
            try:
                name, upgraded, new_version = plan.upgrade_command(
                    spec.name, command, payload, payload_version, schema_version=version
                )
            except MigrationError as error:
                self.invalid_text(
                    spec, command, payload_version, "#migration", str(error), data, number
                )
                return
            parse = self.parser(spec, name, new_version)
            if parse is None:
                self.unknown_command(spec, name, new_version)(data, number)
                return
            try:
                parse(upgraded)
            except ValidationError as error:
                self.invalid(spec, command, payload_version, error, data, number)

        return action

    def invalid(
        self,
        spec: EntitySpec,
        command: str,
        payload_version: int,
        error: ValidationError,
        data: Mapping[str, Any],
        number: int,
    ) -> None:
        for issue in error.issues:
            self.invalid_text(
                spec, command, payload_version, issue.path, issue.message, data, number
            )

    def invalid_text(
        self,
        spec: EntitySpec,
        command: str,
        payload_version: int,
        path: str,
        problem: str,
        data: Mapping[str, Any],
        number: int,
    ) -> None:
        pointer = "/payload" + (path if path.startswith("/") else "")
        label = _journal_label(data)
        self.out.add(
            ("PT032", spec.name, command, payload_version, path),
            lambda: make(
                "PT032",
                self.file,
                line=number,
                at=pointer,
                record=label,
                entity=spec.name,
                problem=f"{command} payload: {problem}",
                current=spec.schema_version,
                pointer=f" {pointer}",
            ),
            f"line {number}",
        )


def _ignore_payload(payload: Any) -> None:
    return None


def _ignored(data: dict[str, Any], number: int) -> None:
    """The action for lines nothing needs checking on (an entity the plan dropped)."""


_ignored.reads = _ignore_payload  # type: ignore[attr-defined]

_UNSEEN: Final[Any] = object()
_DECODER: Final = json.JSONDecoder()


def _journal_label(data: Mapping[str, Any]) -> str:
    seq = data.get("seq")
    return f"#{id_text(data.get('id'))} (seq {seq})"
