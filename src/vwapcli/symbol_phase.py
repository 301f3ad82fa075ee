"""A backtest's per-symbol phase, one symbol at a time (SPEC 13: memory flat in the symbols).

Why: a run's bars are by far its largest data (10 years of 1-minute bars: about 50 MB a
symbol), yet only the account walk is global. Everything before it depends on one symbol
alone: its bars, sessions, signals, SPEC 9 exits, and the option model's inputs (the
session model's history and variance clock, the flat model's daily closes). So each
symbol's bars are loaded, used and dropped in one task, which returns only what the walk
needs:

* the symbol's candidates (signals with their planned exits; the underlying's level at
  entry and exit travels with them, which is all option pricing reads of the bars);
* its pricing inputs (``engine.SymbolPricing``: the compact option model and its first
  and last session) and its candidates already priced (pricing does not depend on the
  account, and each symbol's exchange sessions run to the calendar's end, so a task
  prices exactly as the walk's pricer would; the walk only looks prices up);
* its session dates (the run's sessions are their union).

Tasks run through :mod:`vwapcli.executors`: in this process, on a local process pool or
on a Dask cluster. A task gets only the config and the store's path; each worker reads its
own symbol from the store (the bars are never shipped), so remote workers need the store
at the same path. Results are merged by value (``engine.in_signal_order``), so every
executor and every worker count gives the same trades, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vwapcli.app_config import AppConfig
from vwapcli.core.skips import Skip
from vwapcli.data.loading import load_symbol, union_of_sessions
from vwapcli.data.sessions import SessionCalendar
from vwapcli.data.store import BarStore
from vwapcli.engine import (
    Candidate,
    PricedCandidate,
    SpreadPricer,
    SymbolPricing,
    in_signal_order,
    plan_candidates,
    symbol_pricing,
    universe_pricer,
)
from vwapcli.engine.candidates import PricingKey
from vwapcli.executors import run_tasks
from vwapcli.signal_run import compute_signals


@dataclass(frozen=True)
class SymbolPhase:
    """What every symbol's task shares: small and picklable, shipped once per worker.

    ``store`` is the folder the bars are read from (after any fallback to the packaged
    sample); ``start``/``end`` the run's sessions (history before ``start`` is ATR and
    option-model warm-up); ``replay`` feeds the strategies bar by bar.
    """

    config: AppConfig
    store: Path
    start: dt.date | None
    end: dt.date | None
    replay: bool = False


@dataclass(frozen=True)
class SymbolResult:
    """One symbol's share of the run, without its bars."""

    symbol: str
    candidates: list[Candidate]
    session_dates: np.ndarray  # datetime64[D], every session in the data (warm-up included)
    pricing: SymbolPricing
    prices: dict[PricingKey, PricedCandidate | Skip]  # every candidate without a planned skip


@dataclass(frozen=True)
class Universe:
    """Every symbol's phase merged: what the global account walk needs."""

    symbols: list[str]  # as requested
    candidates: list[Candidate]  # in signal order (entry time, symbol, strategy)
    pricing: list[SymbolPricing]  # in ``symbols`` order
    session_dates: list[np.ndarray]
    pricer: SpreadPricer  # the walk's; every candidate without a planned skip already priced

    def sessions(self, start: dt.date | None, end: dt.date | None) -> list[dt.date]:
        """The run's sessions in [start, end] (rows of equity.parquet)."""
        return union_of_sessions(self.session_dates, start, end)


def run_symbol(phase: SymbolPhase, symbol: str) -> SymbolResult:
    """Load ``symbol``'s bars, compute its signals, exits and pricing inputs, and price its
    candidates; the bars die here."""
    config = phase.config
    bars = load_symbol(
        BarStore(phase.store), symbol, phase.start, phase.end, config.data.timeframe,
        SessionCalendar(config.data.calendar),
    )
    market = {symbol: bars}
    signals = compute_signals(config, market, phase.start, phase.end, replay=phase.replay)
    candidates = plan_candidates(signals, market, config)
    pricing = symbol_pricing(config, symbol, bars, phase.store)
    # Priced here, legs in array calls (the walk never prices a candidate with a planned skip).
    pricer = universe_pricer(config, [pricing], phase.store)
    prices = pricer.prices_of((c for c in candidates if c.skip_reason is None), config.options.dte)
    return SymbolResult(
        symbol=symbol,
        candidates=candidates,
        session_dates=np.array(bars.session_date, dtype="datetime64[D]"),  # a copy: no view of the bars
        pricing=pricing,
        prices=prices,
    )


def default_symbol_workers(n_symbols: int) -> int:
    """One worker per core, never more than there are symbols."""
    return max(1, min(os.cpu_count() or 1, n_symbols))


def run_universe(
    phase: SymbolPhase,
    symbols: Sequence[str],
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    started: Callable[[], None] | None = None,
) -> Universe:
    """Every symbol's phase on ``executor`` ("local": a process pool of ``workers``, default
    one per core up to the symbol count, in this process when that is one; "dask": the
    cluster at ``scheduler``, else a LocalCluster), merged deterministically.

    Each task also prices its symbol's candidates (:func:`run_symbol`); the walk's pricer
    takes those answers as its own. ``progress(1)`` is called as each symbol finishes;
    ``started()`` once the tasks are handed out (``executors.run_tasks``).
    """
    n_workers = workers or default_symbol_workers(len(symbols))
    where = "inline" if executor == "local" and min(n_workers, len(symbols)) <= 1 else executor
    results: list[SymbolResult] = run_tasks(
        run_symbol, list(symbols), phase, executor=where, workers=n_workers, scheduler=scheduler,
        progress=None if progress is None else (lambda _: progress(1)), started=started,
    )
    config = phase.config
    pricing = [result.pricing for result in results]
    pricer = universe_pricer(config, pricing, phase.store)
    for result in results:
        pricer.remember(config.options.dte, result.prices)
    return Universe(
        symbols=list(symbols),
        candidates=in_signal_order(result.candidates for result in results),
        pricing=pricing,
        session_dates=[result.session_dates for result in results],
        pricer=pricer,
    )
