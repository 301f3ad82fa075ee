"""SPEC 9 exits over several sessions: each signal is scanned within its own session only,
against its own session's deadline; codes and plan shape.

Three sessions (EDT, New York = UTC - 4 h), flat bar indices in brackets:

    2024-03-11  [0] 15:00  100.0 100.1  99.9 100.0      (a one-bar session)
    2024-03-12  [1] 09:30  100.0 100.2  99.9 100.0
                [2] 09:31  100.0 100.4  99.8 100.3
                [3] 09:32  100.3 101.2 100.2 101.0
                [4] 09:33  101.0 101.1 100.6 100.8
    2024-03-13  [5] 09:30   99.0  99.2  98.0  98.5
                [6] 09:31   98.5  99.6  98.4  99.5
                [7] 09:32   99.5  99.7  99.3  99.6

Exit clock 15:50: no bar here reaches it, so only stops, targets and the end of data fire.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from builders.strategy import sessioned_bars
from vwapcli.exits import (
    EXIT_END_OF_DATA,
    EXIT_NONE,
    EXIT_REASONS,
    EXIT_STOP,
    EXIT_TARGET,
    EXIT_TIME,
    plan_exits,
)

MONDAY, TUESDAY, WEDNESDAY = dt.date(2024, 3, 11), dt.date(2024, 3, 12), dt.date(2024, 3, 13)
BARS = sessioned_bars("SPY", [
    (MONDAY, [("15:00", 100.0, 100.1, 99.9, 100.0, 1.0)]),
    (TUESDAY, [
        ("09:30", 100.0, 100.2, 99.9, 100.0, 1.0),
        ("09:31", 100.0, 100.4, 99.8, 100.3, 1.0),
        ("09:32", 100.3, 101.2, 100.2, 101.0, 1.0),
        ("09:33", 101.0, 101.1, 100.6, 100.8, 1.0),
    ]),
    (WEDNESDAY, [
        ("09:30", 99.0, 99.2, 98.0, 98.5, 1.0),
        ("09:31", 98.5, 99.6, 98.4, 99.5, 1.0),
        ("09:32", 99.5, 99.7, 99.3, 99.6, 1.0),
    ]),
])


def ny(day: dt.date, hh_mm: str) -> int:
    return int(pd.Timestamp(f"{day} {hh_mm}", tz="America/New_York").tz_convert("UTC").value)


def test_each_signal_exits_within_its_own_session() -> None:
    """a) long at Monday 15:01 (the session's only bar): nothing after it that day ->
       end of data at that bar [0], its close 100.0, 15:01.
    b) long at Tuesday 09:31 [1], stop 99.5, target 101: [2] stays inside, [3] high 101.2
       -> target 101.0 (opened 100.3 below it), 09:33.
    c) short at Tuesday 09:32 [2], stop 101.5, target 99: [3] and [4] stay inside ->
       end of data at Tuesday's last bar [4], close 100.8, 09:34 (Wednesday's [5], low
       98.0, would hit the target: it belongs to another session).
    d) long at Wednesday 09:31 [5], stop 97.5, target 99.5: [6] high 99.6 -> target 99.5.
    e) long stamped 09:34 Wednesday, after the last bar closed: no such bar, no exit.
    Deadlines are each session's own 15:50."""
    entries = [ny(MONDAY, "15:01"), ny(TUESDAY, "09:31"), ny(TUESDAY, "09:32"),
               ny(WEDNESDAY, "09:31"), ny(WEDNESDAY, "09:34")]
    plan = plan_exits(
        BARS, np.array(entries), np.array([True, True, False, True, True]),
        np.array([99.0, 99.5, 101.5, 97.5, 97.5]), np.array([101.0, 101.0, 99.0, 99.5, 99.5]),
        dt.time(15, 50),
    )
    assert plan.entry_index.tolist() == [0, 1, 2, 5, -1]
    assert plan.exit_index.tolist() == [0, 3, 4, 6, -1]
    assert plan.reason.tolist() == [EXIT_END_OF_DATA, EXIT_TARGET, EXIT_END_OF_DATA, EXIT_TARGET, EXIT_NONE]
    assert plan.underlying_exit[:4].tolist() == [100.0, 101.0, 100.8, 99.5]
    assert np.isnan(plan.underlying_exit[4])
    assert plan.exit_time_ns.tolist() == [ny(MONDAY, "15:01"), ny(TUESDAY, "09:33"), ny(TUESDAY, "09:34"),
                                          ny(WEDNESDAY, "09:32"), -1]
    assert plan.deadline_ns.tolist() == [ny(MONDAY, "15:50"), ny(TUESDAY, "15:50"), ny(TUESDAY, "15:50"),
                                         ny(WEDNESDAY, "15:50"), ny(WEDNESDAY, "15:50")]
    assert not plan.too_late.any()


def test_a_signal_after_the_last_bar_of_a_single_session_is_not_found() -> None:
    """One session, bars closing 09:31 and 09:32; a signal stamped 09:33 matches no bar:
    entry index -1, no exit; its deadline is that session's 15:50."""
    bars = sessioned_bars("SPY", [(TUESDAY, [("09:30", 100.0, 100.1, 99.9, 100.0, 1.0),
                                             ("09:31", 100.0, 100.1, 99.9, 100.0, 1.0)])])
    plan = plan_exits(bars, np.array([ny(TUESDAY, "09:33")]), np.array([True]), np.array([99.0]),
                      np.array([101.0]), dt.time(15, 50))
    assert (plan.entry_index.tolist(), plan.exit_index.tolist(), plan.reason.tolist()) == ([-1], [-1], [EXIT_NONE])
    assert plan.deadline_ns.tolist() == [ny(TUESDAY, "15:50")]


@pytest.mark.parametrize(
    ("long", "stop", "target", "first", "expected"),
    [
        # bar 1 touches the level; bar 2 would touch the opposite one (or the same again)
        (True, 99.0, 101.0, (100.0, 100.5, 98.9, 99.2), (EXIT_STOP, 99.0)),
        (True, 99.0, 101.0, (100.0, 101.1, 99.5, 101.0), (EXIT_TARGET, 101.0)),
        (False, 101.0, 99.0, (100.0, 101.1, 99.5, 101.0), (EXIT_STOP, 101.0)),
        (False, 101.0, 99.0, (100.0, 100.5, 98.9, 99.2), (EXIT_TARGET, 99.0)),
    ],
)
def test_the_first_exit_ends_the_scan(long, stop, target, first, expected) -> None:
    """Entry at bar 0's close; bar 1 exits; bar 2 spans 98.0-102.0 (it touches both levels)
    and bar 3 at 09:33 too: the exit stays bar 1's, at its level, at 09:32."""
    rows = [("09:30", 100.0, 100.1, 99.9, 100.0, 1.0), ("09:31", *first, 1.0),
            ("09:32", 100.0, 102.0, 98.0, 100.0, 1.0), ("09:33", 100.0, 102.0, 98.0, 100.0, 1.0)]
    bars = sessioned_bars("SPY", [(TUESDAY, rows)])
    plan = plan_exits(bars, np.array([ny(TUESDAY, "09:31")]), np.array([long]), np.array([stop]),
                      np.array([target]), dt.time(15, 50))
    assert (int(plan.reason[0]), float(plan.underlying_exit[0])) == expected
    assert plan.exit_time_ns.tolist() == [ny(TUESDAY, "09:32")]


def test_exit_codes_are_distinct_and_named_and_none_is_zero() -> None:
    """The scan starts every reason at 0 (no exit) and the engine names codes through
    EXIT_REASONS, which has no entry for 0 (too late / unmatched -> no reason)."""
    codes = [EXIT_NONE, EXIT_STOP, EXIT_TARGET, EXIT_TIME, EXIT_END_OF_DATA]
    assert EXIT_NONE == 0 and len(set(codes)) == 5
    assert EXIT_REASONS == {EXIT_STOP: "stop", EXIT_TARGET: "target", EXIT_TIME: "time",
                            EXIT_END_OF_DATA: "end_of_data"}


def test_an_exit_plan_cannot_be_changed_after_the_fact() -> None:
    """Plans are shared by every configuration of a sweep: they are frozen."""
    plan = plan_exits(BARS, np.array([ny(TUESDAY, "09:31")]), np.array([True]), np.array([99.5]),
                      np.array([101.0]), dt.time(15, 50))
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.reason = np.array([EXIT_STOP])  # type: ignore[misc]


def test_without_a_buffer_an_exit_clock_past_the_close_is_cut_to_the_close_exactly() -> None:
    """exit_clock 16:30 is after Tuesday's 16:00 close; with no exit_buffer_ns given the
    deadline is min(16:30, 16:00 - 0) = 16:00 to the nanosecond (SPEC 9), and a signal at
    09:31 is scanned (too_late False)."""
    plan = plan_exits(BARS, np.array([ny(TUESDAY, "09:31")]), np.array([True]), np.array([90.0]),
                      np.array([110.0]), dt.time(16, 30))
    assert plan.deadline_ns.tolist() == [ny(TUESDAY, "16:00")]
    assert plan.too_late.tolist() == [False]
