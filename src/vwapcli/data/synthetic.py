"""Seeded synthetic 1-minute RTH bars and a daily IV index, for offline runs and tests.

The generator is a toy market with the features the strategies react to, not a claim
about real prices. Everything it writes is labelled ``synthetic (seed N)``.

Model, per session ``d`` (all symbols share the market draws, so they are correlated):

* a latent annualised volatility ``sigma_d`` (AR(1) in logs, occasional spikes);
* a day type: **mean-reverting** (the log price is an Ornstein-Uhlenbeck process around a
  slowly wandering intraday anchor) or **trend** (the anchor itself drifts one way);
* minute noise scaled by a U-shaped intraday profile, occasional shocks (jumps);
* an overnight gap between sessions, with a weak pull of the price level toward a
  long-run growth path (SPY-like ~250 in 2019 to ~600 in 2025, QQQ-like ~160 to ~500);
* U-shaped volume, heavier on volatile days and shock minutes;
* a daily IV index = 100 x symbol volatility x a premium x noise (VIX/VXN-like levels).

Sessions come from the real NYSE calendar, so early closes give shorter sessions.
Vectorised over sessions and symbols; the only Python loops run over the 390 minutes of
the session template and over sessions for the (scalar) overnight level recursion.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vwapcli.core.types import NS_PER_MINUTE
from vwapcli.data.sessions import DateLike, SessionCalendar, resolve_calendar

MINUTES_PER_FULL_SESSION = 390
TRADING_DAYS_PER_YEAR = 252
INTRADAY_VARIANCE_SHARE = 0.8  # the rest of a day's variance arrives in the overnight gap
_ANCHOR_DATE = dt.date(2019, 1, 2)


def synthetic_provenance(seed: int) -> str:
    """The provenance label every synthetic artefact carries."""
    return f"synthetic (seed {seed})"


@dataclass(frozen=True)
class SymbolProfile:
    """How one synthetic symbol behaves relative to the market factor."""

    level_2019: float  # price level on 2019-01-02
    annual_growth: float  # log growth per year of the long-run level path
    beta: float  # volatility multiple of the market factor
    correlation: float  # correlation of minute and gap noise with the market factor
    daily_volume: float  # shares on an average full session
    iv_premium: float  # implied over realised volatility


PROFILES: dict[str, SymbolProfile] = {
    "SPY": SymbolProfile(250.0, 0.145, 1.00, 1.00, 70e6, 1.15),
    "QQQ": SymbolProfile(160.0, 0.19, 1.25, 0.90, 45e6, 1.12),
    "IWM": SymbolProfile(135.0, 0.07, 1.30, 0.80, 28e6, 1.10),
    "DIA": SymbolProfile(235.0, 0.11, 0.95, 0.92, 4e6, 1.15),
}
DEFAULT_PROFILE = SymbolProfile(100.0, 0.08, 1.20, 0.60, 10e6, 1.10)


@dataclass(frozen=True)
class SyntheticMarket:
    """Generated bars (ts, open, high, low, close, volume) and IV index per symbol."""

    bars: dict[str, pd.DataFrame]
    iv_index: dict[str, pd.DataFrame]  # columns session_date (datetime.date), iv_index
    seed: int

    @property
    def provenance(self) -> str:
        return synthetic_provenance(self.seed)


@dataclass(frozen=True)
class _MarketDraws:
    """Draws shared by every symbol for one (seed, calendar range)."""

    sigma: np.ndarray  # (N,) annualised market vol
    trend_day: np.ndarray  # (N,) bool
    trend_sign: np.ndarray  # (N,) +-1
    trend_size: np.ndarray  # (N,) drift over the session in daily-vol units
    theta: np.ndarray  # (N,) OU pull per minute
    minute_noise: np.ndarray  # (N, 390) standard normal
    shock: np.ndarray  # (N, 390) signed shock sizes in minute-vol units (mostly 0)
    gap_noise: np.ndarray  # (N,) standard normal
    iv_noise: np.ndarray  # (N,) standard normal


def _market_draws(rng: np.random.Generator, n: int) -> _MarketDraws:
    # Latent log-vol: AR(1) around ln(0.16), with rare spikes that decay with the AR.
    innovations = rng.standard_normal(n) * 0.11
    spikes = (rng.random(n) < 0.012) * rng.uniform(0.3, 0.8, n)
    log_vol = np.empty(n)
    level, mean, phi = np.log(0.16), np.log(0.16), 0.97
    for i in range(n):
        level = mean + phi * (level - mean) + innovations[i] + spikes[i]
        log_vol[i] = level
    sigma = np.clip(np.exp(log_vol), 0.08, 0.85)
    trend_day = rng.random(n) < 0.28
    trend_sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    trend_size = rng.uniform(0.7, 1.8, n)
    theta = np.where(trend_day, rng.uniform(0.01, 0.03, n), rng.uniform(0.006, 0.04, n))
    minute_noise = rng.standard_normal((n, MINUTES_PER_FULL_SESSION))
    shock_on = rng.random((n, MINUTES_PER_FULL_SESSION)) < 1 / 900
    shock = shock_on * rng.uniform(5.0, 12.0, (n, MINUTES_PER_FULL_SESSION)) * np.where(
        rng.random((n, MINUTES_PER_FULL_SESSION)) < 0.5, -1.0, 1.0
    )
    return _MarketDraws(
        sigma=sigma, trend_day=trend_day, trend_sign=trend_sign, trend_size=trend_size, theta=theta,
        minute_noise=minute_noise, shock=shock, gap_noise=rng.standard_normal(n),
        iv_noise=rng.standard_normal(n),
    )


def _intraday_profiles(n_minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(volatility multiplier, volume weight), each (N, 390), U-shaped over each session's length."""
    minute = np.arange(MINUTES_PER_FULL_SESSION)[None, :]
    length = n_minutes[:, None].astype(np.float64)
    position = np.clip(minute / np.maximum(length - 1, 1), 0, 1)  # 0 at open, 1 at the last bar
    u = (2 * position - 1) ** 2
    vol_mult = 0.7 + 0.9 * u + 0.8 * np.exp(-minute / 6.0)
    vol_mult /= np.sqrt(np.mean(vol_mult[:, :] ** 2, axis=1, keepdims=True))
    volume_weight = 0.55 + 1.6 * u ** 1.5 + 1.2 * np.exp(-minute / 8.0) + 1.5 * np.exp(-(length - 1 - minute) / 5.0)
    return vol_mult, volume_weight


def _symbol_stream(seed: int, symbol: str) -> np.random.Generator:
    # Keyed by symbol name (crc32, stable across runs), so SPY's path does not depend on
    # which other symbols were generated with it.
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(symbol.encode())]))


def _generate_symbol(
    symbol: str,
    seed: int,
    market: _MarketDraws,
    session_dates: np.ndarray,
    open_ns: np.ndarray,
    n_minutes: np.ndarray,
    vol_mult: np.ndarray,
    volume_weight: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    profile = PROFILES.get(symbol, DEFAULT_PROFILE)
    rng = _symbol_stream(seed, symbol)
    n = session_dates.shape[0]
    rho = profile.correlation
    idio = np.sqrt(max(1 - rho * rho, 0.0))

    sigma = market.sigma * profile.beta * np.exp(rng.normal(0, 0.05, n))  # annualised
    daily_sd = sigma / np.sqrt(TRADING_DAYS_PER_YEAR)
    minute_sd = daily_sd * np.sqrt(INTRADAY_VARIANCE_SHARE / MINUTES_PER_FULL_SESSION)

    # Minute noise: market factor plus the symbol's own part.
    noise = rho * market.minute_noise + idio * rng.standard_normal(market.minute_noise.shape)
    step = minute_sd[:, None] * vol_mult
    shocks = market.shock * step * (0.8 + 0.4 * rng.random(market.shock.shape))

    # Anchor: slow random walk (MR days) plus a steady drift on trend days.
    anchor_walk = np.cumsum(0.25 * step * rng.standard_normal(market.minute_noise.shape), axis=1)
    minutes_done = (np.arange(1, MINUTES_PER_FULL_SESSION + 1)[None, :] / n_minutes[:, None]).clip(0, 1)
    trend_drift = np.where(market.trend_day, market.trend_sign * market.trend_size * daily_sd, 0.0)
    anchor = anchor_walk + trend_drift[:, None] * minutes_done

    # x = log(price / session open): an Ornstein-Uhlenbeck step toward the anchor each minute.
    theta = market.theta[:, None] * np.exp(rng.normal(0, 0.15, (n, 1)))
    x = np.empty_like(noise)
    previous = np.zeros(n)
    for m in range(MINUTES_PER_FULL_SESSION):
        previous = previous + theta[:, 0] * (anchor[:, m] - previous) + step[:, m] * noise[:, m] + shocks[:, m]
        x[:, m] = previous
    last_x = x[np.arange(n), n_minutes - 1]

    # Overnight recursion of the session open level, pulled weakly toward the growth path.
    years = (session_dates - np.datetime64(_ANCHOR_DATE, "D")).astype(np.float64) / 365.25
    target = np.asarray(np.log(profile.level_2019) + profile.annual_growth * years)
    gap_sd: np.ndarray = daily_sd * np.sqrt(1 - INTRADAY_VARIANCE_SHARE)
    gap_z = np.asarray(rho * market.gap_noise + idio * rng.standard_normal(n))
    big_gap = np.asarray((rng.random(n) < 0.02) * rng.normal(0, 3.0, n))
    log_open = np.empty(n)
    level = target[0] + rng.normal(0, 0.03)
    for i in range(n):
        if i > 0:
            level = level + last_x[i - 1] + gap_sd[i] * (gap_z[i] + big_gap[i]) + (target[i] - level) / 60.0
        log_open[i] = level

    session_open_price = np.round(np.exp(log_open), 2)
    close = np.round(session_open_price[:, None] * np.exp(x), 2)
    open_ = np.empty_like(close)
    open_[:, 0] = session_open_price
    open_[:, 1:] = close[:, :-1]
    wick = np.abs(rng.standard_normal((2, *close.shape))) * 0.6 * step * close
    high = np.maximum(np.round(np.maximum(open_, close) + wick[0], 2), np.maximum(open_, close))
    low = np.minimum(np.round(np.minimum(open_, close) - wick[1], 2), np.minimum(open_, close))
    low = np.maximum(low, 0.01)

    day_volume = profile.daily_volume * (sigma / (0.16 * profile.beta)) ** 0.7 * np.exp(rng.normal(0, 0.2, n))
    weight = volume_weight * np.exp(rng.normal(0, 0.35, close.shape)) * (1 + 2.0 * (market.shock != 0))
    valid = np.arange(MINUTES_PER_FULL_SESSION)[None, :] < n_minutes[:, None]
    weight = np.where(valid, weight, 0.0)
    volume = np.round(day_volume[:, None] * (n_minutes[:, None] / MINUTES_PER_FULL_SESSION) * weight / weight.sum(axis=1, keepdims=True))

    ts = open_ns[:, None] + np.arange(MINUTES_PER_FULL_SESSION)[None, :] * NS_PER_MINUTE
    bars = pd.DataFrame(
        {
            "ts": pd.to_datetime(ts[valid], utc=True).as_unit("ns"),
            "open": open_[valid],
            "high": high[valid],
            "low": low[valid],
            "close": close[valid],
            "volume": volume[valid],
        }
    )
    iv = np.round(100 * sigma * profile.iv_premium * np.exp(0.06 * (rho * market.iv_noise + idio * rng.standard_normal(n))), 2)
    iv_frame = pd.DataFrame({"session_date": [d.astype(dt.date) for d in session_dates], "iv_index": iv})
    return bars, iv_frame


def generate_market(
    symbols: Iterable[str],
    start: DateLike,
    end: DateLike,
    seed: int = 7,
    calendar: SessionCalendar | str | None = None,
) -> SyntheticMarket:
    """Synthetic 1-minute RTH bars and daily IV index for every session in [start, end].

    Deterministic: the same (symbols, start, end, seed) gives identical values; a symbol's
    path does not depend on which other symbols are generated alongside it.
    """
    cal = resolve_calendar(calendar)
    session_dates, open_ns, close_ns = cal.session_arrays(start, end)
    names = [s.strip().upper() for s in symbols]
    n = session_dates.shape[0]
    if n == 0:
        empty = {s: pd.DataFrame(columns=["ts", "open", "high", "low", "close", "volume"]) for s in names}
        return SyntheticMarket(empty, {s: pd.DataFrame(columns=["session_date", "iv_index"]) for s in names}, seed)
    n_minutes = ((close_ns - open_ns) // NS_PER_MINUTE).astype(np.int64)
    market = _market_draws(np.random.default_rng(np.random.SeedSequence([seed, 0])), n)
    vol_mult, volume_weight = _intraday_profiles(n_minutes)
    bars: dict[str, pd.DataFrame] = {}
    iv_index: dict[str, pd.DataFrame] = {}
    for symbol in names:
        bars[symbol], iv_index[symbol] = _generate_symbol(
            symbol, seed, market, session_dates, open_ns, n_minutes, vol_mult, volume_weight
        )
    return SyntheticMarket(bars=bars, iv_index=iv_index, seed=seed)
