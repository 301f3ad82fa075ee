"""The compiled resample_sessioned gives the very arrays of the numpy version it replaced
(issue 17). Independent method: that version, kept here verbatim as the reference."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.sessioned_bars import sessioned_bars
from vwapcli.core.types import NS_PER_MINUTE, SessionedBars
from vwapcli.data.loading import load_symbol
from vwapcli.data.sample import sample_store
from vwapcli.data.sessions import SessionCalendar, resample_sessioned


def reference_resample(sessioned: SessionedBars, bar_ns: int) -> SessionedBars:
    """resample_sessioned before issue 17: numpy group boundaries and reduceat."""
    n = sessioned.ts.shape[0]
    counts = np.diff(sessioned.session_start)
    session_of_bar = np.repeat(np.arange(sessioned.n_sessions), counts)
    open_of_bar = sessioned.session_open_ns[session_of_bar]
    bucket = (sessioned.ts - open_of_bar) // bar_ns
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (bucket[1:] != bucket[:-1]) | (session_of_bar[1:] != session_of_bar[:-1])
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], n) - 1
    group_session = session_of_bar[starts]
    session_start = np.searchsorted(group_session, np.arange(sessioned.n_sessions + 1)).astype(np.int64)
    return dataclasses.replace(
        sessioned,
        bar_ns=bar_ns,
        ts=open_of_bar[starts] + bucket[starts] * bar_ns,
        open=sessioned.open[starts].copy(),
        high=np.maximum.reduceat(sessioned.high, starts),
        low=np.minimum.reduceat(sessioned.low, starts),
        close=sessioned.close[ends].copy(),
        volume=np.add.reduceat(sessioned.volume, starts),
        session_start=session_start,
    )


def assert_same_arrays(got: SessionedBars, expected: SessionedBars) -> None:
    assert got.bar_ns == expected.bar_ns and got.symbol == expected.symbol
    for field in dataclasses.fields(SessionedBars):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), field.name


@pytest.mark.parametrize("minutes", [5, 15, 60, 390])
def test_the_packaged_samples_resample_is_bit_for_bit_numpys(minutes: int) -> None:
    """390-minute buckets sum 390 volumes: numpy's pairwise blocks and halves, not a plain loop."""
    bars = load_symbol(sample_store(), "SPY", None, None, "1m", SessionCalendar())
    bar_ns = minutes * NS_PER_MINUTE
    assert_same_arrays(resample_sessioned(bars, bar_ns), reference_resample(bars, bar_ns))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=sessioned_bars(bar_minutes=1), minutes=st.sampled_from([1, 2, 5, 15, 30, 60, 390]))
def test_drawn_sessions_resample_to_numpys_arrays(bars: SessionedBars, minutes: int) -> None:
    """Empty, thin, early-close, flat and ragged sessions; volumes over 16 orders of
    magnitude, so a sum in another order than numpy's shows."""
    bar_ns = minutes * NS_PER_MINUTE
    if bars.ts.shape[0] == 0:
        return  # both return the shared empty result; covered by the sessions tests
    assert_same_arrays(resample_sessioned(bars, bar_ns), reference_resample(bars, bar_ns))
