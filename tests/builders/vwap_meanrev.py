"""Generated VWAP_MEANREV scenarios (random parameters, random-walk sessions with missing
minutes, silent opening bars and empty sessions), shared by the reference and replay tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import strategies as st

from builders.strategy import random_session_rows, weekdays
from vwapcli.app_config import load_config

TIMES = {"09:31": dt.time(9, 31), "10:00": dt.time(10, 0), "11:00": dt.time(11, 0),
         "12:00": dt.time(12, 0), "15:30": dt.time(15, 30), "16:00": dt.time(16, 0)}


@st.composite
def scenarios(draw):
    cfg = {
        "atr_period": draw(st.integers(1, 4)),
        "atr_method": draw(st.sampled_from(["sma", "wilder"])),
        "vwap_price": draw(st.sampled_from(["hlc3", "close", "ohlc4"])),
        "band_atr_frac": draw(st.sampled_from([0.05, 0.1, 0.25, 0.5])),
        "max_session_range_atr_frac": draw(st.sampled_from([0.3, 1.0, 5.0])),
        "max_open_to_high_atr_frac": draw(st.sampled_from([0.2, 0.7, 5.0])),
        "max_open_to_low_atr_frac": draw(st.sampled_from([0.2, 0.7, 5.0])),
        "trend_cutoff_time": draw(st.sampled_from(["09:31", "11:00", "12:00"])),
        "min_entry_time": draw(st.sampled_from(["09:31", "10:00"])),
        "max_entry_time": draw(st.sampled_from(["12:00", "15:30", "16:00"])),
        "stop_band_mult": draw(st.sampled_from([1.0, 2.0])),
        "max_trades_per_day": draw(st.integers(1, 4)),
        "one_direction_per_day": draw(st.booleans()),
    }
    shape = {
        "seed": draw(st.integers(0, 2**32 - 1)),
        "step": draw(st.sampled_from([0.02, 0.05])),
        "drop_fraction": draw(st.sampled_from([0.0, 0.3])),
        "zero_volume_open": draw(st.sampled_from([0, 0, 3])),
        "empty_session": draw(st.booleans()),
    }
    return cfg, shape


def build_sessions(cfg, shape):
    rng = np.random.default_rng(shape["seed"])
    days = weekdays(dt.date(2024, 3, 4), cfg["atr_period"] + 3)
    sessions, price = [], 100.0
    for k, day in enumerate(days):
        if shape["empty_session"] and k == 1:
            sessions.append((day, []))
            continue
        rows = random_session_rows(
            rng, price, shape["step"], 390, shape["drop_fraction"], shape["zero_volume_open"]
        )
        price = rows[-1][4]
        sessions.append((day, rows))
    return sessions


def engine_config(cfg):
    base = load_config().with_strategies(only="vwap_meanrev")
    block = base.strategies["vwap_meanrev"].model_copy(update={
        **cfg, **{key: TIMES[cfg[key]] for key in ("trend_cutoff_time", "min_entry_time", "max_entry_time")},
    })
    return base.model_copy(update={"strategies": {**base.strategies, "vwap_meanrev": block}})
