"""Scheduled market events as dated data (SPEC 7.1): FOMC decisions, CPI, payrolls.

``configs/events.yaml`` declares event *types* (the New York time the news lands) and
dated *events*, each with the public source its date was taken from. The option model
turns a type's calibrated ``jump`` and ``after_multiplier`` (calibration file) into clock
events (``variance_clock.ClockEvent``): an FOMC statement lands at 14:00 ET inside the
session, so 0DTE options carry its jump until then; CPI and payrolls land at 08:30 ET,
before the open, so their news is already in the opening gap of a 0DTE day.

A malformed file is refused with one line naming the file, the entry and the rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vwapcli.config import find_config_file, read_yaml_file
from vwapcli.core.types import local_time_ns
from vwapcli.errors import ConfigError

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class ScheduledEvent:
    """One dated event: its type, New York wall-clock time and where the date came from."""

    day: dt.date
    kind: str
    time: dt.time
    source: str

    @property
    def ts_ns(self) -> int:
        """The event instant, int64 ns UTC."""
        return local_time_ns(self.day, self.time)


def _parse_clock(value: Any, where: str) -> dt.time:
    text = str(value).strip()
    match = _CLOCK.match(text)
    if match is None:
        raise ConfigError(f"{where}: time must be HH:MM (New York), got {value!r}")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _parse_day(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ConfigError(f"{where}: date must be a plain date like 2026-07-29, got {value!r}")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where}: date must be a real date like 2026-07-29, got {value!r}") from None


class EventCalendar:
    """Every scheduled event of the file, looked up by New York date."""

    def __init__(self, events: list[ScheduledEvent], types: Mapping[str, dt.time], source: str) -> None:
        self.types = dict(types)
        self.source = source
        self.events = sorted(events, key=lambda e: (e.day, e.time, e.kind))
        by_day: defaultdict[dt.date, list[ScheduledEvent]] = defaultdict(list)
        for event in self.events:
            by_day[event.day].append(event)
        self._by_day = {day: tuple(items) for day, items in by_day.items()}

    def __len__(self) -> int:
        return len(self.events)

    def events_on(self, day: dt.date) -> tuple[ScheduledEvent, ...]:
        """The day's events in time order (empty when none)."""
        return self._by_day.get(day, ())

    def span(self) -> tuple[dt.date, dt.date] | None:
        """First and last event dates (None for an empty calendar)."""
        return (self.events[0].day, self.events[-1].day) if self.events else None

    @classmethod
    def empty(cls) -> EventCalendar:
        return cls([], {}, "<no events>")

    @classmethod
    def load(cls, path: Path | str | None = None) -> EventCalendar:
        """Read an event file; default ``configs/events.yaml`` (one source of truth)."""
        if path is None:
            path = find_config_file("events.yaml")
            if path is None:
                raise ConfigError("configs/events.yaml not found in ./configs or the project checkout")
        path = Path(path)
        return cls.from_mapping(read_yaml_file(path, "event calendar"), str(path))

    @classmethod
    def from_mapping(cls, raw: Any, source: str = "<events>") -> EventCalendar:
        """Validate the YAML structure; every error names the file and the entry."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: top level must be a mapping with 'types' and 'events'")
        unknown = sorted(set(raw) - {"types", "events"})
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r}; known: types, events")
        raw_types = raw.get("types")
        if not isinstance(raw_types, dict) or not raw_types:
            raise ConfigError(f"{source}: types must map each event type to its time, e.g. fomc: {{time: '14:00'}}")
        types: dict[str, dt.time] = {}
        for name, spec in raw_types.items():
            where = f"{source}: types.{name}"
            if not isinstance(name, str) or _TYPE_NAME.match(name) is None:
                raise ConfigError(f"{where}: a type name is lower-case letters, digits and _")
            if not isinstance(spec, dict) or "time" not in spec:
                raise ConfigError(f"{where}: needs 'time' (HH:MM New York)")
            extra = sorted(set(spec) - {"time", "what"})
            if extra:
                raise ConfigError(f"{where}: unknown key {extra[0]!r}; known: time, what")
            types[name] = _parse_clock(spec["time"], where)
        raw_events = raw.get("events")
        if not isinstance(raw_events, list):
            raise ConfigError(f"{source}: events must be a list of {{date, type, source}} entries")
        events: list[ScheduledEvent] = []
        seen: set[tuple[dt.date, str]] = set()
        for i, item in enumerate(raw_events):
            where = f"{source}: events[{i}]"
            if not isinstance(item, dict):
                raise ConfigError(f"{where}: each event is a mapping with date, type and source")
            extra = sorted(set(item) - {"date", "type", "source", "time", "note"})
            if extra:
                raise ConfigError(f"{where}: unknown key {extra[0]!r}; known: date, type, source, time, note")
            for key in ("date", "type", "source"):
                if key not in item:
                    raise ConfigError(f"{where}: missing {key!r}")
            day = _parse_day(item["date"], where)
            where = f"{where} ({day})"
            kind = item["type"]
            if kind not in types:
                raise ConfigError(f"{where}: unknown type {kind!r}; known: {', '.join(sorted(types))}")
            source_text = item["source"]
            if not isinstance(source_text, str) or not source_text.startswith(("https://", "http://")):
                raise ConfigError(f"{where}: source must be the URL the date was taken from")
            time = _parse_clock(item["time"], where) if "time" in item else types[kind]
            if (day, kind) in seen:
                raise ConfigError(f"{where}: duplicate {kind} event")
            seen.add((day, kind))
            events.append(ScheduledEvent(day, kind, time, source_text))
        return cls(events, types, source)
