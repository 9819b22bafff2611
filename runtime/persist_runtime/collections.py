"""Typed and heterogeneous collections of entities.

A ``Collection`` holds entities of one or more generated types (each with its row version).
It snapshots and restores as one file, lists which commands each member type offers, and
``invoke(command, payload)`` applies a command by name to every member whose type has it —
members of other types are reported as skipped, not silently passed over. Bound to a
``Store``, every application is a ``Store.execute`` (journaled, optimistic); unbound, the
reducers run in memory and versions advance locally.

``TypedCollection`` is the one-type case, typed by its entity class.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import Issue, PersistError, ValidationError
from .snapshot import (
    RecordUpgrader,
    SnapshotMode,
    SnapshotRecord,
    SnapshotType,
    decode_snapshot,
    read_snapshot,
    write_snapshot,
)
from .spec import CommandSpec, EntitySpec
from .store import Store, UnknownEntityError
from .store_plan import entity_key_json

__all__ = [
    "Applied",
    "Collection",
    "Failed",
    "InvokeResult",
    "Member",
    "Skipped",
    "TypedCollection",
]

E = TypeVar("E")


@dataclass(slots=True)
class Member:
    """One entity in a collection, with its spec and row version."""

    spec: EntitySpec
    entity: Any
    version: int = 1

    @property
    def id(self) -> Any:
        """The entity's key in JSON form."""
        return entity_key_json(self.spec, self.entity)


@dataclass(frozen=True, slots=True)
class Applied:
    """A member the command was applied to."""

    entity: str
    id: Any
    version: int
    changed: frozenset[str]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A member whose type has no such command."""

    entity: str
    id: Any
    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    """A member the command could not be applied to (invalid payload, conflict...)."""

    entity: str
    id: Any
    error: PersistError


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """The outcome of ``Collection.invoke`` for every member, in collection order."""

    command: str
    applied: tuple[Applied, ...]
    skipped: tuple[Skipped, ...]
    failed: tuple[Failed, ...]

    @property
    def ok(self) -> bool:
        """True when no member failed (skipped members are not failures)."""
        return not self.failed


@dataclass(slots=True)
class _Invocation:
    applied: list[Applied] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)


class Collection:
    """A heterogeneous collection of entities of the given ``specs``' types."""

    def __init__(
        self,
        specs: Iterable[EntitySpec],
        members: Iterable[Any] = (),
        *,
        store: Store | None = None,
    ) -> None:
        self._specs: dict[str, EntitySpec] = {}
        self._by_type: dict[type, EntitySpec] = {}
        for spec in specs:
            self._specs[spec.name] = spec
            self._by_type[spec.entity_type] = spec
        self._members: list[Member] = []
        self.store = store
        self.dropped: dict[str, int] = {}
        """After ``restore``: snapshot records left out because the plan dropped their
        entity, per entity name as the snapshot spells it."""
        self.notes: tuple[str, ...] = ()
        """After ``restore``: one line per dropped entity, for people."""
        for entity in members:
            self.add(entity)

    # ------------------------------------------------------------------ membership

    @property
    def specs(self) -> tuple[EntitySpec, ...]:
        """The member types, in declaration order."""
        return tuple(self._specs.values())

    def spec_of(self, entity: object) -> EntitySpec:
        """Return the spec of ``entity``'s type (``UnknownEntityError`` for other types)."""
        spec = self._by_type.get(type(entity))
        if spec is None:
            known = ", ".join(self._specs) or "none"
            raise UnknownEntityError(
                f"{type(entity).__name__} is not a type of this collection (types: {known})"
            )
        return spec

    def add(self, entity: object, version: int = 1) -> Member:
        """Add ``entity`` (at row ``version``); return its member record."""
        member = Member(self.spec_of(entity), entity, version)
        self._members.append(member)
        return member

    def __iter__(self) -> Iterator[Any]:
        return (m.entity for m in self._members)

    def __len__(self) -> int:
        return len(self._members)

    @property
    def members(self) -> tuple[Member, ...]:
        """Every member with its spec and version."""
        return tuple(self._members)

    def of_type(self, spec: EntitySpec) -> list[Any]:
        """Return the members of ``spec``'s type."""
        return [m.entity for m in self._members if m.spec is spec]

    def commands(self) -> dict[str, tuple[CommandSpec, ...]]:
        """Return the commands each member type offers (name, payload version, schema)."""
        return {name: spec.commands for name, spec in self._specs.items()}

    def supporting(self, command: str) -> tuple[str, ...]:
        """Return the names of the member types that have ``command``."""
        return tuple(
            name
            for name, spec in self._specs.items()
            if any(c.name == command for c in spec.commands)
        )

    # ------------------------------------------------------------------ invoke

    def invoke(
        self,
        command: str,
        payload: Mapping[str, Any] | None = None,
        *,
        payload_version: int | None = None,
    ) -> InvokeResult:
        """Apply ``command`` with ``payload`` to every member whose type has it.

        The payload is validated once per type (``spec.parse_command``); a payload one type
        rejects fails that type's members and leaves the others applied. Bound to a store,
        each member's command is a ``Store.execute`` guarded by the member's version.
        """
        parsed: dict[str, Any] = {}
        out = _Invocation()
        for member in self._members:
            spec = member.spec
            entity_id = member.id
            command_spec = next((c for c in spec.commands if c.name == command), None)
            if command_spec is None:
                out.skipped.append(
                    Skipped(spec.name, entity_id, f"{spec.name} has no command {command!r}")
                )
                continue
            if spec.name not in parsed:
                envelope = {
                    "command": command,
                    "payload": dict(payload or {}),
                    "payload_version": payload_version or command_spec.payload_version,
                }
                try:
                    parsed[spec.name] = spec.parse_command(envelope)
                except ValidationError as error:
                    parsed[spec.name] = error
            value = parsed[spec.name]
            if isinstance(value, ValidationError):
                out.failed.append(Failed(spec.name, entity_id, value))
                continue
            try:
                self._apply(member, value, out)
            except PersistError as error:
                out.failed.append(Failed(spec.name, entity_id, error))
        return InvokeResult(command, tuple(out.applied), tuple(out.skipped), tuple(out.failed))

    def _apply(self, member: Member, command: Any, out: _Invocation) -> None:
        spec = member.spec
        if self.store is not None:
            result = self.store.execute(
                spec,
                _key_arg(spec, member.entity),
                command,
                expected_version=member.version,
            )
            member.entity, member.version = result.entity, result.version
            changed = result.changed
        else:
            changed = frozenset(spec.apply_command(member.entity, command))
            member.version += 1
        out.applied.append(Applied(spec.name, member.id, member.version, changed))

    # ------------------------------------------------------------------ files and stores

    def snapshot(self, path: str | os.PathLike[str], mode: SnapshotMode = "with_data") -> int:
        """Write the collection as one snapshot file (atomically); return the record count."""
        types = [SnapshotType.of(s) for s in self._specs.values()]
        records = (
            SnapshotRecord(
                entity=m.spec.name,
                id=m.id,
                version=m.version,
                schema_version=m.spec.schema_version,
                fields=m.spec.to_record(m.entity),
            )
            for m in self._members
        )
        return write_snapshot(path, mode, types, records)

    @classmethod
    def restore(
        cls,
        path: str | os.PathLike[str],
        specs: Iterable[EntitySpec],
        *,
        plan: RecordUpgrader | None = None,
        store: Store | None = None,
    ) -> Collection:
        """Read a snapshot into a new collection, upgrading older records through ``plan``.

        Records stored under a name their entity had before a rename become members of
        the renamed type; records of an entity the plan dropped are left out and counted
        in the collection's ``dropped`` (with a line in ``notes``).
        """
        specs = list(specs)
        snapshot = read_snapshot(path)
        known = {s.name: s for s in specs}
        collection = cls(specs, store=store)
        decoded = decode_snapshot(snapshot, known, plan)
        for record in decoded.records:
            collection._members.append(Member(record.spec, record.entity, record.version))
        collection.dropped, collection.notes = decoded.dropped, decoded.notes
        return collection

    @classmethod
    def load(
        cls,
        store: Store,
        specs: Iterable[EntitySpec],
        where: Mapping[str, Mapping[str, object]] | None = None,
    ) -> Collection:
        """Load every stored entity of ``specs`` (``where``: per entity name, as in
        ``Store.list``) into a collection bound to ``store``."""
        specs = list(specs)
        collection = cls(specs, store=store)
        for spec in specs:
            for item in store.list_versioned(spec, (where or {}).get(spec.name)):
                collection._members.append(Member(spec, item.entity, item.version))
        return collection


def _key_arg(spec: EntitySpec, entity: Any) -> Any:
    values = spec.to_values(entity)
    index = {f.name: i for i, f in enumerate(spec.fields)}
    key = tuple(values[index[name]] for name in spec.primary_key)
    return key[0] if len(key) == 1 else key


class TypedCollection(Collection, Generic[E]):
    """A collection of one entity type ``E``."""

    def __init__(
        self, spec: EntitySpec, members: Iterable[E] = (), *, store: Store | None = None
    ) -> None:
        super().__init__((spec,), members, store=store)
        self.spec = spec

    def __iter__(self) -> Iterator[E]:
        return (m.entity for m in self.members)

    def add(self, entity: object, version: int = 1) -> Member:
        """Add ``entity``; it must be of this collection's type."""
        if type(entity) is not self.spec.entity_type:
            raise ValidationError(
                [Issue("", f"expected a {self.spec.name}, got {type(entity).__name__}")],
                entity=self.spec.name,
            )
        return super().add(entity, version)

    @property
    def entities(self) -> list[E]:
        """The members, typed."""
        return [m.entity for m in self.members]
