"""Alpaca through alpaca-py with the SDK's HTTP replaced by recorded responses."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pandas as pd
import pytest

pytest.importorskip("alpaca")

from builders.paths import PROVIDERS
from builders.provider_replay import FakeClock
from vwapcli.data.providers.alpaca import AlpacaProvider
from vwapcli.data.providers.http import HttpRequest, HttpResponse, RetryPolicy
from vwapcli.errors import ProviderError

FIXTURES = PROVIDERS / "alpaca"
KEYS = {"ALPACA_API_KEY": "FAKE-ALPACA-ID-7c21", "ALPACA_SECRET_KEY": "FAKE-ALPACA-SECRET-90be"}
SESSION = dt.date(2024, 6, 20)


def recorded(name: str, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, (FIXTURES / name).read_bytes(), headers or {})


class PagedBars:
    """Serves page 1 without a page_token and page 2 for the token page 1 handed out."""

    def __init__(self, first: list[HttpResponse] | None = None) -> None:
        self.first = list(first or [])
        self.requests: list[HttpRequest] = []
        self.token = json.loads((FIXTURES / "bars_SPY_2024-06-20_page1.json").read_text())["next_page_token"]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self.first:
            return self.first.pop(0)
        if (request.params or {}).get("page_token") == self.token:
            return recorded("bars_SPY_2024-06-20_page2.json")
        return recorded("bars_SPY_2024-06-20_page1.json")


def provider(transport: object, clock: FakeClock | None = None) -> AlpacaProvider:
    return AlpacaProvider(
        transport=transport,  # type: ignore[arg-type]
        clock=clock or FakeClock("2024-08-01T00:00Z"),
        seed=0,
        policy=RetryPolicy(max_attempts=3),
        environ=KEYS,
    )


def test_alpaca_follows_next_page_token_and_returns_bar_starts_in_utc() -> None:
    """Two pages of 3 + 3 bars come back as 6 rows, first bar 12:00Z (08:00 ET), the last
    the 16:00 closing auction (the session filter, not the parser, drops it)."""
    transport = PagedBars()
    bars = provider(transport).fetch_bars("SPY", [SESSION])
    assert len(transport.requests) == 2
    assert list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert bars["ts"].iloc[0] == pd.Timestamp("2024-06-20T12:00:00Z")
    assert bars["ts"].iloc[-1] == pd.Timestamp("2024-06-20T20:00:00Z")
    assert str(bars["ts"].dtype) == "datetime64[ns, UTC]"
    assert bars["close"].tolist() == [548.15, 549.52, 549.41, 549.30, 547.05, 547.05]
    assert bars["volume"].dtype == "float64"


def test_alpaca_asks_for_raw_sip_minute_bars_over_whole_new_york_days() -> None:
    """2024-06-20 in New York (EDT, UTC-4) runs 04:00Z to 04:00Z the next day."""
    transport = PagedBars()
    provider(transport).fetch_bars("SPY", [SESSION])
    first = transport.requests[0]
    assert first.url == "https://data.alpaca.markets/v2/stocks/bars"
    params = first.params or {}
    assert params["symbols"] == "SPY"
    assert params["timeframe"] == "1Min"
    assert params["adjustment"] == "raw"
    assert params["feed"] == "sip"
    assert params["start"] == "2024-06-20T04:00:00+00:00"
    assert params["end"] == "2024-06-21T04:00:00+00:00"
    assert first.headers["APCA-API-KEY-ID"] == KEYS["ALPACA_API_KEY"]


def test_alpaca_missing_secret_names_the_variable() -> None:
    alpaca = AlpacaProvider(environ={"ALPACA_API_KEY": "x"}, transport=PagedBars())
    with pytest.raises(ProviderError, match=r"^alpaca: ALPACA_SECRET_KEY is not set$"):
        alpaca.fetch_bars("SPY", [SESSION])


def test_alpaca_401_is_one_line_and_no_key_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    transport = PagedBars([recorded("error_401.json", status=401)])
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as caught:
        provider(transport).fetch_bars("SPY", [SESSION])
    assert str(caught.value) == (
        "alpaca: 401 Unauthorized: request is not authorized — check ALPACA_API_KEY / ALPACA_SECRET_KEY"
    )
    for secret in KEYS.values():
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_alpaca_429_is_retried_once_by_our_client_honouring_retry_after() -> None:
    """The SDK's own fixed 3 s retry is off; our client waits the 2 s the server asked."""
    clock = FakeClock("2024-08-01T00:00Z")
    transport = PagedBars([HttpResponse(429, b'{"message": "too many requests"}', {"Retry-After": "2"})])
    bars = provider(transport, clock).fetch_bars("SPY", [SESSION])
    assert clock.slept == pytest.approx(2.0)
    assert len(bars) == 6


def test_alpaca_refuses_an_unknown_adjustment_in_one_line() -> None:
    with pytest.raises(ProviderError, match="adjustment 'total' unknown"):
        AlpacaProvider(adjustment="total")
