"""Broker orders from the journal's trade events (SPEC 12, ``--broker``).

Each paper trade opens and closes one debit spread; the order for each is derived from
the event alone, so a resumed session derives the same order with the same
``client_order_id`` (run id, trade id, open/close) and the broker never doubles it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from vwapcli.paper.seams import BrokerAck, SpreadOrder


def client_order_id(run_id: str, trade_id: int, action: str) -> str:
    """``<run id>-<trade id>-<open|close>``: unique per run, the same after a resume."""
    return f"{run_id}-{trade_id}-{action}"


def order_for(run_id: str, event: Mapping[str, Any]) -> SpreadOrder | None:
    """The spread order an ``open`` or ``close`` event sends (limit: the fill-price rule's price)."""
    action = event.get("kind")
    if action not in ("open", "close"):
        return None
    return SpreadOrder(
        client_order_id=client_order_id(run_id, int(event["trade_id"]), action),
        underlying=str(event["symbol"]),
        expiration=dt.date.fromisoformat(str(event["expiry"])),
        right="C" if event["right"] == "C" else "P",
        long_strike=float(event["k_long"]),
        short_strike=float(event["k_short"]),
        contracts=int(event["contracts"]),
        action="open" if action == "open" else "close",
        limit_price=float(event["entry_debit"] if action == "open" else event["exit_credit"]),
    )


def ack_record(ack: BrokerAck) -> dict[str, Any]:
    """A broker's answer as a journal payload."""
    return {
        "client_order_id": ack.client_order_id, "broker_order_id": ack.broker_order_id, "status": ack.status,
        "filled_price": ack.filled_price, "filled_contracts": ack.filled_contracts,
    }
