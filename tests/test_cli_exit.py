"""The command line ends its process without tearing the interpreter down, losing nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import NoReturn

import pytest

from persist_tool.cli import _exit_now


def _exit_with(code: str) -> subprocess.CompletedProcess[str]:
    program = (
        "import sys\n"
        "from persist_tool.cli import _exit_now\n"
        "sys.stdout.write('x' * 200_000)\n"
        "sys.stderr.write('partial line on stderr')\n"
        f"_exit_now({code})\n"
    )
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("None", 0, ""),
        ("0", 0, ""),
        ("2", 2, ""),
        ("'bad input'", 1, "bad input\n"),
        ("3.5", 1, "3.5\n"),
    ],
)
def test_exit_status_is_that_of_sys_exit_and_buffered_output_is_written(
    code: str, status: int, message: str
) -> None:
    done = _exit_with(code)
    assert done.returncode == status
    assert done.stdout == "x" * 200_000
    assert done.stderr == "partial line on stderr" + message


class _GonePipe(io.StringIO):
    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


class _Exited(Exception):
    pass


def test_output_that_cannot_be_written_gives_the_interpreter_s_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The reader of a pipe has quit while text waits in the buffer: like the interpreter's
    # own exit, the status is 120 (and a failing status is kept).
    def record(status: int) -> NoReturn:
        raise _Exited(status)

    monkeypatch.setattr(os, "_exit", record)
    monkeypatch.setattr(sys, "stdout", _GonePipe())
    with pytest.raises(_Exited) as exited:
        _exit_now(0)
    assert exited.value.args == (120,)
    with pytest.raises(_Exited) as exited:
        _exit_now(2)
    assert exited.value.args == (2,)


def test_a_command_run_as_users_run_it_exits_with_its_status(tmp_path: object) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "persist_tool", "generate", "entity", "missing.sql"],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(tmp_path),
    )
    assert done.returncode == 2
    assert done.stderr.startswith("missing.sql:")
