"""A hand-written entity module following the generated-module contract (DESIGN §5).

``Counter`` has a database-generated integer key, so it exercises ``RETURNING`` /
``lastrowid``; its user command ``Increment(by)`` drives the concurrency tests. The module is
written the way the emitter writes modules: straight-line code, no reflection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Final

from persist_runtime import (
    UNSET,
    CommandSpec,
    EntitySpec,
    FieldSpec,
    IndexSpec,
    Issue,
    Unset,
    ValidationError,
)

SCHEMA_VERSION: Final = 1
FINGERPRINT: Final = "handwritten-counter-v1"


def _now() -> datetime:
    return datetime.now(UTC)


def _int(value: object, path: str, issues: list[Issue]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        issues.append(Issue(path, f"expected an integer, got {type(value).__name__}"))
        return 0
    return value


def _str(value: object, path: str, issues: list[Issue], max_length: int = 100) -> str:
    if not isinstance(value, str):
        issues.append(Issue(path, f"expected a string, got {type(value).__name__}"))
        return ""
    if len(value) > max_length:
        issues.append(Issue(path, f"expected at most {max_length} characters, got {len(value)}"))
    return value


def _datetime(value: object, path: str, issues: list[Issue]) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    issues.append(Issue(path, "expected an ISO 8601 datetime with a time zone"))
    return _now()


def _object(payload: object, known: frozenset[str], issues: list[Issue]) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        issues.append(Issue("", "expected an object"))
        return {}
    for key in sorted(k for k in payload if k not in known):
        issues.append(Issue(f"/{key}", "unknown property"))
    return payload


def _required(data: Mapping[str, Any], key: str, issues: list[Issue]) -> bool:
    if key not in data:
        issues.append(Issue(f"/{key}", "required property is missing"))
        return False
    return True


@dataclass(slots=True, kw_only=True)
class Counter:
    """A named counter."""

    id: int
    name: str
    value: int
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterDraft:
    """What creating a ``Counter`` takes."""

    name: str
    value: int = 0
    updated_at: datetime = field(default_factory=_now)

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "value": self.value,
            "updated_at": self.updated_at.isoformat(),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> CounterDraft:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _object(payload, frozenset({"name", "value", "updated_at"}), issues)
        name = _str(data["name"], "/name", issues) if _required(data, "name", issues) else ""
        value = _int(data["value"], "/value", issues) if "value" in data else 0
        updated_at = (
            _datetime(data["updated_at"], "/updated_at", issues) if "updated_at" in data else _now()
        )
        if issues:
            raise ValidationError(issues, entity="Counter")
        return cls(name=name, value=value, updated_at=updated_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterPatch:
    """A partial update of a ``Counter``."""

    name: str | Unset = UNSET
    value: int | Unset = UNSET
    updated_at: datetime | Unset = UNSET

    def is_empty(self) -> bool:
        """Tell whether no field is set."""
        return self.name is UNSET and self.value is UNSET and self.updated_at is UNSET

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form (set fields only)."""
        out: dict[str, object] = {}
        if self.name is not UNSET:
            out["name"] = self.name
        if self.value is not UNSET:
            out["value"] = self.value
        if self.updated_at is not UNSET:
            out["updated_at"] = self.updated_at.isoformat()
        return out

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> CounterPatch:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _object(payload, frozenset({"name", "value", "updated_at"}), issues)
        name: str | Unset = _str(data["name"], "/name", issues) if "name" in data else UNSET
        value: int | Unset = _int(data["value"], "/value", issues) if "value" in data else UNSET
        updated_at: datetime | Unset = (
            _datetime(data["updated_at"], "/updated_at", issues) if "updated_at" in data else UNSET
        )
        if issues:
            raise ValidationError(issues, entity="Counter")
        return cls(name=name, value=value, updated_at=updated_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterSetName:
    """Set ``name``."""

    name: ClassVar[str] = "SetName"
    payload_version: ClassVar[int] = 1
    value: str

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"value": self.value}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> CounterSetName:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _object(payload, frozenset({"value"}), issues)
        value = _str(data["value"], "/value", issues) if _required(data, "value", issues) else ""
        if issues:
            raise ValidationError(issues, entity="Counter")
        return cls(value=value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterSetValue:
    """Set ``value``."""

    name: ClassVar[str] = "SetValue"
    payload_version: ClassVar[int] = 1
    value: int

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"value": self.value}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> CounterSetValue:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _object(payload, frozenset({"value"}), issues)
        value = _int(data["value"], "/value", issues) if _required(data, "value", issues) else 0
        if issues:
            raise ValidationError(issues, entity="Counter")
        return cls(value=value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterTouch:
    """Change nothing but the version."""

    name: ClassVar[str] = "Touch"
    payload_version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> CounterTouch:
        """Validate and read a payload."""
        issues: list[Issue] = []
        _object(payload, frozenset(), issues)
        if issues:
            raise ValidationError(issues, entity="Counter")
        return cls()


@dataclass(frozen=True, slots=True, kw_only=True)
class CounterIncrement:
    """Add ``by`` to the value and stamp ``updated_at``."""

    name: ClassVar[str] = "Increment"
    payload_version: ClassVar[int] = 1
    by: int

    def to_payload(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"by": self.by}

    @classmethod
    def from_payload(cls, payload: Mapping[str, object]) -> CounterIncrement:
        """Validate and read a payload."""
        issues: list[Issue] = []
        data = _object(payload, frozenset({"by"}), issues)
        by = _int(data["by"], "/by", issues) if _required(data, "by", issues) else 0
        if issues:
            raise ValidationError(issues, entity="Counter")
        return cls(by=by)


CounterCommand = CounterSetName | CounterSetValue | CounterTouch | CounterIncrement

_COMMANDS: Final[dict[str, type[Any]]] = {
    "SetName": CounterSetName,
    "SetValue": CounterSetValue,
    "Touch": CounterTouch,
    "Increment": CounterIncrement,
}

COUNTER_COMMANDS: Final[tuple[CommandSpec, ...]] = (
    CommandSpec(
        "SetName",
        CounterSetName,
        1,
        {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {"type": "string", "maxLength": 100}},
            "additionalProperties": False,
        },
    ),
    CommandSpec(
        "SetValue",
        CounterSetValue,
        1,
        {
            "type": "object",
            "required": ["value"],
            "properties": {"value": {"type": "integer"}},
            "additionalProperties": False,
        },
    ),
    CommandSpec("Touch", CounterTouch, 1, {"type": "object", "additionalProperties": False}),
    CommandSpec(
        "Increment",
        CounterIncrement,
        1,
        {
            "type": "object",
            "required": ["by"],
            "properties": {"by": {"type": "integer"}},
            "additionalProperties": False,
        },
        doc="Add ``by`` to the value and stamp ``updated_at``.",
    ),
)


def create_counter(draft: CounterDraft, *, id: int) -> Counter:
    """Build a ``Counter`` from its draft and the generated key."""
    return Counter(id=id, name=draft.name, value=draft.value, updated_at=draft.updated_at)


def apply_patch(counter: Counter, patch: CounterPatch) -> frozenset[str]:
    """Apply ``patch``; return the changed fields."""
    changed: set[str] = set()
    if patch.name is not UNSET and patch.name != counter.name:
        counter.name = patch.name
        changed.add("name")
    if patch.value is not UNSET and patch.value != counter.value:
        counter.value = patch.value
        changed.add("value")
    if patch.updated_at is not UNSET and patch.updated_at != counter.updated_at:
        counter.updated_at = patch.updated_at
        changed.add("updated_at")
    return frozenset(changed)


def apply_command(counter: Counter, command: CounterCommand) -> frozenset[str]:
    """Apply ``command``; return the changed fields."""
    if isinstance(command, CounterSetName):
        if command.value == counter.name:
            return frozenset()
        counter.name = command.value
        return frozenset({"name"})
    if isinstance(command, CounterSetValue):
        if command.value == counter.value:
            return frozenset()
        counter.value = command.value
        return frozenset({"value"})
    if isinstance(command, CounterTouch):
        return frozenset()
    counter.value += command.by
    counter.updated_at = _now()
    return frozenset({"value", "updated_at"})


def parse_counter_command(envelope: Mapping[str, object]) -> CounterCommand:
    """Read ``{"command", "payload", "payload_version"}``."""
    name = envelope.get("command")
    cls = _COMMANDS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValidationError(
            [
                Issue(
                    "/command",
                    f"unknown command {name!r} (known: {', '.join(_COMMANDS)})",
                )
            ],
            entity="Counter",
        )
    version = envelope.get("payload_version", 1)
    if version != cls.payload_version:
        raise ValidationError(
            [
                Issue(
                    "/payload_version",
                    f"expected {cls.payload_version}, got {version!r}",
                )
            ],
            entity="Counter",
        )
    try:
        command: CounterCommand = cls.from_payload(envelope.get("payload", {}))
    except ValidationError as error:
        raise ValidationError(
            [Issue("/payload" + i.path, i.message) for i in error.issues],
            entity="Counter",
        ) from None
    return command


def counter_to_record(counter: Counter) -> dict[str, Any]:
    """Return the JSON form of every field."""
    return {
        "id": counter.id,
        "name": counter.name,
        "value": counter.value,
        "updated_at": counter.updated_at.isoformat(),
    }


def counter_from_record(payload: object) -> Counter:
    """Validate and read the JSON form of every field."""
    issues: list[Issue] = []
    data = _object(payload, frozenset({"id", "name", "value", "updated_at"}), issues)
    id_ = _int(data["id"], "/id", issues) if _required(data, "id", issues) else 0
    name = _str(data["name"], "/name", issues) if _required(data, "name", issues) else ""
    value = _int(data["value"], "/value", issues) if _required(data, "value", issues) else 0
    updated_at = (
        _datetime(data["updated_at"], "/updated_at", issues)
        if _required(data, "updated_at", issues)
        else _now()
    )
    if issues:
        raise ValidationError(issues, entity="Counter")
    return Counter(id=id_, name=name, value=value, updated_at=updated_at)


def _counter_to_values(counter: Counter) -> tuple[Any, ...]:
    return (counter.id, counter.name, counter.value, counter.updated_at)


def _counter_from_values(values: Sequence[Any]) -> Counter:
    return Counter(id=values[0], name=values[1], value=values[2], updated_at=values[3])


def _counter_draft_values(draft: CounterDraft) -> tuple[Any, ...]:
    return (draft.name, draft.value, draft.updated_at)


def _counter_from_draft(draft: CounterDraft, generated: Mapping[str, Any]) -> Counter:
    return create_counter(draft, id=generated["id"])


COUNTER_SPEC: Final = EntitySpec(
    name="Counter",
    table="counters",
    schema_version=SCHEMA_VERSION,
    fields=(
        FieldSpec(
            name="id",
            column="id",
            kind="integer",
            sql_types={"sqlite": "INTEGER", "postgres": "BIGINT", "mysql": "BIGINT"},
            generated=True,
            immutable=True,
            primary_key=True,
        ),
        FieldSpec(
            name="name",
            column="name",
            kind="string",
            sql_types={
                "sqlite": "TEXT",
                "postgres": "VARCHAR(100)",
                "mysql": "VARCHAR(100)",
            },
        ),
        FieldSpec(
            name="value",
            column="value",
            kind="integer",
            sql_types={"sqlite": "INTEGER", "postgres": "BIGINT", "mysql": "BIGINT"},
        ),
        FieldSpec(
            name="updated_at",
            column="updated_at",
            kind="datetime",
            sql_types={
                "sqlite": "TEXT",
                "postgres": "TIMESTAMPTZ",
                "mysql": "DATETIME(6)",
            },
            tz=True,
        ),
    ),
    primary_key=("id",),
    unique=(),
    indexes=(IndexSpec("counters_name", ("name",)),),
    ddl=MappingProxyType(
        {
            "sqlite": (
                "CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " name TEXT NOT NULL, value INTEGER NOT NULL, updated_at TEXT NOT NULL)",
                "CREATE INDEX counters_name ON counters (name)",
            ),
            "postgres": (
                "CREATE TABLE counters (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                " name VARCHAR(100) NOT NULL, value BIGINT NOT NULL,"
                " updated_at TIMESTAMPTZ NOT NULL)",
                "CREATE INDEX counters_name ON counters (name)",
            ),
            "mysql": (
                "CREATE TABLE counters (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                " name VARCHAR(100) NOT NULL, value BIGINT NOT NULL,"
                " updated_at DATETIME(6) NOT NULL)",
                "CREATE INDEX counters_name ON counters (name)",
            ),
        }
    ),
    fingerprint=FINGERPRINT,
    entity_type=Counter,
    draft_type=CounterDraft,
    patch_type=CounterPatch,
    commands=COUNTER_COMMANDS,
    draft_fields=("name", "value", "updated_at"),
    from_draft=_counter_from_draft,
    draft_values=_counter_draft_values,
    to_values=_counter_to_values,
    from_values=_counter_from_values,
    to_record=counter_to_record,
    from_record=counter_from_record,
    apply_patch=apply_patch,
    apply_command=apply_command,
    parse_command=parse_counter_command,
    doc="A named counter.",
)
