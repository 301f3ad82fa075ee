"""`vwapcli fetch --source alpaca` end to end (alpaca-py inside) against a local replay server.

Recorded by the vendor (tests/fixtures/providers/alpaca/vendor/, alpacahq/alpaca-py
tests/data/test_historical_stock_data.py): an AAPL bars page with a ``next_page_token``
and the empty page. Written by us in Alpaca's documented format (labelled in the fixtures
README): SPY minute pages, the 429 and the plan-limited 403 bodies and the
``X-RateLimit-*`` headers (the vendor's tests record none).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("alpaca")

from builders.paths import PROVIDERS
from builders.provider_replay import (
    ReplayServer,
    Reply,
    replay_server,
    run_fetch_cli,
    stored_files,
    use_clock,
)
from vwapcli.data.store import BarStore

__all__ = ["replay_server"]  # the fixture, imported for pytest

ALPACA = PROVIDERS / "alpaca"
VENDOR = ALPACA / "vendor"
KEYS = {"ALPACA_API_KEY": "FAKE-ALPACA-ID-7c21", "ALPACA_SECRET_KEY": "FAKE-ALPACA-SECRET-90be"}
BARS = "/v2/stocks/bars"
SPY_TOKEN = "U1BZfE18MjAyNC0wNi0yMFQxMzozMTowMFo="
FETCH_SPY = ["--source", "alpaca", "--symbols", "SPY", "--start", "2024-06-20", "--end", "2024-06-20"]


@pytest.fixture
def alpaca_env(monkeypatch: pytest.MonkeyPatch, replay_server: ReplayServer) -> ReplayServer:
    monkeypatch.setenv("VWAPCLI_ALPACA_DATA_URL", replay_server.url)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    return replay_server


def serve_spy_pages(server: ReplayServer, *first: Reply, first_headers: dict[str, str] | None = None) -> None:
    server.route(
        "GET", BARS, Reply(200, ALPACA / "bars_SPY_2024-06-20_page2.json"),
        when=lambda seen: seen.query.get("page_token") == SPY_TOKEN,
    )
    server.route("GET", BARS, *first, Reply(200, ALPACA / "bars_SPY_2024-06-20_page1.json", first_headers or {}))


def test_alpaca_replays_the_vendors_recorded_page_and_its_next_page_token(
    alpaca_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """alpaca-py's own recorded AAPL page holds two daily bars stamped 05:00Z (midnight in
    New York) and a next_page_token; the token's page is the vendor's empty body. Both
    bars start outside 09:30-16:00, so the fetch pages through and stores nothing."""
    use_clock(monkeypatch, "2022-03-01T00:00Z")
    token = "QUFQTHxEfDIwMjItMDItMDJUMDU6MDA6MDAuMDAwMDAwMDAwWg=="
    alpaca_env.route("GET", BARS, Reply(200, VENDOR / "bars_empty.json"), when=lambda seen: seen.query.get("page_token") == token)
    alpaca_env.route("GET", BARS, Reply(200, VENDOR / "bars_AAPL_day_2022-02-01_page1.json"))
    code, text = run_fetch_cli(
        ["--source", "alpaca", "--symbols", "AAPL", "--start", "2022-02-01", "--end", "2022-02-02", "--store", str(tmp_path)],
        capsys, monkeypatch,
    )
    assert code == 0, text
    first, second = alpaca_env.requests(BARS)
    assert first.query["symbols"] == "AAPL" and "page_token" not in first.query
    assert second.query["page_token"] == token
    assert first.headers["APCA-API-KEY-ID"] == KEYS["ALPACA_API_KEY"]
    assert "alpaca returned no bars for 2 session(s), 2022-02-01 .. 2022-02-02" in text
    assert BarStore(tmp_path).symbols() == []


def test_alpaca_sip_requests_end_fifteen_minutes_before_now_and_drop_the_closing_auction_bar(
    alpaca_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Now = 20:20Z (16:20 New York) on 2024-06-20: the session closed 20 minutes ago, more than
    the free plan's 15-minute SIP delay, so it is fetched; the request ends at 20:05Z instead
    of the next New York midnight (04:00Z), which the free plan would refuse with a 403.
    Stored: 09:30, 09:31, 09:32, 15:59; the 16:00 closing-auction bar is dropped."""
    use_clock(monkeypatch, "2024-06-20T20:20Z")
    serve_spy_pages(alpaca_env)
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(tmp_path)], capsys, monkeypatch)
    assert code == 0, text
    first, second = alpaca_env.requests(BARS)
    assert (first.query["start"], first.query["end"], first.query["feed"]) == (
        "2024-06-20T04:00:00+00:00", "2024-06-20T20:05:00+00:00", "sip",
    )
    assert second.query["page_token"] == SPY_TOKEN
    bars = BarStore(tmp_path).read_bars("SPY")
    assert bars["ts"].dt.strftime("%H:%M").tolist() == ["13:30", "13:31", "13:32", "19:59"]
    assert bars["volume"].iloc[-1] == 900_000.0


def test_alpaca_sip_leaves_a_session_closed_less_than_fifteen_minutes_ago_but_iex_fetches_it(
    alpaca_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Now = 20:10Z: with SIP the session's last 5 minutes are not served yet, so it is not
    planned (a partial day would never be refetched); IEX has no delay: fetched, asked up to now."""
    use_clock(monkeypatch, "2024-06-20T20:10Z")
    serve_spy_pages(alpaca_env)
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(tmp_path)], capsys, monkeypatch)
    assert code == 0, text
    assert alpaca_env.requests(BARS) == []
    assert "missing none" in text
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(tmp_path), "--feed", "iex"], capsys, monkeypatch)
    assert code == 0, text
    first = alpaca_env.requests(BARS)[0]
    assert (first.query["end"], first.query["feed"]) == ("2024-06-20T20:10:00+00:00", "iex")
    assert len(BarStore(tmp_path).read_bars("SPY")) == 4


def test_alpaca_paces_by_its_rate_limit_headers_and_waits_for_the_reset_after_a_429(
    alpaca_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """t0 = 20:20:00Z. The first answer is a 429 with X-RateLimit-Remaining 0 and Reset t0 + 7:
    the retry waits 7 s (no Retry-After). Page 1 then says Remaining 0, Reset t0 + 30: page 2
    waits for that reset, 30 - 7 = 23 s more. Total on the fake clock: 30 s."""
    clock = use_clock(monkeypatch, "2024-06-20T20:20Z")
    t0 = int(clock.now)
    limited = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(t0 + 7)}
    serve_spy_pages(
        alpaca_env, Reply(429, ALPACA / "error_429.json", limited),
        first_headers={"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(t0 + 30)},
    )
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(tmp_path)], capsys, monkeypatch)
    assert code == 0, text
    assert clock.now - t0 == pytest.approx(30.0)
    assert len(alpaca_env.requests(BARS)) == 3
    assert "waiting for the rate limit (alpaca: 200 requests/min)" in text


def test_alpaca_403_for_recent_sip_keeps_the_vendors_words_and_names_the_remedy(
    alpaca_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_clock(monkeypatch, "2024-06-20T20:20Z")
    alpaca_env.route("GET", BARS, Reply(403, ALPACA / "error_403_recent_sip.json"))
    store = tmp_path / "store"
    code, text = run_fetch_cli([*FETCH_SPY, "--store", str(store)], capsys, monkeypatch)
    assert code == 2
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: alpaca: your plan does not include this data (403 Forbidden: subscription does not "
        "permit querying recent SIP data); the free plan serves SIP bars older than 15 minutes: "
        "wait, or use --feed iex"
    ], text
    for secret in KEYS.values():
        assert secret not in text
    assert not store.exists() or stored_files(store) == []


def test_alpaca_bars_keep_the_vendors_prices_exactly() -> None:
    """The vendor's recorded page read by our parser: o 174, h 174.84, l 172.31, c 174.61,
    v 85998033 at 2022-02-01T05:00Z (the same numbers alpaca-py's own test asserts)."""
    import json

    from vwapcli.data.providers.alpaca import bars_from_alpaca

    rows = json.loads((VENDOR / "bars_AAPL_day_2022-02-01_page1.json").read_text())["bars"]["AAPL"]
    bars = bars_from_alpaca(rows)
    assert bars["ts"].iloc[0] == pd.Timestamp("2022-02-01T05:00Z")
    assert bars.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [174.0, 174.84, 172.31, 174.61, 85998033.0]
