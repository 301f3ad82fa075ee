"""The variance clock (SPEC 7.1): worked numbers on real exchange sessions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from builders.option_model import new_york_ns, session_table
from vwapcli.options.variance_clock import (
    REGULAR_SESSION_MINUTES,
    ClockEvent,
    IntradayProfile,
    VarianceClock,
    builtin_minute_shares,
)

FRIDAY = dt.date(2024, 6, 21)  # a regular 09:30-16:00 session
CHRISTMAS_EVE = dt.date(2024, 12, 24)  # a 13:00 early close (exchange-calendars)


def flat_clock(overnight_share: float = 0.0, events: dict[dt.date, list[ClockEvent]] | None = None) -> VarianceClock:
    table = session_table("2024-06-01", "2025-01-31")
    return VarianceClock(
        table, lambda day: IntradayProfile.flat(), overnight_share, lambda day: (events or {}).get(day, [])
    )


def test_flat_profile_gives_remaining_minutes_over_390_over_252() -> None:
    """13:00 ET on a regular session, flat profile: 180 minutes left -> T = 180/390/252 = 0.00183150."""
    clock = flat_clock()
    ts = new_york_ns("2024-06-21", "13:00")
    assert clock.units(ts, FRIDAY) == pytest.approx(180 / 390)
    assert clock.t_years(ts, FRIDAY) == pytest.approx(180 / 390 / 252)
    assert clock.t_years(ts, FRIDAY) == pytest.approx(0.0018315018)


def test_flat_profile_counts_fractional_minutes() -> None:
    """15:59:30 ET: half a minute left -> 0.5/390 units."""
    clock = flat_clock()
    ts = new_york_ns("2024-06-21", "15:59") + 30 * 1_000_000_000
    assert clock.units(ts, FRIDAY) == pytest.approx(0.5 / 390)


def test_early_close_day_reaches_zero_at_13_00() -> None:
    """2024-12-24 closes at 13:00: T = 0 at 13:00 and after, and at 12:00 (flat) 60/390 units."""
    clock = flat_clock()
    assert clock.t_years(new_york_ns("2024-12-24", "13:00"), CHRISTMAS_EVE) == 0.0
    assert clock.t_years(new_york_ns("2024-12-24", "14:30"), CHRISTMAS_EVE) == 0.0
    assert clock.units(new_york_ns("2024-12-24", "12:00"), CHRISTMAS_EVE) == pytest.approx(60 / 390)
    assert clock.expiry_close_ns(CHRISTMAS_EVE) == new_york_ns("2024-12-24", "13:00")


def test_early_close_session_keeps_the_open_and_the_closing_half_hour_of_the_profile() -> None:
    """A 210-minute session = profile minutes [0, 180) + [360, 390).

    With the built-in profile that is cum(180) + 1 - cum(360) (hand formula on its cumulative
    shares); at 12:30 (180 minutes in) exactly the profile's last 30 minutes are left.
    """
    profile = IntradayProfile.builtin()
    cumulative = np.concatenate([[0.0], np.cumsum(builtin_minute_shares())])
    expected_total = cumulative[180] + 1.0 - cumulative[360]
    assert profile.session_total(210) == pytest.approx(expected_total)
    assert 210 / 390 < expected_total < 0.75  # both ends of the U are kept
    clock = VarianceClock(session_table("2024-12-01", "2024-12-31"), lambda day: profile, 0.0)
    left = clock.units(new_york_ns("2024-12-24", "12:30"), CHRISTMAS_EVE)
    assert left == pytest.approx(1.0 - cumulative[360])


def test_nights_add_the_overnight_share_and_sessions_between_add_one_each() -> None:
    """Friday 15:00 -> Tuesday's close (flat, overnight 0.5): 60/390 + Monday (0.5 + 1) + Tuesday (0.5 + 1)."""
    clock = flat_clock(overnight_share=0.5)
    units = clock.units(new_york_ns("2024-06-21", "15:00"), dt.date(2024, 6, 25))
    assert units == pytest.approx(60 / 390 + 2 * (0.5 + 1.0))


def test_an_event_jump_counts_until_the_event_and_its_multiplier_scales_what_follows() -> None:
    """FOMC-like event at 14:00, jump 0.9, after-multiplier 3, flat profile.

    13:00: 60/390 (13-14) + 0.9 + 3·120/390; 14:30: 3·90/390 (jump gone).
    """
    event = ClockEvent(new_york_ns("2024-06-21", "14:00"), jump=0.9, after_multiplier=3.0)
    clock = flat_clock(events={FRIDAY: [event]})
    assert clock.units(new_york_ns("2024-06-21", "13:00"), FRIDAY) == pytest.approx(60 / 390 + 0.9 + 3 * 120 / 390)
    assert clock.units(new_york_ns("2024-06-21", "14:30"), FRIDAY) == pytest.approx(3 * 90 / 390)


def test_a_pre_open_event_scales_the_whole_session_and_its_jump_is_already_past() -> None:
    """08:30 release, multiplier 0.8, jump 2: at 10:00 (flat) 0.8·360/390 units, no jump."""
    event = ClockEvent(new_york_ns("2024-06-21", "08:30"), jump=2.0, after_multiplier=0.8)
    clock = flat_clock(events={FRIDAY: [event]})
    assert clock.units(new_york_ns("2024-06-21", "10:00"), FRIDAY) == pytest.approx(0.8 * 360 / 390)


def test_builtin_profile_is_u_shaped_and_sums_to_one() -> None:
    shares = builtin_minute_shares()
    assert shares.shape == (REGULAR_SESSION_MINUTES,)
    assert shares.sum() == pytest.approx(1.0)
    middle = shares[150:240].mean()
    assert shares[0] > 3 * middle and shares[-1] > 3 * middle


def test_profile_from_five_minute_buckets_is_uniform_within_each_bucket() -> None:
    buckets = np.zeros(78)
    buckets[0], buckets[-1] = 0.75, 0.25
    profile = IntradayProfile.from_buckets(buckets)
    assert profile.elapsed(2.5) == pytest.approx(0.375)  # half of the first bucket
    assert profile.elapsed(387.5) == pytest.approx(0.75 + 0.125)


def test_intraday_profile_refuses_a_wrong_length() -> None:
    with pytest.raises(ValueError, match="390"):
        IntradayProfile(np.ones(10))
