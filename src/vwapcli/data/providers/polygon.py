"""Polygon.io REST (now also served as Massive) with plain HTTP.

Bars: ``GET /v2/aggs/ticker/{T}/range/{n}/minute/{from}/{to}?adjusted=true&sort=asc&limit=50000``.
Aggregate ``t`` is the bar START in Unix milliseconds; minutes without trades have no bar.

Option quotes: the chain pricer needs bid and ask, and option *aggregates*
(``O:SPY241220C00500000`` minute bars) only carry trade prices, so they are not used.
The quotes endpoint ``/v3/quotes/{optionsTicker}`` is: for each session the contracts
near the money and near expiry are listed (``/v3/reference/options/contracts``), their
NBBO quotes paged through, and the last quote of each minute kept, stamped with its own
SIP timestamp (the time it was known, so the as-of lookup never looks ahead). A quote
without ``bid_price`` or ``ask_price`` (the API marks both optional: that side was
empty) is no quote: the minute it ends is stored without one.

How this adapter talks to Polygon, read against the official client
(polygon-io/client-python ``massive/rest/base.py``) and its recorded responses:

- The key goes in an ``Authorization: Bearer`` header, as the official client sends it,
  never in a URL (URLs end up in logs and proxies).
- Pagination follows ``next_url`` whatever host it names (the vendor's own recorded
  pages name ``api.massive.com`` while requests go to ``api.polygon.io``): its path and
  cursor are sent to the configured base URL, as the official client does, so the key
  only ever goes to the host the user configured (``VWAPCLI_POLYGON_BASE_URL``).
- Requests are paced to the plan: the free plan allows 5 per minute and sends no
  ``Retry-After``, so a backfill needing more than 5 requests must wait, visibly, rather
  than retry into the same bucket (``requests_per_minute``, ``None`` for no pacing).
- ``403`` with status ``NOT_AUTHORIZED`` means the plan does not include the data
  (e.g. a timeframe older than the plan's history): said in those words.

Closing auction: Polygon stamps the closing-auction print just after 16:00:00 ET and
calls that expected behaviour, so it falls in the 16:00 minute aggregate. That bar
starts at the close and is dropped (SPEC 3.2: a session's bars start in
``[open, close)``); the last stored bar, 15:59, holds continuous trading of that minute
only, and no stored volume includes the closing auction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from vwapcli.core.types import local_time_ns
from vwapcli.data.providers.base import empty_bars, empty_option_quotes, require_keys
from vwapcli.data.providers.http import (
    HttpClient,
    HttpResponse,
    RetryPolicy,
    Transport,
    base_url_from_env,
)
from vwapcli.data.providers.pacing import Clock, RequestPacer, WaitDisplay
from vwapcli.errors import ProviderError

BASE_URL = "https://api.polygon.io"
BASE_URL_VARIABLE = "VWAPCLI_POLYGON_BASE_URL"
FREE_PLAN_REQUESTS_PER_MINUTE = 5.0
MINUTES = {"1m": 1, "5m": 5}
# Options trade until 16:15 ET on a regular day (SPY/QQQ); quotes are asked for to then.
QUOTES_FROM = dt.time(9, 30)
QUOTES_TO = dt.time(16, 15)


def follow_on_base(next_url: str, base_url: str) -> str:
    """``next_url``'s path and cursor on ``base_url`` (what the official client requests)."""
    parts = urlsplit(next_url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base_url}{parts.path}{query}"


def explain_polygon_denied(response: HttpResponse, vendor_text: str) -> str | None:
    """403 NOT_AUTHORIZED is Polygon's "your plan does not include this data"."""
    if response.status == 403 and "NOT_AUTHORIZED" in vendor_text:
        return (
            f"polygon: your plan does not include this data (403 {vendor_text}); "
            "see your plan's history and data types at polygon.io/pricing"
        )
    return None


class PolygonProvider:
    """Polygon.io REST: 1m/5m aggregates (split-adjusted) and option NBBO quotes. Needs POLYGON_API_KEY.

    ``adjusted=true`` on aggregates means split-adjusted, not dividend-adjusted. Option
    quotes are limited to contracts expiring within ``max_days_to_expiry`` calendar days
    and striking within ``strike_band`` (fraction) of the session's low/high, so a day
    costs hundreds of requests rather than tens of thousands. Requests are paced to
    ``requests_per_minute`` (default: the free plan's 5; ``None`` turns pacing off).
    """

    name = "polygon"
    requires_key = ("POLYGON_API_KEY",)
    adjustment = "split"
    default_requests_per_minute: float | None = FREE_PLAN_REQUESTS_PER_MINUTE

    def __init__(
        self,
        *,
        base_url: str | None = None,
        max_days_to_expiry: int = 7,
        strike_band: float = 0.03,
        requests_per_minute: float | None = FREE_PLAN_REQUESTS_PER_MINUTE,
        transport: Transport | None = None,
        clock: Clock | None = None,
        display: WaitDisplay | None = None,
        seed: int | None = None,
        policy: RetryPolicy | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = (base_url or base_url_from_env(self.name, BASE_URL_VARIABLE, BASE_URL, environ)).rstrip("/")
        self.max_days_to_expiry = max_days_to_expiry
        self.strike_band = strike_band
        try:
            # One pacer for the provider's life: the plan's minute spans every chunk.
            self.pacer = RequestPacer(self.name, requests_per_minute, clock, display)
        except ValueError as error:
            raise ProviderError(f"polygon: {error}") from None
        self._transport = transport
        self._seed = seed
        self._policy = policy
        self._environ = environ

    def _session(self) -> tuple[HttpClient, dict[str, str]]:
        key = require_keys(self.name, self.requires_key, self._environ)["POLYGON_API_KEY"]
        http = HttpClient(
            self.name, self.requires_key, [key], self._transport, self._policy,
            seed=self._seed, pacer=self.pacer, explain_denied=explain_polygon_denied,
        )
        return http, {"Authorization": f"Bearer {key}"}

    def _pages(
        self, http: HttpClient, headers: dict[str, str], url: str, params: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """Every page of a paginated endpoint: the first with ``params``, then each ``next_url``."""
        payload = http.get_json(url, params, headers=headers)
        while True:
            if not isinstance(payload, dict):
                raise ProviderError(f"{self.name}: unexpected response shape from {url.split('?')[0]}")
            yield payload
            next_url = payload.get("next_url")
            if not next_url:
                return
            payload = http.get_json(follow_on_base(str(next_url), self.base_url), None, headers=headers)

    def fetch_bars(
        self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m"
    ) -> pd.DataFrame:
        """Minute aggregates from the first to the last date (whole days, extended hours included)."""
        if timeframe not in MINUTES:
            raise ProviderError(f"polygon: timeframe {timeframe!r} not served; use one of {', '.join(MINUTES)}")
        if not session_dates:
            return empty_bars()
        http, headers = self._session()
        first, last = min(session_dates), max(session_dates)
        url = (
            f"{self.base_url}/v2/aggs/ticker/{symbol}/range/{MINUTES[timeframe]}/minute/"
            f"{first.isoformat()}/{last.isoformat()}"
        )
        params = {"adjusted": "true", "sort": "asc", "limit": 50000}
        rows: list[dict[str, Any]] = []
        for page in self._pages(http, headers, url, params):
            rows.extend(page.get("results") or [])
        return bars_from_polygon(rows)

    def fetch_option_quotes(self, underlying: str, session_dates: list[dt.date]) -> pd.DataFrame:
        """Last NBBO quote per minute for near-the-money, near-expiry contracts, per session."""
        http, headers = self._session()
        frames = [self._quotes_for_day(http, headers, underlying, day) for day in sorted(session_dates)]
        frames = [frame for frame in frames if not frame.empty]
        if not frames:
            return empty_option_quotes()
        return pd.concat(frames, ignore_index=True)

    def _quotes_for_day(
        self, http: HttpClient, headers: dict[str, str], underlying: str, day: dt.date
    ) -> pd.DataFrame:
        daily_url = f"{self.base_url}/v2/aggs/ticker/{underlying}/range/1/day/{day.isoformat()}/{day.isoformat()}"
        # adjusted=false: strikes were listed against as-traded prices.
        daily = http.get_json(daily_url, {"adjusted": "false"}, headers=headers).get("results") or []
        if not daily:
            return empty_option_quotes()
        low = float(daily[0]["l"]) * (1.0 - self.strike_band)
        high = float(daily[0]["h"]) * (1.0 + self.strike_band)
        contracts = self._contracts(http, headers, underlying, day, low, high)
        start_ns = local_time_ns(day, QUOTES_FROM)
        end_ns = local_time_ns(day, QUOTES_TO)
        frames = []
        for contract in contracts:
            url = f"{self.base_url}/v3/quotes/{contract['ticker']}"
            params = {
                "timestamp.gte": start_ns, "timestamp.lt": end_ns,
                "order": "asc", "sort": "timestamp", "limit": 50000,
            }
            rows: list[dict[str, Any]] = []
            for page in self._pages(http, headers, url, params):
                rows.extend(page.get("results") or [])
            frame = quotes_from_polygon(rows, contract, underlying)
            if not frame.empty:
                frames.append(frame)
        if not frames:
            return empty_option_quotes()
        return pd.concat(frames, ignore_index=True)

    def _contracts(
        self, http: HttpClient, headers: dict[str, str], underlying: str, day: dt.date, low: float, high: float
    ) -> list[dict[str, Any]]:
        """Contracts listed on ``day``, expiring within the window, striking within [low, high]."""
        url = f"{self.base_url}/v3/reference/options/contracts"
        base = {
            "underlying_ticker": underlying,
            "as_of": day.isoformat(),
            "expiration_date.gte": day.isoformat(),
            "expiration_date.lte": (day + dt.timedelta(days=self.max_days_to_expiry)).isoformat(),
            "strike_price.gte": round(low, 2),
            "strike_price.lte": round(high, 2),
            "limit": 1000,
        }
        found: dict[str, dict[str, Any]] = {}
        # Contracts that have expired since are only listed with expired=true.
        for expired in ("true", "false"):
            for page in self._pages(http, headers, url, {**base, "expired": expired}):
                for contract in page.get("results") or []:
                    found[contract["ticker"]] = contract
        return [found[ticker] for ticker in sorted(found)]


def bars_from_polygon(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Aggregate results (``t`` Unix ms bar start, ``o h l c v``) -> store columns."""
    if not rows:
        return empty_bars()
    frame = pd.DataFrame(rows)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(frame["t"].astype("int64"), unit="ms", utc=True).astype("datetime64[ns, UTC]"),
            "open": frame["o"].astype("float64"),
            "high": frame["h"].astype("float64"),
            "low": frame["l"].astype("float64"),
            "close": frame["c"].astype("float64"),
            "volume": frame["v"].astype("float64"),
        }
    )


def _optional_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column the API marks optional, NaN where (or when) it is absent."""
    if name not in frame.columns:
        return pd.Series(float("nan"), index=frame.index, dtype="float64")
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


def quotes_from_polygon(
    rows: list[dict[str, Any]], contract: Mapping[str, Any], underlying: str
) -> pd.DataFrame:
    """v3 quotes of one contract -> the last quote in each minute, in option-store columns.

    The last quote of a minute is what stood at its end; when it lacks a side, that
    minute has no two-sided quote, and the row keeps NaN so the store's normaliser drops
    it (an earlier quote of the minute had already been replaced).
    """
    if not rows:
        return empty_option_quotes()
    frame = pd.DataFrame(rows)
    ts = pd.to_datetime(frame["sip_timestamp"].astype("int64"), unit="ns", utc=True).astype("datetime64[ns, UTC]")
    out = pd.DataFrame(
        {
            "ts": ts,
            "bid": _optional_column(frame, "bid_price"),
            "ask": _optional_column(frame, "ask_price"),
            "bid_size": _optional_column(frame, "bid_size"),
            "ask_size": _optional_column(frame, "ask_size"),
        }
    ).sort_values("ts", kind="stable")
    # One row per minute: the quote standing at the end of that minute, at its own time.
    out = out.groupby(out["ts"].dt.floor("min"), sort=True).tail(1)
    right = {"call": "C", "put": "P"}[str(contract["contract_type"]).lower()]
    out.insert(1, "underlying", underlying)
    out.insert(2, "expiry", dt.date.fromisoformat(str(contract["expiration_date"])))
    out.insert(3, "strike", float(contract["strike_price"]))
    out.insert(4, "right", right)
    return out.reset_index(drop=True)
