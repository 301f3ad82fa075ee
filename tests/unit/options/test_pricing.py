"""BSM pricing, Greeks, T and cent rounding (SPEC 7)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from vwapcli.options.pricing import (
    MINUTES_PER_YEAR,
    bs_delta,
    bs_price,
    bs_price_scalar,
    bs_vega,
    normal_cdf,
    round_to_cent,
    year_fraction,
)


def _ns(text: str) -> int:
    """UTC ns of a New York wall-clock time such as '2024-03-15 15:00'."""
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


# ----------------------------------------------------------------- year_fraction
def test_year_fraction_counts_minutes_to_four_pm_new_york() -> None:
    """15:00 ET on the expiry date -> 60 minutes -> 60 / 525600 years."""
    assert year_fraction(_ns("2024-03-15 15:00"), dt.date(2024, 3, 15)) == 60 / 525_600


def test_year_fraction_is_floored_at_one_minute_in_the_last_minute() -> None:
    """15:59:30 ET is 0.5 minutes before 16:00 -> floored to 1 minute."""
    assert year_fraction(_ns("2024-03-15 15:59:30"), dt.date(2024, 3, 15)) == 1 / 525_600


def test_year_fraction_is_floored_at_one_minute_after_the_close() -> None:
    """16:30 ET is past expiry (negative minutes) -> still one minute."""
    assert year_fraction(_ns("2024-03-15 16:30"), dt.date(2024, 3, 15)) == 1 / MINUTES_PER_YEAR


def test_year_fraction_across_spring_forward_counts_real_minutes() -> None:
    """Fri 2024-03-08 15:00 EST (20:00 UTC) -> Mon 2024-03-11 16:00 EDT (20:00 UTC).

    73 wall-clock hours, but the clocks jumped forward an hour on Sunday: 72 real hours
    -> 72 * 60 = 4320 minutes.
    """
    assert year_fraction(_ns("2024-03-08 15:00"), dt.date(2024, 3, 11)) == 4320 / 525_600


def test_year_fraction_across_fall_back_counts_real_minutes() -> None:
    """Fri 2024-11-01 15:00 EDT (19:00 UTC) -> Mon 2024-11-04 16:00 EST (21:00 UTC).

    73 wall-clock hours plus the repeated hour = 74 h = 4440 minutes.
    """
    assert year_fraction(_ns("2024-11-01 15:00"), dt.date(2024, 11, 4)) == 4440 / 525_600


# ----------------------------------------------------------------- QuantLib reference
def _quantlib_price(spot, strike, t, r, q, vol, right) -> float:  # type: ignore[no-untyped-def]
    """Independent method: QuantLib blackFormula on the forward, std-dev and discount.

    Only the tests that call this need QuantLib: they skip without it, the rest still run.
    """
    ql = pytest.importorskip("QuantLib")
    kind = ql.Option.Call if right == "C" else ql.Option.Put
    forward = spot * np.exp((r - q) * t)
    return float(ql.blackFormula(kind, strike, forward, vol * np.sqrt(t), np.exp(-r * t)))


def test_bs_price_matches_quantlib_black_formula_over_a_grid() -> None:
    """One minute to 30 days, ITM/ATM/OTM calls and puts, low to high vol: |diff| <= 1e-8."""
    spot, r, q = 500.0, 0.04, 0.013
    cases = []
    for minutes in (1, 5, 60, 390, 1440, 7 * 1440, 30 * 1440):
        for strike in (470.0, 495.0, 499.5, 500.0, 500.5, 505.0, 530.0):
            for vol in (0.08, 0.15, 0.35, 0.8):
                for right in ("C", "P"):
                    cases.append((strike, minutes / MINUTES_PER_YEAR, vol, right))
    strikes = np.array([c[0] for c in cases])
    times = np.array([c[1] for c in cases])
    vols = np.array([c[2] for c in cases])
    rights = np.array([c[3] for c in cases])
    ours = bs_price(spot, strikes, times, r, q, vols, rights)
    reference = np.array([_quantlib_price(spot, k, t, r, q, v, c) for k, t, v, c in cases])
    assert np.max(np.abs(ours - reference)) <= 1e-8


def test_bs_price_of_a_scalar_is_a_float_matching_quantlib() -> None:
    """Scalar inputs give a Python float; a 1-day 0.2-vol ATM call equals QuantLib's."""
    price = bs_price(100.0, 100.0, 1 / 365, 0.04, 0.0, 0.2, "C")
    assert isinstance(price, float)
    assert price == pytest.approx(
        _quantlib_price(100.0, 100.0, 1 / 365, 0.04, 0.0, 0.2, "C"), abs=1e-10
    )


def test_put_call_parity_holds_with_dividend_yield() -> None:
    """C - P = S*e^{-qT} - K*e^{-rT} for every strike and time in the grid (to 1e-10)."""
    spot, r, q = 430.0, 0.05, 0.02
    strikes = np.linspace(380.0, 480.0, 21)[:, None]
    times = np.array([1, 60, 1440, 30 * 1440])[None, :] / MINUTES_PER_YEAR
    calls = bs_price(spot, strikes, times, r, q, 0.25, "C")
    puts = bs_price(spot, strikes, times, r, q, 0.25, "P")
    parity = spot * np.exp(-q * times) - strikes * np.exp(-r * times)
    assert np.max(np.abs(calls - puts - parity)) <= 1e-10


def test_zero_vol_price_is_discounted_forward_intrinsic() -> None:
    """vol 0: call = e^{-rT}*max(F-K, 0); with r = q = 0, S 101, K 100 -> exactly 1.0."""
    assert bs_price(101.0, 100.0, 0.1, 0.0, 0.0, 0.0, "C") == 1.0
    assert bs_price(101.0, 100.0, 0.1, 0.0, 0.0, 0.0, "P") == 0.0


def test_unknown_right_is_rejected() -> None:
    with pytest.raises(ValueError, match="'C' or 'P'"):
        bs_price(100.0, 100.0, 0.1, 0.0, 0.0, 0.2, "X")


def test_delta_and_vega_match_central_finite_differences() -> None:
    """Independent method: (price(x+h) - price(x-h)) / 2h for spot (h=1e-3) and vol (h=1e-5)."""
    spot, strike, t, r, q, vol = 500.0, 503.0, 2 / 365, 0.04, 0.013, 0.18
    for right in ("C", "P"):
        up = bs_price(spot + 1e-3, strike, t, r, q, vol, right)
        down = bs_price(spot - 1e-3, strike, t, r, q, vol, right)
        assert bs_delta(spot, strike, t, r, q, vol, right) == pytest.approx(
            (up - down) / 2e-3, abs=1e-6
        )
    up = bs_price(spot, strike, t, r, q, vol + 1e-5, "C")
    down = bs_price(spot, strike, t, r, q, vol - 1e-5, "C")
    assert bs_vega(spot, strike, t, r, q, vol) == pytest.approx((up - down) / 2e-5, rel=1e-6)


# ----------------------------------------------------------------- cent rounding
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.234, 1.23),
        (1.235, 1.24),  # half a cent rounds up although 1.235 is stored as 1.23499999...
        (0.105, 0.11),  # Python's round(0.105, 2) gives 0.1
        (2.0999999999999996, 2.10),  # float noise from 0.7 * 3.0 is stripped
        (-0.015, -0.02),  # half a cent away from zero on the negative side too
    ],
)
def test_round_to_cent_rounds_half_a_cent_up(value: float, expected: float) -> None:
    assert round_to_cent(value) == expected


def test_round_to_cent_keeps_the_sign_of_a_zero_like_decimal_does() -> None:
    """-0.001 rounds to -0.00 in decimal, which is the float -0.0 (and prints as -0.0)."""
    assert repr(round_to_cent(-0.001)) == "-0.0"
    assert repr(round_to_cent(0.001)) == "0.0"
    assert repr(round_to_cent(-0.0)) == "-0.0"


def test_round_to_cent_equals_the_decimal_reference_on_ties_and_random_prices() -> None:
    """Independent method: ``Decimal(repr(round(x, 9))).quantize(0.01, ROUND_HALF_UP)``.

    Exact half cents (k x 0.005), values within 1e-10 of them (inside the 1e-9 clean-up)
    and 2e-9 away (outside it), random prices of both signs and magnitudes up to $1e8.
    """
    from decimal import ROUND_HALF_UP, Decimal

    rng = np.random.default_rng(20240601)
    halves = np.round(rng.uniform(-500.0, 500.0, 20_000) * 200.0) / 200.0
    values = np.concatenate([
        halves, halves + 1e-10, halves - 1e-10, halves + 2e-9, halves - 2e-9,
        rng.uniform(-50.0, 50.0, 20_000), rng.uniform(-1e8, 1e8, 2_000), [999_999.995, -999_999.995, 0.0],
    ])
    for value in values.tolist():
        expected = float(Decimal(repr(round(value, 9))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        assert repr(round_to_cent(value)) == repr(expected), value


# ----------------------------------------------------------------- the scalar twin
def test_scalar_bs_price_equals_the_vectorised_one_bit_for_bit() -> None:
    """30,000 random quotes from one minute to a year, both rights: identical floats (so the
    engine's per-quote path writes the same trades.csv bytes as the array path would)."""
    rng = np.random.default_rng(7)
    n = 30_000
    spot = rng.uniform(20.0, 800.0, n)
    strike = np.round(spot * np.exp(rng.normal(0.0, 0.05, n)) * 2.0) / 2.0
    t = rng.choice([1.0, 5.0, 60.0, 390.0, 4320.0, 525_600.0], n) * rng.uniform(0.5, 1.5, n) / MINUTES_PER_YEAR
    rate = rng.choice([0.0, 0.04, -0.01], n)
    div_yield = rng.choice([0.0, 0.013], n)
    vol = rng.uniform(0.05, 1.2, n)
    right = np.where(rng.random(n) < 0.5, "C", "P")
    vectorised = bs_price(spot, strike, t, rate, div_yield, vol, right)
    scalar = [bs_price_scalar(*args) for args in zip(spot.tolist(), strike.tolist(), t.tolist(), rate.tolist(),
                                                      div_yield.tolist(), vol.tolist(), right.tolist(), strict=True)]
    np.testing.assert_array_equal(np.array(scalar), vectorised)
    assert np.max(np.abs(np.array(scalar) - vectorised)) <= 1e-12  # the brief's bound, trivially


def test_scalar_bs_price_matches_quantlib() -> None:
    """Same reference as the vectorised grid (to 1e-8)."""
    for strike in (470.0, 500.0, 530.0):
        for right in ("C", "P"):
            ours = bs_price_scalar(500.0, strike, 60 / MINUTES_PER_YEAR, 0.04, 0.013, 0.2, right)
            assert abs(ours - _quantlib_price(500.0, strike, 60 / MINUTES_PER_YEAR, 0.04, 0.013, 0.2, right)) <= 1e-8


def test_scalar_bs_price_handles_zero_time_value_and_rejects_unknown_rights() -> None:
    """vol 0, r = q = 0, S 101, K 100: call = forward intrinsic 1.0 exactly, put 0.0."""
    assert bs_price_scalar(101.0, 100.0, 0.1, 0.0, 0.0, 0.0, "C") == 1.0
    assert bs_price_scalar(101.0, 100.0, 0.1, 0.0, 0.0, 0.0, "P") == 0.0
    with pytest.raises(ValueError, match="'C' or 'P'"):
        bs_price_scalar(100.0, 100.0, 0.1, 0.0, 0.0, 0.2, "X")


def test_normal_cdf_equals_scipys_ndtr_bit_for_bit() -> None:
    """Both branches of the cephes approximation (|x| < 1/sqrt(2), the [1, 8) and [8, inf)
    erfc ranges, the underflow tail) and the signs; math.erfc would differ in ~1/3 of these."""
    from scipy.special import ndtr

    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.normal(0.0, 1.0, 20_000), rng.uniform(-40.0, 40.0, 20_000),
                         [0.0, -0.0, 0.7071067811865476, -1.0, 11.3, -11.3, 38.0, -38.0, np.inf, -np.inf]])
    np.testing.assert_array_equal(np.array([normal_cdf(x) for x in xs.tolist()]), ndtr(xs))
    assert np.isnan(normal_cdf(float("nan")))
