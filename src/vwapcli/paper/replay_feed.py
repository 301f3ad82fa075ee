"""``--source replay``: stored sessions handed over as if they were closing live (SPEC 12).

The feed holds the run's sessions (read once through ``data.loading``, in the store's
timeframe, RTH bars only) and, at each poll, hands over every bar whose close time is at
or before the clock's now and that it has not handed over before. Nothing later is ever
visible: the loop sees the store exactly as a live provider would have delivered it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from vwapcli.core.types import SessionedBars
from vwapcli.paper.seams import FeedPoll

BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume")


def bars_frame(ts: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> pd.DataFrame:
    """The feed's bar table (seams.FeedPoll): ``ts`` the bar start, tz-aware UTC."""
    return pd.DataFrame({
        "ts": pd.DatetimeIndex(ts.astype("datetime64[ns]")).tz_localize("UTC"),
        "open": o, "high": h, "low": lo, "close": c, "volume": v,
    })


class ReplayFeed:
    """A :class:`~vwapcli.paper.seams.BarFeed` over stored sessions in [start, end].

    ``after_ns`` (per symbol) resumes a journaled session: bars starting at or before it
    were consumed already and are never handed over again.
    """

    def __init__(
        self,
        market_data: Mapping[str, SessionedBars],
        start: dt.date | None,
        end: dt.date | None,
        timeframe: str,
        after_ns: Mapping[str, int] | None = None,
    ) -> None:
        self.symbols = tuple(sorted(market_data))
        self.timeframe = timeframe
        self._bars: dict[str, SessionedBars] = {}
        self._next: dict[str, int] = {}
        self._stop: dict[str, int] = {}
        self._frames: dict[str, pd.DataFrame] = {}
        self._offset: dict[str, int] = {}
        for symbol in self.symbols:
            bars = market_data[symbol]
            dates = bars.session_date.astype("datetime64[D]")
            first = 0 if start is None else int(np.searchsorted(dates, np.datetime64(start, "D")))
            last = bars.n_sessions if end is None else int(np.searchsorted(dates, np.datetime64(end, "D"), "right"))
            a, b = int(bars.session_start[first]), int(bars.session_start[last])
            if after_ns is not None and symbol in after_ns:
                a = max(a, int(np.searchsorted(bars.ts, after_ns[symbol], side="right")))
            self._bars[symbol], self._next[symbol], self._stop[symbol] = bars, a, b
            # One table per symbol up front; a poll hands over a slice of it (building a
            # small DataFrame per poll would cost more than the engine's whole step).
            self._frames[symbol] = bars_frame(bars.ts[a:b], bars.open[a:b], bars.high[a:b], bars.low[a:b],
                                              bars.close[a:b], bars.volume[a:b])
            self._offset[symbol] = a

    @property
    def exhausted(self) -> bool:
        """Every stored bar of the range has been handed over (a replay then ends)."""
        return all(self._next[s] >= self._stop[s] for s in self.symbols)

    def first_close_ns(self) -> int | None:
        """Close time of the first bar still to come (where a replay's clock starts)."""
        closes = [
            int(self._bars[s].ts[self._next[s]]) + self._bars[s].bar_ns
            for s in self.symbols if self._next[s] < self._stop[s]
        ]
        return min(closes) if closes else None

    def poll(self, now_ns: int) -> FeedPoll:
        out: dict[str, pd.DataFrame] = {}
        for symbol in self.symbols:
            bars, a, stop = self._bars[symbol], self._next[symbol], self._stop[symbol]
            # Bars whose close (start + bar length) is at or before now.
            b = min(stop, int(np.searchsorted(bars.ts, now_ns - bars.bar_ns, side="right")))
            if b > a:
                offset = self._offset[symbol]
                out[symbol] = self._frames[symbol].iloc[a - offset : b - offset]
                self._next[symbol] = b
        return FeedPoll(out)
