"""VWAP_MEANREV: fade a stretch from session VWAP once price turns back (SPEC 5).

The rule is one pass over a session's bars in a numba kernel; the class around it turns a
``MarketState`` into kernel arguments (ATR from prior sessions, New York times as UTC ns)
and kernel output into ``Signal`` objects. The kernel is causal: bar t's decision reads
bars 0..t only, so a batch run and a bar-by-bar run emit the same signals.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
import math
from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from vwapcli.core.daily import atrs_before, daily_atr
from vwapcli.core.registry import StrategySpec
from vwapcli.core.strategy import StrategyConfig, strategy_logger
from vwapcli.core.types import (
    Direction,
    MarketState,
    SessionBatch,
    Signal,
    local_time_ns,
    utc_timestamp,
)

NAME = "VWAP_MEANREV"

# Kernel codes for the per-bar VWAP price (SPEC 5 "VWAP").
PRICE_CODES = {"hlc3": 0, "close": 1, "ohlc4": 2}

_log = strategy_logger(NAME)


class VWAPMeanReversionConfig(StrategyConfig):
    """`strategies.vwap_meanrev` (SPEC 5). Off by default: the seed ships it disabled."""

    enabled: bool = Field(False, description="Run VWAP_MEANREV.")
    band_atr_frac: float = Field(0.5, gt=0, description="band = band_atr_frac x daily ATR.")
    atr_period: int = Field(20, ge=1, description="Prior sessions in the daily ATR.")
    atr_method: Literal["sma", "wilder"] = Field("sma", description="ATR average.")
    vwap_price: Literal["hlc3", "close", "ohlc4"] = Field("hlc3", description="Per-bar price in VWAP.")
    max_session_range_atr_frac: float = Field(1.0, gt=0, description="Trend day if hi-lo exceeds this x ATR before the cutoff.")
    max_open_to_high_atr_frac: float = Field(0.7, gt=0, description="Trend day if hi-O exceeds this x ATR before the cutoff.")
    max_open_to_low_atr_frac: float = Field(0.7, gt=0, description="Trend day if O-lo exceeds this x ATR before the cutoff.")
    trend_cutoff_time: dt.time = Field(dt.time(11, 0), description="Trend filter applies while bar close <= this (New York).")
    min_entry_time: dt.time = Field(dt.time(10, 0), description="Earliest trigger bar close (New York).")
    max_entry_time: dt.time = Field(dt.time(15, 30), description="Latest trigger bar close (New York).")
    stop_band_mult: float = Field(2.0, gt=0, description="Stop at least this many bands beyond VWAP.")
    max_trades_per_day: int = Field(1, ge=1, description="Signals per symbol-session.")
    one_direction_per_day: bool = Field(False, description="After the first signal, only that direction.")

    @model_validator(mode="after")
    def _entry_window_is_ordered(self) -> VWAPMeanReversionConfig:
        if self.min_entry_time > self.max_entry_time:
            raise ValueError(
                f"min_entry_time {self.min_entry_time} is after max_entry_time {self.max_entry_time}"
            )
        return self


@njit(cache=True)
def vwap_meanrev_kernel(
    ts: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    bar_ns: int,
    atr: float,
    band: float,
    price_code: int,
    max_session_range_atr_frac: float,
    max_open_to_high_atr_frac: float,
    max_open_to_low_atr_frac: float,
    trend_cutoff_ns: int,
    min_entry_ns: int,
    max_entry_ns: int,
    stop_band_mult: float,
    max_trades_per_day: int,
    one_direction_per_day: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """SPEC 5 over one symbol-session, one pass.

    Returns (bar index, direction +1 LONG / -1 SHORT, P, P_stop, P_target, vwap) for each
    signal, in bar order. Times are int64 ns UTC; ``ts`` is the bar start.
    """
    n = ts.shape[0]
    capacity = min(max(max_trades_per_day, 0), n)
    out_index = np.empty(capacity, dtype=np.int64)
    out_direction = np.empty(capacity, dtype=np.int64)
    out_p = np.empty(capacity, dtype=np.float64)
    out_stop = np.empty(capacity, dtype=np.float64)
    out_target = np.empty(capacity, dtype=np.float64)
    out_vwap = np.empty(capacity, dtype=np.float64)
    if n == 0 or capacity == 0 or math.isnan(atr):  # NaN ATR: too few prior sessions
        return out_index[:0], out_direction[:0], out_p[:0], out_stop[:0], out_target[:0], out_vwap[:0]

    range_limit = max_session_range_atr_frac * atr
    open_to_high_limit = max_open_to_high_atr_frac * atr
    open_to_low_limit = max_open_to_low_atr_frac * atr
    stop_offset = stop_band_mult * band
    session_open = open_[0]  # SPEC 5: O = the session's first open

    # SPEC 5 state per symbol-session.
    trend = False
    armed_long = False
    armed_short = False
    leg_low = 0.0
    leg_high = 0.0
    n_signals = 0
    first_direction = 0
    hi = -math.inf
    lo = math.inf
    sum_pv = 0.0
    sum_v = 0.0

    for t in range(n):
        tc = ts[t] + bar_ns  # every time rule uses the bar close time (SPEC 3.2)
        h = high[t]
        lw = low[t]
        c = close[t]

        # SPEC 5 step 1: update vwap_t, hi, lo (sums in bar order).
        if price_code == 0:
            p = (h + lw + c) / 3.0
        elif price_code == 1:
            p = c
        else:
            p = (open_[t] + h + lw + c) / 4.0
        sum_pv += p * volume[t]
        sum_v += volume[t]
        if h > hi:
            hi = h
        if lw < lo:
            lo = lw

        # SPEC 5 step 2: trend filter; needs no vwap, so it runs on zero-volume bars too.
        if tc <= trend_cutoff_ns and (
            hi - lo > range_limit
            or hi - session_open > open_to_high_limit
            or session_open - lo > open_to_low_limit
        ):
            trend = True
        if trend:
            break  # the rest of the session emits nothing

        # SPEC 5 "VWAP": while sum v = 0 vwap is undefined; skip arming/trigger/reset.
        if sum_v == 0.0:
            continue
        vwap = sum_pv / sum_v

        # SPEC 5 step 3: extend the leg of an armed side.
        if armed_long and lw < leg_low:
            leg_low = lw
        if armed_short and h > leg_high:
            leg_high = h

        # SPEC 5 step 4: entry window, daily cap, never the session's first bar.
        allowed = (
            min_entry_ns <= tc and tc <= max_entry_ns and n_signals < max_trades_per_day and t > 0
        )

        emitted = 0
        stop = 0.0
        if (
            armed_long
            and allowed
            and c > close[t - 1]
            and c > vwap - band
            and c < vwap
            and not (one_direction_per_day and first_direction == -1)
        ):
            # SPEC 5 step 5: long trigger.
            emitted = 1
            stop = vwap - stop_offset
            if leg_low < stop:
                stop = leg_low
        elif (
            armed_short
            and allowed
            and c < close[t - 1]
            and c < vwap + band
            and c > vwap
            and not (one_direction_per_day and first_direction == 1)
        ):
            # SPEC 5 step 6: short trigger (mirror).
            emitted = -1
            stop = vwap + stop_offset
            if leg_high > stop:
                stop = leg_high

        if emitted != 0:
            out_index[n_signals] = t
            out_direction[n_signals] = emitted
            out_p[n_signals] = c
            out_stop[n_signals] = stop
            out_target[n_signals] = vwap
            out_vwap[n_signals] = vwap
            # SPEC 5 step 7: count, record direction, disarm both; the trigger bar never arms.
            n_signals += 1
            if first_direction == 0:
                first_direction = emitted
            armed_long = False
            armed_short = False
            continue

        # SPEC 5 step 8: reset when the close is back through VWAP.
        if armed_long and c >= vwap:
            armed_long = False
        if armed_short and c <= vwap:
            armed_short = False

        # SPEC 5 step 9: arm on a stretch beyond the band (may happen before min_entry_time).
        if not armed_long and lw < vwap - band:
            armed_long = True
            leg_low = lw
        if not armed_short and h > vwap + band:
            armed_short = True
            leg_high = h

    return (
        out_index[:n_signals],
        out_direction[:n_signals],
        out_p[:n_signals],
        out_stop[:n_signals],
        out_target[:n_signals],
        out_vwap[:n_signals],
    )


@njit(cache=True)
def vwap_meanrev_sessions_kernel(
    ts: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    bar_ns: int,
    session_start: np.ndarray,
    sessions: np.ndarray,
    atr: np.ndarray,
    band: np.ndarray,
    price_code: int,
    max_session_range_atr_frac: float,
    max_open_to_high_atr_frac: float,
    max_open_to_low_atr_frac: float,
    trend_cutoff_ns: np.ndarray,
    min_entry_ns: np.ndarray,
    max_entry_ns: np.ndarray,
    stop_band_mult: float,
    max_trades_per_day: int,
    one_direction_per_day: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``vwap_meanrev_kernel`` over many sessions (the one home of SPEC 5), in one call.

    Session ``j`` is rows ``session_start[sessions[j]]:session_start[sessions[j] + 1]``
    with its own ATR, band and New York times; a NaN ATR (too few prior sessions) emits
    nothing. Returns (batch session j, flat bar index, direction, P, P_stop, P_target,
    vwap) per signal, sessions in order and bars in order within each.
    """
    capacity = 0
    for j in range(sessions.shape[0]):
        n = session_start[sessions[j] + 1] - session_start[sessions[j]]
        capacity += min(max(max_trades_per_day, 0), n)
    out_session = np.empty(capacity, dtype=np.int64)
    out_index = np.empty(capacity, dtype=np.int64)
    out_direction = np.empty(capacity, dtype=np.int64)
    out_p = np.empty(capacity, dtype=np.float64)
    out_stop = np.empty(capacity, dtype=np.float64)
    out_target = np.empty(capacity, dtype=np.float64)
    out_vwap = np.empty(capacity, dtype=np.float64)
    m = 0
    for j in range(sessions.shape[0]):
        if math.isnan(atr[j]):
            continue
        a = session_start[sessions[j]]
        b = session_start[sessions[j] + 1]
        index, direction, price, stop, target, vwap = vwap_meanrev_kernel(
            ts[a:b], open_[a:b], high[a:b], low[a:b], close[a:b], volume[a:b],
            bar_ns, atr[j], band[j], price_code,
            max_session_range_atr_frac, max_open_to_high_atr_frac, max_open_to_low_atr_frac,
            trend_cutoff_ns[j], min_entry_ns[j], max_entry_ns[j],
            stop_band_mult, max_trades_per_day, one_direction_per_day,
        )
        for k in range(index.shape[0]):
            out_session[m] = j
            out_index[m] = a + index[k]
            out_direction[m] = direction[k]
            out_p[m] = price[k]
            out_stop[m] = stop[k]
            out_target[m] = target[k]
            out_vwap[m] = vwap[k]
            m += 1
    return (
        out_session[:m], out_index[:m], out_direction[:m], out_p[:m], out_stop[:m], out_target[:m], out_vwap[:m],
    )


@functools.lru_cache(maxsize=8192)
def _new_york_ns(session_date: dt.date, clock: dt.time) -> int:
    # Pure function of its arguments: cached because replay asks once per bar.
    return local_time_ns(session_date, clock)


class VWAPMeanReversionStrategy:
    """SPEC 5: arm on a stretch beyond VWAP -/+ band, enter when price turns back toward VWAP."""

    name = NAME

    def __init__(self, config: VWAPMeanReversionConfig) -> None:
        self.config = config
        self._price_code = PRICE_CODES[config.vwap_price]

    def generate_signals(self, market_state: MarketState) -> list[Signal]:
        """Every signal whose trigger bar is among ``market_state.bars``.

        ATR comes from ``market_state.daily_history`` (sessions strictly before this one);
        with fewer than ``atr_period`` of them the session emits nothing (SPEC 5).
        """
        cfg = self.config
        bars = market_state.bars
        if len(bars) == 0:
            return []
        # SPEC 5 "Daily ATR for session D": prior sessions only.
        atr = daily_atr(market_state.daily_history, cfg.atr_period, cfg.atr_method)
        if math.isnan(atr):
            self._log_no_atr(market_state.symbol, market_state.session_date)
            return []
        band = cfg.band_atr_frac * atr  # constant through the session
        day = market_state.session_date
        index, direction, price, stop, target, vwap = vwap_meanrev_kernel(
            bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume,
            int(bars.bar_ns), float(atr), float(band), self._price_code,
            float(cfg.max_session_range_atr_frac), float(cfg.max_open_to_high_atr_frac),
            float(cfg.max_open_to_low_atr_frac),
            _new_york_ns(day, cfg.trend_cutoff_time),
            _new_york_ns(day, cfg.min_entry_time),
            _new_york_ns(day, cfg.max_entry_time),
            float(cfg.stop_band_mult), int(cfg.max_trades_per_day), bool(cfg.one_direction_per_day),
        )
        signals: list[Signal] = []
        for k in range(index.shape[0]):
            side: Direction = "LONG" if direction[k] > 0 else "SHORT"
            signal = Signal(
                strategy_name=NAME,
                symbol=market_state.symbol,
                direction=side,
                entry_time=utc_timestamp(int(bars.ts[index[k]]) + int(bars.bar_ns)),
                P=float(price[k]),
                P_stop=float(stop[k]),
                P_target=float(target[k]),
                meta={"vwap": float(vwap[k]), "band": float(band), "atr": float(atr)},
            )
            _log_signal(signal)
            signals.append(signal)
        return signals


    def generate_batch_signals(self, batch: SessionBatch) -> list[Signal]:
        """``generate_signals`` of every batch session, in one kernel call (BatchStrategy).

        The same ATR kernels on the same prior sessions, the same band product and the same
        per-session kernel, called from a compiled loop instead of from Python.
        """
        cfg = self.config
        bars = batch.bars
        days = batch.session_dates()
        # SPEC 5 "Daily ATR for session D": prior sessions only.
        atr = atrs_before(batch.daily, batch.history, cfg.atr_period, cfg.atr_method)
        band = cfg.band_atr_frac * atr  # constant through each session
        session, index, direction, price, stop, target, vwap = vwap_meanrev_sessions_kernel(
            bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume,
            int(bars.bar_ns), np.ascontiguousarray(bars.session_start, dtype=np.int64),
            np.ascontiguousarray(batch.sessions, dtype=np.int64), atr, band, self._price_code,
            float(cfg.max_session_range_atr_frac), float(cfg.max_open_to_high_atr_frac),
            float(cfg.max_open_to_low_atr_frac),
            self._new_york_times(days, cfg.trend_cutoff_time),
            self._new_york_times(days, cfg.min_entry_time),
            self._new_york_times(days, cfg.max_entry_time),
            float(cfg.stop_band_mult), int(cfg.max_trades_per_day), bool(cfg.one_direction_per_day),
        )
        signals: list[Signal] = []
        bar_ns = int(bars.bar_ns)
        for k in range(index.shape[0]):
            j = int(session[k])
            signals.append(Signal(
                strategy_name=NAME,
                symbol=batch.symbol,
                direction="LONG" if direction[k] > 0 else "SHORT",
                entry_time=utc_timestamp(int(bars.ts[index[k]]) + bar_ns),
                P=float(price[k]),
                P_stop=float(stop[k]),
                P_target=float(target[k]),
                meta={"vwap": float(vwap[k]), "band": float(band[j]), "atr": float(atr[j])},
            ))
        if _log.isEnabledFor(logging.DEBUG):  # the per-session path's records, in its order
            by_session = session.tolist()
            for j, day in enumerate(days):
                if math.isnan(atr[j]):
                    self._log_no_atr(batch.symbol, day)
                for k in range(bisect.bisect_left(by_session, j), bisect.bisect_right(by_session, j)):
                    _log_signal(signals[k])
        return signals

    def _log_no_atr(self, symbol: str, day: dt.date) -> None:
        _log.debug("%s %s: fewer than %d prior sessions, no ATR, no signals", symbol, day, self.config.atr_period)

    @staticmethod
    def _new_york_times(days: list[dt.date], clock: dt.time) -> np.ndarray:
        return np.array([_new_york_ns(day, clock) for day in days], dtype=np.int64)


def _log_signal(signal: Signal) -> None:
    _log.debug(
        "%s %s at %s: P=%r stop=%r target=%r",
        signal.direction, signal.symbol, signal.entry_time.isoformat(), signal.P, signal.P_stop, signal.P_target,
    )


def _build(config: StrategyConfig) -> VWAPMeanReversionStrategy:
    assert isinstance(config, VWAPMeanReversionConfig)
    return VWAPMeanReversionStrategy(config)


STRATEGY_SPEC = StrategySpec(key="vwap_meanrev", name=NAME, config_model=VWAPMeanReversionConfig, factory=_build)
