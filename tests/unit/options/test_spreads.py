"""Debit spreads: building, pricing, fills and the debit cap (SPEC 7)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vwapcli.config import OptionsConfig
from vwapcli.core.skips import Skip, SkipReason
from vwapcli.core.types import DailyBars
from vwapcli.data.option_quotes import write_option_quotes
from vwapcli.options.expirations import ExpirySchedule, ListingEra
from vwapcli.options.quotes import ChainQuoteSource, ModelQuoteSource, Quote
from vwapcli.options.spreads import (
    DebitSpread,
    SpreadFill,
    SpreadPrice,
    build_spread,
    check_max_debit,
    close_spread,
    fill_price,
    open_spread,
    price_spread_close,
    price_spread_open,
)
from vwapcli.options.volatility import VolatilityModel

EXPIRY = dt.date(2024, 3, 15)
CALL_SPREAD = DebitSpread("SPY", "C", EXPIRY, 500.0, 501.0, 1.0)
# Mon/Wed/Fri weeklies from 2020 (a small hand-made schedule, independent of the shipped file).
MWF = ExpirySchedule({"SPY": [ListingEra(dt.date(2020, 1, 1), frozenset({0, 2, 4}), True, True)]})
SESSIONS = [d.date() for d in pd.bdate_range("2021-02-22", "2021-03-31")]  # no holidays in range


def _ns(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


class TableQuotes:
    """A minimal QuoteSource (no ``lookup``): fixed quotes per strike."""

    name = "table"

    def __init__(self, quotes: dict[float, Quote]) -> None:
        self.quotes = quotes

    def quote(self, symbol, ts_ns, expiry, strike, right, spot):  # type: ignore[no-untyped-def]
        return self.quotes.get(strike)

    def listed_strikes(self, symbol, ts_ns, expiry, right, spot):  # type: ignore[no-untyped-def]
        return np.array(sorted(self.quotes))


LEGS = TableQuotes({500.0: Quote(2.00, 2.10, 2.05), 501.0: Quote(1.50, 1.58, 1.54)})


# ----------------------------------------------------------------- fills
@pytest.mark.parametrize(
    ("mid", "natural", "slippage", "width", "expected"),
    [
        (1.00, 1.10, 0.5, 5.0, 1.05),  # 1.00 + 0.5 * 0.10
        (1.234, 1.30, 0.5, 5.0, 1.27),  # 1.267 -> 1.27
        (1.23, 1.24, 0.5, 5.0, 1.24),  # 1.235: half a cent rounds up
        (1.00, 1.10, 0.0, 5.0, 1.00),  # no slippage: the mid
        (1.00, 1.10, 1.0, 5.0, 1.10),  # full slippage: the natural
        (0.001, 0.002, 0.5, 1.0, 0.01),  # 0.0015 -> 0.00 -> clipped up to 0.01
        (0.995, 1.01, 0.5, 1.0, 0.99),  # 1.0025 -> 1.00 -> clipped to width - 0.01
        (0.40, 0.30, 0.5, 1.0, 0.35),  # a closing price: natural below mid
        (0.02, -0.03, 0.5, 1.0, 0.01),  # -0.005 -> clipped to 0.01
    ],
)
def test_fill_is_mid_plus_slippage_toward_natural_rounded_and_clipped(
    mid: float, natural: float, slippage: float, width: float, expected: float
) -> None:
    assert fill_price(SpreadPrice(mid, natural), slippage, width) == expected


def test_slippage_outside_zero_to_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="slippage"):
        fill_price(SpreadPrice(1.0, 1.1), 1.5, 5.0)


# ----------------------------------------------------------------- spread prices
def test_opening_price_pays_the_long_ask_and_receives_the_short_bid() -> None:
    """mid = 2.05 - 1.54 = 0.51; natural = 2.10 - 1.50 = 0.60; fill(0.5) = 0.555 -> 0.56."""
    price = price_spread_open(LEGS, CALL_SPREAD, 0, 500.0)
    assert price is not None
    assert price.mid == pytest.approx(0.51) and price.natural == 0.60
    assert fill_price(price, 0.5, CALL_SPREAD.width) == 0.56


def test_closing_price_sells_the_long_bid_and_buys_back_the_short_ask() -> None:
    """natural = 2.00 - 1.58 = 0.42; fill(0.5) = 0.51 - 0.045 = 0.465 -> 0.47."""
    price = price_spread_close(LEGS, CALL_SPREAD, 0, 500.0)
    assert price is not None and price.natural == 0.42
    assert close_spread(LEGS, CALL_SPREAD, 0, 500.0, 0.5) == SpreadFill(0.47, price.mid, 0.42, None)


def test_a_missing_leg_gives_no_price_and_a_no_quote_reason() -> None:
    one_leg = TableQuotes({500.0: Quote(2.00, 2.10, 2.05)})
    assert price_spread_open(one_leg, CALL_SPREAD, 0, 500.0) is None
    skipped = open_spread(one_leg, CALL_SPREAD, 0, 500.0, 0.5, 0.9)
    assert isinstance(skipped, Skip) and skipped.reason == "no_quote"


def test_debit_cap_allows_equality_and_skips_above() -> None:
    """0.7 x width 3 = 2.10 (2.0999999999999996 in binary): 2.10 passes, 2.11 is skipped."""
    assert check_max_debit(2.10, 3.0, 0.7) is None
    skipped = check_max_debit(2.11, 3.0, 0.7)
    assert skipped == Skip(SkipReason.DEBIT_TOO_HIGH, "debit 2.11 > 0.7 x width 3")


def test_open_spread_skips_a_debit_above_the_cap() -> None:
    """Fill 0.56 on width 1 with max_debit_frac 0.5 -> skipped; with 0.9 -> filled."""
    assert isinstance(open_spread(LEGS, CALL_SPREAD, 0, 500.0, 0.5, 0.5), Skip)
    assert open_spread(LEGS, CALL_SPREAD, 0, 500.0, 0.5, 0.9) == SpreadFill(
        0.56, pytest.approx(0.51), 0.60, None
    )


# ----------------------------------------------------------------- building
def _model_source() -> ModelQuoteSource:
    config = OptionsConfig(iv_source="series")
    close = np.array([390.0])
    daily = DailyBars(
        np.array(["2021-03-01"], dtype="datetime64[D]"), close, close, close, close, np.zeros(1)
    )
    index = pd.Series([25.0], index=pd.to_datetime(["2021-03-01"]))
    return ModelQuoteSource(config, {"SPY": VolatilityModel(daily, index, config)})


def test_long_signal_builds_a_call_debit_spread_with_the_expiry_note() -> None:
    """Tue 2021-03-02, M/W/F schedule: 0DTE -> Wed 03-03 with a note; P 390.5 ties -> 391
    (toward target 391.7), target -> 392; width 1."""
    spread = build_spread(
        symbol="SPY",
        direction="LONG",
        P=390.5,
        P_target=391.7,
        ts_ns=_ns("2021-03-02 10:30"),
        trade_date=dt.date(2021, 3, 2),
        session_dates=SESSIONS,
        source=_model_source(),
        schedule=MWF,
        dte=0,
    )
    assert spread == DebitSpread(
        "SPY",
        "C",
        dt.date(2021, 3, 3),
        391.0,
        392.0,
        1.0,
        "no 0DTE listed on 2021-03-02 (Tue); used 2021-03-03",
    )


def test_short_signal_builds_a_put_debit_spread_below_spot() -> None:
    spread = build_spread(
        symbol="SPY",
        direction="SHORT",
        P=390.5,
        P_target=388.2,
        ts_ns=_ns("2021-03-03 10:30"),
        trade_date=dt.date(2021, 3, 3),
        session_dates=SESSIONS,
        source=_model_source(),
        schedule=MWF,
        dte=0,
    )
    assert spread == DebitSpread("SPY", "P", dt.date(2021, 3, 3), 390.0, 388.0, 2.0, None)


def test_model_spread_opens_and_closes_with_fills_inside_the_width() -> None:
    """End to end on the model: the debit and the exit credit lie in [0.01, width - 0.01]."""
    source = _model_source()
    spread = DebitSpread("SPY", "C", dt.date(2021, 3, 3), 391.0, 392.0, 1.0)
    entry = open_spread(source, spread, _ns("2021-03-03 10:30"), 390.5, 0.5, 0.9)
    exit_ = close_spread(source, spread, _ns("2021-03-03 15:50"), 392.5, 0.5)
    assert isinstance(entry, SpreadFill) and isinstance(exit_, SpreadFill)
    assert 0.01 <= entry.price < exit_.price <= 0.99  # the target was passed: the spread gained
    assert entry.iv_long == pytest.approx(0.25)


def test_chain_without_strikes_for_the_expiry_skips_with_no_strikes(tmp_path: Path) -> None:
    spread = build_spread(
        symbol="SPY",
        direction="LONG",
        P=390.5,
        P_target=391.7,
        ts_ns=_ns("2021-03-03 10:30"),
        trade_date=dt.date(2021, 3, 3),
        session_dates=SESSIONS,
        source=ChainQuoteSource(tmp_path),
        schedule=MWF,
        dte=0,
    )
    assert isinstance(spread, Skip) and spread.reason == "no_strikes"


def test_chain_spread_builds_from_listed_strikes_and_fills_from_quotes(tmp_path: Path) -> None:
    """Listed 390/392/394 calls: K_long nearest P 390.5 is 390 (0.5 vs 1.5); K_short nearest
    391.2 is 392 (0.8 vs 1.2). Open: mid 1.05 - 0.45 = 0.60, natural 1.10 - 0.40 = 0.70,
    fill 0.60 + 0.5 * 0.10 = 0.65.
    """
    quotes = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2021-03-03 10:29"] * 3)
            .tz_localize("America/New_York")
            .tz_convert("UTC"),
            "underlying": "SPY",
            "expiry": dt.date(2021, 3, 3),
            "strike": [390.0, 392.0, 394.0],
            "right": "C",
            "bid": [1.00, 0.40, 0.10],
            "ask": [1.10, 0.50, 0.15],
        }
    )
    write_option_quotes(tmp_path, quotes)
    source = ChainQuoteSource(tmp_path, 120)
    spread = build_spread(
        symbol="SPY",
        direction="LONG",
        P=390.5,
        P_target=391.2,
        ts_ns=_ns("2021-03-03 10:30"),
        trade_date=dt.date(2021, 3, 3),
        session_dates=SESSIONS,
        source=source,
        schedule=MWF,
        dte=0,
    )
    assert spread == DebitSpread("SPY", "C", dt.date(2021, 3, 3), 390.0, 392.0, 2.0, None)
    fill = open_spread(source, spread, _ns("2021-03-03 10:30"), 390.5, 0.5, 0.9)
    assert fill == SpreadFill(0.65, pytest.approx(0.60), 0.70, None)
