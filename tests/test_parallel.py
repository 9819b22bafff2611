"""fork_map: the same results and errors as a serial loop, computed in forked workers."""

from __future__ import annotations

import gc
import os
import pickle
import threading
import time
from pathlib import Path

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


def test_done_is_called_once_per_item_with_its_result() -> None:
    seen: dict[int, tuple[int, int]] = {}

    def done(index: int, result: tuple[int, int]) -> None:
        assert index not in seen
        seen[index] = result

    results = fork_map(_square_with_pid, list(range(3 * MIN_ITEMS)), jobs=2, done=done)
    assert [seen[i] for i in range(3 * MIN_ITEMS)] == results


def test_done_sees_results_while_workers_are_still_busy(tmp_path: Path) -> None:
    """Results come back in chunks: the caller can use the first ones (write them, say)
    while the last ones are being computed."""
    items = list(range(4 * MIN_ITEMS))
    marker = tmp_path / "a worker's result was seen"

    def last_waits_for_a_result(n: int) -> bool:
        if n != items[-1]:
            return False
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return marker.exists()

    def done(index: int, result: bool) -> None:
        if index > 0:  # item 0 is computed here, before the workers start
            marker.touch()

    results = fork_map(last_waits_for_a_result, items, jobs=2, done=done)
    assert results[-1] is True


class _Full(OSError):
    pass


def test_an_error_in_done_is_raised_and_no_more_chunks_start() -> None:
    started: list[int] = []

    def done(index: int, result: tuple[int, int]) -> None:
        started.append(index)
        if index > 0:
            raise _Full("no space left on device")

    with pytest.raises(_Full):
        fork_map(_square_with_pid, list(range(32 * MIN_ITEMS)), jobs=2, done=done)
    assert len(started) == 2  # the first item, done here, and the first from a worker


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
    results = fork_map(_die_in_a_worker, items, jobs=2, done=lambda i, _r: seen.append(i))
    assert results == [n + 1 for n in items]
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
