"""Expiry choice from dated listing eras (SPEC 7) on the real NYSE calendar."""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from pathlib import Path

import pytest

from vwapcli.errors import ConfigError
from vwapcli.options.expirations import ExpiryChoice, ExpirySchedule, SessionDates

D = dt.date


@lru_cache(maxsize=1)
def _sessions() -> list[dt.date]:
    """NYSE sessions 2015-2024 from exchange_calendars (the maintained calendar)."""
    import exchange_calendars as xcals

    calendar = xcals.get_calendar("XNYS", start="2015-01-01", end="2024-12-31")
    return [ts.date() for ts in calendar.sessions_in_range("2015-01-02", "2024-12-31")]


@lru_cache(maxsize=1)
def _schedule() -> ExpirySchedule:
    return ExpirySchedule.load()  # the shipped configs/expirations.yaml


def _expiry(symbol: str, day: dt.date, dte: int = 0) -> ExpiryChoice:
    return _schedule().expiry_for(symbol, day, dte, _sessions())


def test_spy_2021_tuesday_uses_wednesday_and_says_so() -> None:
    """2021 SPY lists Mon/Wed/Fri: Tue 2021-03-02 has no 0DTE -> Wed 2021-03-03."""
    assert _expiry("SPY", D(2021, 3, 2)) == ExpiryChoice(
        D(2021, 3, 3), "no 0DTE listed on 2021-03-02 (Tue); used 2021-03-03"
    )


def test_spy_2023_tuesday_expires_the_same_day() -> None:
    """Every weekday is listed since Nov 2022."""
    assert _expiry("SPY", D(2023, 3, 7)) == ExpiryChoice(D(2023, 3, 7), None)


def test_spy_thursday_before_and_after_the_november_2022_era() -> None:
    """Thu 2022-11-10 (era Mon/Wed/Fri) -> Fri 11-11 with a note; Thu 2022-11-17 same day."""
    assert _expiry("SPY", D(2022, 11, 10)).expiry == D(2022, 11, 11)
    assert _expiry("SPY", D(2022, 11, 10)).note is not None
    assert _expiry("SPY", D(2022, 11, 17)) == ExpiryChoice(D(2022, 11, 17), None)
    assert _expiry("QQQ", D(2022, 11, 15)) == ExpiryChoice(D(2022, 11, 15), None)


def test_good_friday_expiry_moves_to_thursday() -> None:
    """Good Friday 2021-04-02 is a holiday: the Friday weekly expires Thu 2021-04-01."""
    assert _expiry("SPY", D(2021, 4, 1)) == ExpiryChoice(D(2021, 4, 1), None)


def test_wednesday_holiday_expiry_moves_to_tuesday() -> None:
    """Wed 2018-07-04 is a holiday: that Wednesday weekly expires Tue 2018-07-03."""
    assert _expiry("SPY", D(2018, 7, 3)) == ExpiryChoice(D(2018, 7, 3), None)


def test_monday_holiday_expiry_moves_to_tuesday() -> None:
    """Presidents Day Mon 2021-02-15: Cboe moves Monday weeklies to the next session, Tue 02-16."""
    assert _expiry("SPY", D(2021, 2, 16)) == ExpiryChoice(D(2021, 2, 16), None)


def test_quarter_end_tuesday_is_listed_before_daily_expiries() -> None:
    """Tue 2020-03-31 is the last session of Q1: the quarterly expires that day."""
    assert _expiry("SPY", D(2020, 3, 31)) == ExpiryChoice(D(2020, 3, 31), None)


def test_dte_counts_sessions_and_then_finds_the_next_listing() -> None:
    """dte=1 from Tue 2021-03-02 -> Wed 03-03 (exactly one session to go, no note);
    dte=1 from Wed 03-03 -> Thu not listed -> Fri 03-05 with a note."""
    assert _expiry("SPY", D(2021, 3, 2), dte=1) == ExpiryChoice(D(2021, 3, 3), None)
    choice = _expiry("SPY", D(2021, 3, 3), dte=1)
    assert choice == ExpiryChoice(
        D(2021, 3, 5), "no 1DTE listed on 2021-03-03 (Wed); used 2021-03-05"
    )


def test_every_chosen_expiry_is_a_session_on_or_after_the_trade_date() -> None:
    """Over 2017-2024 for SPY and QQQ, dte 0 and 2: the expiry is a session with >= dte to go."""
    sessions = _sessions()
    index = {day: i for i, day in enumerate(sessions)}
    for symbol in ("SPY", "QQQ"):
        for i, day in enumerate(sessions):
            if day.year < 2017 or i + 40 >= len(sessions):
                continue
            for dte in (0, 2):
                choice = _expiry(symbol, day, dte)
                assert choice.expiry in index
                assert index[choice.expiry] - i >= dte
                assert (choice.note is None) == (index[choice.expiry] - i == dte)


def test_symbol_without_schedule_expires_every_session_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """IWM is not in the file: Tue 2021-03-02 0DTE is that day, warned once for two calls."""
    schedule = ExpirySchedule.load()
    with caplog.at_level(logging.WARNING, logger="vwapcli.options"):
        first = schedule.expiry_for("IWM", D(2021, 3, 2), 0, _sessions())
        second = schedule.expiry_for("IWM", D(2021, 3, 3), 1, _sessions())
    assert first == ExpiryChoice(D(2021, 3, 2), None)
    assert second == ExpiryChoice(D(2021, 3, 4), None)
    assert sum("no listing schedule for IWM" in r.getMessage() for r in caplog.records) == 1


def test_expiry_past_the_known_sessions_assumes_weekdays_and_notes_it() -> None:
    """Sessions end Mon 2021-03-01; Tue 03-02 0DTE for SPY -> first listed weekday Wed 03-03."""
    sessions = [d for d in _sessions() if d <= D(2021, 3, 1)]
    choice = _schedule().expiry_for("SPY", D(2021, 3, 1), 1, sessions)
    assert choice.expiry == D(2021, 3, 3)
    assert choice.note is not None and "past the known sessions" in choice.note


def test_trade_date_before_the_first_era_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "expirations.yaml"
    path.write_text("symbols:\n  XYZ:\n    - from: 2020-01-06\n      weekdays: [Fri]\n")
    with pytest.raises(ConfigError, match=r"XYZ has no listing era covering 2019-12-31"):
        ExpirySchedule.load(path).expiry_for("XYZ", D(2019, 12, 31), 0, _sessions())


def test_unknown_weekday_in_the_file_is_a_config_error_naming_file_and_era(tmp_path: Path) -> None:
    path = tmp_path / "expirations.yaml"
    path.write_text("symbols:\n  XYZ:\n    - from: 2020-01-06\n      weekdays: [Fry]\n")
    with pytest.raises(ConfigError, match=r"expirations.yaml: symbols.XYZ\[0\]: weekdays must be"):
        ExpirySchedule.load(path)


def test_eras_out_of_order_are_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "expirations.yaml"
    path.write_text(
        "symbols:\n  XYZ:\n    - {from: 2021-01-04, weekdays: [Fri]}\n    - {from: 2020-01-06, weekdays: [Mon]}\n"
    )
    with pytest.raises(ConfigError, match="increasing 'from' order"):
        ExpirySchedule.load(path)


def test_missing_schedule_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read expiration schedule"):
        ExpirySchedule.load(tmp_path / "nope.yaml")


def test_prepared_session_dates_are_converted_once_however_many_look_ups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 6 follow-up, issue 16: alternating SPY/QQQ look-ups once re-converted a 2,500-date
    list on every call. A SessionDates value is prepared once (one conversion per symbol
    here) and look-ups convert nothing; nothing depends on which list object is passed."""
    import vwapcli.options.expirations as expirations

    conversions: list[int] = []
    original = expirations._session_array

    def counting(session_dates):  # type: ignore[no-untyped-def]
        conversions.append(len(session_dates))
        return original(session_dates)

    monkeypatch.setattr(expirations, "_session_array", counting)
    schedule = ExpirySchedule.load()
    spy_sessions, qqq_sessions = SessionDates.of(_sessions()), SessionDates.of(_sessions())
    days = [D(2023, 3, 6), D(2023, 3, 7), D(2023, 3, 8)]
    for day in days:
        assert schedule.expiry_for("SPY", day, 0, spy_sessions).expiry == day
        assert schedule.expiry_for("QQQ", day, 0, qqq_sessions).expiry == day
    assert len(conversions) == 2


def test_a_plain_session_list_is_read_afresh_on_every_call() -> None:
    """No cache keyed by the list object: sessions appended after a call are seen by the next call."""
    schedule = ExpirySchedule.load()
    sessions = [d for d in _sessions() if d <= D(2024, 3, 1)]
    # Fri 2024-03-01 is the last known session: dte=1 lands on an assumed weekday, with a note.
    assert "past the known sessions" in (schedule.expiry_for("SPY", D(2024, 3, 1), 1, sessions).note or "")
    sessions.append(D(2024, 3, 4))
    assert schedule.expiry_for("SPY", D(2024, 3, 1), 1, sessions) == ExpiryChoice(D(2024, 3, 4), None)
