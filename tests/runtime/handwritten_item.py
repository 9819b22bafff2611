"""A second hand-written entity module (DESIGN §5 contract) covering what ``Counter`` does not.

``Item`` has a composite key given by the client (``sku``, ``region``) and one field of
nearly every kind: UUID, decimal with scale, enum, JSON, boolean, nullable date, bytes and
a time zone-less datetime — so the codecs of every dialect are exercised.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, ClassVar, Final
from uuid import UUID

from persist_runtime import (
    UNSET,
    CommandSpec,
    EntitySpec,
    FieldSpec,
    Issue,
    Unset,
    ValidationError,
)

SCHEMA_VERSION: Final = 1
FINGERPRINT: Final = "handwritten-item-v1"

_FIELDS: Final = (
    "sku",
    "region",
    "ref",
    "price",
    "status",
    "tags",
    "active",
    "due",
    "photo",
    "seen_at",
)


class ItemStatus(enum.StrEnum):
    """Lifecycle of an item."""

    ACTIVE = "active"
    RETIRED = "retired"


def _fail(issues: list[Issue], path: str, message: str) -> None:
    issues.append(Issue(path, message))


def _read(data: Mapping[str, Any], name: str, issues: list[Issue], required: bool) -> Any:
    """Read field ``name`` from its JSON (or Python) form, recording problems."""
    path = f"/{name}"
    if name not in data:
        if required:
            _fail(issues, path, "required property is missing")
        return None
    value = data[name]
    if name in ("sku", "region"):
        if not isinstance(value, str) or not value:
            _fail(issues, path, "expected a non-empty string")
        return value
    if name == "ref":
        try:
            return value if isinstance(value, UUID) else UUID(str(value))
        except ValueError:
            _fail(issues, path, "expected a UUID")
            return None
    if name == "price":
        if isinstance(value, bool):
            _fail(issues, path, "expected a decimal")
            return None
        try:
            return value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            _fail(issues, path, "expected a decimal")
            return None
    if name == "status":
        try:
            return ItemStatus(value)
        except ValueError:
            _fail(issues, path, "expected one of 'active', 'retired'")
            return None
    if name == "tags":
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            _fail(issues, path, "expected an array of strings")
        return value
    if name == "active":
        if not isinstance(value, bool):
            _fail(issues, path, "expected a boolean")
        return value
    if name == "due":
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            _fail(issues, path, "expected an ISO 8601 date")
            return None
    if name == "photo":
        if value is None or isinstance(value, bytes):
            return value
        try:
            return base64.b64decode(str(value), validate=True)
        except ValueError:
            _fail(issues, path, "expected base64")
            return None
    if name == "seen_at":
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            _fail(issues, path, "expected an ISO 8601 datetime")
            return None
    raise AssertionError(name)


def _dump(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in ("ref", "price"):
        return str(value)
    if name == "status":
        return value.value
    if name == "tags":
        return list(value)
    if name in ("due", "seen_at"):
        return value.isoformat()
    if name == "photo":
        return base64.b64encode(value).decode("ascii")
    return value


def _unknown(data: object, known: Sequence[str], issues: list[Issue]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        _fail(issues, "", "expected an object")
        return {}
    for key in sorted(k for k in data if k not in known):
        _fail(issues, f"/{key}", "unknown property")
    return data


@dataclass(slots=True, kw_only=True)
class Item:
    """A sellable item in one region."""

    sku: str
    region: str
    ref: UUID
    price: Decimal
    status: ItemStatus
    tags: list[Any]
    active: bool
    due: date | None
    photo: bytes | None
    seen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemDraft:
    """Everything creating an ``Item`` takes (no field is generated)."""

    sku: str
    region: str
    ref: UUID
    price: Decimal
    status: ItemStatus
    tags: list[Any]
    active: bool
    seen_at: datetime
    due: date | None = None
    photo: bytes | None = None

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {name: _dump(name, getattr(self, name)) for name in _FIELDS}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> ItemDraft:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _unknown(payload, _FIELDS, issues)
        values = {n: _read(data, n, issues, n not in ("due", "photo")) for n in _FIELDS}
        if issues:
            raise ValidationError(issues, entity="Item")
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemPatch:
    """A partial update of an ``Item`` (keys are immutable)."""

    ref: UUID | Unset = UNSET
    price: Decimal | Unset = UNSET
    status: ItemStatus | Unset = UNSET
    tags: list[Any] | Unset = UNSET
    active: bool | Unset = UNSET
    due: date | Unset | None = UNSET
    photo: bytes | Unset | None = UNSET
    seen_at: datetime | Unset = UNSET

    def is_empty(self) -> bool:
        """Tell whether no field is set."""
        return all(getattr(self, n) is UNSET for n in _FIELDS[2:])

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form (set fields only)."""
        return {n: _dump(n, getattr(self, n)) for n in _FIELDS[2:] if getattr(self, n) is not UNSET}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> ItemPatch:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _unknown(payload, _FIELDS[2:], issues)
        values = {n: _read(data, n, issues, False) for n in _FIELDS[2:] if n in data}
        if issues:
            raise ValidationError(issues, entity="Item")
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemSetPrice:
    """Set ``price``."""

    name: ClassVar[str] = "SetPrice"
    payload_version: ClassVar[int] = 1
    value: Decimal

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"value": str(self.value)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> ItemSetPrice:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _unknown(payload, ("value",), issues)
        value = _read({"price": data["value"]} if "value" in data else {}, "price", issues, True)
        if issues:
            raise ValidationError(
                [Issue(i.path.replace("/price", "/value"), i.message) for i in issues],
                entity="Item",
            )
        return cls(value=value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemTouch:
    """Change nothing but the version."""

    name: ClassVar[str] = "Touch"
    payload_version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> ItemTouch:
        """Validate and read a payload."""
        issues: list[Issue] = []
        _unknown(payload, (), issues)
        if issues:
            raise ValidationError(issues, entity="Item")
        return cls()


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemRetire:
    """Retire the item: status ``retired``, inactive."""

    name: ClassVar[str] = "Retire"
    payload_version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> ItemRetire:
        """Validate and read a payload."""
        issues: list[Issue] = []
        _unknown(payload, (), issues)
        if issues:
            raise ValidationError(issues, entity="Item")
        return cls()


ItemCommand = ItemSetPrice | ItemTouch | ItemRetire
_COMMANDS: Final[dict[str, type[Any]]] = {
    "SetPrice": ItemSetPrice,
    "Touch": ItemTouch,
    "Retire": ItemRetire,
}
_EMPTY: Final = {"type": "object", "additionalProperties": False}
ITEM_COMMANDS: Final[tuple[CommandSpec, ...]] = (
    CommandSpec(
        "SetPrice",
        ItemSetPrice,
        1,
        {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {"type": "string"}},
            "additionalProperties": False,
        },
    ),
    CommandSpec("Touch", ItemTouch, 1, _EMPTY),
    CommandSpec("Retire", ItemRetire, 1, _EMPTY, doc="Retire the item."),
)


def create_item(draft: ItemDraft) -> Item:
    """Build an ``Item`` from its draft."""
    return Item(**{n: getattr(draft, n) for n in _FIELDS})


def apply_patch(item: Item, patch: ItemPatch) -> frozenset[str]:
    """Apply ``patch``; return the changed fields."""
    changed = set()
    for n in _FIELDS[2:]:
        value = getattr(patch, n)
        if value is not UNSET and value != getattr(item, n):
            setattr(item, n, value)
            changed.add(n)
    return frozenset(changed)


def apply_command(item: Item, command: ItemCommand) -> frozenset[str]:
    """Apply ``command``; return the changed fields."""
    if isinstance(command, ItemSetPrice):
        if command.value == item.price:
            return frozenset()
        item.price = command.value
        return frozenset({"price"})
    if isinstance(command, ItemTouch):
        return frozenset()
    changed = set()
    if item.status is not ItemStatus.RETIRED:
        item.status = ItemStatus.RETIRED
        changed.add("status")
    if item.active:
        item.active = False
        changed.add("active")
    return frozenset(changed)


def parse_item_command(envelope: Mapping[str, object]) -> ItemCommand:
    """Read ``{"command", "payload", "payload_version"}``."""
    name = envelope.get("command")
    cls = _COMMANDS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValidationError([Issue("/command", f"unknown command {name!r}")], entity="Item")
    try:
        command: ItemCommand = cls.from_payload(envelope.get("payload", {}))
    except ValidationError as error:
        raise ValidationError(
            [Issue("/payload" + i.path, i.message) for i in error.issues], entity="Item"
        ) from None
    return command


def item_to_record(item: Item) -> dict[str, Any]:
    """Return the JSON form of every field."""
    return {n: _dump(n, getattr(item, n)) for n in _FIELDS}


def item_from_record(payload: object) -> Item:
    """Validate and read the JSON form of every field."""
    issues: list[Issue] = []
    data = _unknown(payload, _FIELDS, issues)
    values = {n: _read(data, n, issues, n not in ("due", "photo")) for n in _FIELDS}
    if issues:
        raise ValidationError(issues, entity="Item")
    return Item(**values)


def _to_values(item: Item) -> tuple[Any, ...]:
    return (
        item.sku,
        item.region,
        item.ref,
        item.price,
        item.status,
        item.tags,
        item.active,
        item.due,
        item.photo,
        item.seen_at,
    )


def _from_values(values: Sequence[Any]) -> Item:
    return Item(
        sku=values[0],
        region=values[1],
        ref=values[2],
        price=values[3],
        status=values[4],
        tags=values[5],
        active=values[6],
        due=values[7],
        photo=values[8],
        seen_at=values[9],
    )


def _draft_values(draft: ItemDraft) -> tuple[Any, ...]:
    return (
        draft.sku,
        draft.region,
        draft.ref,
        draft.price,
        draft.status,
        draft.tags,
        draft.active,
        draft.due,
        draft.photo,
        draft.seen_at,
    )


def _from_draft(draft: ItemDraft, generated: Mapping[str, Any]) -> Item:
    return create_item(draft)


def _types(sqlite: str, postgres: str, mysql: str) -> Mapping[str, str]:
    return {"sqlite": sqlite, "postgres": postgres, "mysql": mysql}


ITEM_SPEC: Final = EntitySpec(
    name="Item",
    table="items",
    schema_version=SCHEMA_VERSION,
    fields=(
        FieldSpec(
            "sku",
            "sku",
            "string",
            _types("TEXT", "VARCHAR(40)", "VARCHAR(40)"),
            immutable=True,
            primary_key=True,
        ),
        FieldSpec(
            "region",
            "region",
            "string",
            _types("TEXT", "VARCHAR(10)", "VARCHAR(10)"),
            immutable=True,
            primary_key=True,
        ),
        FieldSpec("ref", "ref", "uuid", _types("TEXT", "UUID", "CHAR(36)")),
        FieldSpec(
            "price",
            "price",
            "decimal",
            _types("NUMERIC(10,2)", "NUMERIC(10,2)", "DECIMAL(10,2)"),
        ),
        FieldSpec("status", "status", "enum", _types("TEXT", "VARCHAR(10)", "VARCHAR(10)")),
        FieldSpec("tags", "tags", "json", _types("TEXT", "JSONB", "JSON")),
        FieldSpec("active", "active", "boolean", _types("INTEGER", "BOOLEAN", "TINYINT(1)")),
        FieldSpec("due", "due", "date", _types("TEXT", "DATE", "DATE"), nullable=True),
        FieldSpec("photo", "photo", "bytes", _types("BLOB", "BYTEA", "BLOB"), nullable=True),
        FieldSpec("seen_at", "seen_at", "datetime", _types("TEXT", "TIMESTAMP", "DATETIME(6)")),
    ),
    primary_key=("sku", "region"),
    unique=(("ref",),),
    indexes=(),
    ddl=MappingProxyType(
        {
            "sqlite": (
                "CREATE TABLE items (sku TEXT NOT NULL, region TEXT NOT NULL, ref TEXT NOT NULL"
                " UNIQUE, price NUMERIC(10,2) NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL,"
                " active INTEGER NOT NULL, due TEXT, photo BLOB, seen_at TEXT NOT NULL,"
                " PRIMARY KEY (sku, region))",
            ),
            "postgres": (
                "CREATE TABLE items (sku VARCHAR(40) NOT NULL, region VARCHAR(10) NOT NULL,"
                " ref UUID NOT NULL UNIQUE, price NUMERIC(10,2) NOT NULL,"
                " status VARCHAR(10) NOT NULL, tags JSONB NOT NULL, active BOOLEAN NOT NULL,"
                " due DATE, photo BYTEA, seen_at TIMESTAMP NOT NULL, PRIMARY KEY (sku, region))",
            ),
            "mysql": (
                "CREATE TABLE items (sku VARCHAR(40) NOT NULL, region VARCHAR(10) NOT NULL,"
                " ref CHAR(36) NOT NULL UNIQUE, price DECIMAL(10,2) NOT NULL,"
                " status VARCHAR(10) NOT NULL, tags JSON NOT NULL, active TINYINT(1) NOT NULL,"
                " due DATE, photo BLOB, seen_at DATETIME(6) NOT NULL,"
                " PRIMARY KEY (sku, region))",
            ),
        }
    ),
    fingerprint=FINGERPRINT,
    entity_type=Item,
    draft_type=ItemDraft,
    patch_type=ItemPatch,
    commands=ITEM_COMMANDS,
    draft_fields=_FIELDS,
    from_draft=_from_draft,
    draft_values=_draft_values,
    to_values=_to_values,
    from_values=_from_values,
    to_record=item_to_record,
    from_record=item_from_record,
    apply_patch=apply_patch,
    apply_command=apply_command,
    parse_command=parse_item_command,
    doc="A sellable item in one region.",
)
