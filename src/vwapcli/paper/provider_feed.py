"""A live bar feed: each poll asks a market-data provider for today's newly closed bars (SPEC 12).

The paper loop polls a :class:`~vwapcli.paper.seams.BarFeed` once a minute (and again at
``retry_at_ns`` after an error). :class:`ProviderFeed` answers from a vendor adapter of
``vwapcli.data.providers`` with the same rules a backtest's data went through:

- **regular session only** (SPEC 3.2): ``keep_session_bars``, the filter ``fetch`` uses, so
  the pre-market, after-hours and closing-auction (16:00) bars never reach the loop;
- **known at its close** (no look-ahead): a bar is handed over only once its close
  ``ts + bar length`` is at or before ``now - data_delay`` (Alpaca's free SIP history ends
  15 minutes ago; a bar that straddles that edge may still be incomplete);
- **each bar once**: the bar starts handed over today are remembered per symbol; a bar the
  vendor serves late (even behind a later minute) arrives in a later poll, and a minute the
  vendor never serves simply never arrives: nothing waits for it, no symbol stalls;
- **valid bars only** (SPEC 3.3): a vendor bar that breaks a rule (high below low, a
  negative volume ...) is dropped, reported once, and neither handed over nor stored;
- **outages are reported, not raised**: a failed request backs off per symbol (5 s, 10 s,
  20 s, 40 s, then every 60 s; no jitter, so tests can assert the times) and is one line in
  ``FeedPoll.errors``; the other symbols keep flowing. The provider itself is built to try
  once per request (``RetryPolicy(max_attempts=1)``): retrying is this feed's job, so a
  poll never sits inside a vendor's own minute-long retry loop;
- **the store sees the same bars**: every bar handed over is written to the bar store
  through ``BarStore.write_bars`` (atomic, all-or-nothing per symbol), batched: once every
  ``flush_every`` (15 minutes by default), when a symbol's session is complete, and on
  :meth:`ProviderFeed.close`. Each write replaces that symbol's whole day with the bars
  known so far, so a crash between writes loses nothing that the next run does not
  refetch, and a later ``backtest`` over the day reads exactly what the loop consumed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.core.types import NEW_YORK, NS_PER_SECOND, timeframe_ns
from vwapcli.data.providers.base import (
    CalendarLike,
    Provider,
    data_delay,
    empty_bars,
    keep_session_bars,
    normalise_bars,
    provenance_label,
    require_keys,
)
from vwapcli.data.providers.http import RetryPolicy
from vwapcli.data.store_info import calendar_sessions
from vwapcli.data.validation import validate_bars
from vwapcli.errors import VwapcliError
from vwapcli.paper.seams import BarFeed, Clock, FeedPoll

logger = logging.getLogger("vwapcli.paper")

#: How often buffered bars are written to the store during a session (besides the
#: session's end and close()): a year file is rewritten per write, so not every minute.
DEFAULT_FLUSH_EVERY = pd.Timedelta(minutes=15)
#: One try per vendor request: the feed backs off itself and keeps the loop responsive.
LIVE_RETRY_POLICY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff without jitter: ``first``, doubling per failure, capped at ``cap``.

    Jitter spreads a fleet of clients; one paper session polling a vendor gains nothing
    from it, and a deterministic schedule is what the tests (and the panel) can state.
    """

    first_seconds: float = 5.0
    cap_seconds: float = 60.0

    def wait_ns(self, failures: int) -> int:
        """The wait after the ``failures``-th consecutive failure (1-based)."""
        seconds = min(self.cap_seconds, self.first_seconds * 2.0 ** max(0, failures - 1))
        return round(seconds * NS_PER_SECOND)


@dataclass
class _SymbolState:
    """What the feed remembers about one symbol for the current session."""

    session_date: dt.date | None = None
    handed: set[int] = field(default_factory=set)  # bar starts (ns) handed over this session
    known: pd.DataFrame = field(default_factory=empty_bars)  # final session bars, first version seen
    unwritten: int = 0  # bars in ``known`` not yet in the store
    failures: int = 0  # consecutive failed requests
    retry_at_ns: int | None = None
    complete: bool = False  # fetched after the close (+ delay): nothing more comes today
    rejected: set[int] = field(default_factory=set)  # bar starts dropped by SPEC 3.3 checks


def _starts_ns(bars: pd.DataFrame) -> np.ndarray:
    return bars["ts"].to_numpy("datetime64[ns]").astype("int64")


def _one_line(error: BaseException) -> str:
    """Our errors are already one readable line; a vendor SDK's gets its type in front."""
    text = " ".join(str(error).split())
    if isinstance(error, VwapcliError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class ProviderFeed:
    """A :class:`~vwapcli.paper.seams.BarFeed` over a market-data :class:`Provider`.

    ``store`` is anything with ``BarStore.write_bars`` (None: bars are not stored);
    ``calendar`` gives the day's session (``SessionCalendar``). ``poll`` never raises for
    a vendor problem; a store write that fails is reported the same way and retried at
    the next write.
    """

    def __init__(
        self,
        provider: Provider,
        symbols: tuple[str, ...],
        clock: Clock,
        *,
        calendar: CalendarLike,
        store: Any = None,
        timeframe: str = "1m",
        flush_every: pd.Timedelta = DEFAULT_FLUSH_EVERY,
        backoff: Backoff | None = None,
    ) -> None:
        self.provider = provider
        self.symbols = tuple(symbols)
        self.timeframe = timeframe
        self.clock = clock
        self.calendar = calendar
        self.store = store
        self.bar_ns = timeframe_ns(timeframe)
        self.delay_ns = int(data_delay(provider).value)
        self.flush_every_ns = int(pd.Timedelta(flush_every).value)
        self.backoff = backoff or Backoff()
        self.requests = 0  # vendor requests sent (what the poll-cost numbers divide by)
        self.writes = 0  # store writes done
        self._states = {symbol: _SymbolState() for symbol in self.symbols}
        self._sessions: dict[dt.date, tuple[int, int] | None] = {}
        self._last_flush_ns: int | None = None
        self._pending_errors: list[str] = []

    # ----- resume ------------------------------------------------------------------
    def mark_handed(self, symbol: str, bar_starts_ns: Iterable[int]) -> None:
        """Bars a previous run already consumed (from the journal): never hand them over again.

        Call before the first poll of a resumed session; starts outside the session
        being polled are forgotten at that poll.
        """
        self._states[symbol].handed.update(int(t) for t in bar_starts_ns)

    # ----- polling -----------------------------------------------------------------
    def poll(self, now_ns: int) -> FeedPoll:
        """Newly closed regular-session bars per symbol, errors, and when to poll again."""
        today = pd.Timestamp(now_ns, unit="ns", tz="UTC").tz_convert(NEW_YORK).date()
        session = self._session(today)
        bars: dict[str, pd.DataFrame] = {}
        errors: list[str] = self._pending_errors
        self._pending_errors = []
        retry: list[int] = []
        if self._last_flush_ns is None:
            self._last_flush_ns = now_ns
        for symbol in self.symbols:
            state = self._states[symbol]
            if state.session_date != today:
                errors.extend(self._write(symbol))  # the previous day's leftovers, if any
                self._start_session(state, today, session)
            if session is None or state.complete:
                continue
            open_ns, close_ns = session
            if now_ns < open_ns + self.bar_ns + self.delay_ns:
                continue  # no bar of today can be final yet: no request
            if state.retry_at_ns is not None and now_ns < state.retry_at_ns:
                retry.append(state.retry_at_ns)
                continue
            try:
                self.requests += 1
                fetched = normalise_bars(
                    self.provider.fetch_bars(symbol, [today], self.timeframe), self.provider.name
                )
            except Exception as error:  # a vendor SDK may raise anything; the loop must go on
                state.failures += 1
                wait_ns = self.backoff.wait_ns(state.failures)
                state.retry_at_ns = now_ns + wait_ns
                retry.append(state.retry_at_ns)
                line = (
                    f"{self.provider.name} {symbol}: {_one_line(error)} "
                    f"(failure {state.failures}; retry in {wait_ns / NS_PER_SECOND:g} s)"
                )
                logger.warning(line)
                errors.append(line)
                continue
            state.failures, state.retry_at_ns = 0, None
            new, rejected = self._take_new(symbol, fetched, open_ns, close_ns, now_ns)
            if rejected is not None:
                errors.append(rejected)
            if not new.empty:
                bars[symbol] = new
            if now_ns >= close_ns + self.delay_ns:
                state.complete = True
                errors.extend(self._write(symbol))  # the session's end: store it now
        if now_ns - self._last_flush_ns >= self.flush_every_ns:
            errors.extend(self.flush())
            self._last_flush_ns = now_ns
        return FeedPoll(bars=bars, errors=tuple(errors), retry_at_ns=min(retry) if retry else None)

    def _session(self, day: dt.date) -> tuple[int, int] | None:
        """(open, close) of ``day``'s regular session in UTC ns, None on a non-trading day."""
        if day not in self._sessions:
            sessions = calendar_sessions(self.calendar, day, day)
            if sessions.empty:
                self._sessions[day] = None
            else:
                row = sessions.iloc[0]
                self._sessions[day] = (int(row["open_utc"].value), int(row["close_utc"].value))
        return self._sessions[day]

    def _start_session(self, state: _SymbolState, day: dt.date, session: tuple[int, int] | None) -> None:
        open_ns, close_ns = session if session is not None else (0, 0)
        state.session_date = day
        state.handed = {t for t in state.handed if open_ns <= t < close_ns}
        state.known = empty_bars()
        state.unwritten = 0
        state.failures, state.retry_at_ns, state.complete = 0, None, False
        state.rejected = set()

    def _take_new(
        self, symbol: str, fetched: pd.DataFrame, open_ns: int, close_ns: int, now_ns: int
    ) -> tuple[pd.DataFrame, str | None]:
        """Final session bars of ``fetched`` not handed over before (and remember them).

        Bars new to the feed are checked against SPEC 3.3 as the store would check them;
        a bar that breaks a rule is dropped once, reported once, and never handed over or
        stored (the store and the loop see the same bars).
        """
        state = self._states[symbol]
        sessions = pd.DataFrame(
            {
                "open_utc": [pd.Timestamp(open_ns, unit="ns", tz="UTC")],
                "close_utc": [pd.Timestamp(close_ns, unit="ns", tz="UTC")],
            }
        )
        regular = keep_session_bars(fetched, sessions)  # SPEC 3.2, as fetch_into_store
        starts = _starts_ns(regular)
        final = starts + self.bar_ns <= now_ns - self.delay_ns
        seen = set(_starts_ns(state.known).tolist()) | state.rejected
        unseen = np.fromiter((t not in seen for t in starts.tolist()), dtype=bool, count=starts.size)
        candidates = regular.loc[final & unseen].reset_index(drop=True)
        if candidates.empty:
            return candidates, None
        clean, dropped = validate_bars(candidates, f"{self.provider.name} {symbol}", repair=True)
        report = None
        if dropped:
            kept = set(_starts_ns(clean).tolist())
            bad = [t for t in _starts_ns(candidates).tolist() if t not in kept]
            state.rejected.update(bad)
            first = pd.Timestamp(bad[0], unit="ns", tz="UTC").isoformat()
            report = f"{self.provider.name} {symbol}: dropped {dropped} bar(s) breaking SPEC 3.3 (first {first})"
            logger.warning(report)
        # First version wins: the store keeps exactly what the loop was given.
        state.known = pd.concat([state.known, clean], ignore_index=True).sort_values("ts", kind="stable")
        state.known = state.known.reset_index(drop=True)
        state.unwritten += len(clean)
        clean_starts = _starts_ns(clean).tolist()
        is_new = [t not in state.handed for t in clean_starts]
        state.handed.update(t for t, flag in zip(clean_starts, is_new, strict=True) if flag)
        return clean.loc[is_new].reset_index(drop=True), report

    # ----- the store ---------------------------------------------------------------
    def flush(self) -> list[str]:
        """Write every symbol's unwritten bars to the store; the failures as one line each."""
        errors: list[str] = []
        for symbol in self.symbols:
            errors.extend(self._write(symbol))
        return errors

    def close(self) -> None:
        """End of the run (session end, Ctrl-C): store what is not stored yet.

        A write that fails here is logged: the next run refetches the day anyway.
        """
        for line in self.flush():
            logger.warning(line)

    def _write(self, symbol: str) -> list[str]:
        state = self._states[symbol]
        if self.store is None or state.unwritten == 0 or state.known.empty:
            return []
        day = state.session_date
        try:
            self.store.write_bars(
                symbol, state.known, timeframe=self.timeframe,
                provenance=provenance_label(self.provider),
                source=f"paper {self.provider.name} {symbol} {self.timeframe} {day}",
                replace_start=day, replace_end=day,
            )
        except (VwapcliError, OSError) as error:
            line = f"store write of {symbol} {day} failed: {_one_line(error)} (retried at the next write)"
            logger.warning(line)
            return [line]
        self.writes += 1
        state.unwritten = 0
        return []


def build_provider_feed(
    source: str,
    symbols: tuple[str, ...],
    clock: Clock,
    *,
    store_path: Path,
    console: Any = None,
    environ: Any = None,
    calendar: CalendarLike | None = None,
) -> BarFeed:
    """The live feed for ``vwapcli paper --source alpaca|polygon|databento|yfinance``.

    An unknown source or a missing key is one ``ProviderError`` line here, before the loop
    starts; everything that goes wrong later is reported per poll. Bars are written into
    the store at ``store_path`` (created when missing).
    """
    from vwapcli.data.providers import get_provider
    from vwapcli.data.sessions import SessionCalendar
    from vwapcli.data.store import BarStore

    provider = get_provider(source, console=console, environ=environ, policy=LIVE_RETRY_POLICY)
    require_keys(provider.name, provider.requires_key, environ)
    store = BarStore(store_path)
    store.prepare_for_write()
    return ProviderFeed(
        provider, tuple(symbols), clock, calendar=calendar or SessionCalendar(), store=store,
    )


__all__ = ["DEFAULT_FLUSH_EVERY", "LIVE_RETRY_POLICY", "Backoff", "ProviderFeed", "build_provider_feed"]
