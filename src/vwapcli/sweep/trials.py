"""Evaluating configurations: the backtest pipeline with the work shared across a task.

A task holds configurations grouped by signal key (equal data and strategy blocks, hence
equal signals). Per group the signals are computed once and exits planned once per exit
config; per (group, exits, pricing config, dte) every candidate is priced once by the
engine (``Engine.price_candidate``, kept in a ``PricingCache``); each configuration then
runs the engine's own account walk (``Engine.walk``: fills, sizing, risk limits). There
is no second copy of the trade logic, so a configuration's result is what ``vwapcli
backtest`` computes for it by construction (``tests/test_sweep_trials_vwap.py`` checks
it anyway). Quote, expiry and spread memos live per worker and data set, so later tasks
on the same worker reuse earlier prices.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.app_config import AppConfig
from vwapcli.core.types import SessionedBars
from vwapcli.sweep.deflated_sharpe import ReturnMoments, return_moments

METRIC_COLUMNS = [
    "trades", "win_rate", "profit_factor", "max_drawdown_pct", "sharpe", "total_pnl", "verdict",
]


@dataclass(frozen=True)
class TrialSpec:
    """One configuration to evaluate: its position in the grid and resolved config."""

    index: int
    config: AppConfig


@dataclass(frozen=True)
class TrialTask:
    """Configurations sharing one signal pass, evaluated over sessions in [start, end]."""

    trials: tuple[TrialSpec, ...]
    start: dt.date | None
    end: dt.date | None
    store: str
    data_token: str  # identifies the bars in ``shared`` (worker caches are per data set)
    keep_trades: bool = False  # walk-forward test runs need the trades and daily equity


@dataclass(frozen=True)
class TrialOutcome:
    """Acceptance metrics and return moments of one configuration (plus trades on request)."""

    index: int
    metrics: dict[str, Any]
    moments: ReturnMoments
    sessions: int
    trades: pd.DataFrame | None = None
    equity: pd.DataFrame | None = None


class MemoQuoteSource:
    """A quote source that remembers every answer: quotes are a pure function of their
    arguments, so configurations that differ only in fills or sizing price each leg once.
    Delegates ``lookup``/``quote``/``listed_strikes`` to the wrapped source."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self._lookups: dict[tuple[Any, ...], Any] = {}
        self._quotes: dict[tuple[Any, ...], Any] = {}
        self._strikes: dict[tuple[Any, ...], np.ndarray] = {}
        if hasattr(inner, "lookup"):
            self.lookup = self._lookup

    def _lookup(self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: str, spot: float) -> Any:
        key = (symbol, ts_ns, expiry, strike, right, spot)
        if key not in self._lookups:
            self._lookups[key] = self.inner.lookup(symbol, ts_ns, expiry, strike, right, spot)
        return self._lookups[key]

    def quote(self, symbol: str, ts_ns: int, expiry: dt.date, strike: float, right: str, spot: float) -> Any:
        key = (symbol, ts_ns, expiry, strike, right, spot)
        if key not in self._quotes:
            self._quotes[key] = self.inner.quote(symbol, ts_ns, expiry, strike, right, spot)
        return self._quotes[key]

    def listed_strikes(self, symbol: str, ts_ns: int, expiry: dt.date, right: str, spot: float) -> np.ndarray:
        key = (symbol, ts_ns, expiry, right, spot)
        if key not in self._strikes:
            self._strikes[key] = self.inner.listed_strikes(symbol, ts_ns, expiry, right, spot)
        return self._strikes[key]


class MemoSchedule:
    """An expiry schedule that remembers each ``expiry_for`` answer (a pure function of
    symbol, trade date, dte and the session list), so every configuration after the first
    gets its expiries from a dict."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._choices: dict[tuple[Any, ...], Any] = {}

    def expiry_for(self, symbol: str, trade_date: dt.date, dte: int, session_dates: Any) -> Any:
        key = (symbol, trade_date, dte, id(session_dates))
        if key not in self._choices:
            self._choices[key] = self.inner.expiry_for(symbol, trade_date, dte, session_dates)
        return self._choices[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _pricing_key(config: AppConfig) -> str:
    # Quotes depend on the options block except the fill and sizing knobs.
    options = config.options.model_dump(mode="json", exclude={"slippage", "commission_per_contract", "max_debit_frac", "dte"})
    return json.dumps(options, sort_keys=True)


def trial_metrics(
    pnl: np.ndarray, session_dates: Sequence[dt.date], equity: np.ndarray, config: AppConfig
) -> tuple[dict[str, Any], ReturnMoments]:
    """The sweep's acceptance metrics (SPEC 11 definitions from ``vwapcli.report``).

    ``pnl``: net trade P&Ls in trade order; ``equity``: closing equity per run session.
    The verdict compares point estimates with the acceptance thresholds; the report's
    bootstrap intervals (NOT PROVEN) are left to ``vwapcli report`` on a chosen run.
    """
    from vwapcli.report.acceptance import Criterion
    from vwapcli.report.bootstrap import NO_INTERVAL
    from vwapcli.report.metrics import (
        daily_returns,
        max_drawdown,
        sharpe_ratio,
        trade_stats,
        years_covered,
    )

    start_equity = config.risk.starting_equity
    stats = trade_stats(pnl)
    returns = daily_returns(start_equity, equity)
    sessions = np.array(session_dates, dtype="datetime64[D]")
    drawdown = max_drawdown(start_equity, equity).pct
    acceptance = config.acceptance
    criteria = [
        Criterion("win_rate", "Win rate", stats.win_rate, acceptance.min_win_rate, ">=", NO_INTERVAL),
        Criterion("profit_factor", "Profit factor", stats.profit_factor, acceptance.min_profit_factor, ">=", NO_INTERVAL),
        Criterion("max_drawdown_pct", "Max drawdown", drawdown, acceptance.max_drawdown_pct, "<=", NO_INTERVAL),
        Criterion("years_covered", "Years covered", years_covered(sessions), acceptance.min_years, ">=", NO_INTERVAL),
        Criterion("trades", "Trades", float(stats.trades), float(acceptance.min_trades), ">=", NO_INTERVAL),
    ]
    metrics = {
        "trades": stats.trades,
        "win_rate": stats.win_rate,
        "profit_factor": stats.profit_factor,
        "max_drawdown_pct": drawdown,
        "sharpe": sharpe_ratio(returns),
        "total_pnl": round(float(np.sum(pnl)), 2),
        "verdict": "PASS" if all(c.passed for c in criteria) else "FAIL",
    }
    return metrics, return_moments(returns)


class PricingCache:
    """Each candidate's pricing (``Engine.price_candidate``), computed on first use and kept.

    One cache serves every configuration that shares the candidates (signal group and
    exit config), the quote source, the schedule and ``dte``: they differ only in fills,
    sizing and risk, which the account walk applies on top. Called as the walk's
    ``price(i)``.
    """

    def __init__(self, engine: Any, candidates: Sequence[Any]) -> None:
        self._price = engine.price_candidate
        self._candidates = candidates
        self._priced: dict[int, Any] = {}

    def __call__(self, i: int) -> Any:
        priced = self._priced.get(i)
        if priced is None:
            priced = self._priced[i] = self._price(self._candidates[i])
        return priced


@dataclass
class _DataContext:
    """Per worker and data set: what every task on that data reuses (caches persist across
    tasks, so signal groups with the same entries share their option quotes)."""

    market_data: dict[str, SessionedBars]
    # Exchange sessions per calendar code, exactly as `vwapcli backtest` passes them.
    session_dates: dict[str, dict[str, list[dt.date]]] = field(default_factory=dict)
    quote_sources: dict[str, MemoQuoteSource] = field(default_factory=dict)
    schedules: dict[str | None, MemoSchedule] = field(default_factory=dict)
    # Spreads and spread prices by (pricing key, expirations file): Engine.pricing_memo.
    pricing_memos: dict[tuple[str, str | None], dict[tuple[Any, ...], Any]] = field(default_factory=dict)

    def sessions_for(self, config: AppConfig) -> dict[str, list[dt.date]]:
        from vwapcli.backtest import exchange_sessions

        code = config.data.calendar
        if code not in self.session_dates:
            self.session_dates[code] = exchange_sessions(config, self.market_data)
        return self.session_dates[code]


_CONTEXTS: dict[str, _DataContext] = {}


def _data_context(market_data: dict[str, SessionedBars], data_token: str) -> _DataContext:
    context = _CONTEXTS.get(data_token)
    if context is None:
        _CONTEXTS.clear()  # one data set per worker at a time
        context = _CONTEXTS[data_token] = _DataContext(market_data)
    return context


def evaluate_task(market_data: dict[str, SessionedBars], task: TrialTask) -> list[TrialOutcome]:
    """Every configuration of one task (the unit of work an executor runs).

    Configurations are grouped by signal key inside the task; each group runs one signal
    pass and plans exits once per exit config. Every configuration then runs the engine's
    own account walk (``Engine.walk``) on pricing shared through a ``PricingCache``; a task
    that keeps trades (walk-forward test runs) gets the engine's full trade tables.
    """
    from vwapcli.backtest import build_quote_source, run_sessions_between
    from vwapcli.engine import Engine, plan_candidates
    from vwapcli.options.expirations import ExpirySchedule
    from vwapcli.signal_run import compute_signals
    from vwapcli.sweep.grid import signal_key

    context = _data_context(market_data, task.data_token)
    sessions = run_sessions_between(market_data, task.start, task.end)
    store = Path(task.store)
    groups: dict[str, list[TrialSpec]] = {}
    for trial in task.trials:
        groups.setdefault(signal_key(trial.config), []).append(trial)
    outcomes: list[TrialOutcome] = []
    for members in groups.values():
        # One signal pass per group: its configurations share data + strategy blocks.
        signals = compute_signals(members[0].config, market_data, task.start, task.end)
        candidates: dict[str, list[Any]] = {}
        pricing: dict[tuple[str, str, str | None, int], PricingCache] = {}
        for trial in members:
            config = trial.config
            exits_key = config.exits.model_dump_json()
            if exits_key not in candidates:
                candidates[exits_key] = plan_candidates(signals, market_data, config)
            pricing_key = _pricing_key(config)
            if pricing_key not in context.quote_sources:
                context.quote_sources[pricing_key] = MemoQuoteSource(
                    build_quote_source(config, market_data, store)
                )
            expirations = config.options.expirations_file
            if expirations not in context.schedules:
                context.schedules[expirations] = MemoSchedule(
                    ExpirySchedule.load(Path(expirations) if expirations else None)
                )
            # The memo wrappers are duck-typed: the engine only calls their query methods.
            engine = Engine(
                config=config, quote_source=context.quote_sources[pricing_key],
                schedule=context.schedules[expirations],  # type: ignore[arg-type]
                session_dates=context.sessions_for(config),
                pricing_source=config.options.pricing_source,
                pricing_memo=context.pricing_memos.setdefault((pricing_key, expirations), {}),
            )
            priced_key = (exits_key, pricing_key, expirations, config.options.dte)
            if priced_key not in pricing:
                pricing[priced_key] = PricingCache(engine, candidates[exits_key])
            names = config.enabled_strategy_names()
            if task.keep_trades:
                result = engine.run(candidates[exits_key], sessions, names, price=pricing[priced_key])
                closing = result.equity["equity"].to_numpy(dtype=float) if len(result.equity) else np.array([])
                metrics, moments = trial_metrics(
                    result.trades["pnl"].to_numpy(dtype=float), sessions, closing, config
                )
                outcomes.append(TrialOutcome(
                    trial.index, metrics, moments, len(sessions), trades=result.trades, equity=result.equity,
                ))
                continue
            walk = engine.walk(candidates[exits_key], sessions, names, price=pricing[priced_key])
            metrics, moments = trial_metrics(
                walk.trade_pnl(), walk.session_dates, np.array(walk.equity, dtype=float), config
            )
            outcomes.append(TrialOutcome(trial.index, metrics, moments, len(sessions)))
    outcomes.sort(key=lambda outcome: outcome.index)
    return outcomes


def nan_to_none(value: Any) -> Any:
    """JSON-friendly metric values (NaN -> None, inf stays a string)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value
