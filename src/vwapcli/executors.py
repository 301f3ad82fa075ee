"""Where fanned-out tasks run: a local process pool (default) or a Dask cluster.

The sweep's trials and the backtest's per-symbol phase (SPEC 13) both run here. Both
executors share one contract: ``task_fn(shared, task)`` is called once per task, where
``shared`` is the read-only input every task needs (the sweep: the sessioned bars; the
backtest: the config and the store path, the bars being read by each task itself) and is
shipped to each worker **once**, not once per task:

* local: a ``ProcessPoolExecutor`` whose initializer installs ``shared`` in each worker
  process (with the fork start method it is inherited without even being pickled);
* dask: ``client.scatter(shared, broadcast=True)`` puts one copy on every worker and the
  tasks receive the future.

Results come back in task order whatever order they finish in, so a sweep's output does
not depend on the executor or on scheduling.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from vwapcli.errors import ExecutorError

Task = TypeVar("Task")
Result = TypeVar("Result")
DEFAULT_WORKERS = 2
EXECUTORS = ("local", "dask", "inline")

_WORKER_SHARED: Any = None


def _install_shared(shared: Any) -> None:
    # Runs once in each worker process: the bars stay resident for every later task.
    global _WORKER_SHARED
    _WORKER_SHARED = shared


def _call_with_shared(task_fn: Callable[[Any, Any], Any], task: Any) -> Any:
    return task_fn(_WORKER_SHARED, task)


def _process_identity() -> tuple[str, int]:
    """This process among a cluster's: its machine's name and its pid."""
    return socket.gethostname(), os.getpid()


def default_workers() -> int:
    """Two workers (the target machine), fewer when the machine has fewer cores."""
    return max(1, min(DEFAULT_WORKERS, os.cpu_count() or 1))


def run_tasks(
    task_fn: Callable[[Any, Task], Result],
    tasks: Sequence[Task],
    shared: Any,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    cluster_options: dict[str, Any] | None = None,
    started: Callable[[], None] | None = None,
) -> list[Result]:
    """Run ``task_fn(shared, task)`` for every task; results in task order.

    ``executor``: "local" (process pool), "dask" (``scheduler`` address or a new
    LocalCluster with ``cluster_options``) or "inline" (this process; for debugging).
    ``progress(i)`` is called with the position of each task as it finishes.
    ``started()`` is called once every task is handed out, before any result is awaited:
    the local pool's workers are forked by then, so a thread the caller starts there runs
    beside the tasks and is never copied into a forked child.
    """
    if not tasks:
        return []
    n_workers = workers or default_workers()
    if executor == "inline":
        if started is not None:
            started()
        results = []
        for i, task in enumerate(tasks):
            results.append(task_fn(shared, task))
            if progress is not None:
                progress(i)
        return results
    if executor == "local":
        return _run_local(task_fn, tasks, shared, n_workers, progress, started)
    if executor == "dask":
        return _run_dask(task_fn, tasks, shared, n_workers, scheduler, progress, cluster_options or {}, started)
    raise ExecutorError(f"unknown executor {executor!r}; known: {', '.join(EXECUTORS)}")


def _run_local(
    task_fn: Callable[[Any, Any], Any],
    tasks: Sequence[Any],
    shared: Any,
    n_workers: int,
    progress: Callable[[int], None] | None,
    started: Callable[[], None] | None = None,
) -> list[Any]:
    results: list[Any] = [None] * len(tasks)
    with ProcessPoolExecutor(
        max_workers=min(n_workers, len(tasks)), initializer=_install_shared, initargs=(shared,)
    ) as pool:
        # The fork start method launches every worker at the first submit.
        futures = {pool.submit(_call_with_shared, task_fn, task): i for i, task in enumerate(tasks)}
        if started is not None:
            started()
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(futures[future])
    return results


def _run_dask(
    task_fn: Callable[[Any, Any], Any],
    tasks: Sequence[Any],
    shared: Any,
    n_workers: int,
    scheduler: str | None,
    progress: Callable[[int], None] | None,
    cluster_options: dict[str, Any],
    started: Callable[[], None] | None = None,
) -> list[Any]:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_as_completed
    except ImportError:
        raise ExecutorError(
            "--executor dask needs dask.distributed: pip install 'vwapcli[sweep]'"
        ) from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="20s")
        else:
            options = {
                "n_workers": n_workers, "threads_per_worker": 1, "processes": True,
                "dashboard_address": None, **cluster_options,
            }
            cluster = LocalCluster(**options)
            client = Client(cluster)
    except OSError as error:
        raise ExecutorError(f"dask scheduler {scheduler or 'LocalCluster'} unreachable: {error}") from None
    forwarding = False
    try:
        # Worker processes' vwapcli records (a symbol's warnings) come back to this process's
        # loggers, so run.log and the terminal show them as with the local pool. Workers in
        # this very process (an in-process cluster) log here already.
        forwarding = _process_identity() not in client.run(_process_identity).values()
        if forwarding:
            client.forward_logging("vwapcli")
        # One copy of the bars per worker, not per task.
        shared_future = client.scatter(shared, broadcast=True)
        futures = [client.submit(task_fn, shared_future, task, pure=False) for task in tasks]
        index = {future.key: i for i, future in enumerate(futures)}
        if started is not None:
            started()
        results: list[Any] = [None] * len(tasks)
        for future in dask_as_completed(futures):
            results[index[future.key]] = future.result()
            if progress is not None:
                progress(index[future.key])
        return results
    finally:
        if forwarding:
            with contextlib.suppress(Exception):  # a lost scheduler must not hide the real error
                client.unforward_logging("vwapcli")
        client.close()
        if cluster is not None:
            cluster.close()
