"""Malformed Python sources: each is a SourceError at a precise line and column, never a crash.

Every case is a module body written after the common header of ``python_support.HEADER``;
``line`` counts from the first body line (1), ``col`` is 1-based as in ``path:line:col``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from persist_tool.ir import SourceError
from tests.readers.python_support import HEADER_LINES, read_source


class Case(NamedTuple):
    body: str
    line: int
    col: int
    message: str
    header: bool = True


ENTITY_HEAD = """\
@entity()
@dataclass
class Account:
    id: Annotated[int, PrimaryKey(auto=True)]
"""
"""A valid entity start: the next body line is line 5."""

CASES: dict[str, Case] = {
    "syntax error: unclosed bracket": Case(
        ENTITY_HEAD + "    name: str = (\n",
        5,
        17,
        "invalid Python syntax: '(' was never closed",
    ),
    "syntax error: bad indentation": Case(
        ENTITY_HEAD + "      name: str\n",
        5,
        6,
        "invalid Python syntax: unexpected indent",
    ),
    "unknown marker class": Case(
        "class Searchable:\n    pass\n\n"
        + ENTITY_HEAD
        + "    name: Annotated[str, Searchable()]\n",
        8,
        26,
        "unknown marker 'Searchable()'",
    ),
    "string used as a marker": Case(
        ENTITY_HEAD + '    name: Annotated[str, "the name"]\n',
        5,
        26,
        "unknown marker",
    ),
    "unsupported generic annotation": Case(
        ENTITY_HEAD + "    tags: set[str]\n",
        5,
        11,
        "unsupported generic type 'set'",
    ),
    "unsupported scalar type": Case(
        "from datetime import timedelta\n\n" + ENTITY_HEAD + "    period: timedelta\n",
        7,
        13,
        "unsupported type 'timedelta' (datetime.timedelta)",
    ),
    "type alias from a module the reader cannot see": Case(
        "from money import Money\n\n" + ENTITY_HEAD + "    amount: Money\n",
        7,
        13,
        "unsupported type 'Money' (money.Money)",
    ),
    "undefined name": Case(
        ENTITY_HEAD + "    amount: Moneyy\n",
        5,
        13,
        "name 'Moneyy' is not defined or imported",
    ),
    "union of two types": Case(
        ENTITY_HEAD + "    value: int | str\n",
        5,
        12,
        "union 'int | str' has 2 non-None members",
    ),
    "duplicate field": Case(
        ENTITY_HEAD + "    name: str\n    name: str | None\n",
        6,
        5,
        "field 'name' of Account is declared twice",
    ),
    "command with *args": Case(
        ENTITY_HEAD + "\n    @command\n    def deposit(self, *amounts: Decimal) -> None:\n"
        "        pass\n",
        7,
        24,
        "command Account.deposit takes *amounts",
    ),
    "command with **kwargs": Case(
        ENTITY_HEAD + "\n    @command\n    def deposit(self, **options: str) -> None:\n"
        "        pass\n",
        7,
        25,
        "takes **options",
    ),
    "command parameter without annotation": Case(
        ENTITY_HEAD + "\n    @command\n    def deposit(self, amount) -> None:\n        pass\n",
        7,
        23,
        "parameter 'amount' of Account.deposit has no type annotation",
    ),
    "positional-only command parameter": Case(
        ENTITY_HEAD + "\n    @command\n    def deposit(self, amount: Decimal, /) -> None:\n"
        "        pass\n",
        7,
        23,
        "parameter 'amount' is positional-only",
    ),
    "computed default of a command parameter": Case(
        "def today() -> int:\n    return 1\n\n"
        + ENTITY_HEAD
        + "\n    @command\n    def stamp(self, day: int = today()) -> None:\n        pass\n",
        10,
        32,
        "default today() is computed",
    ),
    "async command": Case(
        ENTITY_HEAD + "\n    @command\n    async def deposit(self, amount: Decimal) -> None:\n"
        "        pass\n",
        7,
        5,
        "command Account.deposit is async",
    ),
    "payload_version zero": Case(
        ENTITY_HEAD + "\n    @command(payload_version=0)\n    def close(self) -> None:\n"
        "        pass\n",
        6,
        30,
        "payload_version must be an integer literal >= 1",
    ),
    "unknown decorator on an entity class": Case(
        "def register(cls):\n    return cls\n\n@register\n" + ENTITY_HEAD,
        4,
        2,
        "unknown decorator @register on entity class Account",
    ),
    "entity without fields": Case(
        "@entity()\n@dataclass\nclass Empty:\n    def method(self) -> None:\n        pass\n",
        3,
        1,
        "entity Empty has no fields",
    ),
    "entity without primary key": Case(
        "@entity()\n@dataclass\nclass Note:\n    text: str\n",
        3,
        1,
        "entity Note has no primary key",
    ),
    "default of the wrong type": Case(
        ENTITY_HEAD + '    count: int = "three"\n',
        5,
        18,
        "default 'three' does not match the type integer",
    ),
    "None default on a required type": Case(
        ENTITY_HEAD + "    name: str = None\n",
        5,
        17,
        "defaults to None but its type does not allow None",
    ),
    "mutable default in a dataclass": Case(
        ENTITY_HEAD + "    tags: list[str] = []\n",
        5,
        23,
        "a mutable default is shared between instances",
    ),
    "field left out of the constructor": Case(
        ENTITY_HEAD + "    name: str = field(default='', init=False)\n",
        5,
        40,
        "is left out of the constructor (init=False)",
    ),
    "reserved field name": Case(
        ENTITY_HEAD + "    date: str\n",
        5,
        5,
        "field 'date' of Account shadows a name generated modules need",
    ),
    "private field in a dataclass": Case(
        ENTITY_HEAD + "    _secret: str\n",
        5,
        5,
        "field '_secret' of Account is private",
    ),
    "constraint that does not apply": Case(
        ENTITY_HEAD + "    count: Annotated[int, MaxLen(3)]\n",
        5,
        27,
        "constraint max_length does not apply to a integer field",
    ),
    "flag marker called": Case(
        ENTITY_HEAD + "    email: Annotated[str, Unique()]\n",
        5,
        27,
        "Unique is used without parentheses",
    ),
    "RenamedFrom with a computed name": Case(
        "OLD = 'x'.upper()\n\n" + ENTITY_HEAD + "    name: Annotated[str, RenamedFrom(OLD)]\n",
        7,
        38,
        "RenamedFrom takes earlier field names as string literals",
    ),
    "bare @entity": Case(
        "@entity\n@dataclass\nclass A:\n    id: Annotated[int, PrimaryKey()]\n",
        1,
        2,
        "@entity must be called",
    ),
    "entity table that is not a string": Case(
        "@entity(table=123)\n@dataclass\nclass A:\n    id: Annotated[int, PrimaryKey()]\n",
        1,
        15,
        "table must be a non-empty string literal",
    ),
    "enum member with a computed value": Case(
        "from enum import StrEnum\n\nclass Color(StrEnum):\n    RED = 'r'.upper()\n\n"
        + ENTITY_HEAD
        + "    color: Color\n",
        4,
        11,
        "enum member RED has a value the reader cannot evaluate",
    ),
    "auto primary key that is not an int": Case(
        "@entity()\n@dataclass\nclass A:\n    id: Annotated[str, PrimaryKey(auto=True)]\n",
        4,
        24,
        "PrimaryKey(auto=True) needs an int key",
    ),
    "Literal with a float": Case(
        ENTITY_HEAD + "    rate: Literal[1.5, 2.5]\n",
        5,
        19,
        "Literal values must be strings or integers",
    ),
    "field declared inside an if block": Case(
        ENTITY_HEAD + "    if True:\n        name: str\n",
        6,
        9,
        "declares a field inside a if block",
    ),
    "star import": Case(
        "from os.path import *\n" + ENTITY_HEAD,
        1,
        1,
        "hides which names the module uses",
    ),
    "dict with non-string keys": Case(
        ENTITY_HEAD + "    scores: dict[int, str]\n",
        5,
        18,
        "JSON object keys are strings",
    ),
    "InitVar field": Case(
        "from dataclasses import InitVar\n\n" + ENTITY_HEAD + "    seed: InitVar[int]\n",
        7,
        11,
        "dataclasses.InitVar is not a persisted field",
    ),
    "base class from an unreadable module": Case(
        "from framework import Base\n\n@entity()\n@dataclass\nclass A(Base):\n"
        "    id: Annotated[int, PrimaryKey()]\n",
        5,
        9,
        "base class Base of A cannot be read",
    ),
    "invalid string annotation": Case(
        ENTITY_HEAD + '    name: "list["\n',
        5,
        11,
        "invalid string annotation",
    ),
    "frozen entity with mutable fields": Case(
        "@entity()\n@dataclass(frozen=True)\nclass A:\n    id: Annotated[int, PrimaryKey()]\n"
        "    name: str\n",
        3,
        1,
        "entity A is frozen but fields name are mutable",
    ),
    "pydantic alias": Case(
        "from pydantic import BaseModel, Field\n\n@entity()\nclass A(BaseModel):\n"
        "    id: Annotated[int, PrimaryKey()]\n    name: str = Field(alias='Name')\n",
        6,
        29,
        "unknown or unsupported argument 'alias'",
    ),
    "attrs converter": Case(
        "import attrs\n\n@entity()\n@attrs.define\nclass A:\n"
        "    id: Annotated[int, PrimaryKey()]\n    name: str = attrs.field(converter=str.strip)\n",
        7,
        39,
        "has a converter",
    ),
    "dataclass field() in a pydantic model": Case(
        "from pydantic import BaseModel\n\n@entity()\nclass A(BaseModel):\n"
        "    id: Annotated[int, PrimaryKey()]\n    tags: list[str] = field(default_factory=list)\n",
        6,
        23,
        "dataclasses.field() belongs to dataclass classes",
    ),
    "command shadowing a generated name": Case(
        ENTITY_HEAD + "\n    @command\n    def rename(self, name: str) -> None:\n        pass\n",
        7,
        22,
        "the name 'name' is reserved in generated command classes",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_malformed_source_is_a_source_error_at_its_position(tmp_path: Path, case: Case) -> None:
    with pytest.raises(SourceError) as caught:
        read_source(tmp_path, case.body, header=case.header)
    error = caught.value
    assert error.location is not None
    offset = HEADER_LINES if case.header else 0
    assert case.message in error.message, error.render()
    assert (error.location.file, error.location.line, error.location.column) == (
        "pkg/models.py",
        case.line + offset,
        case.col,
    ), error.render()


def test_there_are_at_least_twenty_malformed_cases() -> None:
    assert len(CASES) >= 20


def test_errors_in_a_sibling_module_point_into_that_module(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "kinds.py").write_text(
        "from enum import IntEnum\n\nclass Kind(IntEnum):\n    A = 'a'\n", encoding="utf-8"
    )
    body = "from .kinds import Kind\n\n" + ENTITY_HEAD + "    kind: Kind\n"
    with pytest.raises(SourceError) as caught:
        read_source(tmp_path, body)
    location = caught.value.location
    assert location is not None
    assert (location.file, location.line, location.column) == ("pkg/kinds.py", 4, 9)
    assert "IntEnum member A must be an integer" in caught.value.message


def test_command_line_exits_2_with_the_location_and_no_traceback(tmp_path: Path) -> None:
    case = CASES["command with *args"]
    from tests.readers.python_support import HEADER

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "models.py").write_text(HEADER + case.body, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "persist_tool",
            "generate",
            "entity",
            "pkg/models.py",
            "-o",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    expected = f"pkg/models.py:{case.line + HEADER_LINES}:{case.col}: error: {case.message}"
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
