"""Value readers and writers that generated payload code calls, one per field kind.

Generated ``from_payload`` functions are straight-line code: for every field they call one
``read_*`` function here with the raw value, its JSON pointer and the shared issue list. A
reader returns the converted value, or appends an ``Issue`` and returns a placeholder of the
right type (the caller raises ``ValidationError`` once all fields are read, so the
placeholder is never used). ``dump_*`` functions give the JSON form back.

Readers accept the JSON form (strings for dates, decimals, UUIDs and base64 bytes) and the
native Python value, so a payload built in Python or read from a database row validates too.

``exact_*`` functions and ``frozen_builder`` serve the generated fast paths, which check
plain payloads inline and build the frozen draft without paying for its ``__init__``: an
``exact_*`` function returns what its reader would for the value's exact JSON form (a
string), and ``None`` for anything else, which then goes to the reader.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar
from uuid import UUID

from ._build import frozen_builder
from .errors import Issue, ValidationError

__all__ = [
    "MISSING",
    "check_keys",
    "dump_bytes",
    "dump_date",
    "dump_datetime",
    "dump_decimal",
    "dump_time",
    "dump_uuid",
    "exact_date",
    "exact_datetime",
    "exact_time",
    "exact_uuid",
    "expect_object",
    "frozen_builder",
    "nest_error",
    "now",
    "now_utc",
    "pointer",
    "read_bool",
    "read_bytes",
    "read_choice",
    "read_date",
    "read_datetime",
    "read_decimal",
    "read_enum",
    "read_float",
    "read_int",
    "read_json",
    "read_list",
    "read_str",
    "read_time",
    "read_uuid",
    "required",
    "rest_of",
]

_E = TypeVar("_E", bound=enum.Enum)
_T = TypeVar("_T")


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING
"""A key that is not in the payload (``data.get(key, MISSING)``)."""

_INT_BOUNDS: Final = {bits: (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) for bits in (8, 16, 32, 64)}


def pointer(*parts: str | int) -> str:
    """Return the JSON pointer of ``parts`` (``"~"`` and ``"/"`` escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _problem(issues: list[Issue], path: str, message: str) -> None:
    issues.append(Issue(path, message))


def _wrong(issues: list[Issue], path: str, expected: str, value: object) -> None:
    """Record a value of the wrong type, or a required one that is missing."""
    if value is MISSING:
        issues.append(Issue(path, "required property is missing"))
    else:
        issues.append(Issue(path, f"expected {expected}, got {_type_name(value)}"))


def expect_object(payload: object, path: str, issues: list[Issue]) -> Mapping[str, Any]:
    """Return ``payload`` as a mapping, or record that it is not a JSON object."""
    if type(payload) is dict:  # the common case, without the ABC check
        return payload
    if isinstance(payload, Mapping):
        return payload
    _problem(issues, path, f"expected an object, got {_type_name(payload)}")
    return {}


def check_keys(
    data: Mapping[str, Any], known: frozenset[str], path: str, issues: list[Issue]
) -> None:
    """Record every key of ``data`` that is not in ``known`` (sorted, for stable messages)."""
    if len(data) and not known.issuperset(data):
        for key in sorted(k for k in data if k not in known):
            _problem(issues, path + pointer(key), "unknown property")


def required(value: object, path: str, issues: list[Issue]) -> bool:
    """Tell whether a required value is present; record it missing otherwise."""
    if value is MISSING:
        _problem(issues, path, "required property is missing")
        return False
    return True


# --------------------------------------------------------------------------- scalars


def read_str(
    value: object,
    path: str,
    issues: list[Issue],
    *,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> str:
    """Read a string, checking length (in characters) and pattern (``re.search``)."""
    if not isinstance(value, str):
        _wrong(issues, path, "a string", value)
        return ""
    if min_length is not None and len(value) < min_length:
        _problem(issues, path, f"expected at least {min_length} characters, got {len(value)}")
    if max_length is not None and len(value) > max_length:
        _problem(issues, path, f"expected at most {max_length} characters, got {len(value)}")
    if pattern is not None and _regex(pattern).search(value) is None:
        _problem(issues, path, f"does not match pattern {pattern!r}")
    return value


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_bounds(
    value: int | float | Decimal,
    path: str,
    issues: list[Issue],
    minimum: float | Decimal | None,
    maximum: float | Decimal | None,
    exclusive_minimum: float | Decimal | None,
    exclusive_maximum: float | Decimal | None,
    multiple_of: float | Decimal | None,
) -> None:
    if minimum is not None and value < minimum:
        _problem(issues, path, f"expected a value >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        _problem(issues, path, f"expected a value <= {maximum}, got {value}")
    if exclusive_minimum is not None and value <= exclusive_minimum:
        _problem(issues, path, f"expected a value > {exclusive_minimum}, got {value}")
    if exclusive_maximum is not None and value >= exclusive_maximum:
        _problem(issues, path, f"expected a value < {exclusive_maximum}, got {value}")
    if multiple_of is not None and not _is_multiple(value, multiple_of):
        _problem(issues, path, f"expected a multiple of {multiple_of}, got {value}")


def _is_multiple(value: int | float | Decimal, step: float | Decimal) -> bool:
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    try:
        quotient = Decimal(str(value)) / Decimal(str(step))
    except InvalidOperation:
        return False
    return quotient == quotient.to_integral_value()


def read_int(
    value: object,
    path: str,
    issues: list[Issue],
    *,
    bits: int = 64,
    minimum: int | None = None,
    maximum: int | None = None,
    exclusive_minimum: int | None = None,
    exclusive_maximum: int | None = None,
    multiple_of: int | None = None,
) -> int:
    """Read a whole number that fits in ``bits`` bits (``1.0`` counts, ``true`` does not)."""
    if (
        type(value) is int
        and minimum is None
        and maximum is None
        and exclusive_minimum is None
        and exclusive_maximum is None
        and multiple_of is None
    ):
        # The common case, decided without the general path's calls.
        low, high = _INT_BOUNDS.get(bits) or (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if low <= value <= high:
            return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        _wrong(issues, path, "an integer", value)
        return 0
    if not isinstance(value, int):
        if not math.isfinite(value) or value != int(value):
            _problem(issues, path, f"expected an integer, got {value}")
            return 0
        value = int(value)
    low, high = _INT_BOUNDS.get(bits, (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))
    if not low <= value <= high:
        _problem(issues, path, f"integer {value} out of range for {bits} bits")
    _check_bounds(
        value, path, issues, minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of
    )
    return value


def read_float(
    value: object,
    path: str,
    issues: list[Issue],
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    exclusive_maximum: float | None = None,
    multiple_of: float | None = None,
) -> float:
    """Read a finite number as a float (integers accepted, booleans not)."""
    if (
        type(value) is float
        and minimum is None
        and maximum is None
        and exclusive_minimum is None
        and exclusive_maximum is None
        and multiple_of is None
        and -math.inf < value < math.inf  # finite (NaN fails both comparisons)
    ):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        _wrong(issues, path, "a number", value)
        return 0.0
    try:
        result = float(value)
    except OverflowError:  # an integer beyond the float range
        result = math.inf
    if not math.isfinite(result):
        _problem(issues, path, f"expected a finite number, got {value}")
        return 0.0
    _check_bounds(
        result, path, issues, minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of
    )
    return result


def read_decimal(
    value: object,
    path: str,
    issues: list[Issue],
    *,
    precision: int | None = None,
    scale: int | None = None,
    minimum: Decimal | int | None = None,
    maximum: Decimal | int | None = None,
    exclusive_minimum: Decimal | int | None = None,
    exclusive_maximum: Decimal | int | None = None,
    multiple_of: Decimal | int | None = None,
) -> Decimal:
    """Read an exact decimal from a string or number, checking precision and scale."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or not isinstance(value, (int, float, str)):
        _wrong(issues, path, "a decimal number", value)
        return Decimal(0)
    else:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            _problem(issues, path, f"expected a decimal number, got {value!r}")
            return Decimal(0)
    if not result.is_finite():
        _problem(issues, path, f"expected a finite decimal number, got {value!r}")
        return Decimal(0)
    if scale is not None or precision is not None:
        exponent = result.as_tuple().exponent
        assert isinstance(exponent, int)
        digits_after = max(0, -exponent)
        if scale is not None and digits_after > scale:
            normalized = result.normalize()
            norm_exp = normalized.as_tuple().exponent
            assert isinstance(norm_exp, int)
            if max(0, -norm_exp) > scale:
                _problem(issues, path, f"expected at most {scale} digits after the point")
        if precision is not None:
            integer_digits = len(str(abs(int(result)))) if abs(result) >= 1 else 0
            allowed = precision - (scale or 0)
            if integer_digits > allowed:
                _problem(issues, path, f"expected at most {allowed} digits before the point")
    _check_bounds(
        result, path, issues, minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of
    )
    return result


def read_bool(value: object, path: str, issues: list[Issue]) -> bool:
    """Read ``true`` or ``false`` (database 0/1 integers too, never strings)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    _wrong(issues, path, "a boolean", value)
    return False


def read_datetime(value: object, path: str, issues: list[Issue], *, tz: bool = False) -> datetime:
    """Read an ISO 8601 date-time; ``tz`` fields need an offset and naive ones may not have one.

    A naive value for a ``tz`` field is an error rather than a guess at its zone; an aware
    value for a naive field is likewise rejected.
    """
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            _problem(issues, path, "expected an ISO 8601 datetime")
            return datetime.min
    else:
        _wrong(issues, path, "an ISO 8601 datetime", value)
        return datetime.min
    if tz and result.tzinfo is None:
        _problem(issues, path, "expected a datetime with a time zone offset")
    elif not tz and result.tzinfo is not None:
        _problem(issues, path, "expected a datetime without a time zone offset")
    return result


def exact_datetime(value: object, *, tz: bool = False) -> datetime | None:
    """Return ``read_datetime``'s value for a string it accepts, else ``None``."""
    if type(value) is str:
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            return None
        if (result.tzinfo is not None) is tz:
            return result
    return None


def read_date(value: object, path: str, issues: list[Issue]) -> date:
    """Read an ISO 8601 calendar date (``YYYY-MM-DD``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    _wrong(issues, path, "an ISO 8601 date", value)
    return date.min


def exact_date(value: object) -> date | None:
    """Return ``read_date``'s value for a string it accepts, else ``None``."""
    if type(value) is str:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return None


def read_time(value: object, path: str, issues: list[Issue]) -> time:
    """Read an ISO 8601 time of day."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    _wrong(issues, path, "an ISO 8601 time", value)
    return time.min


def exact_time(value: object) -> time | None:
    """Return ``read_time``'s value for a string it accepts, else ``None``."""
    if type(value) is str:
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    return None


def read_uuid(value: object, path: str, issues: list[Issue]) -> UUID:
    """Read a UUID from its canonical (or any hex) string form."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    _wrong(issues, path, "a UUID", value)
    return UUID(int=0)


def exact_uuid(value: object) -> UUID | None:
    """Return ``read_uuid``'s value for a string it accepts, else ``None``."""
    if type(value) is str:
        try:
            return UUID(value)
        except ValueError:
            pass
    return None


def read_bytes(value: object, path: str, issues: list[Issue]) -> bytes:
    """Read binary data given as base64 text (or as bytes)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    _wrong(issues, path, "base64-encoded bytes", value)
    return b""


def read_enum(value: object, path: str, issues: list[Issue], enum_type: type[_E]) -> _E:
    """Read one of an enum's values (the value, not the member name)."""
    if isinstance(value, enum_type):
        return value
    if not isinstance(value, bool):
        try:
            return enum_type(value)
        except (ValueError, TypeError):
            pass
    if value is MISSING:
        _wrong(issues, path, "", value)
        return next(iter(enum_type))
    allowed = ", ".join(repr(m.value) for m in enum_type)
    _problem(issues, path, f"expected one of {allowed}, got {value!r}")
    return next(iter(enum_type))


def read_list(
    value: object,
    path: str,
    issues: list[Issue],
    item: Callable[[object, str, list[Issue]], _T],
    *,
    min_items: int | None = None,
    max_items: int | None = None,
    unique_items: bool = False,
) -> list[_T]:
    """Read an array, reading each item with ``item`` at its own pointer."""
    if not isinstance(value, (list, tuple)):
        _wrong(issues, path, "an array", value)
        return []
    if min_items is not None and len(value) < min_items:
        _problem(issues, path, f"expected at least {min_items} items, got {len(value)}")
    if max_items is not None and len(value) > max_items:
        _problem(issues, path, f"expected at most {max_items} items, got {len(value)}")
    result = [item(v, f"{path}/{i}", issues) for i, v in enumerate(value)]
    if unique_items and len({_freeze(v) for v in result}) != len(result):
        _problem(issues, path, "expected unique items")
    return result


def _freeze(value: object) -> object:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def read_json(
    value: object, path: str, issues: list[Issue], schema: Mapping[str, Any] | None = None
) -> Any:
    """Read any JSON value, validating it against ``schema`` (a JSON Schema) when given."""
    if value is MISSING:
        _wrong(issues, path, "", value)
        return None
    if schema:
        from .jsonschema import validate_json

        validate_json(value, schema, path, issues)
    return value


# --------------------------------------------------------------------------- writers


def dump_datetime(value: datetime) -> str:
    """Return the ISO 8601 text of a datetime."""
    return value.isoformat()


def dump_date(value: date) -> str:
    """Return the ISO 8601 text of a date."""
    return value.isoformat()


def dump_time(value: time) -> str:
    """Return the ISO 8601 text of a time."""
    return value.isoformat()


def dump_decimal(value: Decimal) -> str:
    """Return a decimal as exact text (never a float)."""
    return str(value)


def dump_uuid(value: UUID) -> str:
    """Return the canonical text of a UUID."""
    return str(value)


def dump_bytes(value: bytes) -> str:
    """Return bytes as base64 text."""
    return base64.b64encode(value).decode("ascii")


def now() -> datetime:
    """Return the current local time without a zone (for naive ``now`` defaults)."""
    return datetime.now()


def now_utc() -> datetime:
    """Return the current time in UTC (for zone-aware ``now`` defaults)."""
    return datetime.now(UTC)


def nest_error(error: ValidationError, prefix: str, entity: str | None) -> ValidationError:
    """Return ``error`` with every issue's pointer placed under ``prefix``."""
    return ValidationError(
        (Issue(prefix + issue.path, issue.message) for issue in error.issues), entity=entity
    )


def read_choice(value: object, path: str, issues: list[Issue], choices: tuple[Any, ...]) -> Any:
    """Read one of ``choices`` (a ``Literal[...]`` field); the caller's annotation types it."""
    if value is MISSING:
        _wrong(issues, path, "", value)
        return choices[0]
    if isinstance(value, bool) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        _problem(issues, path, f"expected one of {allowed}, got {value!r}")
        return choices[0]
    return value


def rest_of(data: Mapping[str, Any], named: frozenset[str]) -> dict[str, Any]:
    """Return the members of ``data`` that are not among the ``named`` properties."""
    return {key: value for key, value in data.items() if key not in named}
