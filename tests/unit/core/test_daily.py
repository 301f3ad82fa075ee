"""Daily RTH bars, true range and ATR (SPEC 5 "Daily ATR for session D"), checked by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from builders.strategy import daily_history, sessioned_bars
from vwapcli.core.daily import daily_atr, daily_bars, present_sessions

D1, D2, D3 = dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)


def three_sessions():
    """Session 1 is ordinary, session 2 gaps up over C1, session 3 gaps down under C2."""
    return sessioned_bars(
        "SPY",
        [
            (D1, [("09:30", 100.0, 101.0, 99.5, 100.5, 10.0), ("15:59", 100.5, 102.0, 100.0, 101.0, 5.0)]),
            # opens above C1 = 101: H-L = 1.0, |H-C1| = 3.5, |L-C1| = 2.5 -> TR 3.5
            (D2, [("09:30", 103.5, 104.5, 103.5, 104.0, 1.0)]),
            # below C2 = 104: H-L = 1.5, |H-C2| = 2.0, |L-C2| = 3.5 -> TR 3.5
            (D3, [("09:30", 102.0, 102.0, 100.5, 101.5, 1.0), ("10:00", 101.5, 101.75, 101.0, 101.25, 1.0)]),
        ],
    )


def test_daily_bars_take_first_open_max_high_min_low_and_last_close():
    """Session 1: O = 100.0 (first open), H = max(101, 102) = 102, L = min(99.5, 100) = 99.5,
    C = 101.0 (last close); session 3: O = 102, H = 102, L = 100.5, C = 101.25."""
    daily = daily_bars(three_sessions())
    assert daily.open.tolist() == [100.0, 103.5, 102.0]
    assert daily.high.tolist() == [102.0, 104.5, 102.0]
    assert daily.low.tolist() == [99.5, 103.5, 100.5]
    assert daily.close.tolist() == [101.0, 104.0, 101.25]
    assert daily.session_date.tolist() == [D1, D2, D3]


def test_true_range_is_high_minus_low_on_the_first_session_and_includes_gaps_after():
    """TR1 = 102 - 99.5 = 2.5 (first session: H - L only); TR2 = |104.5 - 101| = 3.5 (gap up);
    TR3 = |100.5 - 104| = 3.5 (gap down)."""
    assert daily_bars(three_sessions()).true_range.tolist() == [2.5, 3.5, 3.5]


def test_true_range_skips_sessions_without_bars_when_finding_the_previous_close():
    """D2 has no bars, so D3's previous close is D1's C = 100: TR3 = max(1, |103-100|, |102-100|) = 3."""
    sessioned = sessioned_bars(
        "SPY",
        [
            (D1, [("09:30", 100.0, 100.5, 99.5, 100.0, 1.0)]),
            (D2, []),
            (D3, [("09:30", 102.0, 103.0, 102.0, 102.5, 1.0)]),
        ],
    )
    daily = daily_bars(sessioned)
    assert present_sessions(sessioned).tolist() == [0, 2]
    assert daily.session_date.tolist() == [D1, D3]
    assert daily.true_range.tolist() == [1.0, 3.0]


def test_sma_atr_is_the_mean_of_the_last_period_true_ranges():
    """TR = [1, 2, 3, 4, 6], period 3: ATR = (3 + 4 + 6) / 3 = 13/3 = 4.333..."""
    assert daily_atr(daily_history([1.0, 2.0, 3.0, 4.0, 6.0]), 3, "sma") == pytest.approx(13 / 3, rel=1e-15)


def test_atr_is_nan_when_fewer_sessions_than_the_period_exist():
    """Two prior sessions cannot make a 3-session ATR, for either method."""
    history = daily_history([1.0, 2.0])
    assert math.isnan(daily_atr(history, 3, "sma"))
    assert math.isnan(daily_atr(history, 3, "wilder"))
    assert math.isnan(daily_atr(daily_history([]), 1, "sma"))


def test_wilder_atr_seeds_with_the_sma_then_recurses():
    """TR = [1, 2, 3, 4, 6], period 3: seed (1+2+3)/3 = 2; then (2*2 + 4)/3 = 8/3;
    then (8/3*2 + 6)/3 = (16/3 + 18/3)/3 = 34/9 = 3.777..."""
    trs = [1.0, 2.0, 3.0, 4.0, 6.0]
    assert daily_atr(daily_history(trs[:3]), 3, "wilder") == 2.0
    assert daily_atr(daily_history(trs[:4]), 3, "wilder") == pytest.approx(8 / 3, rel=1e-15)
    assert daily_atr(daily_history(trs), 3, "wilder") == pytest.approx(34 / 9, rel=1e-15)


def test_sma_atr_sums_left_to_right_like_a_plain_loop():
    """Independent method: a Python loop adding the last 20 TRs in order, then / 20; the
    values are chosen so pairwise and sequential summation could differ in the last bit."""
    rng = np.random.default_rng(3)
    trs = (rng.random(57) * 10.0 ** rng.integers(-3, 3, 57)).tolist()
    total = 0.0
    for value in trs[-20:]:
        total += value
    assert daily_atr(daily_history(trs), 20, "sma") == total / 20


def test_unknown_atr_method_is_rejected():
    with pytest.raises(ValueError, match="unknown ATR method 'ema'"):
        daily_atr(daily_history([1.0]), 1, "ema")
