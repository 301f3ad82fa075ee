"""Databento on the official SDK, read against the DBN files Databento records for its own tests.

Vendor files (tests/fixtures/providers/databento/vendor/, databento/databento-python
tests/data): ``XNAS.ITCH/test_data.ohlcv-1m`` (four NVDA minutes, 2020-12-28),
``OPRA.PILLAR/test_data.definition`` and ``test_data.cbbo-1m`` (AAPL 250221C00250000,
2025-02-20). Independent method throughout: the records decoded one by one with
``databento_dbn.DBNDecoder`` (fixed-point integers / 1e9), not through ``DBNStore.to_df``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("databento")

import databento_dbn
import zstandard

from builders.paths import PROVIDERS
from vwapcli.data.providers.base import parse_osi_symbol
from vwapcli.data.providers.databento import (
    DatabentoProvider,
    contracts_from_definitions,
    near_the_money,
)
from vwapcli.data.providers.http import HttpRequest, HttpResponse, RetryPolicy
from vwapcli.errors import ProviderError

FIXTURES = PROVIDERS / "databento"
VENDOR = FIXTURES / "vendor"
OHLCV = VENDOR / "XNAS.ITCH" / "test_data.ohlcv-1m.dbn.zst"
DEFINITION = VENDOR / "OPRA.PILLAR" / "test_data.definition.dbn.zst"
CBBO = VENDOR / "OPRA.PILLAR" / "test_data.cbbo-1m.dbn.zst"
FAKE_KEY = "db-FAKEKEYFAKEKEYFAKEKEYFAKEKEY00"
UNDEF_PRICE = 2**63 - 1  # DBN's "no price" sentinel (databento_dbn.UNDEF_PRICE)


def raw_records(path: Path) -> list[Any]:
    """Every record of a DBN file, decoded by the vendor's low-level decoder."""
    decoder = databento_dbn.DBNDecoder()
    decoder.write(zstandard.ZstdDecompressor().decompressobj().decompress(path.read_bytes()))
    return [record for record in decoder.decode() if not isinstance(record, databento_dbn.Metadata)]


class Recorded:
    """Answers each get_range with the vendor's file for the requested schema."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        if self.status != 200:
            return HttpResponse(self.status, (FIXTURES / "written" / "error_401.json").read_bytes())
        schema = (request.data or {})["schema"]
        return HttpResponse(200, {"ohlcv-1m": OHLCV, "definition": DEFINITION, "cbbo-1m": CBBO}[schema].read_bytes())


def provider(transport: Recorded) -> DatabentoProvider:
    return DatabentoProvider(
        transport=transport, seed=0, policy=RetryPolicy(max_attempts=2),
        environ={"DATABENTO_API_KEY": FAKE_KEY},
    )


def test_databento_bars_equal_the_vendors_records_decoded_one_by_one() -> None:
    """NVDA 2020-12-28: four records; the first opens 09:05Z at 521.00 (521000000000 units x 1e-9)."""
    bars = provider(Recorded()).fetch_bars("NVDA", [dt.date(2020, 12, 28)])
    records = raw_records(OHLCV)
    assert len(bars) == len(records) == 4
    assert bars["ts"].tolist() == [pd.Timestamp(r.ts_event, unit="ns", tz="UTC") for r in records]
    for column in ("open", "high", "low", "close"):
        assert bars[column].tolist() == pytest.approx([getattr(r, column) * 1e-9 for r in records], abs=1e-12)
    assert bars["volume"].tolist() == [float(r.volume) for r in records]
    assert bars[["open", "volume"]].iloc[0].tolist() == [521.0, 41.0]


def test_databento_posts_exactly_the_form_the_official_client_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Independent method: databento.Historical's own get_range, its requests.post captured."""
    import databento
    import databento.common.http as sdk_http

    captured: dict[str, Any] = {}

    def capture_post(**kwargs: Any) -> Any:
        captured.update(kwargs)
        raise RuntimeError("captured")

    monkeypatch.setattr(sdk_http.requests, "post", capture_post)
    client = databento.Historical(key=FAKE_KEY)
    start, end = pd.Timestamp("2020-12-28T05:00Z"), pd.Timestamp("2020-12-29T05:00Z")
    with pytest.raises(RuntimeError, match="captured"):
        client.timeseries.get_range(
            dataset="XNAS.ITCH", schema="ohlcv-1m", symbols=["NVDA"], stype_in="raw_symbol", start=start, end=end,
        )
    transport = Recorded()
    provider(transport).fetch_bars("NVDA", [dt.date(2020, 12, 28)])
    (ours,) = transport.requests
    assert ours.data == {k: v for k, v in captured["data"].items() if v is not None}
    assert ours.data["encoding"] == "dbn" and ours.data["compression"] == "zstd"
    assert ours.url == captured["url"] == "https://hist.databento.com/v0/timeseries.get_range"
    assert ours.auth == (FAKE_KEY, "")


def test_definitions_give_each_instrument_id_its_contract_without_reading_a_symbol() -> None:
    """The vendor's definition record: instrument 16783963 is the AAPL 250 call expiring
    2025-02-21. Cross-check: the OSI raw_symbol, parsed independently, says the same."""
    store_frame = _sdk_frame(DEFINITION)
    contracts = contracts_from_definitions(store_frame)
    assert contracts.to_dict("records") == [
        {"instrument_id": 16783963, "raw_symbol": "AAPL  250221C00250000",
         "expiry": dt.date(2025, 2, 21), "strike": 250.0, "right": "C"},
    ]
    root, expiry, right, strike = parse_osi_symbol(contracts["raw_symbol"].iloc[0])
    assert (root, expiry, right, strike) == ("AAPL", dt.date(2025, 2, 21), "C", 250.0)
    (record,) = raw_records(DEFINITION)
    assert record.strike_price == 250_000_000_000  # 250 dollars in 1e-9 units


def test_databento_option_quotes_join_cbbo_to_definitions_on_instrument_id() -> None:
    """The vendor's cbbo-1m: 13:01Z with no bid and no ask (undefined: the book was empty
    before the open), then 14:31, 14:32, 14:33Z: 0.32/0.34, 0.43/0.45, 0.34/0.36.
    ts is ts_recv, the end of each minute. Only calls: no forward to read, all strikes kept."""
    transport = Recorded()
    quotes = provider(transport).fetch_option_quotes("AAPL", [dt.date(2025, 2, 20)])
    records = raw_records(CBBO)
    assert records[0].levels[0].bid_px == UNDEF_PRICE
    assert quotes["ts"].tolist() == [pd.Timestamp(r.ts_recv, unit="ns", tz="UTC") for r in records]
    assert quotes["bid"].iloc[1:].tolist() == pytest.approx([0.32, 0.43, 0.34])
    assert quotes["ask"].iloc[1:].tolist() == pytest.approx([0.34, 0.45, 0.36])
    assert quotes[["bid", "ask"]].iloc[0].isna().all()
    assert set(quotes["strike"]) == {250.0} and set(quotes["right"]) == {"C"}
    assert set(quotes["expiry"]) == {dt.date(2025, 2, 21)}


def test_databento_option_requests_ask_definitions_by_parent_then_cbbo_by_instrument_id() -> None:
    """2025-02-20 is EST: 09:30 and 16:15 New York = 14:30Z and 21:15Z."""
    transport = Recorded()
    provider(transport).fetch_option_quotes("AAPL", [dt.date(2025, 2, 20)])
    definition, cbbo = (request.data or {} for request in transport.requests)
    assert (definition["dataset"], definition["schema"], definition["symbols"], definition["stype_in"]) == (
        "OPRA.PILLAR", "definition", "AAPL.OPT", "parent",
    )
    assert definition["start"] == "2025-02-20T05:00:00+00:00"
    assert (cbbo["schema"], cbbo["symbols"], cbbo["stype_in"]) == ("cbbo-1m", "16783963", "instrument_id")
    assert (cbbo["start"], cbbo["end"]) == (
        str(pd.Timestamp("2025-02-20T14:30Z").value), str(pd.Timestamp("2025-02-20T21:15Z").value),
    )


def test_contracts_expiring_beyond_the_window_are_not_asked_for() -> None:
    """2025-02-20 + 0 days: the 2025-02-21 contract is out; no cbbo request is made."""
    transport = Recorded()
    quotes = DatabentoProvider(
        transport=transport, max_days_to_expiry=0, environ={"DATABENTO_API_KEY": FAKE_KEY},
    ).fetch_option_quotes("AAPL", [dt.date(2025, 2, 20)])
    assert quotes.empty
    assert [(r.data or {})["schema"] for r in transport.requests] == ["definition"]


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


def test_near_the_money_keeps_strikes_around_the_parity_forward() -> None:
    """At 548: C 2.03, P 0.61 -> F = 548 + 2.03 - 0.61 = 549.42; band 3%: [532.94, 565.90]."""
    quotes = pd.DataFrame(
        {
            "ts": [pd.Timestamp("2024-06-20T13:31Z")] * 3,
            "expiry": [dt.date(2024, 6, 21)] * 3,
            "strike": [548.0, 548.0, 600.0],
            "right": ["C", "P", "C"],
            "bid": [2.01, 0.60, 0.03],
            "ask": [2.05, 0.62, 0.04],
        }
    )
    assert near_the_money(quotes, 0.03)["strike"].tolist() == [548.0, 548.0]


def test_osi_symbols_parse_in_databento_and_polygon_spelling() -> None:
    """Strike field 00545500 is in thousandths: 545.5 dollars."""
    assert parse_osi_symbol("SPY   240621C00545500") == ("SPY", dt.date(2024, 6, 21), "C", 545.5)
    assert parse_osi_symbol("O:QQQ241220P00480000") == ("QQQ", dt.date(2024, 12, 20), "P", 480.0)
    with pytest.raises(ValueError):
        parse_osi_symbol("SPY.OPT")


def test_databento_serves_only_one_minute_bars() -> None:
    with pytest.raises(ProviderError, match="ohlcv-1m only"):
        provider(Recorded()).fetch_bars("SPY", [dt.date(2024, 6, 20)], timeframe="5m")


def test_databento_401_keeps_the_vendors_words_and_never_the_key(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as caught:
        provider(Recorded(status=401)).fetch_bars("SPY", [dt.date(2024, 6, 20)])
    assert str(caught.value) == "databento: 401 Unauthorized: Authentication failed. — check DATABENTO_API_KEY"
    assert FAKE_KEY not in caplog.text


def test_a_plain_http_gateway_is_refused_unless_it_is_this_machine() -> None:
    with pytest.raises(ProviderError, match=re.escape("VWAPCLI_DATABENTO_GATEWAY='http://example.com' must be an https URL")):
        DatabentoProvider(environ={"VWAPCLI_DATABENTO_GATEWAY": "http://example.com"})
    assert DatabentoProvider(environ={"VWAPCLI_DATABENTO_GATEWAY": "http://127.0.0.1:8123/"}).gateway == "http://127.0.0.1:8123"


def _sdk_frame(path: Path) -> pd.DataFrame:
    import warnings

    import databento

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return databento.DBNStore.from_file(path).to_df(price_type="float", map_symbols=False).reset_index()


def test_databento_backend_warnings_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """The SDK turns an X-Warning header (a JSON list) into BentoWarnings; here: log lines."""

    def warned(request: HttpRequest) -> HttpResponse:
        header = '["Warning: a backend warning (wording ours)"]'
        return HttpResponse(200, OHLCV.read_bytes(), {"X-Warning": header})

    with caplog.at_level(logging.WARNING):
        DatabentoProvider(transport=warned, environ={"DATABENTO_API_KEY": FAKE_KEY}).fetch_bars("NVDA", [dt.date(2020, 12, 28)])
    assert "databento: Warning: a backend warning (wording ours)" in caplog.text
