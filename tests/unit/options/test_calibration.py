"""Calibration (SPEC 7.1): implied vols, the overnight share, and recovery of known parameters."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from builders.option_model import random_walk_bars
from vwapcli.config import OptionsConfig
from vwapcli.options.calibration import calibrate, implied_total_std, overnight_share
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.pricing import bs_price
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel
from vwapcli.options.vol_forecast import SessionHistory

OPTIONS = OptionsConfig.model_validate({})


def test_implied_total_std_inverts_black_on_the_forward() -> None:
    """Prices made by bs_price (T = 1, so vol = total std) come back to the std they were made with."""
    std = np.array([0.002, 0.004, 0.01, 0.03, 0.004, 0.02])
    strike = np.array([500.0, 502.0, 495.0, 510.0, 498.0, 500.0])
    right = np.array(["C", "C", "P", "C", "P", "P"])
    forward = np.full(6, 500.0)
    discount = np.full(6, 0.9999)
    price = discount * np.asarray(bs_price(forward, strike, 1.0, 0.0, 0.0, std, right))
    np.testing.assert_allclose(implied_total_std(price, forward, strike, discount, right), std, rtol=1e-6)


def test_implied_total_std_is_nan_below_intrinsic() -> None:
    out = implied_total_std(np.array([1.0]), np.array([500.0]), np.array([495.0]), np.array([1.0]), np.array(["C"]))
    assert math.isnan(out[0])


def test_overnight_share_is_mean_squared_gap_over_mean_rv() -> None:
    bars = random_walk_bars("2024-03-01", "2024-04-30", "5m", seed=2)
    history = SessionHistory.from_bars(bars)
    gap, rv = history.gap[1:], history.raw_rv[1:]
    assert overnight_share(history) == pytest.approx(np.mean(gap**2) / np.mean(rv))


TRUE = CalibrationParams(
    overnight_share=0.5,
    level={"premium": 1.3, "gap_weight": 0.4},
    smile={"skew": -0.08, "curvature": 0.04, "bound": 4.0},
    spread={"tick": 0.01, "wide": 0.25, "half_point": 1.8, "steepness": 4.0},
)


def synthetic_quotes(seed: int = 1) -> tuple[pd.DataFrame, object]:
    """Quotes made by the model with TRUE parameters, mids with 1% lognormal noise.

    12 sessions, a snapshot every 30 minutes 09:45-15:15, strikes spot ± 8 ($1 grid), calls
    and puts; spot = the last closed 5-minute bar; width = the model's own tick width.
    """
    bars = random_walk_bars("2024-01-02", "2024-06-28", "5m", seed=seed, gap_vol=0.008)
    source = CalibratedQuoteSource(OPTIONS, {"SPY": SessionVolModel.from_bars(TRUE, bars)})
    rng = np.random.default_rng(seed)
    rows = []
    days = [d.astype(dt.date) for d in bars.session_date[-12:]]
    for day in days:
        for minutes in range(15, 350, 30):
            ts = pd.Timestamp(dt.datetime.combine(day, dt.time(9, 30)), tz="America/New_York") + pd.Timedelta(minutes=minutes)
            ts_ns = int(ts.value)
            spot = float(bars.close[int(np.searchsorted(bars.ts + bars.bar_ns, ts_ns, side="right")) - 1])
            for strike in np.arange(round(spot) - 8, round(spot) + 9, 1.0):
                for right in ("C", "P"):
                    quote = source.quote("SPY", ts_ns, day, float(strike), right, spot)
                    assert quote is not None
                    mid = quote.mid * math.exp(rng.normal(0.0, 0.01))
                    half = (quote.ask - quote.bid) / 2
                    rows.append((ts.tz_convert("UTC"), "SPY", day, strike, right, mid - half, mid + half, spot))
    columns = ["ts", "underlying", "expiration", "strike", "right", "bid", "ask", "underlying_price"]
    return pd.DataFrame(rows, columns=columns), bars


def test_calibration_recovers_the_parameters_that_made_the_quotes() -> None:
    quotes, bars = synthetic_quotes()
    fitted = calibrate(quotes, bars, measure_error=False)  # type: ignore[arg-type]
    assert fitted.level.premium == pytest.approx(1.3, rel=0.04)
    assert fitted.level.gap_weight == pytest.approx(0.4, abs=0.1)
    assert fitted.smile.skew == pytest.approx(-0.08, abs=0.01)
    assert fitted.smile.curvature == pytest.approx(0.04, abs=0.01)
    # The width is only seen in whole ticks: judge the fitted spread model by the widths it gives.
    fitted_model, true_model = fitted.spread.model(), TRUE.spread.model()
    mid = ((quotes["bid"] + quotes["ask"]) / 2).to_numpy()
    scale = np.full(mid.shape, 3.0)
    agree = fitted_model.spread_ticks(mid, scale) == true_model.spread_ticks(mid, scale)
    assert agree.mean() > 0.95
    assert fitted.fitted_on["sessions"][0] == str(quotes["expiration"].min())
    assert fitted.overnight_share == pytest.approx(overnight_share(SessionHistory.from_bars(bars)), abs=1e-4)  # type: ignore[arg-type]
