"""`vwapcli backtest`: load -> signals -> engine -> a complete run folder (SPEC 10)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.table import Table

from vwapcli import __version__
from vwapcli.app_config import AppConfig, StrategyChoice
from vwapcli.core.types import SessionedBars
from vwapcli.data.loading import BarRequest, MarketData, sessions_between
from vwapcli.engine import BacktestResult, build_engine, plan_candidates
from vwapcli.env import Env, NoProgress, ProgressBars
from vwapcli.run_folder import default_run_dir, staged_run_dir, write_table
from vwapcli.runlog import run_log

log = logging.getLogger("vwapcli.backtest")


@dataclass(frozen=True)
class BacktestRequest:
    """`vwapcli backtest`: which bars, which strategies, where the run folder goes.

    ``slippage`` overrides ``options.slippage``; ``replay`` feeds the strategies bar by bar;
    ``command`` is recorded in run.json (default: this process's argv).
    """

    bars: BarRequest
    strategies: StrategyChoice = field(default_factory=StrategyChoice)
    out: Path | None = None
    slippage: float | None = None
    replay: bool = False
    command: tuple[str, ...] = ()


def execute_backtest(
    config: AppConfig,
    market_data: Mapping[str, SessionedBars],
    start: dt.date | None,
    end: dt.date | None,
    store: Path,
    progress: ProgressBars | None = None,
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
    sessions = sessions_between(market_data, start, end)
    with (progress or NoProgress()).bar("backtest", len(sessions), "sessions") as advance:
        return engine.run(candidates, sessions, config.enabled_strategy_names(), progress=advance)


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


def run_backtest(request: BacktestRequest, env: Env) -> Path:
    """Run a backtest into a new run folder and print the per-strategy summary."""
    config = request.strategies.load()
    if request.slippage is not None:
        options = config.options.model_copy(update={"slippage": request.slippage})
        config = config.model_copy(update={"options": options})
    bars = request.bars
    run_dir = request.out if request.out is not None else default_run_dir(Path("reports"), config.enabled_strategies())
    with staged_run_dir(run_dir) as staging, run_log(staging / "run.log"):
        market_data = bars.load(config.data, env.console)
        # After a fallback to the packaged sample, the run record names the store actually read.
        result = execute_backtest(config, market_data, bars.start, bars.end, market_data.store, env.progress, request.replay)
        write_table(result.trades, staging / "trades.csv", staging / "trades.parquet")
        write_table(result.skipped, staging / "skipped.csv", None)
        write_table(result.equity, None, staging / "equity.parquet")
        record = run_record(config, market_data, sessions_between(market_data, bars.start, bars.end), request.command)
        (staging / "run.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    env.console.print(summary_table(result.trades, result.skipped))
    if request.out is None:
        env.console.print(f"run folder: [bold]{run_dir}[/bold] (default name; pass --out to choose)")
    else:
        env.console.print(f"run folder: [bold]{run_dir}[/bold]")
    return run_dir


def run_record(
    config: AppConfig, market_data: MarketData, sessions: Sequence[dt.date], command: Sequence[str] = ()
) -> dict[str, Any]:
    """run.json (SPEC 10): the resolved config, the data read and where it came from, versions."""
    from vwapcli.data.store import BarStore

    bar_store = BarStore(market_data.store)
    symbols = sorted(market_data)
    return {
        "command": list(command or sys.argv),
        "config": config.resolved_dict(),
        "strategies": config.enabled_strategy_names(),
        "symbols": symbols,
        "start": sessions[0].isoformat() if sessions else None,
        "end": sessions[-1].isoformat() if sessions else None,
        "store": str(market_data.store),
        "timeframe": config.data.timeframe,
        "data_fingerprint": bar_store.fingerprint(symbols, config.data.timeframe),
        "data_provenance": {s: bar_store.provenance(s) for s in symbols},
        "versions": _versions(),
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def trades_digest(path: Path) -> str:
    """sha256 of a file: how tests and users prove two runs wrote identical trades."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
