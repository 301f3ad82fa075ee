"""Hypothesis-drawn SessionedBars with the awkward sessions real stores hold (issue 17).

Each session is one of: empty (no bars), thin (under 80% of its 5-minute buckets), full,
early close (210 minutes), flat (every price equal: zero variance) or ragged (a random
subset of its bars). Prices are a seeded log random walk with gaps between sessions;
volumes span 16 orders of magnitude so the order of a sum shows in its last bits.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from vwapcli.core.types import NS_PER_MINUTE, SessionedBars

SESSION_KINDS = ("empty", "thin", "full", "early", "flat", "ragged")
FIRST_OPEN_NS = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC
DAY_NS = 86_400_000_000_000


def _session(kind: str, open_ns: int, bar_minutes: int, price: float, vol: float,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(ts, opens, closes, close_ns) of one session; prices walk on from ``price``."""
    minutes = 210 if kind == "early" else 390
    slots = np.arange(open_ns, open_ns + minutes * NS_PER_MINUTE, bar_minutes * NS_PER_MINUTE, dtype=np.int64)
    if kind == "empty":
        keep = np.zeros(slots.shape[0], dtype=bool)
    elif kind == "thin":  # the first half of the day only: ~50% of the buckets
        keep = slots < open_ns + (minutes // 2) * NS_PER_MINUTE
    elif kind == "ragged":
        keep = rng.random(slots.shape[0]) < rng.uniform(0.05, 1.0)
    else:
        keep = np.ones(slots.shape[0], dtype=bool)
    ts = slots[keep]
    moves = np.zeros(ts.shape[0]) if kind == "flat" else rng.normal(0.0, vol, ts.shape[0])
    closes = price * np.exp(np.cumsum(moves))
    opens = np.concatenate([[price], closes[:-1]]) if ts.shape[0] else closes
    if kind != "flat" and ts.shape[0]:
        opens = opens * np.exp(rng.normal(0.0, vol / 4, ts.shape[0]))  # opens off the last close
    return ts, opens, closes, open_ns + minutes * NS_PER_MINUTE


def bars_of_kinds(kinds: tuple[str, ...] | list[str], bar_minutes: int = 1, seed: int = 0,
                  vol: float = 2e-3, price: float = 400.0) -> SessionedBars:
    """One session per kind, a day apart, prices walking on through them."""
    rng = np.random.default_rng(seed)
    ts_parts, open_parts, close_parts, open_ns, close_ns, start = [], [], [], [], [], [0]
    for i, kind in enumerate(kinds):
        ts, opens, closes, closing = _session(kind, FIRST_OPEN_NS + i * DAY_NS, bar_minutes, price, vol, rng)
        if closes.shape[0]:
            price = float(closes[-1] * np.exp(rng.normal(0.0, 0.01)))
        ts_parts.append(ts)
        open_parts.append(opens)
        close_parts.append(closes)
        open_ns.append(FIRST_OPEN_NS + i * DAY_NS)
        close_ns.append(closing)
        start.append(start[-1] + ts.shape[0])
    ts = np.concatenate(ts_parts)
    opens, closes = np.concatenate(open_parts), np.concatenate(close_parts)
    spread = np.abs(rng.normal(0.0, 1e-3, ts.shape[0]))
    return SessionedBars(
        symbol="SPY",
        bar_ns=bar_minutes * NS_PER_MINUTE,
        ts=ts,
        open=opens,
        high=np.maximum(opens, closes) * (1.0 + spread),
        low=np.minimum(opens, closes) * (1.0 - spread),
        close=closes,
        volume=np.round(10.0 ** rng.uniform(0.0, 16.0, ts.shape[0])),
        session_date=np.datetime64("2024-01-02", "D") + np.arange(len(kinds)),
        session_open_ns=np.array(open_ns, dtype=np.int64),
        session_close_ns=np.array(close_ns, dtype=np.int64),
        session_start=np.array(start, dtype=np.int64),
    )


@st.composite
def sessioned_bars(draw: st.DrawFn, bar_minutes: int | None = None) -> SessionedBars:
    """1- or 5-minute SessionedBars over 1-6 sessions of drawn kinds."""
    return bars_of_kinds(
        draw(st.lists(st.sampled_from(SESSION_KINDS), min_size=1, max_size=6)),
        bar_minutes=draw(st.sampled_from((1, 5))) if bar_minutes is None else bar_minutes,
        seed=draw(st.integers(0, 2**32 - 1)),
        vol=draw(st.sampled_from((0.0, 1e-4, 2e-3))),
        price=draw(st.floats(1.0, 5_000.0)),
    )
