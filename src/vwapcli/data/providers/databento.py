"""Databento historical API over plain HTTP, CSV encoding.

``POST https://hist.databento.com/v0/timeseries.get_range`` with the API key as the HTTP
basic-auth user. The ``databento`` SDK installs, but it always asks for zstd-compressed
DBN (binary) and keeps its own HTTP session; asking the documented HTTP API for
``encoding=csv`` lets Databento share the retry/redaction path of every other vendor and
lets tests replay small text fixtures. Prices are requested as integers
(``pretty_px=false``): Databento's fixed-point format, 1 unit = 1e-9 dollars, converted
here; ``2**63 - 1`` is its "undefined price" sentinel (no bid or no ask).

- Bars: ``ohlcv-1m`` from ``XNAS.ITCH`` by default (Nasdaq TotalView, history from
  2018-05): the longest equity history Databento has, but single-venue volume, so a
  session VWAP weights Nasdaq prints only. ``DBEQ.BASIC`` (a few venues, from 2023) is a
  constructor option. ``ts_event`` of an OHLCV record is the bar's open time (bar start).
- Option quotes: ``cbbo-1m`` from ``OPRA.PILLAR`` for the whole chain (``stype_in=parent``,
  ``SPY.OPT``). ``ts_recv`` of a cbbo-1m record is the END of its minute: the time the
  quote was known, so it is the stored ``ts``.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.core.types import local_time_ns
from vwapcli.data.providers.base import (
    empty_bars,
    empty_option_quotes,
    ny_day_bounds,
    parse_osi_symbol,
    require_keys,
)
from vwapcli.data.providers.http import HttpClient, RetryPolicy, Sleep, Transport
from vwapcli.errors import ProviderError

BASE_URL = "https://hist.databento.com/v0"
FIXED_POINT_SCALE = 1e-9  # one integer price unit, in dollars
UNDEF_PRICE = 2**63 - 1
EQUITY_DATASETS = ("XNAS.ITCH", "DBEQ.BASIC")
OPTIONS_DATASET = "OPRA.PILLAR"
QUOTES_FROM = dt.time(9, 30)
QUOTES_TO = dt.time(16, 15)


def fixed_point_to_dollars(values: pd.Series) -> np.ndarray:
    """Databento integer prices (1e-9 dollars) -> float dollars; the sentinel becomes NaN."""
    raw = pd.to_numeric(values, errors="coerce")
    dollars = raw.to_numpy(dtype="float64") * FIXED_POINT_SCALE
    dollars[(raw == UNDEF_PRICE).to_numpy()] = np.nan
    return dollars


class DatabentoProvider:
    """Databento HTTP API: ohlcv-1m bars (XNAS.ITCH, raw prices) and OPRA cbbo-1m option quotes. Needs DATABENTO_API_KEY.

    Prices are as traded (Databento does not adjust). Option quotes keep contracts
    expiring within ``max_days_to_expiry`` calendar days and striking within
    ``strike_band`` of the put-call-parity forward seen that session.
    """

    name = "databento"
    requires_key = ("DATABENTO_API_KEY",)
    adjustment = "raw"

    def __init__(
        self,
        *,
        dataset: str = "XNAS.ITCH",
        max_days_to_expiry: int = 7,
        strike_band: float = 0.03,
        base_url: str = BASE_URL,
        transport: Transport | None = None,
        sleep: Sleep = time.sleep,
        seed: int | None = None,
        policy: RetryPolicy | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if dataset not in EQUITY_DATASETS:
            raise ProviderError(f"databento: dataset {dataset!r} unknown; use one of {', '.join(EQUITY_DATASETS)}")
        self.dataset = dataset
        self.max_days_to_expiry = max_days_to_expiry
        self.strike_band = strike_band
        self.base_url = base_url.rstrip("/")
        self._transport = transport
        self._sleep = sleep
        self._seed = seed
        self._policy = policy
        self._environ = environ

    def _get_range_csv(self, form: dict[str, Any]) -> pd.DataFrame:
        key = require_keys(self.name, self.requires_key, self._environ)["DATABENTO_API_KEY"]
        http = HttpClient(
            self.name, self.requires_key, [key], self._transport, self._policy, self._sleep, self._seed
        )
        body = {
            **form,
            "encoding": "csv",
            "compression": "none",
            "pretty_px": "false",
            "pretty_ts": "false",
            "map_symbols": "true",
            "stype_out": "instrument_id",
        }
        response = http.request(
            "POST", f"{self.base_url}/timeseries.get_range", data=body, auth=(key, "")
        )
        if not response.body.strip():
            return pd.DataFrame()
        try:
            return pd.read_csv(io.BytesIO(response.body), dtype={"symbol": str})
        except (ValueError, pd.errors.ParserError):
            raise ProviderError(f"{self.name}: timeseries.get_range answered with unreadable CSV") from None

    def fetch_bars(
        self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m"
    ) -> pd.DataFrame:
        """ohlcv-1m records for whole New York days covering ``session_dates``."""
        if timeframe != "1m":
            raise ProviderError(
                f"databento: timeframe {timeframe!r} not served (ohlcv-1m only); fetch 1m and resample"
            )
        if not session_dates:
            return empty_bars()
        start, end = ny_day_bounds(session_dates)
        frame = self._get_range_csv(
            {
                "dataset": self.dataset,
                "schema": "ohlcv-1m",
                "symbols": symbol,
                "stype_in": "raw_symbol",
                "start": start.isoformat(),
                "end": end.isoformat(),
            }
        )
        return bars_from_databento_csv(frame)

    def fetch_option_quotes(self, underlying: str, session_dates: list[dt.date]) -> pd.DataFrame:
        """cbbo-1m quotes of the underlying's chain, one request per session."""
        frames = []
        for day in sorted(session_dates):
            frame = self._get_range_csv(
                {
                    "dataset": OPTIONS_DATASET,
                    "schema": "cbbo-1m",
                    "symbols": f"{underlying}.OPT",
                    "stype_in": "parent",
                    "start": str(local_time_ns(day, QUOTES_FROM)),
                    "end": str(local_time_ns(day, QUOTES_TO)),
                }
            )
            quotes = quotes_from_databento_csv(frame, underlying)
            if quotes.empty:
                continue
            horizon = day + dt.timedelta(days=self.max_days_to_expiry)
            quotes = quotes[(quotes["expiry"] >= day) & (quotes["expiry"] <= horizon)]
            frames.append(near_the_money(quotes, self.strike_band))
        frames = [frame for frame in frames if not frame.empty]
        if not frames:
            return empty_option_quotes()
        return pd.concat(frames, ignore_index=True)


def bars_from_databento_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """ohlcv CSV (``ts_event`` ns bar start, fixed-point ``open..close``) -> store columns."""
    if frame.empty:
        return empty_bars()
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(frame["ts_event"].astype("int64"), unit="ns", utc=True).astype("datetime64[ns, UTC]"),
            "open": fixed_point_to_dollars(frame["open"]),
            "high": fixed_point_to_dollars(frame["high"]),
            "low": fixed_point_to_dollars(frame["low"]),
            "close": fixed_point_to_dollars(frame["close"]),
            "volume": frame["volume"].astype("float64").to_numpy(),
        }
    )


def quotes_from_databento_csv(frame: pd.DataFrame, underlying: str) -> pd.DataFrame:
    """cbbo CSV (``ts_recv``, fixed-point ``bid_px_00/ask_px_00``, OSI ``symbol``) -> option-store columns."""
    if frame.empty:
        return empty_option_quotes()
    parsed = [parse_osi_symbol(symbol) for symbol in frame["symbol"]]
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(frame["ts_recv"].astype("int64"), unit="ns", utc=True).astype("datetime64[ns, UTC]"),
            "underlying": underlying,
            "expiry": [item[1] for item in parsed],
            "strike": [item[3] for item in parsed],
            "right": [item[2] for item in parsed],
            "bid": fixed_point_to_dollars(frame["bid_px_00"]),
            "ask": fixed_point_to_dollars(frame["ask_px_00"]),
            "bid_size": frame["bid_sz_00"].astype("float64").to_numpy(),
            "ask_size": frame["ask_sz_00"].astype("float64").to_numpy(),
        }
    )


def near_the_money(quotes: pd.DataFrame, band: float) -> pd.DataFrame:
    """Keep strikes within ``band`` of the session's put-call-parity forward range.

    The chain alone says where the underlying was: at each minute, on the nearest expiry,
    the strike K where call and put mids are closest gives the forward ``K + C - P``.
    Strikes within ``[min F·(1-band), max F·(1+band)]`` are kept; with no call/put pair
    to read a forward from, everything is kept.
    """
    if quotes.empty:
        return quotes
    mid = (quotes["bid"] + quotes["ask"]) / 2.0
    nearest = quotes["expiry"] == quotes["expiry"].min()
    frame = quotes.loc[nearest, ["ts", "strike", "right"]].assign(mid=mid[nearest])
    wide = frame.pivot_table(index=["ts", "strike"], columns="right", values="mid", aggfunc="last")
    if "C" not in wide.columns or "P" not in wide.columns:
        return quotes
    wide = wide.dropna(subset=["C", "P"])
    if wide.empty:
        return quotes
    gap = (wide["C"] - wide["P"]).abs()
    at_the_money = gap.groupby(level="ts").idxmin()
    forwards = [
        strike + wide.loc[(ts, strike), "C"] - wide.loc[(ts, strike), "P"]
        for ts, strike in at_the_money
    ]
    low, high = min(forwards) * (1.0 - band), max(forwards) * (1.0 + band)
    keep = (quotes["strike"] >= low) & (quotes["strike"] <= high)
    return quotes.loc[keep].reset_index(drop=True)
