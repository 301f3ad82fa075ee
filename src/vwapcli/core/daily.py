"""Daily RTH bars and the daily ATR that sizes VWAP bands (SPEC 5, "Daily ATR for session D").

Daily bars are built from the intraday RTH bars already assigned to sessions, not from a
vendor's daily file, so the ATR sees exactly the prices the strategy trades on. Sums run
sequentially in session order (numba loops, not numpy's pairwise sum) so an independent
implementation that adds left to right gets the same float64 bits.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from vwapcli.core.types import DailyBars, SessionedBars

ATR_METHODS = ("sma", "wilder")


@njit(cache=True)
def _daily_ohlc_kernel(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    session_start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One pass over the flat bar arrays: O/H/L/C and TR per session that has bars.

    Returns (present session indices, O, H, L, C, TR). Sessions without bars are left out,
    so "the previous session" for TR is the previous session present in the data.
    """
    n_sessions = session_start.shape[0] - 1
    present = np.empty(n_sessions, dtype=np.int64)
    o = np.empty(n_sessions, dtype=np.float64)
    h = np.empty(n_sessions, dtype=np.float64)
    lo = np.empty(n_sessions, dtype=np.float64)
    c = np.empty(n_sessions, dtype=np.float64)
    tr = np.empty(n_sessions, dtype=np.float64)
    k = 0
    for i in range(n_sessions):
        a = session_start[i]
        b = session_start[i + 1]
        if b <= a:
            continue
        # SPEC 5: O = first open, H = max high, L = min low, C = last close of the session's bars.
        day_high = high[a]
        day_low = low[a]
        for j in range(a + 1, b):
            if high[j] > day_high:
                day_high = high[j]
            if low[j] < day_low:
                day_low = low[j]
        present[k] = i
        o[k] = open_[a]
        h[k] = day_high
        lo[k] = day_low
        c[k] = close[b - 1]
        # SPEC 5: TR = max(H-L, |H-C_prev|, |L-C_prev|); H-L for the first session in the data.
        true_range = day_high - day_low
        if k > 0:
            up = abs(day_high - c[k - 1])
            down = abs(day_low - c[k - 1])
            if up > true_range:
                true_range = up
            if down > true_range:
                true_range = down
        tr[k] = true_range
        k += 1
    return present[:k], o[:k], h[:k], lo[:k], c[:k], tr[:k]


def present_sessions(sessioned: SessionedBars) -> np.ndarray:
    """Indices of the sessions that hold at least one bar (the rows of ``daily_bars``)."""
    counts = np.diff(np.asarray(sessioned.session_start, dtype=np.int64))
    return np.flatnonzero(counts > 0).astype(np.int64)


def daily_bars(sessioned: SessionedBars) -> DailyBars:
    """Daily RTH bars and true range, one row per session present in ``sessioned``.

    Why from intraday bars: SPEC 3.1 computes ATR from the RTH bars of the intraday store,
    so extended-hours prints and vendor daily adjustments never move the bands.
    """
    present, o, h, lo, c, tr = _daily_ohlc_kernel(
        np.ascontiguousarray(sessioned.open, dtype=np.float64),
        np.ascontiguousarray(sessioned.high, dtype=np.float64),
        np.ascontiguousarray(sessioned.low, dtype=np.float64),
        np.ascontiguousarray(sessioned.close, dtype=np.float64),
        np.ascontiguousarray(sessioned.session_start, dtype=np.int64),
    )
    dates = np.asarray(sessioned.session_date).astype("datetime64[D]")[present]
    return DailyBars(session_date=dates, open=o, high=h, low=lo, close=c, true_range=tr)


@njit(cache=True)
def sma_atr(true_range: np.ndarray, period: int) -> float:
    """Mean of the last ``period`` true ranges, summed left to right; NaN if too few."""
    d = true_range.shape[0]
    if period < 1 or d < period:
        return math.nan
    total = 0.0
    for k in range(d - period, d):
        total += true_range[k]
    return total / period


@njit(cache=True)
def wilder_atr(true_range: np.ndarray, period: int) -> float:
    """Wilder's recursive ATR seeded by the sma of the first ``period`` true ranges.

    ATR after ``period`` sessions is the sma of TR[0..period-1]; each later session d
    gives ATR_d = (ATR_{d-1} * (period - 1) + TR[d-1]) / period.
    """
    d = true_range.shape[0]
    if period < 1 or d < period:
        return math.nan
    total = 0.0
    for k in range(period):
        total += true_range[k]
    atr = total / period
    for k in range(period, d):
        atr = (atr * (period - 1) + true_range[k]) / period
    return atr


@njit(cache=True)
def _atrs_before_kernel(true_range: np.ndarray, rows: np.ndarray, period: int, wilder: bool) -> np.ndarray:
    # The very kernels daily_atr calls, on the same prefixes: the same float64 bits.
    out = np.empty(rows.shape[0], dtype=np.float64)
    for j in range(rows.shape[0]):
        history = true_range[: rows[j]]
        out[j] = wilder_atr(history, period) if wilder else sma_atr(history, period)
    return out


def atrs_before(daily: DailyBars, rows: np.ndarray, period: int, method: str) -> np.ndarray:
    """``daily_atr(daily.before(k), period, method)`` for each ``k`` in ``rows``, in one call.

    Why: a batch run needs one ATR per session; this is that many ``daily_atr`` calls
    without a Python round trip each.
    """
    if method not in ATR_METHODS:
        raise ValueError(f"unknown ATR method {method!r}; known: {', '.join(ATR_METHODS)}")
    return _atrs_before_kernel(
        np.ascontiguousarray(daily.true_range, dtype=np.float64),
        np.ascontiguousarray(rows, dtype=np.int64), int(period), method == "wilder",
    )


def daily_atr(daily: DailyBars, period: int, method: str) -> float:
    """ATR for the session right after ``daily`` (the history strictly before it).

    NaN when the history holds fewer than ``period`` sessions: SPEC 5 says no signals then.
    """
    true_range = np.ascontiguousarray(daily.true_range, dtype=np.float64)
    if method == "sma":
        return float(sma_atr(true_range, int(period)))
    if method == "wilder":
        return float(wilder_atr(true_range, int(period)))
    raise ValueError(f"unknown ATR method {method!r}; known: {', '.join(ATR_METHODS)}")
