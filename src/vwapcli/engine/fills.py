"""Stage 3 of the engine: fill, cap and size one priced entry (SPEC 7 fills, SPEC 8 sizing)."""

from __future__ import annotations

from dataclasses import dataclass

from vwapcli.config import RiskConfig
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.engine.pricing import PricedCandidate
from vwapcli.options.spreads import MIN_FILL, check_max_debit, fill_price
from vwapcli.risk import contracts_for, round_trip_commission_per_contract


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
    spread = priced.spread
    width = spread.width
    entry_debit = fill_price(priced.entry, slippage, width)
    too_high = check_max_debit(entry_debit, width, max_debit_frac)
    if too_high is not None:
        return too_high
    contracts = contracts_for(entry_debit, start_of_day_equity, risk, commission)
    if contracts <= 0:
        return Skip(SkipReason.SIZE_ZERO, f"debit {entry_debit:.2f}")
    if priced.exit_quoted:  # the run's quotes, or the model where the chain had none
        exit_credit = fill_price(priced.exit, slippage, width)
    else:  # intrinsic: a value, not a market; no slippage to apply
        exit_credit = min(max(priced.exit.mid, MIN_FILL), width - MIN_FILL)
    commissions = round_trip_commission_per_contract(commission) * contracts
    pnl = round((exit_credit - entry_debit) * 100.0 * contracts - commissions, 2)
    max_loss = round(entry_debit * 100.0 * contracts + commissions, 2)
    return FilledTrade(priced, contracts, entry_debit, exit_credit, commissions, pnl, max_loss)
