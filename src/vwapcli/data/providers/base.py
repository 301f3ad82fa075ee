"""What a market-data provider is, and how its bars reach the store incrementally.

A provider only knows how to ask one vendor for bars (and, for some, option quotes) on
given session dates. Everything that must behave the same for every vendor lives here:

- :func:`plan_fetch` decides which sessions to ask for: the NYSE sessions between start
  and end that the store does not hold yet (so a rerun resumes where Ctrl-C stopped it);
- :func:`fetch_into_store` asks for them a month (at most) at a time, keeps only
  regular-session bars (SPEC 3.2), stages each chunk in ``<store>/.downloads`` and
  publishes the symbol once, every year file with its metadata entry
  (``BarStore.write_bars``, all or nothing): an interrupted fetch leaves each symbol
  wholly as before or wholly fetched, and the rerun downloads only the missing chunks;
- :func:`fetch_option_quotes_into_store` does the same for option quotes, a session at a
  time, into the option-quote store of the chain quote source (SPEC 7).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vwapcli.core.types import NEW_YORK
from vwapcli.data.option_quotes import (
    OPTION_QUOTE_COLUMNS,
    OPTIONAL_QUOTE_COLUMNS,
    write_option_quotes,
)
from vwapcli.data.providers.pacing import utc_now
from vwapcli.data.store import atomic_write_table, bars_table
from vwapcli.data.store_info import calendar_sessions, session_bar_counts
from vwapcli.data.validation import validate_bars
from vwapcli.errors import ProviderError

logger = logging.getLogger("vwapcli.providers")

BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume")


@runtime_checkable
class Provider(Protocol):
    """A vendor of intraday bars.

    ``fetch_bars`` returns one row per bar: ``ts`` (timestamp[ns, UTC], bar START),
    ``open, high, low, close, volume`` (float64), sorted by ``ts`` and unique, for the
    given session dates. It may include bars outside regular hours; the caller drops them.
    ``adjustment`` says which corporate actions the prices reflect ("raw", "split", "all").
    """

    name: str
    requires_key: tuple[str, ...]
    adjustment: str

    def fetch_bars(
        self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m"
    ) -> pd.DataFrame: ...


@runtime_checkable
class OptionQuoteProvider(Protocol):
    """A vendor that can also deliver option bid/ask quotes for an underlying's chain.

    Rows: ``ts`` (UTC, the time the quote was known), ``underlying``, ``expiry`` (date),
    ``strike``, ``right`` ("C"/"P"), ``bid``, ``ask`` [, ``bid_size``, ``ask_size``].
    """

    name: str

    def fetch_option_quotes(self, underlying: str, session_dates: list[dt.date]) -> pd.DataFrame: ...


class BarStoreLike(Protocol):
    """The part of ``vwapcli.data.store.BarStore`` that fetching relies on."""

    def write_bars(
        self, symbol: str, df: pd.DataFrame, timeframe: str = ..., provenance: str = ...,
        source: str | None = ..., *, replace_dates: Any = ...,
    ) -> Any: ...

    def read_bars(
        self, symbol: str, start: Any = ..., end: Any = ..., timeframe: str = ...
    ) -> pd.DataFrame: ...

    def symbols(self, timeframe: str = ...) -> list[str]: ...


class CalendarLike(Protocol):
    """``vwapcli.data.sessions.SessionCalendar``: NYSE sessions with UTC open and close."""

    def sessions(self, start: Any, end: Any) -> pd.DataFrame: ...


# --- keys -----------------------------------------------------------------------------


def require_keys(
    provider: str, names: tuple[str, ...], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Read a provider's secrets from the environment (the only place they may come from).

    A missing or blank variable is one ``ProviderError`` line naming it; the values are
    returned to the caller and never logged.
    """
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in names:
        value = env.get(name, "").strip()
        if not value:
            raise ProviderError(f"{provider}: {name} is not set")
        values[name] = value
    return values


def provenance_label(provider: Provider) -> str:
    """Store provenance for a vendor fetch, e.g. ``alpaca (raw prices)``."""
    return f"{provider.name} ({provider.adjustment} prices)"


# --- frames ---------------------------------------------------------------------------


def ny_day_bounds(session_dates: list[dt.date]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC bounds covering whole New York days: 00:00 of the first date to 00:00 after the last.

    Vendors are asked for whole local days (so pre/post-market bars may come back; the
    session filter drops them) because a provider does not need the calendar to do so.
    """
    first, last = min(session_dates), max(session_dates)
    start = pd.Timestamp(dt.datetime.combine(first, dt.time(0), tzinfo=NEW_YORK))
    end = pd.Timestamp(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=NEW_YORK))
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def empty_bars() -> pd.DataFrame:
    """A zero-row bar frame with the store's column types."""
    frame = pd.DataFrame({column: pd.Series(dtype="float64") for column in BAR_COLUMNS})
    frame["ts"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


def normalise_bars(frame: pd.DataFrame, provider: str) -> pd.DataFrame:
    """Coerce a vendor frame to the store schema: ts[ns, UTC], float64 OHLCV, sorted, unique.

    Duplicated timestamps (page overlaps) keep the last copy. A frame without the bar
    columns is a vendor-format change: one ProviderError line rather than a KeyError.
    """
    if frame.empty:
        return empty_bars()
    missing = [column for column in BAR_COLUMNS if column not in frame.columns]
    if missing:
        raise ProviderError(f"{provider}: response lacks column(s) {', '.join(missing)}")
    out = pd.DataFrame({"ts": pd.to_datetime(frame["ts"], utc=True).astype("datetime64[ns, UTC]")})
    for column in BAR_COLUMNS[1:]:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy()
    out = out.sort_values("ts", kind="stable").drop_duplicates("ts", keep="last")
    return out.reset_index(drop=True)


def keep_session_bars(bars: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """Keep bars whose start lies in ``[open, close)`` of one of ``sessions`` (SPEC 3.2).

    The closing auction: Polygon, Alpaca and Databento stamp the closing-auction print
    just after the close (16:00:00.x), so it falls in the bar that STARTS at the close,
    which is dropped here. The last stored bar (15:59, or 12:59 on early closes) holds
    that minute's continuous trading only; no stored volume includes the auction.
    """
    if bars.empty or sessions.empty:
        return bars.iloc[0:0]
    ts = bars["ts"].to_numpy("datetime64[ns]").astype("int64")
    opens = sessions["open_utc"].to_numpy("datetime64[ns]").astype("int64")
    closes = sessions["close_utc"].to_numpy("datetime64[ns]").astype("int64")
    order = np.argsort(opens)
    opens, closes = opens[order], closes[order]
    index = np.searchsorted(opens, ts, side="right") - 1
    valid = index >= 0
    inside = np.zeros(ts.shape[0], dtype=bool)
    inside[valid] = ts[valid] < closes[index[valid]]
    return bars.loc[inside].reset_index(drop=True)


def parse_osi_symbol(symbol: str) -> tuple[str, dt.date, str, float]:
    """Split an OCC/OSI option symbol into (root, expiry, right, strike).

    ``SPY   240621C00545000`` (Databento, root padded to 6) and ``O:SPY240621C00545000``
    (Polygon) both read as ("SPY", 2024-06-21, "C", 545.0): the last 15 characters are
    YYMMDD, C/P and the strike in thousandths of a dollar.
    """
    text = symbol.strip().removeprefix("O:")
    if len(text) < 16:
        raise ValueError(f"not an OSI option symbol: {symbol!r}")
    root, tail = text[:-15].strip(), text[-15:]
    expiry = dt.date(2000 + int(tail[0:2]), int(tail[2:4]), int(tail[4:6]))
    right = tail[6]
    if right not in ("C", "P"):
        raise ValueError(f"not an OSI option symbol: {symbol!r}")
    return root, expiry, right, int(tail[7:]) / 1000.0


def empty_option_quotes() -> pd.DataFrame:
    """A zero-row option-quote frame in the store's column order."""
    frame = pd.DataFrame(
        {
            "ts": pd.Series(dtype="datetime64[ns, UTC]"),
            "underlying": pd.Series(dtype="object"),
            "expiry": pd.Series(dtype="object"),
            "strike": pd.Series(dtype="float64"),
            "right": pd.Series(dtype="object"),
            "bid": pd.Series(dtype="float64"),
            "ask": pd.Series(dtype="float64"),
            "bid_size": pd.Series(dtype="float64"),
            "ask_size": pd.Series(dtype="float64"),
        }
    )
    return frame


def month_chunks(session_dates: list[dt.date]) -> list[list[dt.date]]:
    """Group sorted dates by calendar month: the unit of one vendor request and one write."""
    chunks: dict[tuple[int, int], list[dt.date]] = {}
    for day in sorted(session_dates):
        chunks.setdefault((day.year, day.month), []).append(day)
    return list(chunks.values())


def fetch_chunks(plan: list[dt.date], calendar_dates: list[dt.date]) -> list[list[dt.date]]:
    """Split planned sessions into runs of consecutive sessions, at most a month each.

    Why runs: ``BarStore.write_bars`` replaces every stored date between the first and last
    bar it is given, so a write spanning a session the store already holds (but that was
    not refetched) would erase it. A run of consecutive calendar sessions has no such gap.
    """
    position = {day: i for i, day in enumerate(calendar_dates)}
    chunks: list[list[dt.date]] = []
    for month in month_chunks(plan):
        run = [month[0]]
        for day in month[1:]:
            if position[day] != position[run[-1]] + 1:
                chunks.append(run)
                run = []
            run.append(day)
        chunks.append(run)
    return chunks


# --- planning and fetching ------------------------------------------------------------


def _utc_now() -> pd.Timestamp:
    # The providers' clock (pacing.default_clock), so tests move "now" and waits together.
    return utc_now()


def earliest_servable(provider: object, today: dt.date, timeframe: str = "1m") -> dt.date | None:
    """The oldest session a provider can serve (yfinance 1m: ~30 days back), else None."""
    earliest = getattr(provider, "earliest_date", None)
    return earliest(today, timeframe) if callable(earliest) else None


def data_delay(provider: object) -> pd.Timedelta:
    """How long after a minute a provider serves it (Alpaca SIP on the free plan: 15 min)."""
    delay = getattr(provider, "data_delay", None)
    return pd.Timedelta(delay) if delay is not None else pd.Timedelta(0)


def plan_fetch(
    store: BarStoreLike,
    provider: Provider,
    symbol: str,
    start: dt.date,
    end: dt.date,
    calendar: CalendarLike,
    *,
    timeframe: str = "1m",
    now: pd.Timestamp | None = None,
) -> list[dt.date]:
    """NYSE sessions in ``[start, end]`` that the store lacks for ``symbol`` and can be fetched.

    A session counts as held when the store has at least one bar inside its regular hours;
    partial sessions are left alone (vendors legitimately skip minutes without trades, so
    refetching them would never converge: ``vwapcli store info`` lists them). Sessions
    that have not closed yet (or closed less than the provider's ``data_delay`` ago: its
    history would end mid-session), and sessions older than the provider can serve, are
    left out.
    """
    current = _utc_now() if now is None else pd.Timestamp(now).tz_convert("UTC")
    sessions = calendar_sessions(calendar, start, end)
    sessions = sessions[sessions["close_utc"] <= current - data_delay(provider)]
    earliest = earliest_servable(provider, current.tz_convert(NEW_YORK).date(), timeframe)
    if earliest is not None:
        sessions = sessions[sessions["session_date"] >= earliest]
    if sessions.empty:
        return []
    held: set[dt.date] = set()
    if symbol in store.symbols(timeframe):
        bars = store.read_bars(symbol, start, end, timeframe=timeframe)
        counts = session_bar_counts(bars, sessions)
        held = {day for day, count in counts.items() if count > 0}
    return [day for day in sessions["session_date"] if day not in held]


@dataclass
class FetchOutcome:
    """What one ``fetch_into_store`` call planned and did (also what ``--dry-run`` prints)."""

    provider: str
    symbol: str
    timeframe: str
    planned: list[dt.date]
    written: list[dt.date] = field(default_factory=list)
    no_data: list[dt.date] = field(default_factory=list)
    rows_written: int = 0
    dry_run: bool = False
    earliest_servable: dt.date | None = None


def _say(console: Any, text: str) -> None:
    if console is not None:
        console.print(text, highlight=False)


def _describe_dates(dates: list[dt.date]) -> str:
    if not dates:
        return "none"
    return f"{len(dates)} session(s), {dates[0].isoformat()} .. {dates[-1].isoformat()}"


def fetch_into_store(
    store: BarStoreLike,
    provider: Provider,
    symbol: str,
    start: dt.date,
    end: dt.date,
    calendar: CalendarLike,
    *,
    timeframe: str = "1m",
    dry_run: bool = False,
    console: Any = None,
    now: pd.Timestamp | None = None,
    environ: Mapping[str, str] | None = None,
) -> FetchOutcome:
    """Fetch the sessions :func:`plan_fetch` finds missing, one chunk per request, and
    publish them in one write (module docstring).

    ``dry_run`` returns the plan without touching the network or the store (and without
    needing keys). Otherwise the keys are checked before the first request so a missing
    key fails in one line at once, not after a month of downloads.
    """
    current = _utc_now() if now is None else pd.Timestamp(now).tz_convert("UTC")
    earliest = earliest_servable(provider, current.tz_convert(NEW_YORK).date(), timeframe)
    if earliest is not None and start < earliest:
        warning = (
            f"warning: {provider.name} serves {timeframe} bars only from {earliest.isoformat()} "
            f"on; sessions before that are not fetched"
        )
        logger.warning(warning)
        _say(console, f"[yellow]{warning}[/yellow]")
    plan = plan_fetch(store, provider, symbol, start, end, calendar, timeframe=timeframe, now=current)
    outcome = FetchOutcome(provider.name, symbol, timeframe, plan, dry_run=dry_run, earliest_servable=earliest)
    _say(console, f"{provider.name} {symbol} {timeframe}: missing {_describe_dates(plan)}")
    if dry_run or not plan:
        return outcome
    require_keys(provider.name, provider.requires_key, environ)
    sessions = calendar_sessions(calendar, min(plan), max(plan))
    provenance = provenance_label(provider)
    downloads = DownloadStaging.for_store(store, provider, symbol, timeframe)
    parts: list[pd.DataFrame] = []
    for chunk in fetch_chunks(plan, list(sessions["session_date"])):
        span = f"{chunk[0].isoformat()}..{chunk[-1].isoformat()}"
        chunk_sessions = sessions[sessions["session_date"].isin(chunk)]
        bars = downloads.load(chunk) if downloads is not None else None
        kept = bars is not None
        if bars is None:
            bars = normalise_bars(provider.fetch_bars(symbol, chunk, timeframe), provider.name)
            bars = keep_session_bars(bars, chunk_sessions)
            # Checked now, so a bad response is named by its span and never staged.
            bars, _ = validate_bars(bars, f"{provider.name} {symbol} {timeframe} {span}")
            if downloads is not None:
                downloads.save(chunk, bars)
        counts = session_bar_counts(bars, chunk_sessions)
        got = [day for day in chunk if counts.get(day, 0) > 0]
        outcome.no_data.extend(day for day in chunk if counts.get(day, 0) == 0)
        if bars.empty:
            _say(console, f"  {span}: no bars returned")
            continue
        parts.append(bars)
        outcome.written.extend(got)
        outcome.rows_written += len(bars)
        _say(console, f"  {span}: {len(got)} session(s), {len(bars)} bars {'kept from an interrupted run' if kept else 'downloaded'}")
    if parts:
        # One publication per symbol (issue 12): every year file and the metadata entry
        # together, so an interrupted fetch leaves this symbol wholly as it was.
        store.write_bars(
            symbol, pd.concat(parts, ignore_index=True), timeframe=timeframe, provenance=provenance,
            source=f"{provider.name} {symbol} {timeframe} {plan[0].isoformat()}..{plan[-1].isoformat()}",
            replace_dates=outcome.written,  # the sessions fetched; the ones between them stay
        )
        _say(console, f"  {symbol}: {len(outcome.written)} session(s), {outcome.rows_written} bars published")
    if downloads is not None:
        downloads.clear()
    if outcome.no_data:
        logger.warning(
            "%s: no bars for %s %s on %s", provider.name, symbol, timeframe,
            ", ".join(day.isoformat() for day in outcome.no_data),
        )
        _say(console, f"[yellow]{provider.name} returned no bars for {_describe_dates(outcome.no_data)}[/yellow]")
    return outcome


@dataclass(frozen=True)
class DownloadStaging:
    """Chunks downloaded for one symbol but not yet published: ``<store>/.downloads/...``.

    Why: a symbol is published whole (issue 12), and a long provider range can take hours
    of paced requests. Ctrl-C or a vendor failure mid-symbol publishes nothing, but the
    chunks already downloaded stay here, so the rerun asks the vendor only for the rest
    (resumable per chunk, published per symbol). Readers never see this folder (hidden,
    outside ``bars/``); it is keyed by the provenance (vendor, adjustment, feed), timeframe
    and symbol so nothing staged by another source is ever reused, and it is removed once
    the symbol is published. A chunk is staged only after it passed validation.
    """

    folder: Path

    @classmethod
    def for_store(cls, store: Any, provider: Provider, symbol: str, timeframe: str) -> DownloadStaging | None:
        root = getattr(store, "root", None)
        if root is None:
            return None
        source = "-".join([provenance_label(provider), str(getattr(provider, "feed", "") or "")])
        slug = re.sub(r"[^A-Za-z0-9]+", "-", source).strip("-").lower()
        return cls(Path(root) / DOWNLOADS_FOLDER / slug / timeframe / symbol)

    def _path(self, chunk: list[dt.date]) -> Path:
        return self.folder / f"{chunk[0].isoformat()}_{chunk[-1].isoformat()}_{len(chunk)}.parquet"

    def load(self, chunk: list[dt.date]) -> pd.DataFrame | None:
        """The staged bars of ``chunk``, or None (not staged, or unreadable: fetch again)."""
        path = self._path(chunk)
        if not path.is_file():
            return None
        try:
            return pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError, ValueError):
            return None

    def save(self, chunk: list[dt.date], bars: pd.DataFrame) -> None:
        atomic_write_table(bars_table(bars), self._path(chunk))

    def clear(self) -> None:
        """Remove this symbol's staged chunks and every folder left empty up to the store."""
        if self.folder.is_dir():
            shutil.rmtree(self.folder)
        folder = self.folder.parent
        while folder.name and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            if folder.name == DOWNLOADS_FOLDER:
                break
            folder = folder.parent


#: Hidden folder of a store holding downloaded, unpublished chunks (``DownloadStaging``).
DOWNLOADS_FOLDER = ".downloads"


OptionQuoteWriter = Callable[[Any, pd.DataFrame], Any]


def normalise_option_quotes(frame: pd.DataFrame, provider: str) -> pd.DataFrame:
    """Coerce vendor quotes to the option-store schema; rows without both sides are dropped.

    A side the vendor left undefined (NaN) or negative cannot be stored (the option store
    rejects it). Crossed or locked quotes are kept: they are real data, and the chain
    quote source rejects them at lookup time, where the reason is logged per trade.
    """
    if frame.empty:
        return empty_option_quotes()
    missing = [column for column in OPTION_QUOTE_COLUMNS if column not in frame.columns]
    if missing:
        raise ProviderError(f"{provider}: option quotes lack column(s) {', '.join(missing)}")
    out = pd.DataFrame(
        {
            "ts": pd.to_datetime(frame["ts"], utc=True).astype("datetime64[ns, UTC]"),
            "underlying": frame["underlying"].astype(str).to_numpy(),
            "expiry": [pd.Timestamp(value).date() for value in frame["expiry"]],
            "strike": pd.to_numeric(frame["strike"]).astype("float64").to_numpy(),
            "right": frame["right"].astype(str).to_numpy(),
            "bid": pd.to_numeric(frame["bid"], errors="coerce").astype("float64").to_numpy(),
            "ask": pd.to_numeric(frame["ask"], errors="coerce").astype("float64").to_numpy(),
        }
    )
    for column in OPTIONAL_QUOTE_COLUMNS:
        if column in frame.columns:
            out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64").to_numpy()
    usable = out["bid"].notna() & out["ask"].notna() & (out["bid"] >= 0) & (out["ask"] >= 0)
    dropped = int((~usable).sum())
    if dropped:
        logger.info("%s: dropped %d one-sided option quotes", provider, dropped)
    out = out.loc[usable]
    keys = ["ts", "expiry", "right", "strike"]
    out = out.sort_values(keys, kind="stable").drop_duplicates(keys, keep="last")
    return out.reset_index(drop=True)


def fetch_option_quotes_into_store(
    root: Any,
    provider: OptionQuoteProvider,
    underlying: str,
    session_dates: list[dt.date],
    *,
    writer: OptionQuoteWriter | None = None,
    console: Any = None,
    dry_run: bool = False,
) -> int:
    """Fetch an underlying's option quotes one session at a time into the option store.

    One session per request and per write: chains are large (hundreds of contracts times
    390 minutes), and a per-session write is the unit a rerun can skip or redo.
    Returns the number of quote rows written.
    """
    dates = sorted(session_dates)
    _say(console, f"{provider.name} {underlying} option quotes: {_describe_dates(dates)}")
    if dry_run or not dates:
        return 0
    write = writer or write_option_quotes
    total = 0
    for day in dates:
        quotes = normalise_option_quotes(provider.fetch_option_quotes(underlying, [day]), provider.name)
        if quotes.empty:
            _say(console, f"  {day.isoformat()}: no quotes returned")
            continue
        write(root, quotes)
        total += len(quotes)
        _say(console, f"  {day.isoformat()}: {len(quotes)} quotes written")
    return total
