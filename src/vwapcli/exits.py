"""Exits driven by the underlying (SPEC 9), for many signals in one compiled pass.

Exit decisions need only the underlying's bars, not the account, so they are computed
for every candidate signal up front; the engine's risk walk then decides which of them
become trades.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from vwapcli.core.types import SessionedBars, local_time_ns

EXIT_NONE = 0
EXIT_STOP = 1
EXIT_TARGET = 2
EXIT_TIME = 3
EXIT_END_OF_DATA = 4
EXIT_REASONS = {EXIT_STOP: "stop", EXIT_TARGET: "target", EXIT_TIME: "time", EXIT_END_OF_DATA: "end_of_data"}


@numba.njit(cache=True)
def _scan_exits(
    bar_open: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    close_time: np.ndarray, entry_index: np.ndarray, session_end_index: np.ndarray,
    is_long: np.ndarray, stop: np.ndarray, target: np.ndarray, exit_deadline: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = entry_index.shape[0]
    exit_index = np.empty(n, np.int64)
    reason = np.zeros(n, np.int64)
    level = np.empty(n, np.float64)
    for k in range(n):
        last = session_end_index[k] - 1  # last bar of the entry's session
        exit_index[k] = last
        reason[k] = EXIT_END_OF_DATA
        level[k] = close[last]
        # SPEC 9: bars strictly after the entry bar, in order: stop, target, time.
        for j in range(entry_index[k] + 1, last + 1):
            if is_long[k]:
                if low[j] <= stop[k]:
                    exit_index[k] = j
                    reason[k] = EXIT_STOP
                    level[k] = bar_open[j] if bar_open[j] <= stop[k] else stop[k]
                    break
                if high[j] >= target[k]:
                    exit_index[k] = j
                    reason[k] = EXIT_TARGET
                    level[k] = bar_open[j] if bar_open[j] >= target[k] else target[k]
                    break
            else:
                if high[j] >= stop[k]:
                    exit_index[k] = j
                    reason[k] = EXIT_STOP
                    level[k] = bar_open[j] if bar_open[j] >= stop[k] else stop[k]
                    break
                if low[j] <= target[k]:
                    exit_index[k] = j
                    reason[k] = EXIT_TARGET
                    level[k] = bar_open[j] if bar_open[j] <= target[k] else target[k]
                    break
            if close_time[j] >= exit_deadline[k]:
                exit_index[k] = j
                reason[k] = EXIT_TIME
                level[k] = close[j]
                break
    return exit_index, reason, level


@lru_cache(maxsize=8192)
def _local_time_ns(day: dt.date, clock: dt.time) -> int:
    # The New York -> UTC conversion goes through pandas (~20 µs); a sweep asks for the
    # same (session, exit_time) pairs for every configuration.
    return local_time_ns(day, clock)


@dataclass(frozen=True)
class ExitPlan:
    """Per signal: where the trade would leave, why, and at what underlying level."""

    entry_index: np.ndarray  # flat bar index of the trigger bar (-1: not found)
    exit_index: np.ndarray
    exit_time_ns: np.ndarray  # close time of the exit bar
    reason: np.ndarray  # EXIT_* codes; EXIT_NONE for too_late / unmatched
    underlying_exit: np.ndarray
    deadline_ns: np.ndarray  # min(exit_time, session close - exit_buffer)
    too_late: np.ndarray  # entry at or after the deadline (SPEC 9)


def plan_exits(
    bars: SessionedBars,
    entry_time_ns: np.ndarray,
    is_long: np.ndarray,
    stop: np.ndarray,
    target: np.ndarray,
    exit_clock: object,
    exit_buffer_ns: int = 0,
) -> ExitPlan:
    """Exit plan for signals of one symbol (entry times are trigger-bar close times).

    The deadline is ``min(exit_clock, session close - exit_buffer_ns)`` (SPEC 9): the time
    stop must leave while the options still trade, 12:50 on a 13:00 early close.
    """
    n = entry_time_ns.shape[0]
    close_time = bars.ts + bars.bar_ns
    entry_index = np.searchsorted(close_time, entry_time_ns)
    found = (entry_index < close_time.shape[0])
    found[found] = close_time[entry_index[found]] == entry_time_ns[found]
    session_index = np.searchsorted(bars.session_start, entry_index, side="right") - 1
    session_index = np.clip(session_index, 0, max(bars.n_sessions - 1, 0))
    # One New York conversion per session with signals, not per signal.
    sessions, of_signal = np.unique(session_index, return_inverse=True)
    days = np.asarray(bars.session_date)[sessions].astype("datetime64[D]").tolist()
    clock_ns = np.array([_local_time_ns(day, exit_clock) for day in days], dtype=np.int64).reshape(-1)
    close_ns = np.asarray(bars.session_close_ns, dtype=np.int64)[session_index] - np.int64(exit_buffer_ns)
    deadline = np.minimum(clock_ns[of_signal.reshape(-1)], close_ns).astype(np.int64)
    session_end = np.asarray(bars.session_start, dtype=np.int64)[session_index + 1]
    too_late = entry_time_ns >= deadline
    scan = found & ~too_late
    exit_index = np.full(n, -1, np.int64)
    reason = np.zeros(n, np.int64)
    level = np.full(n, np.nan)
    if scan.any():
        ei, rs, lv = _scan_exits(
            bars.open, bars.high, bars.low, bars.close, close_time,
            entry_index[scan].astype(np.int64), session_end[scan], is_long[scan],
            stop[scan].astype(np.float64), target[scan].astype(np.float64), deadline[scan],
        )
        exit_index[scan], reason[scan], level[scan] = ei, rs, lv
    exit_time = np.where(exit_index >= 0, close_time[np.clip(exit_index, 0, None)], -1)
    return ExitPlan(
        entry_index=np.where(found, entry_index, -1), exit_index=exit_index,
        exit_time_ns=exit_time, reason=reason, underlying_exit=level,
        deadline_ns=deadline, too_late=too_late & found,
    )
