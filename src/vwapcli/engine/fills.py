"""Stage 3 of the engine: fill, cap and size one priced entry (SPEC 7 fills, SPEC 8 sizing)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vwapcli.config import RiskConfig
from vwapcli.core.decimal_rounding import round_decimal
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.engine.pricing import PricedCandidate
from vwapcli.options.spreads import MIN_FILL, SpreadPrice, check_max_debit, fill_price, fill_prices
from vwapcli.risk import contracts_for, round_trip_commission_per_contract

CONTRACT_MULTIPLIER = 100.0  # shares per option contract


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
    opened = open_and_size(priced.entry, priced.spread.width, slippage, start_of_day_equity, risk, commission,
                           max_debit_frac)
    if isinstance(opened, Skip):
        return opened
    entry_debit, contracts = opened
    exit_credit = exit_fill(priced, slippage)
    commissions = round_trip_commission_per_contract(commission) * contracts
    pnl = trade_pnl(entry_debit, exit_credit, contracts, commissions)
    max_loss = round(entry_debit * 100.0 * contracts + commissions, 2)
    return FilledTrade(priced, contracts, entry_debit, exit_credit, commissions, pnl, max_loss)


def open_and_size(
    entry: SpreadPrice,
    width: float,
    slippage: float,
    start_of_day_equity: float,
    risk: RiskConfig,
    commission: float,
    max_debit_frac: float,
) -> tuple[float, int] | Skip:
    """The opening half of :func:`fill_and_size`: ``(entry_debit, contracts)`` or the Skip.

    Paper trading decides an entry before its exit exists, so the rules that need only the
    entry (opening fill, debit cap, size) live here, and ``fill_and_size`` calls this.
    """
    entry_debit = fill_price(entry, slippage, width)
    too_high = check_max_debit(entry_debit, width, max_debit_frac)
    if too_high is not None:
        return too_high
    contracts = contracts_for(entry_debit, start_of_day_equity, risk, commission)
    if contracts <= 0:
        return Skip(SkipReason.SIZE_ZERO, f"debit {entry_debit:.2f}")
    return entry_debit, contracts


def exit_fill(priced: PricedCandidate, slippage: float) -> float:
    """The closing credit per share (SPEC 7 fills): a quoted exit (the run's source, or the
    model where the chain had none) fills at ``slippage``; an intrinsic exit is a value, not
    a market, so it is only clipped to ``[0.01, width - 0.01]``."""
    width = priced.spread.width
    if priced.exit_quoted:
        return fill_price(priced.exit, slippage, width)
    return min(max(priced.exit.mid, MIN_FILL), width - MIN_FILL)


def trade_pnl(entry_debit: float, exit_credit: float, contracts: int, commissions: float) -> float:
    """Net dollars of a closed spread trade, rounded to cents: (credit - debit) x 100 x
    contracts - commissions. The run and its re-pricings (model risk) share this one rule."""
    return round((exit_credit - entry_debit) * CONTRACT_MULTIPLIER * contracts - commissions, 2)


def exit_fills(
    mid: np.ndarray, natural: np.ndarray, quoted: np.ndarray, slippage: float, width: np.ndarray
) -> np.ndarray:
    """:func:`exit_fill` of many exits, the very same bits, as arrays (model risk):
    ``fill_prices`` where ``quoted``, else the intrinsic ``mid`` clipped as ``min(max(mid,
    0.01), width - 0.01)`` decides it (Python's builtins: the first argument unless the
    second is strictly larger/smaller)."""
    mid = np.asarray(mid, dtype=np.float64)
    width = np.asarray(width, dtype=np.float64)
    floored = np.where(mid < MIN_FILL, MIN_FILL, mid)
    ceiling = width - MIN_FILL
    intrinsic = np.where(ceiling < floored, ceiling, floored)
    return np.where(quoted, fill_prices(mid, natural, slippage, width), intrinsic)


def trade_pnls(
    entry_debit: np.ndarray, exit_credit: np.ndarray, contracts: np.ndarray, commissions: np.ndarray
) -> np.ndarray:
    """:func:`trade_pnl` of many trades, the very same bits, as arrays: the same operations
    in the same order (contracts as float64, exact below 2**53, as Python converts them),
    and Python's ``round(x, 2)`` by its exact twin ``round_decimal``."""
    contracts = np.asarray(contracts).astype(np.float64)
    raw = (np.asarray(exit_credit) - np.asarray(entry_debit)) * CONTRACT_MULTIPLIER * contracts - commissions
    return round_decimal(raw, 2)
