"""The signal pass (`vwapcli.signal_run`): selection, ordering, tables and files.

Hand-built ORB sessions give known signals: the range is 100.0-101.0 (bars closing by
10:00) and a bar closing 101.5 breaks out. 2024-01 is EST, so NY = UTC - 5h.
"""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from rich.console import Console

import vwapcli.data.loading as loading
from builders.paths import REAL_DATA
from builders.strategy import sessioned_bars, sessioned_from_frame
from vwapcli.app_config import AppConfig, StrategyChoice
from vwapcli.core.types import Signal
from vwapcli.data.loading import BarRequest
from vwapcli.env import Env
from vwapcli.errors import ConfigError
from vwapcli.signal_run import (
    SignalsRequest,
    compute_signals,
    count_sessions,
    run_signals,
    signal_counts_table,
    signals_csv_text,
    signals_frame,
    write_signals,
)
from vwapcli.strategies import catalogue

D1, D2, D3 = dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)


def breakout_rows(breakout_start: str, close: float = 101.5) -> list:
    return [
        ("09:30", 100.5, 101.0, 100.0, 100.5, 10.0),
        (breakout_start, 100.5, max(close, 100.5), min(close, 100.5), close, 10.0),
    ]


def orb_only() -> AppConfig:
    return AppConfig().with_strategies(only="orb")


def signal(minute: int, symbol: str = "SPY", strategy: str = "ORB", **meta: float) -> Signal:
    when = pd.Timestamp("2024-01-02 15:00", tz="UTC") + pd.Timedelta(minutes=minute)
    return Signal(strategy, symbol, "LONG", when, 101.5, 100.0, 102.5, meta)


def test_signals_are_sorted_by_entry_time_then_symbol_then_strategy():
    """SPY breaks out at 10:05 (closes 10:06), QQQ at 10:02 and 10:06 on two days:
    order = D1 QQQ 10:03, D1 SPY 10:06, D2 QQQ 10:06, D2 SPY 10:06 (same time: QQQ < SPY)."""
    data = {
        "SPY": sessioned_bars("SPY", [(D1, breakout_rows("10:05")), (D2, breakout_rows("10:05"))]),
        "QQQ": sessioned_bars("QQQ", [(D1, breakout_rows("10:02")), (D2, breakout_rows("10:05"))]),
    }
    got = [(s.entry_time.strftime("%m-%d %H:%M"), s.symbol) for s in compute_signals(orb_only(), data, None, None)]
    assert got == [("01-02 15:03", "QQQ"), ("01-02 15:06", "SPY"), ("01-03 15:06", "QQQ"), ("01-03 15:06", "SPY")]


def test_only_sessions_from_start_to_end_inclusive_emit_signals():
    data = {"SPY": sessioned_bars("SPY", [(day, breakout_rows("10:05")) for day in (D1, D2, D3)])}
    assert [s.entry_time.date() for s in compute_signals(orb_only(), data, D2, D2)] == [D2]
    assert [s.entry_time.date() for s in compute_signals(orb_only(), data, D2, None)] == [D2, D3]
    assert [s.entry_time.date() for s in compute_signals(orb_only(), data, None, D1)] == [D1]


def test_disabled_strategies_emit_nothing():
    config = AppConfig()
    blocks = {key: block.model_copy(update={"enabled": False}) for key, block in config.strategies.items()}
    config = config.model_copy(update={"strategies": blocks})
    data = {"SPY": sessioned_bars("SPY", [(D1, breakout_rows("10:05"))])}
    assert compute_signals(config, data, None, None) == []


def test_progress_ticks_once_per_symbol_session_with_bars_in_range():
    """SPY: D1, D2 (empty), D3; QQQ: D2, D3. From D2 on: SPY D3, QQQ D2, QQQ D3 = 3 ticks."""
    data = {
        "SPY": sessioned_bars("SPY", [(D1, breakout_rows("10:05")), (D2, []), (D3, breakout_rows("10:05"))]),
        "QQQ": sessioned_bars("QQQ", [(D2, breakout_rows("10:05")), (D3, breakout_rows("10:05"))]),
    }
    ticks = []
    signals = compute_signals(orb_only(), data, D2, None, progress=lambda: ticks.append(1))
    assert len(ticks) == count_sessions(data, D2, None) == 3
    assert len(signals) == 3


def test_signal_frame_has_spec_columns_then_meta_sorted_with_nan_for_missing_keys():
    frame = signals_frame([signal(1, zeta=1.0), signal(2, alpha=2.0, zeta=3.0)])
    assert list(frame.columns) == [
        "strategy_name", "symbol", "direction", "entry_time", "P", "P_stop", "P_target", "alpha", "zeta",
    ]
    assert str(frame["entry_time"].dtype) == "datetime64[ns, UTC]"
    assert np.isnan(frame.loc[0, "alpha"]) and frame.loc[1, "alpha"] == 2.0


def test_an_empty_signal_list_gives_the_bare_spec_columns():
    assert list(signals_frame([]).columns) == [
        "strategy_name", "symbol", "direction", "entry_time", "P", "P_stop", "P_target",
    ]
    assert signals_csv_text([]) == "strategy_name,symbol,direction,entry_time,P,P_stop,P_target\n"


def test_csv_writes_iso_utc_times_and_round_trip_floats(tmp_path):
    """0.1 + 0.2 = 0.30000000000000004 must survive the file; empty cell for a missing meta key."""
    rows = [signal(1, alpha=0.1 + 0.2), signal(2)]
    path = write_signals(rows, tmp_path / "signals.csv")
    assert path.read_text().splitlines() == [
        "strategy_name,symbol,direction,entry_time,P,P_stop,P_target,alpha",
        "ORB,SPY,LONG,2024-01-02T15:01:00Z,101.5,100.0,102.5,0.30000000000000004",
        "ORB,SPY,LONG,2024-01-02T15:02:00Z,101.5,100.0,102.5,",
    ]
    back = pd.read_csv(path)
    assert back.loc[0, "alpha"] == 0.1 + 0.2


def test_parquet_keeps_entry_time_as_utc_nanoseconds(tmp_path):
    rows = [signal(1, alpha=0.5), signal(3)]
    path = write_signals(rows, tmp_path / "signals.parquet")
    table = pq.read_table(path)
    assert str(table.schema.field("entry_time").type) == "timestamp[ns, tz=UTC]"
    back = table.to_pandas()
    assert list(back["entry_time"]) == [s.entry_time for s in rows]
    assert back["P"].tolist() == [101.5, 101.5]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rewriting_the_same_signals_is_byte_identical_and_leaves_no_temp_files(tmp_path, suffix):
    rows = [signal(1, alpha=1.0 / 3.0), signal(2, "QQQ")]
    first = write_signals(rows, tmp_path / f"a{suffix}").read_bytes()
    second = write_signals(rows, tmp_path / f"a{suffix}").read_bytes()
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"a{suffix}"]


def test_an_output_path_without_csv_or_parquet_suffix_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"signals\.txt: .*must end in \.csv or \.parquet"):
        write_signals([], tmp_path / "signals.txt")


def test_the_counts_table_has_one_row_per_strategy_symbol_and_direction():
    rows = [signal(1), signal(2), signal(3, "QQQ")]
    console = Console(file=io.StringIO(), width=100, record=True)
    console.print(signal_counts_table(rows))
    text = console.export_text()
    assert "Signals: 3" in text
    rows_shown = [[cell for cell in line.split() if cell.isalnum()] for line in text.splitlines() if "ORB" in line]
    assert rows_shown == [["ORB", "QQQ", "LONG", "1"], ["ORB", "SPY", "LONG", "2"]]


def test_run_signals_loads_through_the_data_layer_writes_and_prints(tmp_path, monkeypatch):
    """The data layer is stubbed: the call must pass the config's timeframe and calendar."""
    calls = []

    def load_market_data(store, symbols, start, end, timeframe, calendar, console, store_is_default):
        calls.append((store, tuple(symbols), start, end, timeframe, calendar, store_is_default))
        return {"SPY": sessioned_bars("SPY", [(D1, breakout_rows("10:05"))])}

    monkeypatch.setattr(loading, "load_market_data", load_market_data)
    console = Console(file=io.StringIO(), width=100, record=True)
    request = SignalsRequest(
        BarRequest(tmp_path / "store", ("SPY",), D1, D1), StrategyChoice(only="orb"), out=tmp_path / "s.csv"
    )
    out = run_signals(request, Env(console=console))
    assert calls == [(tmp_path / "store", ("SPY",), D1, D1, "1m", "XNYS", False)]
    assert out.read_text().splitlines()[1].startswith("ORB,SPY,LONG,2024-01-02T15:06:00Z,101.5,")
    assert "Signals: 1" in console.export_text()


@pytest.fixture(scope="module")
def real_spy():
    path = REAL_DATA / "SPY_1m_2024-02-20_2024-05-17.parquet"
    if not path.exists():
        pytest.skip("real market data folder is absent")
    return {"SPY": sessioned_from_frame(pd.read_parquet(path), "SPY")}


def test_on_real_spy_bars_replay_equals_batch_for_every_shipped_strategy(real_spy):
    """63 real sessions, 390 bars each; the default config with every strategy switched on."""
    config = AppConfig().with_strategies(enable=list(catalogue()))
    batch = compute_signals(config, real_spy, None, None)
    assert batch == compute_signals(config, real_spy, None, None, replay=True)
    assert len({s.entry_time.date() for s in batch}) > 20
    for s in batch:
        assert (s.P_stop < s.P < s.P_target) if s.direction == "LONG" else (s.P_target < s.P < s.P_stop)
