"""The replay feed hands over a stored bar only once its close time has come, and never twice."""

from __future__ import annotations

import datetime as dt

import numpy as np

from vwapcli.data.sessions import assign_session_arrays
from vwapcli.paper.replay_feed import ReplayFeed
from vwapcli.paper.seams import BarFeed

MINUTE = 60_000_000_000
OPEN_2024_03_12 = 1710250200 * 1_000_000_000  # 09:30 New York (EDT) = 13:30 UTC


def _bars(n: int = 5):  # type: ignore[no-untyped-def]
    ts = OPEN_2024_03_12 + MINUTE * np.arange(n, dtype=np.int64)
    price = 100.0 + np.arange(n, dtype=np.float64)
    return assign_session_arrays(ts, price, price + 1, price - 1, price, np.full(n, 10.0), "SPY", "1m", "XNYS")


def test_a_bar_is_handed_over_at_its_close_not_before() -> None:
    """Bar 0 starts 09:30 and closes 09:31: a poll at 09:30:59 sees nothing, at 09:31 sees it."""
    feed = ReplayFeed({"SPY": _bars()}, dt.date(2024, 3, 12), dt.date(2024, 3, 12), "1m")
    assert isinstance(feed, BarFeed)
    assert feed.poll(OPEN_2024_03_12 + MINUTE - 1).bars == {}
    first = feed.poll(OPEN_2024_03_12 + MINUTE).bars["SPY"]
    assert first["close"].tolist() == [100.0]
    assert first["ts"].iloc[0].value == OPEN_2024_03_12


def test_a_late_poll_gets_every_bar_closed_since_and_none_twice() -> None:
    feed = ReplayFeed({"SPY": _bars()}, dt.date(2024, 3, 12), None, "1m")
    feed.poll(OPEN_2024_03_12 + MINUTE)
    caught_up = feed.poll(OPEN_2024_03_12 + 3 * MINUTE).bars["SPY"]
    assert caught_up["close"].tolist() == [101.0, 102.0]
    assert feed.poll(OPEN_2024_03_12 + 3 * MINUTE).bars == {}
    assert not feed.exhausted
    feed.poll(OPEN_2024_03_12 + 10 * MINUTE)
    assert feed.exhausted and feed.first_close_ns() is None


def test_a_resumed_feed_skips_the_bars_already_consumed() -> None:
    feed = ReplayFeed({"SPY": _bars()}, None, None, "1m", after_ns={"SPY": OPEN_2024_03_12 + MINUTE})
    assert feed.first_close_ns() == OPEN_2024_03_12 + 3 * MINUTE  # bar 2 (09:32) is next
    assert feed.poll(OPEN_2024_03_12 + 10 * MINUTE).bars["SPY"]["close"].tolist() == [102.0, 103.0, 104.0]


def test_sessions_outside_the_range_are_not_replayed() -> None:
    feed = ReplayFeed({"SPY": _bars()}, dt.date(2024, 3, 13), None, "1m")
    assert feed.exhausted and feed.poll(OPEN_2024_03_12 + 10 * MINUTE).bars == {}
