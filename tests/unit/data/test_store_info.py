"""``vwapcli store info``: present / partial / missing sessions against the NYSE calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from builders.paths import REAL_DATA
from vwapcli.core.types import local_time_ns
from vwapcli.data.sessions import SessionCalendar
from vwapcli.data.store import BarStore
from vwapcli.data.store_info import run_store_info, session_bar_counts, store_coverage
from vwapcli.env import Env
from vwapcli.errors import StoreError

CALENDAR = SessionCalendar("XNYS")


def minute_bars(day: dt.date, first: dt.time, count: int, price: float = 620.0) -> pd.DataFrame:
    start = local_time_ns(day, first)
    ts = pd.to_datetime(start + np.arange(count, dtype=np.int64) * 60_000_000_000, utc=True)
    return pd.DataFrame(
        {"ts": ts, "open": price, "high": price + 0.2, "low": price - 0.2, "close": np.full(count, price), "volume": 1000.0}
    )


@pytest.fixture
def july_store(tmp_path: Path) -> BarStore:
    """SPY 1m, 2025-07-01 .. 07-07 (07-04 holiday, 07-05/06 weekend):

    07-01: 390 bars (full); 07-02: none (missing); 07-03: 150 of the 210 bars of the
    13:00 early close (partial); 07-07: 30 pre-market bars + 390 (full, 30 outside).
    """
    store = BarStore(tmp_path / "store")
    frames = [
        minute_bars(dt.date(2025, 7, 1), dt.time(9, 30), 390),
        minute_bars(dt.date(2025, 7, 3), dt.time(9, 30), 150),
        minute_bars(dt.date(2025, 7, 7), dt.time(9, 0), 420),
    ]
    store.write_bars("SPY", pd.concat(frames, ignore_index=True), provenance="synthetic (seed 7)")
    return store


def test_coverage_counts_present_partial_and_missing_sessions(july_store: BarStore) -> None:
    (coverage,) = store_coverage(july_store, CALENDAR)
    assert (coverage.symbol, coverage.timeframe) == ("SPY", "1m")
    assert (coverage.first, coverage.last) == (dt.date(2025, 7, 1), dt.date(2025, 7, 7))
    assert coverage.sessions == 4
    assert coverage.present == [dt.date(2025, 7, 1), dt.date(2025, 7, 3), dt.date(2025, 7, 7)]
    assert coverage.missing == [dt.date(2025, 7, 2)]
    assert coverage.partial == [(dt.date(2025, 7, 3), 150, 210)]
    assert coverage.outside_sessions == 30
    assert coverage.provenance == "synthetic (seed 7)"


def test_store_info_prints_the_table_the_gaps_and_the_provenance(july_store: BarStore) -> None:
    console = Console(record=True, width=160)
    run_store_info(july_store.root, Env(console=console), calendar=CALENDAR)
    text = console.export_text()
    assert "SPY" in text and "2025-07-01" in text and "synthetic (seed 7)" in text
    assert "SPY 1m missing: 2025-07-02" in text
    assert "SPY 1m partial: 2025-07-03 (150/210)" in text
    assert "30 bars outside regular sessions" in text


def test_bar_counts_use_bar_start_in_open_close_half_open_interval() -> None:
    """A bar starting exactly at the 16:00 close belongs to no session; 15:59 does."""
    sessions = CALENDAR.sessions("2024-06-20", "2024-06-20")
    day = dt.date(2024, 6, 20)
    bars = pd.concat([minute_bars(day, dt.time(15, 59), 1), minute_bars(day, dt.time(16, 0), 1)])
    assert session_bar_counts(bars, sessions) == {day: 1}


def test_an_empty_store_says_so_and_a_missing_folder_is_a_store_error(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    (tmp_path / "empty").mkdir()
    run_store_info(tmp_path / "empty", Env(console=console), calendar=CALENDAR)
    assert "no intraday bars stored" in console.export_text()
    with pytest.raises(StoreError, match="no such store folder"):
        run_store_info(tmp_path / "nowhere", Env(console=console))


def test_real_july_2025_spy_minutes_cover_every_session_in_their_range(tmp_path: Path) -> None:
    """Real SPY 1m bars, July 2025 with extended hours (see shared/data/real/README.md).

    The file runs 07-01 .. 07-30: 22 weekdays minus the 07-04 holiday = 21 sessions, all
    present; 07-03 closed at 13:00, so its 210 bars are a full session, not a partial one.
    Extended-hours bars are counted as outside the sessions.
    """
    source = REAL_DATA / "SPY_1m_2025-07.parquet"
    if not source.is_file():
        pytest.skip("real market data not available")
    store = BarStore(tmp_path / "store")
    store.write_bars("SPY", pd.read_parquet(source), provenance="vendor csv")
    (coverage,) = store_coverage(store, CALENDAR)
    assert coverage.sessions == 21
    assert len(coverage.present) == 21
    assert coverage.missing == []
    assert dt.date(2025, 7, 3) not in [day for day, _, _ in coverage.partial]
    assert coverage.outside_sessions > 0
