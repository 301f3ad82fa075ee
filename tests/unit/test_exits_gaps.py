"""SPEC 9 exits, every side and level: touches at the level, gaps at the bar's open.

``tests/unit/test_exits.py`` covers the long stop (touch and gap), the short target touch and
the time rules. Here: the long target, the short stop and the short target, each touched
exactly at its level (valued at the level) and gapped through at the bar's open (valued
at the open, which real SPY/QQQ bars do after news), plus several signals in one call.

Unless a test says otherwise: one session on 2024-03-12 (EDT), 1-minute bars from 09:30
New York, entry at bar 0's close (09:31), exit clock 15:50; every bar is far from the
deadline, so only the stop and target can fire.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from builders.strategy import sessioned_bars
from vwapcli.core.types import SessionedBars
from vwapcli.exits import (
    EXIT_END_OF_DATA,
    EXIT_NONE,
    EXIT_STOP,
    EXIT_TARGET,
    EXIT_TIME,
    ExitPlan,
    plan_exits,
)

DAY = dt.date(2024, 3, 12)


def bars_of(*ohlc: tuple[float, float, float, float], start: str = "09:30") -> SessionedBars:
    """One session of 1-minute bars (open, high, low, close) from ``start`` New York."""
    hours, minutes = map(int, start.split(":"))
    rows = []
    for k, (o, h, lo, c) in enumerate(ohlc):
        minute = hours * 60 + minutes + k
        rows.append((f"{minute // 60:02d}:{minute % 60:02d}", o, h, lo, c, 1000.0))
    return sessioned_bars("SPY", [(DAY, rows)])


def close_ns(bars: SessionedBars, i: int) -> int:
    return int(bars.ts[i] + bars.bar_ns)


def plan(bars: SessionedBars, long: bool, stop: float, target: float, entry_bar: int = 0) -> ExitPlan:
    return plan_exits(
        bars, np.array([close_ns(bars, entry_bar)]), np.array([long]), np.array([stop]),
        np.array([target]), dt.time(15, 50),
    )


def outcome(exits: ExitPlan, k: int = 0) -> tuple[int, int, float]:
    return int(exits.reason[k]), int(exits.exit_time_ns[k]), float(exits.underlying_exit[k])


# ------------------------------------------------------------------ long target
def test_long_target_touched_exactly_is_valued_at_the_target() -> None:
    """Long, stop 99, target 101. Bar 1 opens 100.5 and its high is exactly 101.0 (low 100.4
    > 99): target at the level 101.0, at bar 1's close."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (100.5, 101.0, 100.4, 100.8))
    assert outcome(plan(bars, True, stop=99.0, target=101.0)) == (EXIT_TARGET, close_ns(bars, 1), 101.0)


def test_long_target_gapping_through_is_valued_at_the_open() -> None:
    """Long, stop 99, target 101. Bar 1 opens 101.4, above the target (low 101.2 > 99):
    the position is worth the open 101.4, not the 101.0 target it jumped over."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (101.4, 101.6, 101.2, 101.5))
    assert outcome(plan(bars, True, stop=99.0, target=101.0)) == (EXIT_TARGET, close_ns(bars, 1), 101.4)


def test_long_target_opening_exactly_at_the_target_is_valued_at_the_target() -> None:
    """Bar 1 opens exactly at the 101.0 target: open and level agree, 101.0 either way."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (101.0, 101.3, 100.9, 101.1))
    assert outcome(plan(bars, True, stop=99.0, target=101.0)) == (EXIT_TARGET, close_ns(bars, 1), 101.0)


# ------------------------------------------------------------------ short stop
def test_short_stop_touched_exactly_is_valued_at_the_stop() -> None:
    """Short, stop 101, target 99. Bar 1 opens 100.2 and its high is exactly 101.0 (low
    100.1 > 99): stop at the level 101.0."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (100.2, 101.0, 100.1, 100.9))
    assert outcome(plan(bars, False, stop=101.0, target=99.0)) == (EXIT_STOP, close_ns(bars, 1), 101.0)


def test_short_stop_gapping_through_is_valued_at_the_open() -> None:
    """Short, stop 101, target 99. Bar 1 opens 101.3, above the stop: the short is bought
    back at the open 101.3, a worse price than the stop it gapped over."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (101.3, 101.5, 101.1, 101.2))
    assert outcome(plan(bars, False, stop=101.0, target=99.0)) == (EXIT_STOP, close_ns(bars, 1), 101.3)


# ------------------------------------------------------------------ short target
def test_short_target_touched_exactly_is_valued_at_the_target() -> None:
    """Short, stop 101, target 99. Bar 1 opens 99.6, its low is exactly 99.0 (high 99.7 <
    101): target at 99.0."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (99.6, 99.7, 99.0, 99.2))
    assert outcome(plan(bars, False, stop=101.0, target=99.0)) == (EXIT_TARGET, close_ns(bars, 1), 99.0)


def test_short_target_gapping_through_is_valued_at_the_open() -> None:
    """Short, stop 101, target 99. Bar 1 opens 98.7, below the target (high 98.9 < 101):
    valued at the open 98.7, better than the 99.0 target."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (98.7, 98.9, 98.5, 98.8))
    assert outcome(plan(bars, False, stop=101.0, target=99.0)) == (EXIT_TARGET, close_ns(bars, 1), 98.7)


def test_short_stop_and_target_in_the_same_bar_is_a_stop() -> None:
    """Short, stop 101, target 99. Bar 1 spans 98.5-101.5: both touched, the stop wins
    (SPEC 9 checks the stop first), at the level 101.0 since it opened at 100.0 below it."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (100.0, 101.5, 98.5, 100.0))
    assert outcome(plan(bars, False, stop=101.0, target=99.0)) == (EXIT_STOP, close_ns(bars, 1), 101.0)


# ------------------------------------------------------------------ near misses
def test_levels_missed_by_a_cent_do_not_exit() -> None:
    """Long stop 99 / target 101 and short stop 101 / target 99 against bar 1 with high
    100.99 and low 99.01: no level is reached, bar 1 is the last bar -> end of data at its
    close 100.5 for both."""
    bars = bars_of((100.0, 100.2, 99.9, 100.0), (100.0, 100.99, 99.01, 100.5))
    end = (EXIT_END_OF_DATA, close_ns(bars, 1), 100.5)
    assert outcome(plan(bars, True, stop=99.0, target=101.0)) == end
    assert outcome(plan(bars, False, stop=101.0, target=99.0)) == end


# ------------------------------------------------------------------ several signals
def test_several_signals_are_planned_independently_in_one_call() -> None:
    """Three signals on one session (bars 0-3 below), in one compiled pass:

    * long from bar 0 (stop 99, target 101): bar 1 high 100.6, bar 2 high 101.2 -> target
      at 101.0 (bar 2 opens 100.6 < 101), exit at bar 2's close;
    * short from bar 1 (stop 101.1, target 99): bar 2 high 101.2 >= 101.1 -> stop at 101.1
      (opened 100.6 below it), at bar 2's close;
    * a long stamped 30 s after bar 0's close, when no bar closes: not found, entry index
      -1, no exit (reason 0, exit index -1, exit time -1, level NaN).
    """
    bars = bars_of(
        (100.0, 100.2, 99.9, 100.0),
        (100.0, 100.6, 99.8, 100.5),
        (100.6, 101.2, 100.4, 101.0),
        (101.0, 101.1, 100.8, 100.9),
    )
    unmatched = close_ns(bars, 0) + 30 * 1_000_000_000  # 30 s after a close: no bar ends then
    exits = plan_exits(
        bars,
        np.array([close_ns(bars, 0), close_ns(bars, 1), unmatched]),
        np.array([True, False, True]),
        np.array([99.0, 101.1, 99.0]),
        np.array([101.0, 99.0, 101.0]),
        dt.time(15, 50),
    )
    assert outcome(exits, 0) == (EXIT_TARGET, close_ns(bars, 2), 101.0)
    assert outcome(exits, 1) == (EXIT_STOP, close_ns(bars, 2), 101.1)
    assert exits.entry_index.tolist() == [0, 1, -1]
    assert exits.exit_index.tolist() == [2, 2, -1]
    assert int(exits.reason[2]) == EXIT_NONE and np.isnan(exits.underlying_exit[2])
    assert exits.exit_time_ns[2] == -1
    assert not exits.too_late.any()


def test_the_time_stop_deadline_is_the_exit_clock_on_the_signals_session() -> None:
    """Bars start 15:47..15:50 (close 15:48..15:51); long entered at 15:48 with far levels.
    The 15:50 deadline is reached at the bar closing 15:50 (bar 2): time exit at its close
    100.2; the deadline column holds 15:50 New York = 19:50 UTC (EDT)."""
    bars = bars_of(
        (100.0, 100.1, 99.9, 100.0), (100.0, 100.1, 99.9, 100.1),
        (100.1, 100.3, 100.0, 100.2), (100.2, 100.3, 100.1, 100.3),
        start="15:47",
    )
    exits = plan(bars, True, stop=90.0, target=110.0)
    fifteen_fifty_utc = int(np.datetime64("2024-03-12T19:50", "ns").astype(np.int64))
    assert outcome(exits) == (EXIT_TIME, fifteen_fifty_utc, 100.2)
    assert int(exits.deadline_ns[0]) == fifteen_fifty_utc
