"""VWAP_MEANREV's config block: SPEC 5's defaults, copied from the SPEC text, and the limits
of each field (the smallest accepted value and the first refused one)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from pydantic import ValidationError

from vwapcli.strategies.vwap_meanrev import (
    PRICE_CODES,
    VWAPMeanReversionConfig,
    vwap_meanrev_kernel,
)


def test_the_defaults_are_spec_5s() -> None:
    """SPEC 5: band_atr_frac [0.5], atr_period [20], atr_method [sma], vwap_price [hlc3],
    max_session_range_atr_frac [1.0], max_open_to_high/low_atr_frac [0.7],
    trend_cutoff_time 11:00, min_entry_time 10:00, max_entry_time 15:30, stop_band_mult
    [2.0], max_trades_per_day [1], one_direction_per_day [false]; shipped disabled."""
    config = VWAPMeanReversionConfig()
    assert config.enabled is False
    assert (config.band_atr_frac, config.atr_period, config.atr_method, config.vwap_price) == (0.5, 20, "sma", "hlc3")
    assert (config.max_session_range_atr_frac, config.max_open_to_high_atr_frac,
            config.max_open_to_low_atr_frac) == (1.0, 0.7, 0.7)
    assert (config.trend_cutoff_time, config.min_entry_time, config.max_entry_time) == (
        dt.time(11, 0), dt.time(10, 0), dt.time(15, 30))
    assert (config.stop_band_mult, config.max_trades_per_day, config.one_direction_per_day) == (2.0, 1, False)


POSITIVE_FIELDS = ["band_atr_frac", "max_session_range_atr_frac", "max_open_to_high_atr_frac",
                   "max_open_to_low_atr_frac", "stop_band_mult"]


@pytest.mark.parametrize("field", POSITIVE_FIELDS)
def test_fractions_and_multipliers_must_be_strictly_positive(field: str) -> None:
    """0 is refused (a zero band or limit makes no sense); 0.01 and 1.5 are accepted."""
    with pytest.raises(ValidationError, match=field):
        VWAPMeanReversionConfig(**{field: 0.0})
    assert getattr(VWAPMeanReversionConfig(**{field: 0.01}), field) == 0.01
    assert getattr(VWAPMeanReversionConfig(**{field: 1.5}), field) == 1.5


@pytest.mark.parametrize("field", ["atr_period", "max_trades_per_day"])
def test_counts_start_at_one(field: str) -> None:
    """0 is refused; 1 is the smallest accepted value."""
    with pytest.raises(ValidationError, match=field):
        VWAPMeanReversionConfig(**{field: 0})
    assert getattr(VWAPMeanReversionConfig(**{field: 1}), field) == 1


def test_an_entry_window_of_one_instant_is_allowed_but_not_a_reversed_one() -> None:
    """min_entry_time == max_entry_time (12:00-12:00) is a valid window; 12:01-12:00 is not."""
    same = VWAPMeanReversionConfig(min_entry_time=dt.time(12, 0), max_entry_time=dt.time(12, 0))
    assert same.min_entry_time == same.max_entry_time
    with pytest.raises(ValidationError, match="min_entry_time 12:01:00 is after max_entry_time 12:00:00"):
        VWAPMeanReversionConfig(min_entry_time=dt.time(12, 1), max_entry_time=dt.time(12, 0))


def test_the_kernel_price_codes_are_distinct_and_start_at_zero() -> None:
    """hlc3 -> 0 (the kernel's first branch), close -> 1, ohlc4 -> 2."""
    assert PRICE_CODES == {"hlc3": 0, "close": 1, "ohlc4": 2}


def _kernel(n_bars: int, atr: float, max_trades: int) -> tuple[np.ndarray, ...]:
    """The kernel on ``n_bars`` flat bars (100.0, volume 1) with band = atr / 2."""
    ts = np.arange(n_bars, dtype=np.int64) * 60_000_000_000
    flat = np.full(n_bars, 100.0)
    return vwap_meanrev_kernel(
        ts, flat, flat, flat, flat, np.ones(n_bars), 60_000_000_000, atr, atr / 2, 0,
        1.0, 0.7, 0.7, 0, 0, 10**18, 2.0, max_trades, False,
    )


@pytest.mark.parametrize(("n_bars", "atr", "max_trades"), [(0, 2.0, 1), (5, math.nan, 3), (5, 2.0, 0), (5, 2.0, -1)])
def test_the_kernel_returns_six_empty_arrays_without_bars_atr_or_capacity(n_bars: int, atr: float, max_trades: int) -> None:
    """No bars, an undefined ATR (with room for 3 signals), or a cap of 0 (or, called
    directly, -1) signals: six arrays of length 0, never uninitialised ``np.empty`` slots."""
    outputs = _kernel(n_bars, atr, max_trades)
    assert len(outputs) == 6
    assert [array.shape for array in outputs] == [(0,)] * 6


@pytest.mark.parametrize(("atr", "expected"), [(2.0, [(2, 1, 99.3, 98.0, 100.0, 100.0)]), (math.nan, [])])
def test_the_kernel_emits_nothing_on_a_nan_atr_even_with_a_finite_band(atr: float, expected: list) -> None:
    """Called directly with band 1.0: bar 0 (h = l = c = 100, volume 1000) fixes vwap 100;
    bar 1 (low 98.9 < 99) arms long; bar 2 closes 99.3 > 99.0 inside (99, 100) -> LONG at
    index 2, P 99.3, stop min(98.9, 100 - 2 x 1) = 98, target = vwap = 100 (no trend filter:
    cutoff 0, entry window open). A NaN ATR means too few prior sessions: nothing."""
    ts = np.arange(3, dtype=np.int64) * 60_000_000_000
    open_ = np.array([100.0, 99.5, 99.0])
    high = np.array([100.0, 99.5, 99.3])
    low = np.array([100.0, 98.9, 99.0])
    close = np.array([100.0, 99.0, 99.3])
    volume = np.array([1000.0, 0.0, 0.0])
    outputs = vwap_meanrev_kernel(ts, open_, high, low, close, volume, 60_000_000_000, atr, 1.0, 0,
                                  1.0, 0.7, 0.7, 0, 0, 10**18, 2.0, 1, False)
    assert [tuple(row) for row in zip(*(array.tolist() for array in outputs), strict=True)] == expected
