"""The scheduled-event calendar (SPEC 7.1): dated data with a source, refused when malformed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from vwapcli.core.types import local_time_ns
from vwapcli.errors import ConfigError
from vwapcli.options.events import EventCalendar

FED = "https://www.federalreserve.gov/monetarypolicy/fomccalendars.htm"


def calendar_of(events: list[dict[str, Any]], types: dict[str, Any] | None = None) -> EventCalendar:
    raw = {"types": types or {"fomc": {"time": "14:00"}, "payrolls": {"time": "08:30"}}, "events": events}
    return EventCalendar.from_mapping(raw, "events.yaml")


def test_the_shipped_calendar_loads_with_the_fomc_day_of_the_quote_data() -> None:
    calendar = EventCalendar.load()
    assert set(calendar.types) == {"fomc", "cpi", "payrolls"}
    (fomc,) = calendar.events_on(dt.date(2026, 7, 29))
    assert fomc.kind == "fomc"
    assert fomc.ts_ns == local_time_ns(dt.date(2026, 7, 29), dt.time(14, 0))  # 18:00 UTC in summer
    assert [e.kind for e in calendar.events_on(dt.date(2026, 8, 7))] == ["payrolls"]
    assert all(e.source.startswith("https://") for e in calendar.events)


def test_every_shipped_event_falls_on_an_exchange_session_except_a_good_friday_release() -> None:
    """BLS publishes on Good Friday (2026-04-03) while the exchange is closed; nothing else is off-session."""
    from vwapcli.data.sessions import SessionCalendar

    sessions = SessionCalendar()
    calendar = EventCalendar.load()
    assert [e.day for e in calendar.events if not sessions.is_session(e.day)] == [dt.date(2026, 4, 3)]


def test_an_event_takes_its_types_time_unless_it_gives_its_own() -> None:
    calendar = calendar_of(
        [
            {"date": "2026-07-29", "type": "fomc", "source": FED},
            {"date": "2026-07-30", "type": "fomc", "source": FED, "time": "13:00"},
        ]
    )
    assert calendar.events_on(dt.date(2026, 7, 29))[0].time == dt.time(14, 0)
    assert calendar.events_on(dt.date(2026, 7, 30))[0].time == dt.time(13, 0)
    assert calendar.events_on(dt.date(2026, 7, 31)) == ()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"date": "2026-02-30", "type": "fomc", "source": FED}, r"events\[0\]: date must be a real date"),
        ({"date": "2026-07-29", "type": "ecb", "source": FED}, r"events\[0\] \(2026-07-29\): unknown type 'ecb'"),
        ({"date": "2026-07-29", "type": "fomc"}, r"events\[0\]: missing 'source'"),
        ({"date": "2026-07-29", "type": "fomc", "source": "the Fed"}, r"source must be the URL"),
        ({"date": "2026-07-29", "type": "fomc", "source": FED, "time": "2pm"}, r"time must be HH:MM"),
        ({"date": "2026-07-29", "type": "fomc", "source": FED, "jump": 2}, r"unknown key 'jump'"),
        ("2026-07-29 fomc", r"events\[0\]: each event is a mapping"),
    ],
)
def test_a_malformed_event_is_refused_with_one_line_naming_file_and_entry(entry: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        calendar_of([entry])
    assert str(raised.value).startswith("events.yaml: ")
    assert "\n" not in str(raised.value)


def test_a_duplicate_event_is_refused() -> None:
    entry = {"date": "2026-07-29", "type": "fomc", "source": FED}
    with pytest.raises(ConfigError, match=r"events\[1\] \(2026-07-29\): duplicate fomc event"):
        calendar_of([entry, dict(entry)])


def test_a_type_without_a_time_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"types.fomc: needs 'time'"):
        calendar_of([], types={"fomc": {}})


def test_broken_yaml_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text("types: [unclosed\n")
    with pytest.raises(ConfigError, match=r"events\.yaml"):
        EventCalendar.load(path)
