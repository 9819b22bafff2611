"""Benchmark ``persist_runtime.check_journal`` on a long journal: peak memory and throughput.

Writes the shop fixture's generated entity package and an N-line JSONL journal (default
1,000,000 lines: setters, patches, a touch, and one removed command every 997 lines so the
check has a folded finding to keep), then runs, each in a fresh process that imports only
the runtime and the generated package:

* the bare baseline: ``json.loads`` of every line, nothing else;
* ``check_journal(path, ENTITIES, plan)``,

alternating ``--repeat`` times (default 3; the fastest run of each side counts, the
machine may be shared).

It prints both times, the throughput ratio (check / bare, higher is better; the target is
at least 0.5) and the check's peak resident memory (target: under 100 MB, and not growing
with N).

Usage::

    .venv/bin/python bench/compat_journal.py            # 1,000,000 lines
    .venv/bin/python bench/compat_journal.py --lines 100000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "fixtures" / "shop" / "shop.sql"

_COMMANDS = [
    ("SetStatus", {"value": "shipped"}),
    ("Patch", {"note": "leave at the door", "total": "99.10"}),
    ("SetNote", {"value": None}),
    ("Touch", {}),
    ("Ship", {"carrier": "post"}),
]

_BARE = """
import json, sys, time
start = time.perf_counter()
with open(sys.argv[1], "rb") as handle:
    for raw in handle:
        json.loads(raw)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

_CHECK = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
import shop
from persist_runtime import MigrationPlan, check_journal
plan = MigrationPlan.for_specs([], shop.ENTITIES)
start = time.perf_counter()
found = check_journal(sys.argv[1], shop.ENTITIES, plan)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024,
                  "findings": [[f.rule, f.occurrences] for f in found]}))
"""


def write_journal(path: Path, lines: int) -> None:
    """Write ``lines`` journal records; every 997th names a command the shop lacks."""
    base = {
        "format_version": 1,
        "ts": "2026-11-21T10:00:00.000000Z",
        "entity": "Order",
        "schema_version": 1,
        "payload_version": 1,
        "idempotency_key": None,
    }
    with path.open("w", encoding="utf-8") as out:
        for seq in range(1, lines + 1):
            name, payload = _COMMANDS[4 if seq % 997 == 0 else seq % 4]
            record = {
                **base,
                "seq": seq,
                "id": seq % 50_000,
                "command": name,
                "payload": payload,
                "expected_version": seq // 50_000 + 1,
                "new_version": seq // 50_000 + 2,
            }
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


def _run(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    """Run the benchmark and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each side; the fastest counts"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="persist-bench-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "persist_tool",
                "generate",
                "entity",
                str(SHOP),
                "-o",
                str(work / "shop"),
            ],
            check=True,
            capture_output=True,
        )
        journal = work / "journal.jsonl"
        write_journal(journal, args.lines)
        size_mib = journal.stat().st_size / 2**20
        bares, checks = [], []
        for _ in range(max(1, args.repeat)):  # alternate, so load spikes hit both sides
            bares.append(_run(_BARE, str(journal)))
            checks.append(_run(_CHECK, str(journal), str(work)))
    bare_s = min(float(b["seconds"]) for b in bares)  # type: ignore[arg-type]
    check_s = min(float(c["seconds"]) for c in checks)  # type: ignore[arg-type]
    check = dict(checks[0])
    check["peak_mib"] = max(float(c["peak_mib"]) for c in checks)  # type: ignore[arg-type]
    print(f"journal: {args.lines:,} lines, {size_mib:.0f} MiB")
    print(f"bare json.loads per line: {bare_s:.2f} s ({args.lines / bare_s:,.0f} lines/s)")
    print(f"check_journal:            {check_s:.2f} s ({args.lines / check_s:,.0f} lines/s)")
    print(f"throughput ratio (check/bare): {bare_s / check_s:.2f}  (target >= 0.5)")
    print(f"check peak RSS: {check['peak_mib']:.1f} MiB  (target < 100)")
    print(f"findings: {check['findings']}")


if __name__ == "__main__":
    main()
