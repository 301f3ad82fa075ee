"""The compiled SessionHistory.from_bars gives the very bits of the per-session loop it
replaced (issue 17). Independent method: that loop, kept here verbatim as the reference."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from builders.sessioned_bars import bars_of_kinds, sessioned_bars
from vwapcli.core.types import NS_PER_MINUTE, SessionedBars
from vwapcli.data.loading import load_symbol
from vwapcli.data.sample import sample_store
from vwapcli.data.sessions import SessionCalendar, resample_sessioned
from vwapcli.options.variance_clock import (
    BUCKET_MINUTES,
    N_BUCKETS,
    REGULAR_SESSION_MINUTES,
    IntradayProfile,
)
from vwapcli.options.vol_forecast import BUCKET_NS, MIN_COVERAGE, SessionHistory


def reference_history(bars: SessionedBars) -> SessionHistory:
    """The loop over sessions from_bars was before issue 17 (numpy per session)."""
    if bars.bar_ns != BUCKET_NS:
        bars = resample_sessioned(bars, BUCKET_NS)
    n = bars.n_sessions
    rv = np.full(n, np.nan)
    raw_rv = np.full(n, np.nan)
    gap = np.full(n, np.nan)
    open_price = np.full(n, np.nan)
    close_price = np.full(n, np.nan)
    minutes = (bars.session_close_ns - bars.session_open_ns) / NS_PER_MINUTE
    shares = np.full((n, N_BUCKETS), np.nan)
    builtin = IntradayProfile.builtin()
    for i in range(n):
        a, b = int(bars.session_start[i]), int(bars.session_start[i + 1])
        if a == b:
            continue
        prices = np.concatenate([[bars.open[a]], bars.close[a:b]])
        squared = np.diff(np.log(prices)) ** 2
        open_price[i], close_price[i] = bars.open[a], bars.close[b - 1]
        if i > 0 and np.isfinite(close_price[i - 1]):
            gap[i] = math.log(bars.open[a] / close_price[i - 1])
        raw_rv[i] = float(squared.sum())
        expected_buckets = minutes[i] / BUCKET_MINUTES
        if (b - a) < MIN_COVERAGE * expected_buckets:
            continue
        rv[i] = raw_rv[i] / builtin.session_total(float(minutes[i]))
        if minutes[i] == REGULAR_SESSION_MINUTES and raw_rv[i] > 0:
            bucket = (bars.ts[a:b] - bars.session_open_ns[i]) // BUCKET_NS
            row = np.zeros(N_BUCKETS)
            np.add.at(row, np.clip(bucket, 0, N_BUCKETS - 1), squared)
            shares[i] = row / raw_rv[i]
    return SessionHistory(
        session_date=np.asarray(bars.session_date, dtype="datetime64[D]"),
        rv=rv, raw_rv=raw_rv, gap=gap, open_price=open_price, close_price=close_price,
        session_minutes=minutes, bucket_shares=shares,
    )


def assert_same_bits(got: SessionHistory, expected: SessionHistory) -> None:
    for field in dataclasses.fields(SessionHistory):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        assert a.dtype == b.dtype and a.shape == b.shape, field.name
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), field.name


@pytest.mark.parametrize("timeframe", ["1m", "5m"])
@pytest.mark.parametrize("symbol", ["SPY", "QQQ"])
def test_the_packaged_samples_history_is_bit_for_bit_the_loops(symbol: str, timeframe: str) -> None:
    """Q4 2024 with its two 13:00 early closes, from the 1m store and its 5m resample."""
    bars = load_symbol(sample_store(), symbol, None, None, timeframe, SessionCalendar())
    got = SessionHistory.from_bars(bars)
    assert np.isfinite(got.rv).sum() > 50 and np.isfinite(got.bucket_shares).all(axis=1).sum() > 50
    assert_same_bits(got, reference_history(bars))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bars=sessioned_bars())
def test_drawn_sessions_give_the_loops_history_bit_for_bit(bars: SessionedBars) -> None:
    """Empty, thin, early-close, flat (zero-variance) and ragged sessions, 1m and 5m bars."""
    assert_same_bits(SessionHistory.from_bars(bars), reference_history(bars))


@pytest.mark.parametrize("bar_minutes", [1, 5])
def test_each_awkward_session_takes_its_branch_and_matches_the_loop(bar_minutes: int) -> None:
    """So the drawn cases above do reach every branch. By the rules (SPEC 7.1): an empty
    session has no statistics and the session after it no gap; a thin one (first half of the
    day: 39 of 78 buckets < 80%) a raw RV but no RV; an early close (210 min, all 42
    buckets) an RV but no shares; a flat one zero RV and no shares; a complete regular one
    shares summing to 1 and an RV equal to its raw RV (the built-in total of 390 min is 1)."""
    kinds = ("full", "empty", "thin", "early", "flat", "full")
    bars = bars_of_kinds(kinds, bar_minutes=bar_minutes, seed=5)
    history = SessionHistory.from_bars(bars)
    assert_same_bits(history, reference_history(bars))
    full, empty, thin, early, flat, last = range(6)
    assert np.isnan([history.raw_rv[empty], history.open_price[empty], history.gap[empty], history.gap[thin]]).all()
    assert history.raw_rv[thin] > 0 and np.isnan(history.rv[thin])
    assert history.rv[early] > 0 and np.isnan(history.bucket_shares[early]).all()
    assert history.raw_rv[flat] == 0.0 and history.rv[flat] == 0.0 and np.isnan(history.bucket_shares[flat]).all()
    for day in (full, last):
        assert history.bucket_shares[day].sum() == pytest.approx(1.0, rel=1e-12)
        assert history.rv[day] == pytest.approx(history.raw_rv[day], rel=1e-12)
    assert np.isfinite(history.gap[[early, flat, last]]).all()
