"""The clocks of ``vwapcli paper`` (SPEC 12): real time, or a simulated one for replay.

``--source replay --speed max`` never waits: the simulated clock jumps to the time asked
for. ``--speed N`` waits ``(t - now) / N`` real seconds through an injectable ``sleep``,
so tests drive a replay at any speed without sleeping in real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

NS_PER_SECOND = 1_000_000_000


class SimulatedClock:
    """A clock that starts at ``start_ns`` and moves only when asked to wait.

    ``speed=None`` is ``--speed max`` (no real waiting); a number N waits ``(t - now)/N``
    real seconds through ``sleep`` (``time.sleep`` unless a test gives its own).
    """

    def __init__(self, start_ns: int, speed: float | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive or None (max), got {speed}")
        self._now_ns = int(start_ns)
        self.speed = speed
        self._sleep = sleep

    def now_ns(self) -> int:
        return self._now_ns

    def sleep_until(self, t_ns: int) -> None:
        """Advance to ``t_ns`` (never backwards), waiting the scaled real time first."""
        if t_ns <= self._now_ns:
            return
        if self.speed is not None:
            self._sleep((t_ns - self._now_ns) / NS_PER_SECOND / self.speed)
        self._now_ns = int(t_ns)


class RealClock:
    """Wall-clock time (UTC ns); waits by sleeping. What live sources run on."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, now: Callable[[], int] = time.time_ns) -> None:
        self._sleep = sleep
        self._now = now

    def now_ns(self) -> int:
        return self._now()

    def sleep_until(self, t_ns: int) -> None:
        wait = (t_ns - self._now()) / NS_PER_SECOND
        if wait > 0:
            self._sleep(wait)
