"""One symbol's bars as paper trading knows them: finished sessions and today's so far.

The strategies get the same ``MarketState`` the backtest builds (today's bars so far, the
daily bars of every earlier session present), and exits get today's bars as a one-session
``SessionedBars``, so the SPEC 5/6/9 code runs unchanged on the bars known at each close.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from vwapcli.core.daily import daily_bars
from vwapcli.core.types import DailyBars, MarketState, SessionBars, SessionedBars


@dataclass(frozen=True)
class SessionInfo:
    """One exchange session: its date and its open and close (int64 ns UTC)."""

    date: dt.date
    open_ns: int
    close_ns: int


def sessions_before(bars: SessionedBars, day: dt.date | None) -> SessionedBars:
    """The sessions of ``bars`` strictly before ``day`` (all of them when ``day`` is None)."""
    if day is None:
        return bars
    k = int(np.searchsorted(bars.session_date.astype("datetime64[D]"), np.datetime64(day, "D")))
    end = int(bars.session_start[k])
    return SessionedBars(
        symbol=bars.symbol, bar_ns=bars.bar_ns, ts=bars.ts[:end], open=bars.open[:end], high=bars.high[:end],
        low=bars.low[:end], close=bars.close[:end], volume=bars.volume[:end],
        session_date=bars.session_date[:k], session_open_ns=bars.session_open_ns[:k],
        session_close_ns=bars.session_close_ns[:k], session_start=bars.session_start[: k + 1],
    )


def _append_session(history: SessionedBars, today: SessionBars, info: SessionInfo) -> SessionedBars:
    n = int(history.ts.shape[0])
    return SessionedBars(
        symbol=history.symbol, bar_ns=history.bar_ns,
        ts=np.concatenate([history.ts, today.ts]), open=np.concatenate([history.open, today.open]),
        high=np.concatenate([history.high, today.high]), low=np.concatenate([history.low, today.low]),
        close=np.concatenate([history.close, today.close]), volume=np.concatenate([history.volume, today.volume]),
        session_date=np.append(history.session_date.astype("datetime64[D]"), np.datetime64(info.date, "D")),
        session_open_ns=np.append(history.session_open_ns, np.int64(info.open_ns)),
        session_close_ns=np.append(history.session_close_ns, np.int64(info.close_ns)),
        session_start=np.append(history.session_start, np.int64(n + len(today))),
    )


class SymbolTape:
    """Finished sessions (``history``) and the current session's bars, appended bar by bar."""

    def __init__(self, history: SessionedBars) -> None:
        self.history = history
        self.symbol = history.symbol
        self.bar_ns = history.bar_ns
        self.daily: DailyBars = daily_bars(history)
        self.session: SessionInfo | None = None
        self._n = 0
        self._ts = np.empty(0, dtype=np.int64)
        self._prices = np.empty((5, 0))
        self.last_ts_ns: int = int(history.ts[-1]) if history.ts.shape[0] else -1

    def start_session(self, info: SessionInfo) -> None:
        """Finish the current session into the history and begin ``info``'s."""
        self.finish_session()
        self.session = info
        self._n = 0
        capacity = (info.close_ns - info.open_ns) // self.bar_ns + 1
        self._ts = np.empty(capacity, dtype=np.int64)
        self._prices = np.empty((5, capacity))  # open, high, low, close, volume

    def finish_session(self) -> None:
        if self.session is not None and self._n:
            self.history = _append_session(self.history, self.today(), self.session)
            self.daily = daily_bars(self.history)
        self.session = None
        self._n = 0

    def append(self, ts_ns: int, ohlcv: tuple[float, float, float, float, float]) -> None:
        """Add one bar of the current session (the caller checked its session and order)."""
        self._ts[self._n] = ts_ns
        self._prices[:, self._n] = ohlcv
        self._n += 1
        self.last_ts_ns = ts_ns

    def today(self) -> SessionBars:
        # Views: earlier bars never change, so a state handed out stays true.
        n, p = self._n, self._prices
        return SessionBars(self._ts[:n], p[0, :n], p[1, :n], p[2, :n], p[3, :n], p[4, :n], self.bar_ns)

    @property
    def n_today(self) -> int:
        return self._n

    def last_close(self) -> float:
        return float(self._prices[3, self._n - 1]) if self._n else float(self.history.close[-1])

    def market_state(self) -> MarketState:
        """What the strategies may know now (SPEC 4): today's bars so far, earlier dailies."""
        assert self.session is not None
        return MarketState(
            symbol=self.symbol, session_date=self.session.date, session_open_ns=self.session.open_ns,
            session_close_ns=self.session.close_ns, bars=self.today(), daily_history=self.daily,
        )

    def today_sessioned(self) -> SessionedBars:
        """Today's bars as a one-session ``SessionedBars`` (what ``exits.plan_exits`` reads)."""
        assert self.session is not None
        bars = self.today()
        return SessionedBars(
            symbol=self.symbol, bar_ns=self.bar_ns, ts=bars.ts, open=bars.open, high=bars.high, low=bars.low,
            close=bars.close, volume=bars.volume,
            session_date=np.array([np.datetime64(self.session.date, "D")]),
            session_open_ns=np.array([self.session.open_ns], dtype=np.int64),
            session_close_ns=np.array([self.session.close_ns], dtype=np.int64),
            session_start=np.array([0, len(bars)], dtype=np.int64),
        )

    def with_today(self) -> SessionedBars:
        """History plus today's bars so far (what a live quote source is built on)."""
        if self.session is None or not self._n:
            return self.history
        return _append_session(self.history, self.today(), self.session)
