"""The smile in standardised moneyness z (SPEC 7.1)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vwapcli.options.smile import RATIO_FLOOR, Smile, standardised_moneyness


def test_z_is_log_moneyness_over_the_total_std() -> None:
    """K = 102, F = 100, sigma·sqrt(T) = 0.01: z = ln(1.02)/0.01 = 1.98026."""
    assert float(standardised_moneyness(102.0, 100.0, 0.01)) == pytest.approx(math.log(1.02) / 0.01)


def test_z_is_infinite_off_the_money_when_no_variance_is_left() -> None:
    z = standardised_moneyness(np.array([99.0, 100.0, 101.0]), 100.0, 0.0)
    assert list(z) == [-np.inf, 0.0, np.inf]


def test_ratio_is_one_at_the_money_and_has_the_skew_as_slope() -> None:
    """ratio(z) ≈ 1 + skew·z near 0: (ratio(0.001) - ratio(-0.001)) / 0.002 = skew."""
    smile = Smile(skew=-0.08, curvature=0.04, bound=4.0)
    assert smile.at(0.0) == 1.0
    slope = (smile.at(1e-3) - smile.at(-1e-3)) / 2e-3
    assert slope == pytest.approx(-0.08, abs=1e-6)


def test_ratio_matches_the_formula_at_a_worked_point() -> None:
    """z = 2, bound 4: u = 4·tanh(0.5) = 1.848469; 1 - 0.08u + 0.04u² = 0.988796."""
    smile = Smile(skew=-0.08, curvature=0.04, bound=4.0)
    u = 4 * math.tanh(0.5)
    assert smile.at(2.0) == pytest.approx(1 - 0.08 * u + 0.04 * u * u)
    assert smile.at(2.0) == pytest.approx(0.988796, abs=1e-6)


def test_ratio_is_bounded_for_large_z() -> None:
    """|z| -> inf: u -> ±bound, so the ratio tends to 1 ∓ skew·bound + curvature·bound²."""
    smile = Smile(skew=-0.08, curvature=0.04, bound=4.0)
    assert smile.at(1e9) == pytest.approx(1 - 0.32 + 0.64)
    assert smile.at(-1e9) == pytest.approx(1 + 0.32 + 0.64)
    assert smile.at(math.inf) == pytest.approx(1.32)


def test_ratio_never_goes_below_the_floor() -> None:
    assert Smile(skew=1.0, curvature=0.0, bound=4.0).at(-10.0) == RATIO_FLOOR


def test_vectorised_and_scalar_ratio_agree() -> None:
    smile = Smile(skew=-0.1, curvature=0.05, bound=3.0)
    z = np.linspace(-8, 8, 33)
    np.testing.assert_allclose(smile.ratio(z), [smile.at(float(v)) for v in z])
