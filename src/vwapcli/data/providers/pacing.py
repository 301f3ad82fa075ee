"""Time for vendors: one clock, request pacing to a plan's limit, a visible wait.

Why a module of its own: every vendor limits requests (Polygon's free plan: 5 per minute;
Alpaca's: 200 per minute, announced in ``X-RateLimit-*`` headers), and a backfill that
ignores the limit fails after a few requests with 429s that no short backoff outlives.
So requests are *paced*: before each one the :class:`RequestPacer` waits until the plan
allows it, and says so on the terminal ("waiting for the rate limit"), because a fetch
that sits silent for a minute looks hung.

Every wait goes through a :class:`Clock`, never ``time.sleep`` directly: the tests swap
in a clock whose ``sleep`` only advances its own time, so no test waits in real time.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

WINDOW_SECONDS = 60.0  # vendors state their limits per minute
DISPLAY_STEP_SECONDS = 1.0  # the countdown advances once a second


class Clock(Protocol):
    """Wall-clock time (Unix seconds, what ``X-RateLimit-Reset`` is expressed in) and sleep."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


_DEFAULT_CLOCK: Clock = SystemClock()


def default_clock() -> Clock:
    """The clock providers use when none is passed (tests replace ``_DEFAULT_CLOCK``)."""
    return _DEFAULT_CLOCK


def utc_now(clock: Clock | None = None) -> pd.Timestamp:
    """The clock's time as a tz-aware UTC timestamp."""
    seconds = (clock or default_clock()).time()
    return pd.Timestamp(round(seconds * 1e9), unit="ns", tz="UTC")


class WaitDisplay(Protocol):
    """Shows a wait while it lasts: entered with the total, told the seconds left."""

    def waiting(self, seconds: float, reason: str) -> Any:
        """A context manager yielding ``update(seconds_left)``."""
        ...


class SilentWaitDisplay:
    """Shows nothing (library use, tests that do not look)."""

    @contextmanager
    def waiting(self, seconds: float, reason: str) -> Iterator[Any]:
        yield lambda seconds_left: None


class RichWaitDisplay:
    """A transient Rich progress bar: "waiting for the rate limit (polygon: 5 requests/min)".

    On a terminal it counts down under the fetch's own progress (Rich 14.1+ nests live
    displays). Where a bar cannot show (a pipe, a log file, an older Rich that refuses a
    second live display) one plain line says how long the wait is instead.
    """

    def __init__(self, console: Any) -> None:
        self.console = console

    def _line(self, seconds: float, reason: str) -> None:
        self.console.print(f"[yellow]{reason}: {seconds:.0f} s[/yellow]", highlight=False)

    @contextmanager
    def waiting(self, seconds: float, reason: str) -> Iterator[Any]:
        from rich.errors import LiveError
        from rich.progress import BarColumn, Progress, TextColumn

        if not self.console.is_terminal:
            self._line(seconds, reason)
            yield lambda seconds_left: None
            return
        progress = Progress(
            TextColumn("[yellow]{task.description}"), BarColumn(),
            TextColumn("{task.fields[left]:>4.0f} s left"), console=self.console, transient=True,
        )
        try:
            progress.start()
        except LiveError:
            self._line(seconds, reason)
            yield lambda seconds_left: None
            return
        task = progress.add_task(reason, total=max(seconds, 1e-9), left=seconds)
        try:
            yield lambda seconds_left: progress.update(
                task, completed=seconds - seconds_left, left=seconds_left
            )
        finally:
            progress.stop()


@dataclass
class PacerState:
    """What the last response said about the vendor's own counter (``X-RateLimit-*``)."""

    remaining: int | None = None
    reset_at: float | None = None  # Unix seconds


class RequestPacer:
    """Keeps a vendor's requests within ``requests_per_minute`` and its announced budget.

    - A sliding window: at most ``requests_per_minute`` requests in any 60 seconds (the
      limit plans state); ``None`` means the plan states none.
    - The vendor's own counter, when its answers carry ``X-RateLimit-Remaining`` and
      ``X-RateLimit-Reset`` (Alpaca): with nothing remaining, wait for the reset.
    - After a 429 that names no wait: a whole window, the only wait a per-minute
      bucket is sure to have refilled after.
    """

    def __init__(
        self,
        provider: str,
        requests_per_minute: float | None = None,
        clock: Clock | None = None,
        display: WaitDisplay | None = None,
    ) -> None:
        if requests_per_minute is not None and not (math.isfinite(requests_per_minute) and requests_per_minute > 0):
            raise ValueError(f"requests_per_minute must be a positive number, got {requests_per_minute!r}")
        self.provider = provider
        self.requests_per_minute = requests_per_minute
        self.clock = clock or default_clock()
        self.display: WaitDisplay = display or SilentWaitDisplay()
        self.sent: deque[float] = deque()
        self.state = PacerState()
        self.waits: list[float] = []  # every wait, in seconds (what --verbose and tests read)

    def _window_wait(self, now: float) -> float:
        limit = self.requests_per_minute
        if limit is None:
            return 0.0
        # `capacity` whole requests per `window` seconds is `limit` a minute, also for
        # fractional limits (0.5/min: 1 request per 120 s; 2.5/min: 2 per 48 s).
        capacity = max(1, math.floor(limit))
        window = WINDOW_SECONDS * capacity / limit
        while self.sent and now - self.sent[0] >= window:
            self.sent.popleft()
        if len(self.sent) < capacity:
            return 0.0
        # The oldest request in the window must age out before another may go.
        return self.sent[-capacity] + window - now

    def _budget_wait(self, now: float) -> float:
        if self.state.remaining is None or self.state.remaining > 0 or self.state.reset_at is None:
            return 0.0
        return max(0.0, self.state.reset_at - now)

    def before_request(self) -> None:
        """Wait (visibly) until the plan allows one more request, then count it."""
        now = self.clock.time()
        wait = max(self._window_wait(now), self._budget_wait(now))
        if wait > 0:
            self.wait(wait, self._reason())
            self.state = PacerState()
        self.sent.append(self.clock.time())

    def observe(self, headers: dict[str, str] | Any) -> None:
        """Read the vendor's counter from a response's ``X-RateLimit-*`` headers."""
        remaining = _header_number(headers, "X-RateLimit-Remaining")
        reset = _header_number(headers, "X-RateLimit-Reset")
        if remaining is not None:
            self.state = PacerState(int(remaining), reset)

    def wait_after_429(self) -> float:
        """Seconds to wait after a 429 without ``Retry-After``: the vendor's reset, else a window."""
        now = self.clock.time()
        if self.state.reset_at is not None and self.state.reset_at > now:
            return self.state.reset_at - now
        return WINDOW_SECONDS if self.requests_per_minute is not None else 0.0

    def wait(self, seconds: float, reason: str) -> None:
        """Sleep ``seconds`` on the clock, a second at a time, showing the countdown."""
        if seconds <= 0:
            return
        self.waits.append(seconds)
        with self.display.waiting(seconds, reason) as update:
            left = seconds
            while left > 0:
                step = min(DISPLAY_STEP_SECONDS, left)
                self.clock.sleep(step)
                left -= step
                update(max(0.0, left))

    def _reason(self) -> str:
        if self.requests_per_minute is not None:
            return f"waiting for the rate limit ({self.provider}: {self.requests_per_minute:g} requests/min)"
        return f"waiting for the rate limit ({self.provider})"


def _header_number(headers: Any, name: str) -> float | None:
    lowered = name.lower()
    for key, value in dict(headers or {}).items():
        if str(key).lower() == lowered:
            try:
                number = float(value)
            except (TypeError, ValueError):
                return None
            return number if math.isfinite(number) else None
    return None
