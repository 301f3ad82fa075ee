"""Debit-spread values (and the skips pricing returns) are fixed once made, and the fill
rule refuses a slippage outside [0, 1] at both ends (SPEC 7)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from vwapcli.core.skips import Skip, SkipReason
from vwapcli.options.spreads import DebitSpread, SpreadFill, SpreadPrice, fill_price
from vwapcli.report.fills import fill_price as fill_prices

SPREAD = DebitSpread("SPY", "C", dt.date(2024, 3, 15), 500.0, 501.0, 1.0)


@pytest.mark.parametrize(
    ("value", "field"),
    [(SPREAD, "k_short"), (SpreadPrice(0.51, 0.60), "mid"), (SpreadFill(0.56, 0.51, 0.60), "price"),
     (Skip(SkipReason.NO_QUOTE), "reason")],
)
def test_spreads_prices_fills_and_skips_cannot_be_changed(value: object, field: str) -> None:
    """The sweep's pricing cache hands the same objects to every configuration: a change
    made by one would leak into the others, so they are frozen."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, 0.0)


def test_a_spread_names_symbol_expiry_strikes_and_right() -> None:
    assert str(SPREAD) == "SPY 2024-03-15 500/501C"


@pytest.mark.parametrize("slippage", [-0.01, -1.0, 1.01])
def test_slippage_just_outside_zero_to_one_is_rejected(slippage: float) -> None:
    with pytest.raises(ValueError, match="slippage must be in"):
        fill_price(SpreadPrice(1.0, 1.1), slippage, 5.0)


@pytest.mark.parametrize(("slippage", "expected"), [(0.0, 1.00), (1.0, 1.10)])
def test_slippage_at_zero_and_one_is_accepted(slippage: float, expected: float) -> None:
    """The ends of [0, 1] are the mid and the natural themselves."""
    assert fill_price(SpreadPrice(1.00, 1.10), slippage, 5.0) == expected


def test_repricing_needs_as_many_naturals_as_mids() -> None:
    """One mid and two naturals are a malformed trade table, not one fill from the first pair."""
    with pytest.raises(ValueError):
        fill_prices(np.array([1.0]), np.array([1.1, 1.2]), 0.5, np.array([5.0]))
