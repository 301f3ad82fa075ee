"""The array fills model risk uses give the scalar fill rules' bits (issue 17).

Independent method: the scalar rules themselves (``options.spreads.fill_price``,
``engine.fills.exit_fill`` and ``trade_pnl``), element by element; compared on float64
bit patterns. Inputs are drawn where the rules have edges: mids and naturals on and one
ulp beside half-cent ties, fills clipped at 0.01 and at width - 0.01 (widths down to one
cent, where the ceiling is 0.0), intrinsic exits below 0.01 and above the width, signed
zeros and P&L far beyond any account.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vwapcli.engine.fills import exit_fill, exit_fills, trade_pnl, trade_pnls
from vwapcli.engine.pricing import EXIT_BY_INTRINSIC, EXIT_BY_QUOTE, PricedCandidate
from vwapcli.options.spreads import DebitSpread, SpreadPrice, fill_price, fill_prices


def bits(values: list[float] | np.ndarray) -> list[int]:
    return np.asarray(values, dtype=np.float64).view(np.int64).tolist()


@st.composite
def price(draw: st.DrawFn) -> float:
    """A dollar price: a half-cent tie (or a neighbour), any small float, or an edge."""
    kind = draw(st.sampled_from(["tie", "any", "edge"]))
    if kind == "tie":
        value = (draw(st.integers(-2000, 2000)) + 0.5) / 100.0
    elif kind == "any":
        value = draw(st.floats(-30.0, 30.0))
    else:
        value = draw(st.sampled_from([0.0, -0.0, 0.01, 0.005, 0.015, 4.99, 5.0, 1e-9]))
    for _ in range(draw(st.integers(0, 1))):
        value = math.nextafter(value, draw(st.sampled_from([-math.inf, math.inf])))
    return value


ROWS = st.lists(
    st.tuples(price(), price(), st.sampled_from([0.01, 0.02, 1.0, 2.5, 5.0, 10.0]), st.booleans()),
    min_size=1, max_size=30,
)
SLIPPAGE = st.sampled_from([0.0, 0.25, 0.5, 1.0, 0.3333333333333333])


@settings(max_examples=300, deadline=None)
@given(rows=ROWS, slippage=SLIPPAGE)
def test_fill_prices_and_exit_fills_give_the_scalar_rules_bits(rows, slippage) -> None:
    mid, natural, width, quoted = (np.array(column) for column in zip(*rows, strict=True))
    expected_fill = [fill_price(SpreadPrice(m, n), slippage, w) for m, n, w, _ in rows]
    assert bits(fill_prices(mid, natural, slippage, width)) == bits(expected_fill)
    expected_exit = [
        exit_fill(
            PricedCandidate(
                DebitSpread("SPY", "C", dt.date(2024, 3, 15), 100.0, 100.0 + w, w),
                SpreadPrice(1.0, 1.0),
                SpreadPrice(m, n),
                EXIT_BY_QUOTE if q else EXIT_BY_INTRINSIC,
            ),
            slippage,
        )
        for m, n, w, q in rows
    ]
    assert bits(exit_fills(mid, natural, quoted, slippage, width)) == bits(expected_exit)


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(price(), price(), st.integers(0, 10**6), st.sampled_from([0.0, 2.6, 1.3, 0.65])),
                     min_size=1, max_size=30))
def test_trade_pnls_give_trade_pnls_bits(rows) -> None:
    """Contracts up to a million (P&L up to ~1e9 dollars); commissions per contract x contracts."""
    debit, credit, contracts, per_contract = (np.array(column) for column in zip(*rows, strict=True))
    commissions = per_contract * contracts.astype(np.float64)
    expected = [trade_pnl(d, c, int(k), p * int(k)) for d, c, k, p in rows]
    assert bits(trade_pnls(debit, credit, contracts, commissions)) == bits(expected)


def test_the_hand_picked_fills_round_half_a_cent_up_and_clip_as_spec_7_says() -> None:
    """By hand (SPEC 7): m 1.23, n 1.24, slippage 0.5 -> 1.235 -> 1.24; a 0.004 fill floors
    at 0.01; 4.995 on a 5-wide spread caps at 4.99; an intrinsic 5.00 exit clips to 4.99
    and a 0.0 one to 0.01; pnl (1.24 - 1.05) x 100 x 3 - 7.80 = 49.20."""
    fills = fill_prices(np.array([1.23, 0.004, 4.995]), np.array([1.24, 0.004, 4.995]), 0.5, np.array([5.0] * 3))
    assert fills.tolist() == [1.24, 0.01, 4.99]
    exits = exit_fills(np.array([5.0, 0.0]), np.array([5.0, 0.0]), np.array([False, False]), 0.5, np.array([5.0, 5.0]))
    assert exits.tolist() == [4.99, 0.01]
    assert trade_pnls(np.array([1.05]), np.array([1.24]), np.array([3]), np.array([7.80])).tolist() == [49.20]
