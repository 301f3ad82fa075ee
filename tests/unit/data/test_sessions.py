"""SPEC 3.2 sessions: golden days from the NYSE calendar, the [open, close) filter, 5m resampling.

Expected UTC times are written by hand: New York is UTC-5 in winter (EST) and UTC-4 in
summer (EDT), so a 09:30 open is 14:30 UTC in winter and 13:30 UTC in summer, a 16:00
close is 21:00 / 20:00 UTC, and a 13:00 early close is 18:00 / 17:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vwapcli.cache_dir import CACHE_DIR_ENV
from vwapcli.core.types import NS_PER_MINUTE
from vwapcli.data.sessions import SessionCalendar, assign_sessions, resample_to_5m
from vwapcli.errors import NoSessionsError


@pytest.fixture(scope="module")
def calendar() -> SessionCalendar:
    return SessionCalendar("XNYS")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def session_row(calendar: SessionCalendar, day: str) -> pd.Series:
    frame = calendar.sessions(day, day)
    assert len(frame) == 1, f"{day} should be a session"
    return frame.iloc[0]


@pytest.mark.parametrize(
    ("day", "open_utc", "close_utc"),
    [
        # 2019-07-03: Independence Day eve, EDT: 09:30 -> 13:30Z, early close 13:00 -> 17:00Z.
        ("2019-07-03", "2019-07-03 13:30", "2019-07-03 17:00"),
        # 2024-11-29: day after Thanksgiving, EST: 09:30 -> 14:30Z, 13:00 -> 18:00Z.
        ("2024-11-29", "2024-11-29 14:30", "2024-11-29 18:00"),
        # 2024-12-24: Christmas Eve, EST, 13:00 close -> 18:00Z.
        ("2024-12-24", "2024-12-24 14:30", "2024-12-24 18:00"),
        # 2024-03-11: first session after DST began (Sun 2024-03-10): EDT, 13:30Z-20:00Z.
        ("2024-03-11", "2024-03-11 13:30", "2024-03-11 20:00"),
        # 2024-11-04: first session after DST ended (Sun 2024-11-03): EST, 14:30Z-21:00Z.
        ("2024-11-04", "2024-11-04 14:30", "2024-11-04 21:00"),
        # Control: the Friday before the spring switch is still EST.
        ("2024-03-08", "2024-03-08 14:30", "2024-03-08 21:00"),
    ],
)
def test_golden_session_opens_and_closes_are_the_hand_computed_utc_times(
    calendar: SessionCalendar, day: str, open_utc: str, close_utc: str
) -> None:
    row = session_row(calendar, day)
    assert row.session_date == dt.date.fromisoformat(day)
    assert row.open_utc == utc(open_utc)
    assert row.close_utc == utc(close_utc)


def test_independence_day_2024_is_not_a_session(calendar: SessionCalendar) -> None:
    """2024-07-04 (Thursday) is a holiday: the sessions around it are 07-03 and 07-05."""
    frame = calendar.sessions("2024-07-03", "2024-07-05")
    assert list(frame.session_date) == [dt.date(2024, 7, 3), dt.date(2024, 7, 5)]
    assert not calendar.is_session("2024-07-04")
    assert calendar.is_session("2024-07-05")


def test_weekends_are_not_sessions(calendar: SessionCalendar) -> None:
    """2024-03-09/10 are Saturday/Sunday: Friday 03-08 is followed by Monday 03-11."""
    frame = calendar.sessions("2024-03-08", "2024-03-11")
    assert list(frame.session_date) == [dt.date(2024, 3, 8), dt.date(2024, 3, 11)]


def bars_at(*utc_starts: str, price: float = 100.0) -> pd.DataFrame:
    ts = pd.DatetimeIndex([utc(t) for t in utc_starts]).as_unit("ns")
    n = len(ts)
    return pd.DataFrame(
        {
            "ts": ts,
            "open": np.full(n, price),
            "high": np.full(n, price + 1),
            "low": np.full(n, price - 1),
            "close": np.full(n, price),
            "volume": np.full(n, 100.0),
        }
    )


def test_bars_are_kept_only_when_their_start_is_in_open_close_half_open_interval(
    calendar: SessionCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    """2024-03-11 runs 13:30Z-20:00Z. 13:29 (pre-market) and 20:00 (the close itself) are dropped;
    13:30 (first bar) and 19:59 (last bar, closes at 20:00) are kept."""
    df = bars_at("2024-03-11 13:29", "2024-03-11 13:30", "2024-03-11 19:59", "2024-03-11 20:00")
    with caplog.at_level(logging.DEBUG, logger="vwapcli.data.sessions"):
        sessioned = assign_sessions(df, "SPY", "1m", calendar)
    kept = pd.to_datetime(sessioned.ts, utc=True)
    assert list(kept) == [utc("2024-03-11 13:30"), utc("2024-03-11 19:59")]
    assert list(sessioned.session_date) == [np.datetime64("2024-03-11")]
    assert list(sessioned.session_start) == [0, 2]
    assert sessioned.session_open_ns[0] == utc("2024-03-11 13:30").value
    assert sessioned.session_close_ns[0] == utc("2024-03-11 20:00").value
    assert "2 extended-hours bars" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_bars_on_a_holiday_are_dropped_with_a_warning(
    calendar: SessionCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    """10:00 ET on 2024-07-04 (14:00Z) is inside normal hours but the exchange is closed."""
    df = bars_at("2024-07-03 14:00", "2024-07-04 14:00", "2024-07-05 14:00")
    with caplog.at_level(logging.WARNING, logger="vwapcli.data.sessions"):
        sessioned = assign_sessions(df, "SPY", "1m", calendar)
    assert sessioned.n_sessions == 2
    assert list(sessioned.session_date) == [np.datetime64("2024-07-03"), np.datetime64("2024-07-05")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["SPY: dropped 1 bars on 1 non-session days (2024-07-04)"]


def test_early_close_session_keeps_bars_up_to_twelve_fifty_nine_new_york(calendar: SessionCalendar) -> None:
    """2024-12-24 closes 13:00 ET = 18:00Z: the 17:59Z bar is the last one kept."""
    df = bars_at("2024-12-24 17:59", "2024-12-24 18:00", "2024-12-24 20:00")
    sessioned = assign_sessions(df, "SPY", "1m", calendar)
    assert list(pd.to_datetime(sessioned.ts, utc=True)) == [utc("2024-12-24 17:59")]
    assert sessioned.session_close_ns[0] == utc("2024-12-24 18:00").value


def test_sessions_without_bars_do_not_appear_in_the_grouping(calendar: SessionCalendar) -> None:
    """Bars on 03-08 and 03-12 only: 03-11 (a session with no bars) is not invented."""
    df = bars_at("2024-03-08 15:00", "2024-03-12 15:00")
    sessioned = assign_sessions(df, "SPY", "1m", calendar)
    assert list(sessioned.session_date) == [np.datetime64("2024-03-08"), np.datetime64("2024-03-12")]
    assert list(sessioned.session_start) == [0, 1, 2]


def test_assign_sessions_of_an_empty_frame_has_no_sessions(calendar: SessionCalendar) -> None:
    sessioned = assign_sessions(bars_at(), "SPY", "1m", calendar)
    assert sessioned.n_sessions == 0
    assert list(sessioned.session_start) == [0]


def test_resample_to_5m_is_anchored_at_the_open_and_skips_missing_bars(calendar: SessionCalendar) -> None:
    """2024-01-02 opens 14:30Z. 1m bars 14:30..14:39 without 14:33, and without 14:40..14:44.

    Bucket 14:30 holds 14:30, 14:31, 14:32, 14:34 (4 bars); bucket 14:35 holds 14:35-14:39.
    With open_i = 100 + i, high_i = 101 + i, low_i = 99 + i, close_i = 100.5 + i, volume_i = 10 * (i + 1)
    for minute offset i: bucket 14:30 -> O 100, H max(101,102,103,105) = 105, L 99, C 104.5,
    V 10+20+30+50 = 110; bucket 14:35 -> O 105, H 110, L 104, C 109.5, V 60+70+80+90+100 = 400.
    A bar at 14:45 forms bucket 14:45 alone (O 115, C 115.5, V 160).
    """
    minutes = [0, 1, 2, 4, 5, 6, 7, 8, 9, 15]
    open_ = np.array([100.0 + i for i in minutes])
    df = pd.DataFrame(
        {
            "ts": pd.DatetimeIndex([utc("2024-01-02 14:30") + pd.Timedelta(minutes=i) for i in minutes]).as_unit("ns"),
            "open": open_,
            "high": open_ + 1,
            "low": open_ - 1,
            "close": open_ + 0.5,
            "volume": np.array([10.0 * (i + 1) for i in minutes]),
        }
    )
    five = resample_to_5m(assign_sessions(df, "SPY", "1m", calendar))
    assert five.bar_ns == 5 * NS_PER_MINUTE
    assert list(pd.to_datetime(five.ts, utc=True)) == [
        utc("2024-01-02 14:30"), utc("2024-01-02 14:35"), utc("2024-01-02 14:45"),
    ]
    assert list(five.open) == [100.0, 105.0, 115.0]
    assert list(five.high) == [105.0, 110.0, 116.0]
    assert list(five.low) == [99.0, 104.0, 114.0]
    assert list(five.close) == [104.5, 109.5, 115.5]
    assert list(five.volume) == [110.0, 400.0, 160.0]
    assert list(five.session_start) == [0, 3]


def test_resample_to_5m_keeps_sessions_apart_and_ends_an_early_close_at_twelve_fifty_five(
    calendar: SessionCalendar,
) -> None:
    """Full 2024-12-24 (14:30Z-18:00Z, 210 bars) and 2024-12-26 first two minutes.

    210 one-minute bars make 42 five-minute bars, the last starting 17:55Z (12:55 ET);
    12-26 adds one bucket at its open 14:30Z.
    """
    eve = pd.date_range("2024-12-24 14:30", periods=210, freq="1min", tz="UTC")
    after = pd.date_range("2024-12-26 14:30", periods=2, freq="1min", tz="UTC")
    ts = eve.append(after).as_unit("ns")
    n = len(ts)
    df = pd.DataFrame({"ts": ts, "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": np.ones(n)})
    five = resample_to_5m(assign_sessions(df, "SPY", "1m", calendar))
    assert list(five.session_start) == [0, 42, 43]
    assert pd.Timestamp(five.ts[41], tz="UTC") == utc("2024-12-24 17:55")
    assert pd.Timestamp(five.ts[42], tz="UTC") == utc("2024-12-26 14:30")
    assert five.volume[41] == 5.0
    assert five.volume[42] == 2.0


def test_assign_sessions_refuses_bars_out_of_time_order(calendar: SessionCalendar) -> None:
    """Sessions are found by binary search in the bar starts, which needs them sorted."""
    df = bars_at("2024-03-11 15:00", "2024-03-11 14:00")
    with pytest.raises(ValueError, match="strictly increasing"):
        assign_sessions(df, "SPY", "1m", calendar)


def test_the_array_route_hands_over_its_arrays_only_when_asked(calendar: SessionCalendar) -> None:
    """copy=False with every bar in a session: the loader's arrays become the result's."""
    from vwapcli.data.sessions import assign_session_arrays

    ts = np.array([utc("2024-03-11 14:00").value, utc("2024-03-11 14:01").value], dtype=np.int64)
    prices = np.array([100.0, 101.0])
    handed = assign_session_arrays(ts, prices, prices, prices, prices, prices, "SPY", "1m", calendar, copy=False)
    copied = assign_session_arrays(ts, prices, prices, prices, prices, prices, "SPY", "1m", calendar)
    assert handed.close is prices and handed.ts is ts
    assert copied.close is not prices and np.array_equal(copied.close, prices)


# ----------------------------------------------------------------- the session-table cache
def test_the_cached_session_table_is_the_librarys_own_and_is_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First use builds the table from exchange_calendars and stores it; a fresh process
    (simulated by clearing the in-memory cache) reads the same arrays from disk."""
    import exchange_calendars as xcals

    import vwapcli.data.sessions as sessions

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    sessions._schedule_arrays.cache_clear()
    built = SessionCalendar("XNYS").session_arrays("2015-01-01", "2024-12-31")
    stored = list(tmp_path.glob("sessions-XNYS-*.npz"))
    assert len(stored) == 1
    sessions._schedule_arrays.cache_clear()
    monkeypatch.setattr(sessions, "_exchange_calendar", lambda code: pytest.fail("the library was asked again"))
    again = SessionCalendar("XNYS").session_arrays("2015-01-01", "2024-12-31")
    for a, b in zip(built, again, strict=True):
        np.testing.assert_array_equal(a, b)
    library = xcals.get_calendar("XNYS", start="2015-01-01", end="2024-12-31")
    assert again[0].shape[0] == len(library.sessions) == 2516
    sessions._schedule_arrays.cache_clear()


def test_a_new_days_table_replaces_this_installs_old_one_and_keeps_other_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same library key, earlier day: dropped. Another key (another virtual environment
    sharing the cache folder): kept, or the two would rebuild each other's every run."""
    import vwapcli.data.sessions as sessions

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    sessions._schedule_arrays.cache_clear()
    target = sessions._schedule_cache_file("XNYS")
    assert target is not None
    key = target.name[: -len("YYYY-MM-DD.npz")]
    stale = tmp_path / f"{key}2001-01-01.npz"
    other_install = tmp_path / "sessions-XNYS-0123456789abcdef-2001-01-01.npz"
    stale.write_bytes(b"old")
    other_install.write_bytes(b"other")
    SessionCalendar("XNYS").session_arrays("2024-01-02", "2024-01-05")
    assert sorted(path.name for path in tmp_path.glob("*.npz")) == sorted([target.name, other_install.name])
    sessions._schedule_arrays.cache_clear()


def test_a_broken_or_disabled_cache_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vwapcli.data.sessions as sessions

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    sessions._schedule_arrays.cache_clear()
    target = sessions._schedule_cache_file("XNYS")
    assert target is not None
    target.write_bytes(b"not a table")
    assert SessionCalendar("XNYS").is_session("2024-07-05")
    assert not SessionCalendar("XNYS").is_session("2024-07-04")
    monkeypatch.setenv(CACHE_DIR_ENV, "")
    assert sessions._schedule_cache_file("XNYS") is None
    sessions._schedule_arrays.cache_clear()


# Issue 12 item 5: a range with no session is named for what it is.


@pytest.mark.parametrize(
    ("start", "end", "span"),
    [
        ("2024-06-08", "2024-06-09", "between 2024-06-08 and 2024-06-09"),  # Saturday-Sunday
        ("2024-12-25", "2024-12-25", "between 2024-12-25 and 2024-12-25"),  # Christmas
        ("1800-01-01", "1800-01-09", "between 1800-01-01 and 1800-01-09"),  # before 1990-01-02
        (None, "1989-12-31", "up to 1989-12-31"),
        ("2030-01-02", None, "from 2030-01-02"),  # after the calendar's last session
    ],
)
def test_a_range_without_sessions_is_refused_naming_it(start: str | None, end: str | None, span: str) -> None:
    with pytest.raises(NoSessionsError, match=f"no sessions {span} "):
        SessionCalendar().require_sessions(start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2024-06-07", "2024-06-09"), ("2024-06-08", "2024-06-10"), (None, "1990-01-02"), ("2024-06-10", None)],
)
def test_a_range_holding_one_session_passes(start: str | None, end: str | None) -> None:
    """Friday 2024-06-07, Monday 2024-06-10 and the calendar's first session 1990-01-02 are sessions."""
    SessionCalendar().require_sessions(start, end)
