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
  and last session);
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
from vwapcli.options.expirations import SessionDates
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


@dataclass(frozen=True)
class Universe:
    """Every symbol's phase merged: what the global account walk needs."""

    symbols: list[str]  # as requested
    candidates: list[Candidate]  # in signal order (entry time, symbol, strategy)
    pricing: list[SymbolPricing]  # in ``symbols`` order
    session_dates: list[np.ndarray]
    pricer: SpreadPricer  # the walk's; every candidate already priced when the phase fanned out

    def sessions(self, start: dt.date | None, end: dt.date | None) -> list[dt.date]:
        """The run's sessions in [start, end] (rows of equity.parquet)."""
        return union_of_sessions(self.session_dates, start, end)


@dataclass(frozen=True)
class PricingPhase:
    """What a symbol's pricing task shares: the config, the store (chain quotes, IV index)
    and the universe's exchange sessions, so each symbol is priced as the walk would."""

    config: AppConfig
    store: Path
    sessions: dict[str, SessionDates]


def run_symbol(phase: SymbolPhase, symbol: str) -> SymbolResult:
    """Load ``symbol``'s bars, compute its signals, exits and pricing inputs; the bars die here."""
    config = phase.config
    bars = load_symbol(
        BarStore(phase.store), symbol, phase.start, phase.end, config.data.timeframe,
        SessionCalendar(config.data.calendar),
    )
    market = {symbol: bars}
    signals = compute_signals(config, market, phase.start, phase.end, replay=phase.replay)
    return SymbolResult(
        symbol=symbol,
        candidates=plan_candidates(signals, market, config),
        session_dates=np.array(bars.session_date, dtype="datetime64[D]"),  # a copy: no view of the bars
        pricing=symbol_pricing(config, symbol, bars, phase.store),
    )


def price_symbol(
    phase: PricingPhase, task: tuple[SymbolPricing, list[Candidate]]
) -> dict[PricingKey, PricedCandidate | Skip]:
    """One symbol's candidates priced, without its bars (its option model is all it needs).

    Only candidates without a planned skip: the walk never prices the others.
    """
    pricing, candidates = task
    pricer = universe_pricer(phase.config, [pricing], phase.store, sessions=phase.sessions)
    return pricer.prices_of((c for c in candidates if c.skip_reason is None), phase.config.options.dte)


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
) -> Universe:
    """Every symbol's phase on ``executor`` ("local": a process pool of ``workers``, default
    one per core up to the symbol count, in this process when that is one; "dask": the
    cluster at ``scheduler``, else a LocalCluster), merged deterministically.

    Fanned out, the candidates are also priced there, symbol by symbol (pricing does not
    depend on the account, and is most of a run's time): a second round of tasks, since a
    symbol's expiries need the whole universe's exchange sessions, known once every symbol
    is loaded. In this process they are priced together before the walk (every candidate
    without a planned skip, the legs in array calls: cheaper than pricing only what passes
    the risk limits one by one). Either way a price is the same pure function of the same
    inputs.
    ``progress(1)`` is called as each symbol finishes its first phase.
    """
    n_workers = workers or default_symbol_workers(len(symbols))
    where = "inline" if executor == "local" and min(n_workers, len(symbols)) <= 1 else executor
    results: list[SymbolResult] = run_tasks(
        run_symbol, list(symbols), phase, executor=where, workers=n_workers, scheduler=scheduler,
        progress=None if progress is None else (lambda _: progress(1)),
    )
    config = phase.config
    pricing = [result.pricing for result in results]
    pricer = universe_pricer(config, pricing, phase.store)
    if where != "inline":
        tasks = [(result.pricing, result.candidates) for result in results]
        shared = PricingPhase(config, phase.store, pricer.session_dates)
        priced = run_tasks(price_symbol, tasks, shared, executor=where, workers=n_workers, scheduler=scheduler)
        for answers in priced:
            pricer.remember(config.options.dte, answers)
    else:
        # Priced together here too (legs in array calls): cheaper than the walk's one by one.
        pricer.prices_of(
            (c for result in results for c in result.candidates if c.skip_reason is None), config.options.dte
        )
    return Universe(
        symbols=list(symbols),
        candidates=in_signal_order(result.candidates for result in results),
        pricing=pricing,
        session_dates=[result.session_dates for result in results],
        pricer=pricer,
    )
