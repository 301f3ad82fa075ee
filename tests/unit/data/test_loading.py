"""load_market_data: validated reads, RTH filter, ATR warm-up history, clear store errors, sample fallback."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from builders.strategy import random_sessioned_bars
from vwapcli.core.types import NS_PER_MINUTE
from vwapcli.data.loading import MarketData, load_market_data, sessions_between
from vwapcli.data.sample import sample_path
from vwapcli.data.store import BarStore
from vwapcli.errors import DataValidationError, StoreError


def session_bars(day: str, minutes: list[int]) -> pd.DataFrame:
    """Bars at the given minute offsets from 09:30 New York (negative = pre-market)."""
    open_utc = pd.Timestamp(f"{day} 09:30", tz="America/New_York").tz_convert("UTC")
    ts = pd.DatetimeIndex([open_utc + pd.Timedelta(minutes=m) for m in minutes]).as_unit("ns")
    price = 100.0 + np.arange(len(minutes))
    return pd.DataFrame({"ts": ts, "open": price, "high": price + 1, "low": price - 1, "close": price, "volume": 5.0})


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    """SPY: 2023-12-29 and 2024-01-02..04, each with a pre-market bar (-30) and an after-close bar (390)."""
    bar_store = BarStore(tmp_path / "store")
    days = ["2023-12-29", "2024-01-02", "2024-01-03", "2024-01-04"]
    frame = pd.concat([session_bars(d, [-30, 0, 1, 2, 389, 390]) for d in days], ignore_index=True)
    bar_store.write_bars("SPY", frame, provenance="test")
    return bar_store


def quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


def test_loading_keeps_history_before_start_and_stops_at_end(store: BarStore) -> None:
    """start 2024-01-03 still returns 2023-12-29 and 01-02 (ATR warm-up); end 01-03 cuts 01-04."""
    data = load_market_data(store, ["SPY"], "2024-01-03", "2024-01-03", "1m", "XNYS", quiet())
    spy = data["SPY"]
    assert [str(d) for d in spy.session_date] == ["2023-12-29", "2024-01-02", "2024-01-03"]


def test_extended_hours_bars_are_dropped_and_each_session_holds_its_rth_bars(store: BarStore) -> None:
    """Per day: -30 (09:00) and 390 (16:00) fall outside [09:30, 16:00); 0, 1, 2, 389 remain."""
    spy = load_market_data(store, ["SPY"], None, None, "1m", "XNYS", quiet())["SPY"]
    assert list(np.diff(spy.session_start)) == [4, 4, 4, 4]
    first = spy.session(1)
    assert pd.Timestamp(first.ts[0], tz="UTC") == pd.Timestamp("2024-01-02 14:30", tz="UTC")
    assert pd.Timestamp(first.ts[-1], tz="UTC") == pd.Timestamp("2024-01-02 20:59", tz="UTC")
    assert spy.bar_ns == NS_PER_MINUTE


def test_a_symbol_missing_from_an_explicit_store_is_a_one_line_store_error(store: BarStore) -> None:
    with pytest.raises(StoreError) as caught:
        load_market_data(store.root, ["SPY", "QQQ"], None, None, "1m", "XNYS", quiet())
    assert str(caught.value) == f"{store.root}: no 1m bars for QQQ (symbols present: SPY)"


def test_an_empty_explicit_store_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"empty: no 1m bars for SPY \(symbols present: none\)"):
        load_market_data(tmp_path / "empty", ["SPY"], None, None, "1m", "XNYS", quiet())


def test_an_empty_default_store_falls_back_to_the_packaged_sample_with_a_notice(tmp_path: Path) -> None:
    console = quiet()
    data = load_market_data(tmp_path / "data", ["SPY"], None, None, "1m", "XNYS", console, store_is_default=True)
    assert data["SPY"].n_sessions > 50
    notice = console.file.getvalue()  # type: ignore[attr-defined]
    assert "using the packaged sample" in notice and "synthetic" in notice
    assert data.store == sample_path()


def test_a_non_empty_default_store_is_read_as_is(store: BarStore) -> None:
    console = quiet()
    data = load_market_data(store.root, ["SPY"], None, None, "1m", "XNYS", console, store_is_default=True)
    assert console.file.getvalue() == ""  # type: ignore[attr-defined]
    assert data.store == store.root


def test_a_request_after_the_last_stored_session_is_a_store_error(store: BarStore) -> None:
    with pytest.raises(StoreError, match=r"no 1m bars for SPY on or after 2024-02-01 \(last stored session 2024-01-04\)"):
        load_market_data(store, ["SPY"], "2024-02-01", None, "1m", "XNYS", quiet())


def test_a_truncated_parquet_file_is_named_in_the_error(store: BarStore) -> None:
    path = store.root / "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataValidationError, match=r"year=2024/part-0.parquet: unreadable Parquet"):
        load_market_data(store, ["SPY"], None, None, "1m", "XNYS", quiet())


def test_five_minute_request_resamples_one_minute_bars_at_the_open(store: BarStore) -> None:
    """Per day 09:30, 09:31, 09:32 form the 09:30 bucket and 15:59 the 15:55 bucket."""
    spy = load_market_data(store, ["SPY"], None, None, "5m", "XNYS", quiet())["SPY"]
    assert spy.bar_ns == 5 * NS_PER_MINUTE
    assert list(np.diff(spy.session_start)) == [2, 2, 2, 2]
    assert pd.Timestamp(spy.ts[1], tz="UTC") == pd.Timestamp("2023-12-29 20:55", tz="UTC")


def test_no_symbols_means_every_symbol_in_the_store(store: BarStore) -> None:
    assert list(load_market_data(store, [], None, None, "1m", "XNYS", quiet())) == ["SPY"]


def test_a_runs_sessions_are_every_symbols_sessions_in_range() -> None:
    """SPY trades Mon-Wed 2024-03-04..06, QQQ Tue-Thu 03-05..07: the run's sessions from
    03-05 on are 03-05, 03-06, 03-07 (each day once)."""
    data = MarketData(
        {
            "SPY": random_sessioned_bars("SPY", dt.date(2024, 3, 4), 3, seed=1),
            "QQQ": random_sessioned_bars("QQQ", dt.date(2024, 3, 5), 3, seed=2),
        },
        Path("store"),
    )
    assert sorted(data) == ["QQQ", "SPY"] and len(data) == 2
    assert sessions_between(data, dt.date(2024, 3, 5), None) == [
        dt.date(2024, 3, 5), dt.date(2024, 3, 6), dt.date(2024, 3, 7),
    ]
