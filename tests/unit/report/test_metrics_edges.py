"""Report metrics (SPEC 11) at their edges: cents-sized trades, empty and one-session runs,
ruined accounts, recoveries that take several sessions, dates outside the run, IV gaps.

Every expected number is worked out in the test's docstring.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from builders.report import sessions_from, trade
from vwapcli.report.metrics import (
    breakdown,
    equity_from_trades,
    exposure,
    iv_tercile_labels,
    max_drawdown,
    prepare_trades,
    profit_factor,
    sharpe_ratio,
    sortino_ratio,
    summarize,
    trade_stats,
    years_covered,
)


def _days(*dates: str) -> np.ndarray:
    return np.array(dates, dtype="datetime64[D]")


# ------------------------------------------------------------------ trade statistics
def test_cents_sized_trades_still_count_as_wins_and_losses() -> None:
    """P&Ls +0.50, -0.25, 0.00: one win (> 0), one loss (< 0), the scratch is neither.
    Win rate 1/3; PF 0.50 / 0.25 = 2.0; payoff 0.50 / 0.25 = 2.0; expectancy 0.25 / 3."""
    stats = trade_stats(np.array([0.5, -0.25, 0.0]))
    assert (stats.trades, stats.wins, stats.losses) == (3, 1, 1)
    assert stats.win_rate == pytest.approx(1 / 3)
    assert (stats.profit_factor, stats.payoff) == (2.0, 2.0)
    assert stats.expectancy == pytest.approx(0.25 / 3)


def test_a_profit_factor_under_one_dollar_of_profit_is_still_a_ratio() -> None:
    """Gross profit 0.50 against a 0.25 loss: PF 2.0 (a profit below $1 is still profit)."""
    assert profit_factor(0.5, -0.25) == 2.0


def test_no_trades_give_zero_rates_and_no_averages() -> None:
    """Empty: 0 trades, win rate 0, PF 0, expectancy 0, net 0; averages and payoff NaN."""
    stats = trade_stats(np.array([]))
    assert (stats.trades, stats.win_rate, stats.profit_factor, stats.expectancy, stats.net_pnl) == (0, 0.0, 0.0, 0.0, 0.0)
    assert math.isnan(stats.avg_win) and math.isnan(stats.avg_loss) and math.isnan(stats.payoff)


def test_payoff_needs_both_a_win_and_a_loss() -> None:
    """Only wins [+10, +30]: avg win 20, no losses -> payoff NaN; only losses: NaN too."""
    assert math.isnan(trade_stats(np.array([10.0, 30.0])).payoff)
    assert math.isnan(trade_stats(np.array([-10.0])).payoff)
    assert trade_stats(np.array([10.0, 30.0])).avg_win == 20.0


# ------------------------------------------------------------------ ratios
def test_sharpe_of_two_days_is_defined() -> None:
    """Returns +1 %, +3 %: mean 2 %, sample std sqrt(2) % -> 2 / sqrt(2) x sqrt(252) =
    sqrt(2) x sqrt(252) = sqrt(504) = 22.45. One day has no sample std: NaN."""
    assert sharpe_ratio(np.array([0.01, 0.03])) == pytest.approx(math.sqrt(504))
    assert math.isnan(sharpe_ratio(np.array([0.01])))


def test_sortino_of_a_single_losing_day() -> None:
    """One day at -1 %: downside deviation sqrt(0.01^2 / 1) = 1 % -> -1 x sqrt(252).
    No days at all: NaN."""
    assert sortino_ratio(np.array([-0.01])) == pytest.approx(-math.sqrt(252))
    assert math.isnan(sortino_ratio(np.array([])))


def test_ratios_of_too_few_days_are_nan_without_a_numpy_warning() -> None:
    """A one-session run (one return) has no sample std, a run without sessions no mean:
    both ratios are NaN, returned before numpy is asked for ``std(ddof=1)`` of one value or
    the mean of nothing, which would print a RuntimeWarning on the user's terminal."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(sharpe_ratio(np.array([0.01])))
        assert math.isnan(sortino_ratio(np.array([])))


# ------------------------------------------------------------------ drawdown
def test_a_recovery_several_sessions_after_the_trough_ends_at_the_first_close_back() -> None:
    """Path [100k, 110k, 99k, 105k, 111k, 115k]: peak 1, trough 2 (10 %); the closes at or
    above 110k after the trough are at 4 and 5 -> recovered at 4, duration 4 - 1 = 3."""
    drawdown = max_drawdown(100_000, np.array([110_000.0, 99_000.0, 105_000.0, 111_000.0, 115_000.0]))
    assert (drawdown.peak_index, drawdown.trough_index, drawdown.duration_sessions) == (1, 2, 3)
    assert drawdown.recovered


def test_equity_that_never_falls_has_its_peak_and_trough_at_the_start() -> None:
    """Path [100k, 101k, 102k]: no fall -> 0 %, duration 0, peak = trough = index 0."""
    drawdown = max_drawdown(100_000, np.array([101_000.0, 102_000.0]))
    assert (drawdown.pct, drawdown.duration_sessions, drawdown.peak_index, drawdown.trough_index,
            drawdown.recovered) == (0.0, 0, 0, 0, True)


# ------------------------------------------------------------------ sessions
def test_exposure_and_years_of_an_empty_run_are_zero() -> None:
    empty = _days()
    assert exposure(empty, _days(), _days()) == 0.0
    assert years_covered(empty) == 0.0


def test_exposure_of_a_one_session_run_with_a_trade_that_day_is_one() -> None:
    """One session, one trade entered and exited on it: 1/1 sessions held = 1.0. Years
    covered: first to last session is 0 days -> 0.0."""
    day = _days("2024-01-02")
    assert exposure(day, day, day) == 1.0
    assert years_covered(day) == 0.0


# ------------------------------------------------------------------ summaries
def _daily(days: list[dt.date], equity: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"session_date": np.array(days, "datetime64[D]"), "equity": np.array(equity)})


def test_trades_per_year_divide_by_the_years_covered() -> None:
    """Sessions 2024-01-02 .. 2024-07-01 (weekdays) span 181 days = 181/365.25 = 0.4956
    years; 3 trades -> 3 / 0.4956 = 6.054 trades a year."""
    days = [d.date() for d in pd.bdate_range("2024-01-02", "2024-07-01")]
    trades = prepare_trades(pd.DataFrame([trade(days[k], 10.0) for k in (0, 5, 10)]))
    summary = summarize(trades, _daily(days, [100_000.0] * len(days)), 100_000.0)
    assert summary.years_covered == pytest.approx(181 / 365.25)
    assert summary.trades_per_year == pytest.approx(3 / (181 / 365.25))


def test_a_one_session_run_has_no_trades_per_year() -> None:
    """One session covers 0 years: trades per year is undefined (NaN), not a division by 0."""
    day = sessions_from("2024-01-02", 1)
    trades = prepare_trades(pd.DataFrame([trade(day[0], 10.0)]))
    summary = summarize(trades, _daily(day, [100_010.0]), 100_000.0)
    assert summary.years_covered == 0.0 and math.isnan(summary.trades_per_year)


def test_a_run_without_sessions_summarises_to_zeros_and_nans() -> None:
    """No sessions: ending equity = starting, total return 0, no annual return, no DD."""
    trades = prepare_trades(pd.DataFrame(columns=["entry_time", "exit_time", "pnl"]))
    summary = summarize(trades, _daily([], []), 100_000.0)
    assert (summary.sessions, summary.ending_equity, summary.total_return, summary.max_drawdown_pct) == (
        0, 100_000.0, 0.0, 0.0)
    assert math.isnan(summary.annual_return) and summary.exposure == 0.0


@pytest.mark.parametrize("ending", [0.0, -50_000.0])
def test_a_ruined_account_has_no_annual_return(ending: float) -> None:
    """Ending at 0 or below: (end/start)^(252/n) is not a growth rate -> NaN."""
    days = sessions_from("2024-01-02", 3)
    trades = prepare_trades(pd.DataFrame([trade(days[0], 10.0)]))
    summary = summarize(trades, _daily(days, [50_000.0, 20_000.0, ending]), 100_000.0)
    assert math.isnan(summary.annual_return)


def test_naive_trade_times_are_read_as_utc() -> None:
    """'2024-01-03 15:00' without an offset is 15:00 UTC = 10:00 New York (EST)."""
    trades = prepare_trades(pd.DataFrame({"entry_time": ["2024-01-03 15:00"], "exit_time": ["2024-01-03 16:00"],
                                          "pnl": [1.0]}))
    assert trades["entry_time"].iloc[0] == pd.Timestamp("2024-01-03 15:00", tz="UTC")
    assert trades["entry_hour"].iloc[0] == 10


def test_strategy_equity_ignores_trades_exiting_outside_the_run_sessions() -> None:
    """Run sessions 2024-01-02 and 01-04 only. +100 exits 01-02 (a session: counted);
    +3 exits 01-03 (between the sessions) and +7 exits 01-06 (after the last one): both
    ignored. Daily P&L [100, 0], equity 1000 + cumsum = [1100, 1100]."""
    sessions = _days("2024-01-02", "2024-01-04")
    trades = pd.DataFrame({"exit_date": _days("2024-01-02", "2024-01-03", "2024-01-06"), "pnl": [100.0, 3.0, 7.0]})
    daily = equity_from_trades(trades, sessions, 1000.0)
    assert daily["pnl"].tolist() == [100.0, 0.0]
    assert daily["equity"].tolist() == [1100.0, 1100.0]


def test_breakdown_groups_are_sorted_and_a_scratch_trade_is_not_a_win() -> None:
    """Rows QQQ +0.50, IWM -1.00, QQQ 0.00, QQQ -0.25 (first seen QQQ, then IWM).
    Groups sorted: IWM, QQQ. QQQ: 3 trades, 1 win (the scratch is not one) -> 1/3,
    PF 0.50/0.25 = 2.0, net 0.25. IWM: 1 trade, no win, PF 0."""
    trades = pd.DataFrame({"symbol": ["QQQ", "IWM", "QQQ", "QQQ"], "pnl": [0.5, -1.0, 0.0, -0.25]})
    table = breakdown(trades, "symbol")
    assert table.index.tolist() == ["IWM", "QQQ"]
    assert table.loc["QQQ", "trades"] == 3
    assert table.loc["QQQ", "win_rate"] == pytest.approx(1 / 3)
    assert (table.loc["QQQ", "profit_factor"], table.loc["QQQ", "net_pnl"]) == (2.0, 0.25)
    assert (table.loc["IWM", "win_rate"], table.loc["IWM", "profit_factor"]) == (0.0, 0.0)


# ------------------------------------------------------------------ IV terciles
def test_iv_tercile_edges_use_only_the_runs_sessions_and_include_equal_values() -> None:
    """IV on 6 weekdays from 2024-01-08: 90, 10, 20, 30, 40, 90; the run covers the middle
    four (01-09 .. 01-12), so the edges come from 10, 20, 30, 40 only: numpy linear
    quantiles at positions 1 and 2 of 0..3 -> exactly 20 and 30 (the 90s outside the run
    would move them). A level equal to an edge is in the lower tercile (<=): trades on
    01-11 (prior 20) -> low, 01-12 (prior 30) -> mid, 01-15 (prior 90) -> high, and 01-10
    (prior 10, the run's first value) -> low; 01-09 reads the series' very first value, 01-08's
    90 -> high."""
    days = sessions_from("2024-01-08", 6)
    iv = pd.Series([90.0, 10.0, 20.0, 30.0, 40.0, 90.0], index=pd.DatetimeIndex(days))
    run_sessions = np.array(days[1:5], "datetime64[D]")
    trades = prepare_trades(pd.DataFrame([trade(days[k], 10.0) for k in (3, 4, 5, 2, 1)]))
    labels, edges = iv_tercile_labels(trades, {"SPY": iv}, run_sessions)
    assert edges["SPY"] == (20.0, 30.0)
    assert labels.tolist() == ["low", "mid", "high", "low", "high"]


def test_iv_terciles_skip_symbols_without_data_and_go_on_with_the_next() -> None:
    """AAA has no series (None), BBB an empty one, CCC none inside the run (all 2023):
    their trades are n/a with no edges, and SPY (sorted after them) is still labelled:
    IV 10, 20, 30 on 01-08..01-10 -> edges 16.67, 23.33; SPY's 01-10 trade reads 20 -> mid."""
    days = sessions_from("2024-01-08", 3)
    spy = pd.Series([10.0, 20.0, 30.0], index=pd.DatetimeIndex(days))
    old = pd.Series([50.0], index=pd.DatetimeIndex([dt.date(2023, 6, 1)]))
    rows = [trade(days[2], 10.0, symbol=s) for s in ("AAA", "BBB", "CCC", "SPY")]
    trades = prepare_trades(pd.DataFrame(rows))
    series = {"AAA": None, "BBB": pd.Series(dtype=float), "CCC": old, "SPY": spy}
    labels, edges = iv_tercile_labels(trades, series, np.array(days, "datetime64[D]"))  # type: ignore[arg-type]
    assert labels.tolist() == ["n/a", "n/a", "n/a", "mid"]
    assert list(edges) == ["SPY"]


def test_an_iv_gap_on_the_prior_session_is_not_a_tercile() -> None:
    """IV 10, NaN, 30, 40 on 01-08..01-11; a trade on 01-10 reads 01-09's NaN -> n/a
    (not "high", which a NaN compared with the edges would fall through to)."""
    days = sessions_from("2024-01-08", 4)
    iv = pd.Series([10.0, math.nan, 30.0, 40.0], index=pd.DatetimeIndex(days))
    trades = prepare_trades(pd.DataFrame([trade(days[2], 10.0)]))
    labels, _ = iv_tercile_labels(trades, {"SPY": iv}, np.array(days, "datetime64[D]"))
    assert labels.tolist() == ["n/a"]


# ------------------------------------------------------------------ frozen values
def test_metric_records_cannot_be_changed() -> None:
    """TradeStats, Drawdown and Summary are values shared by the page, metrics.json and
    the verdict: frozen."""
    stats = trade_stats(np.array([1.0]))
    drawdown = max_drawdown(100.0, np.array([90.0]))
    for value, field in ((stats, "trades"), (drawdown, "pct")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, 0)
    days = sessions_from("2024-01-02", 1)
    summary = summarize(prepare_trades(pd.DataFrame([trade(days[0], 10.0)])), _daily(days, [100_010.0]), 100_000.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.trades = 0  # type: ignore[misc]
