"""A batch run scans each symbol in one call per strategy, and emits the per-session signals.

``BatchStrategy.generate_batch_signals`` is a speed path, never a second rule: for every
catalogued strategy, its answer must equal ``generate_signals`` called session by session
(``builders.batch.per_session_signals``, the pass as it ran before), field for field with
exact float bits, and ``compute_signals`` must equal those answers sorted. Checked on the
packaged sample (early closes, sessions before ``start`` as ATR warm-up) and on generated
sessions of every awkward kind (empty, thin, early close, flat, ragged). Nothing here names
a strategy: they come from the registry with default blocks, all enabled.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.batch import exact, per_session_signals, session_batch
from builders.sessioned_bars import SESSION_KINDS, bars_of_kinds
from builders.strategy import random_sessioned_bars
from vwapcli.app_config import AppConfig
from vwapcli.core.strategy import BatchStrategy
from vwapcli.core.types import SessionedBars
from vwapcli.data.loading import load_symbol
from vwapcli.data.sample import sample_store
from vwapcli.data.sessions import SessionCalendar
from vwapcli.signal_run import compute_signals, enabled_strategies
from vwapcli.strategies import catalogue

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def all_enabled() -> AppConfig:
    return AppConfig().with_strategies(enable=list(catalogue()))


def assert_batch_is_per_session(sessioned: SessionedBars, start: dt.date | None, end: dt.date | None = None) -> int:
    """Both levels (each strategy's batch scan; the whole pass) against the per-session pass."""
    config = all_enabled()
    expected = []
    for strategy in enabled_strategies(config):
        reference = per_session_signals(strategy, sessioned, start, end)
        if isinstance(strategy, BatchStrategy):
            batch = strategy.generate_batch_signals(session_batch(sessioned, start, end))
            assert [exact(s) for s in batch] == [exact(s) for s in reference], strategy.name
        expected.extend(reference)
    expected.sort(key=lambda s: (s.entry_time_ns, s.symbol, s.strategy_name))
    found = compute_signals(config, {sessioned.symbol: sessioned}, start, end)
    assert [exact(s) for s in found] == [exact(s) for s in expected]
    return len(found)


def test_every_shipped_strategy_scans_a_symbol_in_one_call():
    assert all(isinstance(strategy, BatchStrategy) for strategy in enabled_strategies(all_enabled()))


@pytest.fixture(scope="module")
def sample() -> dict[str, SessionedBars]:
    store = sample_store()
    calendar = SessionCalendar(AppConfig().data.calendar)
    return {symbol: load_symbol(store, symbol, None, None, "1m", calendar) for symbol in ("SPY", "QQQ")}


@pytest.mark.parametrize("symbol", ["SPY", "QQQ"])
@pytest.mark.parametrize("skip", [0, 21, 40])
def test_on_the_packaged_sample_the_batch_scan_emits_the_per_session_signals(sample, symbol, skip):
    """``skip`` sessions before ``start`` are warm-up only; the sample's early closes are in range."""
    sessioned = sample[symbol]
    start = sessioned.session_date[skip].astype(dt.date) if skip else None
    end = sessioned.session_date[-3].astype(dt.date)  # an end before the last session too
    assert assert_batch_is_per_session(sessioned, start, end) > 0


@SETTINGS
@given(st.integers(0, 2**32 - 8), st.sampled_from([0.0, 0.3]), st.integers(0, 24))
def test_on_random_walk_sessions_the_batch_scan_emits_the_per_session_signals(seed, drop_fraction, skip):
    sessioned = random_sessioned_bars("SPY", dt.date(2024, 3, 4), 24, seed, step=0.04, drop_fraction=drop_fraction)
    start = sessioned.session_date[min(skip, 23)].astype(dt.date) if skip else None
    assert_batch_is_per_session(sessioned, start)


@SETTINGS
@given(
    st.lists(st.sampled_from(SESSION_KINDS), min_size=1, max_size=30),
    st.sampled_from((1, 5)), st.integers(0, 2**32 - 1), st.sampled_from((1e-4, 2e-3)), st.integers(0, 30),
)
def test_on_empty_thin_early_flat_and_ragged_sessions_the_batch_scan_emits_the_per_session_signals(
    kinds, bar_minutes, seed, vol, skip,
):
    sessioned = bars_of_kinds(kinds, bar_minutes=bar_minutes, seed=seed, vol=vol)
    start = sessioned.session_date[min(skip, len(kinds) - 1)].astype(dt.date) if skip else None
    assert_batch_is_per_session(sessioned, start)


def test_a_symbol_without_sessions_in_range_emits_nothing_in_batch():
    sessioned = random_sessioned_bars("SPY", dt.date(2024, 3, 4), 3, seed=1)
    after = (sessioned.session_date[-1] + np.timedelta64(1, "D")).astype(dt.date)
    batch = session_batch(sessioned, after)
    assert len(batch) == 0
    for strategy in enabled_strategies(all_enabled()):
        assert isinstance(strategy, BatchStrategy)
        assert strategy.generate_batch_signals(batch) == []
