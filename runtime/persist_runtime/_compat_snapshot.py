"""Checking a snapshot file record by record (see ``persist_runtime.compat``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ._compat_findings import (
    CompatFinding,
    Findings,
    Upgrades,
    api_major,
    id_text,
    is_int,
    make,
    spec_map,
    step_file,
)
from .errors import MigrationError, ValidationError
from .migrations import MigrationPlan
from .snapshot import SNAPSHOT_FORMAT, SNAPSHOT_FORMAT_VERSION
from .spec import EntitySpec

__all__ = ["check_snapshot"]


def _record_lines(text: bytes, count: int) -> list[int] | None:
    """Return each record's 1-based line when the file has one record a line (as written)."""
    lines = text.split(b"\n")
    start = next((i for i, ln in enumerate(lines) if b'"records"' in ln), None)
    if start is None:
        return None
    found = [i + 1 for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith(b"{")]
    return found if len(found) == count else None


def check_snapshot(
    path: str | os.PathLike[str],
    specs: Iterable[EntitySpec] | Mapping[str, EntitySpec],
    plan: MigrationPlan | None = None,
    *,
    display: str | None = None,
) -> list[CompatFinding]:
    """Return what keeps the code (``specs`` + ``plan``) from reading the snapshot at ``path``.

    Every record is upgraded through ``plan`` and validated with ``spec.from_record``.
    ``display`` is the file name findings show (default: ``path``). An unreadable file
    raises ``OSError``; a file that is not a snapshot is a ``PT038`` finding.
    """
    shown = display if display is not None else os.fspath(path)
    with open(path, "rb") as handle:
        text = handle.read()
    try:
        data = json.loads(text)
    except ValueError as error:
        line = getattr(error, "lineno", 0)
        return [make("PT038", shown, line=line, record="snapshot", problem=f"not JSON: {error}")]
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        problem = f'not a {SNAPSHOT_FORMAT} document (no "format": "{SNAPSHOT_FORMAT}")'
        return [make("PT038", shown, at="/format", record="snapshot", problem=problem)]
    version = data.get("format_version")
    if version != SNAPSHOT_FORMAT_VERSION:
        return [
            make(
                "PT034",
                shown,
                at="/format_version",
                what=f"snapshot {shown}",
                version=json.dumps(version),
                supported=str(SNAPSHOT_FORMAT_VERSION),
            )
        ]
    from . import API_VERSION

    api = data.get("api_version")
    if api_major(api) != api_major(API_VERSION):
        return [
            make(
                "PT035",
                shown,
                at="/api_version",
                version=json.dumps(api) if not isinstance(api, str) else api,
                current=API_VERSION,
            )
        ]
    return _SnapshotChecker(spec_map(specs), plan, shown).run(data, text)


class _SnapshotChecker:
    def __init__(
        self, specs: Mapping[str, EntitySpec], plan: MigrationPlan | None, file: str
    ) -> None:
        self.specs = specs
        self.plan = plan
        self.upgrades = Upgrades(specs, plan)
        self.file = file
        self.out = Findings()

    def run(self, data: Mapping[str, Any], text: bytes) -> list[CompatFinding]:
        records = data.get("records", [])
        if not isinstance(records, list):
            self.shape(0, "/records", "snapshot", '"records" is not an array')
            records = []
        lines = _record_lines(text, len(records)) or [0] * len(records)
        for index, (record, line) in enumerate(zip(records, lines, strict=True)):
            self.record(index, record, line)
        self.types(data.get("types", []))
        return self.out.result()

    def shape(self, line: int, pointer: str, record: str, problem: str) -> None:
        self.out.add(
            ("PT038", pointer if record == "snapshot" else problem),
            lambda: make("PT038", self.file, line=line, at=pointer, record=record, problem=problem),
            record,
        )

    def types(self, types: object) -> None:
        """Report types no record already showed (a schema-only snapshot has only these)."""
        if not isinstance(types, list):
            self.shape(0, "/types", "snapshot", '"types" is not an array')
            return
        for index, item in enumerate(types):
            pointer = f"/types/{index}"
            entity = item.get("entity") if isinstance(item, dict) else None
            version = item.get("schema_version") if isinstance(item, dict) else None
            if not isinstance(entity, str) or not is_int(version):
                self.shape(0, pointer, "snapshot", f"{pointer} lacks an entity or schema_version")
                continue
            assert isinstance(version, int)
            spec, dropped = self.upgrades.spec_for(entity)
            label = f"type {entity}"
            if dropped:
                continue
            if spec is None:
                if not self.out.has(("PT037", entity)):
                    self.unknown(entity, label, pointer, 0)
                continue
            problem = self.upgrades.problem(spec, version)
            if problem is not None and not self.out.has((problem[0], entity, version)):
                self.version_problem(problem, spec, version, pointer, label, 0)

    def version_problem(
        self,
        problem: tuple[str, dict[str, Any]],
        spec: EntitySpec,
        version: int,
        pointer: str,
        label: str,
        line: int,
    ) -> None:
        rule, params = problem
        self.out.add(
            (rule, spec.name, version),
            lambda: make(
                rule, self.file, line=line, at=pointer, record=label, entity=spec.name, **params
            ),
            label,
        )

    def unknown(self, entity: str, record: str, pointer: str, line: int) -> None:
        self.out.add(
            ("PT037", entity),
            lambda: make("PT037", self.file, line=line, at=pointer, record=record, entity=entity),
            record,
        )

    def record(self, index: int, item: object, line: int) -> None:
        where = f"/records/{index}"
        if not isinstance(item, dict):
            self.shape(line, where, f"record {index}", "expected a JSON object")
            return
        entity, version, fields = item.get("entity"), item.get("schema_version"), item.get("fields")
        missing = [
            key
            for key, ok in (
                ("entity", isinstance(entity, str)),
                ("id", "id" in item),
                ("version", is_int(item.get("version"))),
                ("schema_version", is_int(version)),
                ("fields", isinstance(fields, dict)),
            )
            if not ok
        ]
        if missing:
            self.shape(line, where, f"record {index}", "missing or mistyped " + ", ".join(missing))
            return
        assert isinstance(entity, str) and isinstance(version, int) and isinstance(fields, dict)
        label = f"#{id_text(item['id'])}"
        spec, dropped = self.upgrades.spec_for(entity)
        if dropped:
            return  # the plan drops the entity: restoring leaves these records out
        if spec is None:
            self.unknown(entity, f"{entity}{label}", f"{where}/entity", line)
            return
        problem = self.upgrades.problem(spec, version)
        if problem is not None:
            self.version_problem(problem, spec, version, f"{where}/schema_version", label, line)
            return
        stubs = self.upgrades.stubs(spec, version)
        if stubs:
            for step in stubs:
                self.stub(step, label, line)
            return
        self.validate(spec, version, fields, where, label, line)

    def stub(self, step: Any, label: str, line: int) -> None:
        self.out.add(
            ("PT036", step.entity, step.from_version),
            lambda: make(
                "PT036",
                self.file,
                line=line,
                record=label,
                entity=step.entity,
                from_version=step.from_version,
                to_version=step.to_version,
                reason="stub=True; stored records at older versions cannot be upgraded",
                file=step_file(step),
            ),
            label,
        )

    def validate(
        self,
        spec: EntitySpec,
        version: int,
        fields: dict[str, Any],
        where: str,
        label: str,
        line: int,
    ) -> None:
        current = spec.schema_version
        if version < current:
            assert self.plan is not None
            try:
                fields = self.plan.upgrade_record(spec.name, dict(fields), version)
            except MigrationError as error:
                self.invalid(spec, version, f"{where}/fields", "", str(error), label, line)
                return
        try:
            spec.from_record(fields)
        except ValidationError as error:
            for issue in error.issues:
                self.invalid(
                    spec,
                    version,
                    f"{where}/fields{issue.path}",
                    issue.path,
                    issue.message,
                    label,
                    line,
                )

    def invalid(
        self,
        spec: EntitySpec,
        version: int,
        pointer: str,
        path: str,
        problem: str,
        label: str,
        line: int,
    ) -> None:
        self.out.add(
            ("PT032", spec.name, version, path),
            lambda: make(
                "PT032",
                self.file,
                line=line,
                at=pointer,
                record=label,
                entity=spec.name,
                problem=problem,
                current=spec.schema_version,
                pointer=f" /fields{path}",
            ),
            label,
        )
