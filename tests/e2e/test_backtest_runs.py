"""End-to-end backtests on the packaged synthetic sample: determinism, SPEC 7 strikes,
the pnl identity, and SPEC 9 exits re-derived independently from the underlying bars."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.cli import invoke, sample_store
from vwapcli.app_config import AppConfig
from vwapcli.data.loading import load_market_data


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def orb_run(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "orb"
    invoke(["backtest", "--store", str(store), "--symbols", "SPY", "QQQ", "--only", "orb", "--out", str(out)])
    return out


def test_a_run_writes_every_spec_10_output(orb_run: Path) -> None:
    names = {p.name for p in orb_run.iterdir()}
    assert {"trades.csv", "trades.parquet", "skipped.csv", "equity.parquet", "run.json", "run.log"} <= names
    header = (orb_run / "trades.csv").read_text().splitlines()[0].split(",")
    assert header[:25] == [
        "trade_id", "strategy_name", "symbol", "direction", "signal_time", "entry_time", "exit_time",
        "exit_reason", "P", "P_stop", "P_target", "underlying_exit", "right", "expiry", "k_long",
        "k_short", "contracts", "entry_debit", "exit_credit", "commissions", "pnl", "max_loss",
        "return_on_risk", "pricing_source", "iv_entry",
    ]


def test_two_identical_runs_write_byte_identical_trade_logs(store: Path, orb_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    invoke(["backtest", "--store", str(store), "--symbols", "SPY", "QQQ", "--only", "orb", "--out", str(again)])
    for name in ("trades.csv", "trades.parquet", "skipped.csv", "equity.parquet"):
        assert (again / name).read_bytes() == (orb_run / name).read_bytes(), name


def test_strikes_debits_and_the_pnl_identity(orb_run: Path) -> None:
    """SPEC 7 on a $1 grid: K_long nearest P, K_short nearest P_target (or one step beyond K_long)."""
    trades = pd.read_csv(orb_run / "trades.csv")
    assert len(trades) > 20
    for t in trades.itertuples():
        long_side = t.direction == "LONG"
        assert t.right == ("C" if long_side else "P")
        assert t.k_long == float(round(t.k_long)) and t.k_short == float(round(t.k_short))
        assert abs(t.k_long - t.P) <= 0.5 + 1e-9
        beyond = (t.k_short > t.k_long) if long_side else (t.k_short < t.k_long)
        assert beyond
        if abs(t.k_short - t.k_long) > 1:
            assert abs(t.k_short - t.P_target) <= 0.5 + 1e-9
        width = abs(t.k_short - t.k_long)
        assert 0 < t.entry_debit < width
        identity = (t.exit_credit - t.entry_debit) * 100 * t.contracts - t.commissions
        assert math.isclose(t.pnl, identity, abs_tol=1e-6)
        assert t.commissions == pytest.approx(0.65 * 4 * t.contracts)


def test_exit_reasons_and_times_match_an_independent_scan_of_the_bars(store: Path, orb_run: Path) -> None:
    """Re-derive SPEC 9 with plain pandas: first bar after entry where stop, target or time hits."""
    trades = pd.read_csv(orb_run / "trades.csv")
    data = load_market_data(store, ["SPY", "QQQ"], None, None)
    for t in trades.itertuples():
        bars = data[t.symbol]
        ts = pd.to_datetime(bars.ts, utc=True)
        close_time = ts + pd.Timedelta(minutes=1)
        entry = pd.Timestamp(t.entry_time)
        day = entry.tz_convert("America/New_York").date()
        session = int(np.flatnonzero(bars.session_date.astype("datetime64[D]") == np.datetime64(day))[0])
        close_of_session = pd.Timestamp(int(bars.session_close_ns[session]), tz="UTC")
        # SPEC 9: min(exit_time 15:50, session close - exit_buffer 10 min): 12:50 on 13:00 closes.
        deadline = min(pd.Timestamp(f"{day} 15:50", tz="America/New_York").tz_convert("UTC"),
                       close_of_session - pd.Timedelta(minutes=10))
        lo, hi = bars.session_start[session], bars.session_start[session + 1]
        reason, when = "end_of_data", close_time[hi - 1]
        for j in range(lo, hi):
            if close_time[j] <= entry:
                continue
            if t.direction == "LONG":
                stop, target = bars.low[j] <= t.P_stop, bars.high[j] >= t.P_target
            else:
                stop, target = bars.high[j] >= t.P_stop, bars.low[j] <= t.P_target
            if stop or target or close_time[j] >= deadline:
                reason = "stop" if stop else "target" if target else "time"
                when = close_time[j]
                break
        assert (t.exit_reason, pd.Timestamp(t.exit_time)) == (reason, when), t.trade_id


def test_equity_is_starting_equity_plus_cumulative_daily_pnl(orb_run: Path) -> None:
    equity = pd.read_parquet(orb_run / "equity.parquet")
    trades = pd.read_csv(orb_run / "trades.csv")
    start = AppConfig().risk.starting_equity
    assert equity["equity"].iloc[-1] == pytest.approx(start + trades["pnl"].sum())
    assert np.allclose(equity["equity"], start + equity["pnl"].cumsum())


def test_bar_by_bar_replay_writes_the_same_trades_as_the_batch_run(store: Path, orb_run: Path, tmp_path: Path) -> None:
    """One engine loop serves both paths; the signals differ only in how bars arrive."""
    replayed = tmp_path / "replayed"
    invoke(["backtest", "--store", str(store), "--symbols", "SPY", "QQQ", "--only", "orb", "--replay", "--out", str(replayed)])
    assert (replayed / "trades.csv").read_bytes() == (orb_run / "trades.csv").read_bytes()


def test_the_run_log_is_json_lines_with_every_trade_tagged_by_strategy(orb_run: Path) -> None:
    import json

    records = [json.loads(line) for line in (orb_run / "run.log").read_text().splitlines()]
    trades = pd.read_csv(orb_run / "trades.csv")
    trade_records = [r for r in records if r["message"].startswith("trade ")]
    assert len(trade_records) == len(trades)
    assert all(r["strategy"] == "ORB" for r in trade_records)
