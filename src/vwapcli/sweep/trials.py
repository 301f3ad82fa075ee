"""Evaluating configurations: the backtest pipeline with the work shared across a task.

A task holds configurations grouped by signal key (equal data and strategy blocks, hence
equal signals). Per group the signals are computed once and exits planned once per exit
config; every configuration then gets its engine from ``build_engine`` (the backtest's
own) and runs the engine's account walk (``Engine.walk``: fills, sizing, risk limits).
There is no second copy of the trade logic, so a configuration's result is what
``vwapcli backtest`` computes for it by construction (``tests/unit/sweep/test_trials_vwap.py``
checks it anyway). What the sweep adds is sharing: one ``SpreadPricer`` per worker, data
set and pricing inputs, which remembers prices by value, so configurations that differ
only in fills, sizing or risk price each entry once, and later tasks reuse earlier prices.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.app_config import AppConfig
from vwapcli.core.types import SessionedBars
from vwapcli.data.loading import sessions_between
from vwapcli.engine import Candidate, SpreadPricer, build_engine, build_pricer, plan_candidates
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


# Options fields that act after pricing (fills, sizing) or are an argument of the pricer (dte).
NOT_PRICING_FIELDS = frozenset({"slippage", "commission_per_contract", "max_debit_frac", "dte"})


def pricing_key(config: AppConfig) -> str:
    """What a configuration's option prices depend on: two configurations with equal keys
    can share one ``SpreadPricer``.

    Every options field except ``NOT_PRICING_FIELDS`` (so the model choice ``vol_model``,
    ``calibration_file``, ``events_file``, per-symbol overrides, the flat model's ``iv_*``,
    ``expirations_file``, the chain store ...: a field added later is in the key unless it
    is listed there) plus the exchange calendar (sessions, early closes: the variance clock).
    """
    options = config.options.model_dump(mode="json", exclude=set(NOT_PRICING_FIELDS))
    return json.dumps({"options": options, "calendar": config.data.calendar}, sort_keys=True)


def trial_metrics(
    pnl: np.ndarray, session_dates: Sequence[dt.date], equity: np.ndarray, config: AppConfig
) -> tuple[dict[str, Any], ReturnMoments]:
    """The sweep's acceptance metrics (SPEC 11 definitions from ``vwapcli.report``).

    ``pnl``: net trade P&Ls in trade order; ``equity``: closing equity per run session.
    The verdict is the report's own (``acceptance_verdict``) on point estimates; the
    report's bootstrap intervals (NOT PROVEN) are left to ``vwapcli report`` on a chosen run.
    """
    from vwapcli.report.acceptance import acceptance_verdict
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
    drawdown = max_drawdown(start_equity, equity).pct
    verdict = acceptance_verdict(
        config.acceptance, win_rate=stats.win_rate, profit_factor=stats.profit_factor,
        max_drawdown_pct=drawdown, years_covered=years_covered(np.array(session_dates, dtype="datetime64[D]")),
        trades=stats.trades,
    )
    metrics = {
        "trades": stats.trades,
        "win_rate": stats.win_rate,
        "profit_factor": stats.profit_factor,
        "max_drawdown_pct": drawdown,
        "sharpe": sharpe_ratio(returns),
        "total_pnl": round(float(np.sum(pnl)), 2),
        "verdict": verdict.label,
    }
    return metrics, return_moments(returns)


@dataclass
class _DataContext:
    """Per worker and data set: what every task on that data reuses. Pricers persist
    across tasks, so signal groups with the same entries share their option prices."""

    market_data: Mapping[str, SessionedBars]
    # One pricer per pricing key: the inputs prices depend on.
    pricers: dict[str, SpreadPricer] = field(default_factory=dict)

    def pricer_for(self, config: AppConfig, store: Path) -> SpreadPricer:
        key = pricing_key(config)
        if key not in self.pricers:
            self.pricers[key] = build_pricer(config, self.market_data, store)
        return self.pricers[key]


_CONTEXTS: dict[str, _DataContext] = {}


def _data_context(market_data: Mapping[str, SessionedBars], data_token: str) -> _DataContext:
    context = _CONTEXTS.get(data_token)
    if context is None:
        _CONTEXTS.clear()  # one data set per worker at a time
        context = _CONTEXTS[data_token] = _DataContext(market_data)
    return context


def evaluate_task(market_data: Mapping[str, SessionedBars], task: TrialTask) -> list[TrialOutcome]:
    """Every configuration of one task (the unit of work an executor runs).

    Configurations are grouped by signal key inside the task; each group runs one signal
    pass and plans exits once per exit config. Every configuration then runs the engine's
    own account walk (``Engine.walk``) through ``build_engine``, on a pricer shared with
    every configuration that prices alike; a task that keeps trades (walk-forward test
    runs) gets the engine's full trade tables.
    """
    from vwapcli.signal_run import compute_signals
    from vwapcli.sweep.grid import signal_key

    context = _data_context(market_data, task.data_token)
    sessions = sessions_between(market_data, task.start, task.end)
    store = Path(task.store)
    groups: dict[str, list[TrialSpec]] = {}
    for trial in task.trials:
        groups.setdefault(signal_key(trial.config), []).append(trial)
    outcomes: list[TrialOutcome] = []
    for members in groups.values():
        # One signal pass per group: its configurations share data + strategy blocks.
        signals = compute_signals(members[0].config, market_data, task.start, task.end)
        candidates: dict[str, list[Candidate]] = {}
        for trial in members:
            config = trial.config
            exits_key = config.exits.model_dump_json()
            if exits_key not in candidates:
                candidates[exits_key] = plan_candidates(signals, market_data, config)
            engine = build_engine(config, market_data, store, pricer=context.pricer_for(config, store))
            names = config.enabled_strategy_names()
            if task.keep_trades:
                result = engine.run(candidates[exits_key], sessions, names)
                closing = result.equity["equity"].to_numpy(dtype=float) if len(result.equity) else np.array([])
                metrics, moments = trial_metrics(
                    result.trades["pnl"].to_numpy(dtype=float), sessions, closing, config
                )
                outcomes.append(TrialOutcome(
                    trial.index, metrics, moments, len(sessions), trades=result.trades, equity=result.equity,
                ))
                continue
            walk = engine.walk(candidates[exits_key], sessions, names)
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
