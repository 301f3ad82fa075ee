"""Hand-built bars for strategy and signal-pass tests (no store, no calendar).

Sessions are described as rows ``("HH:MM", open, high, low, close, volume)`` where the time
is the New York bar START; missing minutes are simply absent (SPEC 3.2: bars are not filled).
Nothing here names a particular strategy, so the file survives a strategy's removal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from vwapcli.core.types import (
    NS_PER_MINUTE,
    DailyBars,
    MarketState,
    SessionBars,
    SessionedBars,
    local_time_ns,
)

Row = tuple[str, float, float, float, float, float]

REGULAR_CLOSE = dt.time(16, 0)
EARLY_CLOSE = dt.time(13, 0)


def session_bars(session_date: dt.date, rows: Sequence[Row], bar_minutes: int = 1) -> SessionBars:
    """A ``SessionBars`` from rows of (New York start time, o, h, l, c, v)."""
    # New York has no DST switch between 00:00 and the session, so minutes since midnight
    # map linearly to UTC ns (and one conversion per session keeps big builds fast).
    midnight = local_time_ns(session_date, dt.time(0, 0))
    minutes = [60 * int(row[0][:2]) + int(row[0][3:5]) for row in rows]
    ts = midnight + np.array(minutes, dtype=np.int64) * NS_PER_MINUTE
    columns = [np.array([row[k] for row in rows], dtype=np.float64) for k in range(1, 6)]
    return SessionBars(ts, *columns, bar_ns=bar_minutes * NS_PER_MINUTE)


def daily_history(true_ranges: Sequence[float], last_date: dt.date = dt.date(2024, 1, 2)) -> DailyBars:
    """Prior sessions with exactly these true ranges (only TR matters to ATR).

    Dates are consecutive calendar days ending the day before ``last_date``; prices are
    arbitrary but consistent (H - L = TR, C inside the bar).
    """
    n = len(true_ranges)
    tr = np.array(true_ranges, dtype=np.float64)
    dates = np.array([last_date - dt.timedelta(days=n - k) for k in range(n)], dtype="datetime64[D]")
    low = np.full(n, 100.0)
    high = low + tr
    return DailyBars(dates, low.copy(), high, low, low + tr / 2, tr)


def market_state(
    session_date: dt.date,
    rows: Sequence[Row],
    history: DailyBars,
    symbol: str = "SPY",
    bar_minutes: int = 1,
    close_time: dt.time = REGULAR_CLOSE,
) -> MarketState:
    """A ``MarketState`` for one session with the given prior-session history."""
    return MarketState(
        symbol=symbol,
        session_date=session_date,
        session_open_ns=local_time_ns(session_date, dt.time(9, 30)),
        session_close_ns=local_time_ns(session_date, close_time),
        bars=session_bars(session_date, rows, bar_minutes),
        daily_history=history,
    )


def sessioned_bars(
    symbol: str,
    sessions: Sequence[tuple[dt.date, Sequence[Row]]],
    bar_minutes: int = 1,
    early_closes: Sequence[dt.date] = (),
) -> SessionedBars:
    """A ``SessionedBars`` from (date, rows) pairs in date order (a session may be empty)."""
    parts = [session_bars(day, rows, bar_minutes) for day, rows in sessions]
    starts = np.concatenate([[0], np.cumsum([len(part) for part in parts])]).astype(np.int64)

    def flat(name: str, dtype: type) -> np.ndarray:
        if not parts:
            return np.empty(0, dtype=dtype)
        return np.concatenate([getattr(part, name) for part in parts]).astype(dtype)

    return SessionedBars(
        symbol=symbol,
        bar_ns=bar_minutes * NS_PER_MINUTE,
        ts=flat("ts", np.int64),
        open=flat("open", np.float64),
        high=flat("high", np.float64),
        low=flat("low", np.float64),
        close=flat("close", np.float64),
        volume=flat("volume", np.float64),
        session_date=np.array([day for day, _ in sessions], dtype="datetime64[D]"),
        session_open_ns=np.array(
            [local_time_ns(day, dt.time(9, 30)) for day, _ in sessions], dtype=np.int64
        ),
        session_close_ns=np.array(
            [
                local_time_ns(day, EARLY_CLOSE if day in early_closes else REGULAR_CLOSE)
                for day, _ in sessions
            ],
            dtype=np.int64,
        ),
        session_start=starts,
    )


def weekdays(first: dt.date, count: int) -> list[dt.date]:
    """``count`` Monday-Friday dates from ``first`` on (holidays ignored: tests only)."""
    days: list[dt.date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def random_session_rows(
    rng: np.random.Generator,
    start_price: float = 100.0,
    step: float = 0.05,
    n_bars: int = 390,
    drop_fraction: float = 0.0,
    zero_volume_open: int = 0,
    bar_minutes: int = 1,
) -> list[Row]:
    """A random-walk session from 09:30, optionally with missing bars and silent opening bars.

    Each bar walks four ticks from the previous close. Prices are rounded to cents, as real
    prints are, so ties (close == vwap, equal closes) happen and exercise the boundary
    comparisons.
    """
    path = start_price + np.cumsum(rng.normal(0.0, step, (n_bars, 4)).ravel()).reshape(n_bars, 4)
    close = np.round(path[:, -1], 2)
    open_ = np.round(np.concatenate([[start_price], path[:-1, -1]]), 2)
    high = np.maximum(np.maximum(open_, close), np.round(path.max(axis=1), 2))
    low = np.minimum(np.minimum(open_, close), np.round(path.min(axis=1), 2))
    volume = rng.integers(0, 5000, n_bars).astype(np.float64)
    volume[:zero_volume_open] = 0.0
    keep = rng.random(n_bars) >= drop_fraction
    keep[0] = True
    rows: list[Row] = []
    for k in np.flatnonzero(keep).tolist():
        minutes = 9 * 60 + 30 + k * bar_minutes
        rows.append((
            f"{minutes // 60:02d}:{minutes % 60:02d}",
            float(open_[k]), float(high[k]), float(low[k]), float(close[k]), float(volume[k]),
        ))
    return rows


def random_sessioned_bars(
    symbol: str,
    first: dt.date,
    n_sessions: int,
    seed: int,
    n_bars: int = 390,
    step: float = 0.05,
    drop_fraction: float = 0.0,
) -> SessionedBars:
    """Several random-walk sessions, each starting where the previous one closed."""
    rng = np.random.default_rng(seed)
    sessions = []
    price = 100.0
    for day in weekdays(first, n_sessions):
        rows = random_session_rows(rng, price, step, n_bars, drop_fraction)
        price = rows[-1][4]
        sessions.append((day, rows))
    return sessioned_bars(symbol, sessions)


def sessioned_from_frame(frame, symbol: str, bar_minutes: int = 1) -> SessionedBars:
    """Regular-hours (09:30-16:00 NY) bars of a ts/open/high/low/close/volume frame, by NY date.

    A test stand-in for the data layer's calendar-based ``assign_sessions``: correct for
    spans without early closes, which is what the real-data tests use it on.
    """
    local = frame["ts"].dt.tz_convert("America/New_York")
    minute = local.dt.hour * 60 + local.dt.minute
    rth = frame[(minute >= 9 * 60 + 30) & (minute < 16 * 60)].reset_index(drop=True)
    dates = rth["ts"].dt.tz_convert("America/New_York").dt.date
    sessions = sorted(set(dates))
    counts = [int((dates == day).sum()) for day in sessions]
    return SessionedBars(
        symbol=symbol,
        bar_ns=bar_minutes * NS_PER_MINUTE,
        ts=rth["ts"].astype("int64").to_numpy() if str(rth["ts"].dt.unit) == "ns"
        else rth["ts"].dt.as_unit("ns").astype("int64").to_numpy(),
        open=rth["open"].to_numpy(np.float64),
        high=rth["high"].to_numpy(np.float64),
        low=rth["low"].to_numpy(np.float64),
        close=rth["close"].to_numpy(np.float64),
        volume=rth["volume"].to_numpy(np.float64),
        session_date=np.array(sessions, dtype="datetime64[D]"),
        session_open_ns=np.array([local_time_ns(day, dt.time(9, 30)) for day in sessions], dtype=np.int64),
        session_close_ns=np.array([local_time_ns(day, REGULAR_CLOSE) for day in sessions], dtype=np.int64),
        session_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    )
