"""Polygon REST replayed from recorded responses: aggregates, pagination, option quotes."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest

from builders.paths import PROVIDERS
from vwapcli.data.providers.http import HttpRequest, HttpResponse, RetryPolicy
from vwapcli.data.providers.polygon import PolygonProvider
from vwapcli.errors import ProviderError

FIXTURES = PROVIDERS / "polygon"
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
        transport=transport, sleep=lambda s: None, seed=0,
        policy=RetryPolicy(max_attempts=2), environ={"POLYGON_API_KEY": FAKE_KEY},
    )


def test_polygon_bars_follow_next_url_with_the_api_key_appended() -> None:
    """Page 1 (3 bars) + page 2 (2 bars); ``t`` 1718890200000 ms = 2024-06-20 13:30:00 UTC."""
    transport = Recorded()
    bars = provider(transport).fetch_bars("SPY", [SESSION])
    first, second = transport.requests
    assert first.params == {"adjusted": "true", "sort": "asc", "limit": 50000, "apiKey": FAKE_KEY}
    assert second.url == NEXT_AGGS
    assert second.params == {"apiKey": FAKE_KEY}
    assert len(bars) == 5
    assert bars["ts"].iloc[1] == pd.Timestamp("2024-06-20T13:30:00Z")
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    assert bars[["open", "high", "low", "close", "volume"]].iloc[1].tolist() == [549.44, 549.60, 549.30, 549.52, 812345.0]


def test_polygon_states_its_aggregates_are_split_adjusted() -> None:
    assert PolygonProvider().adjustment == "split"


def test_polygon_401_names_the_key_and_never_shows_it(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as caught:
        provider(Recorded(status=401)).fetch_bars("SPY", [SESSION])
    assert str(caught.value) == "polygon: 401 Unauthorized — check POLYGON_API_KEY"
    assert FAKE_KEY not in caplog.text


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
