"""What the live provider feed costs per minute (``vwapcli paper --source <vendor>``).

Two numbers, on a scripted vendor (no network) and a simulated clock:

1. one poll per minute through a whole session (2024-06-20, 390 minute polls): the time
   per symbol of a poll that writes nothing (the vendor answers the whole day so far,
   ~960 bars with the extended hours; the feed keeps the regular session, checks and hands
   over the new bar), and of the polls that write the store (every 15 minutes + the close);
2. one store write of a day into a symbol whose year file already holds a full year of
   1-minute bars (~98,000): what writing every minute instead of every 15 would cost.

    .venv/bin/python bench/paper_provider_feed.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vwapcli.data.sessions import SessionCalendar
from vwapcli.data.store import BarStore
from vwapcli.paper.provider_feed import ProviderFeed

MINUTE_NS = 60_000_000_000


class SimulatedClock:
    def __init__(self, start_ns: int) -> None:
        self.now = start_ns

    def now_ns(self) -> int:
        return self.now

    def sleep_until(self, t_ns: int) -> None:
        self.now = max(self.now, t_ns)


class WholeDayVendor:
    """Serves every bar of 2024-06-20 (04:00-19:59 New York) that has closed by the clock's now."""

    name = "bench"
    requires_key: tuple[str, ...] = ()
    adjustment = "raw"

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        ts = pd.date_range("2024-06-20 08:00", "2024-06-20 23:59", freq="1min", tz="UTC").as_unit("ns")
        i = np.arange(len(ts), dtype="float64")
        self.bars = pd.DataFrame(
            {"ts": ts, "open": 100 + i / 100, "high": 100.05 + i / 100, "low": 99.95 + i / 100,
             "close": 100.01 + i / 100, "volume": 1000 + i}
        )
        self.closes = ts.asi8 + MINUTE_NS

    def fetch_bars(self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m") -> pd.DataFrame:
        return self.bars.loc[self.closes <= self.clock.now_ns()].reset_index(drop=True)


def session_polls(n_symbols: int, calendar: SessionCalendar) -> tuple[float, float, int]:
    symbols = tuple(f"S{i}" for i in range(n_symbols))
    clock = SimulatedClock(int(pd.Timestamp("2024-06-20 13:30", tz="UTC").value))
    store = BarStore(Path(tempfile.mkdtemp()) / "store")
    feed = ProviderFeed(WholeDayVendor(clock), symbols, clock, calendar=calendar, store=store)
    quiet, writing = [], []
    for minute in pd.date_range("2024-06-20 13:31", "2024-06-20 20:00", freq="1min", tz="UTC"):
        clock.sleep_until(int(minute.value))
        writes = feed.writes
        started = time.perf_counter()
        feed.poll(clock.now_ns())
        (writing if feed.writes > writes else quiet).append(time.perf_counter() - started)
    return statistics.median(quiet) / n_symbols, statistics.median(writing), len(writing)


def year_file_write(calendar: SessionCalendar) -> tuple[int, float]:
    sessions = calendar.sessions("2024-01-01", "2024-12-31")
    ts = np.concatenate(
        [np.arange(o.value, c.value, MINUTE_NS) for o, c in zip(sessions["open_utc"], sessions["close_utc"], strict=True)]
    )
    price = 100 + np.arange(len(ts)) * 1e-4
    frame = pd.DataFrame({"ts": pd.to_datetime(ts, utc=True), "open": price, "high": price + 0.05,
                          "low": price - 0.05, "close": price + 0.01, "volume": np.full(len(ts), 1000.0)})
    store = BarStore(Path(tempfile.mkdtemp()) / "store")
    store.write_bars("SPY", frame.iloc[:-390])
    day = frame.iloc[-390:]
    date = day["ts"].iloc[0].tz_convert("America/New_York").date()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        store.write_bars("SPY", day, replace_start=date, replace_end=date)
        times.append(time.perf_counter() - started)
    return len(ts), statistics.median(times)


def main() -> None:
    calendar = SessionCalendar()
    for n in (1, 10):
        per_symbol, writing, count = session_polls(n, calendar)
        print(f"{n:>2} symbol(s): poll without a write {per_symbol * 1e3:.1f} ms per symbol (median of 390 minutes); "
              f"{count} polls with a store write: median {writing * 1e3:.0f} ms in all")
    rows, seconds = year_file_write(calendar)
    print(f"one day's store write into a year file of {rows:,} bars: median {seconds * 1e3:.0f} ms "
          f"(x390 a day if written every minute; x26 every 15 minutes)")


if __name__ == "__main__":
    main()
