"""Databento historical data on the official ``databento`` SDK.

The SDK builds every request and decodes every answer; only the wire is ours:

- Requests are built by the SDK's own ``TimeseriesHttpAPI.get_range`` (so the form is
  exactly what databento-python posts: DBN encoding, zstd compression, its symbol and
  schema validation), but its private ``_stream`` is replaced to send the POST through
  :class:`~vwapcli.data.providers.http.HttpClient`: the same retries, pacing and
  one-line errors as every vendor, and a gateway that may be a local replay server.
  (The SDK's ``Historical`` client forces ``https`` on any gateway and never retries.)
- Answers are DBN streams decoded by ``databento.DBNStore`` (fixed-point prices and the
  undefined-price sentinel become float dollars and NaN there, not here).

Schemas:

- Bars: ``ohlcv-1m`` from ``XNAS.ITCH`` by default (Nasdaq TotalView, history from
  2018-05): the longest equity history Databento has, but single-venue volume, so a
  session VWAP weights Nasdaq prints only. ``DBEQ.BASIC`` (a few venues, from 2023) is a
  constructor option. ``ts_event`` of an OHLCV record is the bar's open time (bar start).
- Option quotes: the day's ``definition`` records of the chain (``SPY.OPT``,
  ``stype_in=parent``) give each ``instrument_id`` its ``raw_symbol``, ``strike_price``,
  ``expiration`` and ``instrument_class`` (C/P); contracts expiring within
  ``max_days_to_expiry`` are then asked for ``cbbo-1m`` by instrument id, and the quotes
  joined to the definitions on ``instrument_id``. Nothing is read from a symbol string:
  with parent symbology the SDK's symbol column holds the parent (``SPY.OPT``), not a
  contract. ``ts_recv`` of a cbbo-1m record is the END of its minute: the time the quote
  was known, so it is the stored ``ts``. A side with no price (the book was empty,
  e.g. before the open) makes the record no quote.

Closing auction: Nasdaq's closing cross prints at 16:00:00, so it falls in the 16:00
``ohlcv-1m`` record, which starts at the close and is dropped (SPEC 3.2). The last
stored bar, 15:59, holds continuous trading of that minute only.

The gateway is ``https://hist.databento.com`` or ``VWAPCLI_DATABENTO_GATEWAY``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from vwapcli.core.types import local_time_ns
from vwapcli.data.providers.base import (
    empty_bars,
    empty_option_quotes,
    ny_day_bounds,
    require_keys,
)
from vwapcli.data.providers.http import HttpClient, RetryPolicy, Transport, base_url_from_env
from vwapcli.data.providers.pacing import Clock, RequestPacer, WaitDisplay
from vwapcli.errors import ProviderError

logger = logging.getLogger("vwapcli.providers")

GATEWAY = "https://hist.databento.com"
GATEWAY_VARIABLE = "VWAPCLI_DATABENTO_GATEWAY"
EQUITY_DATASETS = ("XNAS.ITCH", "DBEQ.BASIC")
OPTIONS_DATASET = "OPRA.PILLAR"
MAX_SYMBOLS_PER_REQUEST = 2000  # databento-python: "Takes up to 2,000 symbols per request"
QUOTES_FROM = dt.time(9, 30)
QUOTES_TO = dt.time(16, 15)
DEFINITION_COLUMNS = ("instrument_id", "raw_symbol", "expiry", "strike", "right")


class DatabentoProvider:
    """Databento (official SDK): ohlcv-1m bars (XNAS.ITCH, raw prices) and OPRA cbbo-1m option quotes. Needs DATABENTO_API_KEY.

    Prices are as traded (Databento does not adjust). Option quotes keep contracts
    expiring within ``max_days_to_expiry`` calendar days and striking within
    ``strike_band`` of the put-call-parity forward seen that session.
    """

    name = "databento"
    requires_key = ("DATABENTO_API_KEY",)
    adjustment = "raw"
    default_requests_per_minute: float | None = None

    def __init__(
        self,
        *,
        dataset: str = "XNAS.ITCH",
        max_days_to_expiry: int = 7,
        strike_band: float = 0.03,
        gateway: str | None = None,
        requests_per_minute: float | None = None,
        transport: Transport | None = None,
        clock: Clock | None = None,
        display: WaitDisplay | None = None,
        seed: int | None = None,
        policy: RetryPolicy | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if dataset not in EQUITY_DATASETS:
            raise ProviderError(f"databento: dataset {dataset!r} unknown; use one of {', '.join(EQUITY_DATASETS)}")
        self.dataset = dataset
        self.max_days_to_expiry = max_days_to_expiry
        self.strike_band = strike_band
        self.gateway = (gateway or base_url_from_env(self.name, GATEWAY_VARIABLE, GATEWAY, environ)).rstrip("/")
        try:
            self.pacer = RequestPacer(self.name, requests_per_minute, clock, display)
        except ValueError as error:
            raise ProviderError(f"databento: {error}") from None
        self._transport = transport
        self._seed = seed
        self._policy = policy
        self._environ = environ

    def _timeseries(self) -> Any:
        """The SDK's timeseries API with its HTTP stream routed through HttpClient."""
        key = require_keys(self.name, self.requires_key, self._environ)["DATABENTO_API_KEY"]
        http = HttpClient(
            self.name, self.requires_key, [key], self._transport, self._policy,
            seed=self._seed, pacer=self.pacer,
        )
        return sdk_timeseries(http, key, self.gateway)

    def _get_range(self, timeseries: Any, **request: Any) -> pd.DataFrame:
        """One ``timeseries.get_range`` call decoded to the SDK's DataFrame (float prices)."""
        store = timeseries.get_range(**request)
        if store is None:
            return pd.DataFrame()
        try:
            with warnings.catch_warnings():
                # The SDK's own pandas deprecation notices are not the user's business.
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"databento(\.|$)")
                warnings.filterwarnings("ignore", category=FutureWarning, module=r"databento(\.|$)")
                frame = store.to_df(price_type="float", pretty_ts=True, map_symbols=False)
        except ValueError as error:
            raise ProviderError(f"{self.name}: unreadable DBN from timeseries.get_range ({error})") from None
        return frame.reset_index()

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
        frame = self._get_range(
            self._timeseries(), dataset=self.dataset, schema="ohlcv-1m", symbols=[symbol],
            stype_in="raw_symbol", start=start, end=end,
        )
        return bars_from_databento(frame)

    def fetch_option_quotes(self, underlying: str, session_dates: list[dt.date]) -> pd.DataFrame:
        """cbbo-1m quotes of the underlying's near-expiry chain, joined to its definitions, per session."""
        timeseries = self._timeseries()
        frames = []
        for day in sorted(session_dates):
            quotes = self._quotes_for_day(timeseries, underlying, day)
            if not quotes.empty:
                frames.append(near_the_money(quotes, self.strike_band))
        frames = [frame for frame in frames if not frame.empty]
        if not frames:
            return empty_option_quotes()
        return pd.concat(frames, ignore_index=True)

    def _quotes_for_day(self, timeseries: Any, underlying: str, day: dt.date) -> pd.DataFrame:
        day_start, _ = ny_day_bounds([day])
        quotes_start, quotes_end = local_time_ns(day, QUOTES_FROM), local_time_ns(day, QUOTES_TO)
        raw_definitions = self._get_range(
            timeseries, dataset=OPTIONS_DATASET, schema="definition", symbols=[f"{underlying}.OPT"],
            stype_in="parent", start=day_start, end=quotes_end,
        )
        definitions = contracts_from_definitions(raw_definitions)
        horizon = day + dt.timedelta(days=self.max_days_to_expiry)
        definitions = definitions[(definitions["expiry"] >= day) & (definitions["expiry"] <= horizon)]
        if definitions.empty:
            return empty_option_quotes()
        ids = [str(value) for value in definitions["instrument_id"]]
        frames = []
        for first in range(0, len(ids), MAX_SYMBOLS_PER_REQUEST):
            frames.append(self._get_range(
                timeseries, dataset=OPTIONS_DATASET, schema="cbbo-1m",
                symbols=ids[first : first + MAX_SYMBOLS_PER_REQUEST], stype_in="instrument_id",
                start=quotes_start, end=quotes_end,
            ))
        frames = [frame for frame in frames if not frame.empty]
        if not frames:
            return empty_option_quotes()
        return quotes_from_cbbo(pd.concat(frames, ignore_index=True), definitions, underlying)


def sdk_timeseries(http: HttpClient, key: str, gateway: str) -> Any:
    """``databento``'s ``TimeseriesHttpAPI`` whose ``_stream`` posts through ``http``.

    ``_stream(url, data, basic_auth, path)`` is where the SDK (0.38 .. 0.88) turns the
    form it built into a ``requests.post``; everything before it (form, validation) and
    after it (``DBNStore``) stays the SDK's. The key is the basic-auth user, as there.
    """
    with warnings.catch_warnings():
        # databento's __init__ sets warnings.simplefilter("always", DeprecationWarning)
        # for the whole process; importing it inside catch_warnings undoes that.
        from databento.common.dbnstore import DBNStore
        from databento.historical.api.timeseries import TimeseriesHttpAPI

    class RoutedTimeseries(TimeseriesHttpAPI):
        def _stream(self, url: str, data: dict[str, object | None], basic_auth: bool, path: Any = None) -> Any:
            form = {name: value for name, value in data.items() if value is not None}
            response = http.request(
                "POST", url, data=form, headers=dict(self._headers), auth=(key, "") if basic_auth else None
            )
            for warning in backend_warnings(response.header("X-Warning")):
                # What the SDK's check_backend_warnings would raise as a BentoWarning.
                logger.warning("databento: %s", http.redact(warning))
            if not response.body:
                return None
            return DBNStore.from_bytes(io.BytesIO(response.body))

    return RoutedTimeseries(key=key, gateway=gateway)


def backend_warnings(header: str | None) -> list[str]:
    """Databento's ``X-Warning`` header: a JSON list of "Type: message" strings (unreadable: none)."""
    if not header:
        return []
    try:
        items = json.loads(header)
    except ValueError:
        return [header]
    return [str(item) for item in items] if isinstance(items, list) else [str(items)]


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")


def bars_from_databento(frame: pd.DataFrame) -> pd.DataFrame:
    """SDK ohlcv DataFrame (``ts_event`` bar start, float prices) -> store columns."""
    if frame.empty:
        return empty_bars()
    return pd.DataFrame(
        {
            "ts": _utc(frame["ts_event"]).to_numpy(),
            "open": frame["open"].astype("float64").to_numpy(),
            "high": frame["high"].astype("float64").to_numpy(),
            "low": frame["low"].astype("float64").to_numpy(),
            "close": frame["close"].astype("float64").to_numpy(),
            "volume": frame["volume"].astype("float64").to_numpy(),
        }
    ).astype({"ts": "datetime64[ns, UTC]"})


def contracts_from_definitions(frame: pd.DataFrame) -> pd.DataFrame:
    """Definition records -> one row per option contract: instrument_id, raw_symbol, expiry, strike, right.

    The last record of an instrument wins (definitions are re-sent when they change);
    instruments that are not calls or puts (``instrument_class`` other than C/P) are left out.
    ``expiration`` is the expiry date at 00:00 UTC in OPRA definitions, so its UTC date
    is the expiry.
    """
    if frame.empty:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in DEFINITION_COLUMNS})
    latest = frame.sort_values("ts_recv", kind="stable").drop_duplicates("instrument_id", keep="last")
    right = latest["instrument_class"].astype(str)
    latest = latest.loc[right.isin(["C", "P"])]
    return pd.DataFrame(
        {
            "instrument_id": latest["instrument_id"].astype("int64").to_numpy(),
            "raw_symbol": latest["raw_symbol"].astype(str).to_numpy(),
            "expiry": [ts.date() for ts in _utc(latest["expiration"])],
            "strike": latest["strike_price"].astype("float64").to_numpy(),
            "right": latest["instrument_class"].astype(str).to_numpy(),
        }
    ).reset_index(drop=True)


def quotes_from_cbbo(frame: pd.DataFrame, contracts: pd.DataFrame, underlying: str) -> pd.DataFrame:
    """cbbo records (``ts_recv``, ``bid_px_00``/``ask_px_00`` floats) joined to contracts on instrument_id."""
    if frame.empty:
        return empty_option_quotes()
    joined = frame.merge(contracts, on="instrument_id", how="left", validate="many_to_one")
    unknown = joined["strike"].isna()
    if unknown.any():
        logger.info("databento: %d cbbo records of instruments without a definition dropped", int(unknown.sum()))
        joined = joined.loc[~unknown]
    return pd.DataFrame(
        {
            "ts": _utc(joined["ts_recv"]).to_numpy(),
            "underlying": underlying,
            "expiry": joined["expiry"].to_numpy(),
            "strike": joined["strike"].astype("float64").to_numpy(),
            "right": joined["right"].astype(str).to_numpy(),
            "bid": joined["bid_px_00"].astype("float64").to_numpy(),
            "ask": joined["ask_px_00"].astype("float64").to_numpy(),
            "bid_size": joined["bid_sz_00"].astype("float64").to_numpy(),
            "ask_size": joined["ask_sz_00"].astype("float64").to_numpy(),
        }
    ).astype({"ts": "datetime64[ns, UTC]"})


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
