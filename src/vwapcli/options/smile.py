"""The smile in standardised moneyness (SPEC 7.1).

``z = ln(K/F) / (sigma·sqrt(T))`` measures a strike's distance from the forward in units
of the expected move to expiry. On the real SPY 0DTE quotes the ratio of a strike's
implied vol to the at-the-money vol is nearly the same function of z at 9:45 and at
15:30 (docs/OPTION_MODEL.md), while in plain ln(K/F) it changes many-fold as the day
runs out: z is the coordinate in which one smile holds all day.

    vol(K) = sigma · ratio(z),   ratio(z) = 1 + skew·u + curvature·u²,   u = bound·tanh(z / bound)

``u`` equals z near the money and levels off at ±bound, so the wings stay bounded (far
strikes are priced by the tick floor anyway); the ratio is floored at ``RATIO_FLOOR``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

RATIO_FLOOR = 0.2


def standardised_moneyness(strike: ArrayLike, forward: ArrayLike, total_std: ArrayLike) -> np.ndarray:
    """``ln(K/F) / (sigma·sqrt(T))``; ±inf (or 0 at the money) when no variance is left."""
    k = np.asarray(strike, dtype=np.float64)
    f = np.asarray(forward, dtype=np.float64)
    s = np.asarray(total_std, dtype=np.float64)
    log_moneyness = np.log(k / f)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, log_moneyness / np.where(s > 0, s, 1.0), np.sign(log_moneyness) * np.inf)
    return np.where(log_moneyness == 0.0, 0.0, z)


@dataclass(frozen=True)
class Smile:
    """Vol ratio to at-the-money as a function of z (module docstring)."""

    skew: float = 0.0
    curvature: float = 0.0
    bound: float = 4.0

    def __post_init__(self) -> None:
        for name in ("skew", "curvature", "bound"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"smile {name} must be finite")
        if self.bound <= 0:
            raise ValueError("smile bound must be > 0")

    def ratio(self, z: ArrayLike) -> ArrayLike:
        """``max(1 + skew·u + curvature·u², RATIO_FLOOR)`` with ``u = bound·tanh(z/bound)``."""
        u = self.bound * np.tanh(np.asarray(z, dtype=np.float64) / self.bound)
        value = np.maximum(1.0 + self.skew * u + self.curvature * u * u, RATIO_FLOOR)
        return float(value) if value.ndim == 0 else value

    def at(self, z: float) -> float:
        """``ratio`` of one z, as a float (the per-quote path)."""
        return float(np.asarray(self.ratio(z)))
