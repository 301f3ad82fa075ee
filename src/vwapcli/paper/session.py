"""One paper session: the loop that polls the feed, journals, decides and publishes.

Write-ahead order: the bars of each close time are journaled (fsynced) before the engine
sees them; the events they cause are journaled next, then sent to the broker, then the
run folder's tables are republished. A crash anywhere leaves a journal from which
:meth:`PaperSession.resume` rebuilds the same engine state by feeding the journaled bars
again (the engine is deterministic): events already journaled are not written twice, an
order without a journaled broker answer is reconciled, then re-sent under the same
client order id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.paper.incremental import Bar, Event, IncrementalEngine
from vwapcli.paper.journal import Journal
from vwapcli.paper.orders import ack_record, order_for
from vwapcli.paper.seams import BarFeed, Broker, Clock, FeedPoll

log = logging.getLogger("vwapcli.paper")

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")

#: Called after each loop turn with the session (the live panel, the table writer).
Publisher = Callable[["PaperSession"], None]


def bars_by_close(poll: FeedPoll, bar_ns: int) -> list[tuple[int, dict[str, Bar]]]:
    """A poll's bars grouped by close time, oldest first (one engine step each)."""
    steps: dict[int, dict[str, Bar]] = {}
    for symbol, frame in poll.bars.items():
        if not len(frame):
            continue
        stamps = frame["ts"]
        if isinstance(stamps.dtype, pd.DatetimeTZDtype) and stamps.dtype.unit == "ns":
            ts = stamps.array.asi8.tolist()  # the fast path: a poll is often one bar
        else:
            ts = pd.DatetimeIndex(stamps).as_unit("ns").asi8.tolist()
        columns = [frame[c].to_numpy(dtype=np.float64).tolist() for c in PRICE_COLUMNS]
        for k, start in enumerate(ts):
            steps.setdefault(start + bar_ns, {})[symbol] = (start, *(column[k] for column in columns))
    return sorted(steps.items())


class PaperSession:
    """The engine, its journal and the broker, driven by a clock and a feed."""

    def __init__(
        self,
        engine: IncrementalEngine,
        journal: Journal,
        broker: Broker,
        run_id: str,
        bar_ns: int,
        day_grace_ns: int,
    ) -> None:
        self.engine = engine
        self.journal = journal
        self.broker = broker
        self.run_id = run_id
        self.bar_ns = bar_ns
        self.day_grace_ns = day_grace_ns
        self.events_seen = 0  # engine events derived so far (journaled or re-derived)
        self.events_journaled = 0
        self.acked: set[str] = set()
        self.changed = True  # the tables need publishing
        self.last_now_ns: int | None = None
        self.last_errors: tuple[str, ...] = ()
        self.bars_consumed = 0

    # ---- resume -------------------------------------------------------------------------
    def resume(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Rebuild the engine from a journal's records (header first), then settle orders
        whose broker answer was lost."""
        self.events_journaled = sum(1 for r in records if "event" in r)
        self.acked = {str(r["client_order_id"]) for r in records if r.get("kind") == "ack"}
        for record in records:
            kind = record.get("kind")
            if kind == "bars":
                bars = {s: tuple(v) for s, v in record["bars"].items()}
                self._handle(self.engine.step(int(record["t"]), bars, int(record["now"])))
                self.bars_consumed += len(bars)
                self.last_now_ns = int(record["now"])
            elif kind == "close_day":
                self._handle(self.engine.close_day())
                self.last_now_ns = int(record["now"])

    # ---- events -------------------------------------------------------------------------
    def _handle(self, events: list[Event]) -> None:
        for event in events:
            number = self.events_seen
            self.events_seen += 1
            if number >= self.events_journaled:
                kind = event["kind"]
                self.journal.append(kind, {**{k: v for k, v in event.items() if k != "kind"}, "event": number})
                self.events_journaled += 1
                _log_event(event)
            if event["kind"] in ("skip", "close", "day"):
                self.changed = True
            order = order_for(self.run_id, event)
            if order is not None and order.client_order_id not in self.acked:
                self._send(order)

    def _send(self, order: Any) -> None:
        known = self.broker.reconcile([order.client_order_id]).get(order.client_order_id)
        ack = known if known is not None else self.broker.submit(order)
        self.journal.append("ack", ack_record(ack))
        self.acked.add(order.client_order_id)

    # ---- the loop -----------------------------------------------------------------------
    def turn(self, feed: BarFeed, now_ns: int) -> FeedPoll:
        """One poll: journal and feed its bars, close the day when it is over."""
        self.last_now_ns = now_ns
        poll = feed.poll(now_ns)
        self.last_errors = poll.errors
        for error in poll.errors:
            self.journal.append("feed_error", {"now": now_ns, "error": error})
            log.warning("feed: %s", error)
        for close_ns, bars in bars_by_close(poll, self.bar_ns):
            self.journal.append("bars", {"t": close_ns, "now": now_ns, "bars": {s: list(b) for s, b in bars.items()}})
            self.bars_consumed += len(bars)
            self._handle(self.engine.step(close_ns, bars, now_ns))
        due = self.engine.day_due_ns(self.day_grace_ns)
        if due is not None and now_ns >= due:
            self.journal.append("close_day", {"now": now_ns})
            self._handle(self.engine.close_day())
        return poll

    def next_wake_ns(self, now_ns: int, poll: FeedPoll, feed: BarFeed) -> int:
        """The next time worth polling: the next bar close (the replay's next bar), the
        feed's retry time after an error, or the end of the current session."""
        wakes: list[int] = []
        upcoming = getattr(feed, "first_close_ns", None)
        if callable(upcoming):
            nxt = upcoming()
            if nxt is not None:
                wakes.append(int(nxt))
        else:
            next_bar = (now_ns // self.bar_ns + 1) * self.bar_ns
            opens = self.engine.next_session_open_ns(now_ns) if self.engine.day is None else None
            # Between sessions a live feed is not polled every minute: the first bar of the
            # next session closes one bar after its open.
            wakes.append(max(next_bar, opens + self.bar_ns) if opens is not None else next_bar)
        if poll.retry_at_ns is not None:
            wakes.append(int(poll.retry_at_ns))
        due = self.engine.day_due_ns(self.day_grace_ns)
        if due is not None:
            wakes.append(due)
        later = [w for w in wakes if w > now_ns]
        return min(later) if later else now_ns + self.bar_ns

    def run(
        self,
        feed: BarFeed,
        clock: Clock,
        finished: Callable[[int], bool],
        publish: Publisher,
    ) -> None:
        """Poll, decide, publish, wait; until ``finished(now)``."""
        while True:
            now = clock.now_ns()
            poll = self.turn(feed, now)
            publish(self)
            if finished(now):
                return
            clock.sleep_until(self.next_wake_ns(now, poll, feed))


def _log_event(event: Event) -> None:
    kind = event["kind"]
    strategy = event.get("strategy")
    if kind == "skip":
        log.info("skipped %s %s: %s %s", event["symbol"], event["entry_time_ns"], event["reason"], event["detail"],
                 extra={"strategy": strategy})
    elif kind == "open":
        log.info("open trade %s %s %g/%g%s x%s debit %.2f", event["trade_id"], event["symbol"], event["k_long"],
                 event["k_short"], event["right"], event["contracts"], event["entry_debit"], extra={"strategy": strategy})
    elif kind == "close":
        log.info("close trade %s %s %s credit %.2f pnl %.2f", event["trade_id"], event["symbol"], event["exit_reason"],
                 event["exit_credit"], event["pnl"], extra={"strategy": strategy})
    elif kind == "day":
        log.info("session %s closed: pnl %.2f equity %.2f", event["session_date"], event["pnl"], event["equity"])
