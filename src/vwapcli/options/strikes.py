"""Strike selection for the debit spreads (SPEC 7).

LONG trades a call debit spread, SHORT a put debit spread. ``K_long`` is the listed
strike nearest the entry price P, ``K_short`` the one nearest the target; a tie goes
toward the target for ``K_long`` and toward P for ``K_short``. When ``K_short`` is not
beyond ``K_long`` in the trade's direction it becomes the next listed strike beyond
``K_long`` (one strike step: the minimum width).

Float strikes such as 100.1 and 100.2 are not equally far from 100.15 in binary, so every
comparison here is done on integer micro-dollars: a tie is a tie to 1e-6 dollars,
decided the same way on every machine.
"""

from __future__ import annotations

import math

import numpy as np

from vwapcli.core.types import MICROS_PER_DOLLAR, Direction


class NoStrikeError(ValueError):
    """The listed strikes cannot make the spread (none listed, or none beyond K_long)."""


def _micros(values: np.ndarray | float) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=np.float64) * MICROS_PER_DOLLAR).astype(np.int64)


def _nearest(listed: np.ndarray, price: int, tie_up: bool) -> int:
    """Index of the listed strike (sorted micro-dollars) nearest ``price``; ties up or down."""
    above = int(np.searchsorted(listed, price, side="left"))
    if above < listed.shape[0] and listed[above] == price:
        return above
    if above == 0:
        return 0
    if above == listed.shape[0]:
        return above - 1
    below = above - 1
    gap_below = price - int(listed[below])
    gap_above = int(listed[above]) - price
    if gap_below == gap_above:
        return above if tie_up else below
    return below if gap_below < gap_above else above


def choose_strikes(
    direction: Direction, P: float, P_target: float, listed: np.ndarray
) -> tuple[float, float]:
    """``(K_long, K_short)`` from the listed strikes (any order, duplicates allowed).

    Raises ``NoStrikeError`` when nothing is listed or no strike lies beyond ``K_long``.

    >>> choose_strikes("LONG", 500.5, 501.7, np.arange(495.0, 506.0))
    (501.0, 502.0)
    """
    strikes = np.asarray(listed, dtype=np.float64)
    if strikes.shape[0] > 1 and not bool((strikes[1:] > strikes[:-1]).all()):
        strikes = np.unique(strikes)  # a model grid is sorted already; a chain's may not be
    if strikes.shape[0] == 0:
        raise NoStrikeError("no strikes listed")
    grid = _micros(strikes)
    # Python's round() is numpy's rint for one float (half to even), without the array trip.
    p, target = round(float(P) * MICROS_PER_DOLLAR), round(float(P_target) * MICROS_PER_DOLLAR)
    up = direction == "LONG"  # a call spread reaches up, a put spread down
    # "Toward the target": the side the target lies on; with target == P, the trade's side.
    target_is_up = target > p or (target == p and up)
    i_long = _nearest(grid, p, tie_up=target_is_up)
    i_short = _nearest(grid, target, tie_up=not target_is_up)
    beyond = i_short > i_long if up else i_short < i_long
    if not beyond:
        # SPEC 7: min width = the next listed strike beyond K_long in the trade's direction.
        i_short = i_long + 1 if up else i_long - 1
        if not 0 <= i_short < grid.shape[0]:
            side = "above" if up else "below"
            raise NoStrikeError(f"no listed strike {side} K_long {strikes[i_long]:g}")
    return float(strikes[i_long]), float(strikes[i_short])


def strike_grid(center: float, increment: float, n: int) -> np.ndarray:
    """``2n+1`` strikes on the ``increment`` grid around ``center`` (positive strikes only).

    Strikes are integer multiples of the increment, ``k·increment``, rounded to 1e-8 so
    that a 0.1 grid lists 100.3, not 100.30000000000001.
    """
    if increment <= 0 or not math.isfinite(increment):
        raise ValueError(f"strike increment must be positive, got {increment}")
    middle = round(center / increment)
    steps = np.arange(middle - n, middle + n + 1, dtype=np.int64)
    grid = np.round(steps * increment, 8)
    return grid[grid > 0]
