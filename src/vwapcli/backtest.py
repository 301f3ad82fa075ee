"""`vwapcli backtest`: load -> signals -> engine -> a complete run folder (SPEC 10).

The command streams by symbol (SPEC 13, :mod:`vwapcli.symbol_phase`): each symbol's bars
are loaded, turned into candidates and pricing inputs, and dropped, on this process, a
local process pool or a Dask cluster; only the account walk sees every symbol.
``execute_backtest`` is the same pipeline on bars already in memory (the sweep, tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from vwapcli.app_config import AppConfig, StrategyChoice
from vwapcli.config import OptionsConfig
from vwapcli.core.types import SessionedBars
from vwapcli.data.loading import BarRequest, MarketData, resolve_symbols, sessions_between
from vwapcli.data.sessions import SessionCalendar
from vwapcli.engine import (
    MODEL_RISK_FILE,
    BacktestResult,
    QuoteSourceForScale,
    SymbolPricing,
    build_engine,
    configured_quote_source,
    not_applicable_reason,
    plan_candidates,
    reprice_trades,
    universe_quote_source,
)
from vwapcli.env import Env, NoProgress, ProgressBars
from vwapcli.output_paths import check_output_folder
from vwapcli.run_folder import default_run_dir, staged_run_dir, write_table
from vwapcli.run_record import (
    pricing_record_of,
    run_record_of,
    summary_table,
)
from vwapcli.runlog import run_log
from vwapcli.symbol_phase import SymbolPhase, run_universe

log = logging.getLogger("vwapcli.backtest")


@dataclass(frozen=True)
class BacktestRequest:
    """`vwapcli backtest`: which bars, which strategies, where the run folder goes.

    ``slippage`` overrides ``options.slippage``; ``replay`` feeds the strategies bar by bar;
    ``command`` is recorded in run.json (default: this process's argv). ``executor``
    ("local" or "dask"), ``workers`` and ``scheduler`` say where the per-symbol phase runs
    (SPEC 13); the trades are the same wherever it runs.
    """

    bars: BarRequest
    strategies: StrategyChoice = field(default_factory=StrategyChoice)
    out: Path | None = None
    slippage: float | None = None
    replay: bool = False
    command: tuple[str, ...] = ()
    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None


def execute_backtest(
    config: AppConfig,
    market_data: Mapping[str, SessionedBars],
    start: dt.date | None,
    end: dt.date | None,
    store: Path,
    progress: ProgressBars | None = None,
    replay: bool = False,
) -> BacktestResult:
    """The whole pipeline in memory (used by the CLI, the sweep and the tests).

    ``replay`` feeds the strategies bar by bar, as paper trading would; the engine loop
    is the same either way, and so are the trades.
    """
    from vwapcli.signal_run import compute_signals

    signals = compute_signals(config, market_data, start, end, replay=replay)
    candidates = plan_candidates(signals, market_data, config)
    engine = build_engine(config, market_data, store)
    sessions = sessions_between(market_data, start, end)
    with (progress or NoProgress()).bar("backtest", len(sessions), "sessions") as advance:
        return engine.run(candidates, sessions, config.enabled_strategy_names(), progress=advance)


def scaled_quote_sources(config: AppConfig, market_data: MarketData, store: Path) -> QuoteSourceForScale:
    """The configured quote source with its vol level times ``s``, for model risk (SPEC 7.1).

    ``s = 1.0`` builds exactly the source the run priced with (same function, same
    arguments, and sources are pure functions of their arguments).
    """
    return lambda s: configured_quote_source(config, market_data, store, vol_scale=s)


def streamed_quote_sources(config: AppConfig, pricing: Sequence[SymbolPricing], store: Path) -> QuoteSourceForScale:
    """:func:`scaled_quote_sources` for a streamed run: each symbol's model kept from its
    phase (the same models the run priced with), the vol level times ``s``."""
    return lambda s: universe_quote_source(config, pricing, store, vol_scale=s)


def model_risk_unavailable(options: OptionsConfig) -> str | None:
    """Why this run gets no model-risk table (None: it gets one)."""
    return not_applicable_reason(options)


def run_backtest(request: BacktestRequest, env: Env) -> Path:
    """Run a backtest into a new run folder and print the per-strategy summary."""
    if request.out is not None:  # issue 12: checked before any work
        check_output_folder(request.out)
    config = request.strategies.load()
    if request.slippage is not None:
        options = config.options.model_copy(update={"slippage": request.slippage})
        config = config.model_copy(update={"options": options})
    bars = request.bars
    run_dir = request.out if request.out is not None else default_run_dir(Path("reports"), config.enabled_strategies())
    # A weekend or pre-calendar range is named for what it is, before any folder or read.
    SessionCalendar(config.data.calendar).require_sessions(bars.start, bars.end)
    with staged_run_dir(run_dir) as staging, run_log(staging / "run.log"), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="fingerprint") as hashing:
        # After a fallback to the packaged sample, the run record names the store actually read.
        bar_store, symbols = resolve_symbols(
            bars.store, list(bars.symbols) or None, config.data.timeframe, env.console, bars.store_is_default
        )
        store = Path(bar_store.root)
        phase = SymbolPhase(config, store, bars.start, bars.end, request.replay)
        # run.json's data fingerprint hashes every bar file the run reads (1.7 GB for 100
        # symbols x 10 years): a thread does it while the run goes on (hashlib and file
        # reads release the GIL), started once any worker processes exist.
        fingerprints: list[Future[str]] = []

        def start_hashing() -> None:
            fingerprints.append(hashing.submit(bar_store.fingerprint, sorted(symbols), config.data.timeframe))

        with env.progress.bar("symbols", len(symbols), "symbols") as advance:
            universe = run_universe(
                phase, symbols, request.executor, request.workers, request.scheduler, progress=advance,
                started=start_hashing,
            )
        engine = build_engine(config, {}, store, pricer=universe.pricer)
        sessions = universe.sessions(bars.start, bars.end)
        with env.progress.bar("backtest", len(sessions), "sessions") as advance:
            result = engine.run(universe.candidates, sessions, config.enabled_strategy_names(), progress=advance)
        write_table(result.trades, staging / "trades.csv", staging / "trades.parquet")
        write_table(result.skipped, staging / "skipped.csv", None)
        write_table(result.equity, None, staging / "equity.parquet")
        unavailable = model_risk_unavailable(config.options)
        if unavailable is None:
            sources = streamed_quote_sources(config, universe.pricing, store)
            write_table(reprice_trades(result.trades, engine, sources), None, staging / MODEL_RISK_FILE)
        fingerprint = fingerprints[0].result() if fingerprints else None
        record = run_record_of(config, store, sorted(symbols), sessions, request.command, fingerprint)
        record["pricing"] = pricing_record_of(config.options, store, sorted(symbols), unavailable)
        (staging / "run.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    env.console.print(summary_table(result.trades, result.skipped))
    if request.out is None:
        env.console.print(f"run folder: [bold]{run_dir}[/bold] (default name; pass --out to choose)")
    else:
        env.console.print(f"run folder: [bold]{run_dir}[/bold]")
    return run_dir


def trades_digest(path: Path) -> str:
    """sha256 of a file: how tests and users prove two runs wrote identical trades."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
