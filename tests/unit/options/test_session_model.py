"""The session-vol quote source (SPEC 7.1) against an independent Black-76 computation."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

from builders.option_model import new_york_ns, random_walk_bars
from vwapcli.config import OptionsConfig
from vwapcli.core.daily import daily_bars
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.quotes import ModelQuoteSource, Quote, QuoteSource
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel
from vwapcli.options.volatility import VolatilityModel

BARS = random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=5)
PARAMS = CalibrationParams(
    overnight_share=0.6,
    level={"premium": 1.2, "gap_weight": 0.3},
    smile={"skew": -0.08, "curvature": 0.04, "bound": 4.0},
)
DAY = dt.date(2024, 6, 21)
# r = 0.04, q = 0: no per-symbol override (the shipped SPY q = 0.013 would change the forward).
OPTIONS = OptionsConfig.model_validate({"symbols": {}})


def source(params: CalibrationParams = PARAMS) -> CalibratedQuoteSource:
    return CalibratedQuoteSource(OPTIONS, {"SPY": SessionVolModel.from_bars(params, BARS)})


def independent_sigma(day: dt.date) -> float:
    """sqrt(252 · premium · (HAR + gap_weight · gap²)), HAR and gap recomputed from the bars."""
    index = int(np.searchsorted(BARS.session_date, np.datetime64(day, "D")))
    rv = []
    for i in range(index):
        a, b = int(BARS.session_start[i]), int(BARS.session_start[i + 1])
        prices = np.concatenate([[BARS.open[a]], BARS.close[a:b]])
        rv.append(float(np.sum(np.diff(np.log(prices)) ** 2)))
    har = (rv[-1] + np.mean(rv[-5:]) + np.mean(rv[-22:])) / 3
    a = int(BARS.session_start[index])
    gap = math.log(BARS.open[a] / BARS.close[a - 1])
    return math.sqrt(252 * 1.2 * (har + 0.3 * gap * gap))


def test_the_calibrated_source_is_a_quote_source_named_model() -> None:
    assert isinstance(source(), QuoteSource)
    assert source().name == "model"


def test_a_leg_is_black_76_on_the_forward_with_variance_clock_time_and_the_smile() -> None:
    """13:00 ET, spot 500, 502 call expiring today: recomputed with scipy.stats.norm.

    t_cal = 180 min / (365·24·60) for carry and discounting, T from the clock for variance,
    vol_K = sigma·(1 + skew·u + curvature·u²), u = 4·tanh(z/4), z = ln(K/F)/(sigma·sqrt(T)).
    """
    quotes = source()
    ts = new_york_ns("2024-06-21", "13:00")
    model = quotes.models["SPY"]
    sigma = independent_sigma(DAY)
    assert model.sigma(DAY) == pytest.approx(sigma, rel=1e-12)
    t_var = model.clock.t_years(ts, DAY)
    t_cal = 180 / (365 * 24 * 60)
    forward = 500 * math.exp(0.04 * t_cal)
    z = math.log(502 / forward) / (sigma * math.sqrt(t_var))
    u = 4 * math.tanh(z / 4)
    vol = sigma * (1 - 0.08 * u + 0.04 * u * u)
    std = vol * math.sqrt(t_var)
    d1 = math.log(forward / 502) / std + std / 2
    price = math.exp(-0.04 * t_cal) * (forward * norm.cdf(d1) - 502 * norm.cdf(d1 - std))
    quote = quotes.quote("SPY", ts, DAY, 502.0, "C", 500.0)
    assert isinstance(quote, Quote)
    assert quote.mid == pytest.approx(price, rel=1e-9)
    assert quote.iv == pytest.approx(vol, rel=1e-12)
    assert quote.bid <= quote.mid <= quote.ask
    assert round(quote.ask - quote.bid, 2) >= 0.01


def test_put_call_parity_holds_on_the_forward() -> None:
    """C - P = e^{-r t_cal}(F - K) for the same strike (same vol on both sides)."""
    quotes = source()
    ts = new_york_ns("2024-06-21", "11:00")
    call = quotes.quote("SPY", ts, DAY, 497.0, "C", 500.0)
    put = quotes.quote("SPY", ts, DAY, 497.0, "P", 500.0)
    assert call is not None and put is not None
    t_cal = 300 / (365 * 24 * 60)
    assert call.mid - put.mid == pytest.approx(math.exp(-0.04 * t_cal) * (500 * math.exp(0.04 * t_cal) - 497), abs=1e-9)


def test_at_the_close_a_leg_is_worth_its_intrinsic_value() -> None:
    quotes = source()
    ts = new_york_ns("2024-06-21", "16:00")
    quote = quotes.quote("SPY", ts, DAY, 495.0, "C", 500.0)
    assert quote is not None and quote.mid == pytest.approx(5.0)


def test_too_little_history_is_a_no_vol_rejection() -> None:
    answer = source().lookup("SPY", new_york_ns("2024-03-05", "11:00"), dt.date(2024, 3, 5), 500.0, "C", 500.0)
    assert isinstance(answer, Skip) and answer.reason is SkipReason.NO_VOL
    assert source().quote("QQQ", new_york_ns("2024-06-21", "11:00"), DAY, 500.0, "C", 500.0) is None


def test_listed_strikes_are_the_flat_models_grid() -> None:
    flat = ModelQuoteSource(OPTIONS, {"SPY": VolatilityModel(daily_bars(BARS), None, OPTIONS)})
    ts = new_york_ns("2024-06-21", "11:00")
    np.testing.assert_array_equal(
        source().listed_strikes("SPY", ts, DAY, "C", 500.3), flat.listed_strikes("SPY", ts, DAY, "C", 500.3)
    )


def test_the_gap_term_waits_for_the_open() -> None:
    """Before 09:30 only prior sessions count: sigma(after_open=False) has no gap term."""
    model = source().models["SPY"]
    no_gap = model.sigma(DAY, after_open=False)
    assert no_gap < model.sigma(DAY, after_open=True)
    assert model.session_of(new_york_ns("2024-06-21", "09:00")) == (DAY, False)


def test_vol_scale_multiplies_the_vol_level_for_model_risk() -> None:
    """At the forward (z = 0, smile ratio 1) a 1.5 vol scale makes the leg's vol 1.5x and the call dearer."""
    ts = new_york_ns("2024-06-21", "13:00")
    model = SessionVolModel.from_bars(PARAMS, BARS)
    base = CalibratedQuoteSource(OPTIONS, {"SPY": model})
    scaled = CalibratedQuoteSource(OPTIONS, {"SPY": model}, vol_scale=1.5)
    forward = 500 * math.exp(0.04 * 180 / (365 * 24 * 60))
    one, other = base.quote("SPY", ts, DAY, forward, "C", 500.0), scaled.quote("SPY", ts, DAY, forward, "C", 500.0)
    assert one is not None and other is not None
    assert other.iv == pytest.approx(1.5 * one.iv)  # type: ignore[operator]
    assert other.mid > one.mid


def test_a_symbol_without_a_calibration_uses_spys_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """IWM: a symbol no other test prices (the warning is logged once per process)."""
    with caplog.at_level("WARNING", logger="vwapcli.options"):
        params = CalibrationParams.load_for_symbol("IWM")
    assert params.symbol == "SPY"
    assert "no option-model calibration for IWM" in caplog.text
