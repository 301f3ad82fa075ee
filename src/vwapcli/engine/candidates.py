"""Stage 1 of the engine: each signal's SPEC 9 exit, decided by the underlying alone.

Exits need only the underlying's bars, not the account, so they are planned for every
signal up front (one compiled pass per symbol, ``vwapcli.exits``); the account walk then
decides which candidates become trades.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from vwapcli.app_config import AppConfig
from vwapcli.core.skips import SkipReason
from vwapcli.core.types import SessionedBars, Signal, new_york_date
from vwapcli.exits import EXIT_REASONS, plan_exits

#: What a candidate's pricing depends on besides the pricer and dte: symbol, direction,
#: P, P_target, entry time, exit time, underlying exit level.
PricingKey = tuple[str, str, float, float, int, int, float]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A signal with its underlying exit already known (exits do not depend on the account).

    ``pricing_key`` is the candidate's pricing inputs as a value, built once: a sweep looks
    the same candidate up once per configuration.
    """

    signal: Signal
    session_date: dt.date
    exit_time_ns: int
    exit_reason: str | None  # None: too late or no matching bar
    underlying_exit: float
    skip_reason: SkipReason | None
    pricing_key: PricingKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        signal = self.signal
        key = (
            signal.symbol, signal.direction, signal.P, signal.P_target, signal.entry_time_ns,
            self.exit_time_ns, self.underlying_exit,
        )
        object.__setattr__(self, "pricing_key", key)


def plan_candidates(
    signals: Sequence[Signal], market_data: Mapping[str, SessionedBars], config: AppConfig
) -> list[Candidate]:
    """Attach the SPEC 9 exit to every signal, symbol by symbol, in one compiled pass each."""
    by_symbol: dict[str, list[int]] = {}
    for i, signal in enumerate(signals):
        by_symbol.setdefault(signal.symbol, []).append(i)
    out: list[Candidate | None] = [None] * len(signals)
    for symbol, indices in by_symbol.items():
        bars = market_data[symbol]
        chosen = [signals[i] for i in indices]
        plan = plan_exits(
            bars,
            np.array([s.entry_time_ns for s in chosen], dtype=np.int64),
            np.array([s.direction == "LONG" for s in chosen], dtype=np.bool_),
            np.array([s.P_stop for s in chosen], dtype=np.float64),
            np.array([s.P_target for s in chosen], dtype=np.float64),
            config.exits.exit_time,
            exit_buffer_ns=int(config.exits.exit_buffer.total_seconds() * 1e9),
        )
        exit_time_ns = plan.exit_time_ns.tolist()
        underlying_exit = plan.underlying_exit.tolist()
        entry_index = plan.entry_index.tolist()
        too_late = plan.too_late.tolist()
        reasons = plan.reason.tolist()
        for k, (i, signal) in enumerate(zip(indices, chosen, strict=True)):
            skip: SkipReason | None = None
            if entry_index[k] < 0:
                skip = SkipReason.NO_BAR
            elif too_late[k]:
                skip = SkipReason.TOO_LATE
            out[i] = Candidate(
                signal=signal, session_date=new_york_date(signal.entry_time_ns),
                exit_time_ns=exit_time_ns[k],
                exit_reason=EXIT_REASONS.get(reasons[k]) if skip is None else None,
                underlying_exit=underlying_exit[k], skip_reason=skip,
            )
    return [c for c in out if c is not None]


def in_signal_order(per_symbol: Iterable[Sequence[Candidate]]) -> list[Candidate]:
    """Candidates planned symbol by symbol, merged into the order an all-at-once run plans them.

    ``compute_signals`` sorts every signal by (entry time, symbol, strategy) with a stable
    sort, and ``plan_candidates`` keeps that order. The key names the symbol, so ties are
    only ever within one symbol, whose list is already in that order: a stable sort of the
    lists concatenated in any order gives the all-at-once list, whichever order the symbols
    were planned or finished in (SPEC 13 streaming).
    """
    merged = [candidate for candidates in per_symbol for candidate in candidates]
    merged.sort(key=_signal_key)
    return merged


def _signal_key(candidate: Candidate) -> tuple[int, str, str]:
    signal = candidate.signal
    return signal.entry_time_ns, signal.symbol, signal.strategy_name
