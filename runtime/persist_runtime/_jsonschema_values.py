"""JSON value helpers shared by the validator's keyword checks."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Final

__all__ = [
    "TYPE_TESTS",
    "escape",
    "is_array",
    "is_integer",
    "is_multiple",
    "is_number",
    "is_object",
    "is_str",
    "json_equal",
    "prop_path",
    "show",
    "type_name",
]


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def is_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return False


TYPE_TESTS: Final[dict[str, Callable[[object], bool]]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": is_integer,
    "number": is_number,
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, (list, tuple)),
    "object": lambda v: isinstance(v, Mapping),
}


def type_name(value: object) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if TYPE_TESTS[name](value):
            return name
    return type(value).__name__


def json_equal(a: object, b: object) -> bool:
    """Compare as JSON does: ``1 == 1.0`` but ``True != 1``; lists and objects deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def is_multiple(value: int | float | Decimal, step: int | float | Decimal) -> bool:
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    try:
        quotient = Decimal(str(value)) / Decimal(str(step))
    except (InvalidOperation, ArithmeticError):
        return False
    return quotient == quotient.to_integral_value()


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_array(value: object) -> bool:
    return isinstance(value, (list, tuple))


def is_str(value: object) -> bool:
    return isinstance(value, str)


def is_object(value: object) -> bool:
    return isinstance(value, Mapping)


def prop_path(path: str, key: str) -> str:
    return f"{path}/{escape(key)}"
