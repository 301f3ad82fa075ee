"""Walk-forward analysis: choose parameters on a training window, trade them on the next one.

``--walk-forward train=3y,test=1y`` rolls a 3-year training window over the data in steps
of the test length; on each training window the grid's best configuration (by
``metric``, Sharpe by default) is chosen, and only its trades in the following test
window are kept. The concatenated out-of-sample trades are the honest estimate of what
the parameter-selection process would have earned.

Windows are calendar spans anchored at the first session: fold k trains on
``[first + k*step, first + k*step + train)`` and tests on the ``test`` span right after.
Each window is then snapped to the sessions present inside it. The last test window may
be cut short by the end of the data; a fold whose test window holds no session is dropped.

``run_walk_forward`` runs the folds on a ``SweepRun`` (each training window is a sweep of
its own, recorded in the ledger); ``WalkForwardResult.write`` adds walk_forward.csv,
oos_trades.csv and oos_metrics.json to the sweep folder.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from vwapcli.app_config import AppConfig
from vwapcli.errors import ConfigError
from vwapcli.sweep.evaluation import SweepRun, results_frame
from vwapcli.sweep.grid import Grid, SweepPoint
from vwapcli.sweep.ledger import read_ledger, trials_on_data
from vwapcli.sweep.trials import (
    METRIC_COLUMNS,
    TrialOutcome,
    TrialSpec,
    TrialTask,
    evaluate_task,
    nan_to_none,
)

# Metrics a fold may select on, and whether larger is better.
SELECTION_METRICS: dict[str, bool] = {
    "sharpe": True,
    "profit_factor": True,
    "win_rate": True,
    "total_pnl": True,
    "max_drawdown_pct": False,
}
_SPAN = re.compile(r"^(\d+)\s*([ymd])$")


@dataclass(frozen=True)
class Span:
    """A calendar length: ``count`` years, months or days."""

    count: int
    unit: str  # "y" | "m" | "d"

    def add_to(self, day: dt.date) -> dt.date:
        """``day`` moved forward by this span (Feb 29 + 1y -> Feb 28)."""
        if self.unit == "d":
            return day + dt.timedelta(days=self.count)
        months = self.count * (12 if self.unit == "y" else 1)
        month_index = day.month - 1 + months
        year, month = day.year + month_index // 12, month_index % 12 + 1
        return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


@dataclass(frozen=True)
class WalkForwardSpec:
    train: Span
    test: Span
    step: Span
    metric: str = "sharpe"


@dataclass(frozen=True)
class Fold:
    """One walk-forward step; all dates are sessions present in the data (inclusive)."""

    index: int
    train_start: dt.date
    train_end: dt.date
    test_start: dt.date
    test_end: dt.date


def _span(text: str, name: str, spec_text: str) -> Span:
    match = _SPAN.match(text.strip().lower())
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(
            f"--walk-forward {spec_text!r}: {name}={text!r} is not a length like 3y, 6m or 90d"
        )
    return Span(int(match.group(1)), match.group(2))


def parse_walk_forward(text: str) -> WalkForwardSpec:
    """Parse ``train=3y,test=1y[,step=6m][,metric=profit_factor]``."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ConfigError(f"--walk-forward {text!r}: {part.strip()!r} is not key=value")
        key, value = (s.strip() for s in part.split("=", 1))
        if key not in ("train", "test", "step", "metric"):
            raise ConfigError(f"--walk-forward {text!r}: unknown key {key!r}; known: train, test, step, metric")
        fields[key] = value
    for required in ("train", "test"):
        if required not in fields:
            raise ConfigError(f"--walk-forward {text!r}: {required}= is required (e.g. train=3y,test=1y)")
    metric = fields.get("metric", "sharpe")
    if metric not in SELECTION_METRICS:
        raise ConfigError(
            f"--walk-forward {text!r}: metric {metric!r} unknown; known: {', '.join(SELECTION_METRICS)}"
        )
    test = _span(fields["test"], "test", text)
    step = _span(fields["step"], "step", text) if "step" in fields else test
    return WalkForwardSpec(train=_span(fields["train"], "train", text), test=test, step=step, metric=metric)


def split_windows(sessions: Sequence[dt.date], spec: WalkForwardSpec) -> list[Fold]:
    """Folds over sorted session dates (see the module docstring for the rule)."""
    days = sorted(sessions)
    if not days:
        return []
    as_array = np.array(days, dtype="datetime64[D]")

    def inside(lo: dt.date, hi_exclusive: dt.date) -> tuple[dt.date, dt.date] | None:
        a = int(np.searchsorted(as_array, np.datetime64(lo, "D"), "left"))
        b = int(np.searchsorted(as_array, np.datetime64(hi_exclusive, "D"), "left"))
        return (days[a], days[b - 1]) if b > a else None

    folds: list[Fold] = []
    anchor = days[0]
    k = 0
    while True:
        train_stop = spec.train.add_to(anchor)
        test_stop = spec.test.add_to(train_stop)
        if train_stop > days[-1]:
            break  # no session left to test on
        train = inside(anchor, train_stop)
        test = inside(train_stop, test_stop)
        if train is not None and test is not None:
            folds.append(Fold(len(folds), train[0], train[1], test[0], test[1]))
        k += 1
        anchor = _add_steps(days[0], spec.step, k)
    return folds


def _add_steps(origin: dt.date, step: Span, k: int) -> dt.date:
    # Step from the origin each time (not cumulatively) so month-end clipping never drifts.
    return Span(step.count * k, step.unit).add_to(origin)


def select_best(results: pd.DataFrame, metric: str) -> int:
    """Row position of the best configuration by ``metric``; NaN ranks last, ties -> first row."""
    larger_is_better = SELECTION_METRICS[metric]
    values = results[metric].to_numpy(dtype=float)
    score = np.where(np.isnan(values), -math.inf, values if larger_is_better else -values)
    return int(np.argmax(score))


@dataclass(frozen=True)
class WalkForwardResult:
    """Every fold's training grid, the fold table, and the out-of-sample trades and metrics."""

    results: pd.DataFrame  # results.parquet: each fold's training results, with a fold column
    folds: pd.DataFrame  # walk_forward.csv: one row per fold, the chosen parameters, test metrics
    oos_trades: pd.DataFrame  # oos_trades.csv
    oos_metrics: dict[str, Any]  # oos_metrics.json
    heat_frame: pd.DataFrame  # mean training-window metrics per configuration
    lines: list[str]

    def write(self, folder: Path) -> None:
        """walk_forward.csv, oos_trades.csv and oos_metrics.json into the sweep folder."""
        from vwapcli.run_folder import write_table

        self.folds.to_csv(folder / "walk_forward.csv", index=False, lineterminator="\n")
        write_table(self.oos_trades, folder / "oos_trades.csv", None)
        (folder / "oos_metrics.json").write_text(
            json.dumps({k: nan_to_none(v) for k, v in self.oos_metrics.items()}, indent=2, sort_keys=True) + "\n"
        )


def run_walk_forward(run: SweepRun, spec: WalkForwardSpec) -> WalkForwardResult:
    """Train on each window, trade the winner on the next, keep only out-of-sample trades."""
    sessions = run.data.sessions
    folds = split_windows(sessions, spec)
    if not folds:
        raise ConfigError(
            f"--walk-forward train={spec.train},test={spec.test}: the data ({sessions[0]} to "
            f"{sessions[-1]}) is too short for one training plus one test window"
        )
    points, grid = run.points, run.grid
    by_index = {point.index: point for point in points}
    fold_results: list[pd.DataFrame] = []
    fold_rows: list[dict[str, Any]] = []
    oos_trades: list[pd.DataFrame] = []
    oos_equity: list[pd.DataFrame] = []
    equity = points[0].config.risk.starting_equity
    for fold in folds:
        outcomes = run.evaluate(fold.train_start, fold.train_end, f"fold {fold.index + 1}/{len(folds)} train")
        results = results_frame(points, outcomes, grid)
        run.record(results, (fold.train_start, fold.train_end))
        chosen = by_index[int(results.iloc[select_best(results, spec.metric)]["config_index"])]
        # The test window trades on from the equity the previous test windows left.
        risk = chosen.config.risk.model_copy(update={"starting_equity": equity})
        test_config = chosen.config.model_copy(update={"risk": risk})
        test = evaluate_task(run.data.market_data, TrialTask(
            (TrialSpec(chosen.index, test_config),), fold.test_start, fold.test_end,
            str(run.data.store), run.data.fingerprint, keep_trades=True,
        ))[0]
        trades = test.trades if test.trades is not None else pd.DataFrame()
        oos_trades.append(trades.assign(fold=fold.index))
        if test.equity is not None and len(test.equity):
            oos_equity.append(test.equity.assign(fold=fold.index))
            equity = float(test.equity["equity"].iloc[-1])
        results.insert(0, "fold", fold.index)
        fold_results.append(results)
        fold_rows.append(_fold_row(fold, chosen, grid, results, spec.metric, test))
    all_results = pd.concat(fold_results, ignore_index=True)
    trades = pd.concat(oos_trades, ignore_index=True) if oos_trades else pd.DataFrame()
    if len(trades):
        trades["trade_id"] = np.arange(1, len(trades) + 1)
    equity_frame = pd.concat(oos_equity, ignore_index=True) if oos_equity else pd.DataFrame()
    oos = _oos_metrics(trades, equity_frame, points[0].config)
    configurations = trials_on_data(read_ledger(run.ledger_file), run.data.fingerprint).configurations
    lines = [
        f"walk-forward train={spec.train}, test={spec.test}, step={spec.step}, selected by {spec.metric}: "
        f"{len(folds)} folds, out-of-sample {folds[0].test_start} to {folds[-1].test_end}",
        f"out-of-sample: {oos['trades']} trades, win rate {oos['win_rate']:.1%}, profit factor "
        f"{oos['profit_factor']:.2f}, Sharpe {oos['sharpe']:.2f}, max drawdown {oos['max_drawdown_pct']:.1f}%, "
        f"P&L {oos['total_pnl']:,.2f} -> {oos['verdict']}",
        f"trial ledger: {run.ledger_file} ({configurations} configurations tried in total on this data)",
        "heatmap: mean training-window Sharpe per configuration across folds",
    ]
    mean_by_config = (
        all_results.groupby("config_index", sort=True)
        .agg({**{p: "first" for p in grid.axes}, "sharpe": "mean", "profit_factor": "mean",
              "trades": "sum", "win_rate": "mean", "max_drawdown_pct": "max", "total_pnl": "sum",
              "verdict": "first"})
        .reset_index()
    )
    return WalkForwardResult(all_results, pd.DataFrame(fold_rows), trades, oos, mean_by_config, lines)


def _fold_row(
    fold: Fold, chosen: SweepPoint, grid: Grid, results: pd.DataFrame, metric: str, test: TrialOutcome
) -> dict[str, Any]:
    train = results.loc[results["config_index"] == chosen.index].iloc[0]
    row: dict[str, Any] = {
        "fold": fold.index, "train_start": fold.train_start, "train_end": fold.train_end,
        "test_start": fold.test_start, "test_end": fold.test_end,
    }
    row.update({path: chosen.params[path] for path in grid.axes})
    row[f"train_{metric}"] = train[metric]
    row.update({f"test_{name}": test.metrics[name] for name in METRIC_COLUMNS})
    return row


def folds_table(folds: pd.DataFrame, grid: Grid) -> Table:
    """The terminal table of a walk-forward: each fold's test window, choice and result."""
    table = Table(title="Walk-forward folds (test = out of sample)")
    columns = ["fold", "test_start", "test_end", *grid.axes, "test_trades", "test_sharpe", "test_total_pnl"]
    for column in columns:
        table.add_column(column.rsplit(".", 1)[-1], justify="right")
    for record in folds[columns].to_dict("records"):
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in record.values()])
    return table


def _oos_metrics(trades: pd.DataFrame, equity: pd.DataFrame, config: AppConfig) -> dict[str, Any]:
    from vwapcli.sweep.trials import trial_metrics

    pnl = trades["pnl"].to_numpy(dtype=float) if len(trades) else np.array([], dtype=float)
    sessions = list(equity["session_date"]) if len(equity) else []
    closing = equity["equity"].to_numpy(dtype=float) if len(equity) else np.array([], dtype=float)
    metrics, moments = trial_metrics(pnl, sessions, closing, config)
    metrics.update({"sharpe_daily": moments.sharpe, "n_returns": moments.n_returns, "sessions": len(sessions)})
    return metrics

