"""The live provider feed on a scripted vendor and a fake clock: nothing here sleeps.

Session: Thursday 2024-06-20, NYSE 09:30-16:00 New York = 13:30-20:00 UTC (EDT, UTC-4).
The fake vendor holds a full day of 1-minute bars, 04:00-19:59 New York (pre-market,
regular session, after hours), each bar "published" at a time the test chooses (by
default its close, ts + 1 minute), and fails every request inside the windows it is
given. Expected bars are derived from the vendor's table by hand-stated rules (which
minutes, which times), never from the feed's own output.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vwapcli.data.sessions import SessionCalendar
from vwapcli.data.store import BarStore
from vwapcli.errors import ProviderError, StoreError
from vwapcli.paper.provider_feed import Backoff, ProviderFeed, build_provider_feed
from vwapcli.paper.seams import BarFeed

DAY = dt.date(2024, 6, 20)
OPEN = pd.Timestamp("2024-06-20 13:30", tz="UTC")
CLOSE = pd.Timestamp("2024-06-20 20:00", tz="UTC")
MINUTE = pd.Timedelta(minutes=1)
NS = 1_000_000_000


def ns(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).value)


class FakeClock:
    """The paper clock seam: ``now`` moves only when the test says so."""

    def __init__(self, start: pd.Timestamp) -> None:
        self.now = ns(start)

    def now_ns(self) -> int:
        return self.now

    def sleep_until(self, t_ns: int) -> None:
        self.now = max(self.now, t_ns)


class ScriptedVendor:
    """A Provider whose bars appear at scripted times and whose requests fail in windows.

    Bar ``i`` of the day (04:00 NY + i minutes) has open = 100 + i/100, close = open + 0.01,
    high = close + 0.02, low = open - 0.02, volume = 1000 + i: distinct per minute, so a
    bar handed over twice or out of place shows in the values.
    """

    name = "scripted"
    requires_key: tuple[str, ...] = ()
    adjustment = "raw"

    def __init__(self, clock: FakeClock, data_delay: pd.Timedelta | None = None) -> None:
        self.clock = clock
        if data_delay is not None:
            self.data_delay = data_delay
        starts = pd.date_range("2024-06-20 08:00", "2024-06-20 23:59", freq="1min", tz="UTC").as_unit("ns")
        i = np.arange(len(starts), dtype="float64")
        self.table = pd.DataFrame(
            {
                "ts": starts,
                "open": 100 + i / 100,
                "high": 100 + i / 100 + 0.03,
                "low": 100 + i / 100 - 0.02,
                "close": 100 + i / 100 + 0.01,
                "volume": 1000 + i,
            }
        )
        self.published = self.table["ts"] + MINUTE  # when the vendor serves each bar
        self.never: set[pd.Timestamp] = set()  # minutes the vendor never serves
        self.failing: list[tuple[int, int]] = []  # [from, to) ns windows in which requests fail
        self.requests: list[int] = []

    def publish_late(self, minute: str, at: str) -> None:
        self.published[self.table["ts"] == pd.Timestamp(minute, tz="UTC")] = pd.Timestamp(at, tz="UTC")

    def fetch_bars(self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m") -> pd.DataFrame:
        now = self.clock.now_ns()
        self.requests.append(now)
        if any(lo <= now < hi for lo, hi in self.failing):
            raise ProviderError(f"scripted: 503 Service Unavailable for {symbol}")
        served = (self.published.astype("int64") <= now) & ~self.table["ts"].isin(self.never)
        return self.table.loc[served].reset_index(drop=True)

    def bar(self, minute: str) -> pd.Series:
        return self.table.loc[self.table["ts"] == pd.Timestamp(minute, tz="UTC")].iloc[0]


@pytest.fixture(scope="module")
def calendar() -> SessionCalendar:
    return SessionCalendar()


def make_feed(
    calendar: SessionCalendar, start: str, *, symbols: tuple[str, ...] = ("SPY",), store: BarStore | None = None,
    delay: pd.Timedelta | None = None, flush_every: pd.Timedelta = pd.Timedelta(minutes=15),
) -> tuple[ProviderFeed, ScriptedVendor, FakeClock]:
    clock = FakeClock(pd.Timestamp(start, tz="UTC"))
    vendor = ScriptedVendor(clock, delay)
    feed = ProviderFeed(vendor, symbols, clock, calendar=calendar, store=store, flush_every=flush_every)
    return feed, vendor, clock


def poll_at(feed: ProviderFeed, clock: FakeClock, when: str):
    clock.sleep_until(ns(pd.Timestamp(when, tz="UTC")))
    return feed.poll(clock.now_ns())


def starts(frame: pd.DataFrame) -> list[str]:
    return [ts.strftime("%H:%M") for ts in frame["ts"]]


def test_the_feed_is_a_bar_feed_of_the_symbols_it_was_given(calendar: SessionCalendar) -> None:
    feed, _, _ = make_feed(calendar, "2024-06-20 13:00", symbols=("SPY", "QQQ"))
    assert isinstance(feed, BarFeed)
    assert feed.symbols == ("SPY", "QQQ") and feed.timeframe == "1m"


def test_the_first_poll_after_the_open_hands_over_only_regular_session_bars_that_have_closed(
    calendar: SessionCalendar,
) -> None:
    """At 13:35:30 UTC the vendor serves every bar from 08:00 (04:00 NY) to 13:34 (closed at
    13:35). Pre-market bars (before 13:30) are dropped (SPEC 3.2); 13:30..13:34 remain: five."""
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00")
    poll = poll_at(feed, clock, "2024-06-20 13:35:30")
    assert starts(poll.bars["SPY"]) == ["13:30", "13:31", "13:32", "13:33", "13:34"]
    assert poll.errors == () and poll.retry_at_ns is None
    first = poll.bars["SPY"].iloc[0]
    expected = vendor.bar("2024-06-20 13:30")
    assert [first[c] for c in ("open", "high", "low", "close", "volume")] == [
        expected[c] for c in ("open", "high", "low", "close", "volume")
    ]


def test_a_bar_still_forming_is_not_handed_over_even_when_the_vendor_already_serves_it(
    calendar: SessionCalendar,
) -> None:
    """A vendor may serve the current minute's partial bar. At 13:32:30 the bar starting at
    13:32 closes only at 13:33, so it must wait: 13:30 and 13:31 only (no look-ahead)."""
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00")
    vendor.published = vendor.table["ts"]  # served from the bar's START: partial bars
    poll = poll_at(feed, clock, "2024-06-20 13:32:30")
    assert starts(poll.bars["SPY"]) == ["13:30", "13:31"]


def test_before_the_first_bar_can_close_the_vendor_is_not_asked(calendar: SessionCalendar) -> None:
    """Polls at 09:00 NY and at 13:30:59 UTC (first bar closes 13:31) send no request."""
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00")
    assert poll_at(feed, clock, "2024-06-20 13:00").bars == {}
    assert poll_at(feed, clock, "2024-06-20 13:30:59").bars == {}
    assert vendor.requests == []


def test_nothing_is_handed_over_twice_across_minute_polls(calendar: SessionCalendar) -> None:
    """Polls each minute from 13:31 to 13:40 hand over 13:30..13:39, one per poll, once each."""
    feed, _, clock = make_feed(calendar, "2024-06-20 13:00")
    handed: list[str] = []
    for minute in range(31, 41):
        poll = poll_at(feed, clock, f"2024-06-20 13:{minute}:00")
        assert starts(poll.bars["SPY"]) == [f"13:{minute - 1}"]
        handed += starts(poll.bars["SPY"])
    assert handed == [f"13:{m}" for m in range(30, 40)]
    assert poll_at(feed, clock, "2024-06-20 13:40:30").bars == {}  # same minute again: nothing new


def test_a_late_bar_arrives_in_a_later_poll_and_a_missing_minute_never_stalls_the_others(
    calendar: SessionCalendar,
) -> None:
    """13:32 is published late (13:35:10), 13:33 never. Polls at 13:33, :34, :35, :36:
    13:32 (late) [nothing]; 13:34 [13:33]... worked out per poll:

    - 13:33:00: served 13:30, 13:31 -> [13:30, 13:31]
    - 13:34:00: 13:32 not yet, 13:33 never -> []
    - 13:35:00: 13:34 closed -> [13:34]
    - 13:36:00: 13:32 now served (late), 13:35 closed -> [13:32, 13:35] (sorted, 13:33 absent)
    - QQQ, same vendor table, is not held back by SPY's gap: it gets the same minutes.
    """
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00", symbols=("SPY", "QQQ"))
    vendor.publish_late("2024-06-20 13:32", "2024-06-20 13:35:10")
    vendor.never.add(pd.Timestamp("2024-06-20 13:33", tz="UTC"))
    expected = {"13:33": ["13:30", "13:31"], "13:34": [], "13:35": ["13:34"], "13:36": ["13:32", "13:35"]}
    for when, minutes in expected.items():
        poll = poll_at(feed, clock, f"2024-06-20 {when}:00")
        for symbol in ("SPY", "QQQ"):
            assert starts(poll.bars.get(symbol, pd.DataFrame({"ts": []}))) == minutes, (when, symbol)


def test_a_provider_outage_of_three_minutes_backs_off_5_10_20_40_seconds_then_recovers(
    calendar: SessionCalendar,
) -> None:
    """Every request from 13:40:00 to 13:43:00 fails. The loop polls at each retry time:

    failure 1 at 13:40:00 -> retry 13:40:05 (5 s); 2 -> 13:40:15 (10 s); 3 -> 13:40:35 (20 s);
    4 -> 13:41:15 (40 s); 5 -> 13:42:15 (60 s cap); 6 -> 13:43:15 (60 s); at 13:43:15 the
    vendor answers again: every bar closed since 13:39 (13:39..13:42) arrives at once.
    A poll inside a backoff (13:40:02) sends no request and repeats the retry time.
    """
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00")
    assert starts(poll_at(feed, clock, "2024-06-20 13:39:00").bars["SPY"])[-1] == "13:38"
    vendor.failing.append((ns(pd.Timestamp("2024-06-20 13:40", tz="UTC")), ns(pd.Timestamp("2024-06-20 13:43", tz="UTC"))))
    schedule = ["13:40:00", "13:40:05", "13:40:15", "13:40:35", "13:41:15", "13:42:15"]
    retry_times = []
    for when in schedule:
        poll = poll_at(feed, clock, f"2024-06-20 {when}")
        assert poll.bars == {}
        assert len(poll.errors) == 1 and "503 Service Unavailable" in poll.errors[0]
        assert "\n" not in poll.errors[0]
        retry_times.append(pd.Timestamp(poll.retry_at_ns, unit="ns", tz="UTC").strftime("%H:%M:%S"))
        if when == "13:40:00":
            requests_before = len(vendor.requests)
            inside = poll_at(feed, clock, "2024-06-20 13:40:02")
            assert inside.errors == () and inside.retry_at_ns == poll.retry_at_ns
            assert len(vendor.requests) == requests_before
    assert retry_times == ["13:40:05", "13:40:15", "13:40:35", "13:41:15", "13:42:15", "13:43:15"]
    recovered = poll_at(feed, clock, "2024-06-20 13:43:15")
    assert starts(recovered.bars["SPY"]) == ["13:39", "13:40", "13:41", "13:42"]
    assert recovered.errors == () and recovered.retry_at_ns is None


def test_backoff_doubles_from_five_seconds_and_stops_at_sixty() -> None:
    assert [Backoff().wait_ns(n) / NS for n in range(1, 8)] == [5, 10, 20, 40, 60, 60, 60]


def test_one_failing_symbol_does_not_hold_back_the_others(calendar: SessionCalendar) -> None:
    """QQQ's requests fail; SPY's bars still arrive in the same poll."""
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00", symbols=("SPY", "QQQ"))
    real_fetch = vendor.fetch_bars

    def fetch(symbol: str, session_dates: list[dt.date], timeframe: str = "1m") -> pd.DataFrame:
        if symbol == "QQQ":
            raise ConnectionError("connection reset")
        return real_fetch(symbol, session_dates, timeframe)

    vendor.fetch_bars = fetch  # type: ignore[method-assign]
    poll = poll_at(feed, clock, "2024-06-20 13:32:00")
    assert starts(poll.bars["SPY"]) == ["13:30", "13:31"] and "QQQ" not in poll.bars
    assert poll.errors == ("scripted QQQ: ConnectionError: connection reset (failure 1; retry in 5 s)",)


def test_the_providers_data_delay_holds_bars_back_until_it_has_passed(calendar: SessionCalendar) -> None:
    """A 15-minute delay (Alpaca SIP, free plan): at 13:50:00 only bars closed by 13:35:00 are
    final: 13:30..13:34. At 13:45:00 nothing is asked (first bar final at 13:46)."""
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00", delay=pd.Timedelta(minutes=15))
    assert poll_at(feed, clock, "2024-06-20 13:45:00").bars == {} and vendor.requests == []
    poll = poll_at(feed, clock, "2024-06-20 13:50:00")
    assert starts(poll.bars["SPY"]) == ["13:30", "13:31", "13:32", "13:33", "13:34"]


def test_after_hours_bars_are_dropped_and_the_session_ends_at_the_close(calendar: SessionCalendar) -> None:
    """At 20:30 UTC the vendor serves up to 20:29; the last session bar is 19:59 (15:59 NY).
    The closing-auction bar (20:00) and after-hours bars are dropped; a later poll asks nothing."""
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00")
    poll = poll_at(feed, clock, "2024-06-20 20:30:00")
    assert len(poll.bars["SPY"]) == 390
    assert starts(poll.bars["SPY"])[0] == "13:30" and starts(poll.bars["SPY"])[-1] == "19:59"
    asked = len(vendor.requests)
    assert poll_at(feed, clock, "2024-06-20 21:00:00").bars == {}
    assert len(vendor.requests) == asked


def test_a_vendor_bar_breaking_a_spec_rule_is_dropped_reported_once_and_never_stored(
    calendar: SessionCalendar, tmp_path: Path
) -> None:
    """The vendor's 13:31 bar has high 90 below its low (~105.3): SPEC 3.3 rejects it. At
    13:33 the feed hands over 13:30 and 13:32 and says so in one line; at 13:34 only 13:33
    and no repeated complaint; the store holds 13:30, 13:32, 13:33."""
    store = BarStore(tmp_path / "store")
    feed, vendor, clock = make_feed(calendar, "2024-06-20 13:00", store=store)
    vendor.table.loc[vendor.table["ts"] == pd.Timestamp("2024-06-20 13:31", tz="UTC"), "high"] = 90.0
    first = poll_at(feed, clock, "2024-06-20 13:33:00")
    assert starts(first.bars["SPY"]) == ["13:30", "13:32"]
    assert first.errors == ("scripted SPY: dropped 1 bar(s) breaking SPEC 3.3 (first 2024-06-20T13:31:00+00:00)",)
    second = poll_at(feed, clock, "2024-06-20 13:34:00")
    assert starts(second.bars["SPY"]) == ["13:33"] and second.errors == ()
    feed.close()
    assert starts(store.read_bars("SPY", DAY, DAY)) == ["13:30", "13:32", "13:33"]


def test_a_weekend_day_asks_nothing(calendar: SessionCalendar) -> None:
    feed, vendor, clock = make_feed(calendar, "2024-06-22 14:00")
    assert poll_at(feed, clock, "2024-06-22 15:00").bars == {}
    assert vendor.requests == []


def test_bars_marked_as_consumed_by_a_resumed_run_are_not_handed_over_again(calendar: SessionCalendar) -> None:
    """The journal says 13:30..13:32 were consumed before the crash: at 13:35 only 13:33, 13:34."""
    feed, _, clock = make_feed(calendar, "2024-06-20 13:00")
    feed.mark_handed("SPY", [ns(pd.Timestamp(f"2024-06-20 13:3{m}", tz="UTC")) for m in range(3)])
    assert starts(poll_at(feed, clock, "2024-06-20 13:35:00").bars["SPY"]) == ["13:33", "13:34"]


def test_the_store_receives_exactly_the_handed_bars_in_batches_and_at_the_close(
    calendar: SessionCalendar, tmp_path: Path
) -> None:
    """Minute polls 13:31..20:01 with a 15-minute write interval: the store is written at
    13:46 (15 min after the first poll), every 15 minutes after, and at 20:00, when the
    session's last bar (19:59) is final; bars read
    back with BarStore equal the concatenation of every bar handed over (390 bars)."""
    store = BarStore(tmp_path / "store")
    feed, _, clock = make_feed(calendar, "2024-06-20 13:30", store=store)
    handed = []
    written_at = []
    for minute in pd.date_range("2024-06-20 13:31", "2024-06-20 20:01", freq="1min", tz="UTC"):
        before = feed.writes
        clock.sleep_until(ns(minute))
        poll = feed.poll(clock.now_ns())
        assert poll.errors == ()
        handed.extend(frame for frame in poll.bars.values())
        if feed.writes > before:
            written_at.append(minute.strftime("%H:%M"))
    assert written_at[:3] == ["13:46", "14:01", "14:16"]
    assert written_at[-1] == "20:00"  # the session's end (the 19:59 bar is final at 20:00)
    # 13:46 .. 19:46 every 15 minutes: 25 writes; then the session's end at 20:00; the
    # 20:01 interval finds nothing unwritten.
    assert len(written_at) == 26
    stored = store.read_bars("SPY", DAY, DAY)
    expected = pd.concat(handed, ignore_index=True)
    assert len(stored) == 390
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), expected, check_dtype=True)
    feed.close()  # nothing left to write
    pd.testing.assert_frame_equal(store.read_bars("SPY", DAY, DAY).reset_index(drop=True), expected)


def test_close_writes_what_the_batch_interval_has_not_written_yet(calendar: SessionCalendar, tmp_path: Path) -> None:
    """Stopped at 13:40 (Ctrl-C): nothing written yet (interval 15 min); close() stores 13:30..13:39."""
    store = BarStore(tmp_path / "store")
    feed, _, clock = make_feed(calendar, "2024-06-20 13:30", store=store)
    for minute in range(31, 41):
        poll_at(feed, clock, f"2024-06-20 13:{minute}:00")
    assert feed.writes == 0 and store.symbols() == []
    feed.close()
    assert starts(store.read_bars("SPY", DAY, DAY)) == [f"13:{m}" for m in range(30, 40)]
    assert "scripted (raw prices)" in store.provenance("SPY")


def test_a_failed_store_write_is_reported_and_retried_at_the_next_write(calendar: SessionCalendar) -> None:
    class FlakyStore:
        def __init__(self) -> None:
            self.calls = 0
            self.frames: list[pd.DataFrame] = []

        def write_bars(self, symbol: str, df: pd.DataFrame, **options: object) -> None:
            self.calls += 1
            if self.calls == 1:
                raise StoreError("disk full")
            self.frames.append(df)

    store = FlakyStore()
    feed, _, clock = make_feed(calendar, "2024-06-20 13:30", store=store, flush_every=pd.Timedelta(minutes=2))  # type: ignore[arg-type]
    poll_at(feed, clock, "2024-06-20 13:31:00")
    failed = poll_at(feed, clock, "2024-06-20 13:33:00")
    assert failed.errors == ("store write of SPY 2024-06-20 failed: disk full (retried at the next write)",)
    poll_at(feed, clock, "2024-06-20 13:35:00")
    assert starts(store.frames[-1]) == ["13:30", "13:31", "13:32", "13:33", "13:34"]


def test_an_unknown_source_or_a_missing_key_fails_in_one_line_at_build_time(tmp_path: Path) -> None:
    clock = FakeClock(OPEN)
    with pytest.raises(ProviderError, match=r"^unknown data source 'nasdaq'"):
        build_provider_feed("nasdaq", ("SPY",), clock, store_path=tmp_path / "s")
    with pytest.raises(ProviderError, match=r"^polygon: POLYGON_API_KEY is not set$"):
        build_provider_feed("polygon", ("SPY",), clock, store_path=tmp_path / "s", environ={})


def test_a_built_feed_asks_the_vendor_once_per_request(tmp_path: Path) -> None:
    """The vendor's own retry loop is off (one attempt): retrying is the feed's job."""
    feed = build_provider_feed(
        "polygon", ("SPY",), FakeClock(OPEN), store_path=tmp_path / "s", environ={"POLYGON_API_KEY": "k"}
    )
    assert isinstance(feed, ProviderFeed)
    assert feed.provider._policy.max_attempts == 1  # type: ignore[attr-defined]
