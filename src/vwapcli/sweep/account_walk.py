"""The sweep's fast path through the engine: price each candidate once, walk the account per config.

``Engine.run`` prices, fills and sizes every candidate inside one loop, which is right for a
single backtest and wasteful for a grid: configurations of one signal group that differ
only in ``slippage`` (or in risk settings) price the same spreads again and again. Here
the work is split where it is independent of the account:

1. :func:`price_candidates` - per candidate and ``dte``: the spread (``build_spread``) and
   its opening and closing mid/natural (``price_spread``), exactly the calls the engine
   makes, done once.
2. :func:`walk_account` - per configuration: the engine's session loop (exits settle
   before entries, ``DayLedger`` limits, ``fill_price``, the debit cap, ``contracts_for``,
   round-trip commissions, P&L rounded to cents), on the cached prices.

It mirrors ``vwapcli.engine.Engine.run`` step for step and uses the same risk and fill
functions, so a configuration's trades P&L and daily equity are bit-identical to a
``vwapcli backtest`` of it; ``tests/test_sweep_trials.py`` holds the two to equality on
configurations that exercise every skip path. Anything the fast path does not model
(a missing exit quote, valued at intrinsic in chain mode) makes it hand the configuration
back to the reference engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vwapcli.config import AppConfig
from vwapcli.engine import Candidate
from vwapcli.options.spreads import (
    DebitSpread,
    SkipReason,
    SpreadPrice,
    build_spread,
    check_max_debit,
    fill_price,
    price_spread,
)
from vwapcli.risk import DayLedger, OpenPosition, contracts_for, round_trip_commission_per_contract

_END_OF_DAY = int(np.iinfo(np.int64).max)
# fill_price is a pure function of (mid, natural, slippage, width); configurations that
# share entries or exits (e.g. differing only in stop_band_mult) reuse each other's fills.
_FILLS: dict[tuple[float, float, float, float], float] = {}
_FILLS_LIMIT = 2_000_000


def _fill(price: SpreadPrice, slippage: float, width: float) -> float:
    key = (price.mid, price.natural, slippage, width)
    value = _FILLS.get(key)
    if value is None:
        if len(_FILLS) >= _FILLS_LIMIT:
            _FILLS.clear()
        value = _FILLS[key] = fill_price(price, slippage, width)
    return value


@dataclass(frozen=True)
class PricedCandidate:
    """A candidate with its spread and slippage-free prices (or why it cannot trade)."""

    candidate: Candidate
    spread: DebitSpread | None
    entry: SpreadPrice | None
    exit: SpreadPrice | None  # None with a spread: no exit quote (reference engine needed)
    pricing_skip: str | None  # no_strikes / no_quote / no_vol ... (before any fill)


@dataclass(frozen=True)
class AccountWalk:
    """What the metrics need from one configuration: trade P&Ls in order, daily equity."""

    pnl: np.ndarray  # dollars, one per trade, in trade order
    session_dates: list[dt.date]
    day_pnl: np.ndarray
    equity: np.ndarray  # closing equity per session


def price_candidates(
    candidates: Sequence[Candidate],
    quotes: Any,
    schedule: Any,
    session_dates: dict[str, Any],
    dte: int,
    memo: dict[tuple[Any, ...], Any] | None = None,
) -> list[PricedCandidate]:
    """Spread and mid/natural prices of every candidate that could trade (engine's calls).

    ``memo`` (optional, shared by calls on the same quote source and schedule) remembers
    spreads and spread prices by their arguments: signal groups that differ only in where
    the stop sits share every entry and most exits.
    """
    memo = {} if memo is None else memo

    def remembered(key: tuple[Any, ...], compute: Any) -> Any:
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    priced: list[PricedCandidate] = []
    for candidate in candidates:
        if candidate.skip_reason is not None:
            priced.append(PricedCandidate(candidate, None, None, None, None))
            continue
        signal = candidate.signal
        built = remembered(
            ("spread", signal.symbol, signal.direction, signal.P, signal.P_target, signal.entry_time_ns,
             candidate.session_date, dte),
            lambda s=signal, c=candidate: build_spread(
                symbol=s.symbol, direction=s.direction, P=s.P, P_target=s.P_target,
                ts_ns=s.entry_time_ns, trade_date=c.session_date,
                session_dates=session_dates[s.symbol], source=quotes, schedule=schedule, dte=dte,
            ),
        )
        if isinstance(built, SkipReason):
            priced.append(PricedCandidate(candidate, None, None, None, built.reason))
            continue
        entry = remembered(
            ("open", built, signal.entry_time_ns, signal.P),
            lambda b=built, s=signal: price_spread(quotes, b, s.entry_time_ns, s.P, "open"),
        )
        if isinstance(entry, SkipReason):
            priced.append(PricedCandidate(candidate, built, None, None, entry.reason))
            continue
        exit_price = remembered(
            ("close", built, candidate.exit_time_ns, candidate.underlying_exit),
            lambda b=built, c=candidate: price_spread(quotes, b, c.exit_time_ns, c.underlying_exit, "close"),
        )
        priced.append(PricedCandidate(
            candidate, built, entry, None if isinstance(exit_price, SkipReason) else exit_price, None,
        ))
    return priced


def walk_account(
    priced: Sequence[PricedCandidate],
    run_sessions: Sequence[dt.date],
    strategy_names: Sequence[str],
    config: AppConfig,
) -> AccountWalk | None:
    """``Engine.run``'s session loop on cached prices; None when the reference engine is needed."""
    risk = config.risk
    options = config.options
    slippage = options.slippage
    commission = options.commission_per_contract
    round_trip = round_trip_commission_per_contract(commission)
    by_day: dict[dt.date, list[PricedCandidate]] = {}
    for item in priced:
        by_day.setdefault(item.candidate.session_date, []).append(item)
    equity = risk.starting_equity
    pnls: list[float] = []
    day_pnls: list[float] = []
    closes: list[float] = []
    for day in run_sessions:
        todays = by_day.get(day)
        if not todays:
            # No candidate: the engine's day sums zeros, so P&L 0.0 and equity unchanged.
            day_pnls.append(0.0)
            closes.append(equity)
            continue
        ledger = DayLedger(start_of_day_equity=equity, risk=risk)
        by_strategy = dict.fromkeys(strategy_names, 0.0)
        for item in todays:
            candidate = item.candidate
            signal = candidate.signal
            ledger.realize_until(signal.entry_time_ns)
            # Same order as the engine: planned skip, risk limits, then pricing, cap, size.
            if candidate.skip_reason or ledger.rejection(signal.strategy_name, signal.symbol):
                continue
            if item.pricing_skip is not None or item.spread is None or item.entry is None:
                continue
            width = item.spread.width
            entry_debit = _fill(item.entry, slippage, width)
            if check_max_debit(entry_debit, width, options.max_debit_frac) is not None:
                continue
            contracts = contracts_for(entry_debit, ledger.start_of_day_equity, risk, commission)
            if contracts <= 0:
                continue
            if item.exit is None:
                return None  # intrinsic valuation at a missing exit quote: reference engine
            exit_credit = _fill(item.exit, slippage, width)
            commissions = round_trip * contracts
            pnl = round((exit_credit - entry_debit) * 100.0 * contracts - commissions, 2)
            pnls.append(pnl)
            ledger.open_positions.append(OpenPosition(
                strategy_name=signal.strategy_name, symbol=signal.symbol,
                exit_time_ns=candidate.exit_time_ns, pnl=float(pnl), trade_index=len(pnls),
            ))
            by_strategy[signal.strategy_name] = by_strategy.get(signal.strategy_name, 0.0) + float(pnl)
        ledger.realize_until(_END_OF_DAY)
        day_pnl = sum(by_strategy.values())
        equity += day_pnl
        day_pnls.append(day_pnl)
        closes.append(equity)
    return AccountWalk(
        pnl=np.array(pnls, dtype=float),
        session_dates=list(run_sessions),
        day_pnl=np.array(day_pnls, dtype=float),
        equity=np.array(closes, dtype=float),
    )
