"""Executors run ``task_fn(shared, task)`` once per task and return results in task order."""

from __future__ import annotations

import os
from typing import Any

import pytest

from vwapcli.executors import ExecutorError, run_tasks


def scaled_sum(shared: dict[str, Any], task: tuple[int, int]) -> tuple[int, int, int]:
    """A trivial task: (task position, value x shared factor, the worker's pid)."""
    position, value = task
    return position, value * shared["factor"], os.getpid()


def test_local_pool_returns_every_result_in_task_order() -> None:
    tasks = [(i, i) for i in range(12)]
    done = run_tasks(scaled_sum, tasks, {"factor": 3}, executor="local", workers=2)
    assert [(p, v) for p, v, _ in done] == [(i, 3 * i) for i in range(12)]
    assert all(pid != os.getpid() for _, _, pid in done)  # ran in worker processes


def test_inline_executor_runs_in_this_process_and_reports_progress() -> None:
    finished: list[int] = []
    done = run_tasks(scaled_sum, [(0, 1), (1, 2)], {"factor": 5}, executor="inline", progress=finished.append)
    assert [(p, v) for p, v, _ in done] == [(0, 5), (1, 10)]
    assert finished == [0, 1]
    assert {pid for _, _, pid in done} == {os.getpid()}


def test_local_pool_reports_progress_once_per_task() -> None:
    finished: list[int] = []
    run_tasks(scaled_sum, [(i, i) for i in range(5)], {"factor": 1}, executor="local", workers=2,
              progress=finished.append)
    assert sorted(finished) == [0, 1, 2, 3, 4]


def test_no_tasks_means_no_pool_and_no_results() -> None:
    assert run_tasks(scaled_sum, [], {"factor": 1}, executor="local") == []


def test_unknown_executor_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ExecutorError, match="known: local, dask, inline"):
        run_tasks(scaled_sum, [(0, 1)], {"factor": 1}, executor="ray")


def test_dask_local_cluster_gives_the_same_results_as_the_process_pool() -> None:
    pytest.importorskip("dask.distributed")
    tasks = [(i, i) for i in range(6)]
    local = run_tasks(scaled_sum, tasks, {"factor": 7}, executor="local", workers=2)
    dask = run_tasks(scaled_sum, tasks, {"factor": 7}, executor="dask", workers=1,
                     cluster_options={"processes": False, "threads_per_worker": 2})
    assert [(p, v) for p, v, _ in dask] == [(p, v) for p, v, _ in local]


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_started_is_called_once_before_any_result_is_reported(executor: str) -> None:
    """The backtest starts its fingerprint thread there: after the pool has forked its
    workers (so no fork copies the thread), before the first task's result comes back."""
    events: list[str] = []
    run_tasks(scaled_sum, [(i, i) for i in range(4)], {"factor": 1}, executor=executor, workers=2,
              progress=lambda i: events.append("done"), started=lambda: events.append("started"))
    assert events == ["started", "done", "done", "done", "done"]
