"""``atrs_before`` is ``daily_atr`` on each prefix, in one call: the same float64 bits.

The reference is ``daily_atr(daily.before(k), period, method)`` called once per row (the
per-session pass's own ATR); rows include 0 (no history), rows below the period (NaN) and
the whole history.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders.strategy import daily_history
from vwapcli.core.daily import atrs_before, daily_atr


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.integers(1, 25), st.sampled_from(["sma", "wilder"]))
def test_each_row_is_the_per_session_atr_bit_for_bit(seed, n, period, method):
    rng = np.random.default_rng(seed)
    daily = daily_history((10.0 ** rng.uniform(-3, 3, n)).tolist())
    rows = np.arange(n + 1, dtype=np.int64)
    found = atrs_before(daily, rows, period, method)
    expected = [daily_atr(daily.before(int(k)), period, method) for k in rows]
    assert [v.hex() for v in found.tolist()] == [v.hex() for v in expected]
    assert all(math.isnan(v) for v in found[: min(period, n + 1)])


def test_an_unknown_method_is_refused_as_daily_atr_refuses_it():
    daily = daily_history([1.0, 2.0])
    with pytest.raises(ValueError, match="unknown ATR method 'ema'; known: sma, wilder"):
        atrs_before(daily, np.array([2]), 2, "ema")
    with pytest.raises(ValueError, match="unknown ATR method 'ema'; known: sma, wilder"):
        daily_atr(daily, 2, "ema")
