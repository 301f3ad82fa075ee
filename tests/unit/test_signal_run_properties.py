"""Every catalogued strategy is causal (SPEC 4): replay == batch, prefixes agree with the whole.

Nothing here names a strategy: the strategies come from the registry with their default
config blocks, all enabled, so the test holds for whatever is shipped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.strategy import random_sessioned_bars
from vwapcli.app_config import AppConfig
from vwapcli.core.daily import daily_bars
from vwapcli.core.types import MarketState
from vwapcli.signal_run import compute_signals, write_signals
from vwapcli.strategies import catalogue

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
N_SESSIONS = 22  # enough warm-up for a 20-session ATR


def all_enabled() -> AppConfig:
    return AppConfig().with_strategies(enable=list(catalogue()))


def market(seed: int, drop_fraction: float) -> dict:
    return {
        symbol: random_sessioned_bars(symbol, dt.date(2024, 1, 2), N_SESSIONS, seed + k, step=0.04,
                                      drop_fraction=drop_fraction)
        for k, symbol in enumerate(("QQQ", "SPY"))
    }


@SETTINGS
@given(st.integers(0, 2**32 - 8), st.sampled_from([0.0, 0.2]))
def test_replay_and_batch_write_byte_identical_csv_and_parquet(seed, drop_fraction):
    data = market(seed, drop_fraction)
    start = data["SPY"].session_date[-2].astype(dt.date)
    batch = compute_signals(all_enabled(), data, start, None)
    replay = compute_signals(all_enabled(), data, start, None, replay=True)
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".csv", ".parquet"):
            a = write_signals(batch, Path(folder) / f"batch{suffix}")
            b = write_signals(replay, Path(folder) / f"replay{suffix}")
            assert a.read_bytes() == b.read_bytes()


@SETTINGS
@given(st.integers(0, 2**32 - 8), st.integers(1, 390))
def test_each_strategy_on_a_prefix_emits_the_full_sessions_signals_up_to_then(seed, n_bars):
    sessioned = market(seed, 0.1)["SPY"]
    last = sessioned.n_sessions - 1
    bars = sessioned.session(last)
    n_bars = min(n_bars, len(bars))
    state = MarketState(
        symbol="SPY", session_date=sessioned.session_date[last].astype(dt.date),
        session_open_ns=int(sessioned.session_open_ns[last]),
        session_close_ns=int(sessioned.session_close_ns[last]),
        bars=bars, daily_history=daily_bars(sessioned).before(last),
    )
    known_at = int(bars.close_time[n_bars - 1])
    config = all_enabled()
    for key, spec in catalogue().items():
        strategy = spec.factory(config.strategies[key])
        full = strategy.generate_signals(state)
        prefix = strategy.generate_signals(dataclasses.replace(state, bars=bars.prefix(n_bars)))
        assert prefix == [s for s in full if s.entry_time_ns <= known_at], key


def test_signals_keep_their_stop_and_target_on_opposite_sides_of_the_entry():
    """Every shipped strategy's LONG has stop < P < target, SHORT target < P < stop."""
    signals = compute_signals(all_enabled(), market(5, 0.0), None, None)
    assert signals
    for signal in signals:
        if signal.direction == "LONG":
            assert signal.P_stop < signal.P < signal.P_target
        else:
            assert signal.P_target < signal.P < signal.P_stop
