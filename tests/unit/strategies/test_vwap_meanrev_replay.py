"""VWAP_MEANREV is causal: bar-by-bar replay equals the batch run, prefixes agree with the whole.

Uses the generated scenarios of the reference test (builders/vwap_meanrev.py) (random parameters, missing minutes,
silent opening bars) so the properties are checked where signals actually occur.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.strategy import sessioned_bars
from builders.vwap_meanrev import build_sessions, engine_config, scenarios
from vwapcli.core.daily import daily_bars
from vwapcli.core.types import MarketState, Signal
from vwapcli.signal_run import compute_signals, signals_frame, write_signals
from vwapcli.strategies import catalogue

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_replay_writes_the_same_signal_file_as_the_batch_run(scenario):
    cfg, shape = scenario
    sessions = build_sessions(cfg, shape)
    data = {"SPY": sessioned_bars("SPY", sessions)}
    start = sessions[-2][0]  # replay the last two sessions; earlier ones are ATR warm-up
    config = engine_config(cfg)
    with tempfile.TemporaryDirectory() as folder:
        batch = write_signals(compute_signals(config, data, start, None), Path(folder) / "batch.csv")
        replay = write_signals(compute_signals(config, data, start, None, replay=True), Path(folder) / "replay.csv")
        assert batch.read_bytes() == replay.read_bytes()


@SETTINGS
@given(scenarios(), st.integers(1, 390))
def test_signals_on_a_prefix_are_the_full_sessions_signals_up_to_that_bar(scenario, n_bars):
    cfg, shape = scenario
    sessions = build_sessions(cfg, shape)
    sessioned = sessioned_bars("SPY", sessions)
    last = sessioned.n_sessions - 1
    bars = sessioned.session(last)
    n_bars = min(n_bars, len(bars))
    state = MarketState(
        symbol="SPY", session_date=sessions[last][0],
        session_open_ns=int(sessioned.session_open_ns[last]),
        session_close_ns=int(sessioned.session_close_ns[last]),
        bars=bars, daily_history=daily_bars(sessioned).before(last - int(shape["empty_session"])),
    )
    block = engine_config(cfg).strategies["vwap_meanrev"]
    strategy = catalogue()["vwap_meanrev"].factory(block)
    full = strategy.generate_signals(state)
    prefix = strategy.generate_signals(dataclasses.replace(state, bars=bars.prefix(n_bars)))
    known_at = int(bars.close_time[n_bars - 1])
    assert prefix == [s for s in full if s.entry_time_ns <= known_at]


@SETTINGS
@given(scenarios())
def test_every_signal_sits_between_its_stop_and_its_target(scenario):
    """LONG: close < vwap = target and stop <= vwap - 2 bands < vwap - band < close; SHORT mirrored."""
    cfg, shape = scenario
    data = {"SPY": sessioned_bars("SPY", build_sessions(cfg, shape))}
    for signal in compute_signals(engine_config(cfg), data, None, None):
        if signal.direction == "LONG":
            assert signal.P_stop < signal.P < signal.P_target
        else:
            assert signal.P_target < signal.P < signal.P_stop
        assert signal.P_target == signal.meta["vwap"]


def test_signal_frame_lists_vwap_band_atr_first_among_meta_columns():
    """Meta columns: vwap, band, atr first, then other keys sorted; NaN where a signal lacks a key."""
    when = pd.Timestamp("2024-01-02 15:01", tz="UTC")
    signals = [
        Signal("VWAP_MEANREV", "SPY", "LONG", when, 99.3, 98.0, 100.0, {"vwap": 100.0, "band": 1.0, "atr": 2.0}),
        Signal("ORB", "SPY", "LONG", when, 101.3, 99.8, 102.5, {"range_low": 99.8, "range_high": 101.0}),
    ]
    frame = signals_frame(signals)
    assert list(frame.columns[7:]) == ["vwap", "band", "atr", "range_high", "range_low"]
    assert np.isnan(frame.loc[1, "vwap"]) and np.isnan(frame.loc[0, "range_high"])
