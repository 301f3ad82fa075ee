"""The backtest / paper loop: signals -> orders -> fills -> exits -> trades (SPEC 7-9).

One loop serves backtests and replays: it consumes a time-ordered list of signals (from
the batch or the bar-by-bar signal pass) and walks the sessions in order, settling
exits before entries at the same instant, so the account state an entry sees is the
one a live system would have had.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vwapcli.config import AppConfig
from vwapcli.core.types import SessionedBars, Signal, utc_timestamp
from vwapcli.exits import EXIT_REASONS, plan_exits
from vwapcli.options.expirations import ExpirySchedule
from vwapcli.options.quotes import QuoteSource
from vwapcli.options.spreads import (
    DebitSpread,
    SkipReason,
    SpreadFill,
    build_spread,
    close_spread,
    open_spread,
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


@dataclass(frozen=True)
class Candidate:
    """A signal with its underlying exit already known (exits do not depend on the account)."""

    signal: Signal
    session_date: dt.date
    exit_time_ns: int
    exit_reason: str | None  # None: too late or no matching bar
    underlying_exit: float
    skip_reason: str | None


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
        for k, (i, signal) in enumerate(zip(indices, chosen, strict=True)):
            session_date = signal.entry_time.tz_convert("America/New_York").date()
            if plan.entry_index[k] < 0:
                skip = "no_bar"
            elif plan.too_late[k]:
                skip = "too_late"
            else:
                skip = None
            reason = EXIT_REASONS.get(int(plan.reason[k])) if skip is None else None
            out[i] = Candidate(
                signal=signal, session_date=session_date, exit_time_ns=int(plan.exit_time_ns[k]),
                exit_reason=reason, underlying_exit=float(plan.underlying_exit[k]), skip_reason=skip,
            )
    return [c for c in out if c is not None]


class Engine:
    """Turns candidates into debit-spread trades under the risk rules, one session at a time."""

    def __init__(
        self,
        config: AppConfig,
        quote_source: QuoteSource,
        schedule: ExpirySchedule,
        session_dates: dict[str, Sequence[dt.date]],
        pricing_source: str,
        slippage: float | None = None,
    ) -> None:
        self.config = config
        self.quotes = quote_source
        self.schedule = schedule
        self.session_dates = session_dates
        self.pricing_source = pricing_source
        self.slippage = config.options.slippage if slippage is None else slippage
        self.commission = config.options.commission_per_contract

    def run(
        self,
        candidates: Sequence[Candidate],
        run_sessions: Sequence[dt.date],
        strategy_names: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> BacktestResult:
        """Walk the run's sessions; return trades, skipped signals and daily equity."""
        by_day: dict[dt.date, list[Candidate]] = {}
        for candidate in candidates:
            by_day.setdefault(candidate.session_date, []).append(candidate)
        equity = self.config.risk.starting_equity
        trades: list[dict[str, object]] = []
        skipped: list[dict[str, object]] = []
        equity_rows: list[dict[str, object]] = []
        for day in run_sessions:
            ledger = DayLedger(start_of_day_equity=equity, risk=self.config.risk)
            day_pnl_by_strategy = dict.fromkeys(strategy_names, 0.0)
            for candidate in by_day.get(day, []):
                signal = candidate.signal
                ledger.realize_until(signal.entry_time_ns)
                reason = candidate.skip_reason or ledger.rejection(signal.strategy_name, signal.symbol)
                detail = ""
                trade = None
                if reason is None:
                    trade, reason, detail = self._open_trade(candidate, ledger.start_of_day_equity, len(trades) + 1)
                if trade is None:
                    skipped.append(_skip_row(signal, reason or "unknown", detail))
                    log.info("skipped %s %s: %s %s", signal.symbol, signal.entry_time.isoformat(), reason, detail,
                             extra={"strategy": signal.strategy_name})
                    continue
                trades.append(trade)
                log.info(
                    "trade %s %s %s %s %g/%g%s x%s debit %.2f -> %s credit %.2f pnl %.2f",
                    trade["trade_id"], signal.symbol, signal.direction, signal.entry_time.isoformat(),
                    trade["k_long"], trade["k_short"], trade["right"], trade["contracts"], trade["entry_debit"],
                    trade["exit_reason"], trade["exit_credit"], trade["pnl"], extra={"strategy": signal.strategy_name},
                )
                ledger.open_positions.append(OpenPosition(
                    strategy_name=signal.strategy_name, symbol=signal.symbol,
                    exit_time_ns=candidate.exit_time_ns, pnl=float(trade["pnl"]),  # type: ignore[arg-type]
                    trade_index=len(trades),
                ))
                day_pnl_by_strategy[signal.strategy_name] = (
                    day_pnl_by_strategy.get(signal.strategy_name, 0.0) + float(trade["pnl"])  # type: ignore[arg-type]
                )
            # Intraday trades all exit today (time stop); settle what is left.
            ledger.realize_until(np.iinfo(np.int64).max)
            day_pnl = sum(day_pnl_by_strategy.values())
            equity += day_pnl
            row: dict[str, object] = {"session_date": day, "pnl": day_pnl, "equity": equity}
            for name in strategy_names:
                row[f"pnl_{name}"] = day_pnl_by_strategy.get(name, 0.0)
            row["daily_loss_limit_hit"] = ledger.loss_limit_hit
            equity_rows.append(row)
            if progress is not None:
                progress(1)
        return BacktestResult(
            trades=pd.DataFrame(trades, columns=TRADE_COLUMNS),
            skipped=pd.DataFrame(skipped, columns=SKIP_COLUMNS),
            equity=pd.DataFrame(equity_rows),
        )

    def _open_trade(
        self, candidate: Candidate, start_of_day_equity: float, trade_number: int
    ) -> tuple[dict[str, object] | None, str | None, str]:
        """Price, fill and size one entry; its exit is already planned. (trade, reason, detail)."""
        signal = candidate.signal
        options = self.config.options
        built = build_spread(
            symbol=signal.symbol, direction=signal.direction, P=signal.P, P_target=signal.P_target,
            ts_ns=signal.entry_time_ns, trade_date=candidate.session_date,
            session_dates=self.session_dates[signal.symbol], source=self.quotes,
            schedule=self.schedule, dte=options.dte,
        )
        if isinstance(built, SkipReason):
            return None, built.reason, built.detail
        spread = built
        entry = open_spread(self.quotes, spread, signal.entry_time_ns, signal.P, self.slippage, options.max_debit_frac)
        if isinstance(entry, SkipReason):
            return None, entry.reason, entry.detail
        entry_debit = entry.price
        contracts = contracts_for(entry_debit, start_of_day_equity, self.config.risk, self.commission)
        if contracts <= 0:
            return None, "size_zero", f"debit {entry_debit:.2f}"
        exit_fill = close_spread(self.quotes, spread, candidate.exit_time_ns, candidate.underlying_exit, self.slippage)
        if isinstance(exit_fill, SkipReason):
            # No usable quote at the exit (chain mode): value the spread at intrinsic, and say so.
            intrinsic = _intrinsic_spread_value(spread, candidate.underlying_exit)
            exit_fill = SpreadFill(price=min(max(intrinsic, 0.01), spread.width - 0.01), mid=intrinsic, natural=intrinsic)
            log.warning("no exit quote for %s (%s); valued at intrinsic %.2f", spread, exit_fill, intrinsic,
                        extra={"strategy": signal.strategy_name})
        exit_credit = exit_fill.price
        commissions = round_trip_commission_per_contract(self.commission) * contracts
        pnl = round((exit_credit - entry_debit) * 100.0 * contracts - commissions, 2)
        max_loss = round(entry_debit * 100.0 * contracts + commissions, 2)
        iv_entry = entry.iv_long
        trade: dict[str, object] = {
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
            "contracts": contracts,
            "entry_debit": entry_debit,
            "exit_credit": exit_credit,
            "commissions": round(commissions, 2),
            "pnl": pnl,
            "max_loss": max_loss,
            "return_on_risk": pnl / max_loss if max_loss > 0 else 0.0,
            "pricing_source": self.pricing_source,
            "iv_entry": float(iv_entry) if iv_entry is not None else float("nan"),
            "width": spread.width,
            "entry_mid": entry.mid,
            "entry_natural": entry.natural,
            "exit_mid": exit_fill.mid,
            "exit_natural": exit_fill.natural,
            "slippage": self.slippage,
            "commission_per_contract": self.commission,
            "expiry_note": getattr(spread, "note", None) or "",
        }
        return trade, None, ""


def _intrinsic_spread_value(spread: DebitSpread, spot: float) -> float:
    if spread.right == "C":
        value = max(0.0, spot - spread.k_long) - max(0.0, spot - spread.k_short)
    else:
        value = max(0.0, spread.k_long - spot) - max(0.0, spread.k_short - spot)
    return float(min(max(value, 0.0), spread.width))


def _skip_row(signal: Signal, reason: str, detail: str) -> dict[str, object]:
    return {
        "strategy_name": signal.strategy_name, "symbol": signal.symbol, "direction": signal.direction,
        "entry_time": signal.entry_time, "P": signal.P, "P_stop": signal.P_stop,
        "P_target": signal.P_target, "reason": reason, "detail": detail,
    }
