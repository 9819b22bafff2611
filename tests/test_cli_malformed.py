"""Malformed sources through the command line: exit 2, a located error, no traceback, no file.

The cases are the reader's own tables (tests/readers/test_ddl_errors.py), run here the way a
user meets them: as files on disk given to ``persist-tool generate entity``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from persist_tool.cli import app
from tests.readers.test_ddl_errors import MALFORMED

runner = CliRunner()


@pytest.mark.parametrize(
    ("source", "line", "column", "fragment"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_ddl_exits_2_with_its_location_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    line: int,
    column: int,
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    # The reader's case for undecodable bytes stands for a real bad byte on disk.
    data = source.encode("utf-8").replace("\ufffd".encode(), b"\xff")
    if b"\x00" in data:
        # Binary files are refused before any reader runs, at the first NUL byte.
        before = data[: data.index(b"\x00")]
        line = before.count(b"\n") + 1
    Path("bad.sql").write_bytes(data)
    result = runner.invoke(app, ["generate", "entity", "bad.sql", "-o", "out"])
    assert result.exit_code == 2, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"bad.sql:{line}:"), first
    assert ": error: " in first
    assert "Traceback" not in result.stderr
    assert not Path("out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.sql"]
