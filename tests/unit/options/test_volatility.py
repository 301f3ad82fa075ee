"""Vol inputs for the model quote source: realized and series, no look-ahead (SPEC 7)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from builders.paths import REAL_DATA
from vwapcli.config import OptionsConfig
from vwapcli.core.types import DailyBars
from vwapcli.errors import ConfigError
from vwapcli.options.volatility import VolatilityModel, realized_vol, skewed_vol


def _daily(dates: list[str], closes: list[float]) -> DailyBars:
    close = np.asarray(closes, dtype=np.float64)
    return DailyBars(
        session_date=np.asarray(dates, dtype="datetime64[D]"),
        open=close,
        high=close,
        low=close,
        close=close,
        true_range=np.zeros_like(close),
    )


DATES = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
A = 0.01
# Closes 100, 100e^a, 100: log returns +a, -a (mean 0), then the later sessions.
CLOSES = [100.0, 100.0 * math.exp(A), 100.0, 250.0, 50.0]


def test_realized_vol_is_annualised_sample_stdev_of_log_returns() -> None:
    """Returns +a, -a with a = 0.01: mean 0, var(ddof=1) = 2a^2 / 1, stdev = a*sqrt(2).

    Annualised: 0.01 * sqrt(2) * sqrt(252) = 0.01 * sqrt(504) = 0.2244994...
    """
    assert realized_vol(np.array(CLOSES[:3])) == pytest.approx(0.01 * math.sqrt(504), rel=1e-12)


def test_realized_vol_for_a_date_uses_only_the_prior_lookback_closes_times_multiplier() -> None:
    """Trade date 2024-01-05, lookback 3: closes of 01-02, 01-03, 01-04 only.

    0.01 * sqrt(504) * 1.1 = 0.2469494...; the 01-05 close (250) is not known yet.
    """
    config = OptionsConfig(iv_lookback=3, iv_multiplier=1.1, iv_floor=0.08)
    model = VolatilityModel(_daily(DATES, CLOSES), None, config)
    assert model.vol_for(dt.date(2024, 1, 5)) == pytest.approx(
        1.1 * 0.01 * math.sqrt(504), rel=1e-12
    )


def test_realized_vol_ignores_the_trade_date_and_later_closes() -> None:
    """Changing the closes on and after the trade date leaves its vol unchanged (no look-ahead)."""
    config = OptionsConfig(iv_lookback=3)
    base = VolatilityModel(_daily(DATES, CLOSES), None, config)
    shocked = VolatilityModel(_daily(DATES, [*CLOSES[:3], 1.0, 9999.0]), None, config)
    assert shocked.vol_for(dt.date(2024, 1, 5)) == base.vol_for(dt.date(2024, 1, 5))


def test_realized_vol_is_nan_without_enough_prior_closes() -> None:
    """Trade date 2024-01-04 has only two prior closes; lookback 3 needs three."""
    model = VolatilityModel(_daily(DATES, CLOSES), None, OptionsConfig(iv_lookback=3))
    assert math.isnan(model.vol_for(dt.date(2024, 1, 4)))


def test_realized_vol_is_floored() -> None:
    """Flat closes give 0 vol -> the floor 0.08."""
    model = VolatilityModel(_daily(DATES, [100.0] * 5), None, OptionsConfig(iv_lookback=3))
    assert model.vol_for(dt.date(2024, 1, 8)) == 0.08


def test_series_vol_is_the_prior_close_of_the_index_in_points_over_100() -> None:
    """Index 13.2 on 01-02 and 14.0 on 01-03: 01-03 trades on 0.132, 01-04 on 0.140."""
    index = pd.Series(
        [13.2, 14.0, 30.0], index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
    )
    model = VolatilityModel(_daily(DATES, CLOSES), index, OptionsConfig(iv_source="series"))
    assert model.vol_for(dt.date(2024, 1, 3)) == pytest.approx(0.132)
    assert model.vol_for(dt.date(2024, 1, 4)) == pytest.approx(0.140)
    assert math.isnan(model.vol_for(dt.date(2024, 1, 2)))


def test_series_source_without_an_index_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"iv_source is 'series'.*SPY"):
        VolatilityModel(
            _daily(DATES, CLOSES), None, OptionsConfig(iv_source="series"), symbol="SPY"
        )


def test_skew_moves_vol_with_log_moneyness_and_keeps_the_floor() -> None:
    """atm 0.20, slope -0.5: K = S*e^{-0.1} -> 0.20 + 0.05 = 0.25; K = S*e^{0.3} -> 0.05 -> floor 0.08."""
    assert skewed_vol(0.20, 100.0 * math.exp(-0.1), 100.0, -0.5, 0.08) == pytest.approx(0.25)
    assert skewed_vol(0.20, 100.0 * math.exp(0.3), 100.0, -0.5, 0.08) == 0.08




def test_realized_vol_on_real_spy_daily_closes_matches_a_pandas_rolling_window() -> None:
    """Independent method: pandas rolling(19).std() of log returns, shifted one day.

    20 closes strictly before D give 19 returns; the window ending at D-1 is the one
    pandas labels D-1, so shift(1) aligns it with D. Then x sqrt(252) x 1.1, floor 0.08.
    """
    path = REAL_DATA / "SPY_1d_2024-04_2026-03.parquet"
    if not path.is_file():
        pytest.skip("real data folder absent")
    frame = pd.read_parquet(path)
    dates = pd.to_datetime(frame["date"]).dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    closes = frame["Close"].to_numpy(dtype=np.float64)
    daily = DailyBars(dates, closes, closes, closes, closes, np.zeros_like(closes))
    model = VolatilityModel(daily, None, OptionsConfig())
    expected = (
        np.log(frame["Close"]).diff().rolling(19).std().shift(1) * math.sqrt(252) * 1.1
    ).clip(lower=0.08)
    for i in (20, 21, 100, 250, len(closes) - 1):
        day = dates[i].astype(object)
        assert model.vol_for(day) == pytest.approx(float(expected.iloc[i]), rel=1e-12)
    assert math.isnan(model.vol_for(dates[19].astype(object)))  # only 19 prior closes
