"""The run folder's tables from an account walk: trades, skipped signals, daily equity (SPEC 10)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from vwapcli.core.skips import Skip
from vwapcli.core.types import Signal, utc_timestamp
from vwapcli.engine.candidates import Candidate
from vwapcli.engine.fills import FilledTrade
from vwapcli.engine.pricing import EXIT_BY_QUOTE
from vwapcli.engine.walk import AccountWalk
from vwapcli.options.spreads import SpreadFill

log = logging.getLogger("vwapcli.engine")

TRADE_COLUMNS = [
    "trade_id", "strategy_name", "symbol", "direction", "signal_time", "entry_time", "exit_time",
    "exit_reason", "P", "P_stop", "P_target", "underlying_exit", "right", "expiry", "k_long",
    "k_short", "contracts", "entry_debit", "exit_credit", "commissions", "pnl", "max_loss",
    "return_on_risk", "pricing_source", "iv_entry",
    # For the report's fill-sensitivity band: spread prices per share before slippage.
    "width", "entry_mid", "entry_natural", "exit_mid", "exit_natural", "slippage",
    "commission_per_contract", "expiry_note",
    # SPEC 7 chain mode: "quote", or "model" where the chain had no quote at the exit.
    "exit_priced_by",
]
SKIP_COLUMNS = ["strategy_name", "symbol", "direction", "entry_time", "P", "P_stop", "P_target", "reason", "detail"]


@dataclass(frozen=True)
class BacktestResult:
    trades: pd.DataFrame
    skipped: pd.DataFrame
    equity: pd.DataFrame


@dataclass(frozen=True)
class TradeTerms:
    """What every trade row of a run repeats: where prices came from and the fill settings."""

    pricing_source: str
    slippage: float
    commission_per_contract: float


def run_tables(
    walk: AccountWalk, candidates: Sequence[Candidate], strategy_names: Sequence[str], terms: TradeTerms
) -> BacktestResult:
    """trades.csv, skipped.csv and equity.parquet of one walk, logging each decision."""
    trades: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    for i, outcome in walk.outcomes:
        candidate = candidates[i]
        signal = candidate.signal
        if isinstance(outcome, Skip):
            skipped.append(skip_row(signal, outcome))
            log.info("skipped %s %s: %s %s", signal.symbol, signal.entry_time.isoformat(), outcome.reason.value,
                     outcome.detail, extra={"strategy": signal.strategy_name})
            continue
        trade = trade_row(candidate, outcome, len(trades) + 1, terms)
        if outcome.priced.exit_priced_by != EXIT_BY_QUOTE:
            exit_fill = SpreadFill(outcome.exit_credit, outcome.priced.exit.mid, outcome.priced.exit.natural)
            log.warning("no exit quote for %s (%s); valued by the %s at %.2f", outcome.priced.spread,
                        exit_fill, outcome.priced.exit_priced_by, outcome.priced.exit.mid,
                        extra={"strategy": signal.strategy_name})
        trades.append(trade)
        log.info(
            "trade %s %s %s %s %g/%g%s x%s debit %.2f -> %s credit %.2f pnl %.2f",
            trade["trade_id"], signal.symbol, signal.direction, signal.entry_time.isoformat(),
            trade["k_long"], trade["k_short"], trade["right"], trade["contracts"], trade["entry_debit"],
            trade["exit_reason"], trade["exit_credit"], trade["pnl"], extra={"strategy": signal.strategy_name},
        )
    return BacktestResult(
        trades=pd.DataFrame(trades, columns=TRADE_COLUMNS),
        skipped=pd.DataFrame(skipped, columns=SKIP_COLUMNS),
        equity=equity_frame(walk, strategy_names),
    )


def equity_frame(walk: AccountWalk, strategy_names: Sequence[str]) -> pd.DataFrame:
    """One row per run session: realized P&L, closing equity, P&L per strategy, limit hit."""
    rows: list[dict[str, object]] = []
    for n, day in enumerate(walk.session_dates):
        row: dict[str, object] = {"session_date": day, "pnl": walk.day_pnl[n], "equity": walk.equity[n]}
        for name in strategy_names:
            row[f"pnl_{name}"] = walk.strategy_pnl[name][n]
        row["daily_loss_limit_hit"] = walk.loss_limit_hit[n]
        rows.append(row)
    return pd.DataFrame(rows)


def trade_row(candidate: Candidate, filled: FilledTrade, trade_number: int, terms: TradeTerms) -> dict[str, object]:
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
        "pricing_source": terms.pricing_source,
        "iv_entry": float(iv_entry) if iv_entry is not None else float("nan"),
        "width": spread.width,
        "entry_mid": priced.entry.mid,
        "entry_natural": priced.entry.natural,
        "exit_mid": priced.exit.mid,
        "exit_natural": priced.exit.natural,
        "slippage": terms.slippage,
        "commission_per_contract": terms.commission_per_contract,
        "expiry_note": spread.note or "",
        "exit_priced_by": priced.exit_priced_by,
    }


def skip_row(signal: Signal, skip: Skip) -> dict[str, object]:
    """One skipped.csv row: the signal's columns, the reason's text and its detail."""
    return {
        "strategy_name": signal.strategy_name, "symbol": signal.symbol, "direction": signal.direction,
        "entry_time": signal.entry_time, "P": signal.P, "P_stop": signal.P_stop,
        "P_target": signal.P_target, "reason": skip.reason.value, "detail": skip.detail,
    }
