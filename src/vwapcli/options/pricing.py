"""Black-Scholes-Merton prices and Greeks with a continuous dividend yield (SPEC 7).

Everything here is a pure function of numbers. Prices are dollars per share of the
underlying (one option contract is 100 shares); vol and rates are annualised decimals
(0.20 = 20%); time is in years of 365 calendar days.

The formulas are written on the forward ``F = S·exp((r-q)T)`` and the discount factor
``D = exp(-rT)``, which is how QuantLib's ``blackFormula`` (our reference in the tests)
states them::

    call = D·(F·N(d1) - K·N(d2)),   put = D·(K·N(-d2) - F·N(-d1)),
    d1 = (ln(F/K) + sigma^2*T/2) / (sigma*sqrt(T)),  d2 = d1 - sigma*sqrt(T)
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from scipy.special import ndtr

from vwapcli.core.types import NS_PER_MINUTE, local_time_ns

MINUTES_PER_YEAR = 365 * 24 * 60  # 525_600: T counts calendar minutes (SPEC 7)
EXPIRY_CLOCK = dt.time(16, 0)  # T runs to 16:00 New York on the expiry date (SPEC 7)
_CENT = Decimal("0.01")

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
    minutes = (local_time_ns(expiry, EXPIRY_CLOCK) - now_ns) / NS_PER_MINUTE
    return max(minutes, 1.0) / MINUTES_PER_YEAR


def round_to_cent(value: float) -> float:
    """Dollars rounded to $0.01, half a cent rounded up (away from zero).

    Binary floats make ``round(0.105, 2)`` give 0.10 because 0.105 is stored as
    0.10499…; a trader reading "rounded to $0.01" expects 0.11. The value is first
    rounded to 1e-9 (far below any price tick) to strip that noise, then rounded half-up
    in decimal, so the result never depends on how a sum happened to be represented.
    """
    cleaned = Decimal(repr(round(float(value), 9)))
    return float(cleaned.quantize(_CENT, rounding=ROUND_HALF_UP))


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
