"""Map a function over many items in forked worker processes (CPU-bound rendering).

Rendering one module per entity is pure Python and independent per entity, so a large
schema renders on every core. Workers are forked: they inherit the items and the function
without pickling them, and send back only results (the calling process waits meanwhile).
Where fork is unavailable, for small inputs, or with ``PERSIST_TOOL_JOBS=1``, the map runs
in this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, TypeVar

__all__ = ["MIN_ITEMS", "default_jobs", "fork_map"]

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 64
"""Below this many items, starting workers costs more than it saves."""

JOBS_VARIABLE = "PERSIST_TOOL_JOBS"

_CHUNKS_PER_JOB = 4  # enough for a progress bar to move, few enough to cost nothing


def default_jobs() -> int:
    """Return how many processes to use: ``PERSIST_TOOL_JOBS``, else the usable CPUs."""
    text = os.environ.get(JOBS_VARIABLE, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Task(Generic[T, R]):
    """The function and items of the running map, inherited by forked workers."""

    def __init__(self, fn: Callable[[T], R], items: Sequence[T]) -> None:
        self.fn = fn
        self.items = items

    def run(self, indexes: Sequence[int]) -> list[tuple[int, bool, Any]]:
        """Return ``(index, ok, result or exception)``; stop at the first failure."""
        out: list[tuple[int, bool, Any]] = []
        for index in indexes:
            try:
                out.append((index, True, self.fn(self.items[index])))
            except Exception as error:  # re-raised by the parent, in item order
                out.append((index, False, error))
                break
        return out


_task: _Task[Any, Any] | None = None


def _run_inherited(indexes: Sequence[int]) -> list[tuple[int, bool, Any]]:
    assert _task is not None, "fork_map workers must be forked from fork_map"
    return _task.run(indexes)


def fork_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int | None = None,
    done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Return ``[fn(item) for item in items]``, computed in up to ``jobs`` processes.

    ``jobs`` defaults to ``default_jobs()``, or to 1 while other threads run. An exception
    is raised as the serial loop would raise it: the one of the first failing item. If a
    worker dies, the work is done again in this process. ``done(index, result)`` is called
    in this process, once per item, as results arrive: the items go out in chunks, several
    per worker, so a progress bar advances, and the caller can use results (write them
    out, say) while workers are still busy.
    """
    if jobs is None:
        # A fork copies the locks other threads hold at that moment, never to be released
        # in the child: a process running other threads renders in itself.
        jobs = default_jobs() if threading.active_count() == 1 else 1
    jobs = min(jobs, max(1, len(items) // (MIN_ITEMS // 2)))
    reported: set[int] = set()

    def report(index: int, result: R) -> None:
        if done is not None and index not in reported:
            reported.add(index)
            done(index, result)

    results: list[R] = []
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        # The first item is done here, before forking: what it loads and caches on first
        # use (lazy imports, compiled templates, memo tables) is then inherited by every
        # worker instead of being made again in each.
        results.append(fn(items[0]))
        report(0, results[0])
        try:
            return results + _fork_map(fn, items, jobs, report, start=1)
        except BrokenProcessPool:
            pass  # a worker died (killed, out of memory): do the work here instead
    for index in range(len(results), len(items)):
        results.append(fn(items[index]))
        report(index, results[index])
    return results


def _fork_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    report: Callable[[int, R], None],
    *,
    start: int = 0,
) -> list[R]:
    """Return the results of ``items[start:]``, computed in ``jobs`` forked workers."""
    global _task
    size = -(-(len(items) - start) // (jobs * _CHUNKS_PER_JOB))
    chunks = [range(i, min(i + size, len(items))) for i in range(start, len(items), size)]
    _task = _Task(fn, items)
    outcomes: list[tuple[int, bool, Any]] = []
    # Objects alive now are the workers' inheritance: kept out of the collector's sight,
    # the workers' collections do not walk them (nor copy the pages they are on).
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(_run_inherited, chunk) for chunk in chunks]
            try:
                for future in as_completed(futures):
                    chunk_outcomes = future.result()
                    outcomes.extend(chunk_outcomes)
                    for index, ok, value in chunk_outcomes:
                        if ok:
                            report(index, value)
            except BaseException:
                # ``report`` failed (a full disk) or the user interrupted: start no more.
                pool.shutdown(cancel_futures=True)
                raise
    finally:
        _task = None
        gc.unfreeze()
    outcomes.sort(key=lambda outcome: outcome[0])
    failures = [outcome for outcome in outcomes if not outcome[1]]
    if failures:
        raise failures[0][2]
    return [value for _index, _ok, value in outcomes]
