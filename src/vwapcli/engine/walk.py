"""Stage 4 of the engine: the account's walk through the run's sessions (SPEC 8).

Per session, candidates in time order: settle exits up to the entry (exits before entries
at the same instant), then the planned skip (too_late / no_bar), the risk limits, pricing,
fill and size. Only candidates that pass the limits are priced, through ``price(i)``.
Every session, quiet or not, is closed by the same bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vwapcli.config import RiskConfig
from vwapcli.core.skips import Skip
from vwapcli.engine.candidates import Candidate
from vwapcli.engine.fills import FilledTrade, fill_and_size
from vwapcli.engine.pricing import PricedCandidate
from vwapcli.risk import DayLedger, OpenPosition

PriceLookup = Callable[[Candidate], "PricedCandidate | Skip"]
_END_OF_DAY = int(np.iinfo(np.int64).max)


@dataclass(frozen=True)
class FillTerms:
    """The fill and sizing settings every entry of a walk uses (SPEC 7, SPEC 8)."""

    risk: RiskConfig
    slippage: float
    commission_per_contract: float
    max_debit_frac: float


@dataclass(frozen=True)
class AccountWalk:
    """The account's path through the run: what was decided, in order, and daily equity.

    ``outcomes`` pairs each decided candidate's index with its trade or skip, in decision
    order (trade ids follow it). Daily lists have one entry per run session.
    """

    outcomes: list[tuple[int, FilledTrade | Skip]]
    session_dates: list[dt.date]
    day_pnl: list[float]
    equity: list[float]  # closing equity per session
    strategy_pnl: dict[str, list[float]]
    loss_limit_hit: list[bool]

    def trade_pnl(self) -> np.ndarray:
        """Net P&L of every trade, in trade order (dollars)."""
        return np.array([o.pnl for _, o in self.outcomes if isinstance(o, FilledTrade)], dtype=float)


def walk_account(
    candidates: Sequence[Candidate],
    run_sessions: Sequence[dt.date],
    strategy_names: Sequence[str],
    price: PriceLookup,
    terms: FillTerms,
    progress: Callable[[int], None] | None = None,
) -> AccountWalk:
    """The account through the run's sessions: which candidates trade, and daily equity.

    ``price(candidate)`` prices a candidate that passed the limits. The sweep walks the
    same candidates once per configuration, so this loop keeps its lookups local.
    """
    by_day: dict[dt.date, list[int]] = {}
    for i, candidate in enumerate(candidates):
        by_day.setdefault(candidate.session_date, []).append(i)
    risk, slippage = terms.risk, terms.slippage
    commission, max_debit_frac = terms.commission_per_contract, terms.max_debit_frac
    equity = risk.starting_equity
    outcomes: list[tuple[int, FilledTrade | Skip]] = []
    day_pnls: list[float] = []
    closes: list[float] = []
    limit_hits: list[bool] = []
    strategy_pnl: dict[str, list[float]] = {name: [] for name in strategy_names}
    columns = list(strategy_pnl.items())
    # What a day without candidates adds (read only): each strategy's zero P&L and their sum.
    quiet_day = dict.fromkeys(strategy_names, 0.0)
    quiet_pnl = sum(quiet_day.values())
    n_trades = 0
    for day in run_sessions:
        by_strategy, day_pnl, limit_hit = quiet_day, quiet_pnl, False
        todays = by_day.get(day)
        if todays:
            by_strategy = dict.fromkeys(strategy_names, 0.0)
            ledger = DayLedger(start_of_day_equity=equity, risk=risk)
            for i in todays:
                candidate = candidates[i]
                signal = candidate.signal
                ledger.realize_until(signal.entry_time_ns)
                reason = candidate.skip_reason or ledger.rejection(signal.strategy_name, signal.symbol)
                if reason is not None:
                    outcomes.append((i, Skip(reason)))
                    continue
                priced = price(candidate)
                outcome = priced if isinstance(priced, Skip) else fill_and_size(
                    priced, slippage, ledger.start_of_day_equity, risk, commission, max_debit_frac
                )
                outcomes.append((i, outcome))
                if isinstance(outcome, Skip):
                    continue
                n_trades += 1
                ledger.open_positions.append(OpenPosition(
                    strategy_name=signal.strategy_name, symbol=signal.symbol,
                    exit_time_ns=candidate.exit_time_ns, pnl=outcome.pnl, trade_index=n_trades,
                ))
                by_strategy[signal.strategy_name] = by_strategy.get(signal.strategy_name, 0.0) + outcome.pnl
            # Intraday trades all exit today (time stop); settle what is left.
            ledger.realize_until(_END_OF_DAY)
            day_pnl, limit_hit = sum(by_strategy.values()), ledger.loss_limit_hit
        # Every session, quiet or not, closes the same way.
        equity += day_pnl
        day_pnls.append(day_pnl)
        closes.append(equity)
        limit_hits.append(limit_hit)
        for name, column in columns:
            column.append(by_strategy[name])
        if progress is not None:
            progress(1)
    return AccountWalk(outcomes, list(run_sessions), day_pnls, closes, strategy_pnl, limit_hits)
