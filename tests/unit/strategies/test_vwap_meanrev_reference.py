"""The numba VWAP_MEANREV path against a plain-Python twin of SPEC 5 (independent method).

The twin below is written from the SPEC text alone: daily bars, TR and ATR from raw rows,
then the per-bar state machine in plain Python floats. Both sides do the same float64
operations in the same order, so results must agree exactly, not approximately. The whole
engine path (``compute_signals``: sessions -> daily bars -> ATR -> kernel -> Signal) is
compared on generated random-walk sessions with missing minutes, silent opening bars,
empty sessions and random parameters.
"""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import HealthCheck, given, settings

from builders.strategy import sessioned_bars
from builders.vwap_meanrev import TIMES, build_sessions, engine_config, scenarios
from vwapcli.core.types import NS_PER_MINUTE, local_time_ns
from vwapcli.signal_run import compute_signals


# ----------------------------------------------------------------------------------------
# Plain-Python twin of SPEC 5
# ----------------------------------------------------------------------------------------
def reference_true_ranges(sessions):
    """SPEC 5: daily O/H/L/C from each session's bars; TR vs the previous session present."""
    true_ranges = []
    previous_close = None
    for rows in sessions:
        if not rows:
            continue
        high = max(row[2] for row in rows)
        low = min(row[3] for row in rows)
        if previous_close is None:
            true_range = high - low
        else:
            true_range = max(high - low, abs(high - previous_close), abs(low - previous_close))
        true_ranges.append(true_range)
        previous_close = rows[-1][4]
    return true_ranges


def reference_atr(true_ranges, period, method):
    """SPEC 5: sma of the last `period` TRs, or Wilder's average seeded by the first sma."""
    if len(true_ranges) < period:
        return math.nan
    if method == "sma":
        total = 0.0
        for value in true_ranges[len(true_ranges) - period:]:
            total += value
        return total / period
    total = 0.0
    for value in true_ranges[:period]:
        total += value
    atr = total / period
    for value in true_ranges[period:]:
        atr = (atr * (period - 1) + value) / period
    return atr


def reference_session(rows, close_times, atr, cfg, cutoff, min_entry, max_entry):
    """SPEC 5 steps 1-9 for one session; rows are (o, h, l, c, v) tuples of Python floats."""
    band = cfg["band_atr_frac"] * atr
    session_open = rows[0][0]
    trend = armed_long = armed_short = False
    leg_low = leg_high = 0.0
    n_signals = 0
    first_direction = None
    hi, lo = -math.inf, math.inf
    sum_pv = sum_v = 0.0
    out = []
    for t, (o, h, low, c, v) in enumerate(rows):
        tc = close_times[t]
        # step 1
        if cfg["vwap_price"] == "hlc3":
            price = (h + low + c) / 3.0
        elif cfg["vwap_price"] == "close":
            price = c
        else:
            price = (o + h + low + c) / 4.0
        sum_pv += price * v
        sum_v += v
        hi, lo = max(hi, h), min(lo, low)
        # step 2
        if tc <= cutoff and (
            hi - lo > cfg["max_session_range_atr_frac"] * atr
            or hi - session_open > cfg["max_open_to_high_atr_frac"] * atr
            or session_open - lo > cfg["max_open_to_low_atr_frac"] * atr
        ):
            trend = True
        if trend:
            break
        if sum_v == 0:
            continue  # vwap undefined
        vwap = sum_pv / sum_v
        # step 3
        if armed_long:
            leg_low = min(leg_low, low)
        if armed_short:
            leg_high = max(leg_high, h)
        # step 4
        allowed = min_entry <= tc <= max_entry and n_signals < cfg["max_trades_per_day"] and t > 0
        direction = None
        # step 5
        if (armed_long and allowed and c > rows[t - 1][3] and c > vwap - band and c < vwap
                and not (cfg["one_direction_per_day"] and first_direction == "SHORT")):
            direction, stop = "LONG", min(leg_low, vwap - cfg["stop_band_mult"] * band)
        # step 6
        elif (armed_short and allowed and c < rows[t - 1][3] and c < vwap + band and c > vwap
                and not (cfg["one_direction_per_day"] and first_direction == "LONG")):
            direction, stop = "SHORT", max(leg_high, vwap + cfg["stop_band_mult"] * band)
        # step 7
        if direction is not None:
            out.append((tc, direction, c, stop, vwap, vwap, band, atr))
            n_signals += 1
            first_direction = first_direction or direction
            armed_long = armed_short = False
            continue
        # step 8
        if armed_long and c >= vwap:
            armed_long = False
        if armed_short and c <= vwap:
            armed_short = False
        # step 9
        if not armed_long and low < vwap - band:
            armed_long, leg_low = True, low
        if not armed_short and h > vwap + band:
            armed_short, leg_high = True, h
    return out


def reference_run(cfg, sessions):
    """Every session through the twin, with ATR from the sessions strictly before it."""
    expected = []
    for index, (day, rows) in enumerate(sessions):
        if not rows:
            continue
        prior = reference_true_ranges([r for _, r in sessions[:index]])
        atr = reference_atr(prior, cfg["atr_period"], cfg["atr_method"])
        if math.isnan(atr):
            continue
        close_times = [local_time_ns(day, dt.time(*map(int, row[0].split(":")))) + NS_PER_MINUTE for row in rows]
        plain_rows = [tuple(float(x) for x in row[1:]) for row in rows]
        expected += reference_session(
            plain_rows, close_times, atr, cfg,
            *(local_time_ns(day, TIMES[cfg[key]]) for key in ("trend_cutoff_time", "min_entry_time", "max_entry_time")),
        )
    return sorted(expected)


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_engine_signals_equal_the_plain_python_twin_bit_for_bit(scenario):
    cfg, shape = scenario
    sessions = build_sessions(cfg, shape)
    data = {"SPY": sessioned_bars("SPY", sessions)}
    signals = compute_signals(engine_config(cfg), data, None, None)
    got = [
        (s.entry_time_ns, s.direction, s.P, s.P_stop, s.P_target, s.meta["vwap"], s.meta["band"], s.meta["atr"])
        for s in signals
    ]
    assert got == reference_run(cfg, sessions)


def test_generated_scenarios_do_produce_signals():
    """Guard against a vacuous comparison: a typical scenario must emit several signals of each side."""
    cfg = {
        "atr_period": 2, "atr_method": "sma", "vwap_price": "hlc3", "band_atr_frac": 0.1,
        "max_session_range_atr_frac": 5.0, "max_open_to_high_atr_frac": 5.0,
        "max_open_to_low_atr_frac": 5.0, "trend_cutoff_time": "11:00", "min_entry_time": "10:00",
        "max_entry_time": "15:30", "stop_band_mult": 2.0, "max_trades_per_day": 4,
        "one_direction_per_day": False,
    }
    shape = {"seed": 11, "step": 0.05, "drop_fraction": 0.3, "zero_volume_open": 3, "empty_session": True}
    sessions = build_sessions(cfg, shape)
    expected = reference_run(cfg, sessions)
    directions = {row[1] for row in expected}
    assert len(expected) >= 4 and directions == {"LONG", "SHORT"}
    signals = compute_signals(engine_config(cfg), {"SPY": sessioned_bars("SPY", sessions)}, None, None)
    assert [(s.entry_time_ns, s.direction, s.P, s.P_stop) for s in signals] == [row[:4] for row in expected]
