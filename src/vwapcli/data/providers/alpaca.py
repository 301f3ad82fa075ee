"""Alpaca market data v2 through the alpaca-py SDK.

Bars come from ``StockHistoricalDataClient.get_stock_bars`` (``GET /v2/stocks/bars``),
whose ``next_page_token`` pagination the SDK follows. The SDK's own HTTP session is
replaced by :class:`vwapcli.data.providers.http.HttpClient`, so Alpaca gets the same
pacing, retries, ``Retry-After`` handling and one-line 401/403 errors as every other
vendor (the SDK alone sleeps a fixed 3 s on 429 and raises a multi-line APIError otherwise).

Plans, read against Alpaca's market-data docs and alpaca-py:

- Feed ``sip`` (all US venues, the default) on the free plan serves history only up to
  15 minutes ago; asking for more is a 403 "subscription does not permit querying recent
  SIP data", which would fail a whole day. So with ``sip`` a session is fetched only once
  it closed 15 minutes ago, and every request ends at ``now - 15 min`` at the latest.
  Feed ``iex`` (the IEX venue alone: thinner volume) has no such delay.
- A 403 keeps Alpaca's own words: it may mean "plan too small", not only a bad key.
- Every answer carries ``X-RateLimit-Limit/Remaining/Reset`` (200 requests a minute on
  the free plan); the pacer reads them, waits for the reset when nothing remains, and
  never sends more than ``requests_per_minute``.

Closing auction: the closing cross prints at 16:00:00 and later, so it lands in the
16:00 bar, which starts at the close and is dropped (SPEC 3.2). The last stored bar,
15:59, holds continuous trading of that minute only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

import pandas as pd

from vwapcli.data.providers.base import empty_bars, ny_day_bounds, require_keys
from vwapcli.data.providers.http import (
    HttpClient,
    HttpResponse,
    RetryPolicy,
    Transport,
    base_url_from_env,
)
from vwapcli.data.providers.pacing import Clock, RequestPacer, WaitDisplay, default_clock, utc_now
from vwapcli.errors import ProviderError

ADJUSTMENTS = ("raw", "split", "dividend", "all")
FEEDS = ("sip", "iex", "delayed_sip")
MINUTES = {"1m": 1, "5m": 5}
DATA_URL = "https://data.alpaca.markets"
DATA_URL_VARIABLE = "VWAPCLI_ALPACA_DATA_URL"
FREE_PLAN_REQUESTS_PER_MINUTE = 200.0
# How far behind now each feed's history ends on the free plan (SIP: 15 minutes).
FEED_DELAY = {"sip": pd.Timedelta(minutes=15), "delayed_sip": pd.Timedelta(minutes=15), "iex": pd.Timedelta(0)}


def explain_alpaca_denied(response: HttpResponse, vendor_text: str) -> str | None:
    """Alpaca's "subscription does not permit ..." 403 is a plan limit, not a bad key."""
    if response.status == 403 and "subscription does not permit" in vendor_text.lower():
        return (
            f"alpaca: your plan does not include this data (403 Forbidden: {vendor_text}); "
            "the free plan serves SIP bars older than 15 minutes: wait, or use --feed iex"
        )
    return None


def _query_value(value: Any) -> str:
    """Query-string text of an SDK parameter: an enum's value ("raw"), else ``str`` ("1Min")."""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


class _SdkSession:
    """Stands in for the ``requests.Session`` inside alpaca-py: every call goes through HttpClient.

    HttpClient raises ProviderError on any final failure, so the SDK only ever sees 2xx
    answers and its own retry/APIError branches never run.
    """

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def request(self, method: str, url: str, **opts: Any) -> Any:
        import requests
        from requests.structures import CaseInsensitiveDict

        params = {k: _query_value(v) for k, v in (opts.get("params") or {}).items() if v is not None}
        answer = self._http.request(
            method, url, params=params, headers=opts.get("headers"), json_body=opts.get("json")
        )
        response = requests.Response()
        response.status_code = answer.status
        response._content = answer.body
        response.headers = CaseInsensitiveDict(answer.headers)
        response.url = url
        response.encoding = "utf-8"
        return response


class AlpacaProvider:
    """Alpaca (alpaca-py SDK): 1m/5m SIP or IEX bars, raw prices. Needs ALPACA_API_KEY and ALPACA_SECRET_KEY.

    Prices are ``raw`` (as traded) by default: option strikes and chain quotes are quoted
    against as-traded prices, and a dividend-adjusted SPY sits several dollars below the
    strikes that were really listed years ago. The cost is a split inside an ATR window
    (none for SPY or QQQ in Alpaca's history since 2016). Feed ``sip`` (consolidated
    volume, so session VWAP weights all venues; the free plan serves it up to 15 minutes
    ago) or ``iex`` (one venue, no delay). Both are constructor options (``--feed``).
    """

    name = "alpaca"
    requires_key = ("ALPACA_API_KEY", "ALPACA_SECRET_KEY")
    default_requests_per_minute: float | None = FREE_PLAN_REQUESTS_PER_MINUTE

    def __init__(
        self,
        *,
        adjustment: str = "raw",
        feed: str = "sip",
        requests_per_minute: float | None = FREE_PLAN_REQUESTS_PER_MINUTE,
        transport: Transport | None = None,
        clock: Clock | None = None,
        display: WaitDisplay | None = None,
        seed: int | None = None,
        policy: RetryPolicy | None = None,
        environ: Mapping[str, str] | None = None,
        url_override: str | None = None,
    ) -> None:
        if adjustment not in ADJUSTMENTS:
            raise ProviderError(f"alpaca: adjustment {adjustment!r} unknown; use one of {', '.join(ADJUSTMENTS)}")
        if feed not in FEEDS:
            raise ProviderError(f"alpaca: feed {feed!r} unknown; use one of {', '.join(FEEDS)}")
        self.adjustment = adjustment
        self.feed = feed
        self.clock = clock or default_clock()
        try:
            self.pacer = RequestPacer(self.name, requests_per_minute, self.clock, display)
        except ValueError as error:
            raise ProviderError(f"alpaca: {error}") from None
        self._transport = transport
        self._seed = seed
        self._policy = policy
        self._environ = environ
        self._url_override = url_override or base_url_from_env(self.name, DATA_URL_VARIABLE, DATA_URL, environ)

    @property
    def data_delay(self) -> pd.Timedelta:
        """How long after a minute the feed's history serves it (SIP, free plan: 15 minutes)."""
        return FEED_DELAY[self.feed]

    def _client(self) -> Any:
        keys = require_keys(self.name, self.requires_key, self._environ)
        from alpaca.data.historical import StockHistoricalDataClient

        http = HttpClient(
            self.name, self.requires_key, keys.values(), self._transport, self._policy,
            seed=self._seed, pacer=self.pacer, explain_denied=explain_alpaca_denied,
        )
        client = StockHistoricalDataClient(
            keys["ALPACA_API_KEY"], keys["ALPACA_SECRET_KEY"], raw_data=True,
            url_override=self._url_override,
        )
        # Private SDK attributes (alpaca-py 0.44): the session it sends through, and its
        # own 429 retry count, which must be 0 so that retries happen once, in HttpClient.
        client._session = _SdkSession(http)  # type: ignore[assignment]
        client._retry = 0
        return client

    def fetch_bars(
        self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m"
    ) -> pd.DataFrame:
        """Bars for whole New York days covering ``session_dates`` (the SDK pages through)."""
        if timeframe not in MINUTES:
            raise ProviderError(f"alpaca: timeframe {timeframe!r} not served; use one of {', '.join(MINUTES)}")
        if not session_dates:
            return empty_bars()
        from alpaca.data.enums import Adjustment, DataFeed
        from alpaca.data.requests import StockBarsRequest
        from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

        client = self._client()
        start, end = ny_day_bounds(session_dates)
        # The free plan's SIP history ends 15 minutes ago: never ask past that.
        end = min(end, utc_now(self.clock) - self.data_delay)
        if end <= start:
            return empty_bars()
        request = StockBarsRequest(
            symbol_or_symbols=symbol,
            timeframe=TimeFrame(MINUTES[timeframe], TimeFrameUnit.Minute),
            start=start.to_pydatetime(),
            end=end.to_pydatetime(),
            adjustment=Adjustment(self.adjustment),
            feed=DataFeed(self.feed),
        )
        raw = client.get_stock_bars(request)
        return bars_from_alpaca(raw.get(symbol, []) if isinstance(raw, dict) else [])


def bars_from_alpaca(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Alpaca bar dicts (``t`` RFC-3339 bar start, ``o h l c v``) -> store columns."""
    if not rows:
        return empty_bars()
    frame = pd.DataFrame(rows)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(frame["t"], utc=True).astype("datetime64[ns, UTC]"),
            "open": frame["o"].astype("float64"),
            "high": frame["h"].astype("float64"),
            "low": frame["l"].astype("float64"),
            "close": frame["c"].astype("float64"),
            "volume": frame["v"].astype("float64"),
        }
    )
