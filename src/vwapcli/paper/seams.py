"""The three seams of paper trading: clock, bar feed and broker (SPEC 12).

Live sources, the replay source and the tests' fakes all meet the loop here, so the loop
never knows whether its minutes are real, simulated, or scripted by a test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import pandas as pd


@runtime_checkable
class Clock(Protocol):
    """What time it is (int64 ns UTC) and how to wait for a later time.

    The real clock sleeps; the simulated one (replay ``--speed N|max``, tests) advances
    instantly or at N times real time. No test waits in real time.
    """

    def now_ns(self) -> int: ...

    def sleep_until(self, t_ns: int) -> None: ...


@dataclass(frozen=True)
class FeedPoll:
    """What one poll of a bar feed returned.

    ``bars``: per symbol, the bars that closed since the previous poll (columns
    ``ts, open, high, low, close, volume``; ``ts`` the bar START, tz-aware UTC; only bars
    whose close ``ts + bar length`` is at or before the poll time), sorted, never a bar
    handed over before. A late bar arrives in a later poll; a missing minute simply never
    arrives. ``errors``: provider problems met during this poll, one line each (shown on
    the panel and journaled); ``retry_at_ns``: when the feed wants to be polled again
    after an error (backoff), else None.
    """

    bars: Mapping[str, pd.DataFrame]
    errors: tuple[str, ...] = ()
    retry_at_ns: int | None = None


@runtime_checkable
class BarFeed(Protocol):
    """A source of newly closed 1-minute (or the store's timeframe) bars, polled by the loop."""

    symbols: tuple[str, ...]
    timeframe: str

    def poll(self, now_ns: int) -> FeedPoll: ...


@dataclass(frozen=True)
class SpreadOrder:
    """One debit spread sent to a broker as a multi-leg option order.

    ``client_order_id`` is derived from the journal (run id, trade id, open/close), so a
    resumed session re-sending an order is recognised by the broker, never doubled.
    Prices are per spread in dollars; the limit is the fill-price rule's price.
    """

    client_order_id: str
    underlying: str
    expiration: dt.date
    right: Literal["C", "P"]
    long_strike: float
    short_strike: float
    contracts: int
    action: Literal["open", "close"]
    limit_price: float


@dataclass(frozen=True)
class BrokerAck:
    """The broker's answer for one order: its id, status, and fill when filled."""

    client_order_id: str
    broker_order_id: str
    status: str
    filled_price: float | None = None
    filled_contracts: int = 0
    raw: Mapping[str, object] = field(default_factory=dict)


@runtime_checkable
class Broker(Protocol):
    """Where paper spreads are mirrored (``--broker none|alpaca-paper``)."""

    name: str

    def submit(self, order: SpreadOrder) -> BrokerAck: ...

    def reconcile(self, client_order_ids: Sequence[str]) -> Mapping[str, BrokerAck]: ...


class NoBroker:
    """``--broker none`` (the default): orders live in the journal only."""

    name = "none"

    def submit(self, order: SpreadOrder) -> BrokerAck:
        return BrokerAck(order.client_order_id, broker_order_id="", status="not_sent")

    def reconcile(self, client_order_ids: Sequence[str]) -> Mapping[str, BrokerAck]:
        return {}
