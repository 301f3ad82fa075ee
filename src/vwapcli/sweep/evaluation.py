"""Evaluating a sweep's grid on one window: tasks, executor, results, the trial ledger.

``SweepRun`` holds what every stage of one sweep reads (the grid, the bars, the executor,
the ledger, the Env), so the plain sweep and each walk-forward fold evaluate the same way:
``run.evaluate(start, end, label)`` -> ``results_frame`` -> ``run.record`` (ledger).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.core.types import SessionedBars
from vwapcli.env import Env
from vwapcli.executors import run_tasks
from vwapcli.sweep.deflated_sharpe import annualised, deflated_sharpe_ratio, expected_max_sharpe
from vwapcli.sweep.grid import Grid, SweepPoint, signal_key
from vwapcli.sweep.ledger import AppendResult, append_trials, now_utc, trial_key, trials_on_data
from vwapcli.sweep.trials import METRIC_COLUMNS, TrialOutcome, TrialSpec, TrialTask, evaluate_task

# Tasks per worker: enough to balance uneven groups, few enough to keep caches warm.
TASKS_PER_WORKER = 4


@dataclass(frozen=True)
class SweepData:
    """The bars every task reads, and what identifies them in the ledger."""

    market_data: Mapping[str, SessionedBars]
    store: Path
    fingerprint: str
    sessions: list[dt.date]  # the run's sessions in [start, end]
    start: dt.date | None = None  # the requested window (None: from the data's first session)
    end: dt.date | None = None


@dataclass(frozen=True)
class SweepRun:
    """One sweep in progress: what every stage reads."""

    grid: Grid
    points: list[SweepPoint]
    data: SweepData
    executor: str
    scheduler: str | None
    workers: int
    version: str  # code version recorded with every trial
    sweep_id: str
    ledger_file: Path
    env: Env

    def evaluate(
        self, start: dt.date | None, end: dt.date | None, label: str, keep_trades: bool = False
    ) -> list[TrialOutcome]:
        """Every configuration over sessions in [start, end], in grid order."""
        tasks = plan_tasks(self.points, start, end, self.data.store, self.data.fingerprint, self.workers, keep_trades)
        with self.env.progress.bar(label, len(self.points), "configurations") as advance:
            done: list[list[TrialOutcome]] = run_tasks(
                evaluate_task, tasks, self.data.market_data, executor=self.executor, workers=self.workers,
                scheduler=self.scheduler, progress=lambda i: advance(len(tasks[i].trials)),
            )
        outcomes = [outcome for chunk in done for outcome in chunk]
        outcomes.sort(key=lambda outcome: outcome.index)
        return outcomes

    def record(self, results: pd.DataFrame, window: tuple[dt.date, dt.date]) -> AppendResult:
        """Append the evaluated grid on ``window`` to the trial ledger (once per trial key)."""
        rows = ledger_rows(self.points, results, self.data.fingerprint, self.version, self.sweep_id, window)
        return append_trials(self.ledger_file, rows)


@dataclass(frozen=True)
class BestTrial:
    """The best configuration of a sweep and how much of its Sharpe survives deflation."""

    index: int
    sharpe: float  # annualised
    sharpe_daily: float
    deflated_sharpe: float
    expected_max_sharpe_daily: float
    configurations_on_data: int
    sharpe_variance: float


def plan_tasks(
    points: Sequence[SweepPoint],
    start: dt.date | None,
    end: dt.date | None,
    store: Path,
    data_token: str,
    workers: int,
    keep_trades: bool = False,
) -> list[TrialTask]:
    """Configurations grouped by signal key, in contiguous chunks of about N/(4 x workers).

    Why: a group's signals are computed once per task, and a worker's quote cache is
    reused by the next groups it runs. A group larger than a chunk is split so that every
    worker has work even when the grid varies pricing parameters only.
    """
    groups: dict[str, list[SweepPoint]] = {}
    for point in points:
        groups.setdefault(signal_key(point.config), []).append(point)
    ordered = [groups[key] for key in sorted(groups)]
    target = max(1, math.ceil(len(points) / (max(1, workers) * TASKS_PER_WORKER)))
    tasks: list[TrialTask] = []
    current: list[SweepPoint] = []

    def flush() -> None:
        if current:
            specs = tuple(TrialSpec(p.index, p.config) for p in current)
            tasks.append(TrialTask(specs, start, end, str(store), data_token, keep_trades))
            current.clear()

    for members in ordered:
        for offset in range(0, len(members), target):
            piece = members[offset:offset + target]
            if len(current) + len(piece) > target:
                flush()
            current.extend(piece)
    flush()
    return tasks


def results_frame(points: Sequence[SweepPoint], outcomes: Sequence[TrialOutcome], grid: Grid) -> pd.DataFrame:
    """One row per configuration: swept values, metrics, daily-return moments, config hash."""
    by_index = {outcome.index: outcome for outcome in outcomes}
    rows = []
    for point in points:
        outcome = by_index[point.index]
        row: dict[str, Any] = {"config_index": point.index}
        row.update({path: point.params[path] for path in grid.axes})
        row.update({name: outcome.metrics[name] for name in METRIC_COLUMNS})
        row.update({
            "sharpe_daily": outcome.moments.sharpe, "skew": outcome.moments.skew,
            "kurtosis": outcome.moments.kurtosis, "n_returns": outcome.moments.n_returns,
            "config_hash": point.config_hash,
        })
        rows.append(row)
    return pd.DataFrame(rows)


def ledger_rows(
    points: Sequence[SweepPoint],
    results: pd.DataFrame,
    data_fingerprint: str,
    version: str,
    sweep_id: str,
    window: tuple[dt.date, dt.date],
) -> pd.DataFrame:
    """The trial ledger's rows for one evaluated grid on one window."""
    start, end = (d.isoformat() for d in window)
    stamp = now_utc()
    by_index = {point.index: point for point in points}
    rows = []
    for record in results.to_dict("records"):
        point = by_index[int(record["config_index"])]
        rows.append({
            "trial_key": trial_key(point.config_hash, data_fingerprint, version, start, end),
            "config_hash": point.config_hash,
            "data_fingerprint": data_fingerprint,
            "code_version": version,
            "sweep_id": sweep_id,
            "timestamp": stamp,
            "window_start": start,
            "window_end": end,
            "params": json.dumps(point.params, sort_keys=True, default=str),
            "config": json.dumps(point.config.resolved_dict(), sort_keys=True),
            **{name: record[name] for name in METRIC_COLUMNS},
            "sharpe_daily": record["sharpe_daily"],
            "skew": record["skew"],
            "kurtosis": record["kurtosis"],
            "n_returns": record["n_returns"],
        })
    return pd.DataFrame(rows)


def best_trial(results: pd.DataFrame, ledger: pd.DataFrame, data_fingerprint: str) -> BestTrial | None:
    """The sweep's best configuration by Sharpe, deflated by every trial on this data."""
    if results.empty or results["sharpe_daily"].isna().all():
        return None
    best = results.loc[results["sharpe_daily"].astype(float).idxmax()]
    history = trials_on_data(ledger, data_fingerprint)
    n_trials = max(history.configurations, 1)
    variance = float(np.var(history.sharpe_daily, ddof=1)) if history.sharpe_daily.size > 1 else math.nan
    dsr = deflated_sharpe_ratio(
        float(best["sharpe_daily"]), n_trials, variance if not math.isnan(variance) else 0.0,
        int(best["n_returns"]), float(best["skew"]), float(best["kurtosis"]),
    )
    return BestTrial(
        index=int(best["config_index"]), sharpe=float(best["sharpe"]),
        sharpe_daily=float(best["sharpe_daily"]), deflated_sharpe=dsr,
        expected_max_sharpe_daily=expected_max_sharpe(n_trials, variance if not math.isnan(variance) else 0.0),
        configurations_on_data=history.configurations, sharpe_variance=variance,
    )


def summary_lines(best: BestTrial | None, results: pd.DataFrame, grid: Grid, ledger_file: Path) -> list[str]:
    """What the terminal and heatmap.html both say about the sweep."""
    lines = [f"{len(results)} configurations in this sweep; trial ledger: {ledger_file}"]
    if best is None:
        lines.append("no configuration produced a defined Sharpe ratio (no trades or flat equity)")
        return lines
    params = results.loc[results["config_index"] == best.index, list(grid.axes)].iloc[0].to_dict()
    lines.append(
        f"{best.configurations_on_data} configurations tried in total on this data (all sweeps in the ledger)"
    )
    lines.append(
        "best by Sharpe: " + ", ".join(f"{k}={v}" for k, v in params.items())
        + f" -> Sharpe {best.sharpe:.2f} (daily {best.sharpe_daily:.4f})"
    )
    lines.append(
        f"deflated Sharpe ratio {best.deflated_sharpe:.3f}: probability its true Sharpe beats the "
        f"best of {best.configurations_on_data} skill-less trials (expected max Sharpe "
        f"{annualised(best.expected_max_sharpe_daily):.2f} annualised, trial Sharpe variance "
        f"{best.sharpe_variance:.3g} daily)"
    )
    return lines
