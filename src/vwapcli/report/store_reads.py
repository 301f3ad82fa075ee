"""What the report reads from the bar store a run names: IV indexes and a benchmark.

Both reads are optional and guarded: the store may be gone, moved or unreadable by the
time a run is reported on, and the page then says why the table or the benchmark is
missing while everything else is still produced.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.core.types import local_time_ns
from vwapcli.report.metrics import NEW_YORK_TZ
from vwapcli.report.run_folder import RunFolder

DAY_NS = 86_400 * 10**9
MINUTE_NS = 60 * 10**9


def store_reader(store: str | None) -> tuple[Any, str]:
    """A BarStore for the run's store, or None and the reason it is unavailable."""
    if not store:
        return None, "run.json names no store"
    if not Path(store).exists():
        return None, f"store {store} not found"
    try:
        from vwapcli.data.store import BarStore
    except ImportError as error:
        return None, f"store reader unavailable ({error})"
    try:
        return BarStore(Path(store)), ""
    except Exception as error:
        return None, f"store {store} unreadable ({type(error).__name__}: {error})"


def read_iv_indexes(reader: Any, symbols: list[str]) -> tuple[dict[str, pd.Series], str]:
    """IV index per symbol from the store; missing ones are listed in the note."""
    found: dict[str, pd.Series] = {}
    missing = []
    for symbol in symbols:
        try:
            series = reader.read_iv_index(symbol)
        except Exception:
            series = None
        if series is None or len(series) == 0:
            missing.append(symbol)
        else:
            found[symbol] = series
    note = f"no IV index in the store for {', '.join(missing)}" if missing else ""
    return found, note


def _bar_closes(
    reader: Any, symbol: str, start: dt.date, end: dt.date, timeframe: str
) -> tuple[np.ndarray, np.ndarray]:
    """(UTC ns bar starts, closes) of ``symbol`` with New York date in [start, end].

    Only the ``ts`` and ``close`` columns of the year partitions in range are read: the
    benchmark needs nothing else, and full bar validation of ten years of minutes costs
    more than the rest of the benchmark. The two columns are still checked (no nulls;
    timezone-aware ``ts``, strictly increasing; finite, positive closes); a failure is a
    ValueError and the page goes without a benchmark.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamps: list[np.ndarray] = []
    closes: list[np.ndarray] = []
    for path in reader.bar_files(symbol, timeframe, start, end):
        table = pq.read_table(path, columns=["ts", "close"])
        ts_type = table.schema.field("ts").type
        if not (pa.types.is_timestamp(ts_type) and ts_type.tz):
            raise ValueError(f"{path}: ts is not a timezone-aware timestamp")
        ts = table.column("ts")
        close = table.column("close")
        if ts.null_count or close.null_count:
            raise ValueError(f"{path}: missing ts or close")
        stamps.append(ts.cast(pa.timestamp("ns", "UTC")).to_numpy().view("int64"))
        closes.append(close.to_numpy().astype(float))
    if not stamps:
        return np.empty(0, dtype="int64"), np.empty(0, dtype=float)
    ts_ns = np.concatenate(stamps)
    close_values = np.concatenate(closes)
    if ts_ns.size > 1 and not (np.diff(ts_ns) > 0).all():
        raise ValueError(f"{symbol} {timeframe}: ts not strictly increasing")
    if not (np.isfinite(close_values) & (close_values > 0)).all():
        raise ValueError(f"{symbol} {timeframe}: a close is not a finite positive price")
    # The window the store's read_bars uses: New York midnight of start to that after end.
    lo = local_time_ns(start, dt.time(0))
    hi = local_time_ns(end + dt.timedelta(days=1), dt.time(0))
    keep = (ts_ns >= lo) & (ts_ns < hi)
    return ts_ns[keep], close_values[keep]


def read_daily_closes(
    reader: Any, symbol: str, start: dt.date, end: dt.date, timeframe: str
) -> pd.Series:
    """Daily closes of ``symbol`` indexed by New York date: the 1d store, else intraday.

    From intraday bars the close is the last bar starting in 09:30-16:00 New York; from
    daily bars, the last bar of the date.
    """
    from_daily_bars = True
    try:
        ts_ns, closes = _bar_closes(reader, symbol, start, end, "1d")
    except Exception:  # an unreadable daily store: the intraday one still serves
        ts_ns = np.empty(0, dtype="int64")
    if not ts_ns.size:
        ts_ns, closes = _bar_closes(reader, symbol, start, end, timeframe)
        from_daily_bars = False
    utc = pd.DatetimeIndex(ts_ns.astype("datetime64[ns]")).tz_localize("UTC")
    local_ns = utc.tz_convert(NEW_YORK_TZ).tz_localize(None).to_numpy().view("int64")
    day = local_ns // DAY_NS
    if not from_daily_bars:
        minute = (local_ns - day * DAY_NS) // MINUTE_NS
        regular = (minute >= 9 * 60 + 30) & (minute < 16 * 60)
        day, closes = day[regular], closes[regular]
    # ts increases, so New York dates do too: a date's close is its last bar's.
    last = np.flatnonzero(np.append(day[1:] != day[:-1], True)) if day.size else day
    dates = (day[last] * DAY_NS).astype("datetime64[ns]")
    return pd.Series(closes[last], index=pd.DatetimeIndex(dates, name="date"), name="close")


def benchmark_returns(reader: Any, run: RunFolder) -> tuple[pd.Series | None, str]:
    """Buy-and-hold daily returns of the run's first symbol, one per run session.

    Closes are read from a few days before the run so the first session has a return;
    a session without a close carries the previous close (a 0 % day).
    """
    symbols = [str(s) for s in run.meta.get("symbols") or []]
    if reader is None:
        return None, "No benchmark: the run's bar store is unavailable."
    if not symbols:
        return None, "No benchmark: run.json lists no symbols."
    symbol = symbols[0]
    sessions = pd.DatetimeIndex(run.sessions.astype("datetime64[ns]"))
    first = (sessions[0] - pd.Timedelta(days=10)).date()
    try:
        closes = read_daily_closes(
            reader, symbol, first, sessions[-1].date(), str(run.meta.get("timeframe") or "1m")
        )
    except Exception as error:
        return None, f"No benchmark: {symbol} closes unreadable ({type(error).__name__})."
    closes = closes[~closes.index.duplicated(keep="last")].sort_index()
    prices = closes.reindex(closes.index.union(sessions)).ffill()
    returns = prices.pct_change().reindex(sessions)
    if returns.notna().sum() < 2:
        return None, f"No benchmark: fewer than two {symbol} closes in the run's range."
    returns = returns.fillna(0.0)
    returns.name = f"{symbol} buy-and-hold"
    return returns, f"Benchmark: {symbol} buy-and-hold daily returns from the run's store."
