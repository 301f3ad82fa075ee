"""Vol level and intraday profile from the store's own bars, causally (SPEC 7.1).

Everything here is a function of sessions strictly before the asked session D, except the
opening gap ``ln(open_D / close_prev)``, which is known from D's opening print on (a
backtest prices options at bar closes, after the first bar of the day has closed).

* Returns are taken on a 5-minute grid anchored at the open (1-minute stores are resampled
  first, SPEC 3.2), so 1m and 5m stores give the same numbers and the calibration carries
  over: 1-minute squared returns add microstructure noise, and the literature's standard
  realized-variance grid is 5 minutes.
* ``rv`` = sum of squared 5-minute log returns of the session, the first one from the
  session's open to its first close; a shortened (early-close) session's RV is divided by
  the built-in profile's share of such a session so it counts as a full session; sessions with less than 80% of their
  5-minute buckets are left out of forecasts.
* The forecast of the next session's open-to-close variance is HAR-style: the equal-weight
  mean of the last session's RV, the 5-session mean and the 22-session mean (Corsi 2009's
  horizons; fewer sessions when the store is short). bench/option_model_validation.py
  compares it with EWMA: HAR had the best QLIKE against next-day RV on every real bar set
  (SPY/QQQ 2025-26, 206 and 54 sessions) and the smallest spread of log(implied / forecast)
  against the 0DTE quotes; see docs/OPTION_MODEL.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numba import njit

from vwapcli.core.numpy_sums import pairwise_sum
from vwapcli.core.types import NS_PER_MINUTE, SessionedBars
from vwapcli.data.sessions import resample_sessioned
from vwapcli.options.variance_clock import (
    BUCKET_MINUTES,
    N_BUCKETS,
    REGULAR_SESSION_MINUTES,
    IntradayProfile,
)

BUCKET_NS = BUCKET_MINUTES * NS_PER_MINUTE
MIN_COVERAGE = 0.8  # a session needs 80% of its 5-minute buckets to count
HAR_LAGS = (1, 5, 22)
# Profiles kept per forecaster (6 KB each). A backtest asks for them in time order (the
# walk, a worker pricing one symbol, model risk trade by trade), so the last weeks' days
# are all it reuses; keeping every day cost ~16 MB per symbol-decade, most of a streamed
# run's memory per symbol (SPEC 13).
PROFILE_CACHE_DAYS = 32
ForecastMethod = Literal["har", "ewma"]


@dataclass(frozen=True)
class SessionHistory:
    """Per-session realized statistics of one symbol's bars, on the 5-minute grid.

    ``bucket_shares[i]`` is session i's squared returns per 5-minute bucket divided by their
    sum (NaN rows for sessions that are not regular 390-minute sessions with full coverage):
    the raw material of the intraday profile, each session weighted alike whatever its vol.
    """

    session_date: np.ndarray  # datetime64[D]
    rv: np.ndarray  # open-to-close realized variance (full-session equivalent), NaN if thin
    raw_rv: np.ndarray  # the session's own sum of squared returns
    gap: np.ndarray  # ln(open / previous close in the data); NaN for the first session
    open_price: np.ndarray
    close_price: np.ndarray
    session_minutes: np.ndarray
    bucket_shares: np.ndarray  # (n_sessions, 78)

    @property
    def n_sessions(self) -> int:
        return int(self.session_date.shape[0])

    def prior_count(self, day: dt.date) -> int:
        """How many sessions are strictly before ``day`` (the history D may use)."""
        return int(np.searchsorted(self.session_date, np.datetime64(day, "D"), side="left"))

    def index_of(self, day: dt.date) -> int | None:
        i = self.prior_count(day)
        if i < self.n_sessions and self.session_date[i] == np.datetime64(day, "D"):
            return i
        return None

    @classmethod
    def from_bars(cls, bars: SessionedBars) -> SessionHistory:
        """Realized statistics per session; 1-minute bars are resampled to 5 minutes first.

        Vectorised over sessions, with one compiled pass for the per-session sums (issue 17:
        the per-session Python loop was half of a backtest's per-symbol phase). Same float64
        bits as a loop over sessions with numpy: the same ``np.log`` on the same prices,
        each session's sum in numpy's own (pairwise) order, the shares added in bar order.
        """
        if bars.bar_ns != BUCKET_NS:
            if BUCKET_NS % bars.bar_ns:
                raise ValueError(f"cannot put {bars.bar_ns} ns bars on the 5-minute grid")
            bars = resample_sessioned(bars, BUCKET_NS)
        n = bars.n_sessions
        session_start = np.asarray(bars.session_start, dtype=np.int64)
        counts = np.diff(session_start)
        present = counts > 0
        first, last = session_start[:-1][present], session_start[1:][present] - 1
        open_price = np.full(n, np.nan)
        close_price = np.full(n, np.nan)
        open_price[present] = bars.open[first]
        close_price[present] = bars.close[last]
        # Log returns on the 5-minute grid, each session's first one from its open.
        log_close = np.log(bars.close)
        log_return = np.empty_like(log_close)
        log_return[1:] = log_close[1:] - log_close[:-1]
        log_return[first] = log_close[first] - np.log(bars.open[first])
        squared = log_return**2

        gap = np.full(n, np.nan)
        follows = np.flatnonzero(present[1:] & np.isfinite(close_price[:-1])) + 1
        # math.log (libm), not np.log: numpy's SIMD log may differ from it in the last bit.
        gap[follows] = [math.log(ratio) for ratio in (open_price[follows] / close_price[follows - 1]).tolist()]

        minutes = (bars.session_close_ns - bars.session_open_ns) / NS_PER_MINUTE
        covered = present & ~(counts < MIN_COVERAGE * (minutes / BUCKET_MINUTES))
        builtin = IntradayProfile.builtin()
        total = np.ones(n)
        for length in np.unique(minutes[covered]).tolist():
            total[covered & (minutes == length)] = builtin.session_total(float(length))
        raw_rv, shares = _session_sums(
            np.ascontiguousarray(squared, dtype=np.float64),
            np.ascontiguousarray(bars.ts, dtype=np.int64),
            session_start,
            np.ascontiguousarray(bars.session_open_ns, dtype=np.int64),
            covered & (minutes == REGULAR_SESSION_MINUTES),
            BUCKET_NS,
            N_BUCKETS,
        )
        rv = np.where(covered, raw_rv / total, np.nan)
        return cls(
            session_date=np.asarray(bars.session_date, dtype="datetime64[D]"),
            rv=rv,
            raw_rv=raw_rv,
            gap=gap,
            open_price=open_price,
            close_price=close_price,
            session_minutes=minutes,
            bucket_shares=shares,
        )


@njit(cache=True)
def _session_sums(
    squared: np.ndarray, ts: np.ndarray, session_start: np.ndarray, session_open_ns: np.ndarray,
    profiled: np.ndarray, bucket_ns: int, n_buckets: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per session: the sum of its squared returns (NaN without bars) and, for ``profiled``
    sessions with a positive sum, each 5-minute bucket's share of it (NaN rows otherwise)."""
    n = session_start.shape[0] - 1
    raw_rv = np.full(n, np.nan)
    shares = np.full((n, n_buckets), np.nan)
    for i in range(n):
        a, b = session_start[i], session_start[i + 1]
        if a == b:
            continue
        # 0.0 + the pairwise sum: numpy's reduction starts from add's identity.
        raw_rv[i] = 0.0 + pairwise_sum(squared, a, b - a)
        if not profiled[i] or not raw_rv[i] > 0:
            continue
        shares[i, :] = 0.0
        for k in range(a, b):
            bucket = min(max((ts[k] - session_open_ns[i]) // bucket_ns, 0), n_buckets - 1)
            shares[i, bucket] += squared[k]
        for j in range(n_buckets):
            shares[i, j] /= raw_rv[i]
    return raw_rv, shares


# --------------------------------------------------------------------------- forecasts
def har_forecast(rv: np.ndarray, lags: tuple[int, ...] = HAR_LAGS) -> float:
    """Equal-weight mean of the trailing means over ``lags`` sessions (last value = newest).

    >>> har_forecast(np.array([1.0, 1.0, 1.0, 1.0, 1.0, 4.0]), lags=(1, 5))  # (4 + 8/5) / 2
    2.8
    """
    values = np.asarray(rv, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.shape[0] == 0:
        return math.nan
    return float(np.mean([values[-lag:].mean() for lag in lags]))


def ewma_forecast(rv: np.ndarray, decay: float) -> float:
    """Exponentially weighted mean, weight ``decay**k`` on the value k sessions back.

    >>> ewma_forecast(np.array([1.0, 2.0]), decay=0.5)  # (0.5·1 + 1·2) / 1.5
    1.6666666666666667
    """
    values = np.asarray(rv, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.shape[0] == 0:
        return math.nan
    weights = decay ** np.arange(values.shape[0])[::-1]
    return float((weights * values).sum() / weights.sum())


@dataclass(frozen=True)
class ForecastSettings:
    """How prior sessions become a variance forecast (see the module docstring)."""

    method: ForecastMethod = "har"
    lags: tuple[int, ...] = HAR_LAGS
    ewma_decay: float = 0.94
    min_sessions: int = 5
    profile_window: int = 60  # sessions of history in the intraday profile
    profile_prior_sessions: float = 10.0  # weight of the built-in U shape, in sessions


class SessionForecaster:
    """Causal per-session forecasts for one symbol: variance level, opening gap, profile."""

    def __init__(self, history: SessionHistory, settings: ForecastSettings | None = None) -> None:
        self.history = history
        self.settings = settings or ForecastSettings()
        self._profiles: dict[dt.date, IntradayProfile] = {}
        # Sessions with every bucket share known (regular, complete days), found once: a
        # backtest asks for a profile on each of thousands of days.
        self._complete = np.flatnonzero(np.all(np.isfinite(history.bucket_shares), axis=1))

    def prior_variance(self, day: dt.date) -> float:
        """Forecast of ``day``'s open-to-close variance from sessions strictly before it.

        NaN when fewer than ``min_sessions`` usable sessions precede ``day``.
        """
        prior = self.history.rv[: self.history.prior_count(day)]
        usable = prior[np.isfinite(prior)]
        if usable.shape[0] < self.settings.min_sessions:
            return math.nan
        if self.settings.method == "ewma":
            return ewma_forecast(usable, self.settings.ewma_decay)
        return har_forecast(usable, self.settings.lags)

    def prior_variances(self, days: Sequence[dt.date]) -> np.ndarray:
        """:meth:`prior_variance` of many days: the same bits, the HAR means in one
        compiled pass (EWMA, not the default, asks day by day)."""
        if self.settings.method != "har" or not days:
            return np.array([self.prior_variance(day) for day in days], dtype=np.float64)
        rv = self.history.rv
        finite = np.isfinite(rv)
        usable_before = np.concatenate([[0], np.cumsum(finite)]).astype(np.int64)
        counts = np.searchsorted(self.history.session_date, np.array(days, dtype="datetime64[D]"), side="left")
        return _har_forecasts(
            np.ascontiguousarray(rv[finite], dtype=np.float64),
            usable_before[counts],
            np.array(self.settings.lags, dtype=np.int64),
            self.settings.min_sessions,
        )

    def opening_gap(self, day: dt.date) -> float:
        """``ln(open_D / previous close)``: known from D's opening print; 0 when D has no bars."""
        i = self.history.index_of(day)
        if i is None or not np.isfinite(self.history.gap[i]):
            return 0.0
        return float(self.history.gap[i])

    def profiles(self, days: Sequence[dt.date]) -> list[IntradayProfile]:
        """:meth:`profile` of many days at once: the same bits, one compiled pass.

        Why: pricing a symbol's trades together needs one profile per trading day, and
        building each in numpy cost ~0.1 ms, more than the pricing. The kernel repeats
        ``profile``'s operations in its order (the window's rows added in turn, numpy's
        pairwise sums, the running sum); a day whose numbers the constructor would refuse
        goes through ``profile`` itself. Not remembered: the caller holds them.
        """
        if not days:
            return []
        counts = np.searchsorted(self.history.session_date, np.array(days, dtype="datetime64[D]"), side="left")
        builtin = IntradayProfile.builtin()
        shares, cumulative, rows = _blended_profiles(
            np.ascontiguousarray(self.history.bucket_shares, dtype=np.float64),
            self._complete.astype(np.int64),
            counts.astype(np.int64),
            self.settings.profile_window,
            float(self.settings.profile_prior_sessions),
            builtin.minute_shares,
            BUCKET_MINUTES,
        )
        found: list[IntradayProfile] = []
        for i, day in enumerate(days):
            if rows[i] == 0:
                found.append(builtin)
            elif rows[i] < 0:
                found.append(self.profile(day))  # the constructor words what is wrong
            else:
                found.append(IntradayProfile.normalised(shares[i], cumulative[i]))
        return found

    def profile(self, day: dt.date) -> IntradayProfile:
        """Intraday profile known on the morning of ``day`` (sessions strictly before it).

        The mean per-session bucket shares of the last ``profile_window`` regular sessions,
        smoothed with a [1, 2, 1]/4 kernel away from the first and last two buckets (the
        open and the close are genuinely sharp), then shrunk towards the built-in U shape
        with the weight of ``profile_prior_sessions`` sessions.
        """
        cached = self._profiles.get(day)
        if cached is not None:
            return cached
        if len(self._profiles) >= PROFILE_CACHE_DAYS:
            del self._profiles[next(iter(self._profiles))]  # the oldest asked
        complete = self._complete[: int(np.searchsorted(self._complete, self.history.prior_count(day)))]
        rows = self.history.bucket_shares[complete[-self.settings.profile_window :]]
        builtin = IntradayProfile.builtin()
        if rows.shape[0] == 0:
            profile = builtin
        else:
            mean = rows.mean(axis=0)
            smooth = mean.copy()
            smooth[2:-2] = 0.25 * mean[1:-3] + 0.5 * mean[2:-2] + 0.25 * mean[3:-1]
            empirical = np.repeat(smooth / smooth.sum() / BUCKET_MINUTES, BUCKET_MINUTES)
            n, prior_weight = rows.shape[0], self.settings.profile_prior_sessions
            blended = (n * empirical + prior_weight * builtin.minute_shares) / (n + prior_weight)
            profile = IntradayProfile(blended)
        self._profiles[day] = profile
        return profile


@njit(cache=True)
def _blended_profiles(
    bucket_shares: np.ndarray, complete: np.ndarray, prior_counts: np.ndarray, window: int,
    prior_weight: float, builtin_shares: np.ndarray, bucket_minutes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per day: ``SessionForecaster.profile``'s normalised minute shares and running sum,
    and how many sessions it averaged (0: the built-in profile; -1: not a valid profile).

    The same float64 operations in the same order as the numpy code: ``mean(axis=0)`` adds
    the window's rows one after another from the oldest and divides by their count; the
    [1, 2, 1]/4 smoothing is ``(0.25·a + 0.5·b) + 0.25·c``; ``sum()`` is numpy's pairwise
    sum; ``cumsum`` runs left to right.
    """
    n_days = prior_counts.shape[0]
    n_buckets = bucket_shares.shape[1]
    n_minutes = builtin_shares.shape[0]
    shares = np.zeros((n_days, n_minutes))
    cumulative = np.zeros((n_days, n_minutes + 1))
    counted = np.zeros(n_days, dtype=np.int64)
    mean = np.empty(n_buckets)
    smooth = np.empty(n_buckets)
    blended = np.empty(n_minutes)
    # A typed 0, not the literal: a cached kernel calling the recursive pairwise_sum with a
    # literal argument crashed when loaded back from numba's cache (numba 0.68: a segfault on the second run).
    origin = np.int64(0)
    for d in range(n_days):
        stop = np.searchsorted(complete, prior_counts[d])
        start = max(stop - window, 0)
        m = stop - start
        counted[d] = m
        if m == 0:
            continue
        for j in range(n_buckets):
            mean[j] = bucket_shares[complete[start], j]
        for r in range(start + 1, stop):
            row = complete[r]
            for j in range(n_buckets):
                mean[j] += bucket_shares[row, j]
        for j in range(n_buckets):
            mean[j] = mean[j] / m
            smooth[j] = mean[j]
        for j in range(2, n_buckets - 2):
            smooth[j] = 0.25 * mean[j - 1] + 0.5 * mean[j] + 0.25 * mean[j + 1]
        smooth_total = 0.0 + pairwise_sum(smooth, origin, n_buckets)
        valid = True
        for j in range(n_buckets):
            empirical = smooth[j] / smooth_total / bucket_minutes
            for t in range(bucket_minutes):
                k = j * bucket_minutes + t
                blended[k] = (m * empirical + prior_weight * builtin_shares[k]) / (m + prior_weight)
                if not (np.isfinite(blended[k]) and blended[k] >= 0.0):
                    valid = False
        total = 0.0 + pairwise_sum(blended, origin, n_minutes)
        if not valid or not total > 0.0:
            counted[d] = -1
            continue
        running = 0.0
        for k in range(n_minutes):
            shares[d, k] = blended[k] / total
            running += shares[d, k]
            cumulative[d, k + 1] = running
    return shares, cumulative, counted


@njit(cache=True)
def _har_forecasts(usable: np.ndarray, n_usable: np.ndarray, lags: np.ndarray, min_sessions: int) -> np.ndarray:
    """``har_forecast`` of the first ``n_usable[d]`` usable values, per day (NaN below
    ``min_sessions``): each lag's mean as numpy takes it (``0.0 +`` its pairwise sum, over
    the count), then the mean of those means the same way."""
    out = np.full(n_usable.shape[0], np.nan)
    means = np.empty(lags.shape[0])
    origin = np.int64(0)  # typed, not literal: see _blended_profiles
    for d in range(n_usable.shape[0]):
        n = n_usable[d]
        if n < min_sessions or n == 0:
            continue
        for j in range(lags.shape[0]):
            m = min(lags[j], n)
            means[j] = (0.0 + pairwise_sum(usable, n - m, m)) / m
        out[d] = (0.0 + pairwise_sum(means, origin, lags.shape[0])) / lags.shape[0]
    return out
