"""The variance clock (SPEC 7.1) at its edges: the built-in profile against an independent
quadrature of its density, profile validation, boundaries of the night, of events and of
the session table, and the shortened-session mapping at and inside its closing tail."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from scipy.integrate import quad

from builders.option_model import new_york_ns, session_table
from vwapcli.options.variance_clock import (
    ClockEvent,
    IntradayProfile,
    VarianceClock,
    builtin_minute_shares,
)

FRIDAY = dt.date(2024, 6, 21)  # a regular 09:30-16:00 session
CHRISTMAS_EVE = dt.date(2024, 12, 24)  # a 13:00 early close


def flat_clock(overnight_share: float = 0.0, events: dict[dt.date, list[ClockEvent]] | None = None,
               start: str = "2024-06-01", end: str = "2025-01-31") -> VarianceClock:
    return VarianceClock(session_table(start, end), lambda day: IntradayProfile.flat(), overnight_share,
                         lambda day: (events or {}).get(day, []))


# ------------------------------------------------------------------ the built-in profile
def _density(m: float) -> float:
    """The module docstring's density, constants copied from its text (not imported):
    1 + 3.55·exp(-m/69.6) + 3.98·exp(-m/2.5) + 5.25·exp(-(390-m)/5.8)."""
    return 1.0 + 3.55 * math.exp(-m / 69.6) + 3.98 * math.exp(-m / 2.5) + 5.25 * math.exp(-(390.0 - m) / 5.8)


def _quad_share(a: float, b: float) -> float:
    total = quad(_density, 0.0, 390.0, points=[5.0, 385.0], limit=200)[0]
    return quad(_density, a, b, points=[x for x in (5.0, 385.0) if a < x < b] or None, limit=200)[0] / total


@pytest.mark.parametrize("minute", [1.0, 3.0, 30.0, 150.0, 270.0, 330.0, 360.0, 385.0, 389.0])
def test_the_builtin_profile_matches_a_quadrature_of_its_density(minute: float) -> None:
    """Independent method: scipy's adaptive quadrature of the docstring's density (constants
    typed from the docstring) against the module's closed-form minute integrals."""
    assert IntradayProfile.builtin().elapsed(minute) == pytest.approx(_quad_share(0.0, minute), rel=1e-9, abs=1e-12)


def test_the_builtin_profile_leaves_the_documented_shares() -> None:
    """Module docstring: remaining share at 10:00 / 12:00 / 14:00 / 15:00 / 15:30 ET is
    0.81 / 0.44 / 0.23 / 0.14 / 0.09 (minutes 30, 150, 270, 330, 360 after the open)."""
    profile = IntradayProfile.builtin()
    left = [1.0 - profile.elapsed(m) for m in (30, 150, 270, 330, 360)]
    assert left == pytest.approx([0.81, 0.44, 0.23, 0.14, 0.09], abs=0.005)


def test_the_builtin_shares_are_read_only() -> None:
    """They are cached and shared by every profile: writing into them must fail."""
    with pytest.raises(ValueError, match="read-only"):
        builtin_minute_shares()[0] = 0.5


# ------------------------------------------------------------------ profile validation
@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.001])
def test_a_profile_refuses_a_non_finite_or_negative_share(bad: float) -> None:
    shares = np.full(390, 1.0)
    shares[100] = bad
    with pytest.raises(ValueError, match="finite, non-negative"):
        IntradayProfile(shares)


def test_a_profile_refuses_all_zero_shares() -> None:
    with pytest.raises(ValueError, match="positive total"):
        IntradayProfile(np.zeros(390))


def test_a_profile_normalises_its_shares_to_one() -> None:
    """390 shares of 2.0 (total 780) become 1/390 each: 195 minutes in, half has elapsed;
    the cumulative shares run from exactly 0 to 1."""
    profile = IntradayProfile(np.full(390, 2.0))
    assert profile.elapsed(195.0) == pytest.approx(0.5)
    assert profile.cumulative[0] == 0.0 and profile.cumulative[-1] == pytest.approx(1.0)


@pytest.mark.parametrize(("minute", "expected"), [(-5.0, 0.0), (-0.5, 0.0), (0.0, 0.0), (390.0, 1.0), (400.0, 1.0)])
def test_elapsed_is_clipped_to_the_session(minute: float, expected: float) -> None:
    assert IntradayProfile.builtin().elapsed(minute) == expected


def test_a_regular_session_reads_the_profile_bit_for_bit() -> None:
    """390 minutes is not a shortened session: its elapsed share is ``elapsed`` itself, also
    in the last 30 minutes (a detour through the tail mapping, a + b - a, can move the last bit)."""
    profile = IntradayProfile.builtin()
    for minute in np.arange(355.0, 390.25, 0.25):
        assert profile.session_elapsed(float(minute), 390.0) == profile.elapsed(float(minute))


# ------------------------------------------------------------------ shortened sessions
def test_inside_the_closing_tail_of_an_early_close() -> None:
    """210-minute session (13:00 close), 195 minutes in (12:45): head 180, 15 minutes into the
    tail -> elapsed = cum(180) + cum(375) - cum(360); left = total - elapsed = 1 - cum(375),
    the profile's last 15 minutes. Past the close (minute 250) the whole session has elapsed."""
    profile = IntradayProfile.builtin()
    cum = np.concatenate([[0.0], np.cumsum(builtin_minute_shares())])
    assert profile.session_elapsed(195.0, 210.0) == pytest.approx(cum[180] + cum[375] - cum[360])
    assert profile.session_elapsed(250.0, 210.0) == pytest.approx(cum[180] + 1.0 - cum[360])
    clock = VarianceClock(session_table("2024-12-01", "2024-12-31"), lambda day: profile, 0.0)
    assert clock.units(new_york_ns("2024-12-24", "12:45"), CHRISTMAS_EVE) == pytest.approx(1.0 - cum[375])


def test_the_start_of_the_closing_tail_is_read_from_the_profile_bit_for_bit() -> None:
    """At minute = head (L - 30) a shortened session has not entered its tail: the share is
    ``elapsed(head)`` exactly, for every length from 60 to 385 minutes."""
    profile = IntradayProfile.builtin()
    for length in np.arange(60.0, 390.0, 7.0):
        head = float(length) - 30.0
        assert profile.session_elapsed(head, float(length)) == profile.elapsed(head)


def test_a_session_shorter_than_the_tail_is_all_tail() -> None:
    """A 20-minute session: tail = 20, head = 0, so it carries the profile's last 20 minutes:
    1 - cum(370); 5 minutes in, cum(375) - cum(370) has elapsed."""
    profile = IntradayProfile.builtin()
    cum = np.concatenate([[0.0], np.cumsum(builtin_minute_shares())])
    assert profile.session_total(20.0) == pytest.approx(1.0 - cum[370])
    assert profile.session_elapsed(5.0, 20.0) == pytest.approx(cum[375] - cum[370])


# ------------------------------------------------------------------ the clock's boundaries
@pytest.mark.parametrize("share", [-0.1, math.nan, math.inf])
def test_the_overnight_share_must_be_finite_and_not_negative(share: float) -> None:
    with pytest.raises(ValueError, match="overnight_share"):
        flat_clock(overnight_share=share)


def test_at_the_open_the_night_is_already_over() -> None:
    """Overnight 0.5, flat: at 09:30:00 exactly the session is all ahead (1 unit) and the night
    behind; one nanosecond earlier the night still counts: 1.5."""
    clock = flat_clock(overnight_share=0.5)
    open_ns = new_york_ns("2024-06-21", "09:30")
    assert clock.units(open_ns, FRIDAY) == pytest.approx(1.0)
    assert clock.units(open_ns - 1, FRIDAY) == pytest.approx(1.5)


def test_a_jump_at_the_quote_time_is_already_past() -> None:
    """Event at 14:00 (jump 0.9, multiplier 3), flat: at 14:00 exactly the jump is behind and
    120 minutes remain at 3x: 3·120/390 = 0.923077."""
    event = ClockEvent(new_york_ns("2024-06-21", "14:00"), jump=0.9, after_multiplier=3.0)
    clock = flat_clock(events={FRIDAY: [event]})
    assert clock.units(new_york_ns("2024-06-21", "14:00"), FRIDAY) == pytest.approx(3 * 120 / 390)


def test_a_jump_at_the_close_still_counts() -> None:
    """Event at 16:00 exactly (jump 0.4, multiplier 1): at 15:00, 60/390 + 0.4."""
    event = ClockEvent(new_york_ns("2024-06-21", "16:00"), jump=0.4, after_multiplier=1.0)
    clock = flat_clock(events={FRIDAY: [event]})
    assert clock.units(new_york_ns("2024-06-21", "15:00"), FRIDAY) == pytest.approx(60 / 390 + 0.4)


@pytest.mark.parametrize("multiplier", [0.0, 2.0])
def test_every_multiplier_other_than_one_scales_what_follows(multiplier: float) -> None:
    """Event at 14:00, no jump, flat: at 13:00, 60/390 before it + multiplier·120/390 after
    (0: 60/390 = 0.153846; 2: 300/390 = 0.769231)."""
    event = ClockEvent(new_york_ns("2024-06-21", "14:00"), jump=0.0, after_multiplier=multiplier)
    clock = flat_clock(events={FRIDAY: [event]})
    expected = 60 / 390 + multiplier * 120 / 390
    assert clock.units(new_york_ns("2024-06-21", "13:00"), FRIDAY) == pytest.approx(expected)


def test_the_clock_never_goes_below_zero() -> None:
    """A (negative) jump of -1 at 15:00 seen from 14:00, flat: 120/390 - 1 < 0 -> 0."""
    event = ClockEvent(new_york_ns("2024-06-21", "15:00"), jump=-1.0, after_multiplier=1.0)
    clock = flat_clock(events={FRIDAY: [event]})
    assert clock.units(new_york_ns("2024-06-21", "14:00"), FRIDAY) == 0.0


def test_after_the_last_session_of_the_table_nothing_is_left() -> None:
    """Table June 2024; 2024-06-28 is its last session: after its close, 0 units."""
    clock = flat_clock(start="2024-06-01", end="2024-06-30")
    last = dt.date(2024, 6, 28)
    assert clock.units(new_york_ns("2024-06-28", "16:30"), last) == 0.0
    assert clock.units(new_york_ns("2024-06-28", "15:00"), last) == pytest.approx(60 / 390)


def test_an_expiry_before_the_table_has_no_close() -> None:
    """The table starts 2024-06-03 (a Monday): an expiry on 2024-05-31 has no session on or
    before it; the first session itself is found (index 0)."""
    clock = flat_clock(start="2024-06-01", end="2024-06-30")
    with pytest.raises(ValueError, match="no exchange session on or before expiry 2024-05-31"):
        clock.expiry_close_ns(dt.date(2024, 5, 31))
    assert clock.expiry_close_ns(dt.date(2024, 6, 3)) == new_york_ns("2024-06-03", "16:00")


def test_profiles_and_events_cannot_be_changed_once_made() -> None:
    """One profile is shared by every quote of a day and an event by every quote before it:
    both are frozen. A profile's repr leaves out its 391 cumulative shares."""
    profile = IntradayProfile.flat()
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.minute_shares = np.ones(390)  # type: ignore[misc]
    event = ClockEvent(new_york_ns("2024-06-21", "14:00"), jump=0.9, after_multiplier=3.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.jump = 0.0  # type: ignore[misc]
    assert "cumulative" not in repr(profile)
