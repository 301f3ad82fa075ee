"""Which expiry a trade uses: listing schedules as data, by symbol, in dated eras (SPEC 7).

``configs/expirations.yaml`` says, for each symbol and era, which weekdays carry a
listed expiry and whether the monthly (third Friday) and quarterly (last session of
March/June/September/December) expiries exist. The era in force for a date is the last
one whose ``from`` is on or before it. Expiry dates are always exchange sessions: an
expiry that falls on a holiday rolls to the previous session (Cboe/Nasdaq rule for
Friday and Wednesday expiries), except where ``holiday_roll`` says otherwise (SPY/QQQ
Monday expiries roll to the next session).

``expiry_for`` answers SPEC 7's rule: the first listed expiry on or after the trade date
with at least ``dte`` sessions to go. A symbol with no schedule expires every session,
with one logged warning, so any liquid underlying can be studied.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vwapcli.config import find_config_file, read_yaml_file
from vwapcli.errors import ConfigError

log = logging.getLogger("vwapcli.options")

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri")
Roll = Literal["previous", "following"]
# How far past the target session we look for a listed expiry before calling it an error.
MAX_SEARCH_SESSIONS = 70
# When the caller's sessions end before an expiry is found, weekdays stand in for the
# missing calendar (holidays unknown there, which the note says).
CALENDAR_EXTENSION_DAYS = 120


@dataclass(frozen=True)
class ExpiryChoice:
    """The expiry a trade uses; ``note`` explains any deviation from the asked ``dte``."""

    expiry: dt.date
    note: str | None = None


@dataclass(frozen=True, eq=False)
class SessionDates:
    """Exchange sessions ready for expiry look-ups: sorted unique plain dates, then
    weekdays standing in for the sessions past the last one (holidays unknown there).

    Prepared once per run (``SessionDates.of``) so a look-up is a bisect on plain dates,
    with no numpy conversion per trade; the engine holds one per symbol.
    """

    dates: list[dt.date]
    known: int  # how many of ``dates`` are real sessions (the rest are weekdays)

    @classmethod
    def of(cls, session_dates: Sequence[dt.date] | np.ndarray) -> SessionDates:
        """Sorted, de-duplicated, extended by ``CALENDAR_EXTENSION_DAYS`` of weekdays."""
        given = _session_array(session_dates)
        extended: list[dt.date] = _extend_with_weekdays(given, CALENDAR_EXTENSION_DAYS).tolist()
        return cls(extended, int(given.shape[0]))


SessionsLike = SessionDates | Sequence[dt.date] | np.ndarray


@dataclass(frozen=True)
class ListingEra:
    """One dated era of a symbol's listings, in force from ``start`` until the next era."""

    start: dt.date
    weekdays: frozenset[int]  # 0 = Monday ... 4 = Friday
    monthly: bool  # third-Friday standard expiry
    quarter_end: bool  # last session of Mar/Jun/Sep/Dec


def _third_friday(day: dt.date) -> bool:
    return day.weekday() == 4 and 15 <= day.day <= 21


def _quarter(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3


def _to_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"{where}: 'from' must be a date like 2022-11-14, got {value!r}"
        ) from None


class ExpirySchedule:
    """Listing schedules for every configured symbol (see the module docstring)."""

    def __init__(
        self,
        eras: Mapping[str, Sequence[ListingEra]],
        holiday_roll: Mapping[int, Roll] | None = None,
        source: str = "<schedule>",
    ) -> None:
        self.eras = {symbol: tuple(items) for symbol, items in eras.items()}
        self.holiday_roll: dict[int, Roll] = dict.fromkeys(range(5), "previous")
        self.holiday_roll.update(holiday_roll or {})
        self.source = source
        self._warned: set[str] = set()

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: Path | None = None) -> ExpirySchedule:
        """Read a schedule file; default ``configs/expirations.yaml`` (one source of truth)."""
        if path is None:
            path = find_config_file("expirations.yaml")
            if path is None:
                raise ConfigError(
                    "configs/expirations.yaml not found in ./configs or the project checkout; "
                    "set options.expirations_file"
                )
        path = Path(path)
        return cls.from_mapping(read_yaml_file(path, "expiration schedule") or {}, str(path))

    @classmethod
    def from_mapping(cls, raw: Any, source: str = "<schedule>") -> ExpirySchedule:
        """Validate the YAML structure; every error names the file, symbol and era."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: top level must be a mapping with 'symbols'")
        unknown = sorted(set(raw) - {"holiday_roll", "symbols"})
        if unknown:
            raise ConfigError(f"{source}: unknown key {unknown[0]!r}; known: holiday_roll, symbols")
        roll: dict[int, Roll] = {}
        for name, rule in (raw.get("holiday_roll") or {}).items():
            if name not in WEEKDAYS or rule not in ("previous", "following"):
                raise ConfigError(
                    f"{source}: holiday_roll.{name}: need a weekday Mon..Fri mapped to previous|following"
                )
            roll[WEEKDAYS.index(name)] = rule
        symbols = raw.get("symbols") or {}
        if not isinstance(symbols, dict):
            raise ConfigError(f"{source}: symbols must map SYMBOL -> list of eras")
        eras: dict[str, list[ListingEra]] = {}
        for symbol, items in symbols.items():
            if not isinstance(items, list) or not items:
                raise ConfigError(f"{source}: symbols.{symbol}: needs a non-empty list of eras")
            parsed = [
                cls._parse_era(item, f"{source}: symbols.{symbol}[{i}]")
                for i, item in enumerate(items)
            ]
            for before, after in itertools.pairwise(parsed):
                if after.start <= before.start:
                    raise ConfigError(
                        f"{source}: symbols.{symbol}: eras must be in increasing 'from' order "
                        f"({after.start} after {before.start})"
                    )
            eras[str(symbol).upper()] = parsed
        return cls(eras, roll, source)

    @staticmethod
    def _parse_era(item: Any, where: str) -> ListingEra:
        if not isinstance(item, dict) or "from" not in item:
            raise ConfigError(f"{where}: each era needs 'from' (and weekdays/monthly/quarter_end)")
        unknown = sorted(set(item) - {"from", "weekdays", "monthly", "quarter_end"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}")
        weekdays = item.get("weekdays") or []
        bad = [d for d in weekdays if d not in WEEKDAYS]
        if bad:
            raise ConfigError(
                f"{where}: weekdays must be among {', '.join(WEEKDAYS)}, got {bad[0]!r}"
            )
        return ListingEra(
            start=_to_date(item["from"], where),
            weekdays=frozenset(WEEKDAYS.index(d) for d in weekdays),
            monthly=bool(item.get("monthly", False)),
            quarter_end=bool(item.get("quarter_end", False)),
        )

    # ------------------------------------------------------------------ queries
    def has_schedule(self, symbol: str) -> bool:
        return symbol.upper() in self.eras

    def expiry_for(
        self, symbol: str, trade_date: dt.date, dte: int, session_dates: SessionsLike
    ) -> ExpiryChoice:
        """The first listed expiry on or after ``trade_date`` with at least ``dte`` sessions to go.

        ``session_dates`` are exchange sessions (ideally the calendar's, reaching a few
        weeks past the last trade date); ``trade_date`` must be one of them. Sessions to
        go are counted in that list: ``dte=0`` is the trade date itself, ``dte=1`` the
        next session. Past the list's end weekdays stand in for sessions, and the note
        says so. Pass a prepared ``SessionDates`` for repeated look-ups (a plain list is
        prepared again on every call).
        """
        if dte < 0:
            raise ValueError(f"dte must be >= 0, got {dte}")
        prepared = _prepared(session_dates)
        n_given, sessions = prepared.known, prepared.dates
        if type(trade_date) is not dt.date:
            trade_date = _as_date(np.datetime64(trade_date, "D"))
        start = bisect.bisect_left(sessions, trade_date, 0, n_given)
        if start >= n_given or sessions[start] != trade_date:
            raise ValueError(f"trade date {trade_date} is not among the given session dates")
        known_last = sessions[n_given - 1]
        target = start + dte
        if target + 1 >= len(sessions):
            raise ValueError(f"dte {dte} reaches past the sessions given for {trade_date}")
        eras = self.eras.get(symbol.upper())
        if eras is None:
            # SPEC 7: no schedule -> an expiry every session, with a warning (once per symbol).
            if symbol.upper() not in self._warned:
                self._warned.add(symbol.upper())
                log.warning(
                    "no listing schedule for %s in %s; assuming an expiry every session",
                    symbol,
                    self.source,
                )
            chosen = target
        else:
            if trade_date < eras[0].start:
                raise ConfigError(
                    f"{self.source}: {symbol} has no listing era covering {trade_date} "
                    f"(its first era starts {eras[0].start})"
                )
            chosen = -1
            for j in range(target, min(target + MAX_SEARCH_SESSIONS, len(sessions) - 1)):
                if self._is_listed(eras, sessions, j):
                    chosen = j
                    break
            if chosen < 0:
                raise ConfigError(
                    f"{self.source}: no {symbol} expiry listed within {MAX_SEARCH_SESSIONS} "
                    f"sessions of {trade_date}"
                )
        expiry = sessions[chosen]
        notes: list[str] = []
        if chosen != target:
            notes.append(
                f"no {dte}DTE listed on {trade_date.isoformat()} ({trade_date:%a}); "
                f"used {expiry.isoformat()}"
            )
        if expiry > known_last:
            notes.append(
                f"expiry {expiry.isoformat()} is past the known sessions (weekdays assumed)"
            )
        return ExpiryChoice(expiry, "; ".join(notes) or None)

    def is_listed(self, symbol: str, day: dt.date, session_dates: SessionsLike) -> bool:
        """Whether ``day`` (a session) is a listed expiry of ``symbol`` (True without a schedule)."""
        eras = self.eras.get(symbol.upper())
        if eras is None:
            return True
        sessions = _prepared(session_dates).dates
        day = _as_date(np.datetime64(day, "D"))
        j = bisect.bisect_left(sessions, day)
        if j >= len(sessions) or sessions[j] != day:
            return False
        return self._is_listed(eras, sessions, j)

    def _is_listed(self, eras: Sequence[ListingEra], sessions: Sequence[dt.date], j: int) -> bool:
        """Session ``j`` carries an expiry if a nominal expiry date rolls onto it.

        A nominal date d maps to session s when d == s, or when d is a holiday/weekend and
        s is the session before it ("previous" roll) or after it ("following" roll).
        """
        here = sessions[j]
        after = sessions[j + 1]
        before = sessions[j - 1] if j > 0 else here - dt.timedelta(days=1)
        era_here = _era_for(eras, here)
        if era_here is not None and era_here.quarter_end and _quarter(after) != _quarter(here):
            return True
        # Nominal dates that roll back onto `here`: here .. the day before the next session.
        day = here
        while day < after:
            if self._nominal(eras, day) and (
                day == here or self.holiday_roll[day.weekday()] == "previous"
            ):
                return True
            day += dt.timedelta(days=1)
        # Nominal dates that roll forward onto `here`: the days after the previous session.
        day = before + dt.timedelta(days=1)
        while day < here:
            if self._nominal(eras, day) and self.holiday_roll[day.weekday()] == "following":
                return True
            day += dt.timedelta(days=1)
        return False

    @staticmethod
    def _nominal(eras: Sequence[ListingEra], day: dt.date) -> bool:
        """A calendar date the era lists as an expiry, before any holiday roll."""
        if day.weekday() > 4:
            return False
        era = _era_for(eras, day)
        if era is None:
            return False
        return day.weekday() in era.weekdays or (era.monthly and _third_friday(day))


def _prepared(session_dates: SessionsLike) -> SessionDates:
    return session_dates if isinstance(session_dates, SessionDates) else SessionDates.of(session_dates)


def _era_for(eras: Sequence[ListingEra], day: dt.date) -> ListingEra | None:
    found = None
    for era in eras:
        if era.start <= day:
            found = era
        else:
            break
    return found


def _session_array(session_dates: Sequence[dt.date] | np.ndarray) -> np.ndarray:
    sessions = np.asarray(session_dates, dtype="datetime64[D]")
    if sessions.ndim != 1 or sessions.shape[0] == 0:
        raise ValueError("session_dates must be a non-empty sequence of dates")
    if sessions.shape[0] > 1 and np.any(sessions[1:] <= sessions[:-1]):
        sessions = np.unique(sessions)
    return sessions


def _extend_with_weekdays(sessions: np.ndarray, days: int) -> np.ndarray:
    last = sessions[-1]
    extra = last + np.arange(1, days + 1, dtype="timedelta64[D]")
    weekday = (extra.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    return np.concatenate([sessions, extra[weekday < 5]])


def _as_date(value: np.datetime64) -> dt.date:
    return value.astype("datetime64[D]").item()
