"""pairwise_sum adds in numpy's order (issue 17). Independent method: numpy's own sum and
reduceat on the same values."""

from __future__ import annotations

import functools
import operator

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vwapcli.core.numpy_sums import pairwise_sum


def test_a_sum_in_numpys_order_differs_from_left_to_right_where_numpy_does() -> None:
    """1e16 then fifteen 1s. Left to right each 1e16 + 1 is a tie on the 2-ulp grid and
    rounds back to 1e16 (to even): 1e16. numpy's eight partial sums: r0 = 1e16 + 1 = 1e16,
    r1..r7 = 1 + 1 = 2; ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)) = (1e16 + 6) + 8."""
    values = np.array([1e16] + [1.0] * 15)
    assert functools.reduce(operator.add, values.tolist(), 0.0) == 1e16
    assert float(values.sum()) == 1e16 + 14
    assert 0.0 + pairwise_sum(values, 0, 16) == 1e16 + 14


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 600), seed=st.integers(0, 2**32 - 1), offset=st.integers(0, 9))
def test_pairwise_sum_is_numpys_sum_and_reduceat_bit_for_bit(n: int, seed: int, offset: int) -> None:
    """Lengths across the plain loop (< 8), the blocked loop (<= 128) and the halving above."""
    rng = np.random.default_rng(seed)
    values = rng.random(n + offset) * 10.0 ** rng.integers(-8, 17, n + offset)
    assert 0.0 + pairwise_sum(values, offset, n) == values[offset:].sum()
    if n >= 1:
        reduceat = np.add.reduceat(values[offset:], [0])[0]
        assert values[offset] + pairwise_sum(values, offset + 1, n - 1) == reduceat or n == 1
