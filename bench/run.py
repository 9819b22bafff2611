"""Run every benchmark of issue P1-P8 against its peer, in one go, and report.

Usage (from the repository root, with Python 3.11)::

    python3.11 bench/run.py              # everything, about 10 minutes on 2 cores
    python3.11 bench/run.py --quick      # smaller inputs, a smoke run
    python3.11 bench/run.py --only P5,P8 # some figures

The first step makes the benchmark's own virtualenv, ``bench/.venv`` (the peers,
datamodel-code-generator with black and isort, pydantic v2 and msgspec, are installed
there and never become dependencies of the product), and installs persist-tool and
persist-runtime into it from this checkout (``pip install ./runtime .``) on every run, so
the figures are the working tree's. Then the script runs itself again inside that
environment, prints one line per figure (our median, the peer's median from the same run,
the ratio, the target, pass or fail) and writes every sample to
``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
RESULTS = BENCH / "results"
WORK = BENCH / "results" / "work"

PEERS = (
    "datamodel-code-generator",
    "black",
    "isort",
    "pydantic>=2",
    "msgspec",
    "pyinstrument",
)
FIGURES = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8")


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _pip(*args: str) -> None:
    subprocess.run(
        [str(_venv_python()), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
        cwd=ROOT,
        check=True,
    )


def setup_environment() -> None:
    """Create ``bench/.venv`` if needed, install the peers once, ours from the checkout."""
    if not _venv_python().exists():
        print(f"creating {VENV.relative_to(ROOT)}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".bench-requirements"
    wanted = hashlib.sha256(
        "\n".join(PEERS).encode()
        + (ROOT / "pyproject.toml").read_bytes()
        + (ROOT / "runtime" / "pyproject.toml").read_bytes()
    ).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("installing peers and dependencies into bench/.venv", flush=True)
        _pip("./runtime", ".", *PEERS)
        stamp.write_text(wanted)
    print("installing persist-tool and persist-runtime from the checkout", flush=True)
    _pip("--no-deps", "--force-reinstall", "./runtime", ".")


def _machine() -> str:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f", {int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores{mem}, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    names = ["persist-tool", "persist-runtime", "datamodel-code-generator", "black", "isort"]
    names += ["pydantic", "pydantic-core", "msgspec"]
    return {n: version(n) for n in names}


def _fmt_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def print_table(figures: list[Any]) -> None:
    """Print one line per figure (``measure.Figure`` objects)."""
    head = (
        f"{'id':<18} {'ours (median)':>14} {'peer (median)':>14} {'ratio':>7} {'target':>10}"
        "  result"
    )
    print("\n" + head)
    print("-" * len(head))
    for fig in figures:
        ours = (
            f"{fig.ours.peak_mib:.0f} MiB" if fig.kind == "limit" else _fmt_seconds(fig.ours.median)
        )
        peer = _fmt_seconds(fig.peer.median) if fig.peer is not None else "-"
        ratio = f"{fig.ratio:.0f}" if fig.kind == "limit" else f"{fig.ratio:.3f}"
        verdict = "report" if fig.target == float("inf") else ("PASS" if fig.passed else "FAIL")
        target = "-" if fig.target == float("inf") else fig.target_text()
        spread = max(fig.ours.spread, fig.peer.spread if fig.peer else 0.0)
        print(
            f"{fig.id:<18} {ours:>14} {peer:>14} {ratio:>7} {target:>10}  {verdict}"
            f"  (spread {spread:.0%})"
        )
    for fig in figures:
        if fig.note:
            print(f"  {fig.id}: {fig.note}")


def _in_fresh_process(
    case: str, count: int, repeats: int, bin_dir: Path, started: float
) -> list[Any]:
    """Run an in-process case (``runtime_cases.py``) in an interpreter of its own."""
    import pickle
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.pickle"
        argv = [sys.executable, str(BENCH / "runtime_cases.py"), case, str(count), str(repeats)]
        argv += [str(WORK), str(bin_dir), str(out), "--started", str(started)]
        subprocess.run(argv, check=True, cwd=BENCH)
        figures: list[Any] = pickle.loads(out.read_bytes())
    return figures


def run_suite(args: argparse.Namespace) -> int:
    """Run the chosen figures inside the benchmark environment."""
    sys.path.insert(0, str(BENCH))
    import cli_cases
    import journal_case

    only = {s.strip().upper() for s in args.only.split(",")} if args.only else set(FIGURES)
    WORK.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    started = time.time()  # wall clock: shared with the cases run in processes of their own

    def log(message: str) -> None:
        print(f"[{time.time() - started:6.0f}s] {message}", flush=True)

    quick = args.quick
    sizes = (100, 400) if quick else (500, 2000)
    cli = cli_cases.CliContext(bin_dir, WORK, 2 if quick else 5, log)
    # Outputs of an interrupted earlier suite go first, then the figures that create few
    # files (about 80 s of them): the file system needs about a minute after deleting
    # thousands of files before creating files costs what it costs on a quiet disk (see
    # cli_cases), and the generation figures create thousands.
    cli_cases.remove_leftovers(cli)
    generation: list[Any] = []
    others: list[Any] = []
    try:
        if "P4" in only:
            others.append(cli_cases.startup_case(cli, 5 if quick else 15))
        counts = {
            "P5": 20_000 if quick else 200_000,
            "P6": 20_000 if quick else 100_000,
            "P8": 100_000 if quick else 1_000_000,
        }
        for case, count in counts.items():
            if case in only:
                others += _in_fresh_process(case, count, 3 if quick else 7, bin_dir, started)
        if "P7" in only:
            jc = journal_case.JournalContext(bin_dir, WORK, 2 if quick else 3, log)
            others += journal_case.journal_case(jc, 100_000 if quick else 1_000_000)
        if only & {"P1", "P2", "P3"}:
            generation = cli_cases.generation_cases(cli, sizes, 2 if quick else 3)
    finally:
        cli_cases.remove_outputs(cli)
    figures = generation + others
    print_table(figures)
    total = time.time() - started
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": _machine(),
        "load_average": list(os.getloadavg()),
        "quick": quick,
        "seconds": total,
        "versions": _versions(),
        "figures": [f.to_json() for f in figures],
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("quick.json" if quick else "latest.json")
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\n{len(figures)} figures in {total:.0f} s on {_machine()}; samples in {out}")
    return 0


def main() -> int:
    """Set up the environment (outside it) or run the suite (inside it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, few repeats")
    parser.add_argument("--only", default="", help="comma-separated figure ids, e.g. P1,P5")
    parser.add_argument(
        "--no-install", action="store_true", help="use bench/.venv as it is (no reinstall)"
    )
    parser.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_venv:
        return run_suite(args)
    if not args.no_install:
        setup_environment()
    argv = [str(_venv_python()), str(Path(__file__).resolve()), "--in-venv", *sys.argv[1:]]
    return subprocess.run(argv, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
