"""Pacing requests to a data plan: a sliding minute, the vendor's own counter, a visible wait."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from builders.provider_replay import FakeClock
from vwapcli.data.providers import get_provider
from vwapcli.data.providers.pacing import RequestPacer, RichWaitDisplay
from vwapcli.errors import ProviderError


def test_the_sixth_request_in_a_minute_waits_until_the_first_is_a_minute_old() -> None:
    """5 a minute; requests at t = 0, 10, 20, 30, 40 s; the 6th, asked at 45 s, leaves at 60 s."""
    clock = FakeClock("2024-06-20T14:00Z")
    pacer = RequestPacer("polygon", 5, clock)
    for step in (0, 10, 10, 10, 10):
        clock.now += step
        pacer.before_request()
    clock.now += 5
    pacer.before_request()
    assert pacer.waits == [pytest.approx(15.0)]
    assert clock.sleeps == [1.0] * 15


def test_a_fractional_limit_spaces_requests_evenly() -> None:
    """0.5 a minute is one request per 120 s: three requests at once leave at 0, 120, 240 s."""
    clock = FakeClock("2024-06-20T14:00Z")
    pacer = RequestPacer("polygon", 0.5, clock)
    for _ in range(3):
        pacer.before_request()
    assert pacer.waits == [pytest.approx(120.0), pytest.approx(120.0)]


def test_no_plan_limit_means_no_wait() -> None:
    clock = FakeClock("2024-06-20T14:00Z")
    pacer = RequestPacer("databento", None, clock)
    for _ in range(1000):
        pacer.before_request()
    assert clock.sleeps == []


def test_an_exhausted_vendor_budget_waits_for_its_reset() -> None:
    """X-RateLimit-Remaining 0, Reset = now + 12 s: the next request waits 12 s, then the
    counter is forgotten (the next answer brings a fresh one)."""
    clock = FakeClock("2024-06-20T14:00Z")
    pacer = RequestPacer("alpaca", 200, clock)
    pacer.before_request()
    pacer.observe({"x-ratelimit-limit": "200", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(clock.now) + 12)})
    pacer.before_request()
    pacer.before_request()
    assert pacer.waits == [pytest.approx(12.0)]


def test_a_vendor_budget_with_requests_left_costs_no_wait() -> None:
    clock = FakeClock("2024-06-20T14:00Z")
    pacer = RequestPacer("alpaca", 200, clock)
    pacer.observe({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": str(int(clock.now) + 50)})
    pacer.before_request()
    assert pacer.waits == []


def test_after_a_429_the_wait_is_the_reset_if_known_else_a_whole_minute() -> None:
    clock = FakeClock("2024-06-20T14:00Z")
    paced = RequestPacer("polygon", 5, clock)
    assert paced.wait_after_429() == 60.0
    paced.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(clock.now) + 7)})
    assert paced.wait_after_429() == pytest.approx(7.0)
    assert RequestPacer("databento", None, clock).wait_after_429() == 0.0


def test_a_nonsense_limit_is_refused() -> None:
    for bad in (0, -5, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            RequestPacer("polygon", bad)


def test_the_wait_shows_as_a_progress_bar_on_a_terminal_and_as_one_line_elsewhere() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    clock = FakeClock("2024-06-20T14:00Z")
    RequestPacer("polygon", 5, clock, RichWaitDisplay(terminal)).wait(3, "waiting for the rate limit (polygon: 5 requests/min)")
    assert "waiting for the rate limit (polygon: 5 requests/min)" in terminal.file.getvalue()  # type: ignore[attr-defined]
    piped = Console(file=io.StringIO(), force_terminal=False, width=120)
    RequestPacer("polygon", 5, clock, RichWaitDisplay(piped)).wait(48, "waiting for the rate limit (polygon: 5 requests/min)")
    assert piped.file.getvalue() == "waiting for the rate limit (polygon: 5 requests/min): 48 s\n"  # type: ignore[attr-defined]


def test_provider_options_reach_the_provider_or_are_refused_in_one_line() -> None:
    assert get_provider("alpaca", feed="iex").feed == "iex"  # type: ignore[attr-defined]
    assert get_provider("polygon").pacer.requests_per_minute == 5  # type: ignore[attr-defined]
    assert get_provider("polygon", requests_per_minute=100).pacer.requests_per_minute == 100  # type: ignore[attr-defined]
    assert get_provider("polygon", requests_per_minute=0).pacer.requests_per_minute is None  # type: ignore[attr-defined]
    with pytest.raises(ProviderError, match=r"^polygon: --feed applies to alpaca only$"):
        get_provider("polygon", feed="iex")
    with pytest.raises(ProviderError, match=r"^yfinance: --requests-per-minute does not apply"):
        get_provider("yfinance", requests_per_minute=10)


def test_a_paid_plan_can_be_set_once_per_vendor_in_the_environment() -> None:
    """VWAPCLI_POLYGON_REQUESTS_PER_MINUTE=0 (unlimited plan) turns pacing off; an explicit
    --requests-per-minute still wins; a non-number is one line naming the variable."""
    environ = {"VWAPCLI_POLYGON_REQUESTS_PER_MINUTE": "0"}
    assert get_provider("polygon", environ=environ).pacer.requests_per_minute is None  # type: ignore[attr-defined]
    assert get_provider("polygon", requests_per_minute=50, environ=environ).pacer.requests_per_minute == 50  # type: ignore[attr-defined]
    assert get_provider("alpaca", environ=environ).pacer.requests_per_minute == 200  # type: ignore[attr-defined]
    with pytest.raises(ProviderError, match=r"^polygon: VWAPCLI_POLYGON_REQUESTS_PER_MINUTE='lots' is not a number$"):
        get_provider("polygon", environ={"VWAPCLI_POLYGON_REQUESTS_PER_MINUTE": "lots"})
