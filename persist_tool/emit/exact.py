"""Inline checks for the fast path of ``Draft.from_payload``, one entry per field type.

Most payloads are dicts whose values already have their exact JSON types. The generated
fast path (see ``blocks.draft_class``) tests such values inline, ``type(x) is str`` and the
field's constraints, or parses their string form with the runtime's ``exact_*`` functions,
instead of calling a ``persist_runtime.payload`` reader per field, and hands everything
else to the readers. The checks here therefore mirror the readers: each
one must reject every value its reader reports an issue for, and what it lets through must
read to the value the reader would return. It may reject more (a float field given ``1``, a
datetime given as a ``datetime``): the readers then decide, at the readers' cost.

A type or constraint without an entry here (decimals, enums, bytes, JSON, arrays, string
patterns, multiples of a float) leaves the whole draft to the readers. ``fast_path`` writes
the module-level part: the draft builder, the key set and the function itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from persist_tool import ir
from persist_tool.emit.pycode import (
    LINE_LENGTH,
    assign,
    call,
    def_line,
    docstring,
    if_all,
    join_lines,
    py_literal,
    py_str,
)

__all__ = [
    "Check",
    "FastField",
    "check",
    "fast_path",
    "from_payload_head",
    "function_name",
    "imports",
]


@dataclass(frozen=True, slots=True)
class Check:
    """How the fast path reads one value: inline tests, or a runtime ``exact_*`` parser."""

    reject: tuple[str, ...] = ()
    """Conditions on the value, any of which sends the payload to the readers."""
    parse: str | None = None
    """A function returning the value parsed from its string form, or ``None`` to reject."""
    parse_args: tuple[str, ...] = ()
    """Arguments of ``parse`` after the value."""


def _literal(value: int | float) -> str | None:
    """Return a bound as source text, or ``None`` for one the fast path leaves alone."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return repr(value)


def _bounds(v: str, c: ir.Constraints) -> list[str] | None:
    """Return the readers' bound violations of ``v`` (``_check_bounds``), ``multiple_of`` aside."""
    out: list[str] = []
    for bound, op in (
        (c.minimum, "<"),
        (c.maximum, ">"),
        (c.exclusive_minimum, "<="),
        (c.exclusive_maximum, ">="),
    ):
        if bound is None:
            continue
        text = _literal(bound)
        if text is None:
            return None
        out.append(f"{v} {op} {text}")
    return out


def _string(t: ir.FieldType, c: ir.Constraints, v: str) -> Check | None:
    if c.pattern is not None:
        return None
    reject = [f"type({v}) is not str"]
    if c.min_length is not None:
        reject.append(f"len({v}) < {c.min_length}")
    if c.max_length is not None:
        reject.append(f"len({v}) > {c.max_length}")
    return Check(tuple(reject))


def _integer(t: ir.FieldType, c: ir.Constraints, v: str) -> Check | None:
    assert isinstance(t, ir.IntegerType)
    bounds = _bounds(v, c)
    step = c.multiple_of
    # A whole step is tested with % as the reader does; others go through Decimal there.
    if bounds is None or (step is not None and (type(step) is not int or step == 0)):
        return None
    half = f"2**{t.bits - 1}"
    reject = [f"type({v}) is not int", f"not -({half}) <= {v} < {half}", *bounds]
    if step is not None:
        reject.append(f"{v} % {step} != 0")
    return Check(tuple(reject))


def _float(t: ir.FieldType, c: ir.Constraints, v: str) -> Check | None:
    bounds = _bounds(v, c)
    if bounds is None or c.multiple_of is not None:
        return None
    return Check((f"type({v}) is not float", f"not math.isfinite({v})", *bounds))


def _boolean(t: ir.FieldType, c: ir.Constraints, v: str) -> Check | None:
    return Check((f"type({v}) is not bool",))


def _datetime(t: ir.FieldType, c: ir.Constraints, v: str) -> Check | None:
    assert isinstance(t, ir.DateTimeType)
    return Check(parse="_p.exact_datetime", parse_args=("tz=True",) if t.tz else ())


def _parsed(function: str) -> Callable[[ir.FieldType, ir.Constraints, str], Check | None]:
    """Return the check of a type the runtime's ``function`` parses from its string form."""

    def make(t: ir.FieldType, c: ir.Constraints, v: str) -> Check | None:
        return Check(parse=function)

    return make


_CHECKS: dict[type[ir.FieldType], Callable[[ir.FieldType, ir.Constraints, str], Check | None]] = {
    ir.StringType: _string,
    ir.IntegerType: _integer,
    ir.FloatType: _float,
    ir.BooleanType: _boolean,
    ir.DateTimeType: _datetime,
    ir.DateType: _parsed("_p.exact_date"),
    ir.TimeType: _parsed("_p.exact_time"),
    ir.UuidType: _parsed("_p.exact_uuid"),
}


def check(f: ir.Field, v: str) -> Check | None:
    """Return the fast path's check of field ``f``'s value in local ``v``, if it has one."""
    make = _CHECKS.get(type(f.type))
    return None if make is None else make(f.type, f.constraints, v)


def _reject_if(conditions: Sequence[str], level: int) -> list[str]:
    """Return ``if a or b: return None``, laid out as black does when the line is long."""
    pad = "    " * level
    joined = " or ".join(conditions)
    head = f"{pad}if {joined}:"
    if len(head) > LINE_LENGTH:
        inner = pad + "    "
        if len(inner) + len(joined) <= LINE_LENGTH:
            head = f"{pad}if (\n{inner}{joined}\n{pad}):"
        else:
            body = f"\n{inner}or ".join(conditions)
            head = f"{pad}if (\n{inner}{body}\n{pad}):"
    return [head, f"{pad}    return None"]


def _read_lines(c: Check, v: str, raw: str, level: int) -> list[str]:
    """Return statements setting local ``v`` from ``raw`` that return ``None`` on a miss."""
    pad = "    " * level
    if c.parse is None:
        return [f"{pad}{v} = {raw}", *_reject_if(c.reject, level)]
    return [
        call(f"{v} = {c.parse}", [raw, *c.parse_args], level),
        *_reject_if([f"{v} is None"], level),
    ]


@dataclass(frozen=True, slots=True)
class FastField:
    """One draft field as the fast path reads it."""

    key: str
    """Its key in payloads."""
    local: str
    """The local variable holding its value."""
    attr: str
    """The draft's attribute."""
    required: bool
    nullable: bool
    initial: str
    """The value an absent optional field takes (an expression)."""
    check: Check


def imports(fields: Sequence[FastField]) -> set[tuple[str, str]]:
    """Return the imports the fast path's checks need beyond the fields' own types."""
    if any("math." in condition for f in fields for condition in f.check.reject):
        return {("math", "")}
    return set()


def function_name(var: str) -> str:
    """Return the name of the fast path of the draft of the entity whose variables are ``var``."""
    return f"_{var}_draft_from_exact"


def from_payload_head(cls: str, var: str) -> list[str]:
    """Return the first lines of draft ``cls``'s ``from_payload`` body: try the fast path."""
    function = function_name(var)
    return [
        "        # Plain dicts try the fast path first (it builds this class, not subclasses).",
        f"        if cls is {cls} and type(payload) is dict:",
        f"            exact = {function}(payload)",
        "            if exact is not None:",
        "                return exact",
    ]


def fast_path(cls: str, var: str, const: str, fields: Sequence[FastField]) -> str:
    """Return the module-level part of draft ``cls``'s fast path: constants and function.

    ``var`` and ``const`` are the entity's names for variables and constants. The function
    takes the branches of the readers' ``from_payload`` field by field, with the field's
    check where they call a reader.
    """
    function, build, keys = function_name(var), f"_new_{var}_draft", f"_{const}_DRAFT_KEYS"
    lines = [f"    if not {keys}.issuperset(data):", "        return None"]
    for f in fields:
        key = py_str(f.key)
        if f.required:
            lines += _read_lines(f.check, f.local, f"data.get({key})", 1)
            continue
        # The payload's branch comes first: its assignment gives the variable its type.
        if f.nullable and f.initial == "None":
            lines.append(f"    if data.get({key}) is not None:")
        elif f.nullable:
            lines.append(if_all([f"{key} in data", f"data[{key}] is not None"], 1))
        else:
            lines.append(f"    if {key} in data:")
        lines += _read_lines(f.check, f.local, f"data[{key}]", 2)
        if f.nullable and f.initial != "None":
            lines += [f"    elif {key} in data:", f"        {f.local} = None"]
        lines += ["    else:", assign(f.local, f.initial, 2)]
    lines.append(call(f"return {build}", [f"{f.attr}={f.local}" for f in fields], 1))
    known = sorted(f.key for f in fields)
    key_set = f"{keys}: Final = frozenset({py_literal(known)})"
    if len(key_set) > LINE_LENGTH:
        key_set = f"{keys}: Final = frozenset(\n    {py_literal(known, 1)}\n)"
    constants = join_lines(
        "# Drafts read from plain payloads are built without the frozen dataclass's __init__,",
        "# which sets every field through object.__setattr__ and costs as much as the checks.",
        assign(f"{build}: Final", f"_p.frozen_builder({cls})", 0),
        key_set,
    )
    text = join_lines(
        def_line(function, ["data: dict[str, Any]"], f"{cls} | None"),
        docstring(
            "Read a plain payload inline; ``None`` leaves it to the readers.\n\n"
            f"``{cls}.from_payload`` tries this first: most payloads are dicts of values "
            "that already have their exact JSON types, and checking those here costs a "
            "fraction of the readers' calls. Anything else (a missing or unknown key, another "
            "type, a value out of bounds or malformed) returns ``None``, and the readers "
            "report every issue. Nothing they reject is accepted here, and what is accepted "
            "reads to the value they would give.",
            1,
        ),
        *lines,
    )
    return f"{constants}\n\n\n{text}"
