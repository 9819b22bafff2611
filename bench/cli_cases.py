"""P1-P4: whole commands timed as child processes (wall time, peak RSS).

Every side runs as the user would run it, from the work directory, with a fresh output
location for each full generation; our runs and the peer's alternate so a load spike on
the shared machine hits both.

Outputs are not deleted between runs, only once the suite is done (``remove_outputs``).
On a file system such as this machine's (ext4 without a journal), creating a file skips
over every inode freed in the last minute or so of its block group, one by one: 2,000 new
files took 0.07-0.1 s of kernel time with no recent deletions and up to 1.7 s after a few
rounds of deleting as many (``perf``: ``recently_deleted`` under ``__ext4_new_inode``,
over 60 % of the samples). Deleting the previous run's 2,001 modules just before the next
run charged that run for the harness's own clean-up, and more the longer the suite went on.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import synth
from measure import Figure, Run, Samples, run_command

__all__ = [
    "CliContext",
    "generation_cases",
    "remove_leftovers",
    "remove_outputs",
    "startup_case",
]


@dataclass(frozen=True)
class CliContext:
    """Where the commands live and how often to repeat them."""

    bin: Path
    work: Path
    repeats: int
    log: Callable[[str], None]
    outputs: list[Path] = field(default_factory=list)
    """What the commands wrote, removed by ``remove_outputs`` when the suite is done."""

    def tool(self, name: str) -> str:
        """Return the path of a console script of the benchmark environment."""
        return str(self.bin / name)


def _dmc(ctx: CliContext, source: Path, out: Path, builtin: bool) -> list[str]:
    argv = [
        ctx.tool("datamodel-codegen"),
        "--input",
        str(source),
        "--input-file-type",
        "jsonschema",
        "--output-model-type",
        "dataclasses.dataclass",
        "--output",
        str(out),
    ]
    return [*argv, "--formatters", "builtin"] if builtin else argv


def _ours(ctx: CliContext, source: Path, out: Path, *extra: str) -> list[str]:
    return [ctx.tool("persist-tool"), "generate", "entity", source.name, "-o", out.name, *extra]


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def remove_leftovers(ctx: CliContext) -> None:
    """Remove the outputs an interrupted earlier suite left in the work directory."""
    for pattern in ("out_json_*", "out_ddl_*", "dmc_*.py", ".out_*"):
        for path in ctx.work.glob(pattern):
            _remove(path)


def remove_outputs(ctx: CliContext) -> None:
    """Remove what the timed commands wrote (call once every figure is measured)."""
    for path in ctx.outputs:
        _remove(path)
    ctx.outputs.clear()


# One side of an alternation: the command line of run ``i`` and where that run writes.
Side = Callable[[int], tuple[Sequence[str], Path | None]]


def _alternate(ctx: CliContext, sides: dict[str, Side], repeats: int) -> dict[str, Samples]:
    """Run every side ``repeats`` times, round-robin, each run into an output of its own."""
    samples = {name: Samples() for name in sides}
    for i in range(repeats):
        for name, side in sides.items():
            argv, output = side(i)
            if output is not None:
                _remove(output)  # a leftover of an interrupted suite: none when all went well
                ctx.outputs.append(output)
            run = run_command(argv, cwd=ctx.work)
            samples[name].seconds.append(run.seconds)
            samples[name].cpu_seconds.append(run.cpu_seconds)
            samples[name].peak_mib = max(samples[name].peak_mib, run.peak_mib)
            ctx.log(
                f"  {name} #{i + 1}: {run.seconds:.2f} s ({run.cpu_seconds:.2f} s CPU),"
                f" {run.peak_mib:.0f} MiB"
            )
    return samples


def cpu_note(ours: Samples, peer: Samples, target: float) -> str:
    """Say what our CPU time allows: no run is shorter than its CPU time over the cores.

    When that bound is above the target time, the target cannot be met by spreading the
    work better, only by doing less of it.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    return (
        f"CPU ours {ours.cpu_median:.2f} s, so at least {ours.cpu_median / cores:.2f} s of wall"
        f" on {cores} cores, against the target's {target * peer.median:.2f} s;"
        f" peer CPU {peer.cpu_median:.2f} s"
    )


def black_stable(out_dir: Path, sample_every: int) -> tuple[int, list[str]]:
    """Check a deterministic sample of generated files with black; return (checked, bad)."""
    import black

    files = sorted(out_dir.glob("*.py"))
    picked = [f for i, f in enumerate(files) if i % sample_every == 0 or f.name == "__init__.py"]
    bad = []
    for path in picked:
        text = path.read_text(encoding="utf-8")
        if black.format_str(text, mode=black.Mode()) != text:
            bad.append(path.name)
    return len(picked), bad


def generation_cases(ctx: CliContext, sizes: Sequence[int], repeats_large: int) -> list[Figure]:
    """Run P1 (both peers, every size), P1b, P2 and P3; return their figures."""
    figures: list[Figure] = []
    ours_by_n: dict[int, Samples] = {}
    dmc_default_small: Samples | None = None
    ours_full_small: Samples | None = None
    small = sizes[0]
    for n in sizes:
        js, sql = synth.write(n, ctx.work)
        repeats = ctx.repeats if n == small else repeats_large

        def ours_json(i: int, n: int = n, js: Path = js) -> tuple[Sequence[str], Path]:
            out = ctx.work / f"out_json_{n}_{i}"
            return _ours(ctx, js, out), out

        def dmc(
            i: int, n: int = n, js: Path = js, builtin: bool = False
        ) -> tuple[Sequence[str], Path]:
            out = ctx.work / f"dmc_{'builtin_' if builtin else ''}{n}_{i}.py"
            return _dmc(ctx, js, out, builtin), out

        ctx.log(f"P1 N={n}: persist-tool vs datamodel-codegen (default and builtin formatters)")
        samples = _alternate(
            ctx,
            {
                "persist-tool": ours_json,
                "dmc default": dmc,
                "dmc builtin": functools.partial(dmc, builtin=True),
            },
            repeats,
        )
        out = ours_json(repeats - 1)[1]  # the last run's output, checked below and by P3
        ours = samples["persist-tool"]
        ours_by_n[n] = ours
        checked, bad = black_stable(out, max(1, n // 25))
        stable = f"black-stable: {checked - len(bad)}/{checked} sampled files"
        files = len(list(out.glob("*.py")))
        size_mib = sum(p.stat().st_size for p in out.glob("*.py")) / 2**20
        peer_size = dmc(repeats - 1)[1].stat().st_size / 2**20
        note = (
            f"{files} files, {size_mib:.1f} MiB written (datamodel-codegen: one module, "
            f"{peer_size:.1f} MiB); {stable}"
        )
        rss = (
            f"; peak RSS ours {ours.peak_mib:.0f} MiB, datamodel-codegen default "
            f"{samples['dmc default'].peak_mib:.0f} MiB, builtin "
            f"{samples['dmc builtin'].peak_mib:.0f} MiB"
        )
        figures.append(
            Figure(
                f"P1 N={n}",
                f"generate entity on the JSON Schema, N={n}, all artifacts",
                "persist-tool generate entity",
                "datamodel-codegen (black+isort)",
                ours,
                samples["dmc default"],
                0.2,
                note=f"{note}{rss}; {cpu_note(ours, samples['dmc default'], 0.2)}",
            )
        )
        figures.append(
            Figure(
                f"P1 N={n} builtin",
                f"generate entity on the JSON Schema, N={n}, vs --formatters builtin",
                "persist-tool generate entity",
                "datamodel-codegen --formatters builtin",
                ours,
                samples["dmc builtin"],
                0.5,
                note=cpu_note(ours, samples["dmc builtin"], 0.5),
            )
        )
        if n == small:
            dmc_default_small = samples["dmc default"]
            ours_full_small = ours
            ctx.log(f"P2 N={n}: generate entity on the DDL twin")

            def ours_ddl(i: int, n: int = n, sql: Path = sql) -> tuple[Sequence[str], Path]:
                out = ctx.work / f"out_ddl_{n}_{i}"
                return _ours(ctx, sql, out), out

            ddl = _alternate(ctx, {"ddl": ours_ddl}, repeats)["ddl"]
            figures.append(
                Figure(
                    f"P2 N={n}",
                    f"generate entity on the DDL twin, N={n}",
                    "persist-tool generate entity (DDL)",
                    "datamodel-codegen (black+isort) on the JSON twin",
                    ddl,
                    dmc_default_small,
                    0.2,
                    note=cpu_note(ddl, dmc_default_small, 0.2),
                )
            )
            ctx.log(f"P3 N={n}: generate entity --check, nothing changed")
            check = Samples()
            for i in range(repeats):
                run: Run = run_command(_ours(ctx, js, out, "--check"), cwd=ctx.work)
                check.seconds.append(run.seconds)
                ctx.log(f"  --check #{i + 1}: {run.seconds:.2f} s (exit {run.returncode})")
            figures.append(
                Figure(
                    f"P3 N={n}",
                    f"generate entity --check with nothing changed, N={n}",
                    "persist-tool generate entity --check",
                    "persist-tool generate entity (full)",
                    check,
                    ours_full_small,
                    0.1,
                )
            )
    if len(sizes) > 1:
        big = sizes[-1]
        figures.append(
            Figure(
                "P1b",
                f"scaling: time(N={big}) / time(N={small})",
                f"persist-tool N={big}",
                f"persist-tool N={small}",
                ours_by_n[big],
                ours_by_n[small],
                4.4 * (big / small) / 4,
                note="target 4.4 for 2000/500 (linear would be 4.0)",
            )
        )
    return figures


def startup_case(ctx: CliContext, repeats: int) -> Figure:
    """P4: cold start of ``--help`` against datamodel-codegen's."""
    ctx.log("P4: cold start --help")
    samples = _alternate(
        ctx,
        {
            "persist-tool --help": lambda i: ([ctx.tool("persist-tool"), "--help"], None),
            "datamodel-codegen --help": lambda i: ([ctx.tool("datamodel-codegen"), "--help"], None),
        },
        repeats,
    )
    return Figure(
        "P4",
        "cold start: --help",
        "persist-tool --help",
        "datamodel-codegen --help",
        samples["persist-tool --help"],
        samples["datamodel-codegen --help"],
        1.0,
    )
