"""The project's own code keeps the bar it sets for generated code: black, ruff, mypy --strict.

Black runs with the project's settings (``[tool.black]`` in ``pyproject.toml``: lines of
100), not the defaults generated code is held to.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.quality import BIN, assert_mypy_strict, assert_ruff_clean

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (ROOT / "persist_tool", ROOT / "runtime" / "persist_runtime")
# Held to black and ruff too, not to mypy --strict (fixtures and peers are loosely typed).
OWN_CODE = (ROOT / "tests", ROOT / "bench")


def test_the_tool_and_the_runtime_are_black_stable_and_ruff_clean() -> None:
    for package in PACKAGES:
        done = subprocess.run(
            [str(BIN / "black"), "--check", "--quiet", str(package)],
            capture_output=True,
            text=True,
            cwd=package.parent,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert_ruff_clean(package)


def test_the_tests_and_the_benchmarks_are_black_stable_and_ruff_clean() -> None:
    for directory in OWN_CODE:
        done = subprocess.run(
            [str(BIN / "black"), "--check", "--quiet", "--exclude", r"/\.venv/|/results/", "."],
            capture_output=True,
            text=True,
            cwd=directory,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert_ruff_clean(directory)


def test_the_tool_and_the_runtime_pass_mypy_strict() -> None:
    for package in PACKAGES:
        assert_mypy_strict([package])
