"""Crash safety: SIGKILL mid-batch leaves table and journal agreeing; a killed snapshot write
leaves the previous snapshot intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from persist_runtime import Store, read_snapshot

from tests import dbs
from tests.runtime.handwritten_counter import (
    COUNTER_SPEC,
    CounterDraft,
    CounterIncrement,
)

ROOT = Path(__file__).resolve().parents[2]


def spawn(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.store_worker", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
    return proc


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def journal_count(store: Store, key: int) -> int:
    return sum(1 for _ in store.journal(COUNTER_SPEC, key))


def assert_table_matches_journal(store: Store, key: int) -> None:
    """Replaying the journal from the created state gives exactly the stored row."""
    loaded = store.load(COUNTER_SPEC, key)
    records = list(store.journal(COUNTER_SPEC, key))
    assert records, "the batch should have committed some commands before the kill"
    assert [r.new_version for r in records] == list(range(2, len(records) + 2))
    assert loaded.version == len(records) + 1
    value, name = 0, "start"
    for r in records:
        if r.command == "Increment":
            value += r.payload["by"]
        else:
            name = r.payload["value"]
    assert (loaded.entity.value, loaded.entity.name) == (value, name)


def run_kill_mid_batch(dialect: str, target: str, factory: Callable[[], Store]) -> None:
    with factory() as store:
        store.ensure(COUNTER_SPEC)
        key = int(store.create(COUNTER_SPEC, CounterDraft(name="start")).id)
        proc = spawn("batch", dialect, target, str(key))
        deadline = time.monotonic() + 30
        while journal_count(store, key) < 200 and time.monotonic() < deadline:
            time.sleep(0.02)
        kill(proc)
    with factory() as store:  # a fresh connection sees only what was committed
        assert_table_matches_journal(store, key)
        # and the store keeps working after the crash
        before = store.version(COUNTER_SPEC, key)
        assert store.execute(COUNTER_SPEC, key, CounterIncrement(by=1)).version == before + 1


@pytest.mark.slow
def test_sigkill_mid_batch_sqlite_keeps_table_and_journal_in_agreement(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "crash.db")
    run_kill_mid_batch("sqlite", path, lambda: Store.sqlite(path))


@pytest.mark.slow
@pytest.mark.db
def test_sigkill_mid_batch_postgres_keeps_table_and_journal_in_agreement() -> None:
    with dbs.postgres_connection() as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        conn.commit()
        dsn = dbs.postgres_dsn_for_schema(schema)

        def factory() -> Store:
            import psycopg

            return Store.connect(psycopg.connect(dsn), "postgres")

        run_kill_mid_batch("postgres", dsn, factory)


@pytest.mark.slow
@pytest.mark.db
def test_sigkill_mid_batch_mysql_keeps_table_and_journal_in_agreement() -> None:
    with dbs.mysql_connection() as conn:
        params = dbs.mysql_params_for(conn)

        def factory() -> Store:
            import pymysql

            return Store.connect(pymysql.connect(**params), "mysql")

        run_kill_mid_batch("mysql", json.dumps(params), factory)


@pytest.mark.slow
def test_killed_snapshot_write_leaves_previous_snapshot_intact(tmp_path: Path) -> None:
    db = str(tmp_path / "snap.db")
    target = tmp_path / "snapshot.json"
    with Store.sqlite(db) as store:
        store.ensure(COUNTER_SPEC)
        store.create_many(COUNTER_SPEC, [CounterDraft(name=f"c{i}") for i in range(10)])
        store.snapshot(str(target))
        previous = target.read_bytes()
        store.create_many(COUNTER_SPEC, [CounterDraft(name=f"d{i}") for i in range(5000)])
    proc = spawn("snapshot", "sqlite", db, str(target))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        temps = [p for p in tmp_path.glob(".snapshot.json.*.tmp") if p.stat().st_size > 4096]
        if temps:
            break
        time.sleep(0.01)
    assert temps, "the snapshot writer never got going"
    kill(proc)
    assert target.read_bytes() == previous
    assert len(read_snapshot(target).records) == 10
