"""`vwapcli fetch --source databento` end to end (the databento SDK inside) against a local server.

Recorded by the vendor (tests/fixtures/providers/databento/vendor/, databento-python
tests/data): NVDA ohlcv-1m, the OPRA definition and cbbo-1m of AAPL 250221C00250000.
Written by us (tests/fixtures/providers/databento/written/, with databento_dbn's encoder,
labelled in the fixtures README): SPY regular-session minutes, an empty answer, and the
429 and 403 bodies (Databento publishes none).

Databento streams a whole range in one answer (no pages); a range is split into one
request per month (and per run of consecutive sessions), so the multi-request range here
crosses a month end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("databento")

from builders.paths import PROVIDERS
from builders.provider_replay import (
    ReplayServer,
    Reply,
    Seen,
    replay_server,
    run_fetch_cli,
    stored_files,
    stored_option_quotes,
    use_clock,
)
from vwapcli.data.store import BarStore

__all__ = ["replay_server"]  # the fixture, imported for pytest

VENDOR = PROVIDERS / "databento" / "vendor"
WRITTEN = PROVIDERS / "databento" / "written"
KEY = "db-FAKEKEYFAKEKEYFAKEKEYFAKEKEY00"
GET_RANGE = "/v0/timeseries.get_range"


@pytest.fixture
def databento_env(monkeypatch: pytest.MonkeyPatch, replay_server: ReplayServer) -> ReplayServer:
    monkeypatch.setenv("VWAPCLI_DATABENTO_GATEWAY", replay_server.url)
    monkeypatch.setenv("DATABENTO_API_KEY", KEY)
    return replay_server


def form_is(**fields: str) -> Callable[[Seen], bool]:
    return lambda seen: all(seen.form.get(name) == value for name, value in fields.items())


def fetch(store: Path, symbol: str, start: str, end: str, *extra: str) -> list[str]:
    return ["--source", "databento", "--symbols", symbol, "--start", start, "--end", end, "--store", str(store), *extra]


def test_databento_replays_the_vendors_recorded_minutes_all_before_the_open(
    databento_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """databento-python's recorded NVDA ohlcv-1m for 2020-12-28 holds 09:05-09:10Z
    (04:05-04:10 New York, pre-market): decoded, then all dropped by SPEC 3.2."""
    use_clock(monkeypatch, "2021-01-15T00:00Z")
    databento_env.route("POST", GET_RANGE, Reply(200, VENDOR / "XNAS.ITCH" / "test_data.ohlcv-1m.dbn.zst"))
    code, text = run_fetch_cli(fetch(tmp_path, "NVDA", "2020-12-28", "2020-12-28"), capsys, monkeypatch)
    assert code == 0, text
    (seen,) = databento_env.requests(GET_RANGE)
    assert seen.form == {
        "dataset": "XNAS.ITCH", "start": "2020-12-28T05:00:00+00:00", "end": "2020-12-29T05:00:00+00:00",
        "symbols": "NVDA", "schema": "ohlcv-1m", "stype_in": "raw_symbol", "stype_out": "instrument_id",
        "encoding": "dbn", "compression": "zstd",
    }
    assert seen.headers["Authorization"].startswith("Basic ")  # the key as basic-auth user, as the SDK sends it
    assert "databento returned no bars for 1 session(s), 2020-12-28 .. 2020-12-28" in text
    assert BarStore(tmp_path).symbols() == []


def test_databento_option_quotes_from_the_vendors_definition_and_cbbo_records(
    databento_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AAPL 2025-02-20: the definition says instrument 16783963 is the 250 call expiring
    2025-02-21; its cbbo-1m has an empty book at 13:01Z (no quote) and 0.32/0.34 (104/132),
    0.43/0.45 (1/135), 0.34/0.36 (62/79) at 14:31, 14:32, 14:33Z. Three quotes are stored."""
    use_clock(monkeypatch, "2025-03-01T00:00Z")
    server = databento_env
    server.route("POST", GET_RANGE, Reply(200, VENDOR / "OPRA.PILLAR" / "test_data.definition.dbn.zst"), when=form_is(schema="definition"))
    server.route("POST", GET_RANGE, Reply(200, VENDOR / "OPRA.PILLAR" / "test_data.cbbo-1m.dbn.zst"), when=form_is(schema="cbbo-1m"))
    server.route("POST", GET_RANGE, Reply(200, WRITTEN / "ohlcv-1m_XNAS.ITCH_AAPL_2025-02-20_empty.dbn.zst"), when=form_is(schema="ohlcv-1m"))
    chain = tmp_path / "chain"
    code, text = run_fetch_cli(
        fetch(tmp_path / "store", "AAPL", "2025-02-20", "2025-02-20", "--option-quotes", "--chain-store", str(chain)),
        capsys, monkeypatch,
    )
    assert code == 0, text
    definition, cbbo, _bars = databento_env.requests(GET_RANGE)
    assert (definition.form["symbols"], definition.form["stype_in"]) == ("AAPL.OPT", "parent")
    assert (cbbo.form["symbols"], cbbo.form["stype_in"]) == ("16783963", "instrument_id")
    quotes = stored_option_quotes(chain).sort_values("ts")
    assert quotes["ts"].tolist() == [pd.Timestamp(f"2025-02-20T14:3{m}Z") for m in (1, 2, 3)]
    assert quotes[["bid", "ask", "bid_size", "ask_size"]].to_numpy().tolist() == [
        [0.32, 0.34, 104.0, 132.0], [0.43, 0.45, 1.0, 135.0], [0.34, 0.36, 62.0, 79.0],
    ]
    assert set(quotes["strike"]) == {250.0} and set(quotes["right"]) == {"C"}
    assert set(quotes["expiry"]) == {dt.date(2025, 2, 21)}


def test_databento_range_across_a_month_end_is_two_requests_and_a_429_is_retried_after_its_wait(
    databento_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2024-06-28 (Fri) and 2024-07-01 (Mon): one request per month, New York midnights
    04:00Z. The first is refused once with 429 and Retry-After 1: one 1-second wait on the
    fake clock. Stored: two minutes on each day."""
    clock = use_clock(monkeypatch, "2024-08-01T00:00Z")
    server = databento_env
    june = form_is(start="2024-06-28T04:00:00+00:00", end="2024-06-29T04:00:00+00:00")
    july = form_is(start="2024-07-01T04:00:00+00:00", end="2024-07-02T04:00:00+00:00")
    server.route(
        "POST", GET_RANGE, Reply(429, WRITTEN / "error_429.json", {"Retry-After": "1"}),
        Reply(200, WRITTEN / "ohlcv-1m_XNAS.ITCH_SPY_2024-06-28.dbn.zst"), when=june,
    )
    server.route("POST", GET_RANGE, Reply(200, WRITTEN / "ohlcv-1m_XNAS.ITCH_SPY_2024-07-01.dbn.zst"), when=july)
    code, text = run_fetch_cli(fetch(tmp_path, "SPY", "2024-06-28", "2024-07-01"), capsys, monkeypatch)
    assert code == 0, text
    assert len(server.requests(GET_RANGE)) == 3
    assert clock.sleeps == [1.0]
    bars = BarStore(tmp_path).read_bars("SPY")
    assert bars["ts"].tolist() == [
        pd.Timestamp(t) for t in ("2024-06-28T13:30Z", "2024-06-28T13:31Z", "2024-07-01T13:30Z", "2024-07-01T13:31Z")
    ]
    assert bars["close"].tolist() == [547.31, 547.05, 545.84, 545.99]


def test_databento_closing_cross_minute_at_16_00_is_not_stored(
    databento_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SPY 2024-06-20: 08:00, 09:30, 09:31, 15:59, 16:00 (the closing cross: 2.5 million
    shares) and 16:01 New York. Stored: 09:30, 09:31, 15:59; 15:59 keeps its 90,000 shares."""
    use_clock(monkeypatch, "2024-08-01T00:00Z")
    databento_env.route("POST", GET_RANGE, Reply(200, WRITTEN / "ohlcv-1m_XNAS.ITCH_SPY_2024-06-20.dbn.zst"))
    code, text = run_fetch_cli(fetch(tmp_path, "SPY", "2024-06-20", "2024-06-20"), capsys, monkeypatch)
    assert code == 0, text
    bars = BarStore(tmp_path).read_bars("SPY")
    assert bars["ts"].dt.strftime("%H:%M").tolist() == ["13:30", "13:31", "19:59"]
    assert bars["volume"].tolist() == [81234.0, 30120.0, 90000.0]


def test_databento_403_on_the_options_dataset_is_one_line_and_writes_nothing(
    databento_env: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_clock(monkeypatch, "2025-03-01T00:00Z")
    databento_env.route("POST", GET_RANGE, Reply(403, WRITTEN / "error_403.json"))
    store, chain = tmp_path / "store", tmp_path / "chain"
    code, text = run_fetch_cli(
        fetch(store, "AAPL", "2025-02-20", "2025-02-20", "--option-quotes", "--chain-store", str(chain)), capsys, monkeypatch,
    )
    assert code == 2
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: databento: 403 Forbidden: Your license does not include access to dataset OPRA.PILLAR. "
        "— the key was refused or your plan does not include this data (check DATABENTO_API_KEY)"
    ], text
    assert KEY not in text
    for folder in (store, chain):
        assert not folder.exists() or stored_files(folder) == []
