"""``--broker alpaca-paper``: mirror each paper spread as a multi-leg option order at Alpaca (SPEC 12).

Alpaca Trading API v2, PAPER endpoint only (``https://paper-api.alpaca.markets``); a live
endpoint is refused, whatever the environment says. One debit spread is one ``mleg``
order (``POST /v2/orders``, ``order_class: "mleg"``, at most 4 legs, here 2):

- legs carry OCC symbols (``SPY250117C00590000``: root, YYMMDD, C/P, strike in
  thousandths on 8 digits), ``ratio_qty`` 1, ``side`` and ``position_intent``: opening
  buys the long leg to open and sells the short leg to open; closing does the reverse;
- the order is ``type: limit`` at the fill-price rule's price, ``time_in_force: day``
  (options take day orders only); Alpaca reads an mleg limit as the NET price, positive a
  debit paid (the open), negative a credit received (the close);
- ``client_order_id`` comes from the journal (run, trade, open/close), so Alpaca itself
  refuses a second order with the same id. A submit answered "client_order_id must be
  unique" (422, or 409) is a resend after a crash or a lost answer: the broker's copy is
  fetched with ``GET /v2/orders:by_client_order_id`` and returned, never a doubled order.
  :meth:`AlpacaPaperBroker.reconcile` asks the same question for every order a resumed
  journal holds.

Every request goes through the providers' :class:`~vwapcli.data.providers.http.HttpClient`
(pacing, 429/5xx retries, 401/403 in Alpaca's words, keys scrubbed from every message);
any final failure is one :class:`~vwapcli.errors.BrokerError` line. Keys:
``APCA_API_KEY_ID`` / ``APCA_API_SECRET_KEY`` (Alpaca's own names; paper keys).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

from vwapcli.data.providers.base import require_keys
from vwapcli.data.providers.http import (
    LOOPBACK_HOSTS,
    HttpClient,
    HttpResponse,
    RetryPolicy,
    Transport,
    base_url_from_env,
    url_path,
    vendor_message,
)
from vwapcli.data.providers.pacing import RequestPacer
from vwapcli.errors import BrokerError, ProviderError
from vwapcli.paper.seams import Broker, BrokerAck, SpreadOrder

NAME = "alpaca-paper"
PAPER_URL = "https://paper-api.alpaca.markets"
PAPER_HOST = "paper-api.alpaca.markets"
PAPER_URL_VARIABLE = "VWAPCLI_ALPACA_PAPER_URL"
KEY_NAMES = ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY")
# Alpaca's trading API allows 200 requests a minute per account.
REQUESTS_PER_MINUTE = 200.0
# A few quick retries: an order is time-critical, and a resend is safe (client_order_id).
ORDER_RETRY_POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0, max_retry_after=10.0)
DUPLICATE_STATUS = frozenset({409, 422})
MAX_CLIENT_ORDER_ID = 128  # Alpaca: "<= 128 characters"


def occ_symbol(underlying: str, expiration: dt.date, right: str, strike: float) -> str:
    """The OCC option symbol Alpaca trades: ``SPY`` + ``250117`` + ``C`` + ``00590000``.

    Root unpadded (Alpaca's form; OSI pads it to 6), expiry YYMMDD, right C/P, strike in
    thousandths of a dollar on 8 digits. A strike that is not a whole tenth of a cent, or
    does not fit 8 digits, is refused rather than rounded to a contract that is not ours.
    """
    root = underlying.strip().upper()
    if not root or not root.replace(".", "").isalnum() or len(root) > 6:
        raise BrokerError(f"{NAME}: {underlying!r} is not an option root (rule: 1-6 letters/digits)")
    if right not in ("C", "P"):
        raise BrokerError(f"{NAME}: option right {right!r} is not C or P")
    thousandths = round(strike * 1000) if math.isfinite(strike) else 0
    if abs(strike * 1000 - thousandths) > 1e-6 or not 0 < thousandths < 10**8:
        raise BrokerError(f"{NAME}: strike {strike!r} cannot be an OCC strike (rule: > 0, in tenths of a cent, < 100000)")
    return f"{root}{expiration:%y%m%d}{right}{thousandths:08d}"


def net_limit_price(order: SpreadOrder) -> str:
    """Alpaca's mleg limit: the net price in cents, + for the debit paid to open, - for the credit to close."""
    if not (math.isfinite(order.limit_price) and order.limit_price >= 0):
        raise BrokerError(f"{NAME}: {order.client_order_id}: limit price {order.limit_price!r} is not a price >= 0")
    cents = Decimal(repr(order.limit_price)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    signed = cents if order.action == "open" or cents == 0 else -cents
    return f"{signed:.2f}"


def mleg_order_body(order: SpreadOrder) -> dict[str, Any]:
    """The ``POST /v2/orders`` JSON for one debit spread (Alpaca's documented mleg format)."""
    if order.contracts < 1:
        raise BrokerError(f"{NAME}: {order.client_order_id}: {order.contracts} contracts (rule: at least 1)")
    if not 0 < len(order.client_order_id) <= MAX_CLIENT_ORDER_ID:
        raise BrokerError(f"{NAME}: client_order_id {order.client_order_id!r} must be 1-{MAX_CLIENT_ORDER_ID} characters")
    opening = order.action == "open"
    long_leg = occ_symbol(order.underlying, order.expiration, order.right, order.long_strike)
    short_leg = occ_symbol(order.underlying, order.expiration, order.right, order.short_strike)
    return {
        "order_class": "mleg",
        "qty": str(order.contracts),
        "type": "limit",
        "limit_price": net_limit_price(order),
        "time_in_force": "day",
        "client_order_id": order.client_order_id,
        "legs": [
            {
                "symbol": long_leg,
                "ratio_qty": "1",
                "side": "buy" if opening else "sell",
                "position_intent": "buy_to_open" if opening else "sell_to_close",
            },
            {
                "symbol": short_leg,
                "ratio_qty": "1",
                "side": "sell" if opening else "buy",
                "position_intent": "sell_to_open" if opening else "buy_to_close",
            },
        ],
    }


def ack_from_order(payload: Mapping[str, Any]) -> BrokerAck:
    """An Alpaca order object -> :class:`BrokerAck`.

    ``filled_price`` is the spread's net fill per share, as a positive number (a debit
    paid to open, a credit received to close: the order's action says which);
    ``filled_contracts`` is ``filled_qty``. ``raw`` keeps the whole answer for the journal.
    """
    price = payload.get("filled_avg_price")
    filled = payload.get("filled_qty")
    return BrokerAck(
        client_order_id=str(payload.get("client_order_id", "")),
        broker_order_id=str(payload.get("id", "")),
        status=str(payload.get("status", "")),
        filled_price=abs(float(price)) if price not in (None, "") else None,
        filled_contracts=int(float(filled)) if filled not in (None, "") else 0,
        raw=dict(payload),
    )


def paper_base_url(environ: Mapping[str, str] | None = None) -> str:
    """The paper endpoint, or its override when that is the paper host or a local test server."""
    try:
        url = base_url_from_env(NAME, PAPER_URL_VARIABLE, PAPER_URL, environ)
    except ProviderError as error:
        raise BrokerError(str(error)) from None
    host = (urlsplit(url).hostname or "").lower()
    if host != PAPER_HOST and host not in LOOPBACK_HOSTS:
        raise BrokerError(
            f"{NAME}: {PAPER_URL_VARIABLE} names {host!r}; only the paper endpoint {PAPER_URL} "
            "(or a server on this machine) is allowed: live trading is not supported"
        )
    return url


class AlpacaPaperBroker:
    """A :class:`~vwapcli.paper.seams.Broker` on Alpaca's paper account (multi-leg option orders)."""

    name = NAME

    def __init__(
        self,
        key_id: str,
        secret_key: str,
        *,
        base_url: str = PAPER_URL,
        transport: Transport | None = None,
        policy: RetryPolicy | None = None,
        pacer: RequestPacer | None = None,
        seed: int | None = 0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret_key}
        self.http = HttpClient(
            NAME, KEY_NAMES, (key_id, secret_key), transport, policy or ORDER_RETRY_POLICY,
            seed=seed, pacer=pacer or RequestPacer(NAME, REQUESTS_PER_MINUTE),
        )

    def submit(self, order: SpreadOrder) -> BrokerAck:
        """Send one spread; a duplicate client_order_id returns the order Alpaca already holds."""
        body = mleg_order_body(order)
        response = self._send("POST", "/v2/orders", json_body=body, accept=DUPLICATE_STATUS)
        if response.status in DUPLICATE_STATUS:
            existing = self._lookup(order.client_order_id)
            if existing is None:
                raise BrokerError(
                    f"{NAME}: {order.client_order_id}: order refused ({response.status}: "
                    f"{self.http.redact(vendor_message(response))}) and no order with that id exists"
                )
            return existing
        return ack_from_order(self._json(response))

    def reconcile(self, client_order_ids: Sequence[str]) -> Mapping[str, BrokerAck]:
        """What Alpaca holds for each id (status, fill); ids it never received are left out."""
        found: dict[str, BrokerAck] = {}
        for client_order_id in client_order_ids:
            ack = self._lookup(client_order_id)
            if ack is not None:
                found[client_order_id] = ack
        return found

    def _lookup(self, client_order_id: str) -> BrokerAck | None:
        response = self._send(
            "GET", "/v2/orders:by_client_order_id", params={"client_order_id": client_order_id}, accept={404},
        )
        if response.status == 404:
            return None
        return ack_from_order(self._json(response))

    def _send(self, method: str, path: str, **options: Any) -> HttpResponse:
        try:
            return self.http.request(method, f"{self.base_url}{path}", headers=self._headers, **options)
        except ProviderError as error:
            raise BrokerError(str(error)) from None

    def _json(self, response: HttpResponse) -> Mapping[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise BrokerError(f"{NAME}: {url_path(self.base_url)} answered with a body that is not an order")
        return payload


def build_alpaca_paper_broker(environ: Mapping[str, str] | None = None) -> Broker:
    """``--broker alpaca-paper``: keys from the environment (one line if missing), paper URL only."""
    try:
        keys = require_keys(NAME, KEY_NAMES, environ)
    except ProviderError as error:
        raise BrokerError(str(error)) from None
    return AlpacaPaperBroker(
        keys["APCA_API_KEY_ID"], keys["APCA_API_SECRET_KEY"], base_url=paper_base_url(environ),
    )


__all__ = [
    "PAPER_URL",
    "AlpacaPaperBroker",
    "ack_from_order",
    "build_alpaca_paper_broker",
    "mleg_order_body",
    "occ_symbol",
]
