"""``vwapcli fetch``: fill the bar store from one source, then show what is in it.

Sources: ``synthetic`` (seeded generator), ``sample`` (the packaged synthetic sample),
``csv`` / ``parquet`` (vendor files, see :mod:`vwapcli.data.csv_import`), or any market-data
provider from :mod:`vwapcli.data.providers` (imported lazily, so the core install never
needs vendor SDKs). Every path goes through ``BarStore.write_bars``: validated, atomic,
idempotent (re-fetching a range replaces it). Synthetic data says so in the summary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vwapcli.data.csv_import import import_bars
from vwapcli.data.sample import SAMPLE_PROVENANCE, SAMPLE_SYMBOLS, write_sample
from vwapcli.data.sessions import DateLike, SessionCalendar, as_date, assign_sessions
from vwapcli.data.store import BarStore, normalize_symbol
from vwapcli.data.synthetic import generate_market, synthetic_provenance
from vwapcli.errors import ProviderError, StoreError

LOCAL_SOURCES = ("synthetic", "sample", "csv", "parquet")
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


def run_fetch(
    source: str,
    symbols: list[str] | None,
    start: DateLike | None,
    end: DateLike | None,
    store: BarStore | Path | str,
    seed: int = 7,
    path: Path | str | None = None,
    tz: str | None = None,
    repair: bool = False,
    dry_run: bool = False,
    console: Console | None = None,
    timeframe: str = "1m",
    option_quotes: bool = False,
    chain_store: Path | str | None = None,
    feed: str | None = None,
    requests_per_minute: float | None = None,
) -> list[FetchSummaryRow]:
    """Fetch ``symbols`` for [start, end] from ``source`` into ``store``; print progress and a summary.

    ``seed`` is for ``synthetic``; ``path``/``tz`` for ``csv``/``parquet``; ``repair`` drops
    offending rows (counted in the summary) instead of failing; ``dry_run`` validates and
    reports without writing. ``option_quotes`` (polygon, databento) also fills the option-quote
    store read by ``pricing_source: chain`` (``chain_store``, default: the bar store's root).
    ``feed`` (alpaca: sip | iex) and ``requests_per_minute`` (the plan's limit; 0: no pacing)
    configure a provider.
    """
    console = console or Console()
    bar_store = store if isinstance(store, BarStore) else BarStore(store)
    kind = source.strip().lower()
    wanted = [normalize_symbol(s) for s in symbols or []]
    calendar = SessionCalendar()
    rows: list[FetchSummaryRow] = []

    progress = Progress(
        TextColumn("{task.description:<22}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=console, transient=True,
    )
    with progress:
        if kind == "synthetic":
            wanted = wanted or list(DEFAULT_SYNTHETIC_SYMBOLS)
            first = as_date(start) if start is not None else DEFAULT_SYNTHETIC_START
            last = as_date(end) if end is not None else DEFAULT_SYNTHETIC_END
            if last < first:
                raise StoreError(f"fetch synthetic: end {last} is before start {first}")
            tasks = {symbol: progress.add_task(f"{symbol}: generating", total=2) for symbol in wanted}
            market = generate_market(wanted, first, last, seed=seed, calendar=calendar)
            provenance = synthetic_provenance(seed)
            for symbol in wanted:
                task = tasks[symbol]
                progress.update(task, advance=1, description=f"{symbol}: writing")
                bars = market.bars[symbol]
                if not dry_run:
                    bar_store.write_bars(
                        symbol, bars, provenance=provenance, source=f"synthetic {symbol}",
                        replace_start=first, replace_end=last,
                    )
                    bar_store.write_iv_index(symbol, market.iv_index[symbol], provenance=provenance)
                rows.append(_row(symbol, bars, provenance, calendar, note=SYNTHETIC_NOTE))
                progress.advance(task)
        elif kind == "sample":
            wanted = wanted or list(SAMPLE_SYMBOLS)
            for symbol in wanted:
                task = progress.add_task(f"{symbol}: copying sample", total=1)
                copied = write_sample(bar_store, [symbol], start, end, dry_run=dry_run)
                rows.append(_row(symbol, copied[symbol], SAMPLE_PROVENANCE, calendar, note=SYNTHETIC_NOTE))
                progress.advance(task)
        elif kind in ("csv", "parquet"):
            if path is None:
                raise StoreError(f"fetch {kind}: --path is required (a file or a folder of files)")
            task = progress.add_task(f"{kind}: importing", total=1)
            summaries = import_bars(
                path, bar_store, symbols=wanted or None, tz=tz, repair=repair, timeframe=timeframe,
                dry_run=dry_run, replace_start=start, replace_end=end,
            )
            label = f"csv import ({Path(path).name})"
            for summary in summaries:
                rows.append(
                    _row(summary.symbol, summary.bars, label, calendar, summary.dropped, summary.timezone_note, timeframe)
                )
            progress.advance(task)
        else:
            providers = _providers_module(kind)
            provider = providers.get_provider(
                kind, console=console, feed=feed, requests_per_minute=requests_per_minute
            )
            if not wanted:
                raise StoreError(f"fetch {kind}: name at least one symbol with --symbols")
            if start is None or end is None:
                raise StoreError(f"fetch {kind}: --start and --end are required")
            first, last = as_date(start), as_date(end)
            provenance = _provider_provenance(providers, provider, kind)
            if option_quotes and not hasattr(provider, "fetch_option_quotes"):
                raise StoreError(f"fetch {kind}: this provider serves no option quotes (use polygon or databento)")
            for symbol in wanted:
                if option_quotes:
                    sessions = list(calendar.sessions(first, last)["session_date"])
                    quote_task = progress.add_task(f"{symbol}: option quotes", total=1)
                    written = providers.fetch_option_quotes_into_store(
                        Path(chain_store) if chain_store is not None else bar_store.root, provider, symbol,
                        sessions, console=console, dry_run=dry_run,
                    )
                    progress.advance(quote_task)
                    console.print(f"{symbol}: {written:,} option quotes {'would be ' if dry_run else ''}written")
                task = progress.add_task(f"{symbol}: downloading", total=1)
                # The provider layer plans the missing sessions and writes chunk by chunk
                # through BarStore.write_bars (atomic, replaces the dates it covers).
                outcome = providers.fetch_into_store(
                    bar_store, provider, symbol, first, last, calendar,
                    timeframe=timeframe, dry_run=dry_run, console=console,
                )
                progress.advance(task)
                if dry_run:
                    rows.append(FetchSummaryRow(
                        symbol, len(outcome.planned), 0, None, None, provenance,
                        note=f"would fetch {len(outcome.planned)} missing session(s)",
                    ))
                    continue
                bars = bar_store.read_bars(symbol, first, last, timeframe=timeframe)
                rows.append(_row(
                    symbol, bars, provenance, calendar, timeframe=timeframe,
                    note=f"{outcome.rows_written:,} new bars, {len(outcome.written)} session(s) fetched",
                ))

    console.print(summary_table(rows, source=kind, store=bar_store, dry_run=dry_run))
    if dry_run:
        console.print("[yellow]dry run: nothing written[/]")
    return rows


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
