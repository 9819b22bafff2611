"""The Python reader: what each construct of a user class becomes in the IR."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from persist_tool import ir
from persist_tool.ir import SourceError
from tests.readers.python_support import read_module, read_source, write_package


def only_entity(result_entities: tuple[ir.Entity, ...]) -> ir.Entity:
    assert len(result_entities) == 1
    return result_entities[0]


# --------------------------------------------------------------------------- hostile sources


HOSTILE = '''\
"""A module that must never run."""
import pathlib
import definitely_not_an_installed_module_4711
from persist_runtime import entity, PrimaryKey
from typing import Annotated

pathlib.Path(__file__).with_name("PWNED").write_text("executed")
raise SystemExit(3)


@entity(table="victims")
class Victim:
    """Read, never run."""

    id: Annotated[int, PrimaryKey(auto=True)]
    name: str
'''


def test_hostile_module_is_read_without_running_it(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"hostile.py": HOSTILE})
    result = read_module(package / "hostile.py")
    entity = only_entity(result.schema.entities)
    assert (entity.name, entity.table, entity.doc) == ("Victim", "victims", "Read, never run.")
    assert [f.name for f in entity.fields] == ["id", "name"]
    assert not (package / "PWNED").exists()


def test_generating_from_a_hostile_module_runs_none_of_it(tmp_path: Path) -> None:
    package = write_package(tmp_path, {"hostile.py": HOSTILE})
    result = subprocess.run(
        [sys.executable, "-m", "persist_tool", "generate", "entity", "pkg/hostile.py", "-o", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "victim.py").is_file()
    assert "from pkg.hostile import Victim" in (tmp_path / "out" / "victim.py").read_text()
    assert not (package / "PWNED").exists()


def test_hostile_sibling_module_is_parsed_not_imported(tmp_path: Path) -> None:
    sibling = HOSTILE.replace('@entity(table="victims")\nclass Victim', "class Unused") + (
        "\n\nfrom enum import StrEnum\n\nclass Mood(StrEnum):\n    CALM = 'calm'\n"
    )
    package = write_package(
        tmp_path,
        {
            "moods.py": sibling,
            "models.py": """\
                from typing import Annotated
                from persist_runtime import entity, PrimaryKey
                from pkg.moods import Mood

                @entity()
                class Person:
                    id: Annotated[int, PrimaryKey()]
                    mood: Mood
            """,
        },
    )
    entity = only_entity(read_module(package / "models.py").schema.entities)
    assert entity.get_field("mood").type == ir.EnumType("Mood", ("calm",))
    assert not (package / "PWNED").exists()


# --------------------------------------------------------------------------- names and flavours


def test_entity_decorator_and_markers_are_found_under_any_import_alias(tmp_path: Path) -> None:
    body = """\
        import dataclasses as dc
        import typing as t
        import persist_runtime as pr
        from persist_runtime import markers as mk

        @pr.entity(table="people", schema_version=3)
        @dc.dataclass
        class Person:
            id: t.Annotated[int, pr.PrimaryKey(auto=True)]
            email: t.Annotated[str, mk.Unique, mk.MaxLen(200)]
            nick: t.Optional[str] = None
    """
    entity = only_entity(read_source(tmp_path, body, header=False).schema.entities)
    assert (entity.table, entity.schema_version) == ("people", 3)
    assert entity.unique == (("email",),)
    assert entity.get_field("email").constraints.max_length == 200
    assert entity.get_field("nick").nullable
    assert entity.extra["python_class"] == {
        "module": "pkg.models",
        "name": "Person",
        "flavour": "dataclass",
        "frozen": False,
    }


def test_table_defaults_to_the_snake_case_class_name(tmp_path: Path) -> None:
    body = """\
        @entity()
        @dataclass
        class OrderLine:
            id: Annotated[int, PrimaryKey()]
    """
    assert only_entity(read_source(tmp_path, body).schema.entities).table == "order_line"


@pytest.mark.parametrize(
    ("decoration", "flavour"),
    [
        ("@dataclass", "dataclass"),
        ("@attrs.define", "attrs"),
        ("@attr.s(auto_attribs=True)", "attrs"),
        ("", "plain"),
    ],
)
def test_class_flavour_is_recorded(tmp_path: Path, decoration: str, flavour: str) -> None:
    body = f"""\
        import attr
        import attrs

        @entity()
        {decoration}
        class Item:
            id: Annotated[int, PrimaryKey()]
            name: str
    """
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    assert entity.extra["python_class"]["flavour"] == flavour
    assert [f.name for f in entity.fields] == ["id", "name"]


def test_pydantic_model_fields_skip_private_attributes_and_config(tmp_path: Path) -> None:
    body = """\
        from pydantic import BaseModel, ConfigDict, Field

        @entity()
        class Customer(BaseModel):
            model_config = ConfigDict(str_strip_whitespace=True)
            id: Annotated[int, PrimaryKey(auto=True)]
            email: str = Field(max_length=200, pattern=r"^[^@]+@[^@]+$", description="Mail")
            age: int | None = Field(None, ge=0, lt=150)
            balance: Decimal = Field(default=Decimal("0"), max_digits=12, decimal_places=2)
            _cache: dict[str, int] = {}
    """
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    assert entity.extra["python_class"]["flavour"] == "pydantic"
    assert [f.name for f in entity.fields] == ["id", "email", "age", "balance"]
    email = entity.get_field("email")
    assert (email.doc, email.constraints.max_length, email.constraints.pattern) == (
        "Mail",
        200,
        r"^[^@]+@[^@]+$",
    )
    age = entity.get_field("age")
    assert (age.nullable, age.constraints.minimum, age.constraints.exclusive_maximum) == (
        True,
        0,
        150,
    )
    balance = entity.get_field("balance")
    assert balance.type == ir.DecimalType(12, 2)
    assert balance.default == ir.Default("literal", "0")


def test_pydantic_field_factories_required_marker_and_frozen(tmp_path: Path) -> None:
    body = """\
        from pydantic import BaseModel, Field

        @entity()
        class Tagged(BaseModel):
            id: Annotated[int, PrimaryKey()] = Field(...)
            tags: list[str] = Field(default_factory=list, max_length=5)
            labels: dict[str, str] = {}
            code: str = Field("x", frozen=True, min_length=1)
    """
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    ident, tags, labels, code = entity.fields
    assert ident.default is None and ident.required
    assert tags.default == ir.Default("factory", "list")
    assert tags.constraints.max_items == 5
    assert labels.default == ir.Default("factory", "dict")
    assert (code.default, code.immutable, code.constraints.min_length) == (
        ir.Default("literal", "x"),
        True,
        1,
    )


def test_names_re_exported_in_a_cycle_are_an_error(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "one.py": "from .two import Money\n",
            "two.py": "from .one import Money\n",
            "models.py": """\
                from typing import Annotated
                from persist_runtime import entity, PrimaryKey
                from .one import Money

                @entity()
                class Wallet:
                    id: Annotated[int, PrimaryKey()]
                    balance: Money
            """,
        },
    )
    with pytest.raises(SourceError) as caught:
        read_module(package / "models.py")
    assert caught.value.message.endswith("is re-exported in a cycle")
    assert caught.value.location is not None
    assert (caught.value.location.line, caught.value.location.column) == (8, 14)


def test_attr_s_without_auto_attribs_reads_attr_ib_assignments(tmp_path: Path) -> None:
    body = """\
        import attr

        @entity()
        @attr.s
        class Legacy:
            id = attr.ib(type=int)
            label: str = attr.ib(default="x")
            note: str = "class attribute, not a field"
    """
    with pytest.raises(SourceError, match="no primary key"):
        read_source(tmp_path, body)
    body = body.replace("attr.ib(type=int)", "attr.ib(type=Annotated[int, PrimaryKey()])")
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    assert [(f.name, f.type.kind) for f in entity.fields] == [
        ("id", "integer"),
        ("label", "string"),
    ]
    assert entity.get_field("label").default == ir.Default("literal", "x")


def test_fields_of_package_base_classes_come_first(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "base.py": """\
                from dataclasses import dataclass, field
                from datetime import datetime, timezone
                from typing import Annotated
                from persist_runtime import PrimaryKey, Immutable

                def utcnow() -> datetime:
                    return datetime.now(timezone.utc)

                @dataclass
                class Record:
                    id: Annotated[int, PrimaryKey(auto=True)]
                    created_at: Annotated[datetime, Immutable] = field(default_factory=utcnow)
            """,
            "models.py": """\
                from dataclasses import dataclass
                from persist_runtime import entity
                from .base import Record

                @entity()
                @dataclass
                class Note(Record):
                    text: str = ""
            """,
        },
    )
    entity = only_entity(read_module(package / "models.py").schema.entities)
    assert [f.name for f in entity.fields] == ["id", "created_at", "text"]
    created = entity.get_field("created_at")
    assert created.type == ir.DateTimeType(tz=True)
    assert created.default == ir.Default("factory", "now")
    assert created.immutable


def test_only_the_entities_named_in_options_are_read(tmp_path: Path) -> None:
    body = """\
        @dataclass
        class Undecorated:
            id: Annotated[int, PrimaryKey()]

        @entity(table="others")
        @dataclass
        class Other:
            id: Annotated[int, PrimaryKey()]
    """
    result = read_source(tmp_path, body, entities=("Undecorated", "others"))
    assert [e.name for e in result.schema.entities] == ["Undecorated", "Other"]
    with pytest.raises(SourceError, match="no class named Missing"):
        read_source(tmp_path, body, entities=("Missing",))
    assert [e.name for e in read_source(tmp_path, body).schema.entities] == ["Other"]


def test_module_without_entities_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no entity class found"):
        read_source(tmp_path, "X = 1\n")


# --------------------------------------------------------------------------- types


def test_annotation_types_map_to_ir_types(tmp_path: Path) -> None:
    body = """\
        import datetime as dt
        import uuid
        from typing import Any, Dict, List, Union
        from pydantic import AwareDatetime, NaiveDatetime, conint, constr

        @entity()
        @dataclass
        class All:
            id: Annotated[uuid.UUID, PrimaryKey()]
            count: int
            ratio: float
            flag: bool
            blob: bytes
            price: Decimal
            day: dt.date
            at: dt.time
            stamp: dt.datetime
            utc: Annotated[dt.datetime, dt.timezone.utc]
            aware: AwareDatetime
            naive: NaiveDatetime
            tags: list[str]
            codes: List[Annotated[str, MaxLen(3)]]
            meta: dict[str, Any]
            nested: Dict[str, list[int | None]]
            free: Any
            loose: Union[int, None]
            short: constr(max_length=5)
            small: conint(ge=0, le=9)
            text: "str | None"
    """
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    types = {f.name: f.type for f in entity.fields}
    assert types == {
        "id": ir.UuidType(),
        "count": ir.IntegerType(64),
        "ratio": ir.FloatType(64),
        "flag": ir.BooleanType(),
        "blob": ir.BytesType(),
        "price": ir.DecimalType(),
        "day": ir.DateType(),
        "at": ir.TimeType(),
        "stamp": ir.DateTimeType(tz=False),
        "utc": ir.DateTimeType(tz=True),
        "aware": ir.DateTimeType(tz=True),
        "naive": ir.DateTimeType(tz=False),
        "tags": ir.ArrayType(ir.StringType()),
        "codes": ir.ArrayType(ir.StringType(), ir.Constraints(max_length=3)),
        "meta": ir.JsonType({"type": "object"}),
        "nested": ir.JsonType(
            {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {"type": ["integer", "null"]},
                },
            }
        ),
        "free": ir.JsonType({}),
        "loose": ir.IntegerType(64),
        "short": ir.StringType(),
        "small": ir.IntegerType(64),
        "text": ir.StringType(),
    }
    assert entity.get_field("loose").nullable and entity.get_field("text").nullable
    assert entity.get_field("short").constraints.max_length == 5
    small = entity.get_field("small").constraints
    assert (small.minimum, small.maximum) == (0, 9)


def test_enums_from_the_same_module_and_from_a_sibling_module(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "enums.py": """\
                import enum

                class Level(enum.IntEnum):
                    LOW = 1
                    HIGH = enum.auto()

                class Color(str, enum.Enum):
                    RED = "red"
                    CRIMSON = "red"
                    BLUE = "blue"
            """,
            "models.py": """\
                from enum import StrEnum, auto
                from typing import Annotated, Literal
                from dataclasses import dataclass
                from persist_runtime import entity, PrimaryKey
                from . import enums
                from .enums import Color as Colour

                class State(StrEnum):
                    OPEN = auto()
                    CLOSED = auto()

                @entity()
                @dataclass
                class Ticket:
                    id: Annotated[int, PrimaryKey()]
                    state: State = State.OPEN
                    level: enums.Level = enums.Level.HIGH
                    color: Colour | None = None
                    size: Literal["s", "m", "l"] = "m"
            """,
        },
    )
    entity = only_entity(read_module(package / "models.py").schema.entities)
    state, level, color, size = entity.fields[1:]
    assert state.type == ir.EnumType("State", ("open", "closed"))
    assert state.default == ir.Default("literal", "open")
    assert state.extra == {
        "python_enum": {
            "module": "pkg.models",
            "name": "State",
            "members": [["OPEN", "open"], ["CLOSED", "closed"]],
        }
    }
    assert level.type == ir.EnumType("Level", (1, 2))
    assert level.default == ir.Default("literal", 2)
    assert level.extra["python_enum"]["name"] == "Level"
    assert level.extra["python_enum"]["module"] == "pkg.enums"
    assert color.type == ir.EnumType("Color", ("red", "blue")) and color.nullable
    assert size.type == ir.EnumType("TicketSize", ("s", "m", "l"))
    assert size.extra == {"python_literal": True}


def test_type_alias_in_a_sibling_module_is_followed(tmp_path: Path) -> None:
    package = write_package(
        tmp_path,
        {
            "types.py": """\
                from decimal import Decimal
                from typing import Annotated
                from pydantic import Field
                Money = Annotated[Decimal, Field(max_digits=12, decimal_places=2, ge=0)]
            """,
            "models.py": """\
                from dataclasses import dataclass
                from typing import Annotated
                from persist_runtime import entity, PrimaryKey
                from pkg.types import Money

                @entity()
                @dataclass
                class Wallet:
                    id: Annotated[int, PrimaryKey()]
                    balance: Money
            """,
        },
    )
    balance = only_entity(read_module(package / "models.py").schema.entities).get_field("balance")
    assert balance.type == ir.DecimalType(12, 2)
    assert balance.constraints.minimum == 0


# --------------------------------------------------------------------------- markers


def test_markers_become_keys_indexes_and_flags(tmp_path: Path) -> None:
    body = """\
        @entity(table="users")
        @dataclass
        class User:
            id: Annotated[int, PrimaryKey(auto=True)]
            email: Annotated[str, Unique, MaxLen(200)]
            first: Annotated[str, Index("ix_users_name")]
            last: Annotated[str, Index("ix_users_name")]
            code: Annotated[str, Index(unique=True), Immutable]
            name: Annotated[str, RenamedFrom("username", "login")] = ""
    """
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    assert entity.primary_key == ("id",)
    assert entity.unique == (("email",),)
    assert entity.indexes == (
        ir.Index("ix_users_name", ("first", "last")),
        ir.Index("ix_users_code", ("code",), unique=True),
    )
    ident = entity.get_field("id")
    assert (ident.generated, ident.immutable) == (True, True)
    assert entity.get_field("code").immutable
    assert entity.get_field("name").renamed_from == ("username", "login")


# --------------------------------------------------------------------------- defaults


def test_defaults_and_factories(tmp_path: Path) -> None:
    body = """\
        import uuid
        from datetime import date, datetime, time, timezone, UTC

        LIMIT = 10 * 6

        @entity()
        @dataclass
        class Thing:
            id: Annotated[uuid.UUID, PrimaryKey()] = field(default_factory=uuid.uuid4)
            limit: int = LIMIT
            rate: float = -0.5
            name: str = "a" "b"
            price: Decimal = Decimal("9.90")
            start: date = date(2024, 1, 31)
            alarm: time = time(7, 30)
            tags: list[str] = field(default_factory=lambda: [])
            meta: dict[str, int] = field(default_factory=dict)
            created: datetime = field(default_factory=lambda: datetime.now(tz=UTC))
            local: datetime = field(default_factory=datetime.now)
            seen: date = field(default_factory=date.today)
    """
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    defaults = {f.name: (f.default.kind, f.default.value) for f in entity.fields if f.default}
    assert defaults == {
        "id": ("factory", "uuid4"),
        "limit": ("literal", 60),
        "rate": ("literal", -0.5),
        "name": ("literal", "ab"),
        "price": ("literal", "9.90"),
        "start": ("literal", "2024-01-31"),
        "alarm": ("literal", "07:30:00"),
        "tags": ("factory", "list"),
        "meta": ("factory", "dict"),
        "created": ("factory", "now"),
        "local": ("factory", "now"),
        "seen": ("factory", "today"),
    }
    assert entity.get_field("created").type == ir.DateTimeType(tz=True)
    assert entity.get_field("local").type == ir.DateTimeType(tz=False)


def test_computed_default_falls_back_to_required_with_a_warning(tmp_path: Path) -> None:
    body = """\
        import secrets

        @entity()
        @dataclass
        class Invite:
            id: Annotated[int, PrimaryKey()]
            code: str = field(default_factory=lambda: secrets.token_hex(8))
            salt: str = secrets.token_hex(4)
    """
    result = read_source(tmp_path, body)
    entity = only_entity(result.schema.entities)
    assert entity.get_field("code").default is None
    assert entity.get_field("code").required
    assert [w.render() for w in result.warnings] == [
        "pkg/models.py:16:39: warning: field 'code' of Invite: default lambda: "
        "secrets.token_hex(8) is computed and cannot be read without running the code; "
        "the Draft requires this value",
        "pkg/models.py:17:17: warning: field 'salt' of Invite: default secrets.token_hex(4) is "
        "computed and cannot be read without running the code; the Draft requires this value",
    ]


def test_generated_marker_makes_a_database_default(tmp_path: Path) -> None:
    body = """\
        from datetime import datetime
        from persist_runtime.markers import Generated

        @entity(unique=[("a", "b")])
        @dataclass(kw_only=True)
        class Event:
            id: Annotated[int, PrimaryKey(auto=True)]
            a: int
            b: int
            at: Annotated[datetime, Generated()]
            day: Annotated[str, Generated("(date('now'))")] = ""
    """
    with pytest.raises(SourceError, match="cannot also have a Python default"):
        read_source(tmp_path, body)
    body = body.replace(' = ""', "")
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    at, day = entity.get_field("at"), entity.get_field("day")
    assert (at.generated, at.default) == (True, ir.Default("sql", "CURRENT_TIMESTAMP"))
    assert (day.generated, day.default) == (True, ir.Default("sql", "(date('now'))"))
    assert entity.unique == (("a", "b"),)
    with pytest.raises(SourceError, match="unique names 'c', which is not a field of Event"):
        read_source(tmp_path, body.replace('("a", "b")', '("a", "c")'))


def test_aware_annotation_with_naive_factory_is_an_error(tmp_path: Path) -> None:
    body = """\
        from datetime import datetime
        from pydantic import AwareDatetime

        @entity()
        @dataclass
        class Event:
            id: Annotated[int, PrimaryKey()]
            at: AwareDatetime = field(default_factory=datetime.utcnow)
    """
    with pytest.raises(SourceError, match="makes naive datetimes but the annotation says aware"):
        read_source(tmp_path, body)


# --------------------------------------------------------------------------- docs and commands


def test_docs_come_from_docstrings_and_doc_comments(tmp_path: Path) -> None:
    body = '''\
        @entity()
        @dataclass
        class Book:
            """A book on the shelf.

            Indented detail.
            """

            id: Annotated[int, PrimaryKey()]  #: The key.
            #: Title as printed
            #: on the cover.
            title: str
            isbn: str
            """The ISBN-13."""
            plain: str  # an ordinary comment is not a doc
    '''
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    assert entity.doc == "A book on the shelf.\n\nIndented detail."
    docs = {f.name: f.doc for f in entity.fields}
    assert docs == {
        "id": "The key.",
        "title": "Title as printed\non the cover.",
        "isbn": "The ISBN-13.",
        "plain": None,
    }


def test_command_methods_become_command_definitions(tmp_path: Path) -> None:
    body = '''\
        @entity()
        @dataclass
        class Account:
            id: Annotated[int, PrimaryKey()]
            balance: Decimal = Decimal("0")

            @command
            def deposit(self, amount: Annotated[Decimal, MaxLen(0)] | None = None) -> None:
                """Put money in."""

            def helper(self) -> None:
                pass
    '''
    with pytest.raises(SourceError, match="max_length does not apply to a decimal"):
        read_source(tmp_path, body)
    body = body.replace("Annotated[Decimal, MaxLen(0)] | None = None", "Decimal, *, memo: str = ''")
    body = body.replace("@command\n", "@command(payload_version=2)\n")
    entity = only_entity(read_source(tmp_path, body).schema.entities)
    (deposit,) = entity.commands
    assert (deposit.name, deposit.doc, deposit.payload_version) == ("deposit", "Put money in.", 2)
    assert [(p.name, p.type, p.default) for p in deposit.params] == [
        ("amount", ir.DecimalType(), None),
        ("memo", ir.StringType(), ir.Default("literal", "")),
    ]


def test_ir_of_a_python_source_round_trips_through_json(tmp_path: Path) -> None:
    body = """\
        @entity()
        @dataclass
        class Account:
            id: Annotated[int, PrimaryKey()]
            kind: Literal["a", "b"] = "a"

            @command
            def close(self, reason: str = "") -> None:
                pass
    """
    schema = read_source(tmp_path, body).schema
    data = json.loads(json.dumps(schema.to_json()))
    assert ir.Schema.from_json(data) == schema
