"""Validation of model prices against quotes (SPEC 7.1): the legs table, the spreads, the summary."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from builders.option_model import random_walk_bars
from vwapcli.config import OptionsConfig
from vwapcli.errors import DataValidationError
from vwapcli.options.calibration_file import CalibrationParams
from vwapcli.options.quote_validation import LEG_COLUMNS, price_legs, strategy_spreads, summarize
from vwapcli.options.quotes import Quote
from vwapcli.options.session_model import CalibratedQuoteSource, SessionVolModel

BARS = random_walk_bars("2024-03-01", "2024-06-28", "5m", seed=5)
SOURCE = CalibratedQuoteSource(
    OptionsConfig.model_validate({}), {"SPY": SessionVolModel.from_bars(CalibrationParams(), BARS)}
)
DAY = dt.date(2024, 6, 21)


def quote_rows(ts: str, strikes: list[float], spot: float | None, right: str = "C") -> pd.DataFrame:
    n = len(strikes)
    return pd.DataFrame(
        {
            "ts": pd.Timestamp(ts, tz="America/New_York").tz_convert("UTC"),
            "underlying": "SPY",
            "expiration": DAY,
            "strike": strikes,
            "right": right,
            "bid": np.linspace(2.0, 0.5, n),
            "ask": np.linspace(2.02, 0.51, n),
            "underlying_price": spot if spot is not None else np.nan,
        }
    )


def test_legs_table_has_the_spec_columns_first_and_copies_bid_ask_unchanged() -> None:
    quotes = quote_rows("2024-06-21 13:00", [499.0, 500.0, 501.0], 500.2)
    legs = price_legs(quotes, SOURCE, {"SPY": BARS})
    assert tuple(legs.columns[: len(LEG_COLUMNS)]) == LEG_COLUMNS
    pd.testing.assert_series_equal(legs["bid"], quotes["bid"])
    pd.testing.assert_series_equal(legs["ask"], quotes["ask"])
    assert legs["spot"].tolist() == [500.2] * 3


def test_model_prices_equal_the_backtest_quote_source_at_the_same_instant() -> None:
    quotes = quote_rows("2024-06-21 13:00", [498.0, 500.0, 503.0], 500.2)
    legs = price_legs(quotes, SOURCE, {"SPY": BARS})
    ts = int(pd.Timestamp("2024-06-21 13:00", tz="America/New_York").value)
    for row in legs.itertuples():
        quote = SOURCE.quote("SPY", ts, DAY, row.strike, "C", 500.2)
        assert isinstance(quote, Quote)
        assert (row.model_bid, row.model_ask, row.model_mid, row.model_iv) == (quote.bid, quote.ask, quote.mid, quote.iv)


def test_without_underlying_price_spot_is_the_last_closed_bar() -> None:
    """At 13:02 the last bar closed is the 12:55-13:00 bar (5-minute bars): its close is the spot."""
    legs = price_legs(quote_rows("2024-06-21 13:02", [500.0], None), SOURCE, {"SPY": BARS})
    bar_start = int(pd.Timestamp("2024-06-21 12:55", tz="America/New_York").value)
    expected = BARS.close[int(np.searchsorted(BARS.ts, bar_start))]
    assert legs["spot"].iloc[0] == expected


def test_legs_get_minutes_to_close_and_buckets() -> None:
    legs = price_legs(quote_rows("2024-06-21 13:00", [505.0], 500.0), SOURCE, {"SPY": BARS})
    assert legs["minutes_to_close"].iloc[0] == pytest.approx(180.0)
    assert legs["close_bucket"].iloc[0] == "2-4h"
    assert legs["moneyness_bucket"].iloc[0] == "OTM 0.5-1%"  # ln(505/500) = 0.995%


def test_missing_columns_are_one_line() -> None:
    with pytest.raises(DataValidationError, match="missing column 'strike'"):
        price_legs(quote_rows("2024-06-21 13:00", [500.0], 500.0).drop(columns="strike"), SOURCE)


def hand_legs(spot: float) -> pd.DataFrame:
    """One snapshot, calls 99..106 with real bid/ask and made-up model quotes (model = real + 0.02)."""
    strikes = np.arange(99.0, 107.0)
    mid = np.maximum(101.0 - strikes, 0.0) + 1.0 / (1.0 + (strikes - 99.0))
    bid, ask = mid - 0.005, mid + 0.005
    return pd.DataFrame(
        {
            "ts": pd.Timestamp("2024-06-21 17:00", tz="UTC"),
            "underlying": "SPY",
            "expiration": DAY,
            "strike": strikes,
            "right": "C",
            "bid": bid,
            "ask": ask,
            "spot": spot,
            "model_bid": bid,
            "model_ask": ask + 0.02,
            "model_mid": mid + 0.01,
            "model_iv": 0.2,
            "minutes_to_close": 180.0,
        }
    )


def test_strategy_spreads_buy_the_strike_nearest_spot_and_sell_one_to_six_out() -> None:
    """spot 100.4: long 100, shorts 101..106; real mid = mid(100) - mid(short); model mid offset cancels."""
    spreads = strategy_spreads(hand_legs(100.4))
    assert spreads["k_long"].unique().tolist() == [100.0]
    assert spreads["k_short"].tolist() == [101.0, 102.0, 103.0, 104.0, 105.0, 106.0]
    first = spreads.iloc[0]
    assert first["real_mid"] == pytest.approx((1.0 + 0.5) - 1 / 3)
    assert first["model_mid"] == pytest.approx(first["real_mid"])
    assert first["rel_error"] == pytest.approx(0.0, abs=1e-12)
    # half-spread: real 0.005 + 0.005; model (ask - mid) + (mid - bid) = (0.015) + (0.015)
    assert first["half_spread_error"] == pytest.approx(0.03 - 0.01)


def test_a_tie_between_two_strikes_goes_towards_the_target() -> None:
    """spot 100.5 between 100 and 101: calls buy 101 (target above)."""
    assert strategy_spreads(hand_legs(100.5))["k_long"].unique().tolist() == [101.0]


def test_summary_gives_medians_by_bucket() -> None:
    spreads = strategy_spreads(hand_legs(100.4))
    legs = hand_legs(100.4).assign(close_bucket="2-4h", moneyness_bucket="OTM 0-0.25%", model_reason="")
    summary = summarize(legs, spreads)
    assert summary["legs"]["all"]["median_error"] == pytest.approx(0.01)
    assert summary["legs"]["all"]["median_abs_half_spread_error"] == pytest.approx(0.01)  # (0.03 - 0.01) / 2
    assert summary["spreads"]["by_close"]["2-4h"]["n"] == 6
    assert summary["spreads"]["all"]["median_abs_error"] == pytest.approx(0.0, abs=1e-12)
