"""Per-leg bid/ask from real quotes (SPEC 7.1): on the tick, never below half a tick.

On the real SPY 0DTE quotes a leg's width depends on how far its price is above the
at-the-money scale: out-of-the-money and at-the-money legs are one tick wide almost
always (68,000 of 72,000 quotes under $3), in-the-money legs widen as they turn into
stock substitutes (median $0.03 at one at-the-money move in the money, $0.18-0.25 deep
in). The scale is the expected dollar move to expiry, ``F·sigma·sqrt(T)``, so
``u = price / (F·sigma·sqrt(T))`` is the leg's price in units of that move (about 0.4 at
the money at any time of day) and the time to expiry enters through it:

    full spread = tick + wide · logistic(steepness · ln(u / half_point))

rounded to whole ticks, at least one. The bid is the tick nearest ``mid - spread/2``
(floored at 0) and the ask is the bid plus the spread, so both sit on the tick and the
half-spread is a whole number of half ticks, never below half a tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from vwapcli.core.decimal_rounding import round_decimal

TICK_EPSILON = 1e-9  # keeps 0.015/0.01 = 1.4999999 rounding like 1.5


@dataclass(frozen=True)
class LegSpreadModel:
    """Full bid/ask width of one option leg as a function of its price and time to expiry."""

    tick: float = 0.01
    wide: float = 0.25  # extra width of deep in-the-money legs, dollars
    half_point: float = 1.8  # u at which half of ``wide`` is reached
    steepness: float = 4.0

    def __post_init__(self) -> None:
        for name in ("tick", "wide", "half_point", "steepness"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"spread {name} must be finite")
        if self.tick <= 0 or self.half_point <= 0 or self.wide < 0 or self.steepness <= 0:
            raise ValueError("spread needs tick > 0, half_point > 0, steepness > 0, wide >= 0")

    def raw_spread(self, price: ArrayLike, scale: ArrayLike) -> np.ndarray:
        """The width before rounding: ``tick + wide·logistic(steepness·ln(u/half_point))``."""
        p = np.maximum(np.asarray(price, dtype=np.float64), 0.0)
        s = np.asarray(scale, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            u = np.where(s > 0, p / np.where(s > 0, s, 1.0), np.where(p > 0, np.inf, 0.0))
            # logistic(k·ln(u/h)) = 1 / (1 + (h/u)^k), written so u = 0 and u = inf are exact
            weight = np.where(u > 0, 1.0 / (1.0 + (self.half_point / u) ** self.steepness), 0.0)
        return self.tick + self.wide * weight

    def spread_ticks(self, price: ArrayLike, scale: ArrayLike) -> np.ndarray:
        """Whole ticks of width, at least one (vectorised; calibration's path)."""
        ticks = np.floor(self.raw_spread(price, scale) / self.tick + 0.5 + TICK_EPSILON)
        return np.maximum(ticks, 1.0)

    def quote(self, mid: float, scale: float) -> tuple[float, float]:
        """``(bid, ask)`` on the tick around one model mid (module docstring).

        Plain-Python twin of ``spread_ticks`` for the per-quote path (a test holds the two
        equal), the way ``pricing.bs_price_scalar`` twins ``bs_price``.
        """
        price = mid if mid > 0.0 else 0.0
        if price == 0.0:
            weight = 0.0
        elif not scale > 0.0:
            weight = 1.0
        else:
            weight = self._weight(price / scale)  # same operation order as raw_spread
        raw = self.tick + self.wide * weight
        ticks = max(math.floor(raw / self.tick + 0.5 + TICK_EPSILON), 1)
        bid_ticks = max(math.floor(mid / self.tick - ticks / 2.0 + 0.5 + TICK_EPSILON), 0)
        # Whole ticks times the tick, rounded to kill float dust (0.07 not 0.07000000000000001).
        return round(bid_ticks * self.tick, 10), round((bid_ticks + ticks) * self.tick, 10)

    def quotes(self, mid: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``quote`` for many legs at once: the same ``(bid, ask)`` bits, as arrays.

        Why a twin and not ``spread_ticks``: a backtest prices about 20 legs per trade (its
        own fills, then model risk at five vol levels), so the per-leg path was most of a
        run's time. Every step is the scalar's IEEE operation on arrays except the power,
        which the C library rounds differently from numpy and so stays per element in
        Python (``float.__pow__``); the final ``round(x, 10)`` is its exact array twin
        (``core.decimal_rounding.round_decimal``). A test holds the two paths equal.
        """
        mid = np.asarray(mid, dtype=np.float64)
        scale = np.asarray(scale, dtype=np.float64)
        price = np.where(mid > 0.0, mid, 0.0)
        weight = np.where(price == 0.0, 0.0, 1.0)  # no scale (not > 0): the widest spread
        priced = np.flatnonzero((price != 0.0) & (scale > 0.0))
        u = price[priced] / scale[priced]  # same operation order as quote
        weight[priced] = [self._weight(x) for x in u.tolist()]
        raw = self.tick + self.wide * weight
        ticks = np.maximum(np.floor(raw / self.tick + 0.5 + TICK_EPSILON), 1.0)
        # + 0.0: an int has no negative zero, so neither may these (-0.0 + 0.0 is 0.0).
        bid_ticks = np.maximum(np.floor(mid / self.tick - ticks / 2.0 + 0.5 + TICK_EPSILON), 0.0) + 0.0
        return self._on_tick(bid_ticks), self._on_tick(bid_ticks + ticks)

    def _on_tick(self, ticks: np.ndarray) -> np.ndarray:
        """``round(ticks·tick, 10)`` per element, the bits ``quote`` rounds to."""
        return round_decimal(ticks * self.tick, 10)

    def _weight(self, u: float) -> float:
        """``logistic(steepness·ln(u/half_point))`` of one leg, by the C library's ``pow``."""
        try:
            return 1.0 / (1.0 + (self.half_point / u) ** self.steepness) if u > 0.0 else 0.0
        except OverflowError:
            return 0.0
