"""SPEC 5 (VWAP_MEANREV) rule by rule on hand-built sessions.

Unless a test says otherwise: ATR = (2.0 + 2.0) / 2 = 2.0 from two prior sessions
(atr_period 2), so band = 0.5 x 2.0 = 1.0; the 09:30 anchor bar has h = l = c = 100 and
volume 1000 while later bars have volume 0, so vwap = 100.0 exactly all session and the
long zone is (99.0, 100.0), the short zone (100.0, 101.0). Trend limits before 11:00 with
O = 100: hi - lo > 2.0, hi - O > 1.4, O - lo > 1.4. 2024-01-03 is EST: NY = UTC - 5h.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
import pytest

from builders.strategy import EARLY_CLOSE, daily_history, market_state, sessioned_bars
from vwapcli.app_config import load_config
from vwapcli.core.types import Signal
from vwapcli.signal_run import compute_signals
from vwapcli.strategies.vwap_meanrev import VWAPMeanReversionConfig, VWAPMeanReversionStrategy

DAY = dt.date(2024, 1, 3)
HISTORY = daily_history([2.0, 2.0])
ANCHOR = ("09:30", 100.0, 100.0, 100.0, 100.0, 1000.0)
ARM_LONG = ("10:10", 99.5, 99.5, 98.9, 99.0, 0.0)  # low 98.9 < vwap - band = 99.0
TURN_UP = ("10:11", 99.0, 99.3, 99.0, 99.3, 0.0)  # 99.3 > 99.0 prev, in (99.0, 100.0)


def run(rows, history=HISTORY, day=DAY, close_time=dt.time(16, 0), **overrides) -> list[Signal]:
    config = VWAPMeanReversionConfig(enabled=True, atr_period=2, **overrides)
    state = market_state(day, rows, history, close_time=close_time)
    return VWAPMeanReversionStrategy(config).generate_signals(state)


def utc(day: dt.date, hh_mm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day.isoformat()} {hh_mm}", tz="America/New_York").tz_convert("UTC")


def summary(signals: list[Signal]) -> list[tuple]:
    return [(s.direction, s.entry_time, s.P, s.P_stop, s.P_target) for s in signals]


def test_arming_before_ten_and_triggering_at_the_first_bar_closing_at_ten():
    """09:50 arms (98.9 < 99.0). 09:58 (close 09:59) turns up to 99.2 but closes before
    min_entry_time 10:00: no signal. 09:59 closes at 10:00 = min_entry_time: 99.4 > 99.2,
    99.4 in (99, 100) -> LONG P = 99.4, target = vwap = 100, stop = min(98.9, 100 - 2x1) = 98.0,
    entry 10:00 NY = 15:00 UTC."""
    rows = [
        ANCHOR,
        ("09:50", 99.5, 99.5, 98.9, 99.0, 0.0),
        ("09:58", 99.0, 99.2, 99.0, 99.2, 0.0),
        ("09:59", 99.2, 99.5, 99.1, 99.4, 0.0),
    ]
    assert summary(run(rows)) == [("LONG", utc(DAY, "10:00"), 99.4, 98.0, 100.0)]


def test_trigger_comes_on_the_first_bar_after_arming_never_on_the_arming_bar():
    """10:10 arms with close 99.5 > previous 99.2 inside the zone, but arming is step 9,
    after the triggers, so no signal at 10:11; 10:11 closes 99.6 > 99.5 -> LONG at 10:12."""
    rows = [
        ANCHOR,
        ("10:09", 99.2, 99.2, 99.2, 99.2, 0.0),
        ("10:10", 99.2, 99.6, 98.9, 99.5, 0.0),
        ("10:11", 99.5, 99.7, 99.5, 99.6, 0.0),
    ]
    assert summary(run(rows)) == [("LONG", utc(DAY, "10:12"), 99.6, 98.0, 100.0)]


def test_close_back_at_vwap_disarms_the_long_side_until_a_new_stretch():
    """10:10 arms; 10:11 closes at exactly 100.0 = vwap: not < vwap so no trigger, and
    close >= vwap resets. 10:13's up-close 99.7 in the zone is ignored (disarmed). 10:20's
    low 98.95 re-arms, 10:21 closes 99.3 > 99.1 -> the day's only LONG, at 10:22."""
    rows = [
        ANCHOR,
        ARM_LONG,
        ("10:11", 99.0, 100.0, 99.0, 100.0, 0.0),
        ("10:12", 100.0, 100.0, 99.4, 99.5, 0.0),
        ("10:13", 99.5, 99.7, 99.5, 99.7, 0.0),
    ]
    assert run(rows) == []
    rows += [("10:20", 99.7, 99.7, 98.95, 99.1, 0.0), ("10:21", 99.1, 99.3, 99.1, 99.3, 0.0)]
    assert summary(run(rows)) == [("LONG", utc(DAY, "10:22"), 99.3, 98.0, 100.0)]


def test_short_trigger_mirrors_the_long_one():
    """10:10 high 101.1 > vwap + band = 101 arms short; 10:11 closes 100.7 < 101.0, inside
    (100, 101) -> SHORT P = 100.7, target 100, stop = max(101.1, 100 + 2x1) = 102.0."""
    rows = [
        ANCHOR,
        ("10:10", 100.5, 101.1, 100.5, 101.0, 0.0),
        ("10:11", 101.0, 101.0, 100.6, 100.7, 0.0),
    ]
    assert summary(run(rows)) == [("SHORT", utc(DAY, "10:12"), 100.7, 102.0, 100.0)]


@pytest.mark.parametrize(
    ("leg_rows", "expected"),
    [
        # low 97.5 arms; close 99.2 triggers; min(97.5, 98.0) = 97.5 (after 11:00: no trend filter)
        (
            [("11:10", 99.0, 99.0, 97.5, 97.8, 0.0), ("11:11", 97.8, 99.2, 97.8, 99.2, 0.0)],
            ("LONG", 99.2, 97.5),
        ),
        # high 102.5 arms; close 100.8 triggers; max(102.5, 102.0) = 102.5
        (
            [("11:10", 101.0, 102.5, 101.0, 102.2, 0.0), ("11:11", 102.2, 102.2, 100.8, 100.8, 0.0)],
            ("SHORT", 100.8, 102.5),
        ),
    ],
)
def test_stop_is_the_leg_extreme_when_it_lies_beyond_two_bands(leg_rows, expected):
    (signal,) = run([ANCHOR, *leg_rows])
    assert (signal.direction, signal.P, signal.P_stop) == expected
    assert signal.entry_time == utc(DAY, "11:12")


@pytest.mark.parametrize(
    ("big_bar_start", "expected"),
    [
        ("10:59", []),  # closes 11:00 <= cutoff: hi - O = 101.5 - 100 = 1.5 > 1.4 -> trend day
        ("11:00", [("SHORT", "11:02", 100.8, 102.0)]),  # closes 11:01: filter no longer applies
    ],
)
def test_trend_filter_counts_a_bar_closing_exactly_at_the_cutoff(big_bar_start, expected):
    """The big bar (high 101.5) also arms short (101.5 > 101); the next bar closes 100.8 <
    101.2 inside (100, 101) -> SHORT, stop max(101.5, 102) = 102, unless trend was set."""
    hours, minutes = map(int, big_bar_start.split(":"))
    next_start = f"{hours + (minutes + 1) // 60:02d}:{(minutes + 1) % 60:02d}"
    rows = [
        ANCHOR,
        (big_bar_start, 100.5, 101.5, 100.5, 101.2, 0.0),
        (next_start, 101.2, 101.2, 100.6, 100.8, 0.0),
    ]
    assert [(s.direction, s.entry_time, s.P, s.P_stop) for s in run(rows)] == [
        (d, utc(DAY, t), p, stop) for d, t, p, stop in expected
    ]


def test_a_trend_day_emits_nothing_for_the_rest_of_the_session():
    """09:40 low 98.5: O - lo = 1.5 > 1.4 at 09:41 -> trend; the textbook setup at
    12:00 (arm 98.9, turn up to 99.3) emits nothing."""
    rows = [
        ANCHOR,
        ("09:40", 100.0, 100.0, 98.5, 99.8, 0.0),
        ("12:00", 99.5, 99.5, 98.9, 99.0, 0.0),
        ("12:01", 99.0, 99.3, 99.0, 99.3, 0.0),
    ]
    assert run(rows) == []


@pytest.mark.parametrize(("opening_volume", "expected_count"), [(0.0, 0), (1000.0, 1)])
def test_zero_volume_opening_bars_cannot_arm(opening_volume, expected_count):
    """With volume 0 on 09:30-09:31 vwap is undefined there, so 09:31's low 98.8 does not
    arm; vwap starts at 09:32 = (100.5 + 99.75 + 99.75)/3 = 100, whose close 99.75 neither
    resets nor arms. 10:05 (99.2, no stretch) and 10:06's up-close to 99.4 find nothing armed.
    Control: with volume 1000 at 09:30, vwap = (100.25 + 99.75 + 100)/3 = 100 from the first
    bar, 09:31 arms (98.8 < 99) and 10:06 -> LONG P 99.4 at 10:07, stop min(98.8, 98) = 98."""
    rows = [
        ("09:30", 100.0, 100.25, 99.75, 100.0, opening_volume),
        ("09:31", 100.0, 100.0, 98.8, 99.0, 0.0),
        ("09:32", 100.0, 100.5, 99.75, 99.75, 1000.0),
        ("10:05", 99.2, 99.2, 99.2, 99.2, 0.0),
        ("10:06", 99.2, 99.4, 99.2, 99.4, 0.0),
    ]
    signals = run(rows)
    assert len(signals) == expected_count
    if expected_count:
        assert summary(signals) == [("LONG", utc(DAY, "10:07"), 99.4, 98.0, 100.0)]


def test_zero_volume_opening_bars_never_divide_zero_by_zero():
    """While sum v = 0 vwap = sum(p·v) / sum(v) is 0 / 0 (SPEC 5 "VWAP": undefined): the kernel
    skips those bars rather than divide, which compiled numba raises as ZeroDivisionError
    and numpy, with the JIT off, warns about. Volume 0 on both opening bars (09:30, 09:31),
    then the 10:10 stretch to 98.9 and 10:11's turn up to 99.3 with vwap still undefined:
    nothing can arm, no signal, and no error or warning on the way."""
    rows = [
        ("09:30", 100.0, 100.0, 100.0, 100.0, 0.0),
        ("09:31", 100.0, 100.0, 100.0, 100.0, 0.0),
        ARM_LONG,
        TURN_UP,
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run(rows) == []


@pytest.mark.parametrize(("opening_low", "expected_count"), [(98.5, 0), (98.7, 1)])
def test_zero_volume_opening_bars_still_count_for_the_trend_filter(opening_low, expected_count):
    """09:30 has volume 0 (vwap undefined) but its low still sets lo: O - lo = 100 - 98.5 =
    1.5 > 1.4 -> trend, nothing all day; with low 98.7, 1.3 <= 1.4 and the 11:10/11:11 setup
    (arm 98.9 < 99, up-close 99.3) gives a LONG."""
    rows = [
        ("09:30", 100.0, 100.0, opening_low, 99.0, 0.0),
        ("09:31", 100.0, 100.0, 100.0, 100.0, 1000.0),
        ("11:10", 99.5, 99.5, 98.9, 99.0, 0.0),
        ("11:11", 99.0, 99.3, 99.0, 99.3, 0.0),
    ]
    assert len(run(rows)) == expected_count


def test_an_early_close_session_can_trigger_on_its_last_bar_at_one_pm():
    """2024-07-03 closes at 13:00 (EDT, UTC-4). 12:58 arms, 12:59 closes at 13:00 with 99.3 ->
    LONG stamped 17:00 UTC; whether it can still be traded is the engine's "too_late" rule."""
    day = dt.date(2024, 7, 3)
    rows = [ANCHOR, ("12:58", 99.5, 99.5, 98.9, 99.0, 0.0), ("12:59", 99.0, 99.3, 99.0, 99.3, 0.0)]
    (signal,) = run(rows, day=day, close_time=EARLY_CLOSE)
    assert signal.entry_time == pd.Timestamp("2024-07-03 17:00", tz="UTC")
    assert (signal.direction, signal.P) == ("LONG", 99.3)


@pytest.mark.parametrize(("max_trades", "expected_times"), [
    (1, ["10:12"]),
    (2, ["10:12", "10:22"]),
    (3, ["10:12", "10:22", "10:32"]),
])
def test_max_trades_per_day_caps_the_signals_of_a_session(max_trades, expected_times):
    """Three identical arm/turn-up pairs at 10:10, 10:20, 10:30 (each trigger disarms, each
    next stretch re-arms) -> LONGs at 10:12, 10:22, 10:32 up to the cap."""
    rows = [ANCHOR]
    for minute in ("10:1", "10:2", "10:3"):
        rows += [(minute + "0", 99.3, 99.3, 98.9, 99.0, 0.0), (minute + "1", 99.0, 99.3, 99.0, 99.3, 0.0)]
    signals = run(rows, max_trades_per_day=max_trades)
    assert [s.entry_time for s in signals] == [utc(DAY, t) for t in expected_times]


@pytest.mark.parametrize(("one_direction", "expected"), [
    (False, [("LONG", "10:12"), ("SHORT", "11:22")]),
    (True, [("LONG", "10:12")]),
])
def test_one_direction_per_day_blocks_the_opposite_side_after_the_first_signal(one_direction, expected):
    """max_trades_per_day 2. LONG at 10:12; 11:20 high 101.1 arms short, 11:21 closes 100.7 <
    101.0 inside (100, 101) -> SHORT at 11:22 unless the day is locked to LONG."""
    rows = [
        ANCHOR, ARM_LONG, TURN_UP,
        ("11:20", 100.5, 101.1, 100.5, 101.0, 0.0),
        ("11:21", 101.0, 101.0, 100.6, 100.7, 0.0),
    ]
    signals = run(rows, max_trades_per_day=2, one_direction_per_day=one_direction)
    assert [(s.direction, s.entry_time) for s in signals] == [(d, utc(DAY, t)) for d, t in expected]


def test_the_trigger_bar_never_arms():
    """max_trades 2. 10:11 triggers LONG although its low 98.95 < 99 (step 7 skips arming);
    10:12's up-close to 99.5 would trigger if it had armed, so exactly one signal. The first
    signal's stop uses leg_low = min(98.9, 98.95) = 98.9 vs 98.0 -> 98.0."""
    rows = [
        ANCHOR, ARM_LONG,
        ("10:11", 99.0, 99.3, 98.95, 99.3, 0.0),
        ("10:12", 99.3, 99.5, 99.3, 99.5, 0.0),
    ]
    assert summary(run(rows, max_trades_per_day=2)) == [("LONG", utc(DAY, "10:12"), 99.3, 98.0, 100.0)]


def test_long_trigger_requires_a_close_strictly_above_the_previous_close():
    """10:11 closes 99.2 = previous close 99.2: no trigger; 10:12 closes 99.3 > 99.2 -> LONG at 10:13."""
    rows = [
        ANCHOR,
        ("10:10", 99.5, 99.5, 98.9, 99.2, 0.0),
        ("10:11", 99.2, 99.4, 99.1, 99.2, 0.0),
        ("10:12", 99.2, 99.3, 99.2, 99.3, 0.0),
    ]
    assert [s.entry_time for s in run(rows)] == [utc(DAY, "10:13")]


def test_long_trigger_requires_a_close_strictly_above_the_lower_band():
    """10:11 closes exactly at vwap - band = 99.0: not > 99.0, no trigger; 10:12 closes 99.1 -> LONG."""
    rows = [
        ANCHOR,
        ("10:10", 99.0, 99.0, 98.8, 98.9, 0.0),
        ("10:11", 98.9, 99.0, 98.9, 99.0, 0.0),
        ("10:12", 99.0, 99.1, 99.0, 99.1, 0.0),
    ]
    assert [(s.entry_time, s.P) for s in run(rows)] == [(utc(DAY, "10:13"), 99.1)]


@pytest.mark.parametrize(("arm_start", "expected_count"), [("15:28", 1), ("15:29", 0)])
def test_max_entry_time_is_inclusive_of_a_bar_closing_exactly_then(arm_start, expected_count):
    """Arm then turn up one minute later: the trigger bar closes at 15:30 (allowed) or 15:31 (not)."""
    hours, minutes = map(int, arm_start.split(":"))
    rows = [
        ANCHOR,
        (arm_start, 99.5, 99.5, 98.9, 99.0, 0.0),
        (f"{hours:02d}:{minutes + 1:02d}", 99.0, 99.3, 99.0, 99.3, 0.0),
    ]
    assert len(run(rows)) == expected_count


def test_no_signals_without_atr_period_prior_sessions():
    """atr_period 2 with one prior session: ATR undefined, the textbook setup emits nothing."""
    rows = [ANCHOR, ARM_LONG, TURN_UP]
    assert run(rows, history=daily_history([2.0])) == []
    assert len(run(rows, history=daily_history([2.0, 2.0]))) == 1


def test_signal_run_warms_up_atr_on_sessions_before_start():
    """Three identical sessions: anchor 100 (vol 1000), 10:10 low 98.9 close 99.0, 10:11 close 99.8.
    Daily: H = 100, L = 98.9, C = 99.8, so TR = 100 - 98.9 on both prior days (gaps 0.2 and 0.9 are
    smaller) and ATR on day 3 = (1.1 + 1.1) / 2 = 1.1; band = 0.25 x 1.1 = 0.275 -> zone (99.725, 100).
    Days 1-2 lack two prior sessions; day 3 -> LONG P 99.8 at 10:12, stop = min(98.9, 100 - 0.55) = 98.9.
    With start = day 3 the warm-up days are still read for ATR."""
    days = [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)]
    rows = [ANCHOR, ARM_LONG, ("10:11", 99.0, 99.8, 99.0, 99.8, 0.0)]
    data = {"SPY": sessioned_bars("SPY", [(day, rows) for day in days])}
    config = load_config().with_strategies(only="vwap_meanrev")
    block = config.strategies["vwap_meanrev"].model_copy(update={
        "atr_period": 2, "band_atr_frac": 0.25, "max_session_range_atr_frac": 5.0,
        "max_open_to_high_atr_frac": 5.0, "max_open_to_low_atr_frac": 5.0,
    })
    config = config.model_copy(update={"strategies": {**config.strategies, "vwap_meanrev": block}})
    expected_atr = ((100.0 - 98.9) + (100.0 - 98.9)) / 2
    for start in (None, days[2]):
        (signal,) = compute_signals(config, data, start, None)
        assert summary([signal]) == [("LONG", utc(days[2], "10:12"), 99.8, 98.9, 100.0)]
        assert signal.meta == {"vwap": 100.0, "band": 0.25 * expected_atr, "atr": expected_atr}


@pytest.mark.parametrize(("vwap_price", "expected_vwap"), [
    ("hlc3", ((101.0 + 99.0 + 100.5) / 3.0 * 100.0 + (102.0 + 100.0 + 101.0) / 3.0 * 300.0) / 400.0),
    ("close", (100.5 * 100.0 + 101.0 * 300.0) / 400.0),
    ("ohlc4", ((100.0 + 101.0 + 99.0 + 100.5) / 4.0 * 100.0
               + (100.5 + 102.0 + 100.0 + 101.0) / 4.0 * 300.0) / 400.0),
])
def test_vwap_price_selects_the_per_bar_price_in_the_volume_weighted_mean(vwap_price, expected_vwap):
    """Bars (o,h,l,c,v) = (100,101,99,100.5,100), (100.5,102,100,101,300), then volume 0.
    hlc3: (100.1667x100 + 101x300)/400 = 100.7917; close: (100.5x100 + 101x300)/400 = 100.875;
    ohlc4: (100.125x100 + 100.875x300)/400 = 100.6875. 10:10 low 99.5 < vwap - 1 arms, 10:11
    closes 100.2 > 99.8 inside (vwap - 1, vwap) -> LONG with target = vwap, stop = vwap - 2
    (below the leg low 99.5). Trend limits are lifted (10 x ATR) for this test."""
    rows = [
        ("09:30", 100.0, 101.0, 99.0, 100.5, 100.0),
        ("09:31", 100.5, 102.0, 100.0, 101.0, 300.0),
        ("10:10", 100.5, 100.5, 99.5, 99.8, 0.0),
        ("10:11", 99.8, 100.2, 99.8, 100.2, 0.0),
    ]
    (signal,) = run(
        rows, vwap_price=vwap_price, max_session_range_atr_frac=10.0,
        max_open_to_high_atr_frac=10.0, max_open_to_low_atr_frac=10.0,
    )
    assert signal.P_target == expected_vwap
    assert signal.P_stop == expected_vwap - 2.0 * 1.0
    assert signal.meta == {"vwap": expected_vwap, "band": 1.0, "atr": 2.0}


def test_signals_carry_the_strategy_name_and_symbol():
    (signal,) = run([ANCHOR, ARM_LONG, TURN_UP])
    assert (signal.strategy_name, signal.symbol) == ("VWAP_MEANREV", "SPY")
    assert str(signal.entry_time.tz) == "UTC"
