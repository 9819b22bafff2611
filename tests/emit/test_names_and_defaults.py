"""Generated modules stay valid and clean for awkward names and call-built defaults."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from uuid import UUID

import pytest

from persist_tool import output
from persist_tool.generate import build_entity_package
from persist_tool.sources import load_schema
from tests.quality import assert_generated_quality

DDL = """\
-- persist: Def schema_version=1
CREATE TABLE defs (
    id INTEGER NOT NULL PRIMARY KEY,
    at TIMESTAMP NOT NULL DEFAULT '2026-01-01 10:00:00',
    on_day DATE NOT NULL DEFAULT '2026-01-02',
    at_time TIME NOT NULL DEFAULT '10:30:00',
    token UUID NOT NULL DEFAULT '7d444840-9dc0-11d1-b245-5ffdce74fad2'
);

-- Five setters plus Touch: their union fits inside the parentheses on one line.
-- persist: Event schema_version=1
CREATE TABLE events (
    id INTEGER NOT NULL PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    amount DOUBLE PRECISION NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    due_at TIMESTAMP NOT NULL
);
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("names")
    source = root / "defs.sql"
    source.write_text(DDL, encoding="utf-8")
    loaded = load_schema([source], read_dialect="postgres")
    built = build_entity_package(loaded)
    out = root / "namespkg"
    output.write_tree(out, built.files)
    sys.path.insert(0, str(root))
    yield out
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.split(".")[0] == "namespkg"]:
        del sys.modules[name]


def test_an_entity_named_like_a_keyword_gets_a_module_it_can_be_imported_from(
    package: Path,
) -> None:
    assert (package / "def_.py").is_file()
    module = importlib.import_module("namespkg")
    assert module.Def.__name__ == "Def"


def test_call_built_defaults_are_clean_and_give_their_values(package: Path) -> None:
    assert_generated_quality(package)
    draft = importlib.import_module("namespkg.def_").DefDraft(id=1)
    assert (draft.at, draft.on_day, draft.at_time, draft.token) == (
        datetime(2026, 1, 1, 10, 0),
        date(2026, 1, 2),
        time(10, 30),
        UUID("7d444840-9dc0-11d1-b245-5ffdce74fad2"),
    )
    text = (package / "def_.py").read_text(encoding="utf-8")
    assert "from datetime import date, datetime, time\n" in text


def test_a_command_union_that_fits_in_parentheses_sits_on_one_line(package: Path) -> None:
    text = (package / "event.py").read_text(encoding="utf-8")
    assert (
        "EventCommand: TypeAlias = (\n"
        "    EventSetTitle | EventSetAmount | EventSetDone | EventSetDueAt | EventTouch\n"
        ")\n"
    ) in text
