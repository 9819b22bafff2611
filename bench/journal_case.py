"""P7: ``persist-tool compat-check --journal`` on a long journal: throughput and peak RSS.

The journal comes from ``compat_journal.write_journal`` (shop fixture commands, one removed
command every 997 lines). Both sides are whole processes: the command line as a CI job runs
it (reading the schema and the lock file, checking every line, printing a JSON report), and
a bare script that only runs ``json.loads`` on every line. The ``check_journal`` primitive
is also timed on its own, in a process that imports only the runtime and the generated
package, to show how much of the command is start-up.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import compat_journal
from measure import Figure, Samples, run_command

__all__ = ["JournalContext", "journal_case"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class JournalContext:
    """Where to work and how often to repeat."""

    bin: Path
    work: Path
    repeats: int
    log: Callable[[str], None]


def journal_case(ctx: JournalContext, lines: int) -> list[Figure]:
    """Run P7 and return its figures (throughput ratio, peak RSS)."""
    work = ctx.work / "journal"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(compat_journal.SHOP, work / "shop.sql")
    journal = work / "journal.jsonl"
    ctx.log(f"P7: writing a {lines:,}-line journal")
    compat_journal.write_journal(journal, lines)
    tool = str(ctx.bin / "persist-tool")
    run_command([tool, "lock", "shop.sql"], cwd=work)
    run_command([tool, "generate", "entity", "shop.sql", "-o", "shop"], cwd=work)
    python = sys.executable
    check_argv = [tool, "compat-check", "shop.sql", "--journal", journal.name, "--format", "json"]
    ours, bare, core = Samples(), Samples(), Samples()
    findings: list[object] = []
    for i in range(ctx.repeats):
        run = run_command(check_argv, cwd=work, check=False)
        if run.returncode not in (0, 1):
            raise RuntimeError(f"compat-check failed ({run.returncode}):\n{run.stderr[-3000:]}")
        report = json.loads(run.stdout)
        findings = sorted({f["rule"] for f in report["findings"]})
        ours.seconds.append(run.seconds)
        ours.peak_mib = max(ours.peak_mib, run.peak_mib)
        peer = run_command([python, "-c", compat_journal._BARE, journal.name], cwd=work)
        bare.seconds.append(peer.seconds)
        bare.peak_mib = max(bare.peak_mib, peer.peak_mib)
        prim = run_command([python, "-c", compat_journal._CHECK, journal.name, str(work)], cwd=work)
        core.seconds.append(float(json.loads(prim.stdout)["seconds"]))
        core.peak_mib = max(core.peak_mib, prim.peak_mib)
        ctx.log(
            f"  #{i + 1}: compat-check {run.seconds:.2f} s ({run.peak_mib:.0f} MiB), "
            f"bare json.loads {peer.seconds:.2f} s, check_journal alone {core.seconds[-1]:.2f} s"
        )
    size = journal.stat().st_size / 2**20
    note = (
        f"{lines:,} lines, {size:.0f} MiB; rules found: {', '.join(map(str, findings))}; "
        f"check_journal alone {core.median:.2f} s (ratio {bare.median / core.median:.2f}, "
        f"{core.peak_mib:.0f} MiB)"
    )
    return [
        Figure(
            "P7",
            f"compat-check --journal, {lines:,} lines: throughput vs json.loads per line",
            "persist-tool compat-check --journal",
            "python: json.loads per line",
            ours,
            bare,
            0.5,
            kind="throughput",
            note=note,
        ),
        Figure(
            "P7 RSS",
            "compat-check --journal peak RSS",
            "persist-tool compat-check --journal",
            "",
            ours,
            None,
            100.0,
            kind="limit",
            unit="MiB",
            absolute=ours.peak_mib,
        ),
    ]
