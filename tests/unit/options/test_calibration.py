"""Calibration (SPEC 7.1): implied vols, the overnight share, and recovery of known parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from builders.option_model import TRUE, random_walk_bars, synthetic_quotes
from vwapcli.config import OptionsConfig
from vwapcli.options.calibration import calibrate, implied_total_std, overnight_share
from vwapcli.options.pricing import bs_price
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


def test_calibration_recovers_the_parameters_that_made_the_quotes() -> None:
    quotes, bars = synthetic_quotes()
    fitted = calibrate(quotes, bars, measure_error=False)
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
    assert fitted.overnight_share == pytest.approx(overnight_share(SessionHistory.from_bars(bars)), abs=1e-4)
