"""Incremental, chunked, atomic fetching into the bar store (provider-independent)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from vwapcli.core.types import local_time_ns
from vwapcli.data.providers import get_provider
from vwapcli.data.providers.base import (
    DOWNLOADS_FOLDER,
    fetch_chunks,
    fetch_into_store,
    fetch_option_quotes_into_store,
    plan_fetch,
)
from vwapcli.data.providers.yfinance import YFinanceProvider
from vwapcli.data.sessions import SessionCalendar
from vwapcli.data.store import BarStore
from vwapcli.errors import ProviderError

CALENDAR = SessionCalendar("XNYS")
AFTER_JUNE = pd.Timestamp("2024-08-01T00:00Z")  # every June/July 2024 session has closed


def day_bars(day: dt.date, close: float = 500.0, first: dt.time = dt.time(9, 0)) -> pd.DataFrame:
    """Minute bars from ``first`` to 15:59 New York: 30 pre-market bars + 390 RTH bars."""
    start = local_time_ns(day, first)
    end = local_time_ns(day, dt.time(16, 0))
    ts = pd.to_datetime(np.arange(start, end, 60_000_000_000), utc=True)
    n = len(ts)
    return pd.DataFrame(
        {"ts": ts, "open": close, "high": close + 0.5, "low": close - 0.5, "close": np.full(n, close), "volume": 100.0}
    )


class FakeProvider:
    """Serves ``day_bars`` per requested date; can be told to blow up on the n-th call."""

    name = "fakevendor"
    requires_key: tuple[str, ...] = ("FAKEVENDOR_KEY",)
    adjustment = "raw"

    def __init__(self, interrupt_on_call: int | None = None, empty: set[dt.date] | None = None) -> None:
        self.calls: list[list[dt.date]] = []
        self.interrupt_on_call = interrupt_on_call
        self.empty = empty or set()

    def fetch_bars(self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m") -> pd.DataFrame:
        self.calls.append(list(session_dates))
        if self.interrupt_on_call == len(self.calls):
            raise KeyboardInterrupt
        frames = [day_bars(day, close=600.0) for day in session_dates if day not in self.empty]
        return pd.concat(frames, ignore_index=True) if frames else day_bars(session_dates[0]).iloc[0:0]


KEYS = {"FAKEVENDOR_KEY": "FAKE-VENDOR-SECRET"}


def test_plan_lists_only_nyse_sessions_missing_from_the_store(tmp_path: Path) -> None:
    """2024-06-14 .. 06-21 holds sessions 14, 17, 18, 20, 21 (06-19 is Juneteenth).

    The store holds 17 and 18, so the plan is 14, 20, 21.
    """
    store = BarStore(tmp_path)
    store.write_bars("SPY", day_bars(dt.date(2024, 6, 17)), provenance="synthetic (seed 7)")
    store.write_bars("SPY", day_bars(dt.date(2024, 6, 18)), provenance="synthetic (seed 7)")
    plan = plan_fetch(store, FakeProvider(), "SPY", dt.date(2024, 6, 14), dt.date(2024, 6, 21), CALENDAR, now=AFTER_JUNE)
    assert plan == [dt.date(2024, 6, 14), dt.date(2024, 6, 20), dt.date(2024, 6, 21)]


def test_plan_leaves_out_a_session_that_has_not_closed_yet(tmp_path: Path) -> None:
    """At 15:00Z (11:00 EDT) on 2024-06-21 that session is still open."""
    now = pd.Timestamp("2024-06-21T15:00Z")
    plan = plan_fetch(BarStore(tmp_path), FakeProvider(), "SPY", dt.date(2024, 6, 20), dt.date(2024, 6, 21), CALENDAR, now=now)
    assert plan == [dt.date(2024, 6, 20)]


def test_fetch_stores_regular_session_bars_only_and_a_rerun_asks_for_nothing(tmp_path: Path) -> None:
    """Each served day has 30 pre-market + 390 RTH bars; 2 sessions -> 780 stored bars."""
    store = BarStore(tmp_path)
    vendor = FakeProvider()
    args = (store, vendor, "SPY", dt.date(2024, 6, 20), dt.date(2024, 6, 21), CALENDAR)
    outcome = fetch_into_store(*args, now=AFTER_JUNE, environ=KEYS)
    assert outcome.written == [dt.date(2024, 6, 20), dt.date(2024, 6, 21)]
    assert outcome.rows_written == 780
    stored = store.read_bars("SPY")
    assert len(stored) == 780
    assert stored["ts"].iloc[0] == pd.Timestamp("2024-06-20T13:30Z")
    assert store.provenance("SPY") == "fakevendor (raw prices)"
    again = fetch_into_store(*args, now=AFTER_JUNE, environ=KEYS)
    assert again.planned == []
    assert len(vendor.calls) == 1


def test_fetch_never_erases_a_held_session_between_two_missing_ones(tmp_path: Path) -> None:
    """Store holds 06-17 at close 500; 06-14 and 06-18 are fetched at close 600 in two
    separate writes, so the store's replace-the-covered-dates rule cannot touch 06-17."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", day_bars(dt.date(2024, 6, 17), close=500.0, first=dt.time(9, 30)), provenance="synthetic (seed 7)")
    vendor = FakeProvider()
    fetch_into_store(store, vendor, "SPY", dt.date(2024, 6, 14), dt.date(2024, 6, 18), CALENDAR, now=AFTER_JUNE, environ=KEYS)
    assert vendor.calls == [[dt.date(2024, 6, 14)], [dt.date(2024, 6, 18)]]
    held = store.read_bars("SPY", dt.date(2024, 6, 17), dt.date(2024, 6, 17))
    assert len(held) == 390
    assert set(held["close"]) == {500.0}


def test_chunks_are_runs_of_consecutive_sessions_within_a_month() -> None:
    sessions = [dt.date(2024, 6, d) for d in (26, 27, 28)] + [dt.date(2024, 7, d) for d in (1, 2, 3)]
    plan = [dt.date(2024, 6, 26), dt.date(2024, 6, 28), dt.date(2024, 7, 1), dt.date(2024, 7, 2)]
    assert fetch_chunks(plan, sessions) == [
        [dt.date(2024, 6, 26)], [dt.date(2024, 6, 28)], [dt.date(2024, 7, 1), dt.date(2024, 7, 2)],
    ]


def test_an_interrupted_fetch_publishes_nothing_for_the_symbol_and_a_rerun_downloads_only_the_rest(
    tmp_path: Path,
) -> None:
    """June 27-28 are downloaded (one chunk, staged); Ctrl-C during the July 1-2 request.
    The store holds nothing for SPY (a symbol is published whole or not at all); the
    rerun asks the vendor only for July, then publishes all four sessions (4 x 390 bars)
    and removes the staged chunk."""
    store = BarStore(tmp_path)
    args = (store, FakeProvider(interrupt_on_call=2), "SPY", dt.date(2024, 6, 27), dt.date(2024, 7, 2), CALENDAR)
    with pytest.raises(KeyboardInterrupt):
        fetch_into_store(*args, now=AFTER_JUNE, environ=KEYS)
    assert store.symbols() == [] and not (tmp_path / "meta.json").exists()
    assert list((tmp_path / DOWNLOADS_FOLDER).rglob("*.parquet"))
    resumed = FakeProvider()
    outcome = fetch_into_store(store, resumed, "SPY", dt.date(2024, 6, 27), dt.date(2024, 7, 2), CALENDAR, now=AFTER_JUNE, environ=KEYS)
    assert resumed.calls == [[dt.date(2024, 7, 1), dt.date(2024, 7, 2)]]
    assert outcome.written == [dt.date(2024, 6, 27), dt.date(2024, 6, 28), dt.date(2024, 7, 1), dt.date(2024, 7, 2)]
    assert len(store.read_bars("SPY")) == 4 * 390
    assert not (tmp_path / DOWNLOADS_FOLDER).exists()


def test_a_failure_mid_symbol_leaves_a_stored_series_byte_identical(tmp_path: Path) -> None:
    """The store holds 06-24..06-26 at close 500; a fetch of 06-24..07-02 fails on its second
    request (July): every file of the store is as before, the June chunk is staged."""
    store = BarStore(tmp_path)
    for day in (24, 25, 26):
        store.write_bars("SPY", day_bars(dt.date(2024, 6, day), close=500.0, first=dt.time(9, 30)), provenance="synthetic (seed 7)")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(KeyboardInterrupt):
        fetch_into_store(
            store, FakeProvider(interrupt_on_call=2), "SPY", dt.date(2024, 6, 24), dt.date(2024, 7, 2), CALENDAR,
            now=AFTER_JUNE, environ=KEYS,
        )
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and DOWNLOADS_FOLDER not in p.parts}
    assert after == before


def test_one_publication_fills_gaps_and_keeps_the_held_sessions_between_them(tmp_path: Path) -> None:
    """Held: 06-17 at close 500. Fetched: 06-14 and 06-18 at close 600 (two requests, one
    write). 06-17 keeps its 390 bars at 500; the others have 390 bars at 600 each."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", day_bars(dt.date(2024, 6, 17), close=500.0, first=dt.time(9, 30)), provenance="synthetic (seed 7)")
    fetch_into_store(store, FakeProvider(), "SPY", dt.date(2024, 6, 14), dt.date(2024, 6, 18), CALENDAR, now=AFTER_JUNE, environ=KEYS)
    bars = store.read_bars("SPY")
    by_day = bars.groupby(bars["ts"].dt.tz_convert("America/New_York").dt.day)["close"].agg(["size", "min", "max"])
    assert by_day.to_dict("index") == {
        14: {"size": 390, "min": 600.0, "max": 600.0},
        17: {"size": 390, "min": 500.0, "max": 500.0},
        18: {"size": 390, "min": 600.0, "max": 600.0},
    }
    assert store.provenance("SPY") == "synthetic (seed 7) + fakevendor (raw prices)"


def test_dry_run_returns_the_plan_without_keys_requests_or_writes(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    vendor = FakeProvider()
    outcome = fetch_into_store(store, vendor, "SPY", dt.date(2024, 6, 20), dt.date(2024, 6, 21), CALENDAR, dry_run=True, now=AFTER_JUNE, environ={})
    assert outcome.dry_run
    assert outcome.planned == [dt.date(2024, 6, 20), dt.date(2024, 6, 21)]
    assert vendor.calls == []
    assert store.symbols() == []


def test_a_missing_key_fails_before_the_first_request(tmp_path: Path) -> None:
    vendor = FakeProvider()
    with pytest.raises(ProviderError, match=r"^fakevendor: FAKEVENDOR_KEY is not set$"):
        fetch_into_store(BarStore(tmp_path), vendor, "SPY", dt.date(2024, 6, 20), dt.date(2024, 6, 20), CALENDAR, now=AFTER_JUNE, environ={})
    assert vendor.calls == []


def test_sessions_a_vendor_returns_nothing_for_are_reported_not_written(tmp_path: Path) -> None:
    vendor = FakeProvider(empty={dt.date(2024, 6, 21)})
    outcome = fetch_into_store(BarStore(tmp_path), vendor, "SPY", dt.date(2024, 6, 20), dt.date(2024, 6, 21), CALENDAR, now=AFTER_JUNE, environ=KEYS)
    assert outcome.written == [dt.date(2024, 6, 20)]
    assert outcome.no_data == [dt.date(2024, 6, 21)]


class Lines:
    """A console stand-in that keeps what was printed."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def print(self, text: str, **_: Any) -> None:
        self.lines.append(text)


def test_yfinance_fetch_prints_a_warning_naming_the_earliest_date_it_can_serve(tmp_path: Path) -> None:
    """Asked on 2024-07-10 for June 3..21: Yahoo's 1m window starts 2024-06-11."""
    served: list[tuple[str, str]] = []

    class Ticker:
        def history(self, **kwargs: Any) -> pd.DataFrame:
            served.append((kwargs["start"], kwargs["end"]))
            return pd.DataFrame(columns=["Open", "High", "Low", "Close", "Volume"])

    yf = YFinanceProvider(today=dt.date(2024, 7, 10), ticker_factory=lambda s: Ticker())
    console = Lines()
    outcome = fetch_into_store(
        BarStore(tmp_path), yf, "SPY", dt.date(2024, 6, 3), dt.date(2024, 6, 21), CALENDAR,
        console=console, now=pd.Timestamp("2024-07-10T22:00Z"),
    )
    warning = next(line for line in console.lines if "warning" in line)
    assert "yfinance serves 1m bars only from 2024-06-11" in warning
    assert outcome.planned[0] == dt.date(2024, 6, 11)
    assert served[0][0] == "2024-06-11"


def test_option_quotes_are_written_one_session_at_a_time_through_the_store_writer() -> None:
    class Chain:
        name = "fakechain"

        def fetch_option_quotes(self, underlying: str, session_dates: list[dt.date]) -> pd.DataFrame:
            (day,) = session_dates
            ts = pd.Timestamp(local_time_ns(day, dt.time(10, 0)), tz="UTC")
            return pd.DataFrame(
                {
                    "ts": [ts, ts], "underlying": underlying, "expiry": [day, day], "strike": [500.0, 500.0],
                    "right": ["C", "P"], "bid": [1.00, 2.10], "ask": [1.05, float("nan")],  # no put ask
                }
            )

    writes: list[tuple[Any, pd.DataFrame]] = []
    total = fetch_option_quotes_into_store(
        "chain-root", Chain(), "SPY", [dt.date(2024, 6, 21), dt.date(2024, 6, 20)],
        writer=lambda root, df: writes.append((root, df)),
    )
    assert total == 2  # one two-sided quote per session; the put without an ask is dropped
    assert [df["expiry"].iloc[0] for _, df in writes] == [dt.date(2024, 6, 20), dt.date(2024, 6, 21)]
    assert list(writes[0][1].columns[:7]) == ["ts", "underlying", "expiry", "strike", "right", "bid", "ask"]


def test_an_unknown_source_name_lists_the_providers() -> None:
    with pytest.raises(ProviderError, match="providers: alpaca, databento, polygon, yfinance"):
        get_provider("bloomberg")


def test_a_symbol_fetched_in_three_requests_is_published_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """06-14, 06-18 (06-17 held) and 07-01: three requests (two runs in June, one in July),
    one ``atomic_write_all`` for the symbol's files and its metadata entry together."""
    import vwapcli.data.store as store_module

    store = BarStore(tmp_path)
    store.write_bars("SPY", day_bars(dt.date(2024, 6, 17), first=dt.time(9, 30)), provenance="synthetic (seed 7)")
    publications: list[list[str]] = []
    real = store_module.atomic_write_all

    def counting(files, journal=None):  # type: ignore[no-untyped-def]
        publications.append(sorted(Path(path).name for path, _ in files))
        return real(files, journal=journal)

    monkeypatch.setattr(store_module, "atomic_write_all", counting)
    vendor = FakeProvider()
    plan_end = dt.date(2024, 7, 1)
    for day in (dt.date(2024, 6, d) for d in (20, 21, 24, 25, 26, 27, 28)):  # held too: only 14, 18, 07-01 missing
        store.write_bars("SPY", day_bars(day, first=dt.time(9, 30)), provenance="synthetic (seed 7)")
    publications.clear()
    fetch_into_store(store, vendor, "SPY", dt.date(2024, 6, 14), plan_end, CALENDAR, now=AFTER_JUNE, environ=KEYS)
    assert vendor.calls == [[dt.date(2024, 6, 14)], [dt.date(2024, 6, 18)], [dt.date(2024, 7, 1)]]
    assert publications == [["meta.json", "part-0.parquet"]]
