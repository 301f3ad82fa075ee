"""``vwapcli report``: load a backtest run folder, judge it, write the HTML and metrics.json.

The report is rebuilt from the run folder alone (trades, daily equity, run.json), plus two
optional reads from the bar store the run names: the IV index (IV-tercile table) and the
first symbol's daily closes (quantstats benchmark). Both are guarded: when the store or
its reader is unavailable the page says so and everything else is still produced.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError
from rich.console import Console

from vwapcli.config import AcceptanceConfig
from vwapcli.core.types import local_time_ns
from vwapcli.env import Env
from vwapcli.errors import ExitStatus, ReportError
from vwapcli.report.acceptance import (
    Assessment,
    assess,
    verdict_rich_table,
)
from vwapcli.report.fills import fill_sensitivity, missing_reprice_columns
from vwapcli.report.html import (
    ReportPage,
    TableBlock,
    TearsheetJob,
    render_page,
    start_tearsheet,
    write_page,
)
from vwapcli.report.metrics import (
    DAILY_EXPIRY_START,
    NEW_YORK_TZ,
    breakdown,
    daily_returns,
    equity_from_trades,
    iv_tercile_labels,
    prepare_trades,
    regime_labels,
)

REQUIRED_TRADE_COLUMNS = (
    "strategy_name", "symbol", "direction", "entry_time", "exit_time", "exit_reason", "pnl",
)
REQUIRED_EQUITY_COLUMNS = ("session_date", "equity")
ALL = "all"
DAY_NS = 86_400 * 10**9
MINUTE_NS = 60 * 10**9


@dataclass(frozen=True)
class RunFolder:
    """A loaded backtest run: normalised trades, daily equity and run.json."""

    path: Path
    trades: pd.DataFrame  # prepared (metrics.prepare_trades)
    equity: pd.DataFrame  # session_date (datetime64), equity, pnl, pnl_<STRATEGY> ...
    meta: dict[str, Any]
    starting_equity: float
    acceptance: AcceptanceConfig
    strategies: list[str]  # display names: run.json "strategies" then any others traded

    @property
    def sessions(self) -> np.ndarray:
        return self.equity["session_date"].to_numpy(dtype="datetime64[D]")


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as error:
        raise ReportError(f"{path}: unreadable ({type(error).__name__}: {error})") from None


def _require(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")


def load_run(run_dir: Path) -> RunFolder:
    """Read a run folder; any problem is one ``ReportError`` line naming the file."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: run folder not found")
    meta_path = run_dir / "run.json"
    if not meta_path.is_file():
        raise ReportError(f"{meta_path}: missing (not a backtest run folder?)")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ReportError(f"{meta_path}: unreadable JSON ({error})") from None
    if not isinstance(meta, dict):
        raise ReportError(f"{meta_path}: top level must be an object")
    config = meta.get("config") or {}
    try:
        starting_equity = float((config.get("risk") or {}).get("starting_equity", 100_000.0))
        acceptance = AcceptanceConfig.model_validate(config.get("acceptance") or {})
    except (ValidationError, TypeError, ValueError, AttributeError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else None
        reason = (
            f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}" if first else str(error)
        )
        raise ReportError(f"{meta_path}: config.acceptance/risk invalid: {reason}") from None
    if not starting_equity > 0:
        raise ReportError(f"{meta_path}: config.risk.starting_equity must be > 0")

    # Parquet keeps dtypes; the CSV twin is the fallback for hand-made folders.
    trades_path = run_dir / "trades.parquet"
    if not trades_path.is_file():
        trades_path = run_dir / "trades.csv"
    if not trades_path.is_file():
        raise ReportError(f"{run_dir}: no trades.parquet or trades.csv")
    raw_trades = _read_table(trades_path)
    _require(raw_trades, REQUIRED_TRADE_COLUMNS, trades_path)
    try:
        trades = prepare_trades(raw_trades)
    except (ValueError, TypeError) as error:
        raise ReportError(f"{trades_path}: bad time or pnl value ({error})") from None
    if trades["pnl"].isna().any():
        row = int(np.flatnonzero(trades["pnl"].isna().to_numpy())[0])
        raise ReportError(f"{trades_path}: row {row + 1}: pnl is missing")

    equity_path = run_dir / "equity.parquet"
    if not equity_path.is_file():
        raise ReportError(f"{equity_path}: missing")
    equity = _read_table(equity_path)
    _require(equity, REQUIRED_EQUITY_COLUMNS, equity_path)
    equity = equity.copy()
    try:
        equity["session_date"] = pd.to_datetime(equity["session_date"]).astype("datetime64[s]")
    except (ValueError, TypeError) as error:
        raise ReportError(f"{equity_path}: bad session_date ({error})") from None
    equity = equity.sort_values("session_date", kind="stable").reset_index(drop=True)
    if equity.empty:
        raise ReportError(f"{equity_path}: no sessions")
    if equity["session_date"].duplicated().any():
        raise ReportError(f"{equity_path}: duplicate session_date")

    names = [str(name) for name in meta.get("strategies") or []]
    names += sorted(set(trades["strategy_name"].astype(str)) - set(names))
    return RunFolder(run_dir, trades, equity, meta, starting_equity, acceptance, names)


def resolve_strategy(
    run: RunFolder, requested: str, strategy_keys: Mapping[str, str] | None = None
) -> str:
    """Display name for ``requested``: a display name or a config key, case-insensitive.

    ``strategy_keys`` maps config keys to display names (the application's strategy
    catalogue); run folders outlive strategies, so a key unknown to it is not an error
    until no strategy of the run matches either.
    """
    for name in run.strategies:
        if requested == name or requested.casefold() == name.casefold():
            return name
    keys = strategy_keys or {}
    by_key = keys.get(requested) or keys.get(requested.casefold())
    if by_key is not None and by_key in run.strategies:
        return by_key
    known = ", ".join(run.strategies) or "none"
    raise ReportError(f"{run.path}: strategy {requested!r} not in this run (run has: {known})")


def strategy_trades(run: RunFolder, name: str) -> pd.DataFrame:
    """The run's trades ("all") or one strategy's."""
    if name == ALL:
        return run.trades
    return run.trades[run.trades["strategy_name"].astype(str) == name]


def daily_equity(run: RunFolder, name: str) -> pd.DataFrame:
    """session_date, pnl, equity for every session: the run's ("all") or one strategy's."""
    if name == ALL:
        daily = run.equity[["session_date", "equity"]].copy()
        daily["pnl"] = run.equity["pnl"] if "pnl" in run.equity else daily["equity"].diff()
        return daily
    # Issue 4: a strategy's own equity, rebuilt from starting equity by exit session.
    return equity_from_trades(strategy_trades(run, name), run.sessions, run.starting_equity)


def returns_series(daily: pd.DataFrame, starting_equity: float, name: str) -> pd.Series:
    """Daily returns indexed by session date, exactly as ``Assessment.returns`` has them.

    Computed before the bootstrap so the tearsheet process can start drawing sooner.
    """
    values = daily_returns(starting_equity, daily["equity"].to_numpy())
    index = pd.DatetimeIndex(daily["session_date"].to_numpy(dtype="datetime64[ns]"))
    return pd.Series(values, index=index, name=name)


def assess_run(
    run: RunFolder, dailies: dict[str, pd.DataFrame] | None = None
) -> dict[str, Assessment]:
    """Assessments for the whole run ("all") and each strategy alone.

    ``dailies`` (from ``daily_equity``, by name) saves rebuilding them when already made.
    """
    results = {}
    for name in [ALL, *run.strategies]:
        daily = dailies[name] if dailies and name in dailies else daily_equity(run, name)
        results[name] = assess(
            name, strategy_trades(run, name), daily, run.starting_equity, run.acceptance
        )
    return results


def json_ready(value: Any) -> Any:
    """A nested value with NaN as None and numpy scalars as Python ones (for json.dumps)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


def metrics_document(assessments: dict[str, Assessment]) -> str:
    """metrics.json text: sorted keys, NaN as null, infinite profit factor as Infinity."""
    document = {name: json_ready(assessment.as_dict()) for name, assessment in assessments.items()}
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


def _store_reader(store: str | None) -> tuple[Any, str]:
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


def _table_blocks(
    trades: pd.DataFrame, run: RunFolder, reader: Any, reader_note: str
) -> list[TableBlock]:
    hour = trades["entry_hour"].map(lambda h: f"{h:02d}:00")
    blocks = [
        TableBlock("Year", breakdown(trades, trades["entry_date"].dt.year)),
        TableBlock("Symbol", breakdown(trades, "symbol")),
        TableBlock("Direction", breakdown(trades, "direction")),
        TableBlock("Exit reason", breakdown(trades, "exit_reason")),
        TableBlock("Entry hour (New York)", breakdown(trades, hour)),
        TableBlock(
            "Regime (daily expiries)",
            breakdown(trades, regime_labels(trades)),
            f"SPY/QQQ list an expiry every weekday from {DAILY_EXPIRY_START:%Y-%m-%d}.",
        ),
    ]
    if reader is None:
        blocks.append(TableBlock("IV-index tercile", None, f"Skipped: {reader_note}."))
        return blocks
    symbols = sorted(set(trades["symbol"].astype(str)))
    iv_by_symbol, missing_note = read_iv_indexes(reader, symbols)
    if not iv_by_symbol:
        blocks.append(TableBlock("IV-index tercile", None, f"Skipped: {missing_note}."))
        return blocks
    labels, edges = iv_tercile_labels(trades, iv_by_symbol, run.sessions)
    order = pd.Categorical(labels, categories=["low", "mid", "high", "n/a"], ordered=True)
    note = "Prior-session IV index; tercile edges over the run's sessions: " + "; ".join(
        f"{symbol} {low:.1f} / {high:.1f}" for symbol, (low, high) in edges.items()
    )
    if missing_note:
        note += f" ({missing_note})"
    table = breakdown(trades, pd.Series(order, index=trades.index))
    blocks.append(TableBlock("IV-index tercile", table[table["trades"] > 0], note))
    return blocks


def _fill_block(trades: pd.DataFrame) -> TableBlock:
    missing = missing_reprice_columns(trades)
    if missing:
        return TableBlock("Fill sensitivity", None, f"Skipped: trades lack {', '.join(missing)}.")
    recorded = sorted({float(s) for s in trades["slippage"].dropna()}) if "slippage" in trades else []
    note = "Same trades, contracts and commissions; only the fill slippage changes."
    if recorded:
        note += " The run itself used slippage " + ", ".join(f"{s:g}" for s in recorded) + "."
    return TableBlock("Fill sensitivity", fill_sensitivity(trades), note)


def _facts(run: RunFolder, headline: Assessment) -> list[tuple[str, str]]:
    meta = run.meta
    provenance = meta.get("data_provenance") or {}
    return [
        ("Run", run.path.name),
        ("Verdict for", "all strategies" if headline.name == ALL else headline.name),
        ("Strategies in run", ", ".join(run.strategies) or "none"),
        ("Symbols", ", ".join(str(s) for s in meta.get("symbols") or []) or "n/a"),
        ("Range", f"{meta.get('start', '?')} to {meta.get('end', '?')} "
                  f"({headline.summary.sessions} sessions)"),
        ("Timeframe", str(meta.get("timeframe", "n/a"))),
        ("Data provenance", "; ".join(f"{k}: {v}" for k, v in sorted(provenance.items())) or "n/a"),
        ("Data fingerprint", str(meta.get("data_fingerprint", "n/a"))),
        ("Starting equity", f"${run.starting_equity:,.0f}"),
        ("Bootstrap", f"{run.acceptance.bootstrap_samples} resamples, seed "
                      f"{run.acceptance.bootstrap_seed}, mean block "
                      f"{run.acceptance.block_length_days} sessions"),
    ]


def _consistency_notes(run: RunFolder, assessments: dict[str, Assessment]) -> list[str]:
    """Flag a per-strategy P&L column that disagrees with the trades (engine bug canary)."""
    notes = []
    for name, assessment in assessments.items():
        column = f"pnl_{name}"
        if name == ALL or column not in run.equity:
            continue
        recorded = run.equity[column].to_numpy(dtype=float)
        rebuilt = assessment.daily["pnl"].to_numpy(dtype=float)
        if recorded.shape == rebuilt.shape and not np.allclose(recorded, rebuilt, atol=0.01):
            notes.append(f"equity.parquet {column} differs from {name}'s trades summed by exit date")
    return notes


def print_verdict(console: Console, assessment: Assessment, html_path: Path) -> None:
    """The verdict as a Rich table, then where the report went."""
    verdict = assessment.verdict
    who = "all strategies" if assessment.name == ALL else assessment.name
    table = verdict_rich_table(verdict, f"Acceptance verdict ({who}): {verdict.label}")
    console.print(table)
    if verdict.not_proven and verdict.passed:
        console.print(f"[yellow]NOT PROVEN:[/] {', '.join(verdict.not_proven)}")
    colour = "green" if verdict.passed else "red"
    console.print(f"[bold {colour}]{verdict.label}[/]  report: {html_path}")


@dataclass(frozen=True)
class ReportRequest:
    """`vwapcli report RUN_DIR`: the run, an optional strategy, where the page goes, --check.

    ``strategy_keys`` maps config keys to display names (the application's strategy
    catalogue) so ``--strategy orb`` finds ORB; run folders outlive strategies, so it may
    be empty.
    """

    run_dir: Path
    strategy: str | None = None
    out: Path | None = None
    check: bool = False
    strategy_keys: Mapping[str, str] = field(default_factory=dict)


def run_report(request: ReportRequest, env: Env) -> ExitStatus:
    """Build the report of a run folder; the exit status follows the verdict under ``check``.

    Writes the HTML (default ``<run_dir>/report.html``) and ``metrics.json`` beside it,
    prints the verdict table. With ``strategy`` (display name or config key) the page,
    the banner and the exit status are about that strategy alone; metrics.json always holds
    "all" and every strategy.
    """
    # First of all: quantstats' import and drawing (most of the time) then overlap
    # everything below on the other core (issue 6: the report within seconds).
    tearsheet = start_tearsheet()
    try:
        return _report(request, env.console, tearsheet)
    finally:
        tearsheet.close()


def _report(request: ReportRequest, console: Console, tearsheet: TearsheetJob) -> ExitStatus:
    run = load_run(Path(request.run_dir))
    strategy = request.strategy
    selected = resolve_strategy(run, strategy, request.strategy_keys) if strategy else ALL
    dailies = {selected: daily_equity(run, selected)}
    reader, reader_note = _store_reader(run.meta.get("store"))
    benchmark, benchmark_note = benchmark_returns(reader, run)
    if reader is None:
        benchmark_note = f"No benchmark: {reader_note}."
    title_scope = "all strategies" if selected == ALL else selected
    title = f"vwapcli report: {run.path.name} ({title_scope})"
    returns = returns_series(
        dailies[selected], run.starting_equity, "All strategies" if selected == ALL else selected
    )
    # The tearsheet needs only these; the bootstrap below runs while it is drawn.
    tearsheet.submit(returns, benchmark, title)

    assessments = assess_run(run, dailies)
    headline = assessments[selected]
    strategies = [assessments[name] for name in run.strategies]
    if selected != ALL:
        strategies = [headline]
    provenance = run.meta.get("data_provenance") or {}
    synthetic = [
        f"{symbol}: {source}" for symbol, source in sorted(provenance.items())
        if "synthetic" in str(source).lower()
    ]
    page = ReportPage(
        title=title,
        headline=headline,
        strategies=strategies,
        facts=_facts(run, headline),
        synthetic_sources=synthetic,
        tables=_table_blocks(headline.trades, run, reader, reader_note),
        fill_sensitivity=_fill_block(headline.trades),
        tearsheet_returns=returns,
        benchmark=benchmark,
        benchmark_note=benchmark_note,
        notes=_consistency_notes(run, assessments),
        tearsheet=tearsheet,
    )
    html_path = Path(request.out) if request.out is not None else run.path / "report.html"
    write_page(html_path, render_page(page), "metrics.json", metrics_document(assessments), "report")
    print_verdict(console, headline, html_path)
    if request.check and not headline.verdict.passed:
        return ExitStatus.CHECK_FAILED
    return ExitStatus.SUCCESS
