"""A streamed run's workers price candidates (``prices_of``) and the walk's pricer takes
their answers (``remember``): it must then answer from them, never quote again."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from vwapcli.core.types import Signal, local_time_ns
from vwapcli.engine import Candidate, PricedCandidate, SpreadPricer
from vwapcli.options.expirations import ExpirySchedule
from vwapcli.options.quotes import Quote

DAY = dt.date(2024, 3, 12)


class CountingSource:
    """Leg value = intrinsic + 0.30, bid/ask -/+ 0.05, $1 strikes 90..110; counts quotes."""

    name = "counting"

    def __init__(self) -> None:
        self.quotes = 0

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        self.quotes += 1
        intrinsic = max(spot - strike, 0.0) if right == "C" else max(strike - spot, 0.0)
        value = intrinsic + 0.30
        return Quote(bid=round(value - 0.05, 2), ask=round(value + 0.05, 2), mid=value, iv=0.2)

    def listed_strikes(self, symbol, ts_ns, expiry, right, spot):  # type: ignore[no-untyped-def]
        return np.arange(90.0, 111.0)


def pricer(source: CountingSource) -> SpreadPricer:
    return SpreadPricer(source, ExpirySchedule.load(), {"SPY": [DAY, DAY + dt.timedelta(days=1)]})  # type: ignore[arg-type]


def candidate() -> Candidate:
    entry = pd.Timestamp(local_time_ns(DAY, dt.time(10, 30)), tz="UTC")
    signal = Signal("ORB", "SPY", "LONG", entry, P=100.4, P_stop=99.8, P_target=101.2)
    return Candidate(signal, DAY, local_time_ns(DAY, dt.time(11, 0)), "time", 100.5, None)


def test_a_pricer_answers_from_remembered_prices_without_quoting() -> None:
    """Worker side: K_long 100, K_short 101 (SPEC 7, $1 grid); entry legs 0.70 and 0.30 ->
    mid 0.40 (hand: 100.4-100+0.30, 0+0.30). Walk side: the same object, zero quotes."""
    worker_source, walk_source = CountingSource(), CountingSource()
    answers = pricer(worker_source).prices_of([candidate()], dte=0)
    assert worker_source.quotes > 0
    priced = answers[candidate().pricing_key]
    assert isinstance(priced, PricedCandidate)
    assert (priced.spread.k_long, priced.spread.k_short) == (100.0, 101.0)
    assert round(priced.entry.mid, 10) == 0.40

    walk = pricer(walk_source)
    walk.remember(0, answers)
    assert walk.price(candidate(), 0) is priced
    assert walk_source.quotes == 0
