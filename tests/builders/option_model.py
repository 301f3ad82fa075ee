"""Small seeded bar sets and session tables for the option-model tests (no store needed)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from vwapcli.core.types import NS_PER_MINUTE, SessionedBars, timeframe_ns
from vwapcli.data.sessions import SessionCalendar, assign_session_arrays
from vwapcli.options.variance_clock import SessionTable


def session_table(start: str, end: str) -> SessionTable:
    """The NYSE sessions (dates, open ns, close ns) between two dates, from exchange-calendars."""
    return SessionCalendar().session_arrays(start, end)


def random_walk_bars(
    start: str,
    end: str,
    timeframe: str = "5m",
    seed: int = 7,
    bar_vol: float = 0.001,
    gap_vol: float = 0.004,
    symbol: str = "SPY",
) -> SessionedBars:
    """Every bar of every NYSE session in [start, end]: a seeded log random walk.

    Within a session each bar opens at the previous close and moves by N(0, bar_vol²) (the
    first bar of the session is scaled by 2 so the profile has an open spike); each session
    opens N(0, gap_vol²) away from the previous close.
    """
    rng = np.random.default_rng(seed)
    _, open_ns, close_ns = SessionCalendar().session_arrays(start, end)
    bar_ns = timeframe_ns(timeframe)
    ts_parts, open_parts, close_parts = [], [], []
    price = 500.0
    for o, c in zip(open_ns, close_ns, strict=True):
        starts = np.arange(o, c, bar_ns, dtype=np.int64)
        price *= float(np.exp(rng.normal(0.0, gap_vol)))
        moves = rng.normal(0.0, bar_vol, starts.shape[0])
        moves[0] *= 2.0
        closes = price * np.exp(np.cumsum(moves))
        opens = np.concatenate([[price], closes[:-1]])
        price = float(closes[-1])
        ts_parts.append(starts)
        open_parts.append(opens)
        close_parts.append(closes)
    ts = np.concatenate(ts_parts)
    opens = np.concatenate(open_parts)
    closes = np.concatenate(close_parts)
    high = np.maximum(opens, closes)
    low = np.minimum(opens, closes)
    volume = np.full(ts.shape[0], 1000.0)
    return assign_session_arrays(ts, opens, high, low, closes, volume, symbol, timeframe)


def new_york_ns(day: str, clock: str) -> int:
    """UTC ns of a New York wall-clock time ("HH:MM") on a date."""
    from vwapcli.core.types import local_time_ns

    hour, minute = (int(part) for part in clock.split(":"))
    return local_time_ns(dt.date.fromisoformat(day), dt.time(hour, minute))


MINUTE = NS_PER_MINUTE
