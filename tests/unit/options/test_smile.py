"""The smile in standardised moneyness z (SPEC 7.1)."""

from __future__ import annotations

import dataclasses
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


def test_the_floor_is_the_documented_0_2() -> None:
    """docs/OPTION_MODEL.md: ratio = max(1 + skew·u + curvature·u², 0.2). skew -1, z = 1:
    u = 4·tanh(0.25) = 0.979674, 1 - 0.979674 = 0.020326 < 0.2 -> 0.2 (the literal, not
    the module's constant, so a changed constant is seen)."""
    assert Smile(skew=-1.0).at(1.0) == 0.2
    assert RATIO_FLOOR == 0.2


def test_the_default_smile_is_flat() -> None:
    """skew 0 and curvature 0 by default: ratio 1 at every z, near or far."""
    smile = Smile()
    assert [smile.at(z) for z in (-6.0, -1.0, 0.0, 0.5, 3.0)] == [1.0] * 5


def test_the_default_bound_is_four() -> None:
    """skew 0.1, z = 8: u = 4·tanh(8/4) = 4 x 0.964028 = 3.856110, ratio 1.385611 (a bound
    of 3 would give 3·tanh(8/3) = 2.971 -> 1.2971; 5 gives 5·tanh(1.6) = 4.611 -> 1.4611)."""
    assert Smile(skew=0.1).at(8.0) == pytest.approx(1.0 + 0.1 * 4.0 * math.tanh(2.0))
    assert Smile(skew=0.1).at(8.0) == pytest.approx(1.385611, abs=1e-6)
    assert Smile().bound == 4.0


def test_the_ratio_of_one_z_is_a_python_float_and_of_many_an_array() -> None:
    """A scalar z gives a float (the per-quote path stores it); an array gives an array."""
    smile = Smile(skew=-0.08)
    assert type(smile.ratio(0.5)) is float
    assert isinstance(smile.ratio(np.array([0.5, 1.0])), np.ndarray)


@pytest.mark.parametrize("name", ["skew", "curvature", "bound"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_every_parameter_must_be_finite(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"smile {name} must be finite"):
        Smile(**{name: value})


@pytest.mark.parametrize("bound", [0.0, -0.5, -2.0])
def test_the_bound_must_be_positive(bound: float) -> None:
    """bound 0 would divide z by 0 in tanh(z / bound); a negative one flips the smile."""
    with pytest.raises(ValueError, match="smile bound must be > 0"):
        Smile(bound=bound)


def test_a_bound_below_one_is_allowed() -> None:
    """bound 0.5, skew 0.1, z = 0.5: u = 0.5·tanh(1) = 0.380797, ratio 1.0380797."""
    assert Smile(skew=0.1, bound=0.5).at(0.5) == pytest.approx(1.0 + 0.1 * 0.5 * math.tanh(1.0))
    assert Smile(skew=0.1, bound=0.5).at(0.5) == pytest.approx(1.0380797, abs=1e-7)


def test_a_smile_cannot_be_changed_once_made() -> None:
    """Calibrated once and shared by every quote: frozen, and hashable as a value."""
    smile = Smile(skew=-0.08)
    with pytest.raises(dataclasses.FrozenInstanceError):
        smile.skew = 0.0  # type: ignore[misc]
    assert hash(smile) == hash(Smile(skew=-0.08))
