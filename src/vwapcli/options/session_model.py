"""The session-vol option model (SPEC 7.1) behind the ``QuoteSource`` interface.

Per leg, at quote time ``ts`` on session D with spot S:

    sigma   = sqrt(252 · premium · (HAR(prior sessions' RV) + gap_weight · gap_D²))   (vol_forecast)
    T       = variance-clock units to the expiry's close / 252                      (variance_clock)
    t_cal   = calendar years to the expiry's close (carry and discounting only)
    F       = S · exp((r - q) · t_cal)
    z       = ln(K / F) / (sigma · sqrt(T))
    vol_K   = sigma · smile.ratio(z)                                                 (smile)
    mid     = Black-Scholes-Merton(S, K, T, vol_K) with r and q rescaled so that the
              forward and the discount run on calendar time t_cal
    bid/ask = leg_spread.quote(mid, F · sigma · sqrt(T))                            (leg_spread)

``Quote.mid`` is the unrounded model price and ``Quote.iv`` is ``vol_K`` (a vol in
variance-clock time: multiply by sqrt(T / t_cal) for the calendar-time convention).
The gap term is used once the session has opened (its opening print is known); before
the open only prior sessions count. ``vol_model: flat`` (``quotes.ModelQuoteSource``)
is untouched.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence

import numpy as np

from vwapcli.config import OptionsConfig
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.core.types import SessionedBars
from vwapcli.data.sessions import SessionCalendar
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.events import EventCalendar
from vwapcli.options.pricing import bs_price, bs_price_scalar
from vwapcli.options.quotes import LegQuotes, Quote, Right, SymbolTerms, checked_vol_scale
from vwapcli.options.variance_clock import (
    SESSIONS_PER_YEAR,
    ClockEvent,
    SessionTable,
    VarianceClock,
)
from vwapcli.options.vol_forecast import SessionForecaster, SessionHistory

log = logging.getLogger("vwapcli.options")

NS_PER_YEAR = 365 * 24 * 3600 * 1_000_000_000
SESSION_TABLE_DAYS_AHEAD = 400  # expiries up to about a year past the data
T_YEARS_CACHE_SIZE = 65_536  # (instant, expiry) pairs per symbol: ~10 MB at most


def session_table_for(bars: SessionedBars, calendar: SessionCalendar | None = None) -> SessionTable:
    """Exchange sessions from the bars' first session to a year past their last (expiries)."""
    calendar = calendar or SessionCalendar()
    if bars.n_sessions == 0:
        raise ValueError(f"{bars.symbol}: no sessions in the bars")
    first: dt.date = bars.session_date[0].astype(dt.date)
    last: dt.date = bars.session_date[-1].astype(dt.date)
    end = min(last + dt.timedelta(days=SESSION_TABLE_DAYS_AHEAD), calendar.last_session)
    return calendar.session_arrays(first - dt.timedelta(days=7), end)


class SessionVolModel:
    """Vol level and variance clock of one symbol, from its bars and a calibration."""

    def __init__(
        self,
        params: CalibrationParams,
        history: SessionHistory,
        sessions: SessionTable,
        events: EventCalendar | None = None,
    ) -> None:
        self.params = params
        self.forecaster = SessionForecaster(history, params.forecast.settings())
        self.events = events or EventCalendar.empty()
        self.smile = params.smile.smile()
        self.spread = params.spread.model()
        self.clock = VarianceClock(sessions, self.forecaster.profile, params.overnight_share, self.clock_events)
        self._variance: dict[dt.date, float] = {}
        self._sigma: dict[tuple[dt.date, bool], float] = {}
        self._clock_events: dict[dt.date, tuple[ClockEvent, ...]] = {}
        self._t_years: dict[tuple[int, dt.date], float] = {}

    @classmethod
    def from_bars(
        cls,
        params: CalibrationParams,
        bars: SessionedBars,
        events: EventCalendar | None = None,
        calendar: SessionCalendar | None = None,
    ) -> SessionVolModel:
        return cls(params, SessionHistory.from_bars(bars), session_table_for(bars, calendar), events)

    def clock_events(self, day: dt.date) -> Sequence[ClockEvent]:
        """The day's scheduled events with their calibrated effect (types without one: none)."""
        cached = self._clock_events.get(day)
        if cached is None:
            effects = self.params.events
            cached = tuple(
                ClockEvent(event.ts_ns, effects[event.kind].jump, effects[event.kind].after_multiplier)
                for event in self.events.events_on(day)
                if event.kind in effects
            )
            self._clock_events[day] = cached
        return cached

    def prior_variance(self, day: dt.date) -> float:
        """HAR (or EWMA) forecast of ``day``'s open-to-close variance, before premium and gap."""
        cached = self._variance.get(day)
        if cached is None:
            cached = self._variance[day] = self.forecaster.prior_variance(day)
        return cached

    def sigma(self, day: dt.date, after_open: bool = True) -> float:
        """Annualised vol level for ``day`` (NaN when the history is too short)."""
        cached = self._sigma.get((day, after_open))
        if cached is None:
            cached = self._sigma[(day, after_open)] = self._sigma_uncached(day, after_open)
        return cached

    def sigmas(self, sessions: Sequence[tuple[dt.date, bool]]) -> list[float]:
        """:meth:`sigma` of many (day, after_open) pairs; the HAR forecasts of days not yet
        known are computed together (``SessionForecaster.prior_variances``)."""
        new_days = [day for day in dict.fromkeys(day for day, _ in sessions) if day not in self._variance]
        if new_days:
            forecasts = self.forecaster.prior_variances(new_days).tolist()
            self._variance.update(zip(new_days, forecasts, strict=True))
        return [self.sigma(day, after_open) for day, after_open in sessions]

    def _sigma_uncached(self, day: dt.date, after_open: bool) -> float:
        level = self.params.level
        variance = self.prior_variance(day)
        if math.isnan(variance):
            return math.nan
        if after_open and level.gap_weight:
            variance += level.gap_weight * self.forecaster.opening_gap(day) ** 2
        return max(math.sqrt(SESSIONS_PER_YEAR * level.premium * variance), level.vol_floor)

    def t_years(self, ts_ns: int, expiry: dt.date) -> float:
        """The variance clock's ``T`` from ``ts_ns`` to ``expiry``'s close, remembered.

        Both legs of a spread, and model risk's five vol levels, ask for the same instant
        and expiry; the clock walks the sessions in Python, so it answers each pair once.
        At most ``T_YEARS_CACHE_SIZE`` pairs are kept (the oldest asked go first).
        """
        key = (ts_ns, expiry)
        cached = self._t_years.get(key)
        if cached is None:
            cached = self._remember_t_years(key, self.clock.t_years(ts_ns, expiry))
        return cached

    def t_years_many(self, instants: Sequence[tuple[int, dt.date]]) -> list[float]:
        """:meth:`t_years` of many (instant, expiry) pairs; the intraday profiles the new
        ones need are computed together (``SessionForecaster.profiles``)."""
        answers: dict[tuple[int, dt.date], float] = {}
        for pair in instants:
            cached = self._t_years.get(pair)
            if cached is not None:
                answers[pair] = cached
        missing = [pair for pair in dict.fromkeys(instants) if pair not in answers]
        if missing:
            clock = self.clock
            index = np.searchsorted(clock.close_ns, np.array([t for t, _ in missing], dtype=np.int64), side="right")
            n_sessions = clock.dates.shape[0]
            days = sorted({clock.day_of[i] for i in index.tolist() if i < n_sessions})
            profiles = dict(zip(days, self.forecaster.profiles(days), strict=True))
            for pair, i in zip(missing, index.tolist(), strict=True):
                profile = profiles[clock.day_of[i]] if i < n_sessions else None
                answers[pair] = self._remember_t_years(pair, clock.t_years(*pair, profile=profile))
        return [answers[pair] for pair in instants]

    def _remember_t_years(self, key: tuple[int, dt.date], value: float) -> float:
        if len(self._t_years) >= T_YEARS_CACHE_SIZE:
            del self._t_years[next(iter(self._t_years))]  # the oldest asked
        self._t_years[key] = value
        return value

    def session_of(self, ts_ns: int) -> tuple[dt.date, bool] | None:
        """The current-or-next session's date at ``ts_ns`` and whether it has opened."""
        index = self.clock.session_index(ts_ns)
        if index >= self.clock.dates.shape[0]:
            return None
        return self.clock.day_of[index], ts_ns >= int(self.clock.open_ns[index])


class CalibratedQuoteSource:
    """BSM quotes from the session-vol model (module docstring): the SPEC 7.1 default."""

    name = "model"

    def __init__(
        self, options_config: OptionsConfig, models: dict[str, SessionVolModel], vol_scale: float = 1.0
    ) -> None:
        self.config = options_config
        self.models = models
        # SPEC 7.1 model risk: the report re-prices trades with the vol level scaled (0.8 .. 2.0).
        self.vol_scale = checked_vol_scale(vol_scale)
        self.symbol_terms = SymbolTerms(options_config)

    def lookup(
        self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: Right, spot: float
    ) -> Quote | Skip:
        """The model quote, or why there is none (no model, too little history, past expiry)."""
        model = self.models.get(symbol)
        if model is None:
            return Skip(SkipReason.NO_VOL, f"no session-vol model for {symbol}")
        session = model.session_of(ts_ns)
        if session is None:
            return Skip(SkipReason.NO_VOL, f"{symbol}: quote time is past the exchange calendar")
        day, after_open = session
        sigma = model.sigma(day, after_open) * self.vol_scale
        if math.isnan(sigma):
            return Skip(
                SkipReason.NO_VOL,
                f"{symbol} {day}: fewer than {model.params.forecast.min_sessions} prior sessions of bars",
            )
        clock = model.clock
        t_var = model.t_years(ts_ns, expiry)
        t_cal = max(clock.expiry_close_ns(expiry) - ts_ns, 0) / NS_PER_YEAR
        rate, div_yield, _ = self.symbol_terms(symbol)
        forward = spot * math.exp((rate - div_yield) * t_cal)
        total_std = sigma * math.sqrt(t_var)
        if total_std > 0:
            z = math.log(strike / forward) / total_std
            vol = sigma * model.smile.at(z)
            # Carry over calendar time, variance over the clock: rescale r and q to T.
            mid = bs_price_scalar(
                spot, strike, t_var, rate * t_cal / t_var, div_yield * t_cal / t_var, vol, right
            )
        else:
            vol = sigma
            mid = bs_price_scalar(spot, strike, 0.0, rate, div_yield, vol, right)
        bid, ask = model.spread.quote(mid, forward * total_std)
        return Quote(bid=float(bid), ask=float(ask), mid=mid, iv=vol)

    def lookup_many(
        self,
        symbol: str,
        ts_ns: np.ndarray,
        expiry: Sequence[dt.date],
        strike: np.ndarray,
        right: np.ndarray,
        spot: np.ndarray,
        vol_scales: Sequence[float] | None = None,
    ) -> LegQuotes:
        """:meth:`lookup` for many legs of one symbol: the very same bits, as arrays.

        Why: a backtest asks for about 20 legs per trade (its fills, then model risk at
        five vol levels) and the per-leg path cost ~25 us of Python each, most of a run.
        Here the per-session and per-(instant, expiry) terms are computed once per distinct
        value (sigma, the clock's ``T``, the carry) and the rest on arrays. Where numpy's
        ``exp``/``log`` would round differently from the C library's that ``lookup`` uses,
        the values stay per element through ``math`` (a test holds the two paths equal).
        A leg ``lookup`` would refuse gets that very Skip in ``LegQuotes.skips``.

        ``vol_scales`` (SPEC 7.1 model risk): every leg priced at each of these vol-level
        multipliers instead of ``vol_scale``, each row as a source built with that scale
        would price it; rows scale-major (row ``j·n + i`` is leg ``i`` at ``vol_scales[j]``).
        Only sigma depends on the scale, so everything before it is computed once.
        """
        scales = np.asarray((self.vol_scale,) if vol_scales is None else
                            [checked_vol_scale(scale) for scale in vol_scales], dtype=np.float64)
        ts = np.asarray(ts_ns, dtype=np.int64)
        n = ts.shape[0]
        quotes = LegQuotes.empty(n * scales.shape[0])
        model = self.models.get(symbol)
        # Sigma per leg from its session (day, opened yet), before the scale; NaN where lookup refuses.
        level = np.full(n, np.nan)
        if model is not None:
            clock = model.clock
            index = np.searchsorted(clock.close_ns, ts, side="right")
            inside = np.flatnonzero(index < clock.dates.shape[0])
            after_open = ts[inside] >= clock.open_ns[index[inside]]
            sessions, inverse = np.unique(index[inside] * 2 + after_open, return_inverse=True)
            levels = model.sigmas([(clock.day_of[key // 2], bool(key % 2)) for key in sessions.tolist()])
            level[inside] = np.asarray(levels, dtype=np.float64)[inverse]
        for row in np.flatnonzero(np.isnan(level)).tolist():  # rare: lookup words the reason
            answer = self.lookup(symbol, int(ts[row]), expiry[row], float(strike[row]), right[row], float(spot[row]))
            if isinstance(answer, Skip):  # no scale turns a NaN sigma into a number
                quotes.skips.update((j * n + row, answer) for j in range(scales.shape[0]))
        ok = np.flatnonzero(~np.isnan(level))
        if model is None or ok.shape[0] == 0:
            return quotes
        rate, div_yield, _ = self.symbol_terms(symbol)
        # Per distinct (instant, expiry): the clock's T, calendar time and the carry factor.
        pairs: dict[tuple[int, dt.date], int] = {}
        pair_of = np.array([pairs.setdefault((t, expiry[row]), len(pairs)) for t, row in
                            zip(ts[ok].tolist(), ok.tolist(), strict=True)], dtype=np.int64)
        t_var_of = model.t_years_many(list(pairs))
        close_of = {day: model.clock.expiry_close_ns(day) for day in {day for _, day in pairs}}
        t_cal_of = [max(close_of[day] - t, 0) / NS_PER_YEAR for t, day in pairs]
        carry_of = [math.exp((rate - div_yield) * t_cal) for t_cal in t_cal_of]
        # Per leg (any scale): the clock's T, calendar time, spot, strike, right, forward.
        t_var = np.asarray(t_var_of, dtype=np.float64)[pair_of]
        t_cal = np.asarray(t_cal_of, dtype=np.float64)[pair_of]
        s = np.asarray(spot, dtype=np.float64)[ok]
        k = np.asarray(strike, dtype=np.float64)[ok]
        rights = np.asarray(right)[ok]
        forward = s * np.asarray(carry_of, dtype=np.float64)[pair_of]
        # Per leg and scale (scale-major): sigma, the total std and what depends on them.
        sigma = level[ok] * scales[:, None]
        total_std = sigma * np.sqrt(t_var)
        live = total_std > 0
        legs_live = np.flatnonzero(live.any(axis=0))  # ln(K/F) is the same at every scale
        moneyness = np.full(ok.shape[0], np.nan)
        moneyness[legs_live] = [math.log(x) for x in (k[legs_live] / forward[legs_live]).tolist()]
        vol = sigma.copy()
        mid = np.empty(sigma.shape)
        on_scale, on = np.nonzero(live)
        if on.shape[0]:
            z = moneyness[on] / total_std[on_scale, on]
            vol[on_scale, on] = sigma[on_scale, on] * np.asarray(model.smile.ratio(z), dtype=np.float64)
            t_on, c_on = t_var[on], t_cal[on]
            # Carry over calendar time, variance over the clock: rescale r and q to T.
            mid[on_scale, on] = bs_price(
                s[on], k[on], t_on, rate * c_on / t_on, div_yield * c_on / t_on, vol[on_scale, on], rights[on]
            )
        off_scale, off = np.nonzero(~live)
        if off.shape[0]:
            mid[off_scale, off] = bs_price(s[off], k[off], 0.0, rate, div_yield, vol[off_scale, off], rights[off])
        bid, ask = model.spread.quotes(mid.ravel(), (forward * total_std).ravel())
        rows = (np.arange(scales.shape[0])[:, None] * n + ok).ravel()
        quotes.bid[rows], quotes.ask[rows], quotes.mid[rows], quotes.iv[rows] = bid, ask, mid.ravel(), vol.ravel()
        return quotes

    def quote(
        self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: Right, spot: float
    ) -> Quote | None:
        answer = self.lookup(symbol, ts_ns, expiry, strike, right, spot)
        if isinstance(answer, Skip):
            log.info("no model quote for %s %s %g%s: %s", symbol, expiry, strike, right, answer)
            return None
        return answer

    def listed_strikes(
        self, symbol: str, ts_ns: int, expiry: dt.date, right: Right, spot: float
    ) -> np.ndarray:
        """The ``strike_increment`` grid (per symbol) within 25% of spot, as in flat mode."""
        return self.symbol_terms.listed_strikes(symbol, spot)
