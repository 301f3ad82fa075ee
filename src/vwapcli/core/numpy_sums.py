"""Sums in compiled loops that keep numpy's own float64 bits (issue 17).

numpy adds a float64 reduction pairwise, not left to right: ``a.sum()`` is ``0.0 +
pairwise(a)`` and ``np.add.reduceat(a, starts)`` is ``a[s] + pairwise(a[s+1:e])`` per
segment. A numba kernel that replaces a numpy loop over sessions must add in that order,
or its numbers differ in the last bits and trade logs stop being byte-identical.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PAIRWISE_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit(cache=True)
def pairwise_sum(values: np.ndarray, lo: int | np.int64, n: int) -> float:
    """numpy's ``pairwise_sum`` of ``values[lo:lo+n]``: a plain loop below 8 values, eight
    interleaved partial sums up to 128, and the two halves (cut at a multiple of 8) above.

    >>> float(pairwise_sum(np.array([1e16, 1.0, 1.0]), 1, 2))  # the 1.0s first: 1 + 1
    2.0
    """
    if n < 8:
        total = 0.0
        for k in range(lo, lo + n):
            total += values[k]
        return total
    if n <= PAIRWISE_BLOCK:
        r0, r1, r2, r3 = values[lo], values[lo + 1], values[lo + 2], values[lo + 3]
        r4, r5, r6, r7 = values[lo + 4], values[lo + 5], values[lo + 6], values[lo + 7]
        k = 8
        while k < n - n % 8:
            r0 += values[lo + k]
            r1 += values[lo + k + 1]
            r2 += values[lo + k + 2]
            r3 += values[lo + k + 3]
            r4 += values[lo + k + 4]
            r5 += values[lo + k + 5]
            r6 += values[lo + k + 6]
            r7 += values[lo + k + 7]
            k += 8
        total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while k < n:
            total += values[lo + k]
            k += 1
        return total
    half = n // 2
    half -= half % 8
    return pairwise_sum(values, lo, half) + pairwise_sum(values, lo + half, n - half)
