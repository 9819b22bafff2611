"""Format checks for the JSON Schema validator (``date``, ``date-time``, ``time``, ``uuid``, ...).

Each check takes a string and tells whether it is in the format. Formats without a check
here are annotations only (as JSON Schema 2019-09 and later specify by default).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

__all__ = ["FORMAT_CHECKS"]

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))", re.ASCII)
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII
)
# Loose on purpose: one "@", something on each side, no whitespace. Full RFC 5322 parsing
# rejects addresses that mail servers accept.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _is_date(text: str) -> bool:
    match = _DATE.fullmatch(text)
    if match is None:
        return False
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _is_time(text: str) -> bool:
    """Tell whether ``text`` is an RFC 3339 ``full-time`` (the offset is required)."""
    match = _TIME.fullmatch(text)
    if match is None:
        return False
    hour, minute, second = int(match[1]), int(match[2]), int(match[3])
    if hour > 23 or minute > 59 or second > 60:  # 60: leap second
        return False
    return match[4] is None or (int(match[4]) <= 23 and int(match[5]) <= 59)


def _is_date_time(text: str) -> bool:
    if len(text) < 11 or text[10] not in "Tt ":
        return False
    if not (_is_date(text[:10]) and _is_time(text[11:])):
        return False
    try:  # a final check that the combination exists (Python rejects second 60)
        datetime.fromisoformat(text.replace("z", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        return ":60" in text[11:19]
    return True


def _is_uuid(text: str) -> bool:
    return _UUID.fullmatch(text) is not None


def _is_email(text: str) -> bool:
    return _EMAIL.fullmatch(text) is not None


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "date": _is_date,
    "date-time": _is_date_time,
    "time": _is_time,
    "uuid": _is_uuid,
    "email": _is_email,
    "idn-email": _is_email,
}
"""Format name -> check; other formats are not checked."""
