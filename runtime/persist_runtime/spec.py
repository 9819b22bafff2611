"""``EntitySpec``: everything the store and tools need to know about a generated entity.

Generated modules build one ``<ENTITY>_SPEC`` each. It holds plain data (names, SQL types,
DDL per dialect, fingerprint) and the generated functions that convert between the entity,
its payloads and database rows, so the store never reflects over classes at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _dc_field
from typing import Any

__all__ = ["CommandSpec", "EntitySpec", "FieldSpec", "IndexSpec", "DIALECTS"]

DIALECTS: tuple[str, ...] = ("sqlite", "postgres", "mysql")
"""The SQL dialects generated specs carry DDL for."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: Python name, column, IR type kind and SQL type per dialect."""

    name: str
    column: str
    kind: str
    """The IR type kind: ``string``, ``integer``, ``decimal``, ``datetime``, ``json``, ..."""
    sql_types: Mapping[str, str]
    nullable: bool = False
    generated: bool = False
    immutable: bool = False
    primary_key: bool = False
    tz: bool = False
    """For ``datetime`` fields: whether values carry a time zone."""


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """A secondary index, by column name."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command the entity accepts: its class, name, payload version and JSON Schema."""

    name: str
    type: type[Any]
    payload_version: int
    payload_schema: Mapping[str, Any]
    doc: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class EntitySpec:
    """Describe a generated entity to the store, the tools and the migrations.

    The callables are generated, straight-line code:

    * ``from_draft(draft, generated)``: build the entity from a draft plus the values the
      database generated (a mapping from field name to value).
    * ``from_drafts(drafts, generated)``, optional: the entities of many drafts, the same as
      ``[from_draft(d, g) for d, g in zip(drafts, generated)]`` (``generated`` may be
      endless when the database generates nothing), built in one loop for bulk inserts.
      Specs without it (``None``, as from older generated modules) build one at a time.
    * ``draft_values(draft)``: the draft's values in ``draft_fields`` order (Python values).
    * ``to_values(entity)`` / ``from_values(values)``: the entity as a tuple of Python values
      in ``fields`` order, and back (no validation: values come from our own database).
    * ``to_record(entity)`` / ``from_record(mapping)``: the JSON form of the entity's fields
      (as stored in snapshots) and back, validating (``ValidationError``).
    * ``apply_patch(entity, patch)`` / ``apply_command(entity, command)``: mutate the entity
      and return the names of the fields that changed.
    * ``parse_command(envelope)``: ``{"command", "payload", "payload_version"}`` -> command.
    """

    name: str
    table: str
    schema_version: int
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]
    indexes: tuple[IndexSpec, ...]
    ddl: Mapping[str, tuple[str, ...]]
    """``CREATE TABLE`` then ``CREATE INDEX`` statements, per dialect."""
    fingerprint: str
    entity_type: type[Any]
    draft_type: type[Any]
    patch_type: type[Any]
    commands: tuple[CommandSpec, ...]
    draft_fields: tuple[str, ...]
    from_draft: Callable[[Any, Mapping[str, Any]], Any]
    draft_values: Callable[[Any], tuple[Any, ...]]
    to_values: Callable[[Any], tuple[Any, ...]]
    from_values: Callable[[Sequence[Any]], Any]
    to_record: Callable[[Any], dict[str, Any]]
    from_record: Callable[[Mapping[str, Any]], Any]
    apply_patch: Callable[[Any, Any], frozenset[str]]
    apply_command: Callable[[Any, Any], frozenset[str]]
    parse_command: Callable[[Mapping[str, Any]], Any]
    doc: str | None = None
    extra: Mapping[str, Any] = _dc_field(default_factory=dict)
    from_drafts: Callable[[Sequence[Any], Iterable[Mapping[str, Any]]], list[Any]] | None = None

    def field(self, name: str) -> FieldSpec:
        """Return the field spec called ``name`` (``KeyError`` when there is none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def command(self, name: str) -> CommandSpec:
        """Return the command spec called ``name`` (``KeyError`` when there is none)."""
        for c in self.commands:
            if c.name == name:
                return c
        raise KeyError(name)
