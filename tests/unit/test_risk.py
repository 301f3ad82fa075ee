"""SPEC 8 sizing and limits with hand-worked numbers."""

from __future__ import annotations

from vwapcli.config import RiskConfig
from vwapcli.risk import DayLedger, OpenPosition, contracts_for, round_trip_commission_per_contract


def test_round_trip_commission_is_two_legs_times_entry_and_exit() -> None:
    """0.65 per contract per leg x 2 legs x (entry + exit) = 2.60 per spread."""
    assert round_trip_commission_per_contract(0.65) == 0.65 * 4


def test_contracts_floor_budget_over_max_loss_per_contract() -> None:
    """1% of 100,000 = 1,000; debit 1.23 -> 123 + 2.60 = 125.60 per spread; floor(1000/125.6) = 7."""
    risk = RiskConfig(starting_equity=100_000, risk_per_trade_pct=1.0, max_contracts=50)
    assert contracts_for(1.23, 100_000, risk, 0.65) == 7


def test_contracts_are_capped_by_max_contracts() -> None:
    """Debit 0.05 -> 5 + 2.60 = 7.60; floor(1000/7.6) = 131, capped at 50."""
    risk = RiskConfig(max_contracts=50)
    assert contracts_for(0.05, 100_000, risk, 0.65) == 50


def test_contracts_zero_when_one_spread_costs_more_than_the_budget() -> None:
    """Equity 10,000 at 1% = 100; debit 0.99 -> 99 + 2.60 = 101.60 > 100 -> 0 (size_zero)."""
    assert contracts_for(0.99, 10_000, RiskConfig(), 0.65) == 0


def test_daily_loss_limit_blocks_entries_once_realized_loss_reaches_limit() -> None:
    """3% of 100,000 = 3,000: a realized -3,000.00 reaches the limit (<=), -2,999.99 does not."""
    ledger = DayLedger(start_of_day_equity=100_000, risk=RiskConfig())
    ledger.open_positions.append(OpenPosition("ORB", "SPY", exit_time_ns=10, pnl=-2_999.99, trade_index=1))
    ledger.realize_until(10)
    assert ledger.rejection("ORB", "QQQ") is None
    ledger.open_positions.append(OpenPosition("ORB", "SPY", exit_time_ns=20, pnl=-0.01, trade_index=2))
    ledger.realize_until(20)
    assert ledger.rejection("ORB", "QQQ") == "daily_loss_limit"


def test_same_strategy_same_symbol_is_refused_but_other_strategy_is_not() -> None:
    ledger = DayLedger(start_of_day_equity=100_000, risk=RiskConfig())
    ledger.open_positions.append(OpenPosition("ORB", "SPY", exit_time_ns=100, pnl=0.0, trade_index=1))
    assert ledger.rejection("ORB", "SPY") == "position_open"
    assert ledger.rejection("OTHER", "SPY") is None


def test_max_open_positions_counts_all_strategies() -> None:
    ledger = DayLedger(start_of_day_equity=100_000, risk=RiskConfig(max_open_positions=2))
    ledger.open_positions += [
        OpenPosition("ORB", "SPY", 100, 0.0, 1), OpenPosition("ORB", "QQQ", 100, 0.0, 2),
    ]
    assert ledger.rejection("X", "IWM") == "max_open_positions"


def test_exits_at_the_entry_instant_settle_before_the_entry() -> None:
    ledger = DayLedger(start_of_day_equity=100_000, risk=RiskConfig())
    ledger.open_positions.append(OpenPosition("ORB", "SPY", exit_time_ns=50, pnl=12.5, trade_index=1))
    closed = ledger.realize_until(50)
    assert [p.trade_index for p in closed] == [1]
    assert ledger.realized_pnl == 12.5
    assert ledger.rejection("ORB", "SPY") is None
