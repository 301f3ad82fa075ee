"""`vwapcli sweep`: a parameter grid over one data set, every trial recorded in the ledger.

Flow: expand and validate the grid -> load and session the bars once -> group the
configurations by signal key into tasks -> run the tasks on the chosen executor (bars
shipped to each worker once) -> results.parquet, the trial ledger, the deflated Sharpe of
the best configuration, heatmap.html. With ``--walk-forward`` each training window is a
sweep of its own and only the chosen configurations' out-of-sample trades are reported.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vwapcli.app_config import AppConfig, load_config
from vwapcli.core.types import SessionedBars
from vwapcli.errors import ConfigError
from vwapcli.sweep.deflated_sharpe import annualised, deflated_sharpe_ratio, expected_max_sharpe
from vwapcli.sweep.executors import default_workers, run_tasks
from vwapcli.sweep.grid import Grid, SweepPoint, expand_grid, load_grid, signal_key
from vwapcli.sweep.heatmap import heatmap_html
from vwapcli.sweep.ledger import (
    append_trials,
    code_version,
    ledger_path,
    now_utc,
    read_ledger,
    trial_key,
    trials_on_data,
)
from vwapcli.sweep.trials import (
    METRIC_COLUMNS,
    TrialOutcome,
    TrialSpec,
    TrialTask,
    evaluate_task,
    nan_to_none,
)
from vwapcli.sweep.walk_forward import Fold, parse_walk_forward, select_best, split_windows

# Tasks per worker: enough to balance uneven groups, few enough to keep caches warm.
TASKS_PER_WORKER = 4


@dataclass(frozen=True)
class SweepData:
    """The bars every task reads, and what identifies them in the ledger."""

    market_data: Mapping[str, SessionedBars]
    store: Path
    fingerprint: str
    sessions: list[dt.date]


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


def default_sweep_dir(reports_root: Path, now: dt.datetime | None = None) -> Path:
    """``reports/sweep-<timestamp>``; a clash gets ``-2``, ``-3``, ... (never overwrite)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = reports_root / f"sweep-{stamp}"
    n = 2
    while candidate.exists():
        candidate = reports_root / f"sweep-{stamp}-{n}"
        n += 1
    return candidate


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


def _evaluate(
    points: Sequence[SweepPoint],
    data: SweepData,
    start: dt.date | None,
    end: dt.date | None,
    executor: str,
    scheduler: str | None,
    workers: int,
    progress: Callable[[int], None] | None,
    keep_trades: bool = False,
) -> list[TrialOutcome]:
    tasks = plan_tasks(points, start, end, data.store, data.fingerprint, workers, keep_trades)
    advance = None if progress is None else (lambda i: progress(len(tasks[i].trials)))
    done: list[list[TrialOutcome]] = run_tasks(
        evaluate_task, tasks, data.market_data, executor=executor, workers=workers,
        scheduler=scheduler, progress=advance,
    )
    outcomes = [outcome for chunk in done for outcome in chunk]
    outcomes.sort(key=lambda outcome: outcome.index)
    return outcomes


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


def _results_table(results: pd.DataFrame, grid: Grid, top: int = 10) -> Table:
    ranked = results.sort_values("sharpe", ascending=False, na_position="last", kind="stable").head(top)
    table = Table(title=f"Best {len(ranked)} of {len(results)} by Sharpe")
    columns = [*grid.axes, *METRIC_COLUMNS]
    for column in columns:
        table.add_column(column.rsplit(".", 1)[-1], justify="right")
    for record in ranked[columns].to_dict("records"):
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in record.values()])
    return table


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, compression="zstd")


def _load_data(
    store: Path, base: AppConfig, symbols: list[str] | None, start: dt.date | None, end: dt.date | None,
    points: Sequence[SweepPoint], console: Console,
) -> SweepData:
    from vwapcli.data.loading import load_market_data, sessions_between
    from vwapcli.data.store import BarStore

    market_data = load_market_data(
        store, symbols, start, end, base.data.timeframe, base.data.calendar, console, False
    )
    include_iv = any(point.config.options.iv_source == "series" for point in points)
    fingerprint = BarStore(store).fingerprint(
        sorted(market_data), base.data.timeframe, include_iv_index=include_iv
    )
    return SweepData(
        market_data=market_data, store=Path(store), fingerprint=fingerprint,
        sessions=sessions_between(market_data, start, end),
    )


def run_sweep(
    config: Path | None,
    grid: Path,
    store: Path,
    executor: str = "local",
    scheduler: str | None = None,
    out: Path | None = None,
    walk_forward: str | None = None,
    console: Console | None = None,
    symbols: list[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    workers: int | None = None,
) -> Path:
    """Run the grid (or a walk-forward of it) into a new sweep folder; return the folder."""
    from vwapcli.run_folder import staged_run_dir

    console = console or Console()
    base = load_config(config)
    swept = load_grid(grid)
    for path in swept.axes:
        if path.startswith("data."):
            raise ConfigError(f"{swept.source}: {path}: the bars are loaded once per sweep; data.* cannot be swept")
    points = expand_grid(base, swept)
    _warn_disabled(swept, base, console)
    spec = parse_walk_forward(walk_forward) if walk_forward else None
    n_workers = workers or default_workers()
    data = _load_data(store, base, symbols, start, end, points, console)
    if not data.sessions:
        raise ConfigError(f"{store}: no sessions between {start} and {end} for the sweep")
    version = code_version()
    folder = out if out is not None else default_sweep_dir(Path("reports"))
    sweep_id = folder.name
    ledger_file = ledger_path(data.store)
    with staged_run_dir(folder) as staging:
        if spec is None:
            window = (data.sessions[0], data.sessions[-1])
            outcomes = _with_progress(
                console, len(points), "sweep",
                lambda progress: _evaluate(points, data, start, end, executor, scheduler, n_workers, progress),
            )
            results = results_frame(points, outcomes, swept)
            _write_parquet(results, staging / "results.parquet")
            appended = append_trials(ledger_file, ledger_rows(points, results, data.fingerprint, version, sweep_id, window))
            best = best_trial(results, read_ledger(ledger_file), data.fingerprint)
            lines = summary_lines(best, results, swept, ledger_file)
            lines.append(f"ledger: {appended.added} new trials, {appended.already_present} already recorded")
            heat_frame = results
        else:
            results, lines, heat_frame = _walk_forward(
                spec, points, swept, data, executor, scheduler, n_workers, version, sweep_id,
                ledger_file, staging, console,
            )
        metric = "sharpe" if heat_frame["sharpe"].notna().any() else "profit_factor"
        page = heatmap_html(heat_frame, list(swept.axes), metric, f"vwapcli sweep {sweep_id}", lines)
        (staging / "heatmap.html").write_text(page, encoding="utf-8")
        (staging / "sweep.json").write_text(json.dumps({
            "grid": {k: v for k, v in swept.axes.items()}, "config": str(config) if config else None,
            "store": str(data.store), "symbols": sorted(data.market_data), "data_fingerprint": data.fingerprint,
            "code_version": version, "executor": executor, "workers": n_workers,
            "walk_forward": walk_forward, "start": data.sessions[0].isoformat(),
            "end": data.sessions[-1].isoformat(), "created_at": now_utc(),
        }, indent=2, sort_keys=True, default=str) + "\n")
    if spec is None:
        console.print(_results_table(results, swept))
    for line in lines:
        console.print(line)
    console.print(f"sweep folder: [bold]{folder}[/bold]")
    return folder


def _warn_disabled(grid: Grid, base: AppConfig, console: Console) -> None:
    for path in grid.axes:
        parts = path.split(".")
        if parts[0] == "strategies" and len(parts) > 2:
            block = base.strategies.get(parts[1])
            if block is not None and not block.enabled and f"strategies.{parts[1]}.enabled" not in grid.axes:
                console.print(
                    f"[yellow]warning:[/] {path} is swept but strategies.{parts[1]} is disabled in the "
                    "base config, so it changes nothing (enable it in the config)"
                )


def _with_progress(
    console: Console, total: int, label: str, work: Callable[[Callable[[int], None] | None], Any]
) -> Any:
    if console.quiet:
        return work(None)
    with Progress(
        TextColumn(f"[bold]{label}[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("configurations"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        return work(lambda n: progress.advance(task, n))


def _walk_forward(
    spec: Any, points: Sequence[SweepPoint], grid: Grid, data: SweepData, executor: str,
    scheduler: str | None, workers: int, version: str, sweep_id: str, ledger_file: Path,
    staging: Path, console: Console,
) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """Train on each window, trade the winner on the next, keep only out-of-sample trades."""
    folds = split_windows(data.sessions, spec)
    if not folds:
        raise ConfigError(
            f"--walk-forward train={spec.train},test={spec.test}: the data ({data.sessions[0]} to "
            f"{data.sessions[-1]}) is too short for one training plus one test window"
        )
    by_index = {point.index: point for point in points}
    fold_results: list[pd.DataFrame] = []
    fold_rows: list[dict[str, Any]] = []
    oos_trades: list[pd.DataFrame] = []
    oos_equity: list[pd.DataFrame] = []
    equity = points[0].config.risk.starting_equity
    for fold in folds:

        def train(progress: Callable[[int], None] | None, f: Fold = fold) -> list[TrialOutcome]:
            return _evaluate(points, data, f.train_start, f.train_end, executor, scheduler, workers, progress)

        outcomes = _with_progress(console, len(points), f"fold {fold.index + 1}/{len(folds)} train", train)
        results = results_frame(points, outcomes, grid)
        append_trials(ledger_file, ledger_rows(points, results, data.fingerprint, version, sweep_id,
                                               (fold.train_start, fold.train_end)))
        chosen = by_index[int(results.iloc[select_best(results, spec.metric)]["config_index"])]
        # The test window trades on from the equity the previous test windows left.
        risk = chosen.config.risk.model_copy(update={"starting_equity": equity})
        test_config = chosen.config.model_copy(update={"risk": risk})
        test = evaluate_task(data.market_data, TrialTask(
            (TrialSpec(chosen.index, test_config),), fold.test_start, fold.test_end,
            str(data.store), data.fingerprint, keep_trades=True,
        ))[0]
        trades = test.trades if test.trades is not None else pd.DataFrame()
        trades = trades.assign(fold=fold.index)
        oos_trades.append(trades)
        if test.equity is not None and len(test.equity):
            oos_equity.append(test.equity.assign(fold=fold.index))
            equity = float(test.equity["equity"].iloc[-1])
        results.insert(0, "fold", fold.index)
        fold_results.append(results)
        fold_rows.append(_fold_row(fold, chosen, grid, results, spec.metric, test))
    all_results = pd.concat(fold_results, ignore_index=True)
    _write_parquet(all_results, staging / "results.parquet")
    folds_frame = pd.DataFrame(fold_rows)
    folds_frame.to_csv(staging / "walk_forward.csv", index=False, lineterminator="\n")
    trades = pd.concat(oos_trades, ignore_index=True) if oos_trades else pd.DataFrame()
    if len(trades):
        trades["trade_id"] = np.arange(1, len(trades) + 1)
    from vwapcli.run_folder import write_table

    write_table(trades, staging / "oos_trades.csv", None)
    equity_frame = pd.concat(oos_equity, ignore_index=True) if oos_equity else pd.DataFrame()
    oos = _oos_metrics(trades, equity_frame, points[0].config)
    (staging / "oos_metrics.json").write_text(
        json.dumps({k: nan_to_none(v) for k, v in oos.items()}, indent=2, sort_keys=True) + "\n"
    )
    console.print(_folds_table(folds_frame, grid))
    lines = [
        f"walk-forward train={spec.train}, test={spec.test}, step={spec.step}, selected by {spec.metric}: "
        f"{len(folds)} folds, out-of-sample {folds[0].test_start} to {folds[-1].test_end}",
        f"out-of-sample: {oos['trades']} trades, win rate {oos['win_rate']:.1%}, profit factor "
        f"{oos['profit_factor']:.2f}, Sharpe {oos['sharpe']:.2f}, max drawdown {oos['max_drawdown_pct']:.1f}%, "
        f"P&L {oos['total_pnl']:,.2f} -> {oos['verdict']}",
        f"trial ledger: {ledger_file} ({trials_on_data(read_ledger(ledger_file), data.fingerprint).configurations} "
        "configurations tried in total on this data)",
    ]
    mean_by_config = (
        all_results.groupby("config_index", sort=True)
        .agg({**{p: "first" for p in grid.axes}, "sharpe": "mean", "profit_factor": "mean",
              "trades": "sum", "win_rate": "mean", "max_drawdown_pct": "max", "total_pnl": "sum",
              "verdict": "first"})
        .reset_index()
    )
    lines.append("heatmap: mean training-window Sharpe per configuration across folds")
    return all_results, lines, mean_by_config


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


def _folds_table(folds: pd.DataFrame, grid: Grid) -> Table:
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
