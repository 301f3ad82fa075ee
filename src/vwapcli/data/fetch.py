"""``vwapcli fetch``: fill the bar store from one source, then show what is in it.

Sources: ``synthetic`` (seeded generator), ``sample`` (the packaged synthetic sample),
``csv`` / ``parquet`` (vendor files, see :mod:`vwapcli.data.csv_import`; with
``--option-quotes``, quote files into the option-quote store, see
:mod:`vwapcli.data.option_quote_import`), or any market-data
provider from :mod:`vwapcli.data.providers` (imported lazily, so the core install never
needs vendor SDKs). Every path goes through ``BarStore.write_bars``: validated, atomic,
idempotent (re-fetching a range replaces it). Synthetic data says so in the summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from rich.table import Table

from vwapcli.data.csv_import import import_bars
from vwapcli.data.option_quote_import import quote_files, read_option_quotes
from vwapcli.data.option_quote_import import summary_table as quote_summary_table
from vwapcli.data.option_quotes import write_option_quotes
from vwapcli.data.sample import SAMPLE_PROVENANCE, SAMPLE_SYMBOLS, write_sample
from vwapcli.data.sessions import DateLike, SessionCalendar, as_date, assign_sessions
from vwapcli.data.store import BarStore, fetchable_timeframe_ns, normalize_symbol
from vwapcli.data.store_lock import store_write_lock
from vwapcli.data.synthetic import generate_market, synthetic_provenance
from vwapcli.env import Env
from vwapcli.errors import ProviderError, StoreError

SYNTHETIC_NOTE = "synthetic data, not market prices"
DEFAULT_SYNTHETIC_SYMBOLS: tuple[str, ...] = ("SPY", "QQQ")
# Six full years: enough for the SPEC 11 acceptance window (min_years 5) plus ATR warm-up.
DEFAULT_SYNTHETIC_START = dt.date(2019, 1, 1)
DEFAULT_SYNTHETIC_END = dt.date(2024, 12, 31)


@dataclass(frozen=True)
class FetchSummaryRow:
    """One line of the fetch summary table."""

    symbol: str
    sessions: int  # RTH sessions with at least one bar among the rows fetched
    bars: int  # rows written (or that would be written on --dry-run)
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    provenance: str
    dropped: int = 0  # rows dropped by --repair
    note: str = ""


def _count_sessions(bars: pd.DataFrame, symbol: str, calendar: SessionCalendar, timeframe: str) -> int:
    if bars.empty:
        return 0
    return assign_sessions(bars, symbol, timeframe, calendar).n_sessions


def _row(
    symbol: str,
    bars: pd.DataFrame,
    provenance: str,
    calendar: SessionCalendar,
    dropped: int = 0,
    note: str = "",
    timeframe: str = "1m",
) -> FetchSummaryRow:
    return FetchSummaryRow(
        symbol=symbol,
        sessions=_count_sessions(bars, symbol, calendar, timeframe),
        bars=int(bars.shape[0]),
        first=bars["ts"].iloc[0] if not bars.empty else None,
        last=bars["ts"].iloc[-1] if not bars.empty else None,
        provenance=provenance,
        dropped=dropped,
        note=note,
    )


@dataclass(frozen=True)
class FetchRequest:
    """`vwapcli fetch`: a source, the store to fill, symbols and sessions, and per-source options.

    ``seed`` is for ``synthetic``; ``path``/``tz`` for ``csv``/``parquet``; ``repair`` drops
    offending rows (counted in the summary) instead of failing; ``dry_run`` validates and
    reports without writing. ``option_quotes`` (polygon, databento) also fills the
    option-quote store read by ``pricing_source: chain`` (``chain_store``, default: the
    bar store's root); with ``csv``/``parquet`` it imports quote files instead of bars,
    ``column_map`` renaming vendor columns (``option_quote_import.parse_column_map``).
    ``feed`` (alpaca: sip | iex) and ``requests_per_minute`` (the plan's
    limit; 0: no pacing) configure a provider.
    """

    source: str
    store: Path
    symbols: tuple[str, ...] = ()
    start: DateLike | None = None
    end: DateLike | None = None
    seed: int = 7
    path: Path | None = None
    tz: str | None = None
    repair: bool = False
    dry_run: bool = False
    timeframe: str = "1m"
    option_quotes: bool = False
    chain_store: Path | None = None
    column_map: tuple[tuple[str, str], ...] = ()
    feed: str | None = None
    requests_per_minute: float | None = None


@dataclass(frozen=True)
class FetchJob:
    """A request resolved for its handler: the store opened, symbols checked, the calendar."""

    request: FetchRequest
    kind: str  # the source, lower-cased
    store: BarStore
    symbols: list[str]  # normalised; empty means the source's default
    calendar: SessionCalendar
    env: Env


def run_fetch(request: FetchRequest, env: Env) -> list[FetchSummaryRow]:
    """Fetch ``symbols`` for [start, end] from the request's source into its store; print a summary.

    All or nothing (issue 12): every argument is checked and the store proven writable
    before the first byte is written, and each symbol is published whole with its
    metadata entry, so a failure or Ctrl-C leaves the store as before or as after the
    last complete symbol. Leftovers of an interrupted earlier run are removed first, and
    the store's write lock is held throughout, so two fetches into one store never
    interleave (the second is refused in one line).
    """
    kind = request.source.strip().lower()
    if not (request.option_quotes and kind in QUOTE_FILE_SOURCES):
        fetchable_timeframe_ns(request.timeframe)
    job = FetchJob(
        request=request, kind=kind, store=BarStore(request.store),
        symbols=[normalize_symbol(s) for s in request.symbols], calendar=SessionCalendar(), env=env,
    )
    _refuse_ignored_timeframe(request, kind)
    if request.start is not None or request.end is not None:
        job.calendar.require_sessions(request.start, request.end)
    if request.dry_run:
        return _run_job(job)
    # One writer per store (data.store_lock); readers are never blocked by it.
    with store_write_lock(job.store.root):
        job.store.prepare_for_write()
        return _run_job(job)


def _run_job(job: FetchJob) -> list[FetchSummaryRow]:
    request, kind, env = job.request, job.kind, job.env
    if request.option_quotes and kind in QUOTE_FILE_SOURCES:
        _import_option_quote_files(job)
        return []
    if request.column_map:
        raise StoreError("fetch: --map renames option-quote columns; use it with --source csv --option-quotes")
    handler = FETCHERS.get(kind, _fetch_from_provider)
    rows = handler(job)
    env.console.print(summary_table(rows, source=kind, store=job.store, dry_run=request.dry_run))
    if request.dry_run:
        env.console.print("[yellow]dry run: nothing written[/]")
    return rows


#: Sources that write 1-minute bars whatever --timeframe says, and why.
ONE_MINUTE_SOURCES = {
    "synthetic": "the generator writes 1m bars",
    "sample": "the packaged sample holds 1m bars",
}


def _refuse_ignored_timeframe(request: FetchRequest, kind: str) -> None:
    """``--timeframe 5m`` given to a source that would ignore it is refused, not dropped:
    the user asked for a 5m store and would silently get 1m bars (issue 12 item 6).
    Backtests at 5m resample 1m bars anyway (SPEC 3.2), so dropping the option loses nothing."""
    if request.timeframe == "1m":
        return
    if request.option_quotes and kind in QUOTE_FILE_SOURCES:
        reason = "option quotes have no bar timeframe"
    elif kind in ONE_MINUTE_SOURCES:
        reason = f"{ONE_MINUTE_SOURCES[kind]} (a 5m run resamples them, SPEC 3.2)"
    else:
        return
    raise StoreError(f"fetch {kind}: --timeframe {request.timeframe} does not apply: {reason}; drop --timeframe")


def _fetch_synthetic(job: FetchJob) -> list[FetchSummaryRow]:
    """The seeded generator: bars and an IV index per symbol, labelled synthetic."""
    request, store = job.request, job.store
    wanted = job.symbols or list(DEFAULT_SYNTHETIC_SYMBOLS)
    first = as_date(request.start) if request.start is not None else DEFAULT_SYNTHETIC_START
    last = as_date(request.end) if request.end is not None else DEFAULT_SYNTHETIC_END
    if last < first:
        raise StoreError(f"fetch synthetic: end {last} is before start {first}")
    rows: list[FetchSummaryRow] = []
    with job.env.progress.bar("fetch synthetic", len(wanted), "symbols") as advance:
        market = generate_market(wanted, first, last, seed=request.seed, calendar=job.calendar)
        provenance = synthetic_provenance(request.seed)
        for symbol in wanted:
            bars = market.bars[symbol]
            if not request.dry_run:
                store.write_bars(
                    symbol, bars, provenance=provenance, source=f"synthetic {symbol}",
                    replace_start=first, replace_end=last, iv_index=market.iv_index[symbol],
                )
            rows.append(_row(symbol, bars, provenance, job.calendar, note=SYNTHETIC_NOTE))
            advance(1)
    return rows


def _fetch_sample(job: FetchJob) -> list[FetchSummaryRow]:
    """The packaged synthetic sample, copied symbol by symbol."""
    request = job.request
    wanted = job.symbols or list(SAMPLE_SYMBOLS)
    rows: list[FetchSummaryRow] = []
    with job.env.progress.bar("fetch sample", len(wanted), "symbols") as advance:
        for symbol in wanted:
            copied = write_sample(job.store, [symbol], request.start, request.end, dry_run=request.dry_run)
            rows.append(_row(symbol, copied[symbol], SAMPLE_PROVENANCE, job.calendar, note=SYNTHETIC_NOTE))
            advance(1)
    return rows


def _fetch_files(job: FetchJob) -> list[FetchSummaryRow]:
    """Vendor CSV or Parquet files (``--path``: a file or a folder of files)."""
    request, kind = job.request, job.kind
    if request.path is None:
        raise StoreError(f"fetch {kind}: --path is required (a file or a folder of files)")
    with job.env.progress.bar(f"fetch {kind}", 1, "imports") as advance:
        summaries = import_bars(
            request.path, job.store, symbols=job.symbols or None, tz=request.tz, repair=request.repair,
            timeframe=request.timeframe, dry_run=request.dry_run, replace_start=request.start,
            replace_end=request.end,
        )
        advance(1)
    label = f"csv import ({Path(request.path).name})"
    return [
        _row(summary.symbol, summary.bars, label, job.calendar, summary.dropped, summary.timezone_note, request.timeframe)
        for summary in summaries
    ]


def _import_option_quote_files(job: FetchJob) -> None:
    """Quote files (``--path``) into the option-quote store, all files or none.

    Re-importing a day replaces that (underlying, expiry, day) file whole, as re-fetching
    bars replaces their sessions; other expiries and days stay.
    """
    request, kind, console = job.request, job.kind, job.env.console
    if request.path is None:
        raise StoreError(f"fetch {kind} --option-quotes: --path is required (a quote file or a folder of them)")
    if request.repair:
        raise StoreError(
            f"fetch {kind} --option-quotes: --repair does not apply (crossed and one-sided quotes are "
            "always dropped and counted; any other bad row is an error to fix in the file)"
        )
    files = quote_files(request.path)
    with job.env.progress.bar("read option quotes", len(files), "files") as advance:
        quotes, report = read_option_quotes(files, dict(request.column_map), request.tz, on_file=advance)
    if job.symbols:
        present = {u.underlying for u in report.underlyings}
        absent = [s for s in job.symbols if s not in present]
        if absent:
            raise StoreError(
                f"{request.path}: no option quotes for {', '.join(absent)} (underlyings: {', '.join(sorted(present))})"
            )
        quotes = quotes[quotes["underlying"].isin(job.symbols)].reset_index(drop=True)
        report = replace(report, underlyings=tuple(u for u in report.underlyings if u.underlying in job.symbols))
    root = Path(request.chain_store) if request.chain_store is not None else job.store.root
    written: list[Path] = []
    if not request.dry_run:
        with job.env.progress.bar("write option quotes", 1, "store") as advance:
            written = write_option_quotes(root, quotes.rename(columns={"expiration": "expiry"}), source=str(request.path))
            advance(1)
    console.print(quote_summary_table(report, root, dry_run=request.dry_run))
    files_note = "nothing written (dry run)" if request.dry_run else f"{len(written):,} day files written"
    console.print(f"{report.line()}; {files_note}")


def _fetch_from_provider(job: FetchJob) -> list[FetchSummaryRow]:
    """A market-data vendor (``vwapcli.data.providers``, imported only now): the provider
    layer plans the missing sessions and writes chunk by chunk through ``BarStore.write_bars``."""
    request, kind, store, console = job.request, job.kind, job.store, job.env.console
    providers = _providers_module(kind)
    provider = providers.get_provider(
        kind, console=console, feed=request.feed, requests_per_minute=request.requests_per_minute
    )
    if not job.symbols:
        raise StoreError(f"fetch {kind}: name at least one symbol with --symbols")
    if request.start is None or request.end is None:
        raise StoreError(f"fetch {kind}: --start and --end are required")
    first, last = as_date(request.start), as_date(request.end)
    provenance = _provider_provenance(providers, provider, kind)
    if request.option_quotes and not hasattr(provider, "fetch_option_quotes"):
        raise StoreError(f"fetch {kind}: this provider serves no option quotes (use polygon or databento)")
    rows: list[FetchSummaryRow] = []
    steps = len(job.symbols) * (2 if request.option_quotes else 1)
    with job.env.progress.bar(f"fetch {kind}", steps, "downloads") as advance:
        for symbol in job.symbols:
            if request.option_quotes:
                sessions = list(job.calendar.sessions(first, last)["session_date"])
                written = providers.fetch_option_quotes_into_store(
                    Path(request.chain_store) if request.chain_store is not None else store.root, provider, symbol,
                    sessions, console=console, dry_run=request.dry_run,
                )
                advance(1)
                console.print(f"{symbol}: {written:,} option quotes {'would be ' if request.dry_run else ''}written")
            outcome = providers.fetch_into_store(
                store, provider, symbol, first, last, job.calendar,
                timeframe=request.timeframe, dry_run=request.dry_run, console=console,
            )
            advance(1)
            if request.dry_run:
                rows.append(FetchSummaryRow(
                    symbol, len(outcome.planned), 0, None, None, provenance,
                    note=f"would fetch {len(outcome.planned)} missing session(s)",
                ))
                continue
            bars = store.read_bars(symbol, first, last, timeframe=request.timeframe)
            rows.append(_row(
                symbol, bars, provenance, job.calendar, timeframe=request.timeframe,
                note=f"{outcome.rows_written:,} new bars, {len(outcome.written)} session(s) fetched",
            ))
    return rows


#: Local sources whose files may hold option quotes (``--option-quotes``).
QUOTE_FILE_SOURCES = ("csv", "parquet")

#: One handler per local source; any other name is a market-data provider.
FETCHERS: dict[str, Callable[[FetchJob], list[FetchSummaryRow]]] = {
    "synthetic": _fetch_synthetic,
    "sample": _fetch_sample,
    "csv": _fetch_files,
    "parquet": _fetch_files,
}


def _providers_module(source: str) -> Any:
    """``vwapcli.data.providers``, imported only when a vendor source is asked for."""
    try:
        import vwapcli.data.providers as providers
    except ImportError as error:
        raise ProviderError(f"source {source!r}: market-data providers are not available ({error})") from None
    return providers


def _provider_provenance(providers: Any, provider: Any, source: str) -> str:
    label = getattr(getattr(providers, "base", None), "provenance_label", None)
    return str(label(provider)) if callable(label) else str(getattr(provider, "name", source))


def summary_table(rows: list[FetchSummaryRow], source: str, store: BarStore, dry_run: bool = False) -> Table:
    """Rich table: symbol, sessions, bars, first, last, provenance (+ repaired rows); notes as caption."""
    title = f"fetch {source} -> {store.root}" + (" (dry run)" if dry_run else "")
    notes = list(dict.fromkeys(r.note for r in rows if r.note))
    if len(notes) == 1:
        caption = notes[0]
    else:
        caption = "; ".join(f"{r.symbol}: {r.note}" for r in rows if r.note)
    table = Table(title=title, caption=caption or None, caption_justify="left")
    table.add_column("symbol", no_wrap=True)
    table.add_column("sessions", justify="right")
    table.add_column("bars", justify="right")
    table.add_column("first (UTC)", no_wrap=True)
    table.add_column("last (UTC)", no_wrap=True)
    table.add_column("provenance")
    show_dropped = any(r.dropped for r in rows)
    if show_dropped:
        table.add_column("dropped (--repair)", justify="right")
    for r in rows:
        cells = [r.symbol, f"{r.sessions:,}", f"{r.bars:,}", _fmt_ts(r.first), _fmt_ts(r.last), r.provenance]
        if show_dropped:
            cells.append(f"{r.dropped:,}")
        table.add_row(*cells)
    return table


def _fmt_ts(ts: pd.Timestamp | None) -> str:
    return "-" if ts is None else ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
