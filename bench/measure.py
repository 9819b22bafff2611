"""Timing helpers and the result record shared by every benchmark case.

Whole commands are timed as child processes (wall time, and CPU time and peak RSS from
``wait4``);
in-process work with ``time.perf_counter`` around one pass, repeated. Every figure keeps
all its samples, so the report can show the median and the spread.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Figure", "Run", "Samples", "run_command", "time_pass"]


@dataclass
class Samples:
    """Seconds of repeated runs of one side, and the peak RSS seen (MiB, 0 if not taken).

    ``cpu_seconds`` holds each run's CPU time (user and system, worker processes included)
    for commands; it stays empty for in-process figures.
    """

    seconds: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def cpu_median(self) -> float:
        """Return the median CPU seconds of the runs (0 when none were taken)."""
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else 0.0

    @property
    def median(self) -> float:
        """Return the median of the samples."""
        return statistics.median(self.seconds)

    @property
    def spread(self) -> float:
        """Return (max - min) / median: how noisy the samples were."""
        if len(self.seconds) < 2:
            return 0.0
        return (max(self.seconds) - min(self.seconds)) / self.median

    def to_json(self) -> dict[str, Any]:
        """Return the samples as JSON."""
        return {
            "median_s": self.median,
            "min_s": min(self.seconds),
            "max_s": max(self.seconds),
            "spread": self.spread,
            "samples_s": self.seconds,
            **({"peak_rss_mib": self.peak_mib} if self.peak_mib else {}),
            **({"cpu_median_s": self.cpu_median} if self.cpu_seconds else {}),
        }


@dataclass
class Figure:
    """One row of the report: our side against the peer side, and the target.

    ``kind`` is ``time`` (the ratio is ours / peer and must be at most ``target``) or
    ``throughput`` (ratio peer-time / our-time, must be at least ``target``), or ``limit``
    for a figure with no peer (``ours`` against an absolute ``target``, e.g. MiB).
    """

    id: str
    what: str
    ours_label: str
    peer_label: str
    ours: Samples
    peer: Samples | None
    target: float
    kind: str = "time"
    unit: str = "s"
    note: str = ""
    absolute: float | None = None

    @property
    def ratio(self) -> float:
        """Return the figure's ratio (see ``kind``)."""
        if self.kind == "limit":
            return float(self.absolute if self.absolute is not None else self.ours.median)
        assert self.peer is not None
        if self.kind == "throughput":
            return self.peer.median / self.ours.median
        return self.ours.median / self.peer.median

    @property
    def passed(self) -> bool:
        """Tell whether the target is met."""
        if self.kind == "throughput":
            return self.ratio >= self.target
        if self.kind == "limit":
            return self.ratio < self.target
        return self.ratio <= self.target

    def target_text(self) -> str:
        """Return the target as the report prints it (``-`` when there is none)."""
        if self.target == float("inf"):
            return "-"
        if self.kind == "throughput":
            return f">= {self.target:g}x"
        if self.kind == "limit":
            return f"< {self.target:g} {self.unit}"
        return f"<= {self.target:g}x"

    def to_json(self) -> dict[str, Any]:
        """Return the figure as JSON."""
        return {
            "id": self.id,
            "what": self.what,
            "kind": self.kind,
            "ours": {"label": self.ours_label, **self.ours.to_json()},
            "peer": (
                {"label": self.peer_label, **self.peer.to_json()} if self.peer is not None else None
            ),
            "ratio": self.ratio,
            "target": self.target_text(),
            "passed": None if self.target == float("inf") else self.passed,
            "note": self.note,
        }


@dataclass(frozen=True)
class Run:
    """One finished child process: wall and CPU seconds, peak RSS (MiB), exit code, output."""

    seconds: float
    cpu_seconds: float
    peak_mib: float
    returncode: int
    stdout: str
    stderr: str


_LAUNCHER = Path(__file__).resolve().parent / "_launch.py"


def run_command(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> Run:
    """Run ``argv`` to completion; return its wall and CPU time and its own peak RSS.

    The command is started by ``_launch.py`` (a bare ``python -S``), which times it around
    fork and ``wait4`` and reads the peak RSS of exactly that child. Forking from this
    process instead would charge the child with this process's memory.
    """
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        result = Path(tmp) / "result.json"
        out_path, err_path = Path(tmp) / "out", Path(tmp) / "err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.run(
                [sys.executable, "-S", str(_LAUNCHER), str(result), *[os.fspath(a) for a in argv]],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=err,
                check=False,
            )
        measured = json.loads(result.read_text())
        run = Run(
            float(measured["seconds"]),
            float(measured["cpu_seconds"]),
            int(measured["maxrss_kib"]) / 1024.0,  # KiB on Linux
            proc.returncode,
            out_path.read_text("utf-8", "replace"),
            err_path.read_text("utf-8", "replace"),
        )
    if check and run.returncode != 0:
        raise RuntimeError(
            f"command failed ({run.returncode}): {' '.join(os.fspath(a) for a in argv)}\n"
            f"{run.stderr[-3000:]}"
        )
    return run


def time_pass(fn: Callable[[], object]) -> float:
    """Return the wall seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
