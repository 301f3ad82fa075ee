"""Python's ``round(x, ndigits)`` on float64 arrays, bit for bit (issue 17).

Why: money is rounded to cents with Python's ``round`` (``engine.fills.trade_pnl``) and
``options.pricing.round_to_cent`` (itself ``round(x, 9)`` then integers). Model risk
rounds about 100k prices a run that way, a Python call each; numpy's ``np.round`` is
*not* a twin (it scales by ``10**n``, rounds, and divides, so ``np.round(2.675, 2)`` is
2.68 where Python says 2.67). :func:`round_decimal` returns Python's exact answer for
every finite input with ``|x|·10**ndigits < 2**50``, on arrays, and asks Python itself
for the rest (NaN, infinities, huge values).

What Python computes. CPython's ``float.__round__`` (``double_round``) writes ``x``'s
exact binary value rounded to ``ndigits`` decimals, half to even (``_Py_dg_dtoa`` mode 3),
and reads that decimal back with a correctly rounded ``strtod``. So ``round(x, k)`` is
the double nearest (ties to even) to ``N / 10**k``, where ``N`` is the exact product
``X = |x|·10**k`` rounded half to even, signed like ``x`` (``round(-0.001, 2)`` is -0.0:
the decimal string keeps the minus sign).

Why the array method gives the same bits (``p`` ranges over ``fl(X) < 2**50``):

1. ``p = fl(|x|·10**k)`` and its error ``e`` (Dekker's TwoProduct with Veltkamp's split,
   no FMA: Ogita, Rump and Oishi 2005, Algorithm 3.3) satisfy ``p + e = X`` exactly when
   no partial product underflows, which holds for ``p > 1/4`` (then ``|x| > 2.5e-23``);
   ``|e| <= ulp(p)/2 <= 2**-4`` because ``p < 2**50``.
2. ``p <= 1/4``: ``X < 1/4 + ulp`` is below one half, so ``N = 0`` (no use of ``e``).
3. ``f = floor(p)``; ``r = p - f`` is exact (Sterbenz's lemma for ``p >= 1``, ``f = 0``
   below). If ``r >= 1/4``, ``d = r - 1/2`` is exact (Sterbenz again) and
   ``s = fl(d + e)`` has the sign of the exact ``X - (f + 1/2)``: rounding to nearest is
   monotone and a sum of two doubles rounds to zero only when it is zero (gradual
   underflow). If ``r < 1/4``, ``X - (f + 1/2) <= -1/4 + 2**-4 < 0``, and so is the
   computed ``s`` (monotone: ``fl(r - 1/2) <= -1/4``, then ``fl(d + e) <= fl(-3/16) < 0``).
4. ``X`` lies in ``[f - 2**-4, f + 1 + 2**-4)``, so its half-even rounding is ``f`` when
   ``s < 0``, ``f + 1`` when ``s > 0``, and the even one of the two when ``s == 0``.
5. ``N <= 2**50`` and ``10**k`` (``k <= 22``) are exact doubles; IEEE division returns
   the double nearest ``N / 10**k``, ties to even: ``strtod``'s answer for the same
   rational. ``copysign`` gives ``x``'s sign, -0.0 included.

The tests compare bits against ``round`` over adversarial floats (binary ties, one ulp
either side of half a unit, signed zeros, tiny and huge values) and a million random ones.
"""

from __future__ import annotations

import numpy as np

#: Veltkamp's splitter for binary64: 2**27 + 1 cuts a double into two 26-bit halves.
_SPLITTER = 134217729.0
#: The exact method's range: ``|x|·10**ndigits`` below this (step 1's error bound).
EXACT_PRODUCT_BELOW = 2.0**50
_MAX_DIGITS = 22  # 10**22 is the largest power of ten a double holds exactly


def _split(a: np.ndarray | float) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Veltkamp: ``a = high + low`` exactly, each half with at most 26 significant bits."""
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


def round_decimal(values: np.ndarray, ndigits: int) -> np.ndarray:
    """``round(x, ndigits)`` of every element as Python computes it, as float64 bits.

    >>> round_decimal(np.array([2.675, 0.125, 0.135, -0.001]), 2).tolist()
    [2.67, 0.12, 0.14, -0.0]
    """
    if not 0 <= ndigits <= _MAX_DIGITS:
        raise ValueError(f"ndigits must be in [0, {_MAX_DIGITS}], got {ndigits}")
    x = np.asarray(values, dtype=np.float64)
    scale = float(10**ndigits)
    magnitude = np.abs(x)
    with np.errstate(over="ignore", invalid="ignore"):
        exact = magnitude * scale < EXACT_PRODUCT_BELOW  # False for NaN and infinities
    a = np.where(exact, magnitude, 0.0)
    p = a * scale
    # TwoProduct (step 1): e = (a·scale) - p exactly.
    a_high, a_low = _split(a)
    s_high, s_low = _split(scale)
    e = a_low * s_low - (((p - a_high * s_high) - a_low * s_high) - a_high * s_low)
    floor = np.floor(p)
    s = ((p - floor) - 0.5) + e  # step 3: the sign of X - (floor + 1/2)
    up = (s > 0.0) | ((s == 0.0) & (np.fmod(floor, 2.0) == 1.0))
    rounded = np.copysign(np.where(up & (p > 0.25), floor + 1.0, floor) / scale, x)
    flat, x_flat = rounded.reshape(-1), x.reshape(-1)  # views: any shape, 0-d too
    for row in np.flatnonzero(~exact).tolist():
        flat[row] = round(float(x_flat[row]), ndigits)
    return rounded
