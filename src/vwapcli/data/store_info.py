"""``vwapcli store info``: what the bar store holds, judged against the NYSE calendar.

A backtest over "5 years" means little if 40 sessions are missing or half-empty, so this
command reports, per symbol and timeframe: the date range, how many NYSE sessions lie in
it, how many are present, partial (fewer bars than the session length: 390 one-minute
bars, 210 on a 13:00 early close) or missing, and where the data came from (synthetic or
a vendor, from the store's provenance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.core.types import NEW_YORK, TIMEFRAME_NS
from vwapcli.env import Env
from vwapcli.errors import StoreError

INTRADAY_TIMEFRAMES = tuple(TIMEFRAME_NS)  # ("1m", "5m")
LISTED_DATES = 8  # dates listed per category before "(+N more)"


def calendar_sessions(calendar: Any, start: dt.date, end: dt.date) -> pd.DataFrame:
    """``calendar.sessions(start, end)`` with uniform types.

    Returns ``session_date`` as ``datetime.date`` and ``open_utc``/``close_utc`` as
    tz-aware UTC timestamps, sorted, whatever date/time types the calendar hands back.
    """
    raw = calendar.sessions(start, end)
    if raw is None or len(raw) == 0:
        return pd.DataFrame(
            {
                "session_date": pd.Series(dtype="object"),
                "open_utc": pd.Series(dtype="datetime64[ns, UTC]"),
                "close_utc": pd.Series(dtype="datetime64[ns, UTC]"),
            }
        )
    frame = pd.DataFrame(
        {
            "session_date": [pd.Timestamp(value).date() for value in raw["session_date"]],
            "open_utc": pd.DatetimeIndex(pd.to_datetime(list(raw["open_utc"]), utc=True)).as_unit("ns"),
            "close_utc": pd.DatetimeIndex(pd.to_datetime(list(raw["close_utc"]), utc=True)).as_unit("ns"),
        }
    )
    frame = frame[(frame["session_date"] >= start) & (frame["session_date"] <= end)]
    return frame.sort_values("session_date").reset_index(drop=True)


def session_bar_counts(bars: pd.DataFrame, sessions: pd.DataFrame) -> dict[dt.date, int]:
    """Bars whose start lies in ``[open, close)`` of each session (SPEC 3.2), by session date.

    Every session in ``sessions`` is a key (0 when it holds no bar); bars outside every
    session (pre/post-market, non-session days) are not counted anywhere.
    """
    dates = list(sessions["session_date"])
    counts = dict.fromkeys(dates, 0)
    if bars.empty or not dates:
        return counts
    ts = pd.to_datetime(bars["ts"], utc=True).to_numpy("datetime64[ns]").astype("int64")
    opens = sessions["open_utc"].to_numpy("datetime64[ns]").astype("int64")
    closes = sessions["close_utc"].to_numpy("datetime64[ns]").astype("int64")
    order = np.argsort(opens)
    index = np.searchsorted(opens[order], ts, side="right") - 1
    valid = index >= 0
    inside = np.zeros(ts.shape[0], dtype=bool)
    inside[valid] = ts[valid] < closes[order][index[valid]]
    per_session = np.bincount(order[index[inside]], minlength=len(dates))
    for position, day in enumerate(dates):
        counts[day] = int(per_session[position])
    return counts


@dataclass
class SymbolCoverage:
    """How completely one symbol-timeframe covers the NYSE sessions of its date range."""

    symbol: str
    timeframe: str
    first: dt.date
    last: dt.date
    sessions: int
    present: list[dt.date] = field(default_factory=list)
    partial: list[tuple[dt.date, int, int]] = field(default_factory=list)  # (date, bars, expected)
    missing: list[dt.date] = field(default_factory=list)
    outside_sessions: int = 0  # bars outside regular hours or on non-session days
    provenance: str = "unknown"


def symbol_coverage(
    symbol: str, timeframe: str, bars: pd.DataFrame, calendar: Any, provenance: str
) -> SymbolCoverage | None:
    """Coverage of one symbol's bars between its first and last New York date (None if empty)."""
    if bars.empty:
        return None
    ts = pd.to_datetime(bars["ts"], utc=True)
    local_dates = ts.dt.tz_convert(NEW_YORK).dt.date
    first, last = local_dates.min(), local_dates.max()
    sessions = calendar_sessions(calendar, first, last)
    counts = session_bar_counts(bars, sessions)
    bar_ns = TIMEFRAME_NS[timeframe]
    coverage = SymbolCoverage(symbol, timeframe, first, last, len(sessions), provenance=provenance)
    lengths = (
        (sessions["close_utc"] - sessions["open_utc"]).dt.total_seconds().to_numpy() * 1e9 // bar_ns
    ).astype(int)
    for day, expected in zip(sessions["session_date"], lengths, strict=True):
        count = counts[day]
        if count == 0:
            coverage.missing.append(day)
        else:
            coverage.present.append(day)
            if count < expected:
                coverage.partial.append((day, count, int(expected)))
    coverage.outside_sessions = len(bars) - sum(counts.values())
    return coverage


def store_coverage(bar_store: Any, calendar: Any) -> list[SymbolCoverage]:
    """Coverage of every intraday symbol-timeframe in a store, sorted by symbol then timeframe."""
    report: list[SymbolCoverage] = []
    for timeframe in INTRADAY_TIMEFRAMES:
        for symbol in sorted(bar_store.symbols(timeframe)):
            bars = bar_store.read_bars(symbol, timeframe=timeframe)
            coverage = symbol_coverage(
                symbol, timeframe, bars, calendar, bar_store.provenance(symbol, timeframe)
            )
            if coverage is not None:
                report.append(coverage)
    return sorted(report, key=lambda item: (item.symbol, INTRADAY_TIMEFRAMES.index(item.timeframe)))


def _list_dates(dates: list[str]) -> str:
    shown = ", ".join(dates[:LISTED_DATES])
    more = len(dates) - LISTED_DATES
    return shown + (f" (+{more} more)" if more > 0 else "")


def run_store_info(
    store: Path, env: Env, *, bar_store: Any = None, calendar: Any = None
) -> None:
    """Print the store's coverage table and, per symbol, its missing and partial sessions.

    ``bar_store``/``calendar`` default to ``BarStore(store)`` and ``SessionCalendar("XNYS")``
    (injectable for tests).
    """
    from rich.table import Table

    if bar_store is None:
        if not Path(store).is_dir():
            raise StoreError(f"{store}: no such store folder")
        from vwapcli.data.store import BarStore

        bar_store = BarStore(store)
    if calendar is None:
        from vwapcli.data.sessions import SessionCalendar

        calendar = SessionCalendar("XNYS")
    report = store_coverage(bar_store, calendar)
    if not report:
        env.console.print(f"{store}: no intraday bars stored")
        return
    table = Table(title=f"Bar store {store}")
    for header in ("symbol", "tf", "first", "last"):
        table.add_column(header)
    for header in ("sessions", "present", "partial", "missing"):
        table.add_column(header, justify="right")
    table.add_column("provenance")
    for item in report:
        table.add_row(
            item.symbol, item.timeframe, item.first.isoformat(), item.last.isoformat(),
            str(item.sessions), str(len(item.present)), str(len(item.partial)),
            str(len(item.missing)), item.provenance,
        )
    env.console.print(table)
    for item in report:
        label = f"{item.symbol} {item.timeframe}"
        if item.missing:
            env.console.print(f"{label} missing: {_list_dates([d.isoformat() for d in item.missing])}")
        if item.partial:
            partial = [f"{d.isoformat()} ({n}/{e})" for d, n, e in item.partial]
            env.console.print(f"{label} partial: {_list_dates(partial)}")
        if item.outside_sessions:
            env.console.print(
                f"{label}: {item.outside_sessions} bars outside regular sessions (dropped on read)"
            )
