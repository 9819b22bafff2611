"""fork_map: the same results and errors as a serial loop, computed in forked workers."""

from __future__ import annotations

import gc
import os
import pickle
import threading

import pytest

from persist_tool import ir
from persist_tool.parallel import MIN_ITEMS, default_jobs, fork_map


def _square_with_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def test_results_match_the_serial_loop_in_order_and_use_other_processes() -> None:
    items = list(range(4 * MIN_ITEMS))
    results = fork_map(_square_with_pid, items, jobs=2)
    assert [value for value, _pid in results] == [n * n for n in items]
    # The first item warms this process up (imports, caches) before the workers fork.
    assert results[0][1] == os.getpid()
    workers = {pid for _value, pid in results[1:]}
    assert len(workers) == 2 and os.getpid() not in workers


def test_workers_inherit_what_the_first_item_loaded_and_the_collector_is_thawed() -> None:
    loaded: list[int] = []

    def load_once(n: int) -> int:
        if not loaded:
            loaded.append(os.getpid())
        return loaded[0]

    frozen_before = gc.get_freeze_count()
    results = fork_map(load_once, list(range(4 * MIN_ITEMS)), jobs=2)
    assert set(results) == {os.getpid()}
    assert gc.get_freeze_count() == frozen_before


def _fail_at(n: int) -> int:
    if n in (37, 150, 151):
        raise ir.SourceError(ir.Location("s.json", n, 1), f"bad item {n}", "fix it")
    return n


def test_the_first_failing_item_raises_as_the_serial_loop_would() -> None:
    with pytest.raises(ir.SourceError) as caught:
        fork_map(_fail_at, list(range(4 * MIN_ITEMS)), jobs=3)
    assert caught.value.render() == "s.json:37:1: error: bad item 37\n  hint: fix it"


def test_small_inputs_and_one_job_stay_in_this_process() -> None:
    pid = os.getpid()
    assert {p for _v, p in fork_map(_square_with_pid, list(range(MIN_ITEMS // 2)), jobs=4)} == {pid}
    assert {p for _v, p in fork_map(_square_with_pid, list(range(4 * MIN_ITEMS)), jobs=1)} == {pid}


def test_done_is_called_once_per_item() -> None:
    seen: list[int] = []
    fork_map(_square_with_pid, list(range(3 * MIN_ITEMS)), jobs=2, done=seen.append)
    assert sorted(seen) == list(range(3 * MIN_ITEMS))


def test_jobs_come_from_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "3")
    assert default_jobs() == 3
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "zero")
    assert default_jobs() >= 1


def test_source_errors_survive_pickling_between_processes() -> None:
    error = ir.SourceError(ir.Location("a.sql", 3, 7), "no table", "add one")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.location, copy.message, copy.hint) == (error.location, "no table", "add one")


_PARENT = os.getpid()


def _die_in_a_worker(n: int) -> int:
    if os.getpid() != _PARENT:
        os._exit(3)  # a worker killed mid-way, as the OOM killer would
    return n + 1


def test_a_dead_worker_means_the_work_is_done_here_instead() -> None:
    seen: list[int] = []
    items = list(range(3 * MIN_ITEMS))
    assert fork_map(_die_in_a_worker, items, jobs=2, done=seen.append) == [n + 1 for n in items]
    assert sorted(seen) == items


def test_a_process_running_other_threads_renders_in_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PERSIST_TOOL_JOBS", "2")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        results = fork_map(_square_with_pid, list(range(4 * MIN_ITEMS)))
    finally:
        stop.set()
        other.join()
    assert {pid for _value, pid in results} == {os.getpid()}
