"""Quote sources: BSM model quotes and as-of quotes from the chain store (SPEC 7)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.options import EXPIRY, ROWS, option_quotes
from vwapcli.config import OptionsConfig
from vwapcli.core.skips import Skip
from vwapcli.core.types import DailyBars
from vwapcli.data.option_quotes import write_option_quotes
from vwapcli.options.pricing import bs_price, year_fraction
from vwapcli.options.quotes import (
    ChainQuoteSource,
    ModelQuoteSource,
    Quote,
    QuoteSource,
    model_leg_quote,
)
from vwapcli.options.volatility import VolatilityModel


def _ns(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


# ----------------------------------------------------------------- model
@pytest.mark.parametrize(
    ("mid", "expected"),
    [
        (2.0, (1.95, 2.05)),  # half_spread = 0.05 * 2.0 / 2 = 0.05
        (0.1, (0.10, 0.11)),  # half_spread = max(0.005, 0.0025) = 0.005 -> 0.095 / 0.105, half-up
        (0.003, (0.0, 0.01)),  # 0.003 - 0.005 < 0 -> bid floored at 0; ask 0.008 -> 0.01
        (1.2345, (1.20, 1.27)),  # hs 0.0308625 -> 1.2036375 / 1.2653625
    ],
)
def test_model_leg_quote_is_mid_plus_minus_half_spread_rounded_to_cents(
    mid: float, expected: tuple[float, float]
) -> None:
    assert model_leg_quote(mid, 0.05) == expected


def _vol_model(config: OptionsConfig) -> VolatilityModel:
    """Series mode with the index at 20.0 on the prior session -> vol 0.20 on 2024-03-15."""
    dates = np.array(["2024-03-13", "2024-03-14"], dtype="datetime64[D]")
    close = np.array([500.0, 500.0])
    daily = DailyBars(dates, close, close, close, close, np.zeros(2))
    index = pd.Series([19.0, 20.0], index=pd.to_datetime(["2024-03-13", "2024-03-14"]))
    return VolatilityModel(daily, index, config)


def test_model_quote_is_bsm_at_the_symbols_rate_and_dividend_yield() -> None:
    """Mid = bs_price(S 500, K 502, T to 16:00, r 0.04, q 0.013 (SPY override), vol 0.20)."""
    config = OptionsConfig(iv_source="series", symbols={"SPY": {"div_yield": 0.013}})
    source = ModelQuoteSource(config, {"SPY": _vol_model(config)})
    ts = _ns("2024-03-15 14:00")
    quote = source.quote("SPY", ts, EXPIRY, 502.0, "C", 500.0)
    expected_mid = bs_price(500.0, 502.0, year_fraction(ts, EXPIRY), 0.04, 0.013, 0.20, "C")
    assert quote is not None
    assert quote.mid == pytest.approx(expected_mid, abs=1e-12)
    assert (quote.bid, quote.ask) == model_leg_quote(quote.mid, 0.05)
    assert quote.iv == pytest.approx(0.20)
    assert isinstance(source, QuoteSource)


def test_model_lists_the_per_symbol_strike_grid_around_spot() -> None:
    """QQQ overrides the increment to 0.5: strikes are multiples of 0.5 and include 430.5."""
    config = OptionsConfig(symbols={"QQQ": {"strike_increment": 0.5}})
    strikes = ModelQuoteSource(config, {}).listed_strikes(
        "QQQ", _ns("2024-03-15 10:00"), EXPIRY, "C", 430.3
    )
    assert 430.5 in strikes and 430.0 in strikes
    assert np.all(np.diff(strikes) == 0.5)
    assert strikes.min() <= 430.3 * 0.75 and strikes.max() >= 430.3 * 1.25


def test_model_without_vol_history_gives_no_quote_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Realized vol needs 20 prior closes; 2 are known -> None, reason no_vol logged."""
    config = OptionsConfig()
    dates = np.array(["2024-03-13", "2024-03-14"], dtype="datetime64[D]")
    close = np.array([500.0, 501.0])
    model = VolatilityModel(DailyBars(dates, close, close, close, close, np.zeros(2)), None, config)
    source = ModelQuoteSource(config, {"SPY": model})
    with caplog.at_level(logging.INFO, logger="vwapcli.options"):
        assert source.quote("SPY", _ns("2024-03-15 10:00"), EXPIRY, 500.0, "C", 500.0) is None
    assert "no_vol" in caplog.text and "fewer than 20 prior daily closes" in caplog.text


# ----------------------------------------------------------------- chain store
@pytest.fixture()
def chain(tmp_path: Path) -> ChainQuoteSource:
    write_option_quotes(tmp_path, option_quotes(ROWS))
    return ChainQuoteSource(tmp_path, max_quote_age_seconds=120)


def test_chain_quote_is_the_last_quote_at_or_before_the_query_time(chain: ChainQuoteSource) -> None:
    """At 15:00 the 500C quote is the 14:59 one (1.00/1.10, mid 1.05), not the 15:00:30 one."""
    assert chain.quote("SPY", _ns("2024-03-15 15:00"), EXPIRY, 500.0, "C", 0.0) == Quote(
        1.00, 1.10, 1.05, None
    )
    assert chain.quote("SPY", _ns("2024-03-15 15:00"), EXPIRY, 504.0, "C", 0.0) == Quote(
        0.10, 0.12, 0.11, None
    )


@pytest.mark.parametrize(
    ("strike", "right", "reason"),
    [
        (501.0, "C", "stale_quote"),
        (502.0, "C", "crossed_quote"),
        (503.0, "C", "locked_quote"),
        (505.0, "C", "no_quote"),
        (501.0, "P", "no_quote"),
    ],
)
def test_chain_rejects_stale_crossed_locked_and_missing_quotes(
    chain: ChainQuoteSource,
    strike: float,
    right: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ts = _ns("2024-03-15 15:00")
    answer = chain.lookup("SPY", ts, EXPIRY, strike, right)  # type: ignore[arg-type]
    assert isinstance(answer, Skip) and answer.reason == reason
    with caplog.at_level(logging.INFO, logger="vwapcli.options"):
        assert chain.quote("SPY", ts, EXPIRY, strike, right, 0.0) is None  # type: ignore[arg-type]
    assert reason in caplog.text


def test_chain_quote_before_the_first_quote_of_the_day_is_missing(chain: ChainQuoteSource) -> None:
    answer = chain.lookup("SPY", _ns("2024-03-15 14:00"), EXPIRY, 500.0, "C")
    assert isinstance(answer, Skip) and answer.reason == "no_quote"


def test_chain_lists_strikes_quoted_as_of_the_query_time(chain: ChainQuoteSource) -> None:
    """At 14:58:30 only 500C (14:58) and 501C (14:55) had been quoted."""
    assert chain.listed_strikes("SPY", _ns("2024-03-15 14:58:30"), EXPIRY, "C").tolist() == [
        500.0,
        501.0,
    ]
    assert chain.listed_strikes("SPY", _ns("2024-03-15 15:00"), EXPIRY, "C").tolist() == [
        500.0,
        501.0,
        502.0,
        503.0,
        504.0,
    ]
    assert chain.listed_strikes("SPY", _ns("2024-03-15 15:00"), EXPIRY, "P").tolist() == [500.0]
    assert chain.listed_strikes("SPY", _ns("2024-03-14 15:00"), EXPIRY, "C").size == 0


def test_model_quotes_read_each_symbols_rate_and_yield_once() -> None:
    """The per-symbol terms are cached (the config is frozen): SPY's q override, QQQ's default."""
    config = OptionsConfig.model_validate({"symbols": {"SPY": {"div_yield": 0.013, "strike_increment": 0.5}}})
    source = ModelQuoteSource(config, {})
    assert source.symbol_terms("SPY") == (0.04, 0.013, 0.5)
    assert source.symbol_terms("QQQ") == (0.04, 0.0, 1.0)
    assert source.symbol_terms("SPY") is source.symbol_terms("SPY")
