"""`vwapcli sweep`: a parameter grid over one data set, every trial recorded in the ledger.

Flow: expand and validate the grid -> load and session the bars once -> group the
configurations by signal key into tasks -> run the tasks on the chosen executor (bars
shipped to each worker once) -> results.parquet, the trial ledger, the deflated Sharpe of
the best configuration, heatmap.html. With ``--walk-forward`` each training window is a
sweep of its own and only the chosen configurations' out-of-sample trades are reported
(:mod:`vwapcli.sweep.walk_forward`). Evaluation lives in :mod:`vwapcli.sweep.evaluation`;
this module plans, writes the folder and prints.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.table import Table

from vwapcli.app_config import AppConfig, load_config
from vwapcli.data.loading import BarRequest
from vwapcli.env import Env
from vwapcli.errors import ConfigError
from vwapcli.executors import default_workers
from vwapcli.output_paths import check_output_folder
from vwapcli.sweep.evaluation import (
    SweepData,
    SweepRun,
    best_trial,
    results_frame,
    summary_lines,
)
from vwapcli.sweep.grid import Grid, SweepPoint, expand_grid, load_grid
from vwapcli.sweep.heatmap import heatmap_html
from vwapcli.sweep.ledger import code_version, ledger_path, now_utc, read_ledger
from vwapcli.sweep.trials import METRIC_COLUMNS
from vwapcli.sweep.walk_forward import folds_table, parse_walk_forward, run_walk_forward


@dataclass(frozen=True)
class SweepRequest:
    """`vwapcli sweep`: base config, grid, bars, executor, output folder, walk-forward spec."""

    config: Path | None
    grid: Path
    bars: BarRequest
    executor: str = "local"
    scheduler: str | None = None
    workers: int | None = None
    out: Path | None = None
    walk_forward: str | None = None


@dataclass(frozen=True)
class SweepOutcome:
    """What one sweep found, ready to be written and printed."""

    results: pd.DataFrame  # results.parquet
    heat_frame: pd.DataFrame  # one heatmap cell per configuration
    lines: list[str]  # what the terminal and heatmap.html say
    table: Table  # the terminal's table


def default_sweep_dir(reports_root: Path, now: dt.datetime | None = None) -> Path:
    """``reports/sweep-<timestamp>``; a clash gets ``-2``, ``-3``, ... (never overwrite)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = reports_root / f"sweep-{stamp}"
    n = 2
    while candidate.exists():
        candidate = reports_root / f"sweep-{stamp}-{n}"
        n += 1
    return candidate


def run_sweep(request: SweepRequest, env: Env) -> Path:
    """Run the grid (or a walk-forward of it) into a new sweep folder; return the folder."""
    from vwapcli.run_folder import staged_run_dir

    if request.out is not None:  # issue 12: checked before any work
        check_output_folder(request.out)
    base = load_config(request.config)
    swept = load_grid(request.grid)
    for path in swept.axes:
        if path.startswith("data."):
            raise ConfigError(f"{swept.source}: {path}: the bars are loaded once per sweep; data.* cannot be swept")
    _refuse_disabled(swept, base, request.config)
    points = expand_grid(base, swept)
    spec = parse_walk_forward(request.walk_forward) if request.walk_forward else None
    data = _load_data(request.bars, base, points, env)
    if not data.sessions:
        bars = request.bars
        raise ConfigError(f"{bars.store}: no sessions between {bars.start} and {bars.end} for the sweep")
    folder = request.out if request.out is not None else default_sweep_dir(Path("reports"))
    run = SweepRun(
        grid=swept, points=points, data=data, executor=request.executor, scheduler=request.scheduler,
        workers=request.workers or default_workers(), version=code_version(), sweep_id=folder.name,
        ledger_file=ledger_path(folder.parent), env=env,
    )
    with staged_run_dir(folder) as staging:
        if spec is None:
            outcome = _plain_sweep(run)
        else:
            walked = run_walk_forward(run, spec)
            walked.write(staging)
            outcome = SweepOutcome(walked.results, walked.heat_frame, walked.lines, folds_table(walked.folds, swept))
        _write_parquet(outcome.results, staging / "results.parquet")
        metric = "sharpe" if outcome.heat_frame["sharpe"].notna().any() else "profit_factor"
        page = heatmap_html(outcome.heat_frame, list(swept.axes), metric, f"vwapcli sweep {run.sweep_id}", outcome.lines)
        (staging / "heatmap.html").write_text(page, encoding="utf-8")
        (staging / "sweep.json").write_text(json.dumps({
            "grid": {k: v for k, v in swept.axes.items()}, "config": str(request.config) if request.config else None,
            "store": str(data.store), "symbols": sorted(data.market_data), "data_fingerprint": data.fingerprint,
            "code_version": run.version, "executor": run.executor, "workers": run.workers,
            "walk_forward": request.walk_forward, "start": data.sessions[0].isoformat(),
            "end": data.sessions[-1].isoformat(), "created_at": now_utc(),
        }, indent=2, sort_keys=True, default=str) + "\n")
    env.console.print(outcome.table)
    for line in outcome.lines:
        env.console.print(line)
    env.console.print(f"sweep folder: [bold]{folder}[/bold]")
    return folder


def _plain_sweep(run: SweepRun) -> SweepOutcome:
    """The whole grid on the whole data: results, ledger, the deflated Sharpe of the best."""
    sessions = run.data.sessions
    outcomes = run.evaluate(run.data.start, run.data.end, "sweep")
    results = results_frame(run.points, outcomes, run.grid)
    appended = run.record(results, (sessions[0], sessions[-1]))
    best = best_trial(results, read_ledger(run.ledger_file), run.data.fingerprint)
    lines = summary_lines(best, results, run.grid, run.ledger_file)
    lines.append(f"ledger: {appended.added} new trials, {appended.already_present} already recorded")
    return SweepOutcome(results, results, lines, _results_table(results, run.grid))


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


def _load_data(bars: BarRequest, base: AppConfig, points: Sequence[SweepPoint], env: Env) -> SweepData:
    from vwapcli.data.loading import sessions_between
    from vwapcli.data.store import BarStore

    market_data = bars.load(base.data, env.console)
    include_iv = any(point.config.options.iv_source == "series" for point in points)
    fingerprint = BarStore(bars.store).fingerprint(
        sorted(market_data), base.data.timeframe, include_iv_index=include_iv
    )
    return SweepData(
        market_data=market_data, store=Path(bars.store), fingerprint=fingerprint,
        sessions=sessions_between(market_data, bars.start, bars.end), start=bars.start, end=bars.end,
    )


def _refuse_disabled(grid: Grid, base: AppConfig, config: Path | None) -> None:
    """A grid axis over a strategy the base config leaves disabled is refused (issue 12 item 6).

    Refused, not silently enabled: every trial would otherwise be identical, and turning the
    strategy on would change what the base config means (which strategies share the
    account and its limits), a choice only the user can make. Sweeping
    ``strategies.NAME.enabled`` itself is allowed: then the grid decides. A base config
    that enables no strategy at all is refused for the same reason (every trial empty).
    """
    for path in grid.axes:
        parts = path.split(".")
        if parts[0] != "strategies" or len(parts) < 3 or f"strategies.{parts[1]}.enabled" in grid.axes:
            continue
        block = base.strategies.get(parts[1])
        if block is not None and not block.enabled:
            raise ConfigError(
                f"{grid.source}: {path} is swept but strategies.{parts[1]} is disabled in the base config "
                f"{config}, so every trial would be identical (fix: set strategies.{parts[1]}.enabled: true "
                "there, or add it to the grid)"
            )
    enabling = [path for path in grid.axes if path.startswith("strategies.") and path.endswith(".enabled")]
    if not base.enabled_strategies() and not enabling:
        raise ConfigError(
            f"{config}: enables no strategy, so every trial of {grid.source} would be empty "
            "(fix: set enabled: true under strategies: for the strategy to sweep)"
        )
