"""Typed values that cross module boundaries.

Bars travel as numpy arrays (int64 nanoseconds UTC for times, float64 for prices) so
that strategy kernels can be compiled; everything a person reads is a timezone-aware
UTC ``pandas.Timestamp``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

NEW_YORK = ZoneInfo("America/New_York")
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60_000_000_000
# Prices compared or keyed exactly are held as integer micro-dollars (strikes, widths).
MICROS_PER_DOLLAR = 1_000_000

Direction = Literal["LONG", "SHORT"]

TIMEFRAME_NS: dict[str, int] = {
    "1m": NS_PER_MINUTE,
    "5m": 5 * NS_PER_MINUTE,
}


def timeframe_ns(timeframe: str) -> int:
    """Bar interval of a store timeframe ("1m", "5m") in nanoseconds."""
    try:
        return TIMEFRAME_NS[timeframe]
    except KeyError:
        raise ValueError(f"unknown timeframe {timeframe!r}; known: {sorted(TIMEFRAME_NS)}") from None


def local_time_ns(session_date: dt.date, clock: dt.time) -> int:
    """UTC nanoseconds of a New York wall-clock time on a session date (DST-aware)."""
    local = dt.datetime.combine(session_date, clock, tzinfo=NEW_YORK)
    return int(pd.Timestamp(local).tz_convert("UTC").value)


@dataclass(frozen=True, slots=True)
class SessionBars:
    """The bars of one symbol-session that are known so far, in time order.

    ``ts`` is the bar START (SPEC 3.1); a bar is known at ``ts + bar_ns`` (its close time),
    which is the time every SPEC rule is applied to.
    """

    ts: np.ndarray  # int64 ns UTC, bar start
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    bar_ns: int

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def close_time(self) -> np.ndarray:
        """Bar close times (int64 ns UTC): when each bar becomes known."""
        return self.ts + self.bar_ns

    def prefix(self, n: int) -> SessionBars:
        """The first ``n`` bars, as a live feed would have delivered them (views, no copy)."""
        return SessionBars(
            self.ts[:n], self.open[:n], self.high[:n], self.low[:n],
            self.close[:n], self.volume[:n], self.bar_ns,
        )


@dataclass(frozen=True, slots=True)
class DailyBars:
    """Daily RTH bars built from intraday bars, one row per session present in the data.

    ``true_range`` follows SPEC 5: ``max(H-L, |H-C_prev|, |L-C_prev|)``, and ``H-L`` for
    the first session in the data.
    """

    session_date: np.ndarray  # datetime64[D]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    true_range: np.ndarray

    def __len__(self) -> int:
        return int(self.session_date.shape[0])

    def before(self, n: int) -> DailyBars:
        """The first ``n`` sessions: the history strictly before session index ``n``."""
        return DailyBars(
            self.session_date[:n], self.open[:n], self.high[:n], self.low[:n],
            self.close[:n], self.true_range[:n],
        )


@dataclass(frozen=True, slots=True)
class SessionedBars:
    """All RTH bars of one symbol, grouped into exchange sessions (SPEC 3.2).

    Bars outside ``[open_D, close_D)`` are already dropped. Session ``i`` holds rows
    ``session_start[i]:session_start[i+1]`` of the flat arrays.
    """

    symbol: str
    bar_ns: int
    ts: np.ndarray  # int64 ns UTC, bar start
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    session_date: np.ndarray  # datetime64[D], one per session
    session_open_ns: np.ndarray  # int64 ns UTC
    session_close_ns: np.ndarray  # int64 ns UTC
    session_start: np.ndarray  # int64 offsets, len = n_sessions + 1

    @property
    def n_sessions(self) -> int:
        return int(self.session_date.shape[0])

    def session(self, i: int) -> SessionBars:
        """Bars of session ``i`` as views into the flat arrays."""
        a, b = int(self.session_start[i]), int(self.session_start[i + 1])
        return SessionBars(
            self.ts[a:b], self.open[a:b], self.high[a:b], self.low[a:b],
            self.close[a:b], self.volume[a:b], self.bar_ns,
        )


@dataclass(frozen=True, slots=True)
class MarketState:
    """What a strategy may know when it decides (SPEC 4): nothing after the last bar's close."""

    symbol: str
    session_date: dt.date
    session_open_ns: int
    session_close_ns: int
    bars: SessionBars  # this session's bars up to now
    daily_history: DailyBars  # sessions strictly before session_date

    def local_time_ns(self, clock: dt.time) -> int:
        """UTC ns of a New York wall-clock time on this session's date."""
        return local_time_ns(self.session_date, clock)


@dataclass(frozen=True, slots=True)
class SessionBatch:
    """Many sessions of one symbol handed to a strategy at once (a whole-history batch run).

    Why: one Python round trip per session (a ``MarketState``, a kernel call) costs more than
    the kernel itself; a strategy that can scan every session in one compiled call gets
    them all here. Batch session ``j`` is ``bars.session(sessions[j])``, whose daily history
    is ``daily.before(history[j])``: ``state(j)`` is the very ``MarketState`` the per-session
    path hands ``generate_signals``, and a strategy's batch answer must equal those answers
    concatenated in ``j`` order (tests hold it to that, field for field).
    """

    symbol: str
    bars: SessionedBars
    daily: DailyBars  # one row per session with bars (``core.daily.daily_bars``)
    sessions: np.ndarray  # int64 session indices into ``bars``, ascending, each with bars
    history: np.ndarray  # int64: rows of ``daily`` strictly before each session (its own row)

    def __len__(self) -> int:
        return int(self.sessions.shape[0])

    def session_dates(self) -> list[dt.date]:
        """Each batch session's date."""
        dates: list[dt.date] = np.asarray(self.bars.session_date)[self.sessions].astype("datetime64[D]").tolist()
        return dates

    def state(self, j: int) -> MarketState:
        """Batch session ``j`` as the per-session path sees it."""
        i = int(self.sessions[j])
        bars = self.bars
        return MarketState(
            symbol=self.symbol,
            session_date=np.datetime64(bars.session_date[i], "D").astype(dt.date),
            session_open_ns=int(bars.session_open_ns[i]),
            session_close_ns=int(bars.session_close_ns[i]),
            bars=bars.session(i),
            daily_history=self.daily.before(int(self.history[j])),  # sessions strictly before this one
        )


@dataclass(frozen=True, slots=True)
class Signal:
    """A strategy's decision on the underlying (SPEC 4). Prices are underlying dollars."""

    strategy_name: str
    symbol: str
    direction: Direction
    entry_time: pd.Timestamp  # tz-aware UTC: the trigger bar's close time
    P: float
    P_stop: float
    P_target: float
    meta: Mapping[str, float | str] = field(default_factory=dict)

    @property
    def entry_time_ns(self) -> int:
        return int(self.entry_time.value)


def new_york_date(ts_ns: int) -> dt.date:
    """The New York calendar date of a UTC nanosecond timestamp (the trade date).

    Whole seconds decide the date (floor division, so times before 1970 work too); the
    standard library's zoneinfo does the DST arithmetic in about a microsecond, which
    matters on the per-quote path.
    """
    return dt.datetime.fromtimestamp(int(ts_ns) // NS_PER_SECOND, tz=NEW_YORK).date()


def utc_timestamp(ns: int) -> pd.Timestamp:
    """A tz-aware UTC Timestamp from int64 nanoseconds."""
    return pd.Timestamp(int(ns), tz="UTC")
