"""SPEC 9 exits on hand-built bars: stop, target, time, gaps, both-in-one-bar, too late."""

from __future__ import annotations

import datetime as dt

import numpy as np

from vwapcli.core.types import NS_PER_MINUTE, SessionedBars, local_time_ns
from vwapcli.exits import EXIT_END_OF_DATA, EXIT_STOP, EXIT_TARGET, EXIT_TIME, plan_exits

DAY = dt.date(2024, 3, 12)  # a regular session: 09:30-16:00 New York = 13:30-20:00 UTC
OPEN_NS = local_time_ns(DAY, dt.time(9, 30))
CLOSE_NS = local_time_ns(DAY, dt.time(16, 0))


def one_session(rows: list[tuple[float, float, float, float]], first_minute: int = 0, close_ns: int = CLOSE_NS) -> SessionedBars:
    """Bars (open, high, low, close) starting ``first_minute`` minutes after the open."""
    n = len(rows)
    ts = OPEN_NS + (np.arange(n, dtype=np.int64) + first_minute) * NS_PER_MINUTE
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in zip(*rows, strict=True))
    return SessionedBars(
        symbol="SPY", bar_ns=NS_PER_MINUTE, ts=ts, open=o, high=h, low=lo, close=c,
        volume=np.full(n, 1000.0), session_date=np.array([np.datetime64(DAY, "D")]),
        session_open_ns=np.array([OPEN_NS]), session_close_ns=np.array([close_ns]),
        session_start=np.array([0, n], dtype=np.int64),
    )


def close_time(bars: SessionedBars, i: int) -> int:
    return int(bars.ts[i] + bars.bar_ns)


def plan_one(bars: SessionedBars, entry_bar: int, long: bool, stop: float, target: float,
             exit_clock: dt.time = dt.time(15, 50), exit_buffer_minutes: int = 0):
    return plan_exits(
        bars, np.array([close_time(bars, entry_bar)]), np.array([long]), np.array([stop]),
        np.array([target]), exit_clock, exit_buffer_minutes * NS_PER_MINUTE,
    )


def test_long_stop_when_low_touches_stop_valued_at_the_stop() -> None:
    """Entry at bar 0's close; bar 1 low 99.50 <= stop 99.50 (opened at 100 above it) -> stop at 99.50."""
    bars = one_session([(100, 100.2, 99.9, 100.0), (100.0, 100.1, 99.5, 99.8), (99.8, 101, 99.7, 100.9)])
    plan = plan_one(bars, 0, True, stop=99.5, target=100.8)
    assert plan.reason[0] == EXIT_STOP and plan.underlying_exit[0] == 99.5
    assert plan.exit_time_ns[0] == close_time(bars, 1)


def test_long_stop_gapping_through_is_valued_at_the_open() -> None:
    """Bar 1 opens at 99.20, below the 99.50 stop: the level is the open, 99.20."""
    bars = one_session([(100, 100.2, 99.9, 100.0), (99.2, 99.4, 99.0, 99.3)])
    plan = plan_one(bars, 0, True, stop=99.5, target=101.0)
    assert plan.reason[0] == EXIT_STOP and plan.underlying_exit[0] == 99.2


def test_stop_and_target_in_the_same_bar_is_a_stop() -> None:
    """Bar 1 spans 99.0-101.5: both the stop 99.5 and target 101 are touched -> stop (conservative)."""
    bars = one_session([(100, 100.2, 99.9, 100.0), (100.0, 101.5, 99.0, 100.5)])
    plan = plan_one(bars, 0, True, stop=99.5, target=101.0)
    assert plan.reason[0] == EXIT_STOP and plan.underlying_exit[0] == 99.5


def test_short_target_when_low_touches_target() -> None:
    """Short: target 99.0; bar 2 low 98.9 <= 99.0, high 99.6 < stop 101 -> target at 99.0."""
    bars = one_session([(100, 100.2, 99.9, 100.0), (100.0, 100.1, 99.4, 99.5), (99.5, 99.6, 98.9, 99.1)])
    plan = plan_one(bars, 0, False, stop=101.0, target=99.0)
    assert plan.reason[0] == EXIT_TARGET and plan.underlying_exit[0] == 99.0
    assert plan.exit_time_ns[0] == close_time(bars, 2)


def test_entry_bar_itself_is_never_checked() -> None:
    """Bar 0 (the entry bar) has low 90 below the stop, but exits start at the next bar."""
    bars = one_session([(100, 100.2, 90.0, 100.0), (100.0, 100.3, 99.9, 100.1)], first_minute=0)
    plan = plan_one(bars, 0, True, stop=99.5, target=105.0)
    # Bar 1 (low 99.9 > 99.5, high 100.3 < 105, closes 09:32 < 15:50) exits nothing and is
    # the last bar: end of data at its close 100.1.
    assert plan.reason[0] == EXIT_END_OF_DATA and plan.underlying_exit[0] == 100.1
    assert plan.exit_time_ns[0] == close_time(bars, 1)


def test_time_stop_is_first_bar_closing_at_or_after_15_50() -> None:
    """Bars start at 15:47, 15:48, 15:49 (closes 15:48, 15:49, 15:50): exit at 15:50 close, its close price."""
    minute = (15 * 60 + 47) - (9 * 60 + 30)
    bars = one_session([(100, 100.1, 99.9, 100.0), (100, 100.1, 99.9, 100.05), (100, 100.1, 99.9, 100.07)], first_minute=minute)
    plan = plan_one(bars, 0, True, stop=99.0, target=101.0)
    assert plan.reason[0] == EXIT_TIME
    assert plan.exit_time_ns[0] == local_time_ns(DAY, dt.time(15, 50))
    assert plan.underlying_exit[0] == 100.07


def test_without_a_buffer_an_early_close_caps_the_time_stop_at_the_close() -> None:
    """exit_buffer 0, 13:00 close: the deadline is min(15:50, 13:00 - 0) = 13:00; a 13:00 entry is too late."""
    early_close = local_time_ns(DAY, dt.time(13, 0))
    minute = (12 * 60 + 57) - (9 * 60 + 30)
    bars = one_session([(100, 100.1, 99.9, 100.0)] * 3, first_minute=minute, close_ns=early_close)
    plan = plan_one(bars, 0, True, stop=99.0, target=101.0)  # entry 12:58 close
    assert plan.reason[0] == EXIT_TIME and plan.exit_time_ns[0] == early_close
    late = plan_one(bars, 2, True, stop=99.0, target=101.0)  # entry at 13:00 close
    assert bool(late.too_late[0]) and late.reason[0] == 0


def test_the_default_buffer_exits_a_13_00_early_close_at_12_50_and_later_entries_are_too_late() -> None:
    """SPEC 9 with exit_buffer 10 min: deadline = min(15:50, 13:00 - 10 min) = 12:50.
    Bars start 12:47..12:51 (close 12:48..12:52). Entry at the 12:48 close -> time exit at
    the 12:50 close (bar 2, close 100.02). Entries at the 12:50 and 12:51 closes are at or
    after 12:50 -> too_late, no exit."""
    early_close = local_time_ns(DAY, dt.time(13, 0))
    minute = (12 * 60 + 47) - (9 * 60 + 30)
    rows = [(100, 100.1, 99.9, 100.0), (100, 100.1, 99.9, 100.01), (100, 100.1, 99.9, 100.02),
            (100, 100.1, 99.9, 100.03), (100, 100.1, 99.9, 100.04)]
    bars = one_session(rows, first_minute=minute, close_ns=early_close)
    plan = plan_one(bars, 0, True, stop=99.0, target=101.0, exit_buffer_minutes=10)
    assert plan.reason[0] == EXIT_TIME
    assert plan.exit_time_ns[0] == local_time_ns(DAY, dt.time(12, 50))
    assert plan.underlying_exit[0] == 100.02
    assert plan.deadline_ns[0] == local_time_ns(DAY, dt.time(12, 50))
    for entry_bar in (2, 3):
        late = plan_one(bars, entry_bar, True, stop=99.0, target=101.0, exit_buffer_minutes=10)
        assert bool(late.too_late[0]) and late.reason[0] == 0


def test_on_a_full_day_the_buffer_caps_a_later_exit_time_at_15_50() -> None:
    """exit_time 15:55, buffer 10 min, 16:00 close: deadline = min(15:55, 15:50) = 15:50.
    Bars start 15:47..15:49 (close 15:48..15:50): exit at the 15:50 close, 100.07."""
    minute = (15 * 60 + 47) - (9 * 60 + 30)
    bars = one_session([(100, 100.1, 99.9, 100.0), (100, 100.1, 99.9, 100.05), (100, 100.1, 99.9, 100.07)], first_minute=minute)
    plan = plan_one(bars, 0, True, stop=99.0, target=101.0, exit_clock=dt.time(15, 55), exit_buffer_minutes=10)
    assert plan.reason[0] == EXIT_TIME
    assert plan.exit_time_ns[0] == local_time_ns(DAY, dt.time(15, 50))
    assert plan.underlying_exit[0] == 100.07


def test_an_exit_time_before_the_buffer_wins() -> None:
    """exit_time 15:30, buffer 10 min: deadline = min(15:30, 15:50) = 15:30."""
    minute = (15 * 60 + 28) - (9 * 60 + 30)
    bars = one_session([(100, 100.1, 99.9, 100.0), (100, 100.1, 99.9, 100.05), (100, 100.1, 99.9, 100.07)], first_minute=minute)
    plan = plan_one(bars, 0, True, stop=99.0, target=101.0, exit_clock=dt.time(15, 30), exit_buffer_minutes=10)
    assert plan.reason[0] == EXIT_TIME and plan.exit_time_ns[0] == local_time_ns(DAY, dt.time(15, 30))


def test_missing_bars_before_the_deadline_end_as_end_of_data() -> None:
    """Data stop at 10:02 with no touch: exit at the last bar's close, reason end_of_data."""
    bars = one_session([(100, 100.1, 99.9, 100.0), (100, 100.1, 99.9, 100.02), (100, 100.1, 99.9, 100.03)])
    plan = plan_one(bars, 0, True, stop=99.0, target=101.0)
    assert plan.reason[0] == EXIT_END_OF_DATA and plan.underlying_exit[0] == 100.03
