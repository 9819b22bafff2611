"""Concurrency: four writers, 250 increments each, on one entity; retries on ConflictError.

The final value must be exactly 1000 and the journal must hold exactly 1000 records for the
entity with gapless versions 2..1001 — no lost update, no double application.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from persist_runtime import Store

from tests import dbs
from tests.runtime.handwritten_counter import COUNTER_SPEC, CounterDraft
from tests.runtime.store_worker import increment_with_retry

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
PER_WRITER = 250


def assert_exactly_once(store: Store, key: int) -> None:
    loaded = store.load(COUNTER_SPEC, key)
    assert loaded.entity.value == WRITERS * PER_WRITER
    assert loaded.version == WRITERS * PER_WRITER + 1
    records = list(store.journal(COUNTER_SPEC, key))
    assert len(records) == WRITERS * PER_WRITER
    assert sorted(r.new_version for r in records) == list(range(2, WRITERS * PER_WRITER + 2))
    assert all(r.expected_version == r.new_version - 1 for r in records)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.db),
        pytest.param("mysql", id="mysql", marks=pytest.mark.db),
    ]
)
def shared_target(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Callable[[], Store]]]:
    """(dialect, a factory of stores on one shared private database)."""
    dialect = str(request.param)
    if dialect == "sqlite":
        path = str(tmp_path / "shared.db")
        yield dialect, lambda: Store.sqlite(path)
    elif dialect == "postgres":
        with dbs.postgres_connection() as conn:
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            conn.commit()
            dsn = dbs.postgres_dsn_for_schema(schema)

            def pg() -> Store:
                import psycopg

                return Store.connect(psycopg.connect(dsn), "postgres")

            yield dialect, pg
    else:
        with dbs.mysql_connection() as conn:
            params = dbs.mysql_params_for(conn)

            def my() -> Store:
                import pymysql

                return Store.connect(pymysql.connect(**params), "mysql")

            yield dialect, my


def prepare(factory: Callable[[], Store]) -> int:
    with factory() as store:
        store.ensure(COUNTER_SPEC)
        return int(store.create(COUNTER_SPEC, CounterDraft(name="shared")).id)


@pytest.mark.slow
def test_four_threads_apply_every_increment_exactly_once(
    shared_target: tuple[str, Callable[[], Store]],
) -> None:
    _, factory = shared_target
    key = prepare(factory)
    errors: list[BaseException] = []
    stores = [factory() for _ in range(WRITERS)]
    for s in stores:
        s.register(COUNTER_SPEC)

    def writer(store: Store) -> None:
        try:
            increment_with_retry(store, key, PER_WRITER)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.close()
    assert not errors
    with factory() as store:
        assert_exactly_once(store, key)


def _process_target(dialect: str, factory: Callable[[], Store], tmp_path: Path) -> str:
    with factory() as store:
        conn: Any = store.connection
        if dialect == "sqlite":
            return str(conn.execute("PRAGMA database_list").fetchone()[2])
        if dialect == "postgres":
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            return dbs.postgres_dsn_for_schema(schema)
        return json.dumps(dbs.mysql_params_for(conn))


@pytest.mark.slow
@pytest.mark.parametrize("dialect_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.db)])
def test_four_processes_apply_every_increment_exactly_once(
    dialect_name: str, tmp_path: Path
) -> None:
    if dialect_name == "sqlite":
        path = str(tmp_path / "shared.db")
        factory: Callable[[], Store] = lambda: Store.sqlite(path)  # noqa: E731
        run_processes(dialect_name, path, factory)
    else:
        with dbs.postgres_connection() as conn:
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            conn.commit()
            dsn = dbs.postgres_dsn_for_schema(schema)

            def pg() -> Store:
                import psycopg

                return Store.connect(psycopg.connect(dsn), "postgres")

            run_processes(dialect_name, dsn, pg)


def run_processes(dialect: str, target: str, factory: Callable[[], Store]) -> None:
    key = prepare(factory)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.runtime.store_worker",
                "increment",
                dialect,
                target,
                str(key),
                str(PER_WRITER),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.startswith("ready")
    with factory() as store:
        assert_exactly_once(store, key)
