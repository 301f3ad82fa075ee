"""Databento's HTTP API (CSV encoding) replayed from recorded text, fixed-point prices."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest

from builders.paths import PROVIDERS
from vwapcli.data.providers.base import parse_osi_symbol
from vwapcli.data.providers.databento import (
    UNDEF_PRICE,
    DatabentoProvider,
    fixed_point_to_dollars,
    near_the_money,
)
from vwapcli.data.providers.http import HttpRequest, HttpResponse, RetryPolicy
from vwapcli.errors import ProviderError

FIXTURES = PROVIDERS / "databento"
FAKE_KEY = "db-FAKEKEYFAKEKEYFAKEKEYFAKEKEY00"
SESSION = dt.date(2024, 6, 20)


class Recorded:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self.status != 200:
            return HttpResponse(self.status, (FIXTURES / "error_401.json").read_bytes())
        schema = (request.data or {})["schema"]
        name = {
            "ohlcv-1m": "ohlcv-1m_XNAS.ITCH_SPY_2024-06-20.csv",
            "cbbo-1m": "cbbo-1m_OPRA.PILLAR_SPY.OPT_2024-06-20.csv",
        }[schema]
        return HttpResponse(200, (FIXTURES / name).read_bytes())


def provider(transport: Recorded) -> DatabentoProvider:
    return DatabentoProvider(
        transport=transport, sleep=lambda s: None, seed=0,
        policy=RetryPolicy(max_attempts=2), environ={"DATABENTO_API_KEY": FAKE_KEY},
    )


def test_databento_bars_turn_fixed_point_integers_into_dollars() -> None:
    """open 549440000000 units x 1e-9 = 549.44 dollars; ts_event 1718890200000000000 ns = 13:30Z."""
    bars = provider(Recorded()).fetch_bars("SPY", [SESSION])
    assert len(bars) == 3
    row = bars.iloc[1]
    assert row["ts"] == pd.Timestamp("2024-06-20T13:30:00Z")
    assert row[["open", "high", "low", "close"]].tolist() == pytest.approx([549.44, 549.60, 549.30, 549.52], abs=1e-9)
    assert row["volume"] == 81234.0


def test_databento_asks_the_http_api_for_csv_with_integer_prices_and_basic_auth() -> None:
    """New York midnight 2024-06-20 (EDT) = 04:00Z; the range ends at the next midnight."""
    transport = Recorded()
    provider(transport).fetch_bars("SPY", [SESSION])
    (request,) = transport.requests
    assert request.method == "POST"
    assert request.url == "https://hist.databento.com/v0/timeseries.get_range"
    assert request.auth == (FAKE_KEY, "")
    form = request.data or {}
    assert form["dataset"] == "XNAS.ITCH"
    assert form["schema"] == "ohlcv-1m"
    assert form["encoding"] == "csv"
    assert form["pretty_px"] == "false"
    assert form["map_symbols"] == "true"
    assert form["start"] == "2024-06-20T04:00:00+00:00"
    assert form["end"] == "2024-06-21T04:00:00+00:00"


def test_databento_option_quotes_keep_near_expiry_near_the_money_two_sided_quotes() -> None:
    """Recorded cbbo-1m rows at 13:31Z (ts_recv = end of the 13:30 minute) and 13:32Z.

    Dropped: the 2024-07-19 call (29 days out > 7), the 600 call (outside the band
    around the parity forward 548 + 2.03 - 0.61 = 549.42, i.e. [532.94, 565.90]) and the
    450 put (no ask: the 2**63-1 sentinel). Kept: C548 at 13:31 and 13:32, P548 at 13:31.
    """
    quotes = provider(Recorded()).fetch_option_quotes("SPY", [SESSION])
    assert len(quotes) == 3
    assert set(quotes["strike"]) == {548.0}
    assert set(quotes["expiry"]) == {dt.date(2024, 6, 21)}
    call = quotes[(quotes["right"] == "C")].sort_values("ts")
    assert call["ts"].tolist() == [pd.Timestamp("2024-06-20T13:31:00Z"), pd.Timestamp("2024-06-20T13:32:00Z")]
    assert call[["bid", "ask"]].to_numpy().ravel().tolist() == pytest.approx([2.01, 2.05, 2.06, 2.10])
    put = quotes[quotes["right"] == "P"].iloc[0]
    assert (put["bid"], put["ask"], put["bid_size"], put["ask_size"]) == pytest.approx((0.60, 0.62, 45.0, 50.0))


def test_databento_option_request_uses_parent_symbology_on_opra() -> None:
    transport = Recorded()
    provider(transport).fetch_option_quotes("SPY", [SESSION])
    form = transport.requests[0].data or {}
    assert (form["dataset"], form["schema"], form["symbols"], form["stype_in"]) == (
        "OPRA.PILLAR", "cbbo-1m", "SPY.OPT", "parent",
    )
    # 09:30 New York (EDT) = 13:30 UTC.
    assert form["start"] == "1718890200000000000"


def test_undefined_price_sentinel_becomes_nan() -> None:
    dollars = fixed_point_to_dollars(pd.Series([1_500_000_000, UNDEF_PRICE]))
    assert dollars[0] == 1.5
    assert pd.isna(dollars[1])


def test_osi_symbols_parse_in_databento_and_polygon_spelling() -> None:
    """Strike field 00545500 is in thousandths: 545.5 dollars."""
    assert parse_osi_symbol("SPY   240621C00545500") == ("SPY", dt.date(2024, 6, 21), "C", 545.5)
    assert parse_osi_symbol("O:QQQ241220P00480000") == ("QQQ", dt.date(2024, 12, 20), "P", 480.0)
    with pytest.raises(ValueError):
        parse_osi_symbol("SPY")


def test_near_the_money_keeps_everything_when_no_call_put_pair_gives_a_forward() -> None:
    quotes = pd.DataFrame(
        {
            "ts": [pd.Timestamp("2024-06-20T13:31Z")] * 2,
            "expiry": [dt.date(2024, 6, 21)] * 2,
            "strike": [500.0, 600.0],
            "right": ["C", "C"],
            "bid": [1.0, 2.0],
            "ask": [1.1, 2.1],
        }
    )
    assert len(near_the_money(quotes, 0.03)) == 2


def test_databento_serves_only_one_minute_bars() -> None:
    with pytest.raises(ProviderError, match="ohlcv-1m only"):
        provider(Recorded()).fetch_bars("SPY", [SESSION], timeframe="5m")


def test_databento_401_is_one_line_and_keeps_the_key_secret(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as caught:
        provider(Recorded(status=401)).fetch_bars("SPY", [SESSION])
    assert str(caught.value) == "databento: 401 Unauthorized — check DATABENTO_API_KEY"
    assert FAKE_KEY not in caplog.text
