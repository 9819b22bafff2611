"""Backfill values: what existing rows and records get for a new required field.

A field added as required without a default (or a nullable field made required) needs a
value for the data already stored. The diff marks those changes (``needs_value``);
``apply_defaults`` attaches the values the user passes (``--default Note.priority=3``),
parsed and checked against the field's type and constraints, so the generator can refuse
a migration that would fail on a non-empty table.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from persist_tool import ir
from persist_tool.diff.changes import AddField, AlterNullability, Change

__all__ = [
    "FACTORIES",
    "added_value",
    "apply_defaults",
    "backfill_key",
    "missing_backfills",
    "parse_default_option",
    "parse_value",
]

FACTORIES: frozenset[str] = frozenset({"now", "today", "uuid4", "list", "dict"})
"""Factory names a backfill may use, written ``now()`` on the command line."""

_OPTION = re.compile(r"^\s*([^.=\s]+)\.([^=\s]+)\s*=(.*)$", re.DOTALL)
_Backfillable = AddField | AlterNullability


def added_value(change: AddField) -> ir.Default | None:
    """Return the value existing rows get for an added field (backfill, else its default)."""
    if change.backfill is not None:
        return change.backfill
    default = change.definition.default
    if default is not None and default.kind in (ir.Default.LITERAL, ir.Default.FACTORY):
        return default if default.value is not None else None
    return None


def backfill_key(change: _Backfillable) -> str:
    """Return the ``Entity.field`` key that names the change's backfill."""
    return f"{change.entity}.{change.field_name}"


def missing_backfills(changes: Iterable[Change]) -> list[_Backfillable]:
    """Return the changes whose stored data still needs a backfill value, in order."""
    return [c for c in changes if isinstance(c, _Backfillable) and c.needs_value]


def parse_default_option(text: str) -> tuple[str, str, str]:
    """Split ``Entity.field=VALUE`` into its three parts (``SourceError`` when malformed)."""
    m = _OPTION.match(text)
    if m is None:
        raise ir.SourceError(
            None,
            f"--default {text!r}: expected ENTITY.FIELD=VALUE",
            "for example --default Note.priority=3",
        )
    return m.group(1), m.group(2), m.group(3)


# --------------------------------------------------------------------------- parsing


def _bad(text: str, what: str) -> ValueError:
    return ValueError(f"{text!r} is not {what}")


def _parse_int(text: str, t: Any) -> ir.JsonValue:
    try:
        return int(text.strip())
    except ValueError:
        raise _bad(text, "an integer") from None


def _parse_float(text: str, t: Any) -> ir.JsonValue:
    try:
        return float(text.strip())
    except ValueError:
        raise _bad(text, "a number") from None


def _parse_decimal(text: str, t: Any) -> ir.JsonValue:
    try:
        value = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        raise _bad(text, "a decimal number") from None
    if not value.is_finite():
        raise _bad(text, "a finite decimal number")
    return str(value)


_BOOLEANS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
}


def _parse_bool(text: str, t: Any) -> ir.JsonValue:
    try:
        return _BOOLEANS[text.strip().lower()]
    except KeyError:
        raise _bad(text, "a boolean (true or false)") from None


def _iso(parse: Callable[[str], Any], what: str) -> Callable[[str, Any], ir.JsonValue]:
    def parse_iso(text: str, t: Any) -> ir.JsonValue:
        value = text.strip()
        try:
            parse(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            raise _bad(text, what) from None
        return value

    return parse_iso


def _parse_uuid(text: str, t: Any) -> ir.JsonValue:
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        raise _bad(text, "a UUID") from None


def _parse_bytes(text: str, t: Any) -> ir.JsonValue:
    try:
        base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _bad(text, "base64 data") from None
    return text.strip()


def _parse_json(text: str, t: Any) -> ir.JsonValue:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{text!r} is not JSON ({error.msg})") from None


def _parse_enum(text: str, t: ir.EnumType) -> ir.JsonValue:
    for value in t.values:
        if str(value) == text.strip():
            return value
    raise ValueError(f"{text!r} is not one of " + ", ".join(repr(v) for v in t.values))


def _parse_string(text: str, t: Any) -> ir.JsonValue:
    return text


_PARSERS: dict[str, Callable[[str, Any], ir.JsonValue]] = {
    "string": _parse_string,
    "integer": _parse_int,
    "float": _parse_float,
    "decimal": _parse_decimal,
    "boolean": _parse_bool,
    "date": _iso(dt.date.fromisoformat, "an ISO 8601 date"),
    "datetime": _iso(dt.datetime.fromisoformat, "an ISO 8601 datetime"),
    "time": _iso(dt.time.fromisoformat, "an ISO 8601 time"),
    "uuid": _parse_uuid,
    "bytes": _parse_bytes,
    "json": _parse_json,
    "array": _parse_json,
    "object": _parse_json,
    "enum": _parse_enum,
}


def _check_constraints(value: ir.JsonValue, c: ir.Constraints) -> None:
    """Raise ``ValueError`` when ``value`` breaks a constraint it can be checked against."""
    if isinstance(value, str):
        if c.max_length is not None and len(value) > c.max_length:
            raise ValueError(f"{value!r} is longer than {c.max_length} characters")
        if c.min_length is not None and len(value) < c.min_length:
            raise ValueError(f"{value!r} is shorter than {c.min_length} characters")
        if c.pattern is not None and re.search(c.pattern, value) is None:
            raise ValueError(f"{value!r} does not match {c.pattern!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if c.minimum is not None and value < c.minimum:
            raise ValueError(f"{value} is below the minimum {c.minimum}")
        if c.maximum is not None and value > c.maximum:
            raise ValueError(f"{value} is above the maximum {c.maximum}")
        if c.exclusive_minimum is not None and value <= c.exclusive_minimum:
            raise ValueError(f"{value} is not above {c.exclusive_minimum}")
        if c.exclusive_maximum is not None and value >= c.exclusive_maximum:
            raise ValueError(f"{value} is not below {c.exclusive_maximum}")
    if c.enum is not None and value not in c.enum:
        raise ValueError(f"{value!r} is not one of " + ", ".join(repr(v) for v in c.enum))


def parse_value(field: ir.Field, value: str | ir.JsonValue) -> ir.Default:
    """Turn a ``--default`` value into a backfill for ``field`` (``ValueError`` if unfit).

    Text is read by the field's type (``3`` for an integer, ISO 8601 for dates, JSON for
    json/array fields); ``now()``, ``today()``, ``uuid4()``, ``list()``, ``dict()`` name a
    factory; ``null`` is refused for a field that must not be null. Other values (from
    Python callers) are taken as JSON values.
    """
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.endswith("()") and stripped[:-2] in FACTORIES:
            return ir.Default(ir.Default.FACTORY, stripped[:-2])
        if stripped == "null" and field.type.kind != "string":
            raise ValueError("null cannot fill a field that must not be null")
        value = _PARSERS[field.type.kind](value, field.type)
    elif value is None:
        raise ValueError("null cannot fill a field that must not be null")
    _check_constraints(value, field.constraints)
    return ir.Default(ir.Default.LITERAL, value)


# --------------------------------------------------------------------------- applying


def _target_field(change: _Backfillable, schema: ir.Schema | None) -> ir.Field:
    if isinstance(change, AddField):
        return change.definition
    if schema is None:
        raise ValueError(f"apply_defaults needs the new schema to read {backfill_key(change)}")
    return schema.get_entity(change.entity).get_field(change.field)


def _keys(change: _Backfillable, schema: ir.Schema | None) -> set[str]:
    """Return every spelling of the change's key: entity name or table, field or column."""
    entity_names = {change.entity}
    if schema is not None:
        with contextlib.suppress(KeyError):
            entity_names.add(schema.get_entity(change.entity).table)
    field_names = {change.field_name}
    if isinstance(change, AddField):
        field_names.add(change.definition.column)
    elif schema is not None:
        field_names.add(_target_field(change, schema).column)
    return {f"{e}.{f}" for e in entity_names for f in field_names}


def apply_defaults(
    changes: Iterable[Change],
    values: Mapping[str, str | ir.JsonValue],
    *,
    schema: ir.Schema | None = None,
) -> list[Change]:
    """Attach backfill values to the changes that take one; return the new list.

    ``values`` maps ``Entity.field`` (the table and column names are accepted too) to a
    ``--default`` text or a JSON value; ``schema`` is the new schema (needed to read text
    for a field made required, and to accept table names). A key that names no added or
    newly required field, or a value that does not fit the field, is a ``SourceError``.
    """
    out: list[Change] = []
    used: set[str] = set()
    for change in changes:
        if isinstance(change, _Backfillable) and (
            isinstance(change, AddField) or (change.before and not change.after)
        ):
            matches = _keys(change, schema) & set(values)
            if len(matches) > 1:
                raise ir.SourceError(
                    None,
                    f"--default: {' and '.join(sorted(matches))} name the same field",
                )
            if matches:
                key = matches.pop()
                used.add(key)
                try:
                    backfill = parse_value(_target_field(change, schema), values[key])
                except ValueError as error:
                    raise ir.SourceError(None, f"--default {key}: {error}") from None
                change = replace(change, backfill=backfill)
        out.append(change)
    unused = sorted(set(values) - used)
    if unused:
        wanted = [backfill_key(c) for c in out if isinstance(c, AddField | AlterNullability)]
        raise ir.SourceError(
            None,
            f"--default {unused[0]}: no field is added or made required there in this migration",
            ("fields that take a value: " + ", ".join(wanted)) if wanted else None,
        )
    return out
