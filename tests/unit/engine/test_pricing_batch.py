"""``SpreadPricer.prices_of`` / ``price_held_many`` (legs priced together) give each
candidate exactly what ``price`` gives it one at a time (issue 17), whatever the source."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from builders.option_model import random_walk_bars
from vwapcli.config import OptionsConfig
from vwapcli.core.types import Signal, local_time_ns
from vwapcli.engine import Candidate, SpreadPricer
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.expirations import ExpirySchedule
from vwapcli.options.quotes import Quote
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel

BARS = random_walk_bars("2024-01-02", "2024-04-30", "5m", seed=4)
DAYS = [d.astype(dt.date) for d in BARS.session_date]
OPTIONS = OptionsConfig.model_validate({"symbols": {}})


def candidates() -> list[Candidate]:
    """Two a day, LONG and SHORT, from the first session (no vol yet: a Skip) to the last;
    one duplicate pricing key (the walk may meet a key twice)."""
    found = []
    for i, day in enumerate(DAYS):
        for direction, minute in (("LONG", 40), ("SHORT", 200)):
            entry = local_time_ns(day, dt.time(10, 0)) + minute * 60_000_000_000
            spot = 500.0 + (i % 7) - 3.0
            target = spot + 1.3 if direction == "LONG" else spot - 2.2
            stop = spot - 1.0 if direction == "LONG" else spot + 1.0
            signal = Signal("ORB", "SPY", direction, pd.Timestamp(entry, tz="UTC"), P=spot, P_stop=stop,
                            P_target=target)
            hold = 45 if i % 2 else 10  # minutes
            found.append(Candidate(signal, day, entry + hold * 60_000_000_000, "time", spot + 0.4, None))
    return [*found, found[-1]]


def session_pricer() -> SpreadPricer:
    model = SessionVolModel.from_bars(CalibrationParams(), BARS)
    return SpreadPricer(CalibratedQuoteSource(OPTIONS, {"SPY": model}), ExpirySchedule.load(), {"SPY": DAYS})


def test_prices_of_on_the_session_model_is_price_one_candidate_at_a_time() -> None:
    together = session_pricer().prices_of(candidates(), dte=1)
    one_by_one = session_pricer()
    expected = {c.pricing_key: one_by_one.price(c, 1) for c in candidates()}
    assert together == expected
    assert len({type(answer).__name__ for answer in together.values()}) == 2  # Skips and prices both occur


class ExitlessSource:
    """No quote from 11:00 ET on (a thin chain); before it intrinsic + 0.30 with a 0.10 width."""

    name = "exitless"

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        if pd.Timestamp(ts_ns, tz="UTC").tz_convert("America/New_York").hour >= 11:
            return None
        value = (max(spot - strike, 0.0) if right == "C" else max(strike - spot, 0.0)) + 0.30
        return Quote(bid=round(value - 0.05, 2), ask=round(value + 0.05, 2), mid=value, iv=0.2)

    def listed_strikes(self, symbol, ts_ns, expiry, right, spot):  # type: ignore[no-untyped-def]
        return np.arange(480.0, 521.0)


def test_exits_without_a_quote_fall_back_alike_in_both_paths() -> None:
    """10:40 entries are quoted, their 10:50 exits too, their 11:25 exits not: valued by the exit fallback (the session model), and
    where it cannot price either (first days), at intrinsic, flagged; same in both paths."""
    def pricer() -> SpreadPricer:
        model = SessionVolModel.from_bars(CalibrationParams(), BARS)
        fallback = CalibratedQuoteSource(OPTIONS, {"SPY": model})
        return SpreadPricer(ExitlessSource(), ExpirySchedule.load(), {"SPY": DAYS}, exit_fallback=fallback)

    together = pricer().prices_of(candidates(), dte=0)
    one_by_one = pricer()
    assert together == {c.pricing_key: one_by_one.price(c, 0) for c in candidates()}
    flags = {answer.exit_priced_by for answer in together.values() if hasattr(answer, "exit_priced_by")}
    assert flags == {"quote", "model", "intrinsic"}
