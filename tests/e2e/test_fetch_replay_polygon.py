"""`vwapcli fetch --source polygon` end to end against a local server replaying recorded answers.

Recorded by the vendor (tests/fixtures/providers/polygon/vendor/, polygon-io/client-python
test_rest/mocks): the options-contracts list and its cursor page, whose ``next_url`` names
``api.massive.com``. Written by us in the vendor's format (labelled in the fixtures README):
minute aggregates (the vendor recorded daily ones only), the 429 and 403 bodies (the vendor
publishes none), the option quotes of one contract.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from builders.paths import PROVIDERS
from builders.provider_replay import (
    ReplayServer,
    Reply,
    replay_server,
    run_fetch_cli,
    stored_files,
    stored_option_quotes,
    use_clock,
)
from vwapcli.data.store import BarStore

__all__ = ["replay_server"]  # the fixture, imported for pytest

POLYGON = PROVIDERS / "polygon"
VENDOR = POLYGON / "vendor"
KEY = "FAKE-POLYGON-KEY-5d8e"
MINUTE_PATH = "/v2/aggs/ticker/SPY/range/1/minute/2024-06-20/2024-06-20"
CURSOR_PATH = "/v2/aggs/ticker/SPY/range/1/minute/1718890320000/1718913600000"
FETCH_SPY = ["--source", "polygon", "--symbols", "SPY", "--start", "2024-06-20", "--end", "2024-06-20"]


@pytest.fixture
def polygon_env(monkeypatch: pytest.MonkeyPatch, replay_server: ReplayServer) -> ReplayServer:
    monkeypatch.setenv("VWAPCLI_POLYGON_BASE_URL", replay_server.url)
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    return replay_server


def serve_spy_minutes(server: ReplayServer, *first: Reply) -> None:
    server.route("GET", MINUTE_PATH, *first, Reply(200, POLYGON / "aggs_SPY_minute_2024-06-20_page1.json"))
    server.route("GET", CURSOR_PATH, Reply(200, POLYGON / "aggs_SPY_minute_2024-06-20_page2.json"))


def test_polygon_fetch_follows_next_url_to_the_configured_server_and_drops_the_closing_auction_bar(
    polygon_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Page 1: 08:00, 09:30, 09:31 ET; page 2 (its next_url names api.massive.com, as the
    vendor's own recorded pages do): 09:32, 15:59 and the 16:00 closing-auction bar of
    2.5 million shares. SPEC 3.2 keeps bars starting in [09:30, 16:00): 09:30, 09:31,
    09:32 and 15:59, whose 900,000 shares are that minute's continuous trading only.
    """
    use_clock(monkeypatch, "2024-08-01T00:00Z")
    serve_spy_minutes(polygon_env)
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(tmp_path)], capsys, monkeypatch)
    assert code == 0, text
    first, second = polygon_env.requests("/v2/aggs")
    assert (first.path, first.query) == (MINUTE_PATH, {"adjusted": "true", "sort": "asc", "limit": "50000"})
    assert (second.path, second.query) == (CURSOR_PATH, {"cursor": "bGltaXQ9MyZzb3J0PWFzYw"})
    for seen in (first, second):
        assert seen.headers["Authorization"] == f"Bearer {KEY}"
        assert "apiKey" not in seen.query
    bars = BarStore(tmp_path).read_bars("SPY")
    assert bars["ts"].dt.strftime("%H:%M").tolist() == ["13:30", "13:31", "13:32", "19:59"]
    assert bars["volume"].iloc[-1] == 900_000.0
    assert KEY not in text


def test_polygon_429_waits_a_whole_minute_on_the_clock_then_fetches(
    polygon_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Polygon sends no Retry-After, and its free plan counts requests per minute: after a 429
    the one wait sure to outlive the bucket is 60 s (no real time passes: the clock is fake)."""
    clock = use_clock(monkeypatch, "2024-08-01T00:00Z")
    serve_spy_minutes(polygon_env, Reply(429, POLYGON / "error_429.json"))
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(tmp_path)], capsys, monkeypatch)
    assert code == 0, text
    assert clock.slept == pytest.approx(60.0)
    assert len(polygon_env.requests(MINUTE_PATH)) == 2
    assert len(BarStore(tmp_path).read_bars("SPY")) == 4


def test_polygon_403_not_authorized_says_the_plan_does_not_include_the_data(
    polygon_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_clock(monkeypatch, "2024-08-01T00:00Z")
    polygon_env.route("GET", MINUTE_PATH, Reply(403, POLYGON / "error_403_not_authorized.json"))
    store = tmp_path / "store"
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(store)], capsys, monkeypatch)
    assert code == 2
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: polygon: your plan does not include this data (403 NOT_AUTHORIZED: You are not "
        "entitled to this data. Please upgrade your plan at https://polygon.io/pricing); see your "
        "plan's history and data types at polygon.io/pricing"
    ], text
    assert "Traceback" not in text and KEY not in text
    assert not store.exists() or stored_files(store) == []


def test_polygon_option_quotes_page_through_the_vendors_recorded_contract_list_at_five_requests_a_minute(
    polygon_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Agilent (A), Friday 2022-05-13. The vendor's recorded contract list is 10 calls
    (strikes 65..110) plus a cursor page of 10 more (115..160), all expiring 2022-05-20.

    Requests: 1 daily aggregate + contracts twice (expired=true, expired=false) x 2 pages
    + 20 contracts' quotes + 1 minute-bar request = 26. At the free plan's 5 a minute the
    k-th request (0-based) leaves at 60 * floor(k / 5) s, so the 26th at 300 s.

    The 120 call's quotes: minute 14:00Z ends on 4.25/4.45 (at 14:00:50); minute 14:01Z
    ends on a quote without bid_price, which is no quote. One row is stored.
    """
    clock = use_clock(monkeypatch, "2022-06-01T00:00Z")
    start = clock.now
    server = polygon_env
    server.route("GET", "/v2/aggs/ticker/A/range/1/day/2022-05-13/2022-05-13", Reply(200, POLYGON / "aggs_A_day_2022-05-13.json"))
    server.route("GET", "/v2/aggs/ticker/A/range/1/minute/2022-05-13/2022-05-13", Reply(200, POLYGON / "aggs_A_minute_2022-05-13.json"))
    cursor = "YXA9JTdCJTIySUQlMjIlM0ElMjIy"
    server.route(
        "GET", "/v3/reference/options/contracts",
        Reply(200, VENDOR / "v3" / "reference" / "options" / f"contracts&cursor={cursor}.json"),
        when=lambda seen: seen.query.get("cursor") == cursor,
    )
    server.route("GET", "/v3/reference/options/contracts", Reply(200, VENDOR / "v3" / "reference" / "options" / "contracts.json"))
    server.route("GET", "/v3/quotes/O:A220520C00120000", Reply(200, POLYGON / "quotes_O_A220520C00120000_2022-05-13.json"))
    server.route("GET", "/v3/quotes/*", Reply(200, POLYGON / "empty_quotes.json"))
    chain = tmp_path / "chain"
    code, text = run_fetch_cli(
        ["--source", "polygon", "--symbols", "A", "--start", "2022-05-13", "--end", "2022-05-13",
         "--store", str(tmp_path / "store"), "--option-quotes", "--chain-store", str(chain)],
        capsys, monkeypatch,
    )
    assert code == 0, text
    contract_requests = server.requests("/v3/reference/options/contracts")
    assert [seen.query.get("cursor") for seen in contract_requests] == [None, cursor, None, cursor]
    assert contract_requests[1].query == {"cursor": cursor}  # the cursor alone, as next_url names it
    assert len(server.requests("/v3/quotes/")) == 20
    assert len(server.seen) == 26
    assert clock.now - start == pytest.approx(300.0)
    assert "waiting for the rate limit (polygon: 5 requests/min)" in text
    quotes = stored_option_quotes(chain)
    assert len(quotes) == 1
    row = quotes.iloc[0]
    assert row["ts"] == pd.Timestamp("2022-05-13T14:00:50Z")
    assert (row["expiry"], row["strike"], row["right"]) == (dt.date(2022, 5, 20), 120.0, "C")
    assert (row["bid"], row["ask"], row["bid_size"], row["ask_size"]) == (4.25, 4.45, 9.0, 8.0)
