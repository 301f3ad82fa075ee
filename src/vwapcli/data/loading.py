"""From the store to session-grouped arrays: what ``signals`` and ``backtest`` read.

History before ``start`` is kept on purpose: the daily ATR of the first requested session
needs ``atr_period`` earlier sessions (SPEC 5), so the arrays hold every stored session up
to ``end`` and the caller emits signals only for sessions on or after ``start``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console

from vwapcli.config import DataConfig
from vwapcli.core.types import SessionedBars, timeframe_ns
from vwapcli.data.sample import SAMPLE_PROVENANCE, sample_store
from vwapcli.data.sessions import (
    DateLike,
    SessionCalendar,
    as_date,
    assign_session_arrays,
    resample_sessioned,
    resolve_calendar,
)
from vwapcli.data.store import BarStore, normalize_symbol
from vwapcli.errors import PathAccessError, StoreError

log = logging.getLogger(__name__)


def _require_readable(root: Path) -> None:
    """Refuse a store whose folders the user may not list (issue 12 item 5): a listing that
    fails reads as "no bars" otherwise, or as an empty store replaced by the sample."""

    def refuse(error: OSError) -> None:
        raise PathAccessError.from_os_error(error) or error

    if root.exists() and not root.is_dir():
        raise PathAccessError(f"--store {root}: is a file, not a store folder (rule: a folder is expected there)")
    for folder in (root, root / "bars"):
        if folder.is_dir():
            for _ in os.walk(folder, onerror=refuse):
                if folder == root:
                    break  # the root itself: its subfolders other than bars/ are not read here


@dataclass(frozen=True, eq=False)
class MarketData(Mapping[str, SessionedBars]):
    """Validated session bars per symbol, and the store they were read from.

    A read-only mapping symbol -> ``SessionedBars`` (what signals, exits and the engine
    take); ``store`` is the folder actually read, the packaged sample's after a fallback,
    which is what a run record must name.
    """

    bars: dict[str, SessionedBars]
    store: Path

    def __getitem__(self, symbol: str) -> SessionedBars:
        return self.bars[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self.bars)

    def __len__(self) -> int:
        return len(self.bars)


@dataclass(frozen=True)
class BarRequest:
    """Which bars a command reads: the store, the symbols (none: every symbol it holds) and
    the sessions [start, end]. ``store_is_default``: the user named no store, so an empty
    ``./data`` falls back to the packaged sample (with a notice)."""

    store: Path
    symbols: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    store_is_default: bool = False

    def load(self, data: DataConfig, console: Console | None = None) -> MarketData:
        """:func:`load_market_data` for this request, in the config's timeframe and calendar."""
        return load_market_data(
            self.store, list(self.symbols) or None, self.start, self.end, data.timeframe, data.calendar,
            console, self.store_is_default,
        )


def sessions_between(
    market_data: Mapping[str, SessionedBars], start: dt.date | None, end: dt.date | None
) -> list[dt.date]:
    """Every session of any symbol in [start, end]: a run's sessions (rows of equity.parquet)."""
    return union_of_sessions([bars.session_date for bars in market_data.values()], start, end)


def union_of_sessions(
    session_dates: Iterable[np.ndarray], start: dt.date | None, end: dt.date | None
) -> list[dt.date]:
    """:func:`sessions_between` from each symbol's session dates alone (a streamed run keeps
    those, not the bars)."""
    days: set[dt.date] = set()
    for dates in session_dates:
        days.update(np.asarray(dates).astype("datetime64[D]").tolist())
    return sorted(d for d in days if (start is None or d >= start) and (end is None or d <= end))


def _present(store: BarStore, timeframe: str) -> str:
    return ", ".join(store.symbols(timeframe)) or "none"


def load_market_data(
    store: BarStore | Path | str,
    symbols: list[str] | None,
    start: DateLike | None,
    end: DateLike | None,
    timeframe: str = "1m",
    calendar: SessionCalendar | str | None = None,
    console: Console | None = None,
    store_is_default: bool = False,
) -> MarketData:
    """Validated RTH bars per symbol, grouped into sessions, from the store's first bar to ``end``.

    ``start`` only checks that the request overlaps the data: bars before it stay as ATR
    warm-up. A ``5m`` request reads the store's 5m bars, or resamples its 1m bars anchored
    at each session open when only those exist (SPEC 3.2).

    Errors: StoreError when an explicit store has no bars for a symbol, or none up to
    ``end``; DataValidationError (naming the file) for unreadable files or bad rows.
    When ``store_is_default`` and the store is empty or missing, the packaged synthetic
    sample is used instead, with a printed notice. No symbols means every symbol the store
    holds in ``timeframe``.
    """
    bar_store, requested = resolve_symbols(store, symbols, timeframe, console, store_is_default)
    cal = resolve_calendar(calendar)
    cal.require_sessions(start, end)
    result = {symbol: load_symbol(bar_store, symbol, start, end, timeframe, cal) for symbol in requested}
    return MarketData(result, Path(bar_store.root))


def resolve_symbols(
    store: BarStore | Path | str,
    symbols: list[str] | None,
    timeframe: str = "1m",
    console: Console | None = None,
    store_is_default: bool = False,
) -> tuple[BarStore, list[str]]:
    """The store actually read and the symbols to load from it, checked before any bar is read.

    What :func:`load_market_data` does before reading bars, on its own so a streamed run
    (SPEC 13: one symbol at a time, maybe on other machines) refuses a symbol the store
    lacks before any work: the packaged sample after a fallback (with the notice), the
    normalised symbols (none: every symbol the store holds), each with bar files in
    ``timeframe`` (or 1m to resample). StoreError names what is missing; an unreadable
    store is one PathAccessError line.
    """
    bar_store = store if isinstance(store, BarStore) else BarStore(store)
    _require_readable(Path(bar_store.root))
    if store_is_default and bar_store.is_empty():
        bar_store = sample_store()
        (console or Console(stderr=True)).print(
            f"[yellow]notice:[/] store {store} is empty; using the packaged sample "
            f"({', '.join(bar_store.symbols())}, {SAMPLE_PROVENANCE}). "
            "Run `vwapcli fetch` to load real data."
        )
    requested = list(symbols or []) or bar_store.symbols(timeframe) or bar_store.symbols("1m")
    if not requested:
        raise StoreError(f"{bar_store.root}: no {timeframe} bars in the store (run `vwapcli fetch` first)")
    resolved = [normalize_symbol(raw_symbol) for raw_symbol in requested]
    for symbol in resolved:
        _source_timeframe(bar_store, symbol, timeframe)
    return bar_store, resolved


def _source_timeframe(bar_store: BarStore, symbol: str, timeframe: str) -> str:
    """The stored timeframe ``symbol``'s ``timeframe`` bars come from (SPEC 3.2: 5m may be resampled from 1m)."""
    if bar_store.bar_files(symbol, timeframe):
        return timeframe
    if timeframe != "1m" and bar_store.bar_files(symbol, "1m"):
        return "1m"
    raise StoreError(
        f"{bar_store.root}: no {timeframe} bars for {symbol} "
        f"(symbols present: {_present(bar_store, timeframe)})"
    )


def load_symbol(
    bar_store: BarStore,
    symbol: str,
    start: DateLike | None,
    end: DateLike | None,
    timeframe: str,
    calendar: SessionCalendar,
) -> SessionedBars:
    """One symbol's validated RTH session bars up to ``end`` (history before ``start`` kept):
    the unit a streamed backtest loads, uses and frees (SPEC 13)."""
    source_timeframe = _source_timeframe(bar_store, symbol, timeframe)
    # One read per year file, straight into arrays (no DataFrame on the backtest path).
    bars = bar_store.read_bar_arrays(symbol, None, end, timeframe=source_timeframe)
    sessioned = assign_session_arrays(
        bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume, symbol, source_timeframe, calendar,
        copy=False,
    )
    if sessioned.n_sessions == 0:
        stored = bar_store.date_range(symbol, source_timeframe)
        span = f"{stored[0]} to {stored[1]}" if stored else "nothing"
        raise StoreError(
            f"{bar_store.root}: no {source_timeframe} session bars for {symbol} up to {end} "
            f"(store holds {span})"
        )
    if start is not None and sessioned.session_date[-1] < as_date(start):
        raise StoreError(
            f"{bar_store.root}: no {source_timeframe} bars for {symbol} on or after {as_date(start)} "
            f"(last stored session {sessioned.session_date[-1]})"
        )
    if source_timeframe != timeframe:
        log.info("%s: resampling 1m bars to %s anchored at the session open", symbol, timeframe)
        sessioned = resample_sessioned(sessioned, timeframe_ns(timeframe))
    return sessioned
