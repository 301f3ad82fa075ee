"""``--broker alpaca-paper`` against recorded answers served on 127.0.0.1, never the network.

Where the answers come from (``tests/fixtures/paper/alpaca_broker``, see its README):
``vendor/order_by_client_id_simple.json`` is Alpaca's own recorded body (alpaca-py
@ bd1fa9e, ``tests/trading/trading_client/test_order_routes.py``,
``test_get_order_by_client_id``); the mleg orders and error bodies are written by us in
the documented shape (alpaca-py's ``Order`` model: top-level ``symbol``/``side`` empty on
an mleg order, ``legs`` with ``ratio_qty`` and ``position_intent``; errors
``{"code", "message"}``).

The request body is checked field by field against Alpaca's documented mleg format and,
independently, against alpaca-py's own request model (``LimitOrderRequest`` with
``OptionLegRequest`` legs), which is what Alpaca's SDK would send.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from builders.paths import FIXTURES
from builders.provider_replay import FakeClock, ReplayServer, Reply, replay_server
from vwapcli.data.providers.base import parse_osi_symbol
from vwapcli.data.providers.http import RetryPolicy
from vwapcli.data.providers.pacing import RequestPacer
from vwapcli.errors import BrokerError
from vwapcli.paper.alpaca_broker import (
    PAPER_URL,
    AlpacaPaperBroker,
    build_alpaca_paper_broker,
    mleg_order_body,
    occ_symbol,
)
from vwapcli.paper.seams import Broker, SpreadOrder

__all__ = ["replay_server"]  # the fixture, imported for pytest

RECORDED = FIXTURES / "paper" / "alpaca_broker"
KEY_ID, SECRET = "FAKE-PAPER-ID-4d1e", "FAKE-PAPER-SECRET-77aa"
ORDERS = "/v2/orders"
BY_CLIENT_ID = "/v2/orders:by_client_order_id"

OPEN = SpreadOrder(
    client_order_id="run-20240620-t1-open",
    underlying="SPY",
    expiration=dt.date(2024, 6, 28),
    right="C",
    long_strike=545.0,
    short_strike=550.0,
    contracts=2,
    action="open",
    limit_price=1.25,
)
CLOSE = dataclasses.replace(OPEN, client_order_id="run-20240620-t1-close", action="close", limit_price=2.405)


def broker_for(server: ReplayServer, clock: FakeClock | None = None) -> AlpacaPaperBroker:
    clock = clock or FakeClock("2024-06-20 14:31")
    return AlpacaPaperBroker(
        KEY_ID, SECRET, base_url=server.url, pacer=RequestPacer("alpaca-paper", 200.0, clock),
        policy=RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0),
    )


def reply(name: str, status: int = 200) -> Reply:
    return Reply(status, RECORDED / name, {"Content-Type": "application/json"})


# ----- OCC symbols and the order body ---------------------------------------------------


def test_occ_symbols_are_root_yymmdd_right_and_the_strike_in_thousandths_on_eight_digits() -> None:
    """By hand: 590 -> 590000 thousandths -> "00590000"; 545.5 -> "00545500"; 0.5 -> "00000500"."""
    assert occ_symbol("SPY", dt.date(2025, 1, 17), "C", 590.0) == "SPY250117C00590000"
    assert occ_symbol("QQQ", dt.date(2024, 6, 28), "P", 545.5) == "QQQ240628P00545500"
    assert occ_symbol("spy", dt.date(2024, 12, 31), "P", 0.5) == "SPY241231P00000500"


def test_occ_symbols_read_back_through_the_independent_osi_parser() -> None:
    symbol = occ_symbol("SPY", dt.date(2024, 6, 28), "C", 547.5)
    assert parse_osi_symbol(symbol) == ("SPY", dt.date(2024, 6, 28), "C", 547.5)


@pytest.mark.parametrize("strike", [0.0, -5.0, 545.0001, 100000.0, float("nan")])
def test_a_strike_no_occ_symbol_can_hold_is_refused_in_one_line(strike: float) -> None:
    with pytest.raises(BrokerError, match=r"^alpaca-paper: strike .* cannot be an OCC strike"):
        occ_symbol("SPY", dt.date(2024, 6, 28), "C", strike)


def test_an_opening_debit_spread_is_one_mleg_limit_order_buying_the_long_and_selling_the_short_to_open() -> None:
    """Alpaca's mleg format: order_class mleg, qty = spreads, type limit, limit_price the net
    price (positive: a debit), time_in_force day, client_order_id, two legs with OCC symbol,
    ratio_qty 1, side and position_intent."""
    body = mleg_order_body(OPEN)
    assert body["order_class"] == "mleg"
    assert body["qty"] == "2"
    assert body["type"] == "limit"
    assert body["limit_price"] == "1.25"
    assert body["time_in_force"] == "day"
    assert body["client_order_id"] == "run-20240620-t1-open"
    assert body["legs"] == [
        {"symbol": "SPY240628C00545000", "ratio_qty": "1", "side": "buy", "position_intent": "buy_to_open"},
        {"symbol": "SPY240628C00550000", "ratio_qty": "1", "side": "sell", "position_intent": "sell_to_open"},
    ]
    assert set(body) == {"order_class", "qty", "type", "limit_price", "time_in_force", "client_order_id", "legs"}


def test_closing_sells_the_long_and_buys_the_short_to_close_for_a_credit_written_negative() -> None:
    """Alpaca: a negative mleg limit is a credit received. 2.405 rounds half up to 2.41 (cents)."""
    body = mleg_order_body(CLOSE)
    assert body["limit_price"] == "-2.41"
    assert body["legs"] == [
        {"symbol": "SPY240628C00545000", "ratio_qty": "1", "side": "sell", "position_intent": "sell_to_close"},
        {"symbol": "SPY240628C00550000", "ratio_qty": "1", "side": "buy", "position_intent": "buy_to_close"},
    ]


def test_a_put_spread_names_put_contracts() -> None:
    """SHORT signal -> put debit spread: long the higher strike, short the lower (SPEC 7)."""
    put = SpreadOrder("p1", "QQQ", dt.date(2024, 6, 21), "P", 480.0, 475.0, 1, "open", 0.8)
    legs = mleg_order_body(put)["legs"]
    assert [leg["symbol"] for leg in legs] == ["QQQ240621P00480000", "QQQ240621P00475000"]
    assert mleg_order_body(put)["limit_price"] == "0.80"


def test_alpacas_own_request_model_accepts_the_body_and_sends_the_same_fields() -> None:
    """Independent check: alpaca-py's LimitOrderRequest (mleg validation: 2-4 legs, unique
    symbols, qty required, limit only) built from our body gives back the same fields."""
    requests = pytest.importorskip("alpaca.trading.requests")
    for order in (OPEN, CLOSE):
        body = mleg_order_body(order)
        legs = [requests.OptionLegRequest(**leg) for leg in body["legs"]]
        model = requests.LimitOrderRequest(**{**body, "legs": legs})
        sent = model.to_request_fields()
        assert sent["order_class"] == "mleg" and sent["type"] == "limit" and sent["time_in_force"] == "day"
        assert float(sent["qty"]) == float(body["qty"])
        assert float(sent["limit_price"]) == float(body["limit_price"])
        assert sent["client_order_id"] == body["client_order_id"]
        assert [(leg["symbol"], float(leg["ratio_qty"]), leg["side"], leg["position_intent"]) for leg in sent["legs"]] == [
            (leg["symbol"], 1.0, leg["side"], leg["position_intent"]) for leg in body["legs"]
        ]


# ----- submit, duplicates, reconcile (local server) ----------------------------------------


def test_submit_posts_the_order_to_the_paper_account_with_the_keys_in_alpacas_headers(
    replay_server: ReplayServer,
) -> None:
    replay_server.route("POST", ORDERS, reply("mleg_open_accepted.json"))
    broker = broker_for(replay_server)
    assert isinstance(broker, Broker)
    ack = broker.submit(OPEN)
    assert (ack.client_order_id, ack.broker_order_id, ack.status) == (
        "run-20240620-t1-open", "0f5d2a9e-7c1b-4e8a-9d3c-5b6a7e8f9a01", "accepted",
    )
    assert ack.filled_price is None and ack.filled_contracts == 0
    [seen] = replay_server.requests(ORDERS)
    assert seen.method == "POST"
    assert seen.headers["APCA-API-KEY-ID"] == KEY_ID and seen.headers["APCA-API-SECRET-KEY"] == SECRET
    assert json.loads(seen.body) == mleg_order_body(OPEN)


def test_a_resent_order_answered_duplicate_is_resolved_by_its_client_order_id_never_doubled(
    replay_server: ReplayServer,
) -> None:
    """A resumed run re-sends trade 1's open; Alpaca answers 422 "client_order_id must be
    unique"; the broker looks the id up and returns the filled order Alpaca already holds:
    one POST, one GET, no second order."""
    replay_server.route("POST", ORDERS, reply("error_422_duplicate_client_order_id.json", 422))
    replay_server.route("GET", BY_CLIENT_ID, reply("mleg_open_filled.json"))
    ack = broker_for(replay_server).submit(OPEN)
    assert ack.broker_order_id == "0f5d2a9e-7c1b-4e8a-9d3c-5b6a7e8f9a01"
    assert ack.status == "filled" and ack.filled_price == 1.23 and ack.filled_contracts == 2
    assert [s.method for s in replay_server.seen] == ["POST", "GET"]
    assert replay_server.seen[1].query == {"client_order_id": "run-20240620-t1-open"}


def test_a_refusal_for_an_id_alpaca_does_not_hold_is_one_line_with_alpacas_words(
    replay_server: ReplayServer,
) -> None:
    replay_server.route("POST", ORDERS, reply("error_422_duplicate_client_order_id.json", 422))
    replay_server.route("GET", BY_CLIENT_ID, reply("error_404_order_not_found.json", 404))
    with pytest.raises(BrokerError) as raised:
        broker_for(replay_server).submit(OPEN)
    assert str(raised.value) == (
        "alpaca-paper: run-20240620-t1-open: order refused (422: client_order_id must be unique) "
        "and no order with that id exists"
    )


def test_a_lost_answer_is_retried_and_the_retry_finds_the_order_already_placed(
    replay_server: ReplayServer,
) -> None:
    """503 on the first POST (the order may or may not have landed), the retry answers 422
    duplicate (it had), the lookup returns it: still exactly one order at Alpaca."""
    clock = FakeClock("2024-06-20 14:31")
    replay_server.route(
        "POST", ORDERS, Reply(503, b'{"message":"service unavailable"}'),
        reply("error_422_duplicate_client_order_id.json", 422),
    )
    replay_server.route("GET", BY_CLIENT_ID, reply("mleg_open_accepted.json"))
    ack = broker_for(replay_server, clock).submit(OPEN)
    assert ack.status == "accepted"
    assert [s.method for s in replay_server.seen] == ["POST", "POST", "GET"]
    assert clock.sleeps and clock.slept < 1.0  # the 0.5 s-based backoff on the fake clock


def test_reconcile_returns_what_alpaca_holds_and_leaves_out_ids_it_never_received(
    replay_server: ReplayServer,
) -> None:
    replay_server.route(
        "GET", BY_CLIENT_ID, reply("mleg_open_filled.json"),
        when=lambda seen: seen.query.get("client_order_id") == "run-20240620-t1-open",
    )
    replay_server.route("GET", BY_CLIENT_ID, reply("error_404_order_not_found.json", 404))
    found = broker_for(replay_server).reconcile(["run-20240620-t1-open", "run-20240620-t1-close"])
    assert list(found) == ["run-20240620-t1-open"]
    assert found["run-20240620-t1-open"].filled_price == 1.23
    assert found["run-20240620-t1-open"].raw["order_class"] == "mleg"


def test_alpacas_recorded_order_reads_as_an_ack(replay_server: ReplayServer) -> None:
    """alpaca-py's recorded GET-by-client-id body (a simple AAPL order, accepted, not filled)."""
    replay_server.route("GET", BY_CLIENT_ID, reply("vendor/order_by_client_id_simple.json"))
    found = broker_for(replay_server).reconcile(["eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4"])
    ack = found["eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4"]
    assert (ack.broker_order_id, ack.status, ack.filled_price, ack.filled_contracts) == (
        "61e69015-8549-4bfd-b9c3-01e75843f47d", "accepted", None, 0,
    )


# ----- failures: one line each ------------------------------------------------------------


def test_a_refused_key_is_one_line_naming_the_variables_and_never_the_secret(replay_server: ReplayServer) -> None:
    replay_server.route("POST", ORDERS, reply("error_401.json", 401))
    with pytest.raises(BrokerError) as raised:
        broker_for(replay_server).submit(OPEN)
    message = str(raised.value)
    assert message == (
        "alpaca-paper: 401 Unauthorized: request is not authorized — check APCA_API_KEY_ID / APCA_API_SECRET_KEY"
    )
    assert SECRET not in message and KEY_ID not in message


def test_a_rejected_order_is_one_line_with_alpacas_reason(replay_server: ReplayServer) -> None:
    replay_server.route("POST", ORDERS, reply("error_403_buying_power.json", 403))
    with pytest.raises(BrokerError, match=r"^alpaca-paper: 403 Forbidden: insufficient options buying power") as raised:
        broker_for(replay_server).submit(OPEN)
    assert "\n" not in str(raised.value)


def test_an_unreachable_broker_gives_up_in_one_line_after_three_tries(replay_server: ReplayServer) -> None:
    replay_server.route("POST", ORDERS, Reply(503, b"{}"))
    with pytest.raises(BrokerError) as raised:
        broker_for(replay_server).submit(OPEN)
    assert str(raised.value).startswith("alpaca-paper: gave up after 3 attempts on 127.0.0.1:")
    assert str(raised.value).endswith("/v2/orders (last: 503 Service Unavailable)")


def test_missing_keys_fail_at_build_time_in_one_line() -> None:
    with pytest.raises(BrokerError, match=r"^alpaca-paper: APCA_API_KEY_ID is not set$"):
        build_alpaca_paper_broker({})
    with pytest.raises(BrokerError, match=r"^alpaca-paper: APCA_API_SECRET_KEY is not set$"):
        build_alpaca_paper_broker({"APCA_API_KEY_ID": KEY_ID})


def test_the_broker_talks_to_the_paper_endpoint_and_refuses_a_live_one() -> None:
    keys = {"APCA_API_KEY_ID": KEY_ID, "APCA_API_SECRET_KEY": SECRET}
    broker = build_alpaca_paper_broker(keys)
    assert isinstance(broker, AlpacaPaperBroker) and broker.base_url == PAPER_URL == "https://paper-api.alpaca.markets"
    with pytest.raises(BrokerError, match=r"live trading is not supported"):
        build_alpaca_paper_broker({**keys, "VWAPCLI_ALPACA_PAPER_URL": "https://api.alpaca.markets"})


def test_an_order_the_broker_cannot_express_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(BrokerError, match=r"0 contracts \(rule: at least 1\)"):
        mleg_order_body(SpreadOrder("x", "SPY", dt.date(2024, 6, 28), "C", 545.0, 550.0, 0, "open", 1.0))
    with pytest.raises(BrokerError, match=r"must be 1-128 characters"):
        mleg_order_body(SpreadOrder("x" * 129, "SPY", dt.date(2024, 6, 28), "C", 545.0, 550.0, 1, "open", 1.0))
