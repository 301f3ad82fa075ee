"""Polygon REST replayed from recorded responses: aggregates, pagination, option quotes."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pandas as pd
import pytest

from builders.paths import PROVIDERS
from builders.provider_replay import FakeClock
from vwapcli.data.providers.http import HttpRequest, HttpResponse, RetryPolicy
from vwapcli.data.providers.polygon import PolygonProvider, bars_from_polygon, quotes_from_polygon
from vwapcli.errors import ProviderError

FIXTURES = PROVIDERS / "polygon"
VENDOR = FIXTURES / "vendor"
FAKE_KEY = "FAKE-POLYGON-KEY-5d8e"
SESSION = dt.date(2024, 6, 20)
NEXT_AGGS = "https://api.polygon.io/v2/aggs/ticker/SPY/range/1/minute/1718890320000/1718913600000?cursor=bGltaXQ9MyZzb3J0PWFzYw"
NEXT_QUOTES = "https://api.polygon.io/v3/quotes/O:SPY240621C00548000?cursor=YXA9MTAwMiZsaW1pdD0y"

ROUTES = {
    "https://api.polygon.io/v2/aggs/ticker/SPY/range/1/minute/2024-06-20/2024-06-20": "aggs_SPY_minute_2024-06-20_page1.json",
    NEXT_AGGS: "aggs_SPY_minute_2024-06-20_page2.json",
    "https://api.polygon.io/v2/aggs/ticker/SPY/range/1/day/2024-06-20/2024-06-20": "aggs_SPY_day_2024-06-20.json",
    "https://api.polygon.io/v3/quotes/O:SPY240621C00548000": "quotes_O_SPY240621C00548000_page1.json",
    NEXT_QUOTES: "quotes_O_SPY240621C00548000_page2.json",
    "https://api.polygon.io/v3/quotes/O:SPY240621P00548000": "quotes_O_SPY240621P00548000.json",
}


class Recorded:
    """Routes a request to its recorded body by URL (contracts: by the ``expired`` flag)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self.status != 200:
            return HttpResponse(self.status, (FIXTURES / "error_401.json").read_bytes())
        if request.url.endswith("/v3/reference/options/contracts"):
            expired = (request.params or {}).get("expired")
            name = "empty_contracts.json" if expired == "true" else "contracts_SPY_2024-06-20.json"
        else:
            name = ROUTES[request.url]
        return HttpResponse(200, (FIXTURES / name).read_bytes())


def provider(transport: Recorded) -> PolygonProvider:
    return PolygonProvider(
        transport=transport, clock=FakeClock("2024-08-01T00:00Z"), seed=0,
        policy=RetryPolicy(max_attempts=2), environ={"POLYGON_API_KEY": FAKE_KEY},
    )


def test_polygon_bars_follow_next_url_on_the_configured_host_with_the_key_in_a_header() -> None:
    """Page 1 (3 bars) + page 2 (3 bars, the last the 16:00 closing auction, which the
    session filter, not the parser, drops); ``t`` 1718890200000 ms = 2024-06-20 13:30:00 UTC.
    Page 1's next_url names api.massive.com; the cursor goes to the configured api.polygon.io."""
    transport = Recorded()
    bars = provider(transport).fetch_bars("SPY", [SESSION])
    first, second = transport.requests
    assert first.params == {"adjusted": "true", "sort": "asc", "limit": 50000}
    assert second.url == NEXT_AGGS
    assert second.params is None
    assert {first.headers["Authorization"], second.headers["Authorization"]} == {f"Bearer {FAKE_KEY}"}
    assert len(bars) == 6
    assert bars["ts"].iloc[1] == pd.Timestamp("2024-06-20T13:30:00Z")
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    assert bars[["open", "high", "low", "close", "volume"]].iloc[1].tolist() == [549.44, 549.60, 549.30, 549.52, 812345.0]


def test_polygon_states_its_aggregates_are_split_adjusted() -> None:
    assert PolygonProvider().adjustment == "split"


def test_polygon_401_names_the_key_and_never_shows_it(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as caught:
        provider(Recorded(status=401)).fetch_bars("SPY", [SESSION])
    assert str(caught.value) == "polygon: 401 Unauthorized: Unknown API Key — check POLYGON_API_KEY"
    assert FAKE_KEY not in caplog.text


def test_polygon_paces_to_five_requests_a_minute_by_default() -> None:
    """Seven quote-less days of bars, one request each: the 6th and 7th wait for the first
    minute to pass (the clock is fake), 60 s in all."""
    clock = FakeClock("2024-08-01T00:00Z")
    transport = Recorded()
    polygon = PolygonProvider(transport=transport, clock=clock, environ={"POLYGON_API_KEY": FAKE_KEY})
    for _ in range(7):
        polygon.pacer.before_request()
    assert clock.slept == pytest.approx(60.0)
    assert PolygonProvider(requests_per_minute=None).pacer.requests_per_minute is None


def test_polygon_bars_read_the_vendors_recorded_aggregates_exactly() -> None:
    """client-python's recorded AAPL daily aggregates: t 1112331600000 ms = 2005-04-01 05:00Z,
    o 1.5032, h 1.5064, l 1.4489, c 1.4604, v 642646396 (values from the file)."""
    path = VENDOR / "v2" / "aggs" / "ticker" / "AAPL" / "range" / "1" / "day" / "2005-04-01" / "2005-04-04.json"
    bars = bars_from_polygon(json.loads(path.read_text())["results"])
    assert bars["ts"].tolist() == [pd.Timestamp("2005-04-01T05:00Z"), pd.Timestamp("2005-04-04T04:00Z")]
    assert bars.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [1.5032, 1.5064, 1.4489, 1.4604, 642646396.0]


def test_polygon_quotes_keep_the_latest_quote_of_a_minute_whatever_order_the_vendor_sends() -> None:
    """client-python's recorded /v3/quotes pages (20 quotes within 2022-05-10 14:11:12Z) come
    newest first. The minute's last quote is the newest: sip_timestamp 1652191872800638700,
    bid 155.85 x 4, ask 155.87 x 3."""
    rows = []
    for name in sorted((VENDOR / "v3" / "quotes").glob("AAPL*.json")):
        rows += json.loads(name.read_text())["results"]
    assert len(rows) == 20
    contract = {"contract_type": "call", "expiration_date": "2022-05-20", "strike_price": 155}
    quotes = quotes_from_polygon(rows, contract, "AAPL")
    assert len(quotes) == 1
    row = quotes.iloc[0]
    assert row["ts"] == pd.Timestamp(1652191872800638700, unit="ns", tz="UTC")
    assert (row["bid"], row["ask"], row["bid_size"], row["ask_size"]) == (155.85, 155.87, 4.0, 3.0)


def test_a_polygon_quote_without_a_bid_is_no_quote() -> None:
    """bid_price is optional in the API: a quote lacking it keeps NaN, which the store's
    normaliser drops (an empty side is not a price)."""
    rows = [{"sip_timestamp": 1718890215000000000, "ask_price": 2.07, "ask_size": 5}]
    contract = {"contract_type": "put", "expiration_date": "2024-06-21", "strike_price": 548}
    quotes = quotes_from_polygon(rows, contract, "SPY")
    assert quotes["bid"].isna().all() and quotes["ask"].tolist() == [2.07]


def test_polygon_without_a_key_fails_in_one_line() -> None:
    with pytest.raises(ProviderError, match=r"^polygon: POLYGON_API_KEY is not set$"):
        PolygonProvider(environ={}).fetch_bars("SPY", [SESSION])


def test_polygon_option_quotes_keep_the_last_quote_of_each_minute_at_its_own_time() -> None:
    """Call 548 quotes at 13:30:15, 13:30:45.5 (page 1), 13:31:00.25, 13:31:59 (page 2).

    Last per minute: 13:30:45.5 (2.03/2.07) and 13:31:59 (2.08/2.12). Put 548: one
    quote at 13:30:15 (0.60/0.62). Three rows, stamped with their SIP times.
    """
    transport = Recorded()
    quotes = provider(transport).fetch_option_quotes("SPY", [SESSION])
    calls = quotes[quotes["right"] == "C"]
    puts = quotes[quotes["right"] == "P"]
    assert calls["ts"].tolist() == [
        pd.Timestamp("2024-06-20T13:30:45.5Z"), pd.Timestamp("2024-06-20T13:31:59Z"),
    ]
    assert calls[["bid", "ask"]].to_numpy().tolist() == [[2.03, 2.07], [2.08, 2.12]]
    assert puts[["bid", "ask", "bid_size", "ask_size"]].to_numpy().tolist() == [[0.60, 0.62, 45.0, 50.0]]
    assert set(quotes["expiry"]) == {dt.date(2024, 6, 21)}
    assert set(quotes["strike"]) == {548.0}
    assert set(quotes["underlying"]) == {"SPY"}


def test_polygon_lists_only_near_the_money_contracts_expiring_within_a_week() -> None:
    """Day low 546.10, high 550.12, band 3%: strikes 546.10·0.97 = 529.717 -> 529.72
    and 550.12·1.03 = 566.6236 -> 566.62; expiries 2024-06-20 .. 2024-06-27."""
    transport = Recorded()
    provider(transport).fetch_option_quotes("SPY", [SESSION])
    contract_requests = [r for r in transport.requests if r.url.endswith("/options/contracts")]
    assert [r.params["expired"] for r in contract_requests] == ["true", "false"]  # type: ignore[index]
    params = contract_requests[0].params or {}
    assert params["strike_price.gte"] == 529.72
    assert params["strike_price.lte"] == 566.62
    assert params["expiration_date.gte"] == "2024-06-20"
    assert params["expiration_date.lte"] == "2024-06-27"
    assert params["as_of"] == "2024-06-20"
    quote_requests = [r for r in transport.requests if "/v3/quotes/" in r.url and "cursor" not in r.url]
    # 09:30 and 16:15 New York (EDT) = 13:30 and 20:15 UTC, in ns.
    assert quote_requests[0].params["timestamp.gte"] == 1718890200000000000  # type: ignore[index]
    assert quote_requests[0].params["timestamp.lt"] == 1718914500000000000  # type: ignore[index]
