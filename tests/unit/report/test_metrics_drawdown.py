"""Max drawdown's edges (SPEC 11): recovery exactly at the peak, flat peaks, equal troughs.

Flat stretches are the normal case for this strategy's equity: a session without trades
closes where the previous one did. Paths are [starting equity, close_1, ..., close_N];
indices count from the starting equity (index 0).
"""

from __future__ import annotations

import numpy as np
import pytest

from vwapcli.report.metrics import drawdown_series, max_drawdown


def test_a_close_exactly_back_at_the_peak_ends_the_drawdown() -> None:
    """Path [100k, 110k, 99k, 110k, 105k]: peak 110k (1), trough 99k (2), DD 11/110 = 10 %.

    Index 3 closes at exactly 110k: "at or above the peak" -> recovered there, duration
    3 - 1 = 2 sessions (had it needed to exceed 110k it would never recover: 4 - 1 = 3).
    """
    drawdown = max_drawdown(100_000, np.array([110_000.0, 99_000.0, 110_000.0, 105_000.0]))
    assert drawdown.pct == pytest.approx(10.0)
    assert (drawdown.peak_index, drawdown.trough_index) == (1, 2)
    assert drawdown.recovered
    assert drawdown.duration_sessions == 2


def test_a_flat_peak_starts_the_drawdown_at_its_last_session() -> None:
    """Path [100k, 110k, 110k, 110k, 99k, 121k]: three closes at the 110k high (sessions
    without trades), then 99k, then 121k.

    The equity goes under water after index 3, the last close at 110k: peak 3, trough 4,
    DD 11/110 = 10 %, back above 110k at 5 -> duration 5 - 3 = 2 sessions (counting from
    the first 110k close would claim 5 - 1 = 4).
    """
    drawdown = max_drawdown(100_000, np.array([110_000.0, 110_000.0, 110_000.0, 99_000.0, 121_000.0]))
    assert drawdown.pct == pytest.approx(10.0)
    assert (drawdown.peak_index, drawdown.trough_index) == (3, 4)
    assert drawdown.recovered
    assert drawdown.duration_sessions == 2


def test_flat_sessions_at_the_starting_equity_are_not_drawdown() -> None:
    """Path [100k, 100k, 100k, 95k, 100k]: no trades for two sessions, then a 5 % fall and a
    return to exactly 100k. Peak = index 2 (last close at 100k), trough 3, recovered at 4:
    duration 4 - 2 = 2 sessions."""
    drawdown = max_drawdown(100_000, np.array([100_000.0, 100_000.0, 95_000.0, 100_000.0]))
    assert drawdown.pct == pytest.approx(5.0)
    assert (drawdown.peak_index, drawdown.trough_index, drawdown.duration_sessions) == (2, 3, 2)
    assert drawdown.recovered


def test_an_unrecovered_drawdown_from_a_flat_peak_runs_to_the_last_session() -> None:
    """Path [100k, 120k, 120k, 90k, 90k, 100k]: peak 2 (last 120k), trough 3 (first 90k:
    the deepest fall's first occurrence), DD 30/120 = 25 %, never back to 120k ->
    duration = last index 5 - 2 = 3 sessions."""
    drawdown = max_drawdown(100_000, np.array([120_000.0, 120_000.0, 90_000.0, 90_000.0, 100_000.0]))
    assert drawdown.pct == pytest.approx(25.0)
    assert (drawdown.peak_index, drawdown.trough_index) == (2, 3)
    assert not drawdown.recovered
    assert drawdown.duration_sessions == 3


def test_two_equally_deep_drawdowns_report_the_first() -> None:
    """Path [100k, 90k, 100k, 90k]: two 10 % falls from 100k. The first is reported: peak 0,
    trough 1, recovered at 2 (exactly 100k), duration 2. (The second would be peak 2,
    trough 3, never recovered.)"""
    drawdown = max_drawdown(100_000, np.array([90_000.0, 100_000.0, 90_000.0]))
    assert drawdown.pct == pytest.approx(10.0)
    assert (drawdown.peak_index, drawdown.trough_index) == (0, 1)
    assert drawdown.recovered
    assert drawdown.duration_sessions == 2


def test_a_deeper_later_drawdown_replaces_an_earlier_one() -> None:
    """Path [100k, 95k, 100k, 80k, 100k]: 5 % then 20 % from the same 100k level. The 20 %
    one is reported: peak 2 (the last 100k close before it), trough 3, recovered at 4,
    duration 2."""
    drawdown = max_drawdown(100_000, np.array([95_000.0, 100_000.0, 80_000.0, 100_000.0]))
    assert drawdown.pct == pytest.approx(20.0)
    assert (drawdown.peak_index, drawdown.trough_index, drawdown.duration_sessions) == (2, 3, 2)
    assert drawdown.recovered


def test_flat_equity_has_no_drawdown() -> None:
    """Path [100k, 100k, 100k]: never below the peak -> 0 %, duration 0, recovered."""
    drawdown = max_drawdown(100_000, np.array([100_000.0, 100_000.0]))
    assert (drawdown.pct, drawdown.duration_sessions, drawdown.recovered) == (0.0, 0, True)


def test_drawdown_series_is_the_percent_below_the_running_peak_each_session() -> None:
    """Path [100k, 110k, 99k, 110k, 88k]: running peaks 100k, 110k, 110k, 110k, 110k.

    Per session (the starting equity is not a session): 110/110 - 1 = 0, 99/110 - 1 =
    -10 %, 0, 88/110 - 1 = -20 %; its minimum is minus the max drawdown.
    """
    equity = np.array([110_000.0, 99_000.0, 110_000.0, 88_000.0])
    series = drawdown_series(100_000, equity)
    assert series == pytest.approx([0.0, -10.0, 0.0, -20.0])
    assert -series.min() == pytest.approx(max_drawdown(100_000, equity).pct)


def test_drawdown_series_measures_the_first_session_against_the_starting_equity() -> None:
    """Start 100k, first close 96k: already 4 % under the starting equity (the first peak)."""
    assert drawdown_series(100_000, np.array([96_000.0, 100_000.0])) == pytest.approx([-4.0, 0.0])
