"""The data layer: Parquet bar store, validation, exchange sessions, sources.

Flow (SPEC 2): sources (synthetic, sample, csv, providers) -> ``BarStore`` (validated,
atomic, idempotent writes) -> ``load_market_data`` (validated reads, RTH session filter)
-> ``SessionedBars`` for the strategies.

Submodules are imported on first use: reading a store must not pay for the exchange
calendar, and the report imports only ``vwapcli.data.store``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BarStore": "vwapcli.data.store",
    "SessionCalendar": "vwapcli.data.sessions",
    "assign_sessions": "vwapcli.data.sessions",
    "load_market_data": "vwapcli.data.loading",
    "resample_to_5m": "vwapcli.data.sessions",
    "validate_bars": "vwapcli.data.validation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vwapcli.data' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
