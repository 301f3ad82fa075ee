"""SPEC 5 (VWAP_MEANREV) at its equality boundaries: trend limits, and the short side's
arming, trigger and reset (the long side's are in ``test_vwap_meanrev_rules.py``).

Same setting as ``test_vwap_meanrev_rules.py``: ATR = 2.0 from two prior sessions
(atr_period 2), band = 0.5 x 2.0 = 1.0; the 09:30 anchor bar (h = l = c = 100, volume
1000) fixes vwap = 100.0 all session (later bars have volume 0), so the long zone is
(99.0, 100.0) and the short zone (100.0, 101.0); O = 100. Every boundary below is an
exact binary number (1.0, 2.0, 99.0, 101.0), so "equal" really is equal.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from builders.strategy import daily_history, market_state
from vwapcli.core.types import Signal
from vwapcli.strategies.vwap_meanrev import VWAPMeanReversionConfig, VWAPMeanReversionStrategy

DAY = dt.date(2024, 1, 3)  # EST: New York = UTC - 5 h
HISTORY = daily_history([2.0, 2.0])
ANCHOR = ("09:30", 100.0, 100.0, 100.0, 100.0, 1000.0)
# After the 11:00 cutoff (no trend filter): arm long (98.9 < 99.0), turn up to 99.3.
LATE_LONG = [("11:10", 99.5, 99.5, 98.9, 99.0, 0.0), ("11:11", 99.0, 99.3, 99.0, 99.3, 0.0)]


def run(rows, **overrides) -> list[Signal]:
    config = VWAPMeanReversionConfig(enabled=True, atr_period=2, **overrides)
    return VWAPMeanReversionStrategy(config).generate_signals(market_state(DAY, rows, HISTORY))


def utc(hh_mm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{DAY.isoformat()} {hh_mm}", tz="America/New_York").tz_convert("UTC")


def summary(signals: list[Signal]) -> list[tuple]:
    return [(s.direction, s.entry_time, s.P, s.P_stop, s.P_target) for s in signals]


LATE_LONG_SIGNAL = [("LONG", utc("11:12"), 99.3, 98.0, 100.0)]  # stop min(98.9, 100 - 2x1) = 98


# ------------------------------------------------------------------ trend filter
@pytest.mark.parametrize(("morning_low", "expected"), [(99.0, LATE_LONG_SIGNAL), (98.99, [])])
def test_a_session_range_exactly_at_the_limit_is_not_a_trend_day(morning_low, expected):
    """Limit = 1.0 x ATR = 2.0. 10:00 reaches 101.0, 10:01 reaches the morning low.

    Low 99.0: hi - lo = 2.0, not > 2.0 (and hi - O = O - lo = 1.0 <= 1.4): no trend, the
    11:10/11:11 setup gives LONG P 99.3 at 11:12. Low 98.99: 2.01 > 2.0 at 10:02 -> trend
    day, nothing. (Neither morning bar arms: 101.0 is not > 101, 99.0 not < 99.)
    """
    rows = [
        ANCHOR,
        ("10:00", 100.0, 101.0, 100.0, 100.5, 0.0),
        ("10:01", 100.5, 100.5, morning_low, 99.5, 0.0),
        *LATE_LONG,
    ]
    assert summary(run(rows)) == expected


@pytest.mark.parametrize(("morning_high", "expected"), [(101.0, LATE_LONG_SIGNAL), (101.01, [])])
def test_an_open_to_high_exactly_at_the_limit_is_not_a_trend_day(morning_high, expected):
    """max_open_to_high_atr_frac 0.5 -> limit 1.0. High 101.0: hi - O = 1.0, not > 1.0 (range
    1.0 <= 2.0): the late LONG comes. High 101.01: 1.01 > 1.0 -> trend day, nothing."""
    rows = [ANCHOR, ("10:00", 100.0, morning_high, 100.0, 100.5, 0.0), *LATE_LONG]
    assert summary(run(rows, max_open_to_high_atr_frac=0.5)) == expected


@pytest.mark.parametrize(("morning_low", "expected"), [(99.0, LATE_LONG_SIGNAL), (98.99, [])])
def test_an_open_to_low_exactly_at_the_limit_is_not_a_trend_day(morning_low, expected):
    """max_open_to_low_atr_frac 0.5 -> limit 1.0. Low 99.0: O - lo = 1.0, not > 1.0: the late
    LONG comes. Low 98.99: 1.01 > 1.0 -> trend day, nothing."""
    rows = [ANCHOR, ("10:00", 100.0, 100.0, morning_low, 99.5, 0.0), *LATE_LONG]
    assert summary(run(rows, max_open_to_low_atr_frac=0.5)) == expected


@pytest.mark.parametrize(("frac", "expected"), [(1.0, []), (1.5, LATE_LONG_SIGNAL)])
def test_the_session_range_limit_scales_with_its_fraction_of_atr(frac, expected):
    """Morning high 101.0 (10:00) and low 98.95 (10:02): hi - lo = 2.05.

    frac 1.0 -> limit 2.0: 2.05 > 2.0 is a trend day, nothing. frac 1.5 -> limit 3.0: no
    trend (open-to-high 1.0 and open-to-low 1.05 stay under 1.4); 10:02 (98.95 < 99) arms
    long, and the 11:11 up-close to 99.3 triggers: stop min(98.9, 98) = 98.
    """
    rows = [
        ANCHOR,
        ("10:00", 100.0, 101.0, 100.0, 100.5, 0.0),
        ("10:01", 100.5, 100.5, 99.0, 99.5, 0.0),
        ("10:02", 99.5, 99.5, 98.95, 99.4, 0.0),
        *LATE_LONG,
    ]
    assert summary(run(rows, max_session_range_atr_frac=frac)) == expected


# ------------------------------------------------------------------ short side
def test_short_trigger_requires_a_close_strictly_below_the_previous_close():
    """10:10 arms short (high 101.1 > 101) closing 100.8; 10:11 closes 100.8 = previous:
    no trigger; 10:12 closes 100.7 < 100.8 in (100, 101) -> SHORT at 10:13, P 100.7,
    stop max(101.1, 100 + 2x1) = 102, target 100."""
    rows = [
        ANCHOR,
        ("10:10", 100.5, 101.1, 100.5, 100.8, 0.0),
        ("10:11", 100.8, 100.9, 100.6, 100.8, 0.0),
        ("10:12", 100.8, 100.8, 100.7, 100.7, 0.0),
    ]
    assert summary(run(rows)) == [("SHORT", utc("10:13"), 100.7, 102.0, 100.0)]


def test_short_trigger_requires_a_close_strictly_below_the_upper_band():
    """10:10 arms (101.2 > 101) closing 101.1; 10:11 closes 101.0 < 101.1 but exactly at
    vwap + band = 101.0, not below it: no trigger; 10:12 closes 100.9 -> SHORT at 10:13,
    stop max(leg high 101.2, 102) = 102."""
    rows = [
        ANCHOR,
        ("10:10", 101.0, 101.2, 101.0, 101.1, 0.0),
        ("10:11", 101.1, 101.1, 101.0, 101.0, 0.0),
        ("10:12", 101.0, 101.0, 100.9, 100.9, 0.0),
    ]
    assert summary(run(rows)) == [("SHORT", utc("10:13"), 100.9, 102.0, 100.0)]


def test_close_back_at_vwap_neither_triggers_nor_keeps_the_short_side_armed():
    """10:10 arms short (101.1 > 101). 10:11 closes exactly at vwap 100.0: not above vwap,
    so no trigger, and close <= vwap resets the short side. 10:12 closes up at 100.5 and
    10:13 down to 100.3 inside (100, 101): would trigger if armed, but nothing is armed.
    10:20's high 101.05 re-arms; 10:21 closes 100.7 < 100.9 -> the day's only SHORT at 10:22,
    stop max(101.05, 102) = 102."""
    rows = [
        ANCHOR,
        ("10:10", 100.5, 101.1, 100.5, 101.0, 0.0),
        ("10:11", 101.0, 101.0, 100.0, 100.0, 0.0),
        ("10:12", 100.0, 100.6, 100.0, 100.5, 0.0),
        ("10:13", 100.5, 100.5, 100.3, 100.3, 0.0),
    ]
    assert run(rows) == []
    rows += [("10:20", 100.3, 101.05, 100.3, 100.9, 0.0), ("10:21", 100.9, 100.9, 100.7, 100.7, 0.0)]
    assert summary(run(rows)) == [("SHORT", utc("10:22"), 100.7, 102.0, 100.0)]


@pytest.mark.parametrize(("stretch_high", "expected"), [
    (101.0, []),
    (101.01, [("SHORT", utc("10:12"), 100.7, 102.0, 100.0)]),
])
def test_short_side_arms_only_on_a_high_strictly_above_the_upper_band(stretch_high, expected):
    """10:10's high reaches vwap + band = 101.0 exactly: not above it, nothing armed, and
    10:11's down-close to 100.7 is ignored. At 101.01 it arms and 10:11 -> SHORT at 10:12."""
    rows = [
        ANCHOR,
        ("10:10", 100.5, stretch_high, 100.5, 100.9, 0.0),
        ("10:11", 100.9, 100.9, 100.7, 100.7, 0.0),
    ]
    assert summary(run(rows)) == expected


@pytest.mark.parametrize(("stretch_low", "expected"), [
    (99.0, []),
    (98.99, [("LONG", utc("10:12"), 99.3, 98.0, 100.0)]),
])
def test_long_side_arms_only_on_a_low_strictly_below_the_lower_band(stretch_low, expected):
    """Mirror: a low of exactly vwap - band = 99.0 does not arm; 98.99 does, and 10:11's
    up-close to 99.3 triggers LONG at 10:12 (stop min(98.99, 98) = 98)."""
    rows = [
        ANCHOR,
        ("10:10", 99.5, 99.5, stretch_low, 99.1, 0.0),
        ("10:11", 99.1, 99.3, 99.1, 99.3, 0.0),
    ]
    assert summary(run(rows)) == expected


def test_the_short_leg_high_extends_while_armed_and_sets_a_stop_beyond_two_bands():
    """11:10 arms short at high 101.5; 11:11 (closing up, no trigger) extends the leg to
    102.6; 11:12 closes 100.8 < 102.3 inside (100, 101) -> SHORT at 11:13 with stop
    max(leg high 102.6, 100 + 2x1 = 102) = 102.6. (After 11:00: no trend filter.)"""
    rows = [
        ANCHOR,
        ("11:10", 101.0, 101.5, 101.0, 101.2, 0.0),
        ("11:11", 101.2, 102.6, 101.2, 102.3, 0.0),
        ("11:12", 102.3, 102.3, 100.8, 100.8, 0.0),
    ]
    assert summary(run(rows)) == [("SHORT", utc("11:13"), 100.8, 102.6, 100.0)]


def test_the_long_leg_low_extends_while_armed_and_sets_a_stop_beyond_two_bands():
    """Mirror: 11:10 arms at low 98.5, 11:11 extends the leg to 97.4 (closing down), 11:12
    closes 99.2 > 97.7 in (99, 100) -> LONG at 11:13, stop min(97.4, 98) = 97.4."""
    rows = [
        ANCHOR,
        ("11:10", 99.0, 99.0, 98.5, 98.8, 0.0),
        ("11:11", 98.8, 98.8, 97.4, 97.7, 0.0),
        ("11:12", 97.7, 99.2, 97.7, 99.2, 0.0),
    ]
    assert summary(run(rows)) == [("LONG", utc("11:13"), 99.2, 97.4, 100.0)]


# ------------------------------------------------------------------ state across the session
def test_the_short_side_starts_unarmed() -> None:
    """The first bar (O 100, H 100.4, L 99.8, C 100.3, volume 1000) sets vwap = hlc3 =
    (100.4 + 99.8 + 100.3) / 3 = 100.167 and closes above it, so nothing resets a side;
    no bar ever reaches vwap + band = 101.167. 10:10 closes down at 100.25, inside
    (100.167, 101.167) and below 100.3: it would trigger an armed short. Nothing armed
    it: no signal."""
    rows = [("09:30", 100.0, 100.4, 99.8, 100.3, 1000.0), ("10:10", 100.3, 100.3, 100.2, 100.25, 0.0)]
    assert run(rows) == []


def test_a_signal_disarms_the_other_side_too() -> None:
    """max_trades 2, after 11:00 (no trend filter). 11:04 arms long (low 98.9). 11:05 closes
    down at 98.95 (no long trigger) with a high of 101.2 > 101: the short side arms too.
    11:06 closes up to 99.3 -> LONG at 11:07 (stop min(98.9, 98) = 98), which disarms both.
    11:07 closes 100.7 and 11:08 100.6, down inside the short zone (100, 101): an armed short
    would trigger there; it was disarmed, so the LONG is the only signal."""
    rows = [
        ANCHOR,
        ("11:04", 99.5, 99.5, 98.9, 99.0, 0.0),
        ("11:05", 99.0, 101.2, 98.95, 98.95, 0.0),
        ("11:06", 98.95, 99.3, 98.95, 99.3, 0.0),
        ("11:07", 99.3, 100.7, 99.3, 100.7, 0.0),
        ("11:08", 100.7, 100.7, 100.6, 100.6, 0.0),
    ]
    assert summary(run(rows, max_trades_per_day=2)) == [("LONG", utc("11:07"), 99.3, 98.0, 100.0)]


@pytest.mark.parametrize(("one_direction", "expected"), [
    (False, [("SHORT", "10:12"), ("LONG", "11:22")]),
    (True, [("SHORT", "10:12")]),
])
def test_one_direction_per_day_after_a_first_short_blocks_longs(one_direction, expected):
    """Mirror of the LONG-first case: 10:10 arms short (101.1), 10:11 closes 100.7 -> SHORT
    at 10:12. 11:20 stretches to 98.9, 11:21 closes up to 99.3 -> LONG at 11:22, unless the
    day is locked to SHORT."""
    rows = [
        ANCHOR,
        ("10:10", 100.5, 101.1, 100.5, 101.0, 0.0),
        ("10:11", 101.0, 101.0, 100.6, 100.7, 0.0),
        *[(t.replace("11:1", "11:2"), *rest) for t, *rest in LATE_LONG],
    ]
    signals = run(rows, max_trades_per_day=2, one_direction_per_day=one_direction)
    assert [(s.direction, s.entry_time) for s in signals] == [(d, utc(t)) for d, t in expected]


def test_a_single_share_of_volume_defines_vwap() -> None:
    """The anchor prints one share (volume 1) at 100: vwap = 100 x 1 / 1 = 100 all session,
    and the textbook setup (arm 98.9 at 10:10, up-close 99.3 at 10:11) triggers LONG."""
    rows = [("09:30", 100.0, 100.0, 100.0, 100.0, 1.0), ("10:10", 99.5, 99.5, 98.9, 99.0, 0.0),
            ("10:11", 99.0, 99.3, 99.0, 99.3, 0.0)]
    assert summary(run(rows)) == [("LONG", utc("10:12"), 99.3, 98.0, 100.0)]


def test_the_second_bar_of_the_session_can_trigger() -> None:
    """min_entry_time 09:30, range limit 1.5 x ATR = 3.0. Bar 0 (09:30: O 100, H 101.3,
    L 98.7, C 99.2, volume 1000): vwap = hlc3 = 299.2 / 3 = 99.733, low 98.7 < 98.733
    arms long (O - lo = 1.3 <= 1.4, hi - O = 1.3, range 2.6 <= 3.0: no trend). Bar 1
    (09:31) closes 99.5 > 99.2, inside (98.733, 99.733) -> LONG at 09:32 (t = 1), target
    vwap 99.733, stop min(98.7, 99.733 - 2) = 97.733."""
    rows = [("09:30", 100.0, 101.3, 98.7, 99.2, 1000.0), ("09:31", 99.2, 99.5, 99.2, 99.5, 0.0)]
    (signal,) = run(rows, min_entry_time=dt.time(9, 30), max_session_range_atr_frac=1.5)
    vwap = 299.2 / 3
    assert (signal.direction, signal.entry_time, signal.P) == ("LONG", utc("09:32"), 99.5)
    assert signal.P_target == pytest.approx(vwap, abs=1e-12)
    assert signal.P_stop == pytest.approx(vwap - 2.0, abs=1e-12)
