"""The data layer: Parquet bar store, validation, exchange sessions, sources.

Flow (SPEC 2): sources (synthetic, sample, csv, providers) -> ``BarStore`` (validated,
atomic, idempotent writes) -> ``load_market_data`` (validated reads, RTH session filter)
-> ``SessionedBars`` for the strategies.
"""

from __future__ import annotations

from vwapcli.data.loading import load_market_data
from vwapcli.data.sessions import SessionCalendar, assign_sessions, resample_to_5m
from vwapcli.data.store import BarStore
from vwapcli.data.validation import validate_bars

__all__ = [
    "BarStore",
    "SessionCalendar",
    "assign_sessions",
    "load_market_data",
    "resample_to_5m",
    "validate_bars",
]
