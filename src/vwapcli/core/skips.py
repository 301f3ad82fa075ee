"""Why a signal did not become a trade: named reasons, never bare strings.

``SkipReason`` values are the ``reason`` column of skipped.csv, so their text is part of
the run folder's format (SPEC 10) and must not change. ``Skip`` pairs a reason with a
one-line detail (which strike, which quote, which limit) for the log and skipped.csv.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SkipReason(StrEnum):
    """One reason per rule that can stop an entry, grouped by the stage that applies it."""

    # SPEC 9 timing: decided from the underlying's bars before any pricing.
    TOO_LATE = "too_late"
    NO_BAR = "no_bar"
    # SPEC 12 paper trading: the symbol's last bar is older than --max-bar-age.
    STALE_BAR = "stale_bar"
    # SPEC 8 risk: limits the account enforces (the order here is the order they are listed).
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    POSITION_OPEN = "position_open"
    MAX_OPEN_POSITIONS = "max_open_positions"
    SIZE_ZERO = "size_zero"
    # SPEC 7 pricing: strikes, quotes, vol and the debit cap.
    NO_STRIKES = "no_strikes"
    NO_QUOTE = "no_quote"
    STALE_QUOTE = "stale_quote"
    CROSSED_QUOTE = "crossed_quote"
    LOCKED_QUOTE = "locked_quote"
    NO_VOL = "no_vol"
    DEBIT_TOO_HIGH = "debit_too_high"

    @property
    def is_risk(self) -> bool:
        """A limit the account broke (SPEC 8): depends on the other trades, unlike pricing
        and timing skips, which happen whatever else the book holds (crowding out counts
        only these)."""
        return self in _RISK


_RISK = frozenset(
    {
        SkipReason.DAILY_LOSS_LIMIT,
        SkipReason.POSITION_OPEN,
        SkipReason.MAX_OPEN_POSITIONS,
        SkipReason.SIZE_ZERO,
    }
)
RISK_REASONS: tuple[SkipReason, ...] = tuple(reason for reason in SkipReason if reason.is_risk)


@dataclass(frozen=True, slots=True)
class Skip:
    """A skipped entry: the reason and a one-line detail (empty when the reason says it all)."""

    reason: SkipReason
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value
