"""Risk: sizing by max loss and the limits every entry must pass (SPEC 8).

Pure functions plus one small per-day ledger, so the engine's loop stays readable and
each rule can be tested with hand-worked numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vwapcli.config import RiskConfig
from vwapcli.core.skips import SkipReason

LEGS_PER_SPREAD = 2
SIDES_PER_TRADE = 2  # entry and exit


def round_trip_commission_per_contract(commission_per_contract: float) -> float:
    """Dollars per spread contract for opening and closing both legs."""
    return commission_per_contract * LEGS_PER_SPREAD * SIDES_PER_TRADE


def contracts_for(
    entry_debit: float, start_of_day_equity: float, risk: RiskConfig, commission_per_contract: float
) -> int:
    """SPEC 8: floor(budget / (100*debit + round-trip commissions)), capped at max_contracts.

    The debit is the spread's max loss per share, so the budget buys exactly the number
    of spreads whose combined worst case stays within risk_per_trade_pct of the day's
    starting equity.
    """
    budget = start_of_day_equity * risk.risk_per_trade_pct / 100.0
    cost_per_contract = 100.0 * entry_debit + round_trip_commission_per_contract(commission_per_contract)
    if cost_per_contract <= 0:
        return 0
    return max(0, min(risk.max_contracts, math.floor(budget / cost_per_contract)))


@dataclass
class OpenPosition:
    """What the ledger needs to know of an open trade."""

    strategy_name: str
    symbol: str
    exit_time_ns: int
    pnl: float
    trade_index: int


def _settle_order(position: OpenPosition) -> tuple[int, int]:
    return position.exit_time_ns, position.trade_index


@dataclass
class DayLedger:
    """One session's risk state: start-of-day equity, realized P&L, open positions."""

    start_of_day_equity: float
    risk: RiskConfig
    realized_pnl: float = 0.0
    open_positions: list[OpenPosition] = field(default_factory=list)
    loss_limit_hit: bool = False

    def realize_until(self, ts_ns: int) -> list[OpenPosition]:
        """Close every position whose exit is at or before ``ts_ns`` (exits settle before entries).

        Positions settle in exit order (ties: trade order), so the realized sum is the
        same float however they were opened.
        """
        closing = [p for p in self.open_positions if p.exit_time_ns <= ts_ns] if self.open_positions else []
        if closing:
            closing.sort(key=_settle_order)
            for position in closing:
                self.open_positions.remove(position)
                self.realized_pnl += position.pnl
        if self.realized_pnl <= -self.loss_limit_dollars:
            self.loss_limit_hit = True
        return closing

    @property
    def loss_limit_dollars(self) -> float:
        return self.start_of_day_equity * self.risk.daily_loss_limit_pct / 100.0

    def rejection(self, strategy_name: str, symbol: str) -> SkipReason | None:
        """The first limit an entry would break, or None (SPEC 8 order)."""
        if self.loss_limit_hit:
            return SkipReason.DAILY_LOSS_LIMIT
        for position in self.open_positions:
            if position.strategy_name == strategy_name and position.symbol == symbol:
                return SkipReason.POSITION_OPEN
        if len(self.open_positions) >= self.risk.max_open_positions:
            return SkipReason.MAX_OPEN_POSITIONS
        return None
