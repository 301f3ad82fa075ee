"""Vol level and intraday profile from bars (SPEC 7.1): worked numbers and causality."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.option_model import random_walk_bars
from vwapcli.core.types import SessionedBars
from vwapcli.data.sessions import resample_sessioned
from vwapcli.options.variance_clock import IntradayProfile
from vwapcli.options.vol_forecast import (
    ForecastSettings,
    SessionForecaster,
    SessionHistory,
    ewma_forecast,
    har_forecast,
)

BARS_5M = random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=11)


def test_har_is_the_mean_of_the_one_five_and_twenty_two_session_means() -> None:
    """RV = 1..22 (newest 22): (22 + mean(18..22) + mean(1..22)) / 3 = (22 + 20 + 11.5) / 3."""
    rv = np.arange(1.0, 23.0)
    assert har_forecast(rv) == pytest.approx((22 + 20 + 11.5) / 3)


def test_har_uses_what_there_is_when_history_is_shorter_than_22() -> None:
    """RV = 1, 2, 3: (3 + 2 + 2) / 3."""
    assert har_forecast(np.array([1.0, 2.0, 3.0])) == pytest.approx(7 / 3)


def test_ewma_weights_decay_per_session_back() -> None:
    """decay 0.5 over [4, 2, 1] (newest last): (0.25·4 + 0.5·2 + 1·1) / 1.75 = 3/1.75."""
    assert ewma_forecast(np.array([4.0, 2.0, 1.0]), 0.5) == pytest.approx(3 / 1.75)


def test_session_rv_is_the_sum_of_squared_five_minute_log_returns_from_the_open() -> None:
    """Recomputed by hand for one session: open, then the 78 closes."""
    history = SessionHistory.from_bars(BARS_5M)
    a, b = int(BARS_5M.session_start[3]), int(BARS_5M.session_start[4])
    prices = [BARS_5M.open[a], *BARS_5M.close[a:b]]
    expected = sum(math.log(prices[i + 1] / prices[i]) ** 2 for i in range(len(prices) - 1))
    assert history.raw_rv[3] == pytest.approx(expected)
    assert history.gap[3] == pytest.approx(math.log(BARS_5M.open[a] / BARS_5M.close[a - 1]))


def test_a_one_minute_store_gives_the_five_minute_numbers() -> None:
    """1-minute bars are put on the 5-minute grid first: same RV, gaps and profile as their resample."""
    one_minute = random_walk_bars("2024-03-01", "2024-04-30", "1m", seed=3, bar_vol=0.0005)
    five_minute = resample_sessioned(one_minute, 5 * 60_000_000_000)
    a, b = SessionHistory.from_bars(one_minute), SessionHistory.from_bars(five_minute)
    np.testing.assert_allclose(a.rv, b.rv)
    np.testing.assert_allclose(a.gap[1:], b.gap[1:])
    day = dt.date(2024, 4, 30)
    fa, fb = SessionForecaster(a), SessionForecaster(b)
    assert fa.prior_variance(day) == pytest.approx(fb.prior_variance(day))
    np.testing.assert_allclose(fa.profile(day).minute_shares, fb.profile(day).minute_shares)


def test_profile_is_the_builtin_u_until_there_is_history() -> None:
    forecaster = SessionForecaster(SessionHistory.from_bars(BARS_5M))
    first = BARS_5M.session_date[0].astype(dt.date)
    np.testing.assert_allclose(forecaster.profile(first).minute_shares, IntradayProfile.builtin().minute_shares)


def test_profile_learns_the_open_spike_of_the_bars() -> None:
    """The builder's first bar moves twice as much: its share ends up ~4x a mid-day bar's."""
    forecaster = SessionForecaster(SessionHistory.from_bars(BARS_5M), ForecastSettings(profile_prior_sessions=0))
    shares = forecaster.profile(dt.date(2024, 6, 28)).minute_shares
    assert shares[:5].sum() > 2.5 * shares[200:205].sum()


def test_forecast_needs_min_sessions_of_history() -> None:
    forecaster = SessionForecaster(SessionHistory.from_bars(BARS_5M), ForecastSettings(min_sessions=5))
    dates = [d.astype(dt.date) for d in BARS_5M.session_date]
    assert math.isnan(forecaster.prior_variance(dates[4]))
    assert math.isfinite(forecaster.prior_variance(dates[5]))


def _scaled_from(bars: SessionedBars, first_row: int, factor: float) -> SessionedBars:
    """Bars with every price from ``first_row`` on multiplied by ``factor`` (still valid bars)."""
    def scale(values: np.ndarray) -> np.ndarray:
        out = values.copy()
        out[first_row:] *= factor
        return out

    return dataclasses.replace(
        bars, open=scale(bars.open), high=scale(bars.high), low=scale(bars.low), close=scale(bars.close)
    )


def _noisy_from(bars: SessionedBars, first_row: int, seed: int) -> SessionedBars:
    """Bars whose closes from ``first_row`` on get random multiplicative noise (highs/lows follow)."""
    rng = np.random.default_rng(seed)
    close = bars.close.copy()
    close[first_row:] *= np.exp(rng.normal(0.0, 0.01, close.shape[0] - first_row))
    return dataclasses.replace(
        bars, close=close, high=np.maximum(bars.high, close), low=np.minimum(bars.low, close)
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(day_index=st.integers(min_value=6, max_value=80), seed=st.integers(0, 10_000), factor=st.floats(0.5, 2.0))
def test_changing_bars_on_or_after_day_d_never_changes_ds_profile_or_forecast(day_index: int, seed: int, factor: float) -> None:
    """Causality: the profile and the prior-session forecast of D use sessions before D only;
    D's opening gap uses D's first open only (changing D's closes leaves it alone)."""
    day = BARS_5M.session_date[day_index].astype(dt.date)
    first_row = int(BARS_5M.session_start[day_index])
    before = SessionForecaster(SessionHistory.from_bars(BARS_5M))
    for changed in (_noisy_from(BARS_5M, first_row, seed), _scaled_from(BARS_5M, first_row + 1, factor)):
        after = SessionForecaster(SessionHistory.from_bars(changed))
        assert after.prior_variance(day) == before.prior_variance(day)
        np.testing.assert_array_equal(after.profile(day).minute_shares, before.profile(day).minute_shares)
        assert after.opening_gap(day) == before.opening_gap(day)


def test_the_profile_cache_keeps_the_latest_days_only_and_a_forgotten_day_comes_back_the_same() -> None:
    """SPEC 13 memory: a decade of days must not pile up per symbol. Independent check: a
    fresh forecaster computing the day once gives the very same shares."""
    from vwapcli.options.vol_forecast import PROFILE_CACHE_DAYS

    days = [d.astype(dt.date) for d in BARS_5M.session_date]
    assert len(days) > PROFILE_CACHE_DAYS + 5
    forecaster = SessionForecaster(SessionHistory.from_bars(BARS_5M))
    for day in days:
        forecaster.profile(day)
    assert len(forecaster._profiles) == PROFILE_CACHE_DAYS
    again = forecaster.profile(days[10]).minute_shares  # long evicted: recomputed
    fresh = SessionForecaster(SessionHistory.from_bars(BARS_5M)).profile(days[10]).minute_shares
    assert np.array_equal(again, fresh)
