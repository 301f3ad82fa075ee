"""VWAP_MEANREV's one-call batch scan emits exactly the per-session signals (SPEC 5 has one home).

The generated scenarios of the reference test (builders/vwap_meanrev.py) draw every
parameter (wilder and sma ATR, several trades a day, one direction a day, every VWAP price)
over random-walk sessions with missing minutes, silent opening bars and an empty session;
the batch scan must equal ``generate_signals`` session by session (builders/batch.py),
every field and float bit, whatever the first session in range (earlier ones are warm-up).
"""

from __future__ import annotations

import datetime as dt
import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders.batch import exact, per_session_signals, session_batch
from builders.strategy import sessioned_bars
from builders.vwap_meanrev import build_sessions, engine_config, scenarios
from vwapcli.strategies import catalogue

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def strategy_for(cfg):
    return catalogue()["vwap_meanrev"].factory(engine_config(cfg).strategies["vwap_meanrev"])


@SETTINGS
@given(scenarios(), st.integers(0, 8))
def test_the_batch_scan_emits_the_per_session_signals_for_any_parameters(scenario, first):
    cfg, shape = scenario
    sessions = build_sessions(cfg, shape)
    sessioned = sessioned_bars("SPY", sessions, early_closes=[sessions[-1][0]])
    start = sessions[min(first, len(sessions) - 1)][0] if first else None
    strategy = strategy_for(cfg)
    batch = strategy.generate_batch_signals(session_batch(sessioned, start))
    assert [exact(s) for s in batch] == [exact(s) for s in per_session_signals(strategy, sessioned, start)]


def test_generated_scenarios_do_signal_so_the_comparison_has_teeth():
    """Over 30 fixed draws the batch scan emits signals, with more than one a day somewhere."""
    found, busiest = 0, 0
    draws = st.tuples(scenarios(), st.just(0))

    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    @given(draws)
    def run(drawn):
        nonlocal found, busiest
        (cfg, shape), _ = drawn
        sessioned = sessioned_bars("SPY", build_sessions(cfg, shape))
        signals = strategy_for(cfg).generate_batch_signals(session_batch(sessioned))
        found += len(signals)
        per_day: dict[dt.date, int] = {}
        for signal in signals:
            day = signal.entry_time.date()
            per_day[day] = per_day.get(day, 0) + 1
        busiest = max([busiest, *per_day.values()])

    run()
    assert found > 0 and busiest > 1


def test_the_batch_scan_logs_the_per_session_debug_records_in_the_same_order(caplog):
    """--verbose output is the same too: 'no ATR' for warm-up sessions, then each signal, in session order."""
    cfg = {"atr_period": 2, "atr_method": "sma", "vwap_price": "hlc3", "band_atr_frac": 0.1,
           "max_session_range_atr_frac": 5.0, "max_open_to_high_atr_frac": 5.0, "max_open_to_low_atr_frac": 5.0,
           "trend_cutoff_time": "09:31", "min_entry_time": "10:00", "max_entry_time": "15:30",
           "stop_band_mult": 1.0, "max_trades_per_day": 3, "one_direction_per_day": False}
    shape = {"seed": 3, "step": 0.05, "drop_fraction": 0.0, "zero_volume_open": 0, "empty_session": True}
    sessioned = sessioned_bars("SPY", build_sessions(cfg, shape))
    strategy = strategy_for(cfg)
    with caplog.at_level(logging.DEBUG, logger="vwapcli.strategy"):
        per_session_signals(strategy, sessioned)
        expected = [record.getMessage() for record in caplog.records]
        caplog.clear()
        strategy.generate_batch_signals(session_batch(sessioned))
        found = [record.getMessage() for record in caplog.records]
    assert any("no ATR" in message for message in expected)
    assert sum(" at " in message for message in expected) > 1
    assert found == expected
