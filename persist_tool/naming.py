"""Turn source names (columns, tables, JSON properties) into safe, readable Python names.

Pure functions, no imports of the package: readers and emitters both use them, so the same
source name always becomes the same Python name.
"""

from __future__ import annotations

import builtins
import functools
import keyword
import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "RESERVED_FIELD_NAMES",
    "assign_unique",
    "class_name",
    "constant_name",
    "pascal_case",
    "singular",
    "snake_case",
    "safe_identifier",
]

RESERVED_FIELD_NAMES: frozenset[str] = frozenset(
    set(keyword.kwlist)
    | {
        # Names generated modules use in annotations inside class bodies: a field with
        # one of these names would shadow the type for the annotations after it.
        "str",
        "int",
        "float",
        "bool",
        "bytes",
        "list",
        "dict",
        "object",
        "date",
        "datetime",
        "time",
        "field",
        # Names the generated classes define or need themselves.
        "to_payload",
        "from_payload",
        "is_empty",
        "self",
        "_",
    }
)
"""Python names a field may not take verbatim; they get a trailing underscore."""

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def _ascii_words(text: str) -> list[str]:
    """Split ``text`` into ASCII words, transliterating accents and dropping the rest."""
    normal = unicodedata.normalize("NFKD", text)
    ascii_text = normal.encode("ascii", "ignore").decode("ascii")
    words: list[str] = []
    for chunk in _NON_WORD.split(ascii_text):
        if chunk:
            words.extend(w for w in _CAMEL_BOUNDARY.split(chunk) if w)
    return words


# Names repeat across a schema's entities (id, name, created_at): each is worked out once.
@functools.lru_cache(maxsize=4096)
def snake_case(text: str) -> str:
    """Return ``text`` as lower snake case (``InvoiceLineId`` -> ``invoice_line_id``).

    Returns ``""`` when nothing of ``text`` survives (for example an all-symbol name).
    """
    return "_".join(w.lower() for w in _ascii_words(text))


@functools.lru_cache(maxsize=4096)
def pascal_case(text: str) -> str:
    """Return ``text`` as PascalCase (``order_lines`` -> ``OrderLines``)."""
    return "".join(w[:1].upper() + w[1:] for w in _ascii_words(text))


def constant_name(text: str) -> str:
    """Return ``text`` as UPPER_SNAKE_CASE, safe as a Python identifier."""
    name = snake_case(text).upper() or "VALUE"
    if name[0].isdigit():
        name = "V_" + name
    return name


_IRREGULAR_SINGULARS = {
    "people": "person",
    "children": "child",
    "men": "man",
    "women": "woman",
    "data": "data",
    "media": "media",
    "series": "series",
    "news": "news",
    "status": "status",
    "address": "address",
}


def singular(word: str) -> str:
    """Return a singular form of an English plural noun (``categories`` -> ``category``)."""
    lower = word.lower()
    if lower in _IRREGULAR_SINGULARS:
        return word[: len(word) - len(lower)] + _keep_case(word, _IRREGULAR_SINGULARS[lower])
    for suffix, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("shes", "sh"),
        ("ches", "ch"),
        ("xes", "x"),
        ("zes", "z"),
        ("uses", "us"),
    ):
        if lower.endswith(suffix) and len(lower) > len(suffix) + 1:
            return word[: -len(suffix)] + _keep_case(word[-len(suffix) :], replacement)
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")) and len(lower) > 3:
        return word[:-1]
    return word


def _keep_case(original: str, replacement: str) -> str:
    return replacement.upper() if original.isupper() else replacement


def class_name(table: str) -> str:
    """Return the entity class name for a table: singular PascalCase.

    ``order_lines`` -> ``OrderLine``.
    """
    words = _ascii_words(table)
    if not words:
        return "Entity"
    words[-1] = singular(words[-1])
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if name[0].isdigit():
        name = "T" + name
    if keyword.iskeyword(name) or name in RESERVED_FIELD_NAMES:
        name += "_"
    return name


def safe_identifier(text: str) -> str:
    """Return a Python identifier for a source name: snake case, never a reserved word.

    Leading underscores are dropped (``__class__`` -> ``class_``) so that no generated
    attribute is private or a dunder; names starting with a digit get an ``f_`` prefix.
    """
    name = snake_case(text)
    if not name:
        name = "field"
    if name[0].isdigit():
        name = "f_" + name
    if name in RESERVED_FIELD_NAMES:
        name += "_"
    return name


def assign_unique(sources: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Give each source name its own Python identifier, deterministically.

    Names are assigned in order. When two source names normalise to the same identifier
    (``Name`` and ``name``), the one that already *is* that identifier keeps it; the others
    fall back to their own spelling (``Name``) when that is a free identifier, and
    otherwise get trailing underscores until free. No numeric suffixes: the result stays
    recognisable from the source.
    """
    source_list = list(sources)
    used = set(taken)
    result: dict[str, str] = {}
    wanted = {s: safe_identifier(s) for s in source_list}
    # Exact matches win their name first, whatever their position.
    for s in source_list:
        if wanted[s] == s and s not in used:
            result[s] = s
            used.add(s)
    for s in source_list:
        if s in result:
            continue
        candidate = wanted[s]
        if candidate in used:
            own = _own_spelling(s)
            if own is not None and own not in used:
                candidate = own
        while candidate in used:
            candidate += "_"
        result[s] = candidate
        used.add(candidate)
    return {s: result[s] for s in source_list}


def _own_spelling(text: str) -> str | None:
    """Return ``text`` itself when it is a usable identifier that is not reserved."""
    if (
        text.isidentifier()
        and text.isascii()
        and not text.startswith("_")
        and not keyword.iskeyword(text)
        and text not in RESERVED_FIELD_NAMES
        and not hasattr(builtins, text)
    ):
        return text
    return None
