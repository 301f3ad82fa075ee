"""Clocks of paper trading: the simulated one never waits at --speed max, and waits
(t - now) / N real seconds at --speed N; the real one sleeps what is left."""

from __future__ import annotations

import pytest

from vwapcli.paper.clocks import RealClock, SimulatedClock
from vwapcli.paper.seams import Clock

SECOND = 1_000_000_000


def test_max_speed_jumps_to_the_time_asked_without_sleeping() -> None:
    slept: list[float] = []
    clock = SimulatedClock(100 * SECOND, None, slept.append)
    clock.sleep_until(160 * SECOND)
    assert clock.now_ns() == 160 * SECOND and slept == []


def test_speed_n_sleeps_the_gap_divided_by_n() -> None:
    """60 s of market time at --speed 30: 60 / 30 = 2.0 real seconds."""
    slept: list[float] = []
    clock = SimulatedClock(0, 30.0, slept.append)
    clock.sleep_until(60 * SECOND)
    assert slept == [2.0] and clock.now_ns() == 60 * SECOND


def test_the_simulated_clock_never_goes_backwards() -> None:
    clock = SimulatedClock(50 * SECOND, 2.0, lambda s: pytest.fail("no wait for a past time"))
    clock.sleep_until(10 * SECOND)
    assert clock.now_ns() == 50 * SECOND


def test_a_zero_or_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError):
        SimulatedClock(0, 0.0)


def test_the_real_clock_sleeps_only_what_is_left() -> None:
    """now = 10 s, wake at 12.5 s: 2.5 s of sleep; a past time: no sleep."""
    slept: list[float] = []
    clock = RealClock(slept.append, now=lambda: 10 * SECOND)
    clock.sleep_until(12 * SECOND + SECOND // 2)
    clock.sleep_until(5 * SECOND)
    assert slept == [2.5]


def test_both_clocks_satisfy_the_clock_seam() -> None:
    assert isinstance(SimulatedClock(0), Clock) and isinstance(RealClock(), Clock)
