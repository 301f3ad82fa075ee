"""Per-leg bid/ask on the tick (SPEC 7.1): never below half a tick."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vwapcli.options.leg_spread import LegSpreadModel

MODEL = LegSpreadModel(tick=0.01, wide=0.25, half_point=1.8, steepness=4.0)


def test_an_at_the_money_leg_is_one_tick_wide() -> None:
    """mid 1.555, scale 3.0 (u = 0.52): width 0.01 + 0.25/(1 + (1.8/0.52)^4) = 0.0117 -> 1 tick; 1.55 / 1.56."""
    assert MODEL.quote(1.555, 3.0) == (1.55, 1.56)


def test_a_deep_in_the_money_leg_is_wider() -> None:
    """mid 9.00, scale 1.5 (u = 6): 0.01 + 0.25/(1 + 0.3^4) = 0.258 -> 26 ticks; bid = tick nearest 9 - 0.13."""
    bid, ask = MODEL.quote(9.0, 1.5)
    assert (bid, ask) == (8.87, 9.13)


def test_a_worthless_leg_is_quoted_zero_bid_one_tick_ask() -> None:
    assert MODEL.quote(0.0, 2.0) == (0.0, 0.01)
    assert MODEL.quote(0.003, 2.0) == (0.0, 0.01)


def test_a_leg_at_expiry_with_value_gets_the_full_width() -> None:
    """No time left (scale 0) and 5.00 of intrinsic: u = inf -> 0.01 + 0.25 = 26 ticks."""
    bid, ask = MODEL.quote(5.0, 0.0)
    assert round(ask - bid, 2) == 0.26


@given(mid=st.floats(0.0, 60.0), scale=st.floats(0.0, 20.0))
def test_half_spread_is_never_below_half_a_tick_and_both_sides_sit_on_the_tick(mid: float, scale: float) -> None:
    bid, ask = MODEL.quote(mid, scale)
    assert ask - bid >= 0.01 - 1e-12
    assert bid >= 0.0
    for side in (bid, ask):
        assert abs(side * 100 - round(side * 100)) < 1e-9
    assert bid - 1e-9 <= max(mid, 0.0) <= ask + 0.005 + 1e-9 or bid == 0.0


@given(mid=st.floats(0.0, 60.0), scale=st.floats(0.0, 20.0))
def test_scalar_quote_width_equals_the_vectorised_spread_ticks(mid: float, scale: float) -> None:
    bid, ask = MODEL.quote(mid, scale)
    ticks = float(MODEL.spread_ticks(np.array([mid]), np.array([scale]))[0])
    assert round((ask - bid) / 0.01) == ticks


def test_spread_model_refuses_a_non_positive_tick() -> None:
    with pytest.raises(ValueError, match="tick"):
        LegSpreadModel(tick=0.0)
