"""`vwapcli backtest`: load -> signals -> engine -> a complete run folder (SPEC 10)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vwapcli import __version__
from vwapcli.app_config import AppConfig, load_config
from vwapcli.core.types import SessionedBars
from vwapcli.data.loading import sessions_between
from vwapcli.engine import BacktestResult, build_engine, plan_candidates
from vwapcli.run_folder import default_run_dir, staged_run_dir, write_table
from vwapcli.runlog import run_log

log = logging.getLogger("vwapcli.backtest")


def execute_backtest(
    config: AppConfig,
    market_data: Mapping[str, SessionedBars],
    start: dt.date | None,
    end: dt.date | None,
    store: Path,
    console: Console | None = None,
    replay: bool = False,
) -> BacktestResult:
    """The whole pipeline in memory (used by the CLI, the sweep and the tests).

    ``replay`` feeds the strategies bar by bar, as paper trading would; the engine loop
    is the same either way, and so are the trades.
    """
    from vwapcli.signal_run import compute_signals

    signals = compute_signals(config, market_data, start, end, replay=replay)
    candidates = plan_candidates(signals, market_data, config)
    engine = build_engine(config, market_data, store)
    names = config.enabled_strategy_names()
    sessions = sessions_between(market_data, start, end)
    if console is None or console.quiet:
        return engine.run(candidates, sessions, names)
    with Progress(
        TextColumn("[bold]backtest[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("sessions"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:
        task = progress.add_task("sessions", total=len(sessions))
        return engine.run(candidates, sessions, names, progress=lambda n: progress.advance(task, n))


def summary_table(trades: pd.DataFrame, skipped: pd.DataFrame) -> Table:
    """Per strategy: trades, win rate, profit factor, P&L, skipped signals."""
    table = Table(title="Backtest summary")
    for column in ("strategy", "trades", "win rate", "profit factor", "P&L $", "skipped"):
        table.add_column(column, justify="right" if column != "strategy" else "left")
    names = sorted(set(trades["strategy_name"]) | set(skipped["strategy_name"]))
    for name in [*names, "all"]:
        chosen = trades if name == "all" else trades[trades["strategy_name"] == name]
        skips = skipped if name == "all" else skipped[skipped["strategy_name"] == name]
        pnl = chosen["pnl"].astype(float)
        wins, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
        win_rate = f"{(pnl > 0).mean():.1%}" if len(pnl) else "-"
        pf = "-" if not len(pnl) else ("inf" if losses == 0 else f"{wins / losses:.2f}")
        table.add_row(name, str(len(chosen)), win_rate, pf, f"{pnl.sum():,.2f}", str(len(skips)))
    return table


def _versions() -> dict[str, str]:
    import numba
    import pyarrow

    return {
        "vwapcli": __version__, "python": platform.python_version(), "numpy": np.__version__,
        "pandas": pd.__version__, "pyarrow": pyarrow.__version__, "numba": numba.__version__,
    }


def run_backtest(
    store: Path,
    symbols: list[str],
    start: dt.date | None,
    end: dt.date | None,
    config_path: Path | None,
    only: str | None,
    enable: list[str],
    out: Path | None,
    slippage: float | None,
    console: Console,
    store_is_default: bool = False,
    command: Sequence[str] | None = None,
    replay: bool = False,
) -> Path:
    """Run a backtest into a new run folder and print the per-strategy summary."""
    from vwapcli.data.loading import load_market_data
    from vwapcli.data.store import BarStore

    config = load_config(config_path).with_strategies(only=only, enable=enable)
    if slippage is not None:
        config = config.model_copy(update={"options": config.options.model_copy(update={"slippage": slippage})})
    names = config.enabled_strategy_names()
    run_dir = out if out is not None else default_run_dir(Path("reports"), config.enabled_strategies())
    with staged_run_dir(run_dir) as staging, run_log(staging / "run.log"):
        market_data = load_market_data(
            store, symbols, start, end, config.data.timeframe, config.data.calendar, console, store_is_default
        )
        # After a fallback to the packaged sample, the run record names the store actually read.
        store_read = market_data.store
        result = execute_backtest(config, market_data, start, end, store_read, console, replay)
        write_table(result.trades, staging / "trades.csv", staging / "trades.parquet")
        write_table(result.skipped, staging / "skipped.csv", None)
        write_table(result.equity, None, staging / "equity.parquet")
        bar_store = BarStore(store_read)
        sessions = sessions_between(market_data, start, end)
        run_record = {
            "command": list(command or sys.argv),
            "config": config.resolved_dict(),
            "strategies": names,
            "symbols": sorted(market_data),
            "start": sessions[0].isoformat() if sessions else None,
            "end": sessions[-1].isoformat() if sessions else None,
            "store": str(store_read),
            "timeframe": config.data.timeframe,
            "data_fingerprint": bar_store.fingerprint(sorted(market_data), config.data.timeframe),
            "data_provenance": {s: bar_store.provenance(s) for s in sorted(market_data)},
            "versions": _versions(),
            "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        (staging / "run.json").write_text(json.dumps(run_record, indent=2, sort_keys=True) + "\n")
    console.print(summary_table(result.trades, result.skipped))
    if out is None:
        console.print(f"run folder: [bold]{run_dir}[/bold] (default name; pass --out to choose)")
    else:
        console.print(f"run folder: [bold]{run_dir}[/bold]")
    return run_dir


def trades_digest(path: Path) -> str:
    """sha256 of a file: how tests and users prove two runs wrote identical trades."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
