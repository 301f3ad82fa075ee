"""``in_signal_order``: candidates planned symbol by symbol merge into the all-at-once order."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from vwapcli.core.types import Signal, local_time_ns
from vwapcli.engine import Candidate, in_signal_order

DAY = dt.date(2024, 3, 5)


def candidate(strategy: str, symbol: str, entry: dt.time, direction: str = "LONG") -> Candidate:
    signal = Signal(
        strategy, symbol, direction, pd.Timestamp(local_time_ns(DAY, entry), tz="UTC"),  # type: ignore[arg-type]
        P=100.0, P_stop=99.0, P_target=101.0,
    )
    return Candidate(signal, DAY, local_time_ns(DAY, dt.time(15, 50)), "time", 100.0, None)


def label(c: Candidate) -> tuple[str, str, str, str]:
    s = c.signal
    return s.entry_time.tz_convert("America/New_York").strftime("%H:%M"), s.symbol, s.strategy_name, s.direction


def test_merged_candidates_are_ordered_by_entry_time_then_symbol_then_strategy_whatever_the_symbol_order() -> None:
    """compute_signals' key is (entry time, symbol, strategy), stable. By hand: 10:00 QQQ B;
    10:30 QQQ A, then SPY A, then SPY B; 11:00 SPY A. Two SPY A signals at 10:30 (LONG
    then SHORT, as SPY's own plan listed them) keep their order: the sort is stable."""
    qqq = [candidate("B", "QQQ", dt.time(10, 0)), candidate("A", "QQQ", dt.time(10, 30))]
    spy = [
        candidate("A", "SPY", dt.time(10, 30)), candidate("A", "SPY", dt.time(10, 30), "SHORT"),
        candidate("B", "SPY", dt.time(10, 30)), candidate("A", "SPY", dt.time(11, 0)),
    ]
    expected = [
        ("10:00", "QQQ", "B", "LONG"), ("10:30", "QQQ", "A", "LONG"), ("10:30", "SPY", "A", "LONG"),
        ("10:30", "SPY", "A", "SHORT"), ("10:30", "SPY", "B", "LONG"), ("11:00", "SPY", "A", "LONG"),
    ]
    assert [label(c) for c in in_signal_order([spy, qqq])] == expected
    assert [label(c) for c in in_signal_order([qqq, spy])] == expected


def test_no_symbols_merge_into_no_candidates() -> None:
    assert in_signal_order([]) == [] and in_signal_order([[], []]) == []
