"""A separate process driving a store, for the concurrency and crash tests.

    python -m tests.runtime.store_worker increment <dialect> <target> <id> <count>
    python -m tests.runtime.store_worker batch <dialect> <target> <id>
    python -m tests.runtime.store_worker snapshot <dialect> <target> <path>

``target`` is a file path (sqlite), a libpq connection string (postgres) or a JSON object of
PyMySQL connection arguments (mysql). ``increment`` applies ``count`` increments, retrying on
``ConflictError``; ``batch`` alternates increments and renames forever (until killed);
``snapshot`` writes a slow snapshot (until killed). Each prints ``ready`` once connected.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
import time
from typing import Any

from persist_runtime import ConflictError, Store

from tests.runtime.handwritten_counter import (
    COUNTER_SPEC,
    CounterIncrement,
    CounterSetName,
)


def open_store(dialect: str, target: str) -> Store:
    """Open a store on ``target`` in ``dialect``."""
    if dialect == "sqlite":
        return Store.sqlite(target)
    if dialect == "postgres":
        import psycopg

        return Store.connect(psycopg.connect(target), "postgres")
    import pymysql  # type: ignore[import-untyped]

    return Store.connect(pymysql.connect(**json.loads(target)), "mysql")


def increment_with_retry(store: Store, key: int, count: int) -> int:
    """Apply ``count`` increments of 1, retrying lost races; return the number of retries."""
    retries = 0
    for _ in range(count):
        while True:
            try:
                store.execute(COUNTER_SPEC, key, CounterIncrement(by=1))
                break
            except ConflictError:
                retries += 1
                time.sleep(random.uniform(0, 0.002))
    return retries


def main(argv: list[str]) -> int:
    action, dialect, target = argv[:3]
    store = open_store(dialect, target)
    store.register(COUNTER_SPEC)
    print("ready", flush=True)
    if action == "increment":
        retries = increment_with_retry(store, int(argv[3]), int(argv[4]))
        print(f"retries {retries}", flush=True)
    elif action == "batch":
        key = int(argv[3])
        n = 0
        while True:
            n += 1
            command: Any = CounterIncrement(by=n) if n % 2 else CounterSetName(value=f"name-{n}")
            store.execute(COUNTER_SPEC, key, command)
    elif action == "snapshot":

        def slow(entity: Any) -> dict[str, Any]:
            time.sleep(0.001)
            return COUNTER_SPEC.to_record(entity)

        store.snapshot(argv[3], specs=[dataclasses.replace(COUNTER_SPEC, to_record=slow)])
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
