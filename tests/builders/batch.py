"""The per-session signal pass, rebuilt here, to hold batch strategy scans to it.

``per_session_signals`` is the signal pass as it ran before strategies could scan a whole
symbol at once: one ``MarketState`` per session with bars in [start, end] (daily history =
the sessions with bars strictly before it), one ``generate_signals`` call each. It builds
the states itself, not through ``SessionBatch.state``, so a fault there shows too.
Nothing here names a particular strategy.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from vwapcli.core.daily import daily_bars
from vwapcli.core.strategy import Strategy
from vwapcli.core.types import MarketState, SessionBatch, SessionedBars, Signal


def _sessions_with_bars(sessioned: SessionedBars, start: dt.date | None, end: dt.date | None):
    """(daily row k, session index i, date) of each session with bars, kept if in [start, end]."""
    k = 0
    for i in range(sessioned.n_sessions):
        if sessioned.session_start[i + 1] == sessioned.session_start[i]:
            continue
        day = sessioned.session_date[i].astype("datetime64[D]").astype(dt.date)
        if (start is None or day >= start) and (end is None or day <= end):
            yield k, i, day
        k += 1


def per_session_signals(strategy: Strategy, sessioned: SessionedBars, start: dt.date | None = None,
                        end: dt.date | None = None) -> list[Signal]:
    """``generate_signals`` session by session, in session order."""
    daily = daily_bars(sessioned)
    found: list[Signal] = []
    for k, i, day in _sessions_with_bars(sessioned, start, end):
        state = MarketState(
            symbol=sessioned.symbol, session_date=day,
            session_open_ns=int(sessioned.session_open_ns[i]), session_close_ns=int(sessioned.session_close_ns[i]),
            bars=sessioned.session(i), daily_history=daily.before(k),
        )
        found.extend(strategy.generate_signals(state))
    return found


def session_batch(sessioned: SessionedBars, start: dt.date | None = None, end: dt.date | None = None) -> SessionBatch:
    """The batch of the same sessions, for ``generate_batch_signals``."""
    kept = list(_sessions_with_bars(sessioned, start, end))
    return SessionBatch(
        sessioned.symbol, sessioned, daily_bars(sessioned),
        sessions=np.array([i for _, i, _ in kept], dtype=np.int64),
        history=np.array([k for k, _, _ in kept], dtype=np.int64),
    )


def _bits(value: object) -> object:
    return (type(value).__name__, value.hex()) if isinstance(value, float) else (type(value).__name__, value)


def exact(signal: Signal) -> tuple:
    """Every field of a signal, floats as their exact bits (so -0.0 != 0.0, NaN == NaN)."""
    return (
        signal.strategy_name, signal.symbol, signal.direction, signal.entry_time_ns, str(signal.entry_time.tz),
        _bits(signal.P), _bits(signal.P_stop), _bits(signal.P_target),
        tuple((key, _bits(value)) for key, value in signal.meta.items()),
    )
