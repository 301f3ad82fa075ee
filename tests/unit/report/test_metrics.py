"""Report metrics (SPEC 11): hand-worked numbers on tiny trade lists and equity paths."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import numpy as np
import pandas as pd
import pytest

from builders.report import sessions_from, trade
from vwapcli.report.metrics import (
    breakdown,
    daily_returns,
    equity_from_trades,
    exposure,
    iv_tercile_labels,
    max_drawdown,
    prepare_trades,
    profit_factor,
    regime_labels,
    sharpe_ratio,
    sortino_ratio,
    summarize,
    trade_stats,
    years_covered,
)


def _trades(rows: list[dict]) -> pd.DataFrame:
    return prepare_trades(pd.DataFrame(rows))


def test_max_drawdown_of_100k_110k_88k_120k_is_twenty_percent_over_two_sessions() -> None:
    """Path [100k start, 110k, 88k, 120k]: peak 110k (index 1), trough 88k (index 2).

    DD = (110k - 88k) / 110k = 22/110 = 20.0 %; back above 110k at index 3, so the
    duration is 3 - 1 = 2 sessions.
    """
    drawdown = max_drawdown(100_000, np.array([110_000.0, 88_000.0, 120_000.0]))
    assert drawdown.pct == pytest.approx(20.0)
    assert drawdown.duration_sessions == 2
    assert (drawdown.peak_index, drawdown.trough_index) == (1, 2)
    assert drawdown.recovered


def test_max_drawdown_counts_the_starting_equity_as_the_first_peak() -> None:
    """Start 100k, closes 95k, 97k: DD = 5k/100k = 5 %, never recovered: 2 - 0 = 2 sessions."""
    drawdown = max_drawdown(100_000, np.array([95_000.0, 97_000.0]))
    assert drawdown.pct == pytest.approx(5.0)
    assert drawdown.duration_sessions == 2
    assert not drawdown.recovered


def test_unrecovered_drawdown_lasts_until_the_last_session() -> None:
    """Start 100k, closes 120k, 90k, 100k, 110k: peak 120k at 1, trough 90k at 2.

    DD = 30/120 = 25 %; never back to 120k, so duration = last index 4 - 1 = 3 sessions.
    """
    drawdown = max_drawdown(100_000, np.array([120_000.0, 90_000.0, 100_000.0, 110_000.0]))
    assert drawdown.pct == pytest.approx(25.0)
    assert drawdown.duration_sessions == 3
    assert not drawdown.recovered


def test_equity_that_only_rises_has_no_drawdown() -> None:
    drawdown = max_drawdown(100_000, np.array([100_000.0, 101_000.0, 102_000.0]))
    assert (drawdown.pct, drawdown.duration_sessions) == (0.0, 0)


def test_trade_stats_of_five_trades_match_hand_arithmetic() -> None:
    """P&L [100, -50, 200, 0, -50]: wins 2 of 5 (the scratch is not a win) = 0.40.

    PF = (100 + 200) / |-50 - 50| = 3.0; expectancy = 200 / 5 = 40;
    avg win = 150, avg loss = -50, payoff = 150 / 50 = 3.0.
    """
    stats = trade_stats(np.array([100.0, -50.0, 200.0, 0.0, -50.0]))
    assert stats.trades == 5
    assert stats.win_rate == pytest.approx(0.4)
    assert stats.profit_factor == pytest.approx(3.0)
    assert stats.expectancy == pytest.approx(40.0)
    assert (stats.avg_win, stats.avg_loss, stats.payoff) == pytest.approx((150.0, -50.0, 3.0))


def test_profit_factor_is_infinite_without_losses_and_zero_without_profit() -> None:
    assert profit_factor(300.0, 0.0) == math.inf
    assert profit_factor(0.0, -100.0) == 0.0
    assert profit_factor(0.0, 0.0) == 0.0
    assert trade_stats(np.array([])).win_rate == 0.0


def test_daily_returns_measure_the_first_session_against_starting_equity() -> None:
    """Start 100k, closes 101k, 99.99k: returns 1 %, then 99.99/101 - 1 = -1 %."""
    returns = daily_returns(100_000, np.array([101_000.0, 99_990.0]))
    assert returns == pytest.approx([0.01, -0.01])


def test_sharpe_and_sortino_match_the_statistics_module() -> None:
    """Independent method: Python's statistics module (sample stdev) and a plain loop."""
    returns = [0.01, -0.01, 0.02, 0.0, -0.005]
    expected_sharpe = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    expected_sortino = statistics.mean(returns) / downside * math.sqrt(252)
    assert sharpe_ratio(np.array(returns)) == pytest.approx(expected_sharpe)
    assert sortino_ratio(np.array(returns)) == pytest.approx(expected_sortino)
    assert math.isnan(sharpe_ratio(np.zeros(5)))


def test_exposure_counts_sessions_with_a_trade_open() -> None:
    """4 sessions; a trade held over sessions 0-1 and one on session 3: 3/4 = 0.75."""
    sessions = np.array(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], "datetime64[D]")
    entries = np.array(["2024-01-02", "2024-01-05"], "datetime64[D]")
    exits = np.array(["2024-01-03", "2024-01-05"], "datetime64[D]")
    assert exposure(sessions, entries, exits) == pytest.approx(0.75)


def test_years_covered_is_first_to_last_session_over_365_25_days() -> None:
    """2020-01-02 to 2025-01-02 = 1827 days (two leap days) / 365.25 = 5.0021 years."""
    sessions = np.array(["2020-01-02", "2022-06-01", "2025-01-02"], "datetime64[D]")
    assert years_covered(sessions) == pytest.approx(1827 / 365.25)


def test_annual_return_is_cagr_on_252_session_years() -> None:
    """504 sessions ending at 121k from 100k: (1.21)^(252/504) - 1 = 1.1 - 1 = 10 %."""
    days = sessions_from("2020-01-02", 504)
    equity = np.full(504, 100_000.0)
    equity[-1] = 121_000.0
    daily = pd.DataFrame({"session_date": np.array(days, "datetime64[D]"), "equity": equity})
    summary = summarize(_trades([trade(days[-1], 100.0)]), daily, 100_000.0)
    assert summary.annual_return == pytest.approx(0.10)
    assert summary.total_return == pytest.approx(0.21)
    assert summary.max_drawdown_pct == 0.0


def test_strategy_equity_is_rebuilt_from_pnl_summed_by_exit_session() -> None:
    """Sessions d0..d3; trades +100 exiting d1, -40 and +10 exiting d3 (one entered on d2).

    Daily P&L [0, 100, 0, -30]; equity 1000 + cumsum = [1000, 1100, 1100, 1070].
    """
    days = sessions_from("2024-03-04", 4)
    trades = _trades([
        trade(days[1], 100.0),
        trade(days[2], -40.0, exit_day=days[3]),
        trade(days[3], 10.0),
    ])
    daily = equity_from_trades(trades, np.array(days, "datetime64[D]"), 1000.0)
    assert daily["pnl"].tolist() == [0.0, 100.0, 0.0, -30.0]
    assert daily["equity"].tolist() == [1000.0, 1100.0, 1100.0, 1070.0]


def test_entry_hour_and_dates_are_new_york_time() -> None:
    """10:30 New York on 2024-07-01 is 14:30 UTC (EDT); the bucket is hour 10."""
    trades = _trades([trade(dt.date(2024, 7, 1), 50.0, entry_clock=dt.time(10, 30))])
    assert trades["entry_time"].iloc[0] == pd.Timestamp("2024-07-01 14:30", tz="UTC")
    assert trades["entry_hour"].iloc[0] == 10
    assert trades["entry_date"].iloc[0] == pd.Timestamp("2024-07-01")


def test_breakdown_by_symbol_has_win_rate_and_profit_factor_per_group() -> None:
    """QQQ: +100, -50 -> 1/2 wins, PF 2.0, net 50. SPY: +30 -> 1/1, PF inf, net 30."""
    day = dt.date(2024, 1, 2)
    trades = _trades([
        trade(day, 100.0, symbol="QQQ"), trade(day, -50.0, symbol="QQQ"), trade(day, 30.0),
    ])
    table = breakdown(trades, "symbol")
    assert table.loc["QQQ", ["trades", "win_rate", "profit_factor", "net_pnl"]].tolist() == [
        2, 0.5, 2.0, 50.0,
    ]
    assert table.loc["SPY", "profit_factor"] == math.inf


def test_regime_splits_at_the_first_daily_expiry_session() -> None:
    trades = _trades([trade(dt.date(2022, 11, 11), 10.0), trade(dt.date(2022, 11, 14), 10.0)])
    assert regime_labels(trades).tolist() == ["before 2022-11-14", "from 2022-11-14"]


def test_iv_terciles_use_the_prior_session_close_and_run_wide_edges() -> None:
    """IV over 6 sessions: 10, 20, 30, 40, 50, 60 -> edges at the 1/3 and 2/3 quantiles.

    numpy linear quantiles: position 5/3 = 1.667 -> 20 + 0.667*10 = 26.67;
    position 10/3 = 3.333 -> 40 + 0.333*10 = 43.33. A trade on session 1 reads session 0's
    10 -> low; on session 3 reads 30 -> mid; on session 5 reads 50 -> high; on
    session 0 there is no earlier value -> n/a.
    """
    days = sessions_from("2024-01-08", 6)
    iv = pd.Series([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], index=pd.DatetimeIndex(days))
    trades = _trades([trade(days[i], 10.0) for i in (1, 3, 5, 0)])
    labels, edges = iv_tercile_labels(trades, {"SPY": iv}, np.array(days, "datetime64[D]"))
    assert labels.tolist() == ["low", "mid", "high", "n/a"]
    assert edges["SPY"] == pytest.approx((26.6667, 43.3333), abs=1e-3)
