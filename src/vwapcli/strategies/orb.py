"""ORB: opening-range breakout, the engine's other strategy (SPEC 6).

It exists so that "alone" and "alongside" runs and per-strategy filtering mean something.
One numba pass per session; causal, so batch and bar-by-bar runs agree.
"""

from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
from numba import njit
from pydantic import Field

from vwapcli.core.registry import StrategySpec
from vwapcli.core.strategy import StrategyConfig, strategy_logger
from vwapcli.core.types import (
    NS_PER_MINUTE,
    Direction,
    MarketState,
    SessionBatch,
    Signal,
    local_time_ns,
    utc_timestamp,
)

NAME = "ORB"

_log = strategy_logger(NAME)


class ORBConfig(StrategyConfig):
    """`strategies.orb` (SPEC 6)."""

    enabled: bool = Field(True, description="Run ORB.")
    range_minutes: int = Field(30, ge=1, description="Opening range: bars closing by open + range_minutes.")
    max_entry_time: dt.time = Field(dt.time(12, 0), description="Latest breakout bar close (New York).")
    target_range_mult: float = Field(1.0, gt=0, description="Target = P +/- this x range height.")


@njit(cache=True)
def orb_kernel(
    ts: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    bar_ns: int,
    range_end_ns: int,
    max_entry_ns: int,
) -> tuple[int, int, float, float]:
    """SPEC 6 over one symbol-session: (bar index or -1, +1 LONG / -1 SHORT, range high, range low).

    Range bars are those with close time <= ``range_end_ns``; the first later bar closing by
    ``max_entry_ns`` with a close outside the range is the breakout. At most one per session.
    """
    range_high = -math.inf
    range_low = math.inf
    have_range = False
    for t in range(ts.shape[0]):
        tc = ts[t] + bar_ns  # time rules use the bar close time (SPEC 3.2)
        if tc <= range_end_ns:
            # SPEC 6: opening range = high/low of bars with tc <= open + range_minutes.
            if high[t] > range_high:
                range_high = high[t]
            if low[t] < range_low:
                range_low = low[t]
            have_range = True
            continue
        if not have_range or tc > max_entry_ns:
            break  # no range bars, or past the entry window: nothing this session
        if close[t] > range_high:
            return t, 1, range_high, range_low
        if close[t] < range_low:
            return t, -1, range_high, range_low
    return -1, 0, range_high, range_low


@njit(cache=True)
def orb_sessions_kernel(
    ts: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    bar_ns: int,
    session_start: np.ndarray,
    sessions: np.ndarray,
    range_end_ns: np.ndarray,
    max_entry_ns: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``orb_kernel`` over many sessions (the one home of SPEC 6), in one call.

    Session ``j`` is rows ``session_start[sessions[j]]:session_start[sessions[j] + 1]``.
    Returns (batch session j, flat bar index, direction, range high, range low) per
    breakout, in session order.
    """
    n = sessions.shape[0]
    out_session = np.empty(n, dtype=np.int64)
    out_index = np.empty(n, dtype=np.int64)
    out_direction = np.empty(n, dtype=np.int64)
    out_high = np.empty(n, dtype=np.float64)
    out_low = np.empty(n, dtype=np.float64)
    m = 0
    for j in range(n):
        a = session_start[sessions[j]]
        b = session_start[sessions[j] + 1]
        index, direction, range_high, range_low = orb_kernel(
            ts[a:b], high[a:b], low[a:b], close[a:b], bar_ns, range_end_ns[j], max_entry_ns[j],
        )
        if index >= 0:
            out_session[m] = j
            out_index[m] = a + index
            out_direction[m] = direction
            out_high[m] = range_high
            out_low[m] = range_low
            m += 1
    return out_session[:m], out_index[:m], out_direction[:m], out_high[:m], out_low[:m]


@functools.lru_cache(maxsize=8192)
def _new_york_ns(session_date: dt.date, clock: dt.time) -> int:
    # Pure function of its arguments: cached because replay asks once per bar.
    return local_time_ns(session_date, clock)


class ORBStrategy:
    """SPEC 6: trade the first close outside the opening range, target one range height away."""

    name = NAME

    def __init__(self, config: ORBConfig) -> None:
        self.config = config

    def generate_signals(self, market_state: MarketState) -> list[Signal]:
        """The session's breakout signal if its trigger bar is among ``market_state.bars``."""
        cfg = self.config
        bars = market_state.bars
        if len(bars) == 0:
            return []
        range_end_ns = int(market_state.session_open_ns) + cfg.range_minutes * NS_PER_MINUTE
        max_entry_ns = _new_york_ns(market_state.session_date, cfg.max_entry_time)
        index, direction, range_high, range_low = orb_kernel(
            bars.ts, bars.high, bars.low, bars.close, int(bars.bar_ns), range_end_ns, max_entry_ns,
        )
        if index < 0:
            return []
        return [self._signal(market_state.symbol, bars.ts, bars.close, int(bars.bar_ns), index, direction,
                             range_high, range_low)]

    def generate_batch_signals(self, batch: SessionBatch) -> list[Signal]:
        """``generate_signals`` of every batch session, in one kernel call (BatchStrategy)."""
        cfg = self.config
        bars = batch.bars
        sessions = np.ascontiguousarray(batch.sessions, dtype=np.int64)
        range_end_ns = np.array(  # Python ints, as generate_signals adds them
            [open_ns + cfg.range_minutes * NS_PER_MINUTE for open_ns in bars.session_open_ns[sessions].tolist()],
            dtype=np.int64,
        )
        max_entry_ns = np.array(
            [_new_york_ns(day, cfg.max_entry_time) for day in batch.session_dates()], dtype=np.int64,
        )
        _, index, direction, range_high, range_low = orb_sessions_kernel(
            bars.ts, bars.high, bars.low, bars.close, int(bars.bar_ns),
            np.ascontiguousarray(bars.session_start, dtype=np.int64), sessions, range_end_ns, max_entry_ns,
        )
        return [
            self._signal(batch.symbol, bars.ts, bars.close, int(bars.bar_ns), i, d, h, lo)
            for i, d, h, lo in zip(index.tolist(), direction.tolist(), range_high.tolist(), range_low.tolist(),
                                   strict=True)
        ]

    def _signal(self, symbol: str, ts: np.ndarray, close: np.ndarray, bar_ns: int, index: int, direction: int,
                range_high: float, range_low: float) -> Signal:
        # SPEC 6: stop at the far side of the range, target one (scaled) range height away.
        price = float(close[index])
        height = self.config.target_range_mult * (range_high - range_low)
        side: Direction
        if direction > 0:
            side, stop, target = "LONG", range_low, price + height
        else:
            side, stop, target = "SHORT", range_high, price - height
        signal = Signal(
            strategy_name=NAME,
            symbol=symbol,
            direction=side,
            entry_time=utc_timestamp(int(ts[index]) + bar_ns),
            P=price,
            P_stop=float(stop),
            P_target=float(target),
            meta={"range_high": float(range_high), "range_low": float(range_low)},
        )
        _log.debug(
            "%s %s at %s: P=%r stop=%r target=%r",
            side, signal.symbol, signal.entry_time.isoformat(), signal.P, signal.P_stop, signal.P_target,
        )
        return signal


def _build(config: StrategyConfig) -> ORBStrategy:
    assert isinstance(config, ORBConfig)
    return ORBStrategy(config)


STRATEGY_SPEC = StrategySpec(key="orb", name=NAME, config_model=ORBConfig, factory=_build)
