"""The strategy protocol (SPEC 4) and the per-strategy config base."""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from vwapcli.core.types import MarketState, SessionBatch, Signal


class StrategyConfig(BaseModel):
    """Base of every strategy's config block: frozen, strict about unknown fields, and no
    NaN or +/-inf in any numeric parameter (issue 12)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    enabled: bool = Field(False, description="Run this strategy in backtests and signal runs.")


@runtime_checkable
class Strategy(Protocol):
    """A pure, causal function of bars and config.

    ``generate_signals`` returns every signal whose trigger bar is among
    ``market_state.bars`` (the session so far). Batch runs pass the whole session once;
    the bar-by-bar path passes each prefix and keeps the signals stamped at the newest
    bar's close. Because the function is causal the two agree exactly.
    """

    name: str

    def generate_signals(self, market_state: MarketState) -> list[Signal]: ...


@runtime_checkable
class BatchStrategy(Strategy, Protocol):
    """A strategy that can also scan many sessions in one call (optional; batch runs only).

    ``generate_batch_signals(batch)`` must return exactly what ``generate_signals`` returns
    for ``batch.state(0)``, ``batch.state(1)``, ... concatenated: it is a speed path, never a
    second rule. Strategies without it are run session by session.
    """

    def generate_batch_signals(self, batch: SessionBatch) -> list[Signal]: ...


class StrategyLogAdapter(logging.LoggerAdapter):
    """Stamps every record with ``strategy=<NAME>`` (SPEC 4)."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = dict(kwargs.get("extra") or {})
        extra.setdefault("strategy", self.extra["strategy"] if self.extra else None)
        kwargs["extra"] = extra
        return f"strategy={extra['strategy']} {msg}", kwargs


def strategy_logger(name: str) -> StrategyLogAdapter:
    """The logger a strategy must use, so its records carry ``strategy=<name>``."""
    return StrategyLogAdapter(logging.getLogger(f"vwapcli.strategy.{name}"), {"strategy": name})
