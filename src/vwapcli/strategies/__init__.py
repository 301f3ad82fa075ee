"""Shipped strategies: one module per strategy, one line each in ``SHIPPED``.

Removing a strategy is: delete its file, its line here, its config block. The modules are
imported when the catalogue is first asked for, not when this package is imported.
"""

from __future__ import annotations

from functools import cache

from vwapcli.core.registry import StrategyCatalogue

SHIPPED: tuple[str, ...] = (
    "vwapcli.strategies.orb",
    "vwapcli.strategies.vwap_meanrev",
)


@cache
def catalogue() -> StrategyCatalogue:
    """The shipped strategies by config key, in ``SHIPPED`` order."""
    return StrategyCatalogue.from_modules(SHIPPED)
