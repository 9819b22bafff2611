"""Read the ``x-persist-*`` keywords that carry persistence metadata in JSON Schema sources.

On an entity schema (the root or a ``$defs``/``definitions`` member):

* ``x-persist-table``: string, the SQL table (default: snake case of the entity name);
* ``x-persist-schema-version``: integer >= 1 (default 1);
* ``x-persist-primary-key``: property name or array of property names;
* ``x-persist-unique``: array of unique sets, each a property name or array of names;
* ``x-persist-index``: array of indexes, each a property name, an array of names, or
  ``{"columns": [names], "name": "ix_...", "unique": false}`` (name and unique optional);
* ``x-persist-renamed-from``: earlier entity name or array of names, newest first.

On a property schema:

* ``x-persist-primary-key: true``, ``x-persist-unique: true``, ``x-persist-index: true`` (or
  ``{"name": ..., "unique": ...}``): the single-property forms of the above;
* ``x-persist-renamed-from``: earlier property name or array of names, newest first;
* ``x-persist-generated``: ``true``, or the SQL expression the database fills the column
  with (``"CURRENT_TIMESTAMP"``): the value is made by the database and left out of drafts;
* ``x-persist-immutable: true``: never changes after creation (primary keys always);
* ``x-persist-type``: the IR type's JSON form (``{"kind": "decimal", "precision": 10,
  "scale": 2}``, ``{"kind": "integer", "bits": 32}``), overriding the mapped column type.

Any other ``x-persist-`` keyword is an error, so a misspelt one is never silently ignored.
Which schema nodes a keyword is read from (own node and ``allOf``; references only into
plain-value schemas, and only for properties) is stated in the ``jsonschema`` module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from persist_tool import ir

__all__ = ["EntityMeta", "FieldMeta", "entity_meta", "field_meta"]

Located = Mapping[str, tuple[Any, Any]]
"""keyword -> (value, node); the node gives the keyword's location."""

_ENTITY_KEYS = frozenset(
    {
        "x-persist-table",
        "x-persist-schema-version",
        "x-persist-primary-key",
        "x-persist-unique",
        "x-persist-index",
        "x-persist-renamed-from",
    }
)
_FIELD_KEYS = frozenset(
    {
        "x-persist-primary-key",
        "x-persist-unique",
        "x-persist-index",
        "x-persist-renamed-from",
        "x-persist-generated",
        "x-persist-immutable",
        "x-persist-type",
    }
)


@dataclass(slots=True)
class EntityMeta:
    """Entity-level metadata, with property names as the source spells them."""

    table: str | None = None
    schema_version: int | None = None
    primary_key: tuple[str, ...] = ()
    unique: list[tuple[str, ...]] = field(default_factory=list)
    indexes: list[tuple[str | None, tuple[str, ...], bool]] = field(default_factory=list)
    renamed_from: tuple[str, ...] = ()
    locations: dict[str, ir.Location] = field(default_factory=dict)


@dataclass(slots=True)
class FieldMeta:
    """Property-level metadata."""

    primary_key: bool = False
    unique: bool = False
    index: tuple[str | None, bool] | None = None
    renamed_from: tuple[str, ...] = ()
    generated: bool = False
    generated_sql: str | None = None
    immutable: bool = False
    type: ir.FieldType | None = None


def _where(item: tuple[Any, Any], keyword: str) -> ir.Location:
    location: ir.Location = item[1].location(keyword)
    return location


def _fail(item: tuple[Any, Any], keyword: str, message: str) -> ir.SourceError:
    return ir.SourceError(_where(item, keyword), f"{keyword}: {message}")


def _names(item: tuple[Any, Any], keyword: str, *, allow_single: bool = True) -> tuple[str, ...]:
    value = item[0]
    if isinstance(value, str) and allow_single and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise _fail(item, keyword, "expected a property name or a non-empty array of names")


def _check_known(persist: Located, known: frozenset[str], where: str) -> None:
    for keyword, item in persist.items():
        if keyword not in known:
            raise ir.SourceError(
                _where(item, keyword),
                f"unknown keyword {keyword!r} on {where}",
                "known keywords here: " + ", ".join(sorted(known)),
            )


def entity_meta(persist: Located) -> EntityMeta:
    """Read the entity-level keywords (``SourceError`` at the keyword when malformed)."""
    _check_known(persist, _ENTITY_KEYS, "an entity schema")
    meta = EntityMeta()
    for keyword, item in persist.items():
        meta.locations[keyword] = _where(item, keyword)
    if "x-persist-table" in persist:
        item = persist["x-persist-table"]
        if not isinstance(item[0], str) or not item[0].strip():
            raise _fail(item, "x-persist-table", "expected a non-empty string")
        meta.table = item[0]
    if "x-persist-schema-version" in persist:
        item = persist["x-persist-schema-version"]
        if not isinstance(item[0], int) or isinstance(item[0], bool) or item[0] < 1:
            raise _fail(item, "x-persist-schema-version", "expected an integer >= 1")
        meta.schema_version = item[0]
    if "x-persist-primary-key" in persist:
        meta.primary_key = _names(persist["x-persist-primary-key"], "x-persist-primary-key")
    if "x-persist-unique" in persist:
        item = persist["x-persist-unique"]
        if not isinstance(item[0], list):
            raise _fail(item, "x-persist-unique", "expected an array of unique sets")
        meta.unique = [_names((v, item[1]), "x-persist-unique") for v in item[0]]
    if "x-persist-index" in persist:
        item = persist["x-persist-index"]
        if not isinstance(item[0], list):
            raise _fail(item, "x-persist-index", "expected an array of indexes")
        meta.indexes = [_index((v, item[1])) for v in item[0]]
    if "x-persist-renamed-from" in persist:
        meta.renamed_from = _names(persist["x-persist-renamed-from"], "x-persist-renamed-from")
    return meta


def _index(item: tuple[Any, Any]) -> tuple[str | None, tuple[str, ...], bool]:
    value = item[0]
    if isinstance(value, dict):
        unknown = set(value) - {"name", "columns", "unique"}
        name, unique = value.get("name"), value.get("unique", False)
        if (
            unknown
            or (name is not None and not (isinstance(name, str) and name))
            or not isinstance(unique, bool)
        ):
            raise _fail(
                item, "x-persist-index", 'expected {"columns": [...], "name": ..., "unique": ...}'
            )
        return name, _names((value.get("columns"), item[1]), "x-persist-index"), unique
    return None, _names(item, "x-persist-index"), False


def _flag(item: tuple[Any, Any], keyword: str) -> bool:
    if not isinstance(item[0], bool):
        raise _fail(item, keyword, "expected true or false")
    return item[0]


def field_meta(persist: Located) -> FieldMeta:
    """Read the property-level keywords (``SourceError`` at the keyword when malformed)."""
    _check_known(persist, _FIELD_KEYS, "a property")
    meta = FieldMeta()
    if "x-persist-primary-key" in persist:
        meta.primary_key = _flag(persist["x-persist-primary-key"], "x-persist-primary-key")
    if "x-persist-unique" in persist:
        meta.unique = _flag(persist["x-persist-unique"], "x-persist-unique")
    if "x-persist-immutable" in persist:
        meta.immutable = _flag(persist["x-persist-immutable"], "x-persist-immutable")
    if "x-persist-index" in persist:
        item = persist["x-persist-index"]
        if isinstance(item[0], bool):
            meta.index = (None, False) if item[0] else None
        elif isinstance(item[0], dict) and "columns" not in item[0]:
            name, _, unique = _index(({**item[0], "columns": ["_"]}, item[1]))
            meta.index = (name, unique)
        else:
            raise _fail(item, "x-persist-index", 'expected true or {"name": ..., "unique": ...}')
    if "x-persist-renamed-from" in persist:
        meta.renamed_from = _names(persist["x-persist-renamed-from"], "x-persist-renamed-from")
    if "x-persist-generated" in persist:
        item = persist["x-persist-generated"]
        if isinstance(item[0], str) and item[0].strip():
            meta.generated, meta.generated_sql = True, item[0]
        else:
            meta.generated = _flag(item, "x-persist-generated")
    if "x-persist-type" in persist:
        item = persist["x-persist-type"]
        try:
            if not isinstance(item[0], dict):
                raise TypeError("not an object")
            meta.type = ir.type_from_json(item[0])
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(
                item,
                "x-persist-type",
                f"expected an IR type such as "
                f'{{"kind": "decimal", "precision": 10, "scale": 2}} ({exc})',
            ) from None
    return meta
