"""ORB's one-call batch scan emits exactly the per-session signals (SPEC 6 has one home).

Random parameters (range length, entry cutoff, target multiple) over random-walk sessions
with missing minutes, early closes and empty sessions: the batch scan must equal
``generate_signals`` session by session (builders/batch.py), every field and float bit.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.batch import exact, per_session_signals, session_batch
from builders.strategy import random_session_rows, sessioned_bars, weekdays
from vwapcli.strategies.orb import ORBConfig, ORBStrategy

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    st.integers(1, 400), st.sampled_from([dt.time(10, 0), dt.time(12, 0), dt.time(16, 0)]),
    st.sampled_from([0.5, 1.0, 3.0]), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.4]),
    st.lists(st.booleans(), min_size=6, max_size=6), st.integers(0, 6),
)
def test_the_batch_scan_emits_the_per_session_signals_for_any_parameters(
    range_minutes, max_entry_time, target_range_mult, seed, drop_fraction, empty, first,
):
    rng = np.random.default_rng(seed)
    days = weekdays(dt.date(2024, 3, 4), 6)
    sessions = [(day, [] if gone else random_session_rows(rng, 100.0, 0.05, 390, drop_fraction))
                for day, gone in zip(days, empty, strict=True)]
    sessioned = sessioned_bars("SPY", sessions, early_closes=days[::3])
    start = days[first] if first < len(days) else None
    strategy = ORBStrategy(ORBConfig(range_minutes=range_minutes, max_entry_time=max_entry_time,
                                     target_range_mult=target_range_mult))
    batch = strategy.generate_batch_signals(session_batch(sessioned, start))
    reference = per_session_signals(strategy, sessioned, start)
    assert [exact(s) for s in batch] == [exact(s) for s in reference]
