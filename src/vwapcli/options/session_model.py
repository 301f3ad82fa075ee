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
from vwapcli.options.pricing import bs_price_scalar
from vwapcli.options.quotes import Quote, Right, SymbolTerms, checked_vol_scale
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

    def _sigma_uncached(self, day: dt.date, after_open: bool) -> float:
        level = self.params.level
        variance = self.prior_variance(day)
        if math.isnan(variance):
            return math.nan
        if after_open and level.gap_weight:
            variance += level.gap_weight * self.forecaster.opening_gap(day) ** 2
        return max(math.sqrt(SESSIONS_PER_YEAR * level.premium * variance), level.vol_floor)

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
        t_var = clock.t_years(ts_ns, expiry)
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
