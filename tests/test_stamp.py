"""The stamp format and what ``load_schema`` records for it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from persist_tool import stamp
from persist_tool.cli import app
from persist_tool.sources import load_schema
from tests.quality import assert_black_stable, assert_ruff_clean

ROOT = Path(__file__).resolve().parent.parent

NOTE_MODULE = '''"""Notes."""

from dataclasses import dataclass
from typing import Annotated

from persist_runtime import PrimaryKey, entity

from notes.kinds import Kind


@entity(table="notes", schema_version=1)
@dataclass
class Note:
    """A note."""

    id: Annotated[int, PrimaryKey(auto=True)]
    kind: Kind
'''

KINDS_MODULE = '''"""Kinds of notes."""

from enum import StrEnum


class Kind(StrEnum):
    """What a note is."""

    TODO = "todo"
    IDEA = "idea"
'''


def write_python_project(root: Path) -> Path:
    """Write a package ``notes`` whose ``models`` imports an enum from a sibling module."""
    package = root / "notes"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "models.py").write_text(NOTE_MODULE, encoding="utf-8")
    (package / "kinds.py").write_text(KINDS_MODULE, encoding="utf-8")
    return package / "models.py"


def test_stamp_lines_round_trip_and_long_paths_carry_a_noqa() -> None:
    long = "../" + "d/" * 50 + "x.json"
    made = stamp.Stamp("a" * 64, "b" * 64, ("../m.py", long), ("..",))
    text = "# header\n" + made.render() + "BODY = 1\n"
    assert stamp.Stamp.parse(text) == made
    lines = made.render().splitlines()
    assert lines[0] == "# persist-tool input " + "a" * 64
    assert lines[3].endswith("  # noqa: E501")
    assert all(len(line) <= 100 for line in lines if not line.endswith("# noqa: E501"))
    assert stamp.Stamp.parse("# header\nBODY = 1\n") is None
    assert stamp.Stamp.parse("# header\n# persist-tool input x\n# persist-tool bogus y\n") is None


def test_add_stamp_replaces_an_old_stamp_after_the_header() -> None:
    first = stamp.add_stamp("# header\nBODY = 1\n", stamp.Stamp("1", "2"))
    second = stamp.add_stamp(first, stamp.Stamp("3", "4"))
    assert second == "# header\n# persist-tool input 3\n# persist-tool output 4\nBODY = 1\n"


def test_recording_notes_sibling_modules_and_the_directories_looked_into(tmp_path: Path) -> None:
    models = write_python_project(tmp_path)
    before = {name: getattr(Path, name) for name in ("read_text", "read_bytes", "is_file")}
    loaded = load_schema([models], record_files=True)
    assert {name: getattr(Path, name) for name in before} == before, "hooks must be removed"
    assert loaded.files is not None
    assert set(loaded.files.reads) == {str(models), str(models.parent / "kinds.py")}
    assert str(models.parent / "kinds.py") in loaded.files.reads
    # ``notes/kinds/Kind.py`` and ``dataclasses.py`` were looked for and are absent: the
    # directories that would gain them are recorded, with their entries as they were.
    assert set(loaded.files.listings) == {str(tmp_path), str(models.parent)}
    assert ("kinds.py", "f") in loaded.files.listings[str(models.parent)]
    assert load_schema([models]).files is None


def test_readers_reach_the_disk_only_through_the_recorded_path_methods() -> None:
    """The recording sees ``Path.read_text/read_bytes/is_file/is_dir/exists``, in this thread."""
    unseen = re.compile(
        r"\bopen\(|\bos\.(stat|lstat|listdir|scandir|walk|access|readlink)\b"
        r"|os\.path\.(exists|is\w+|get\w+|samefile)\b"
        r"|\.(stat|lstat|iterdir|glob|rglob|open|samefile|readlink|is_symlink|is_mount)\("
        # Another thread or process would read outside the recording's context.
        r"|^\s*(import|from) (threading|concurrent|multiprocessing)\b",
        re.MULTILINE,
    )
    for path in sorted((ROOT / "persist_tool" / "readers").glob("*.py")):
        found = unseen.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name}: {found.group(0)!r} reaches the disk unrecorded"


def test_every_dependency_that_shapes_output_is_part_of_the_input() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    # typer only parses the command line; persist-runtime is imported by generated code,
    # never by the generator.
    assert names - {"typer", "persist-runtime"} == set(stamp.OUTPUT_LIBRARIES)


def test_a_stamped_package_stays_black_stable_and_ruff_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    deep = Path("projects", "a_rather_long_directory_name_for_the_sources", "and_one_more_level")
    models = write_python_project(tmp_path / deep)
    result = CliRunner().invoke(
        app, ["generate", "entity", str(models.relative_to(tmp_path)), "-o", "gen"]
    )
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "gen" / "__init__.py").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("# persist-tool read ") for line in lines)
    assert any(line.endswith("# noqa: E501") for line in lines[1:])
    assert_black_stable(sorted((tmp_path / "gen").glob("*.py")))
    assert_ruff_clean(tmp_path / "gen")


def test_no_stamp_when_the_readers_looked_inside_the_output_directory(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("X = 1\n", encoding="utf-8")
    inputs = stamp.StampInputs("entity", {}, (("m.py", source),))
    reads = {str(source): stamp.sha256_hex(b"X = 1\n")}
    listing = stamp.list_directory(str(tmp_path))
    assert listing is not None
    files = [stamp.INIT_FILE]

    class F:
        path = files[0]
        text = "# Generated by persist-tool\n"

    def made(looked_for: set[str]) -> stamp.Stamp | None:
        recorded = stamp.SourceFiles(reads, {str(tmp_path): listing}, frozenset(looked_for))
        return stamp.make_stamp(tmp_path / "gen", inputs, recorded, [F()])

    assert made({str(tmp_path / "other" / "x.py")}) is not None
    assert made({str(tmp_path / "gen" / "__init__.py")}) is None
    assert made({str(tmp_path / "gen")}) is None


def test_warnings_round_trip_in_the_stamp_and_bad_ones_void_it() -> None:
    warnings = ('s.sql:3:1: warning: skipped "view" (it defines no table)\n  hint: é ok',)
    made = stamp.Stamp("a" * 64, "b" * 64, warnings=warnings)
    text = "# header\n" + made.render() + "BODY = 1\n"
    assert stamp.Stamp.parse(text) == made
    assert made.render().splitlines()[2].startswith('# persist-tool warning "s.sql:3:1: ')
    assert stamp.Stamp.parse("# header\n# persist-tool input a\n# persist-tool output b\n") == (
        stamp.Stamp("a", "b")
    )
    for bad in ("not json", "3", '["a"]'):
        head = "# header\n# persist-tool input a\n# persist-tool output b\n"
        voided = f"{head}# persist-tool warning {bad}\n"
        assert stamp.Stamp.parse(voided) is None


def test_a_run_answered_from_the_stamp_repeats_the_readers_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("s.sql").write_text(
        "CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE VIEW v AS SELECT id FROM t;\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    first = runner.invoke(app, ["generate", "entity", "s.sql", "-o", "gen"])
    assert first.exit_code == 0, first.output
    warning = next(line for line in first.output.splitlines() if "warning" in line)
    assert warning.startswith("s.sql:2:1: warning: skipped")
    again = runner.invoke(app, ["generate", "entity", "s.sql", "-o", "gen"])
    assert again.exit_code == 0 and "up to date" in again.output
    check = runner.invoke(app, ["generate", "entity", "s.sql", "-o", "gen", "--check"])
    assert check.exit_code == 0
    for answered in (again, check):
        assert answered.output.splitlines()[0] == warning
    init = (tmp_path / "gen" / "__init__.py").read_text(encoding="utf-8")
    assert "# persist-tool warning " in init
    assert_black_stable(sorted((tmp_path / "gen").glob("*.py")))
    assert_ruff_clean(tmp_path / "gen")
