"""SPEC 6 (ORB): the compiled kernel's own contract, the low-side equality case, and the
strategy's registration. Times in the kernel are plain integers here (minutes as ns)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from builders.strategy import daily_history, market_state
from vwapcli.strategies.orb import STRATEGY_SPEC, ORBConfig, ORBStrategy, orb_kernel

MINUTE = 60_000_000_000
DAY = dt.date(2024, 1, 3)  # EST: New York = UTC - 5 h


def kernel(rows: list[tuple[float, float, float]], range_end_minute: int = 2, max_entry_minute: int = 10):
    """Bars start at minute 0, 1, ... (close one minute later): (high, low, close)."""
    high, low, close = (np.array(column, dtype=np.float64) for column in zip(*rows, strict=True))
    ts = np.arange(len(rows), dtype=np.int64) * MINUTE
    return orb_kernel(ts, high, low, close, MINUTE, range_end_minute * MINUTE, max_entry_minute * MINUTE)


def test_the_kernel_reports_a_long_breakout_as_plus_one() -> None:
    """Range = bars closing by minute 2 (bars 0, 1): high 101, low 99. Bar 2 closes 101.5
    above it -> (2, +1, 101, 99)."""
    assert kernel([(101.0, 99.5, 100.0), (100.5, 99.0, 100.0), (101.6, 100.0, 101.5)]) == (2, 1, 101.0, 99.0)


def test_the_kernel_reports_a_short_breakout_as_minus_one() -> None:
    """Same range; bar 2 closes 98.5 below 99 -> (2, -1, 101, 99)."""
    assert kernel([(101.0, 99.5, 100.0), (100.5, 99.0, 100.0), (100.0, 98.4, 98.5)]) == (2, -1, 101.0, 99.0)


def test_the_kernel_reports_no_breakout_as_minus_one_and_zero() -> None:
    """Bar 2 closes inside (100.0): no breakout -> (-1, 0, range high 101, range low 99)."""
    assert kernel([(101.0, 99.5, 100.0), (100.5, 99.0, 100.0), (100.5, 99.5, 100.0)]) == (-1, 0, 101.0, 99.0)


def test_a_close_equal_to_the_range_low_is_not_a_breakout() -> None:
    """Mirror of the range-high case: 10:10 closes exactly at the 99.8 range low (not <);
    10:11 closes 99.75 -> SHORT at 10:12, stop = range high 101.0, target 99.75 - 1.2."""
    rows = [
        ("09:30", 100.0, 100.5, 99.8, 100.2, 10.0),
        ("09:59", 100.2, 101.0, 100.1, 100.9, 10.0),
        ("10:10", 100.0, 100.0, 99.8, 99.8, 1.0),
        ("10:11", 99.8, 99.8, 99.7, 99.75, 1.0),
    ]
    signals = ORBStrategy(ORBConfig()).generate_signals(market_state(DAY, rows, daily_history([])))
    assert [(s.direction, s.entry_time, s.P, s.P_stop) for s in signals] == [
        ("SHORT", pd.Timestamp("2024-01-03 15:12", tz="UTC"), 99.75, 101.0)]
    assert signals[0].P_target == 99.75 - (101.0 - 99.8)


def test_the_registered_factory_builds_the_strategy_from_its_config() -> None:
    strategy = STRATEGY_SPEC.factory(ORBConfig(range_minutes=15))
    assert isinstance(strategy, ORBStrategy) and strategy.config.range_minutes == 15
    assert (STRATEGY_SPEC.key, STRATEGY_SPEC.name, STRATEGY_SPEC.config_model) == ("orb", "ORB", ORBConfig)
