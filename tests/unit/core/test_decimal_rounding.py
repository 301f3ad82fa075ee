"""The array twins of Python's ``round(x, n)`` and of ``round_to_cent`` give the same bits.

Independent method: Python itself. Every expectation is the scalar function (``round``,
``options.pricing.round_to_cent``) applied element by element; the comparison is on the
float64 bit patterns (``view(np.int64)``), so a -0.0 for a 0.0 or a last-bit slip fails.

The adversarial values are where a rounding method goes wrong:

* exact binary ties: ``odd / 2**(k+1)`` is exactly half a unit of ``10**-k`` only when the
  denominator is a power of two: ``odd / 8`` for cents (0.125 -> 0.12, half to even),
  ``odd / 1024`` for nanos (k = 9), ``odd / 2048`` for k = 10;
* decimal "ties" that are not binary ones, ``(m + 0.5) / 10**k`` (2.675 is 2.67499999...),
  and the doubles one and two ulps either side of them;
* signed zeros, values that round to zero from below (-0.001 -> -0.0), subnormals, tiny,
  values at the edge of the exact range (``2**50 / 10**k``) and of ``round_to_cent``'s
  integer route (1e6), huge values and NaN (handed to the scalar).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vwapcli.core.decimal_rounding import EXACT_PRODUCT_BELOW, round_decimal
from vwapcli.options.pricing import round_to_cent, round_to_cents

DIGITS = (0, 2, 9, 10)


def python_round(values: np.ndarray, ndigits: int) -> np.ndarray:
    return np.array([round(v, ndigits) for v in values.tolist()], dtype=np.float64)


def scalar_cents(values: np.ndarray) -> np.ndarray:
    return np.array([round_to_cent(v) for v in values.tolist()], dtype=np.float64)


def cents_domain(values: np.ndarray) -> np.ndarray:
    """The values ``round_to_cent`` answers: Decimal's 28 digits cannot quantize 1e26 or
    more to cents (it raises, and so does the twin, handing them to it)."""
    return values[~(np.abs(values) >= 1e25)]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal float64 bit patterns (NaN payloads are all numpy's default quiet NaN here)."""
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def neighbours(x: float, ulps: int = 2) -> list[float]:
    """``x`` and the doubles up to ``ulps`` steps either side of it, both signs."""
    out = [x]
    below = above = x
    for _ in range(ulps):
        below, above = math.nextafter(below, -math.inf), math.nextafter(above, math.inf)
        out += [below, above]
    return out + [-v for v in out]


@st.composite
def adversarial(draw: st.DrawFn, ndigits: int) -> float:
    """One float from the module docstring's families for ``10**-ndigits`` units."""
    kind = draw(st.sampled_from(["binary_tie", "decimal_tie", "any", "small", "edge", "integer"]))
    if kind == "binary_tie":
        x = draw(st.integers(0, 2**40)) * 2 + 1
        x = x / 2.0 ** (ndigits + 1)
    elif kind == "decimal_tie":
        x = (draw(st.integers(0, 10**12)) + 0.5) / 10.0**ndigits
    elif kind == "any":
        x = draw(st.floats(allow_nan=False, allow_infinity=False))
    elif kind == "small":
        x = draw(st.floats(min_value=0.0, max_value=10.0 ** (-ndigits), allow_subnormal=True))
    elif kind == "edge":
        x = draw(st.sampled_from([EXACT_PRODUCT_BELOW / 10.0**ndigits, 1e6, 0.25 / 10.0**ndigits, 0.0]))
    else:
        x = float(draw(st.integers(-(2**53), 2**53)))
    step = draw(st.integers(-2, 2))
    for _ in range(abs(step)):
        x = math.nextafter(x, math.copysign(math.inf, step))
    return -x if draw(st.booleans()) else x


@pytest.mark.parametrize("ndigits", DIGITS)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_round_decimal_gives_pythons_bits_for_adversarial_floats(ndigits: int, data: st.DataObject) -> None:
    values = np.array(data.draw(st.lists(adversarial(ndigits), min_size=1, max_size=40)), dtype=np.float64)
    assert same_bits(round_decimal(values, ndigits), python_round(values, ndigits))


@settings(max_examples=500, deadline=None)
@given(values=st.lists(st.one_of(adversarial(2), adversarial(9)), min_size=1, max_size=40))
def test_round_to_cents_gives_round_to_cents_bits_for_adversarial_floats(values: list[float]) -> None:
    array = cents_domain(np.array(values, dtype=np.float64))
    assert same_bits(round_to_cents(array), scalar_cents(array))


def test_hand_picked_ties_zeros_and_edges_give_the_scalar_bits() -> None:
    """By hand: 0.125 -> 0.12 and 0.375 -> 0.38 (binary ties, half to even); 2.675 -> 2.67
    (stored below the tie); -0.001 -> -0.0 (keeps the sign); round_to_cent rounds the
    decimal half a cent up instead: 0.125 -> 0.13, 2.675 -> 2.68, 0.105 -> 0.11."""
    picked = [0.125, 0.375, 2.675, -0.001, 0.105, 1 / 1024, 3 / 1024, 1 / 2048, 0.0, -0.0, 5e-324, -5e-324,
              1e-300, 0.5, 1.5, 2.5, -2.5, 999_999.995, 1e6, 1_000_000.004, 1e15, 1e300, 2.0**52 + 1.0]
    values = np.array([v for x in picked for v in neighbours(x)], dtype=np.float64)
    for ndigits in DIGITS:
        assert same_bits(round_decimal(values, ndigits), python_round(values, ndigits))
    values = cents_domain(values)
    assert same_bits(round_to_cents(values), scalar_cents(values))
    assert round_decimal(np.array([0.125, 0.375, 2.675, -0.001]), 2).tolist() == [0.12, 0.38, 2.67, -0.0]
    assert round_to_cents(np.array([0.125, 2.675, 0.105])).tolist() == [0.13, 2.68, 0.11]


def test_every_cent_and_nano_tie_and_its_neighbours_give_the_scalar_bits() -> None:
    """(m + 0.5) cents for m from -5,000 to 30,000 and (m + 0.5) nano-dollars around typical prices,
    each with the two doubles either side: where half-up and half-even part ways."""
    cents = (np.arange(-5_000, 30_000) + 0.5) / 100.0
    nanos = (np.arange(3_000_000_000, 3_000_030_000) + 0.5) / 1e9
    for ties in (cents, nanos):
        values = np.concatenate([ties, np.nextafter(ties, 0.0), np.nextafter(ties, np.inf), -ties])
        assert same_bits(round_to_cents(values), scalar_cents(values))
        for ndigits in (2, 9):
            assert same_bits(round_decimal(values, ndigits), python_round(values, ndigits))


def test_a_million_random_values_give_the_scalar_bits() -> None:
    """Prices, P&L-sized values, decimal-looking values with float noise and heavy tails."""
    rng = np.random.default_rng(17)
    n = 250_000
    values = np.concatenate([
        rng.uniform(-50.0, 50.0, n),
        rng.uniform(-1e5, 1e5, n),
        np.round(rng.uniform(-1e3, 1e3, n), 3) + rng.choice([-2e-12, -1e-12, 0.0, 1e-12], n),
        rng.standard_cauchy(n) * 1e3,
    ])
    assert same_bits(round_decimal(values, 2), python_round(values, 2))
    values = cents_domain(values)
    assert same_bits(round_to_cents(values), scalar_cents(values))


def test_non_finite_values_are_answered_by_the_scalar_functions() -> None:
    """NaN stays NaN; infinities round to themselves in Python; round_to_cent refuses them
    (Decimal cannot quantize an infinity, nor 1e300 to cents), and so does its twin."""
    values = np.array([np.nan, np.inf, -np.inf])
    assert same_bits(round_decimal(values, 2), python_round(values, 2))
    assert np.isnan(round_to_cents(np.array([np.nan]))).all()
    for refused in (np.inf, 1e300):
        with pytest.raises(ArithmeticError):
            round_to_cents(np.array([refused]))


def test_any_shape_is_kept_and_ndigits_outside_the_exact_powers_of_ten_is_refused() -> None:
    grid = np.array([[0.125, -2.675], [1e20, np.nan]])
    assert same_bits(round_decimal(grid, 2).ravel(), python_round(grid.ravel(), 2))
    assert round_to_cents(np.float64(0.105)).shape == ()
    with pytest.raises(ValueError, match="ndigits"):
        round_decimal(grid, 23)
