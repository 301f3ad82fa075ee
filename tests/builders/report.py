"""Hand-built backtest run folders for report tests (the engine's output, written by hand).

A run folder holds trades.csv / trades.parquet, equity.parquet and run.json in the
layout of docs/ARCHITECTURE.md "backtest run folder". Trades are described by their
session, net P&L and a few labels; the builder fills in consistent pricing columns so
fill re-pricing at the recorded slippage (0.5) reproduces the recorded P&L exactly:

    entry: mid 4.95, natural 5.05 -> fill 5.00 per share
    exit:  mid X + 0.05, natural X - 0.05 -> fill X = 5.00 + pnl / (100 x contracts)
    commissions 0, so pnl = (X - 5.00) x 100 x contracts.

Strategy names here are neutral ("ORB" and a made-up "FADE"), so the file survives the
removal of any shipped strategy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from vwapcli.report.metrics import Summary

NEW_YORK = ZoneInfo("America/New_York")
ENTRY_FILL = 5.00
WIDTH = 10.0


def sessions_from(start: str, count: int) -> list[dt.date]:
    """``count`` weekdays from ``start`` (holidays do not matter to the report)."""
    return [d.date() for d in pd.bdate_range(start, periods=count)]


def utc_iso(day: dt.date, clock: dt.time) -> str:
    """ISO-8601 UTC text of a New York wall-clock time, as the engine writes it."""
    local = dt.datetime.combine(day, clock, tzinfo=NEW_YORK)
    return pd.Timestamp(local).tz_convert("UTC").isoformat()


def trade(
    day: dt.date,
    pnl: float,
    strategy: str = "ORB",
    symbol: str = "SPY",
    direction: str = "LONG",
    exit_reason: str = "target",
    entry_clock: dt.time = dt.time(10, 30),
    exit_clock: dt.time = dt.time(11, 15),
    contracts: int = 1,
    exit_day: dt.date | None = None,
) -> dict[str, Any]:
    """One trade row whose pricing columns reproduce ``pnl`` at slippage 0.5."""
    exit_fill = round(ENTRY_FILL + pnl / (100.0 * contracts), 2)
    if abs((exit_fill - ENTRY_FILL) * 100.0 * contracts - pnl) > 1e-6:
        raise ValueError(f"pnl {pnl} is not a whole cent per share on {contracts} contract(s)")
    if not 0.01 <= exit_fill <= WIDTH - 0.01:
        raise ValueError(f"pnl {pnl} puts the exit fill outside the spread width")
    return {
        "strategy_name": strategy,
        "symbol": symbol,
        "direction": direction,
        "signal_time": utc_iso(day, entry_clock),
        "entry_time": utc_iso(day, entry_clock),
        "exit_time": utc_iso(exit_day or day, exit_clock),
        "exit_reason": exit_reason,
        "P": 100.0, "P_stop": 99.0, "P_target": 101.0, "underlying_exit": 100.5,
        "right": "C" if direction == "LONG" else "P",
        "expiry": (exit_day or day).isoformat(),
        "k_long": 100.0, "k_short": 110.0,
        "contracts": contracts,
        "entry_debit": ENTRY_FILL,
        "exit_credit": exit_fill,
        "commissions": 0.0,
        "pnl": float(pnl),
        "max_loss": ENTRY_FILL * 100.0 * contracts,
        "return_on_risk": pnl / (ENTRY_FILL * 100.0 * contracts),
        "pricing_source": "model",
        "iv_entry": 0.2,
        "width": WIDTH,
        "entry_mid": ENTRY_FILL - 0.05,
        "entry_natural": ENTRY_FILL + 0.05,
        "exit_mid": round(exit_fill + 0.05, 2),
        "exit_natural": round(exit_fill - 0.05, 2),
        "slippage": 0.5,
        "commission_per_contract": 0.0,
        "expiry_note": "",
    }


def random_trades(
    sessions: Sequence[dt.date],
    n_trades: int,
    seed: int,
    strategies: Sequence[str] = ("ORB", "FADE"),
    symbols: Sequence[str] = ("SPY", "QQQ"),
    win_probability: float = 0.55,
) -> pd.DataFrame:
    """Seeded random trades (whole-dollar P&L), at most one per strategy-symbol-session."""
    rng = np.random.default_rng(seed)
    slots = [(s, strategy, symbol) for s in range(len(sessions))
             for strategy in strategies for symbol in symbols]
    chosen = np.sort(rng.choice(len(slots), size=n_trades, replace=False))
    wins = rng.random(n_trades) < win_probability
    pnl = np.where(wins, rng.integers(20, 300, n_trades), -rng.integers(20, 250, n_trades))
    directions = rng.choice(["LONG", "SHORT"], n_trades)
    reasons = rng.choice(["target", "stop", "time"], n_trades)
    minutes = rng.integers(0, 300, n_trades)
    rows = []
    for k, slot in enumerate(chosen):
        session, strategy, symbol = slots[slot]
        entry = dt.time(10 + int(minutes[k]) // 60, int(minutes[k]) % 60)
        rows.append(
            trade(sessions[session], float(pnl[k]), strategy, symbol, str(directions[k]),
                  str(reasons[k]), entry_clock=entry, exit_clock=dt.time(15, 50))
        )
    return pd.DataFrame(rows)


def build_run(
    folder: Path,
    trades: pd.DataFrame | Iterable[dict[str, Any]],
    sessions: Sequence[dt.date],
    starting_equity: float = 100_000.0,
    acceptance: dict[str, Any] | None = None,
    strategies: Sequence[str] | None = None,
    provenance: dict[str, str] | None = None,
    store: str | None = None,
    symbols: Sequence[str] | None = None,
) -> Path:
    """Write a run folder; equity = starting equity + trade P&L summed by exit session."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = trades if isinstance(trades, pd.DataFrame) else pd.DataFrame(list(trades))
    if frame.empty:
        frame = pd.DataFrame(columns=list(trade(sessions[0], 0.0).keys()))
    frame = frame.reset_index(drop=True)
    frame.insert(0, "trade_id", range(1, len(frame) + 1))
    strategies = list(strategies) if strategies is not None else sorted(
        set(frame["strategy_name"])
    )
    if symbols is None:  # run.json order: first appearance in the trades
        symbols = list(dict.fromkeys(frame["symbol"])) or ["SPY"]
    exit_dates = [
        pd.Timestamp(t).tz_convert(NEW_YORK).date() for t in frame["exit_time"]
    ]
    equity = pd.DataFrame({"session_date": list(sessions)})
    for name in strategies:
        daily = dict.fromkeys(sessions, 0.0)
        for day, strategy, pnl in zip(exit_dates, frame["strategy_name"], frame["pnl"],
                                      strict=True):
            if strategy == name and day in daily:
                daily[day] += float(pnl)
        equity[f"pnl_{name}"] = [daily[d] for d in sessions]
    columns = [f"pnl_{name}" for name in strategies]
    equity["pnl"] = equity[columns].sum(axis=1) if columns else 0.0
    equity["equity"] = starting_equity + equity["pnl"].cumsum()
    equity = equity[["session_date", "pnl", "equity", *columns]]

    frame.to_csv(folder / "trades.csv", index=False)
    frame.to_parquet(folder / "trades.parquet", index=False)
    equity.to_parquet(folder / "equity.parquet", index=False)
    config = {
        "risk": {"starting_equity": starting_equity},
        "acceptance": acceptance or {},
    }
    meta = {
        "config": config,
        "symbols": symbols,
        "start": sessions[0].isoformat(),
        "end": sessions[-1].isoformat(),
        "store": store,
        "timeframe": "1m",
        "data_fingerprint": "test-fingerprint",
        "data_provenance": provenance or dict.fromkeys(symbols, "hand-built test data"),
        "strategies": strategies,
    }
    (folder / "run.json").write_text(json.dumps(meta, indent=2))
    return folder


# Any remote load via src/href, url() or @import: a pattern of the tests' own, independent
# of vwapcli.report.self_contained's, for checking pages are self-contained.
REMOTE_LOAD = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
    re.IGNORECASE,
)


def passing_summary(**values: float) -> Summary:
    """A metrics summary that passes the default acceptance (0.45, 1.3, 20 %, 5 years, 200
    trades) with room to spare; ``values`` override single fields."""
    base = dict(
        trades=300, win_rate=0.5, profit_factor=1.5, expectancy=1.0, avg_win=2.0,
        avg_loss=-1.0, payoff=2.0, gross_profit=1.0, gross_loss=-1.0, net_pnl=0.0,
        starting_equity=1.0, ending_equity=1.0, total_return=0.0, annual_return=0.0,
        sharpe=0.0, sortino=0.0, max_drawdown_pct=10.0, max_drawdown_duration_sessions=0,
        max_drawdown_recovered=True, exposure=0.5, sessions=1500, years_covered=6.0,
        trades_per_year=50.0,
    )
    base.update(values)
    return Summary(**base)  # type: ignore[arg-type]
