"""Shipped strategies: one module per strategy, one registration line each."""

from vwapcli.core.registry import register_modules

register_modules([
    "vwapcli.strategies.orb",
    "vwapcli.strategies.vwap_meanrev",
])
