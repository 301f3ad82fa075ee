"""The backtest / paper loop: signals -> orders -> fills -> exits -> trades (SPEC 7-9).

One loop serves backtests, replays and parameter sweeps. The work is cut where it stops
depending on the account, so a sweep can share it across configurations:

1. ``plan_candidates`` - each signal's SPEC 9 exit (the underlying decides it).
2. ``Engine.price_candidate`` - the spread and its opening and closing mid/natural
   (SPEC 7): independent of slippage, sizing and the account.
3. ``fill_and_size`` - fills at the configured slippage, the debit cap and SPEC 8 sizing
   for one priced candidate, given the day's starting equity.
4. ``Engine.walk`` - the account: the run's sessions in order, exits settled before
   entries at the same instant, risk limits, daily equity. ``Engine.run`` turns the walk
   into the run folder's tables; the sweep reads P&L and equity straight from it.

Pricing is looked up lazily by the walk (only candidates that pass the risk limits are
priced), through a ``price`` callable the sweep replaces with its cache.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.app_config import AppConfig
from vwapcli.config import RiskConfig
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.core.types import SessionedBars, Signal, new_york_date, utc_timestamp
from vwapcli.exits import EXIT_REASONS, plan_exits
from vwapcli.options.expirations import ExpirySchedule
from vwapcli.options.quotes import QuoteSource
from vwapcli.options.spreads import (
    MIN_FILL,
    DebitSpread,
    Side,
    SpreadFill,
    SpreadPrice,
    build_spread,
    check_max_debit,
    fill_price,
    price_spread,
)
from vwapcli.risk import DayLedger, OpenPosition, contracts_for, round_trip_commission_per_contract

log = logging.getLogger("vwapcli.engine")

TRADE_COLUMNS = [
    "trade_id", "strategy_name", "symbol", "direction", "signal_time", "entry_time", "exit_time",
    "exit_reason", "P", "P_stop", "P_target", "underlying_exit", "right", "expiry", "k_long",
    "k_short", "contracts", "entry_debit", "exit_credit", "commissions", "pnl", "max_loss",
    "return_on_risk", "pricing_source", "iv_entry",
    # For the report's fill-sensitivity band: spread prices per share before slippage.
    "width", "entry_mid", "entry_natural", "exit_mid", "exit_natural", "slippage",
    "commission_per_contract", "expiry_note",
]
SKIP_COLUMNS = ["strategy_name", "symbol", "direction", "entry_time", "P", "P_stop", "P_target", "reason", "detail"]
_END_OF_DAY = int(np.iinfo(np.int64).max)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A signal with its underlying exit already known (exits do not depend on the account)."""

    signal: Signal
    session_date: dt.date
    exit_time_ns: int
    exit_reason: str | None  # None: too late or no matching bar
    underlying_exit: float
    skip_reason: SkipReason | None


@dataclass(frozen=True, slots=True)
class PricedCandidate:
    """A candidate's spread and its slippage-free prices per share (SPEC 7).

    ``exit_quoted`` is False when no usable quote existed at the exit (chain mode): the
    exit is then the spread's intrinsic value at the underlying's exit level, and
    ``exit`` holds that value as both mid and natural.
    """

    spread: DebitSpread
    entry: SpreadPrice
    exit: SpreadPrice
    exit_quoted: bool = True


@dataclass(frozen=True, slots=True)
class FilledTrade:
    """One entry the account took: fills, size and dollars (``pnl`` rounded to cents)."""

    priced: PricedCandidate
    contracts: int
    entry_debit: float  # per share, after slippage
    exit_credit: float  # per share, after slippage (intrinsic exits: clipped, unrounded)
    commissions: float  # dollars, both legs, entry and exit
    pnl: float
    max_loss: float


PriceLookup = Callable[[int], "PricedCandidate | Skip"]


@dataclass(frozen=True)
class AccountWalk:
    """The account's path through the run: what was decided, in order, and daily equity.

    ``outcomes`` pairs each decided candidate's index with its trade or skip reason, in
    decision order (trade ids follow it). Daily lists have one entry per run session.
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


@dataclass(frozen=True)
class BacktestResult:
    trades: pd.DataFrame
    skipped: pd.DataFrame
    equity: pd.DataFrame


def plan_candidates(
    signals: Sequence[Signal], market_data: dict[str, SessionedBars], config: AppConfig
) -> list[Candidate]:
    """Attach the SPEC 9 exit to every signal, symbol by symbol, in one compiled pass each."""
    by_symbol: dict[str, list[int]] = {}
    for i, signal in enumerate(signals):
        by_symbol.setdefault(signal.symbol, []).append(i)
    out: list[Candidate | None] = [None] * len(signals)
    for symbol, indices in by_symbol.items():
        bars = market_data[symbol]
        chosen = [signals[i] for i in indices]
        plan = plan_exits(
            bars,
            np.array([s.entry_time_ns for s in chosen], dtype=np.int64),
            np.array([s.direction == "LONG" for s in chosen], dtype=np.bool_),
            np.array([s.P_stop for s in chosen], dtype=np.float64),
            np.array([s.P_target for s in chosen], dtype=np.float64),
            config.exits.exit_time,
        )
        exit_time_ns = plan.exit_time_ns.tolist()
        underlying_exit = plan.underlying_exit.tolist()
        entry_index = plan.entry_index.tolist()
        too_late = plan.too_late.tolist()
        reasons = plan.reason.tolist()
        for k, (i, signal) in enumerate(zip(indices, chosen, strict=True)):
            if entry_index[k] < 0:
                skip: SkipReason | None = SkipReason.NO_BAR
            elif too_late[k]:
                skip = SkipReason.TOO_LATE
            else:
                skip = None
            out[i] = Candidate(
                signal=signal, session_date=new_york_date(signal.entry_time_ns),
                exit_time_ns=exit_time_ns[k],
                exit_reason=EXIT_REASONS.get(reasons[k]) if skip is None else None,
                underlying_exit=underlying_exit[k], skip_reason=skip,
            )
    return [c for c in out if c is not None]


def _intrinsic_spread_value(spread: DebitSpread, spot: float) -> float:
    if spread.right == "C":
        value = max(0.0, spot - spread.k_long) - max(0.0, spot - spread.k_short)
    else:
        value = max(0.0, spread.k_long - spot) - max(0.0, spread.k_short - spot)
    return float(min(max(value, 0.0), spread.width))


def fill_and_size(
    priced: PricedCandidate,
    slippage: float,
    start_of_day_equity: float,
    risk: RiskConfig,
    commission: float,
    max_debit_frac: float,
) -> FilledTrade | Skip:
    """Fill, cap and size one priced entry (SPEC 7 fills, SPEC 8 sizing); pure.

    Order of the rules: the opening fill ``m + slippage·(n - m)`` (cents), the debit cap
    (``debit_too_high``), the size (``size_zero``), then the closing fill. An exit
    without a quote is valued at intrinsic, clipped to ``[0.01, width - 0.01]``.
    """
    spread = priced.spread
    width = spread.width
    entry_debit = fill_price(priced.entry, slippage, width)
    too_high = check_max_debit(entry_debit, width, max_debit_frac)
    if too_high is not None:
        return too_high
    contracts = contracts_for(entry_debit, start_of_day_equity, risk, commission)
    if contracts <= 0:
        return Skip(SkipReason.SIZE_ZERO, f"debit {entry_debit:.2f}")
    if priced.exit_quoted:
        exit_credit = fill_price(priced.exit, slippage, width)
    else:
        exit_credit = min(max(priced.exit.mid, MIN_FILL), width - MIN_FILL)
    commissions = round_trip_commission_per_contract(commission) * contracts
    pnl = round((exit_credit - entry_debit) * 100.0 * contracts - commissions, 2)
    max_loss = round(entry_debit * 100.0 * contracts + commissions, 2)
    return FilledTrade(priced, contracts, entry_debit, exit_credit, commissions, pnl, max_loss)


class Engine:
    """Turns candidates into debit-spread trades under the risk rules, one session at a time.

    ``pricing_memo`` (optional) remembers spreads and spread prices by their inputs; the
    sweep shares one between engines on the same quote source and schedule, so signal
    groups that differ only in their stops price each entry once.
    """

    def __init__(
        self,
        config: AppConfig,
        quote_source: QuoteSource,
        schedule: ExpirySchedule,
        session_dates: Mapping[str, Sequence[dt.date]],
        pricing_source: str,
        slippage: float | None = None,
        pricing_memo: dict[tuple[Any, ...], Any] | None = None,
    ) -> None:
        self.config = config
        self.quotes = quote_source
        self.schedule = schedule
        self.session_dates = session_dates
        self.pricing_source = pricing_source
        self.slippage = config.options.slippage if slippage is None else slippage
        self.commission = config.options.commission_per_contract
        self.pricing_memo = pricing_memo

    # ------------------------------------------------------------------ pricing
    def _spread(self, candidate: Candidate) -> DebitSpread | Skip:
        signal = candidate.signal
        return build_spread(
            symbol=signal.symbol, direction=signal.direction, P=signal.P, P_target=signal.P_target,
            ts_ns=signal.entry_time_ns, trade_date=candidate.session_date,
            session_dates=self.session_dates[signal.symbol], source=self.quotes,
            schedule=self.schedule, dte=self.config.options.dte,
        )

    def price_candidate(self, candidate: Candidate) -> PricedCandidate | Skip:
        """The spread a candidate trades and its opening and closing mid/natural (SPEC 7).

        A Skip (no_strikes, no_quote, no_vol, ...) when it cannot be priced at entry.
        Depends on the quote source, the schedule and ``dte`` only, never on the account.
        """
        signal = candidate.signal
        memo = self.pricing_memo
        if memo is None:
            spread = self._spread(candidate)
        else:
            key: tuple[Any, ...] = ("spread", signal.symbol, signal.direction, signal.P, signal.P_target,
                                    signal.entry_time_ns, candidate.session_date, self.config.options.dte)
            if key not in memo:
                memo[key] = self._spread(candidate)
            spread = memo[key]
        if isinstance(spread, Skip):
            return spread
        entry = self._price(spread, signal.entry_time_ns, signal.P, "open")
        if isinstance(entry, Skip):
            return entry
        exit_price = self._price(spread, candidate.exit_time_ns, candidate.underlying_exit, "close")
        if isinstance(exit_price, Skip):
            # No usable quote at the exit (chain mode): the spread is valued at intrinsic.
            intrinsic = _intrinsic_spread_value(spread, candidate.underlying_exit)
            return PricedCandidate(spread, entry, SpreadPrice(intrinsic, intrinsic), exit_quoted=False)
        return PricedCandidate(spread, entry, exit_price)

    def _price(self, spread: DebitSpread, ts_ns: int, spot: float, side: Side) -> SpreadPrice | Skip:
        memo = self.pricing_memo
        if memo is None:
            return price_spread(self.quotes, spread, ts_ns, spot, side)
        key = (side, spread, ts_ns, spot)
        if key not in memo:
            memo[key] = price_spread(self.quotes, spread, ts_ns, spot, side)
        price: SpreadPrice | Skip = memo[key]
        return price

    # ------------------------------------------------------------------ account
    def walk(
        self,
        candidates: Sequence[Candidate],
        run_sessions: Sequence[dt.date],
        strategy_names: Sequence[str],
        price: PriceLookup | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> AccountWalk:
        """The account through the run's sessions: which candidates trade, and daily equity.

        Per candidate, in time order: settle exits up to its entry (SPEC 8: exits before
        entries), then the planned skip (too_late / no_bar), the risk limits, pricing,
        fill and size. ``price(i)`` prices ``candidates[i]`` (default: price it now).
        """
        lookup: PriceLookup = price if price is not None else (lambda i: self.price_candidate(candidates[i]))
        risk = self.config.risk
        slippage, commission = self.slippage, self.commission
        max_debit_frac = self.config.options.max_debit_frac
        by_day: dict[dt.date, list[int]] = {}
        for i, candidate in enumerate(candidates):
            by_day.setdefault(candidate.session_date, []).append(i)
        # What a day without candidates adds: the sum of the strategies' zero P&L.
        quiet_day_pnl = sum(dict.fromkeys(strategy_names, 0.0).values())
        equity = risk.starting_equity
        outcomes: list[tuple[int, FilledTrade | Skip]] = []
        day_pnls: list[float] = []
        closes: list[float] = []
        limit_hits: list[bool] = []
        strategy_pnl: dict[str, list[float]] = {name: [] for name in strategy_names}
        n_trades = 0
        for day in run_sessions:
            todays = by_day.get(day)
            if not todays:
                equity += quiet_day_pnl
                day_pnls.append(quiet_day_pnl)
                closes.append(equity)
                limit_hits.append(False)
                for name in strategy_names:
                    strategy_pnl[name].append(0.0)
                if progress is not None:
                    progress(1)
                continue
            ledger = DayLedger(start_of_day_equity=equity, risk=risk)
            by_strategy = dict.fromkeys(strategy_names, 0.0)
            for i in todays:
                candidate = candidates[i]
                signal = candidate.signal
                ledger.realize_until(signal.entry_time_ns)
                reason = candidate.skip_reason or ledger.rejection(signal.strategy_name, signal.symbol)
                if reason is not None:
                    outcomes.append((i, Skip(reason)))
                    continue
                priced = lookup(i)
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
            day_pnl = sum(by_strategy.values())
            equity += day_pnl
            day_pnls.append(day_pnl)
            closes.append(equity)
            limit_hits.append(ledger.loss_limit_hit)
            for name in strategy_names:
                strategy_pnl[name].append(by_strategy.get(name, 0.0))
            if progress is not None:
                progress(1)
        return AccountWalk(outcomes, list(run_sessions), day_pnls, closes, strategy_pnl, limit_hits)

    def run(
        self,
        candidates: Sequence[Candidate],
        run_sessions: Sequence[dt.date],
        strategy_names: Sequence[str],
        progress: Callable[[int], None] | None = None,
        price: PriceLookup | None = None,
    ) -> BacktestResult:
        """Walk the run's sessions; return trades, skipped signals and daily equity (SPEC 10)."""
        walk = self.walk(candidates, run_sessions, strategy_names, price=price, progress=progress)
        trades: list[dict[str, object]] = []
        skipped: list[dict[str, object]] = []
        for i, outcome in walk.outcomes:
            candidate = candidates[i]
            signal = candidate.signal
            if isinstance(outcome, Skip):
                reason = outcome.reason.value
                skipped.append(_skip_row(signal, reason, outcome.detail))
                log.info("skipped %s %s: %s %s", signal.symbol, signal.entry_time.isoformat(), reason,
                         outcome.detail, extra={"strategy": signal.strategy_name})
                continue
            trade = self._trade_row(candidate, outcome, len(trades) + 1)
            if not outcome.priced.exit_quoted:
                exit_fill = SpreadFill(outcome.exit_credit, outcome.priced.exit.mid, outcome.priced.exit.natural)
                log.warning("no exit quote for %s (%s); valued at intrinsic %.2f", outcome.priced.spread,
                            exit_fill, outcome.priced.exit.mid, extra={"strategy": signal.strategy_name})
            trades.append(trade)
            log.info(
                "trade %s %s %s %s %g/%g%s x%s debit %.2f -> %s credit %.2f pnl %.2f",
                trade["trade_id"], signal.symbol, signal.direction, signal.entry_time.isoformat(),
                trade["k_long"], trade["k_short"], trade["right"], trade["contracts"], trade["entry_debit"],
                trade["exit_reason"], trade["exit_credit"], trade["pnl"], extra={"strategy": signal.strategy_name},
            )
        equity_rows: list[dict[str, object]] = []
        for n, day in enumerate(walk.session_dates):
            row: dict[str, object] = {"session_date": day, "pnl": walk.day_pnl[n], "equity": walk.equity[n]}
            for name in strategy_names:
                row[f"pnl_{name}"] = walk.strategy_pnl[name][n]
            row["daily_loss_limit_hit"] = walk.loss_limit_hit[n]
            equity_rows.append(row)
        return BacktestResult(
            trades=pd.DataFrame(trades, columns=TRADE_COLUMNS),
            skipped=pd.DataFrame(skipped, columns=SKIP_COLUMNS),
            equity=pd.DataFrame(equity_rows),
        )

    def _trade_row(self, candidate: Candidate, filled: FilledTrade, trade_number: int) -> dict[str, object]:
        """One trades.csv row (SPEC 10 columns, then the fill-sensitivity columns)."""
        signal = candidate.signal
        priced = filled.priced
        spread = priced.spread
        iv_entry = priced.entry.iv_long
        return {
            "trade_id": trade_number,
            "strategy_name": signal.strategy_name,
            "symbol": signal.symbol,
            "direction": signal.direction,
            "signal_time": signal.entry_time,
            "entry_time": signal.entry_time,
            "exit_time": utc_timestamp(candidate.exit_time_ns),
            "exit_reason": candidate.exit_reason,
            "P": signal.P,
            "P_stop": signal.P_stop,
            "P_target": signal.P_target,
            "underlying_exit": candidate.underlying_exit,
            "right": spread.right,
            "expiry": spread.expiry.isoformat(),
            "k_long": spread.k_long,
            "k_short": spread.k_short,
            "contracts": filled.contracts,
            "entry_debit": filled.entry_debit,
            "exit_credit": filled.exit_credit,
            "commissions": round(filled.commissions, 2),
            "pnl": filled.pnl,
            "max_loss": filled.max_loss,
            "return_on_risk": filled.pnl / filled.max_loss if filled.max_loss > 0 else 0.0,
            "pricing_source": self.pricing_source,
            "iv_entry": float(iv_entry) if iv_entry is not None else float("nan"),
            "width": spread.width,
            "entry_mid": priced.entry.mid,
            "entry_natural": priced.entry.natural,
            "exit_mid": priced.exit.mid,
            "exit_natural": priced.exit.natural,
            "slippage": self.slippage,
            "commission_per_contract": self.commission,
            "expiry_note": spread.note or "",
        }


def _skip_row(signal: Signal, reason: str, detail: str) -> dict[str, object]:
    return {
        "strategy_name": signal.strategy_name, "symbol": signal.symbol, "direction": signal.direction,
        "entry_time": signal.entry_time, "P": signal.P, "P_stop": signal.P_stop,
        "P_target": signal.P_target, "reason": reason, "detail": detail,
    }
