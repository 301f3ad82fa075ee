"""build_engine: the one place a config becomes an engine, and the seam for another quote source."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from builders.strategy import random_sessioned_bars
from vwapcli.app_config import AppConfig
from vwapcli.core.types import Signal, local_time_ns
from vwapcli.data.sessions import SessionCalendar
from vwapcli.engine import Candidate, PricedCandidate, build_engine, exchange_sessions
from vwapcli.options.quotes import ModelQuoteSource, Quote
from vwapcli.options.session_model import CalibratedQuoteSource


class FlatQuotes:
    """Every leg 1.00 bid / 1.10 ask; strikes every dollar from 90 to 110."""

    name = "flat"

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        return Quote(bid=1.00, ask=1.10, mid=1.05)

    def listed_strikes(self, symbol, ts_ns, expiry, right, spot):  # type: ignore[no-untyped-def]
        return np.arange(90.0, 111.0)


def _market() -> dict[str, object]:
    return {"SPY": random_sessioned_bars("SPY", dt.date(2024, 3, 4), 5, seed=1)}


def test_without_a_quote_source_the_config_chooses_the_session_vol_model_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SPEC 7.1: `vol_model: session` is the default; `flat` keeps the previous model."""
    engine = build_engine(AppConfig(), _market(), tmp_path)  # type: ignore[arg-type]
    assert isinstance(engine.pricer.quotes, CalibratedQuoteSource)
    flat = AppConfig.model_validate({"options": {"vol_model": "flat"}})
    assert isinstance(build_engine(flat, _market(), tmp_path).pricer.quotes, ModelQuoteSource)  # type: ignore[arg-type]


def test_a_given_quote_source_prices_the_same_candidates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Re-pricing seam: the long and short legs both quote mid 1.05, so the spread's mid is
    1.05 - 1.05 = 0.00; natural open = ask 1.10 - bid 1.00 = 0.10; close = 1.00 - 1.10 = -0.10."""
    engine = build_engine(AppConfig(), _market(), tmp_path, quote_source=FlatQuotes())  # type: ignore[arg-type]
    day = dt.date(2024, 3, 5)
    entry = pd.Timestamp(local_time_ns(day, dt.time(10, 30)), tz="UTC")
    signal = Signal("ORB", "SPY", "LONG", entry, P=100.4, P_stop=99.8, P_target=101.2)
    candidate = Candidate(signal, day, local_time_ns(day, dt.time(11, 0)), "time", 100.5, None)
    priced = engine.price_candidate(candidate)
    assert isinstance(priced, PricedCandidate)
    assert (priced.spread.k_long, priced.spread.k_short) == (100.0, 101.0)
    assert (priced.entry.mid, priced.entry.natural, priced.exit.natural) == (0.0, 0.10, -0.10)


def test_expiries_count_exchange_sessions_past_the_data_not_just_days_with_bars() -> None:
    """The data ends Fri 2024-03-08; the calendar goes on (Mon 03-11, ...) to its last
    session, whatever the data (a symbol's expiries never depend on other symbols' data)."""
    sessions = exchange_sessions("XNYS", _market())["SPY"]  # type: ignore[arg-type]
    assert sessions.dates[:2] == [dt.date(2024, 3, 4), dt.date(2024, 3, 5)]
    assert dt.date(2024, 3, 11) in sessions.dates[: sessions.known]
    assert sessions.dates[sessions.known - 1] == SessionCalendar("XNYS").last_session


def test_an_expiry_past_two_months_from_the_datas_end_counts_real_sessions_not_weekdays() -> None:
    """Data ending Fri 2024-01-26, a trade that day with dte 45, no listing schedule (an
    expiry every session). Counted by hand on the NYSE calendar: Jan 29-31 (3), February
    without Presidents' Day 02-19 (20, total 23), March 1-28 without Good Friday 03-29 (20,
    total 43), then Apr 1 (44) and Apr 2 (45): the expiry is 2024-04-02. The old list,
    real sessions only to 60 days past the data (03-26, session 41), counted Good Friday
    as a weekday and answered 2024-04-01, one session short."""
    from vwapcli.engine import exchange_sessions_spanning
    from vwapcli.options.expirations import ExpirySchedule

    sessions = exchange_sessions_spanning("XNYS", {"XYZ": (dt.date(2023, 12, 1), dt.date(2024, 1, 26))})["XYZ"]
    choice = ExpirySchedule.load().expiry_for("XYZ", dt.date(2024, 1, 26), 45, sessions)
    assert choice.expiry == dt.date(2024, 4, 2)
    assert choice.note is None or "weekday" not in choice.note
