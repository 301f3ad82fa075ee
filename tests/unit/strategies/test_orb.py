"""SPEC 6 (ORB) rule by rule on hand-built sessions.

2024-01-03 is EST (NY = UTC - 5h); the session opens 09:30, so with range_minutes 30 the
opening range is every bar closing by 10:00, i.e. starting at or before 09:59.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from builders.strategy import daily_history, market_state
from vwapcli.core.types import Signal
from vwapcli.strategies.orb import ORBConfig, ORBStrategy

DAY = dt.date(2024, 1, 3)
RANGE = [
    ("09:30", 100.0, 100.5, 99.8, 100.2, 10.0),
    ("09:59", 100.2, 101.0, 100.1, 100.9, 10.0),
]  # range high 101.0, range low 99.8, height 1.2


def run(rows, **overrides) -> list[Signal]:
    state = market_state(DAY, rows, daily_history([]))
    return ORBStrategy(ORBConfig(**overrides)).generate_signals(state)


def utc(hh_mm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{DAY.isoformat()} {hh_mm}", tz="America/New_York").tz_convert("UTC")


def test_first_close_above_the_range_high_is_a_long_with_a_one_range_target():
    """Range = bars closing by 10:00: high 101.0, low 99.8. 10:00 closes 100.95 (inside);
    10:05 closes 101.3 > 101.0 -> LONG P 101.3, stop 99.8, target 101.3 + 1.0 x 1.2 = 102.5,
    stamped 10:06 NY = 15:06 UTC."""
    rows = [*RANGE, ("10:00", 100.9, 101.0, 100.7, 100.95, 1.0), ("10:05", 100.95, 101.4, 100.9, 101.3, 1.0)]
    (signal,) = run(rows)
    assert (signal.strategy_name, signal.direction, signal.entry_time) == ("ORB", "LONG", utc("10:06"))
    assert signal.P == 101.3
    assert signal.P_stop == 99.8
    assert signal.P_target == pytest.approx(102.5, abs=1e-12)
    assert signal.P_target == 101.3 + 1.0 * (101.0 - 99.8)
    assert signal.meta == {"range_high": 101.0, "range_low": 99.8}


def test_first_close_below_the_range_low_is_a_short_mirrored():
    """target_range_mult 2: 10:20 closes 99.5 < 99.8 -> SHORT P 99.5, stop 101.0,
    target 99.5 - 2 x 1.2 = 97.1."""
    rows = [*RANGE, ("10:20", 99.9, 99.9, 99.4, 99.5, 1.0)]
    (signal,) = run(rows, target_range_mult=2.0)
    assert (signal.direction, signal.entry_time, signal.P, signal.P_stop) == ("SHORT", utc("10:21"), 99.5, 101.0)
    assert signal.P_target == pytest.approx(97.1, abs=1e-12)
    assert signal.P_target == 99.5 - 2.0 * (101.0 - 99.8)


@pytest.mark.parametrize(("start", "expected_times"), [("09:59", []), ("10:00", ["10:01"])])
def test_a_bar_closing_exactly_at_open_plus_range_minutes_belongs_to_the_range(start, expected_times):
    """A bar closing 102.0 above the 09:30 bar's high: at 09:59 (closes 10:00) it is a range bar
    and nothing follows; at 10:00 (closes 10:01) it is the breakout."""
    rows = [RANGE[0], (start, 100.2, 102.0, 100.2, 102.0, 1.0)]
    assert [s.entry_time for s in run(rows)] == [utc(t) for t in expected_times]


@pytest.mark.parametrize(("start", "expected_count"), [("11:59", 1), ("12:00", 0)])
def test_breakouts_count_until_a_bar_closing_at_max_entry_time(start, expected_count):
    """max_entry_time 12:00 is inclusive of the bar closing at 12:00; one closing 12:01 is too late."""
    rows = [*RANGE, (start, 101.0, 101.6, 101.0, 101.5, 1.0)]
    assert len(run(rows)) == expected_count


def test_a_close_equal_to_the_range_high_is_not_a_breakout():
    """10:10 closes exactly 101.0 = range high (not >); 10:11 closes 101.05 -> LONG at 10:12."""
    rows = [*RANGE, ("10:10", 100.9, 101.0, 100.9, 101.0, 1.0), ("10:11", 101.0, 101.1, 101.0, 101.05, 1.0)]
    assert [s.entry_time for s in run(rows)] == [utc("10:12")]


def test_only_the_first_breakout_of_a_session_signals():
    """LONG at 10:06; the later close 99.0 below the range low is ignored."""
    rows = [*RANGE, ("10:05", 100.95, 101.4, 100.9, 101.3, 1.0), ("10:30", 99.5, 99.5, 98.9, 99.0, 1.0)]
    assert [(s.direction, s.entry_time) for s in run(rows)] == [("LONG", utc("10:06"))]


def test_no_range_bars_means_no_signal():
    """The first bar present starts 10:05 (closes after 10:00): no opening range, no breakout."""
    rows = [("10:05", 100.0, 103.0, 100.0, 103.0, 1.0), ("10:06", 103.0, 103.0, 95.0, 95.0, 1.0)]
    assert run(rows) == []


def test_the_range_is_measured_from_the_session_open_not_the_first_bar():
    """range_minutes 5: the range ends 09:35. A first bar at 09:33 (closes 09:34) is the range
    (high 100.5, low 99.5); 09:34 (closes 09:35) is still range; 09:35 closing 100.6 -> LONG at 09:36,
    target 100.6 + (100.5 - 99.5) = 101.6."""
    rows = [
        ("09:33", 100.0, 100.5, 99.5, 100.0, 1.0),
        ("09:34", 100.0, 100.4, 99.9, 100.4, 1.0),
        ("09:35", 100.4, 100.7, 100.3, 100.6, 1.0),
    ]
    (signal,) = run(rows, range_minutes=5)
    assert (signal.entry_time, signal.P, signal.P_stop, signal.P_target) == (utc("09:36"), 100.6, 99.5, 100.6 + 1.0)


def test_an_empty_session_signals_nothing():
    assert run([]) == []
