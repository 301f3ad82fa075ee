"""Black-Scholes-Merton prices and Greeks with a continuous dividend yield (SPEC 7).

Everything here is a pure function of numbers. Prices are dollars per share of the
underlying (one option contract is 100 shares); vol and rates are annualised decimals
(0.20 = 20%); time is in years of 365 calendar days.

The formulas are written on the forward ``F = S·exp((r-q)T)`` and the discount factor
``D = exp(-rT)``, which is how QuantLib's ``blackFormula`` (our reference in the tests)
states them::

    call = D·(F·N(d1) - K·N(d2)),   put = D·(K·N(-d2) - F·N(-d1)),
    d1 = (ln(F/K) + sigma^2*T/2) / (sigma*sqrt(T)),  d2 = d1 - sigma*sqrt(T)

Two implementations, one set of numbers: ``bs_price`` broadcasts over numpy arrays
(scipy's ``ndtr``, imported on first use), ``bs_price_scalar`` prices one option in plain
Python for the engine's per-quote path (a numpy call on 0-d arrays costs ~26 µs, this
~3 µs). They agree bit for bit: the scalar path takes ``exp``/``log`` from numpy (whose
SIMD kernels round differently from libm on some CPUs) and evaluates the normal CDF with
the same cephes rational approximations scipy's ``ndtr`` uses, in the same order.
``math.erfc`` would be simpler but differs from ``ndtr`` in the last bit for about a
third of inputs, and those bits reach the unrounded spread mids in trades.csv.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import numpy as np

from vwapcli.core.decimal_rounding import round_decimal
from vwapcli.core.types import NS_PER_MINUTE, local_time_ns

MINUTES_PER_YEAR = 365 * 24 * 60  # 525_600: T counts calendar minutes (SPEC 7)
EXPIRY_CLOCK = dt.time(16, 0)  # T runs to 16:00 New York on the expiry date (SPEC 7)
_CENT = Decimal("0.01")
# round_to_cent's integer path is exact below this magnitude (see round_to_cent).
_EXACT_CENTS_BELOW = 1e6
_NANOS_PER_CENT = 10_000_000

ArrayLike = Any  # float | np.ndarray (kept loose: numpy's own stubs are looser still)


def year_fraction(ts_ns: int, expiry: dt.date) -> float:
    """Years from ``ts_ns`` to 16:00 New York on ``expiry``, floored at one minute.

    SPEC 7: ``T = calendar minutes to 16:00 ET on the expiry date / (365·24·60)``. The
    minutes are elapsed real time (the UTC difference), so a weekend that crosses a DST
    change counts 71 or 73 wall-clock hours correctly. Fractions of a minute are kept;
    the one-minute floor stops a 0DTE option from collapsing to intrinsic at 15:59:30
    or after the close. Early-close days still count to 16:00, as the SPEC states.
    """
    # A tz-aware pandas Timestamp is accepted too (its ``.value`` is UTC nanoseconds).
    now_ns = int(getattr(ts_ns, "value", ts_ns))
    minutes = (expiry_close_ns(expiry) - now_ns) / NS_PER_MINUTE
    return max(minutes, 1.0) / MINUTES_PER_YEAR


@lru_cache(maxsize=4096)
def expiry_close_ns(expiry: dt.date) -> int:
    """UTC nanoseconds of 16:00 New York on ``expiry`` (cached: a run has few expiries)."""
    return local_time_ns(expiry, EXPIRY_CLOCK)


def round_to_cent(value: float) -> float:
    """Dollars rounded to $0.01, half a cent rounded up (away from zero).

    Binary floats make ``round(0.105, 2)`` give 0.10 because 0.105 is stored as
    0.10499…; a trader reading "rounded to $0.01" expects 0.11. The value is first
    rounded to 1e-9 (far below any price tick) to strip that noise, then rounded half-up
    in decimal, so the result never depends on how a sum happened to be represented.

    The decimal arithmetic is done on integers (nano-dollars) for speed; it is the same
    rounding as ``Decimal(repr(round(value, 9))).quantize(0.01, ROUND_HALF_UP)``: below
    $1e6 a double's spacing is under 1.2e-10, so ``round(value, 9) * 1e9`` lands within
    0.13 of the exact integer and ``round`` recovers it; int / 100 is correctly rounded.
    Larger or non-finite values take the Decimal route itself.
    """
    cleaned = round(float(value), 9)
    if not -_EXACT_CENTS_BELOW < cleaned < _EXACT_CENTS_BELOW:
        return _round_to_cent_decimal(cleaned)
    nanos = round(cleaned * 1e9)
    if nanos == 0:
        return math.copysign(0.0, cleaned)  # Decimal keeps the sign of zero: -0.0 stays -0.0
    cents, remainder = divmod(abs(nanos), _NANOS_PER_CENT)
    if remainder >= _NANOS_PER_CENT // 2:
        cents += 1  # half a cent and more: away from zero
    return cents / 100 if nanos > 0 else -(cents / 100)


def round_to_cents(values: np.ndarray) -> np.ndarray:
    """:func:`round_to_cent` of every element, the very same float64 bits, on arrays.

    Model risk fills ~100k prices a run, and a Python call each was a sizeable part of it.
    Step for step the scalar's: ``round(value, 9)`` by its exact array twin
    (``core.decimal_rounding.round_decimal``), nano-dollars by ``np.rint`` (half to even,
    as Python's ``round`` to an integer), half a cent away from zero in integers, and
    ``cents / 100`` as one correctly rounded division (int64 -> float64 is exact below
    2**53, as Python's own int / int). The sign is the value's: the scalar's result is
    ``±(cents / 100)`` with the sign of ``round(value, 9)``, which is the value's, zero
    included. Non-finite values and those the scalar sends to its Decimal route
    (``|round(value, 9)| >= 1e6``) are handed to :func:`round_to_cent` itself.

    >>> round_to_cents(np.array([0.105, -0.105, 2.675, -0.004])).tolist()
    [0.11, -0.11, 2.68, -0.0]
    """
    x = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(x)
    with np.errstate(invalid="ignore"):
        inside = magnitude < _EXACT_CENTS_BELOW  # False for NaN and infinities
    cleaned = round_decimal(np.where(inside, magnitude, 0.0), 9)
    inside &= cleaned < _EXACT_CENTS_BELOW
    nanos = np.rint(np.where(inside, cleaned, 0.0) * 1e9).astype(np.int64)
    cents = nanos // _NANOS_PER_CENT + (nanos % _NANOS_PER_CENT >= _NANOS_PER_CENT // 2)
    rounded = np.copysign(cents / 100, x)
    flat, x_flat = rounded.reshape(-1), x.reshape(-1)  # views: any shape, 0-d too
    for row in np.flatnonzero(~inside.reshape(-1)).tolist():
        flat[row] = round_to_cent(float(x_flat[row]))
    return rounded


def _round_to_cent_decimal(cleaned: float) -> float:
    """The reference rounding in decimal (also the route for huge and non-finite values)."""
    return float(Decimal(repr(cleaned)).quantize(_CENT, rounding=ROUND_HALF_UP))


def _is_call(right: ArrayLike) -> np.ndarray:
    """Boolean mask from "C"/"P" (scalar or array); anything else is a programming error."""
    rights = np.asarray(right)
    is_call = rights == "C"
    if not np.all(is_call | (rights == "P")):
        bad = sorted({str(r) for r in np.atleast_1d(rights) if r not in ("C", "P")})
        raise ValueError(f"option right must be 'C' or 'P', got {', '.join(bad)}")
    return is_call


def _as_result(values: np.ndarray) -> ArrayLike:
    """A Python float for all-scalar inputs, else the array."""
    return float(values) if values.ndim == 0 else values


def _terms(
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
) -> tuple[np.ndarray, ...]:
    """Forward, discount, std-dev and d1/d2 with zero std-dev kept finite."""
    s = np.asarray(spot, dtype=np.float64)
    k = np.asarray(strike, dtype=np.float64)
    t = np.asarray(t_years, dtype=np.float64)
    r = np.asarray(rate, dtype=np.float64)
    q = np.asarray(div_yield, dtype=np.float64)
    v = np.asarray(vol, dtype=np.float64)
    forward = s * np.exp((r - q) * t)
    discount = np.exp(-r * t)
    std_dev = v * np.sqrt(np.maximum(t, 0.0))
    live = std_dev > 0.0
    safe_std = np.where(live, std_dev, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = np.log(forward / k) / safe_std + 0.5 * safe_std
    d2 = d1 - safe_std
    return s, k, t, q, forward, discount, std_dev, live, d1, d2


def bs_price(
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    right: ArrayLike,
) -> ArrayLike:
    """BSM price per share of a European call ("C") or put ("P"); broadcasts over arrays.

    With zero std-dev (vol 0 or T 0) the price is the discounted forward intrinsic value.

    >>> round(bs_price(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, "C"), 4)
    7.9656
    """
    from scipy.special import ndtr  # heavy (~0.14 s): only where arrays are priced

    is_call = _is_call(right)
    _, k, _, _, forward, discount, _, live, d1, d2 = _terms(
        spot, strike, t_years, rate, div_yield, vol
    )
    call = discount * (forward * ndtr(d1) - k * ndtr(d2))
    put = discount * (k * ndtr(-d2) - forward * ndtr(-d1))
    call = np.where(live, call, discount * np.maximum(forward - k, 0.0))
    put = np.where(live, put, discount * np.maximum(k - forward, 0.0))
    return _as_result(np.where(is_call, call, put))


def bs_delta(
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    right: ArrayLike,
) -> ArrayLike:
    """dPrice/dSpot: ``e^{-qT}·N(d1)`` for calls, ``e^{-qT}·(N(d1) - 1)`` for puts."""
    from scipy.special import ndtr

    is_call = _is_call(right)
    _, k, t, q, forward, _, _, live, d1, _ = _terms(spot, strike, t_years, rate, div_yield, vol)
    carry = np.exp(-q * t)
    n_d1 = np.where(live, ndtr(d1), (forward > k).astype(np.float64))
    return _as_result(np.where(is_call, carry * n_d1, carry * (n_d1 - 1.0)))


def bs_vega(
    spot: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
) -> ArrayLike:
    """dPrice/dVol per 1.00 of vol (same for calls and puts): ``S·e^{-qT}·phi(d1)·sqrt(T)``."""
    s, _, t, q, _, _, _, live, d1, _ = _terms(spot, strike, t_years, rate, div_yield, vol)
    density = np.exp(-0.5 * d1 * d1) / np.sqrt(2.0 * np.pi)
    vega = s * np.exp(-q * t) * density * np.sqrt(np.maximum(t, 0.0))
    return _as_result(np.where(live, vega, 0.0))


# --------------------------------------------------------------------------- scalar path
# Coefficients of the cephes rational approximations behind scipy.special.ndtr
# (Moshier's Cephes Math Library, erf.c / ndtr.c, as shipped in scipy): erfc on [1, 8)
# and [8, inf), erf on [0, 1]. Mathematical constants, kept exactly as published.
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)  # leading 1.0 implied
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_MAX_LOG = 7.09782712893383996843e2  # exp() underflows below -_MAX_LOG
_SQRT1_2 = 0.70710678118654752440


def _horner(x: float, coefficients: tuple[float, ...], leading_one: bool) -> float:
    """Polynomial in x, highest power first (cephes polevl / p1evl), same operation order."""
    if leading_one:
        total = x + coefficients[0]
        rest = coefficients[1:]
    else:
        total = coefficients[0]
        rest = coefficients[1:]
    for c in rest:
        total = total * x + c
    return total


def _erf(x: float) -> float:
    if x < 0.0:
        return -_erf(-x)
    if x > 1.0:
        return 1.0 - _erfc(x)
    z = x * x
    return x * _horner(z, _ERF_T, False) / _horner(z, _ERF_U, True)


def _erfc(a: float) -> float:
    x = -a if a < 0.0 else a
    if x < 1.0:
        return 1.0 - _erf(a)
    z = -a * a
    if z < -_MAX_LOG:
        return 2.0 if a < 0 else 0.0
    z = math.exp(z)  # cephes calls the C library's exp, as math.exp does
    if x < 8.0:
        y = (z * _horner(x, _ERFC_P, False)) / _horner(x, _ERFC_Q, True)
    else:
        y = (z * _horner(x, _ERFC_R, False)) / _horner(x, _ERFC_S, True)
    if a < 0:
        y = 2.0 - y
    if y == 0.0:
        return 2.0 if a < 0 else 0.0
    return y


def normal_cdf(a: float) -> float:
    """Standard normal CDF of one float, equal bit for bit to ``scipy.special.ndtr``."""
    if a != a:
        return math.nan
    x = a * _SQRT1_2
    z = abs(x)
    if z < _SQRT1_2:
        return 0.5 + 0.5 * _erf(x)
    y = 0.5 * _erfc(z)
    return 1.0 - y if x > 0 else y


_np_exp = np.exp
_np_log = np.log


def bs_price_scalar(
    spot: float, strike: float, t_years: float, rate: float, div_yield: float, vol: float, right: str
) -> float:
    """``bs_price`` for one option, in plain Python floats; the same number to the last bit.

    The operations mirror ``_terms`` and ``bs_price`` one for one (IEEE arithmetic and
    ``sqrt`` are exact-rounded everywhere; ``exp``/``log`` come from numpy like there).

    >>> round(bs_price_scalar(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, "C"), 4)
    7.9656
    """
    if right != "C" and right != "P":
        raise ValueError(f"option right must be 'C' or 'P', got {right}")
    spot, strike, t_years = float(spot), float(strike), float(t_years)
    rate, div_yield, vol = float(rate), float(div_yield), float(vol)
    forward = spot * float(_np_exp((rate - div_yield) * t_years))
    discount = float(_np_exp(-rate * t_years))
    std_dev = vol * math.sqrt(t_years if t_years > 0.0 else 0.0)
    if not std_dev > 0.0:
        # No time value: the discounted forward intrinsic value (as bs_price).
        intrinsic = forward - strike if right == "C" else strike - forward
        return discount * (intrinsic if intrinsic > 0.0 else 0.0)
    d1 = float(_np_log(forward / strike)) / std_dev + 0.5 * std_dev
    d2 = d1 - std_dev
    if right == "C":
        return discount * (forward * normal_cdf(d1) - strike * normal_cdf(d2))
    return discount * (strike * normal_cdf(-d2) - forward * normal_cdf(-d1))
