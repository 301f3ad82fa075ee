"""Volatility inputs for the model quote source, with no look-ahead (SPEC 7).

On trade date D the model may only know what was known before D's open:

* ``iv_source: realized`` — annualised close-to-close vol of the ``iv_lookback`` daily
  closes strictly before D: ``sqrt(252) · stdev(ln(C_i / C_{i-1}), ddof=1)``, times
  ``iv_multiplier``, floored at ``iv_floor``. ``iv_lookback`` counts closes, so 20
  closes give 19 log returns.
* ``iv_source: series`` — a daily IV index (VIX for SPY, VXN for QQQ) in points, taken
  at the last close strictly before D and divided by 100, floored at ``iv_floor``.

When the history is too short the vol is NaN, and the quote source turns that into
"no quote" with a logged reason rather than inventing a number.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from vwapcli.config import OptionsConfig
from vwapcli.core.types import DailyBars
from vwapcli.errors import ConfigError

TRADING_DAYS_PER_YEAR = 252


def realized_vol(closes: np.ndarray) -> float:
    """Annualised close-to-close vol of a run of daily closes (NaN with fewer than 3)."""
    closes = np.asarray(closes, dtype=np.float64)
    if closes.shape[0] < 3:
        return math.nan  # ddof=1 needs at least two returns
    returns = np.diff(np.log(closes))
    return float(np.std(returns, ddof=1) * math.sqrt(TRADING_DAYS_PER_YEAR))


def skewed_vol(
    atm_vol: float, strike: float, spot: float, skew_slope: float, floor: float
) -> float:
    """``iv(K) = atm_iv + skew_slope·ln(K/S)``, floored at ``floor`` (SPEC 7, optional skew).

    A negative slope gives the usual equity skew: puts below spot are dearer.
    """
    if skew_slope == 0.0:
        return max(atm_vol, floor)
    return max(atm_vol + skew_slope * math.log(strike / spot), floor)


def _as_day(value: dt.date | np.datetime64 | pd.Timestamp) -> np.datetime64:
    return np.datetime64(pd.Timestamp(value).date(), "D")


class VolatilityModel:
    """At-the-money vol per trade date for one symbol, from prior sessions only.

    Built from the symbol's ``DailyBars`` (every session in the data; only those strictly
    before the asked date are read) and, for ``iv_source: series``, the store's IV index.
    """

    def __init__(
        self,
        daily: DailyBars,
        iv_index: pd.Series | None = None,
        config: OptionsConfig | None = None,
        symbol: str = "",
    ) -> None:
        self.config = config or OptionsConfig.model_validate({})
        self.symbol = symbol
        self._dates = np.asarray(daily.session_date, dtype="datetime64[D]")
        self._closes = np.asarray(daily.close, dtype=np.float64)
        if self._dates.shape[0] > 1 and np.any(np.diff(self._dates.astype(np.int64)) <= 0):
            raise ValueError("DailyBars.session_date must be strictly increasing")
        self._cache: dict[dt.date, float] = {}
        self._index_dates: np.ndarray | None = None
        self._index_points: np.ndarray | None = None
        if iv_index is not None:
            clean = iv_index.dropna()
            days = np.array([_as_day(d) for d in clean.index], dtype="datetime64[D]")
            order = np.argsort(days, kind="stable")
            self._index_dates = days[order]
            self._index_points = clean.to_numpy(dtype=np.float64)[order]
        if self.config.iv_source == "series" and self._index_dates is None:
            who = f" for {symbol}" if symbol else ""
            raise ConfigError(
                f"options.iv_source is 'series' but no IV index was found{who}; "
                "write one to the store or use iv_source: realized"
            )

    @classmethod
    def from_config(
        cls,
        config: OptionsConfig,
        daily: DailyBars,
        iv_index: pd.Series | None = None,
        symbol: str = "",
    ) -> VolatilityModel:
        """Keyword-friendly constructor mirroring the config's field names."""
        return cls(daily, iv_index, config, symbol)

    def vol_for(self, session_date: dt.date) -> float:
        """ATM annualised vol to price options on ``session_date`` (NaN: not enough history)."""
        # Plain dates (the engine's per-quote path) skip the pandas conversion.
        day = session_date if type(session_date) is dt.date else pd.Timestamp(session_date).date()
        cached = self._cache.get(day)
        if cached is None:
            if self.config.iv_source == "series":
                cached = self._series_vol(day)
            else:
                cached = self._realized_vol(day)
            self._cache[day] = cached
        return cached

    def vol_at(self, session_date: dt.date, strike: float, spot: float) -> float:
        """Vol for one strike: the ATM vol moved along the configured skew (NaN passes through)."""
        atm = self.vol_for(session_date)
        if math.isnan(atm):
            return atm
        return skewed_vol(atm, strike, spot, self.config.skew_slope, self.config.iv_floor)

    def _realized_vol(self, day: dt.date) -> float:
        # Only closes strictly before the trade date: D's own close is not known at D's open.
        n_prior = int(np.searchsorted(self._dates, np.datetime64(day, "D"), side="left"))
        lookback = self.config.iv_lookback
        if n_prior < lookback:
            return math.nan
        vol = realized_vol(self._closes[n_prior - lookback : n_prior])
        if math.isnan(vol):
            return vol
        return max(vol * self.config.iv_multiplier, self.config.iv_floor)

    def _series_vol(self, day: dt.date) -> float:
        assert self._index_dates is not None and self._index_points is not None
        # The index's last close strictly before the trade date (the prior session's close).
        n_prior = int(np.searchsorted(self._index_dates, np.datetime64(day, "D"), side="left"))
        if n_prior == 0:
            return math.nan
        return max(float(self._index_points[n_prior - 1]) / 100.0, self.config.iv_floor)
