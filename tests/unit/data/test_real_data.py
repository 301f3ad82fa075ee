"""Real SPY/QQQ bars (read-only, /work/shared/data/real): they load, validate and sessionise right.

Skipped cleanly when the folder is absent. Early-close arithmetic: 13:00 New York is 17:00Z
in summer (2025-07-03, EDT) and 18:00Z in winter (2025-11-28, 2025-12-24, EST); a 09:30-13:00
session holds at most 210 one-minute bars (3.5 h x 60) or 42 five-minute bars.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.paths import REAL_DATA
from vwapcli.core.types import SessionedBars
from vwapcli.data.csv_import import import_bars
from vwapcli.data.loading import load_market_data
from vwapcli.data.sessions import SessionCalendar, assign_sessions
from vwapcli.data.store import BarStore
from vwapcli.data.validation import read_parquet_file, validate_bars

INTRADAY = sorted(REAL_DATA.glob("*_1m_*.parquet")) + sorted(REAL_DATA.glob("*_5m_*.parquet")) if REAL_DATA.is_dir() else []

pytestmark = pytest.mark.skipif(not INTRADAY, reason=f"real market data not present at {REAL_DATA}")

EARLY_CLOSES_UTC = {"2025-07-03": "2025-07-03 17:00", "2025-11-28": "2025-11-28 18:00", "2025-12-24": "2025-12-24 18:00"}
# Files that carry pre/post-market bars (README): the session filter must remove some bars.
WITH_EXTENDED_HOURS = ("SPY_1m_2024-02-20", "SPY_1m_2025-07", "SPY_1m_2011-01", "SPY_1m_2011-03", "_5m_")


@pytest.fixture(scope="module")
def calendar() -> SessionCalendar:
    return SessionCalendar()


def timeframe_of(path: Path) -> str:
    return "5m" if "_5m_" in path.name else "1m"


def sessionise(path: Path, calendar: SessionCalendar) -> tuple[pd.DataFrame, SessionedBars]:
    bars, dropped = validate_bars(read_parquet_file(path), str(path))
    assert dropped == 0
    return bars, assign_sessions(bars, path.name.split("_")[0], timeframe_of(path), calendar)


def bars_per_session(sessioned: SessionedBars) -> dict[str, int]:
    return dict(zip(sessioned.session_date.astype(str), np.diff(sessioned.session_start).tolist(), strict=True))


@pytest.mark.parametrize("path", INTRADAY, ids=[p.name for p in INTRADAY])
def test_each_real_file_validates_and_keeps_only_regular_session_bars(path: Path, calendar: SessionCalendar) -> None:
    bars, sessioned = sessionise(path, calendar)
    assert sessioned.n_sessions > 0
    per_session_cap = 78 if timeframe_of(path) == "5m" else 390
    assert max(bars_per_session(sessioned).values()) <= per_session_cap
    # Every kept bar starts inside its own session's [open, close).
    which = np.repeat(np.arange(sessioned.n_sessions), np.diff(sessioned.session_start))
    assert (sessioned.ts >= sessioned.session_open_ns[which]).all()
    assert (sessioned.ts < sessioned.session_close_ns[which]).all()
    if any(tag in path.name for tag in WITH_EXTENDED_HOURS):
        assert len(sessioned.ts) < len(bars)


def test_the_2024_spring_file_has_exactly_390_bars_in_every_session(calendar: SessionCalendar) -> None:
    """README: full 390 RTH bars a day, 63 sessions, 04:00-20:00 ET in the raw file."""
    path = REAL_DATA / "SPY_1m_2024-02-20_2024-05-17.parquet"
    if not path.exists():
        pytest.skip(f"{path} absent")
    _, sessioned = sessionise(path, calendar)
    counts = bars_per_session(sessioned)
    assert len(counts) == 63 and set(counts.values()) == {390}
    # 2024-03-11 is the first session after the DST switch: its first bar is 13:30Z.
    first_of_0311 = sessioned.ts[sessioned.session_start[list(counts).index("2024-03-11")]]
    assert pd.Timestamp(first_of_0311, tz="UTC") == pd.Timestamp("2024-03-11 13:30", tz="UTC")


@pytest.mark.parametrize(
    ("file_name", "day"),
    [
        ("SPY_1m_2025-07.parquet", "2025-07-03"),
        ("SPY_1m_2025-09-15_2026-03-19.parquet", "2025-11-28"),
        ("SPY_1m_2025-09-15_2026-03-19.parquet", "2025-12-24"),
        ("QQQ_1m_2025-09-15_2026-03-19.parquet", "2025-11-28"),
        ("QQQ_1m_2025-09-15_2026-03-19.parquet", "2025-12-24"),
        ("SPY_5m_2025-05-12_2026-03-12.parquet", "2025-07-03"),
        ("QQQ_5m_2025-05-12_2026-03-12.parquet", "2025-12-24"),
    ],
)
def test_real_early_closes_are_thirteen_hundred_new_york_sessions(
    file_name: str, day: str, calendar: SessionCalendar
) -> None:
    path = REAL_DATA / file_name
    if not path.exists():
        pytest.skip(f"{path} absent")
    _, sessioned = sessionise(path, calendar)
    index = list(sessioned.session_date.astype(str)).index(day)
    close_utc = pd.Timestamp(EARLY_CLOSES_UTC[day], tz="UTC")
    assert sessioned.session_close_ns[index] == close_utc.value
    session = sessioned.session(index)
    cap = 42 if timeframe_of(path) == "5m" else 210
    assert 0 < len(session) <= cap
    assert pd.Timestamp(session.close_time[-1], tz="UTC") <= close_utc
    if timeframe_of(path) == "1m" and day != "2025-12-24":
        assert len(session) == 210


def test_a_real_file_imported_into_a_store_loads_as_the_same_sessions(tmp_path: Path, calendar: SessionCalendar) -> None:
    path = REAL_DATA / "SPY_1m_2025-07.parquet"
    if not path.exists():
        pytest.skip(f"{path} absent")
    store = BarStore(tmp_path)
    summaries = import_bars(path, store)
    assert summaries[0].symbol == "SPY"
    assert summaries[0].timezone_note == "timezone-aware timestamps kept"
    loaded = load_market_data(store, ["SPY"], None, None, "1m", calendar)["SPY"]
    _, direct = sessionise(path, calendar)
    assert loaded.n_sessions == direct.n_sessions == 21
    np.testing.assert_array_equal(loaded.ts, direct.ts)
    np.testing.assert_array_equal(loaded.close, direct.close)
