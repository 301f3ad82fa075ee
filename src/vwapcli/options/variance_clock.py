"""The variance clock (SPEC 7.1): time to expiry counted in expected variance, not minutes.

An option's value depends on how much the underlying is expected to move before it stops
trading, and that is far from uniform in clock time: the first and last half hours of a
US equity session carry about three times the variance of a mid-day half hour, a night
carries a sizeable share of a session, and a scheduled announcement carries a jump. So
``T`` counts *expected variance left*, in units of one regular session's open-to-close
variance, divided by 252 (sessions per year):

    units(ts, expiry) = sum over sessions S from today to expiry of
                          remaining_share_S(ts)                  (profile, see below)
                        + overnight_share        per night before S's open that is after ts
                        + event terms            (jumps and after-event multipliers)
    T = units / 252

* **Session unit.** One unit is the expected *open-to-close* variance of a regular
  (390-minute) session: the intraday profile of a regular session sums to exactly 1, and
  the annualised vol paired with this clock is ``sqrt(252 · E[open-to-close variance])``.
  A close-to-close day is therefore ``1 + overnight_share`` units. SPEC 7.1 says "one per
  full session in between" without saying whether a session means open-to-close or
  close-to-close variance; we read it as open-to-close because that is what makes the
  SPEC's own worked number (flat profile: T = remaining minutes / 390 / 252) come out,
  and we add the night separately as ``overnight_share``.
* **Intraday profile.** The share of a session's variance in each minute, estimated from
  the store's bars over prior sessions only (``vol_forecast.SessionHistory``), smoothed
  and shrunk towards the built-in U shape below (used alone until there is history).
* **Early closes.** Options stop trading at the session close from the exchange calendar:
  16:00 ET, 13:00 ET on early-close days, where T reaches 0. A shortened session keeps
  the regular profile's opening part minute for minute and ends with the profile's last
  ``CLOSE_TAIL_MINUTES`` (the closing rush happens before any close, early or not); the
  regular mid-day lull is what a short day loses. A 210-minute session thus carries the
  profile's minutes [0, 180) then [360, 390): about 0.71 of a regular session with the
  built-in profile, more than 210/390 = 0.54 because both ends of the U are kept.
* **Events** (``events.py``): a jump adds ``jump`` units at the event instant (counted
  while the event is still ahead of ``ts`` and before expiry); ``after_multiplier``
  scales the profile from the event to that session's close (the whole session when the
  event is before the open, as for 08:30 releases).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from vwapcli.core.types import NS_PER_MINUTE

SESSIONS_PER_YEAR = 252
REGULAR_SESSION_MINUTES = 390
BUCKET_MINUTES = 5  # profiles are estimated on a 5-minute grid for 1m and 5m stores alike
N_BUCKETS = REGULAR_SESSION_MINUTES // BUCKET_MINUTES
CLOSE_TAIL_MINUTES = 30  # a shortened session still ends with the profile's last 30 minutes

# Built-in U-shaped variance density per minute since the open m (0..390), before
# normalisation: 1 + A·exp(-m/TAU_A) + C·exp(-m/TAU_C) + B·exp(-(390-m)/TAU_B).
# Least-squares fit (log shares) to the mean per-session share of squared 5-minute
# log returns of real SPY bars, 206 sessions 2025-05-12..2026-03-12 (shared/data/real;
# bench/option_model_validation.py --fit-builtin reproduces it). Remaining share it gives
# at 10:00 / 12:00 / 14:00 / 15:00 / 15:30 ET: 0.81 / 0.44 / 0.23 / 0.14 / 0.09.
BUILTIN_MORNING = (3.55, 69.6)  # (A, TAU_A minutes): the morning decay
BUILTIN_OPEN_SPIKE = (3.98, 2.5)  # (C, TAU_C minutes): the opening minutes
BUILTIN_CLOSE = (5.25, 5.8)  # (B, TAU_B minutes): the closing rush


def _exp_integral(scale: float, tau: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integral of scale·exp(-x/tau) over [a, b] (elementwise)."""
    return scale * tau * (np.exp(-a / tau) - np.exp(-b / tau))


@lru_cache(maxsize=1)
def builtin_minute_shares() -> np.ndarray:
    """The built-in U profile: share of a regular session's variance in each of its 390 minutes."""
    start = np.arange(REGULAR_SESSION_MINUTES, dtype=np.float64)
    end = start + 1.0
    density = (
        (end - start)
        + _exp_integral(*BUILTIN_MORNING, start, end)
        + _exp_integral(*BUILTIN_OPEN_SPIKE, start, end)
        # the closing term in time-to-close: integral over [390 - end, 390 - start]
        + _exp_integral(*BUILTIN_CLOSE, REGULAR_SESSION_MINUTES - end, REGULAR_SESSION_MINUTES - start)
    )
    shares = density / density.sum()
    shares.flags.writeable = False
    return shares


@dataclass(frozen=True)
class IntradayProfile:
    """Share of a regular session's open-to-close variance in each minute (390 values, sum 1).

    ``cumulative`` holds the share elapsed at each whole minute (391 values, 0 .. 1); the
    share elapsed at a fractional minute is linear in between (uniform within a minute).
    """

    minute_shares: np.ndarray
    cumulative: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shares = np.asarray(self.minute_shares, dtype=np.float64)
        if shares.shape != (REGULAR_SESSION_MINUTES,) or not np.all(np.isfinite(shares)) or np.any(shares < 0):
            raise ValueError("an intraday profile needs 390 finite, non-negative minute shares")
        total = float(shares.sum())
        if not total > 0:
            raise ValueError("an intraday profile needs a positive total")
        shares = shares / total
        object.__setattr__(self, "minute_shares", shares)
        object.__setattr__(self, "cumulative", np.concatenate([[0.0], np.cumsum(shares)]))

    @classmethod
    def normalised(cls, minute_shares: np.ndarray, cumulative: np.ndarray) -> IntradayProfile:
        """A profile from shares already normalised and their running sum (391 values).

        For ``SessionForecaster.profiles``, which computes both for many days in one
        compiled pass with the constructor's very operations; checking and normalising
        again here would cost as much as that pass.
        """
        profile = object.__new__(cls)
        object.__setattr__(profile, "minute_shares", minute_shares)
        object.__setattr__(profile, "cumulative", cumulative)
        return profile

    @classmethod
    def flat(cls) -> IntradayProfile:
        """Every minute alike: T = remaining minutes / 390 sessions (the SPEC's worked case)."""
        return cls(np.full(REGULAR_SESSION_MINUTES, 1.0 / REGULAR_SESSION_MINUTES))

    @classmethod
    def builtin(cls) -> IntradayProfile:
        """The built-in U shape (module docstring), used until there is history."""
        return cls(builtin_minute_shares())

    @classmethod
    def from_buckets(cls, bucket_shares: np.ndarray) -> IntradayProfile:
        """A profile from 78 five-minute bucket shares, uniform within each bucket."""
        buckets = np.asarray(bucket_shares, dtype=np.float64)
        if buckets.shape != (N_BUCKETS,):
            raise ValueError(f"need {N_BUCKETS} five-minute bucket shares, got {buckets.shape}")
        return cls(np.repeat(buckets / BUCKET_MINUTES, BUCKET_MINUTES))

    def elapsed(self, minute: float) -> float:
        """Share of a regular session elapsed ``minute`` minutes after its open (clipped to 0..390)."""
        if minute <= 0.0:
            return 0.0
        if minute >= REGULAR_SESSION_MINUTES:
            return 1.0
        whole = int(minute)
        return float(self.cumulative[whole] + (minute - whole) * self.minute_shares[whole])

    def session_elapsed(self, minute: float, session_minutes: float) -> float:
        """Share elapsed ``minute`` minutes into a session of ``session_minutes`` (early closes).

        Regular sessions read the profile directly. A shortened session of L minutes maps
        its minutes [0, L - 30) onto the profile's [0, L - 30) and its last 30 minutes onto
        the profile's last 30 (module docstring).
        """
        if session_minutes >= REGULAR_SESSION_MINUTES:
            return self.elapsed(minute)
        tail = min(float(CLOSE_TAIL_MINUTES), session_minutes)
        head = session_minutes - tail
        if minute <= head:
            return self.elapsed(minute)
        start_of_tail = REGULAR_SESSION_MINUTES - tail
        into_tail = min(minute, session_minutes) - head
        return self.elapsed(head) + self.elapsed(start_of_tail + into_tail) - self.elapsed(start_of_tail)

    def session_total(self, session_minutes: float) -> float:
        """Variance of a whole session of ``session_minutes``, in regular-session units."""
        return self.session_elapsed(session_minutes, session_minutes)


@dataclass(frozen=True, slots=True)
class ClockEvent:
    """A scheduled event's effect on the clock: a jump of ``jump`` units at ``ts_ns`` and
    ``after_multiplier`` on the profile from then to its session's close."""

    ts_ns: int
    jump: float
    after_multiplier: float


SessionTable = tuple[np.ndarray, np.ndarray, np.ndarray]  # (dates D, open ns, close ns)
ProfileFor = Callable[[dt.date], IntradayProfile]
EventsOn = Callable[[dt.date], Sequence[ClockEvent]]


def _no_events(day: dt.date) -> Sequence[ClockEvent]:
    return ()


class VarianceClock:
    """``T`` for an option at a quote time: expected variance left to its expiry's close.

    ``sessions`` is the exchange session table (dates, open and close ns UTC, from
    ``SessionCalendar.session_arrays``); ``profile_for(day)`` returns the profile known on
    the morning of ``day`` (the clock applies today's profile to later sessions too, so
    nothing after the quote time leaks in); ``events_on(day)`` the day's clock events.
    """

    def __init__(
        self,
        sessions: SessionTable,
        profile_for: ProfileFor,
        overnight_share: float,
        events_on: EventsOn = _no_events,
    ) -> None:
        if not (math.isfinite(overnight_share) and overnight_share >= 0):
            raise ValueError(f"overnight_share must be a finite number >= 0, got {overnight_share}")
        self.dates = np.asarray(sessions[0], dtype="datetime64[D]")
        self.open_ns = np.asarray(sessions[1], dtype=np.int64)
        self.close_ns = np.asarray(sessions[2], dtype=np.int64)
        self.profile_for = profile_for
        self.overnight_share = float(overnight_share)
        self.events_on = events_on
        self._expiry_index: dict[dt.date, int] = {}
        self.day_of: list[dt.date] = self.dates.tolist()  # datetime64[D] -> plain dates

    def session_index(self, ts_ns: int) -> int:
        """Index of the first session whose close is after ``ts_ns`` (the current or next one)."""
        return int(np.searchsorted(self.close_ns, ts_ns, side="right"))

    def expiry_index(self, expiry: dt.date) -> int:
        """Index of the expiry's session (the last session on or before the expiry date)."""
        index = self._expiry_index.get(expiry)
        if index is None:
            index = int(np.searchsorted(self.dates, np.datetime64(expiry, "D"), side="right")) - 1
            self._expiry_index[expiry] = index
        return index

    def expiry_close_ns(self, expiry: dt.date) -> int:
        """When options expiring on ``expiry`` stop trading: that session's close (16:00 or 13:00 ET)."""
        index = self.expiry_index(expiry)
        if index < 0:
            raise ValueError(f"no exchange session on or before expiry {expiry}")
        return int(self.close_ns[index])

    def units(
        self,
        ts_ns: int,
        expiry: dt.date,
        events_on: EventsOn | None = None,
        profile: IntradayProfile | None = None,
    ) -> float:
        """Expected variance from ``ts_ns`` to the expiry's close, in regular-session units.

        ``events_on`` replaces the clock's own event lookup (calibration uses it to measure
        what one unit of jump or multiplier adds); ``profile``, when given, must be
        ``profile_for`` of the current-or-next session's day (a caller that computed many
        days' profiles at once passes them in).
        """
        events_on = events_on or self.events_on
        first = self.session_index(ts_ns)
        last = self.expiry_index(expiry)
        if first > last or first >= self.dates.shape[0]:
            return 0.0  # at or after the expiry's close: nothing left
        if profile is None:
            profile = self.profile_for(self.day_of[first])
        total = 0.0
        for i in range(first, last + 1):
            open_ns, close_ns = int(self.open_ns[i]), int(self.close_ns[i])
            session_minutes = (close_ns - open_ns) / NS_PER_MINUTE
            now = max(0.0, (ts_ns - open_ns) / NS_PER_MINUTE)
            session_total = profile.session_total(session_minutes)
            total += session_total - profile.session_elapsed(now, session_minutes)
            if open_ns > ts_ns:
                total += self.overnight_share  # the night before this session is still ahead
            for event in events_on(self.day_of[i]):
                if ts_ns < event.ts_ns <= close_ns:
                    total += event.jump
                if event.after_multiplier != 1.0:
                    from_minute = max(now, (event.ts_ns - open_ns) / NS_PER_MINUTE)
                    after = session_total - profile.session_elapsed(from_minute, session_minutes)
                    total += (event.after_multiplier - 1.0) * max(after, 0.0)
        return max(total, 0.0)

    def t_years(self, ts_ns: int, expiry: dt.date, profile: IntradayProfile | None = None) -> float:
        """``T`` in years for BSM: variance units / 252 (SPEC 7.1)."""
        return self.units(ts_ns, expiry, profile=profile) / SESSIONS_PER_YEAR
