"""The signal pass: every enabled strategy over every session, batch or bar-by-bar.

The engine knows strategies only through the registry (SPEC 2): this module never names
one. A batch run hands each strategy a whole session at once (all of a symbol's sessions
in one call when the strategy is a ``BatchStrategy``: the same signals, without a Python
round trip per session); ``replay`` hands it each prefix of the session, as a live feed
would, and keeps only the signals stamped at the newest bar's close. Strategies are
causal, so both paths emit the same signals; the property tests hold them to that byte
for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.table import Table

from vwapcli.app_config import AppConfig, StrategyChoice
from vwapcli.atomic_write import atomic_write, atomic_write_text
from vwapcli.core.daily import daily_bars, present_sessions
from vwapcli.core.strategy import BatchStrategy, Strategy
from vwapcli.core.types import MarketState, SessionBatch, SessionedBars, Signal
from vwapcli.data.loading import BarRequest
from vwapcli.env import Env
from vwapcli.errors import ConfigError
from vwapcli.output_paths import check_output_file
from vwapcli.strategies import catalogue

BASE_COLUMNS = ("strategy_name", "symbol", "direction", "entry_time", "P", "P_stop", "P_target")
# Meta keys listed first when present; the rest follow sorted by name.
LEADING_META = ("vwap", "band", "atr")

ProgressCallback = Callable[[], None]


def enabled_strategies(config: AppConfig) -> list[Strategy]:
    """Build the enabled strategies, in catalogue order, through the strategy catalogue."""
    strategies: list[Strategy] = []
    for key, spec in catalogue().items():
        block = config.strategies.get(key)
        if block is not None and block.enabled:
            strategies.append(spec.factory(block))
    return strategies


def _replayed_signals(strategies: Sequence[Strategy], state: MarketState) -> list[Signal]:
    # Replay: bar-by-bar prefixes; a signal counts only when stamped at the newest bar's close.
    bars = state.bars
    close_times = bars.close_time
    found: list[Signal] = []
    for n in range(1, len(bars) + 1):
        now = int(close_times[n - 1])
        partial = MarketState(
            symbol=state.symbol,
            session_date=state.session_date,
            session_open_ns=state.session_open_ns,
            session_close_ns=state.session_close_ns,
            bars=bars.prefix(n),
            daily_history=state.daily_history,
        )
        found.extend(signals_at_newest_bar(strategies, partial, now))
    return found


def _batch_signals(strategy: Strategy, batch: SessionBatch) -> list[Signal]:
    # A strategy's own batch scan when it has one (one compiled call for all sessions),
    # else one call per session: the same signals either way (BatchStrategy's contract).
    if isinstance(strategy, BatchStrategy):
        return strategy.generate_batch_signals(batch)
    return [signal for j in range(len(batch)) for signal in strategy.generate_signals(batch.state(j))]


def signals_at_newest_bar(strategies: Sequence[Strategy], state: MarketState, now_ns: int) -> list[Signal]:
    """The signals a live feed gets when the bar closing at ``now_ns`` (the newest of
    ``state.bars``) arrives: each strategy's signals stamped at that close, in catalogue
    order. ``--replay`` and ``vwapcli paper`` share this one path."""
    return [s for strategy in strategies for s in strategy.generate_signals(state) if s.entry_time_ns == now_ns]


def _in_range(session_dates: np.ndarray, start: dt.date | None, end: dt.date | None) -> np.ndarray:
    dates = np.asarray(session_dates).astype("datetime64[D]")
    keep = np.ones(dates.shape[0], dtype=bool)
    if start is not None:
        keep &= dates >= np.datetime64(start, "D")
    if end is not None:
        keep &= dates <= np.datetime64(end, "D")
    return keep


def count_sessions(market_data: Mapping[str, SessionedBars], start: dt.date | None, end: dt.date | None) -> int:
    """Symbol-sessions with bars in [start, end]: the length of the progress bar."""
    total = 0
    for sessioned in market_data.values():
        keep = _in_range(sessioned.session_date, start, end)
        total += int(np.count_nonzero(keep[present_sessions(sessioned)]))
    return total


def compute_signals(
    config: AppConfig,
    market_data: Mapping[str, SessionedBars],
    start: dt.date | None,
    end: dt.date | None,
    replay: bool = False,
    progress: ProgressCallback | None = None,
) -> list[Signal]:
    """All enabled strategies' signals for sessions in [start, end], sorted.

    ``market_data`` may hold sessions before ``start``: they are the ATR warm-up (each
    session sees only the daily bars of sessions strictly before it). ``progress`` is
    called once per symbol-session processed. Sorted by (entry_time, symbol, strategy_name).
    """
    strategies = enabled_strategies(config)
    signals: list[Signal] = []
    for symbol in sorted(market_data):
        sessioned = market_data[symbol]
        present = present_sessions(sessioned)  # daily row k is session present[k]
        rows = np.flatnonzero(_in_range(sessioned.session_date, start, end)[present]).astype(np.int64)
        batch = SessionBatch(symbol, sessioned, daily_bars(sessioned), sessions=present[rows], history=rows)
        if replay:
            for j in range(len(batch)):
                signals.extend(_replayed_signals(strategies, batch.state(j)))
                if progress is not None:
                    progress()
            continue
        for strategy in strategies:
            signals.extend(_batch_signals(strategy, batch))
        if progress is not None:
            for _ in range(len(batch)):
                progress()
    signals.sort(key=lambda s: (s.entry_time_ns, s.symbol, s.strategy_name))
    return signals


def _meta_columns(signals: Sequence[Signal]) -> list[str]:
    keys = {key for signal in signals for key in signal.meta}
    leading = [key for key in LEADING_META if key in keys]
    return leading + sorted(keys - set(leading))


def signals_frame(signals: Sequence[Signal]) -> pd.DataFrame:
    """One row per signal: the SPEC 4 fields, then meta columns (NaN where a key is absent)."""
    meta_columns = _meta_columns(signals)
    entry_ns = np.array([s.entry_time_ns for s in signals], dtype=np.int64)
    data: dict[str, Any] = {
        "strategy_name": pd.array([s.strategy_name for s in signals], dtype=object),
        "symbol": pd.array([s.symbol for s in signals], dtype=object),
        "direction": pd.array([s.direction for s in signals], dtype=object),
        "entry_time": pd.DatetimeIndex(entry_ns.view("datetime64[ns]")).tz_localize("UTC"),
        "P": np.array([s.P for s in signals], dtype=np.float64),
        "P_stop": np.array([s.P_stop for s in signals], dtype=np.float64),
        "P_target": np.array([s.P_target for s in signals], dtype=np.float64),
    }
    for key in meta_columns:
        values = [s.meta.get(key, math.nan) for s in signals]
        if all(isinstance(v, float | int) for v in values):
            data[key] = np.array(values, dtype=np.float64)
        else:
            data[key] = pd.array([None if _is_nan(v) else str(v) for v in values], dtype=object)
    return pd.DataFrame(data, columns=[*BASE_COLUMNS, *meta_columns])


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _csv_cell(value: object) -> str:
    # repr() of a float is its shortest round-trip form; NaN / None become empty cells.
    if value is None or _is_nan(value):
        return ""
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, pd.Timestamp):
        return iso_utc(int(value.value))
    return str(value)


def iso_utc(ns: int) -> str:
    """ISO-8601 UTC with a ``Z`` suffix; fractional seconds only when present."""
    whole, fraction = divmod(ns, 1_000_000_000)
    text = dt.datetime.fromtimestamp(whole, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += f".{fraction:09d}".rstrip("0")
    return text + "Z"


def signals_csv_text(signals: Sequence[Signal]) -> str:
    """The CSV form: ISO-8601 UTC entry times (``2024-01-02T15:01:00Z``), round-trip floats."""
    frame = signals_frame(signals)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    columns = [frame[name].tolist() for name in frame.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue()


def _signals_table(signals: Sequence[Signal]) -> pa.Table:
    frame = signals_frame(signals)
    arrays = []
    fields = []
    for name in frame.columns:
        column = frame[name]
        if name == "entry_time":
            array = pa.array(
                np.array([s.entry_time_ns for s in signals], dtype=np.int64),
                type=pa.timestamp("ns", tz="UTC"),
            )
        elif column.dtype == np.float64:
            array = pa.array(column.to_numpy(dtype=np.float64), type=pa.float64())
        else:
            array = pa.array(column.tolist(), type=pa.string())
        arrays.append(array)
        fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _check_signal_suffix(target: Path) -> None:
    if target.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise ConfigError(f"--out {target}: signal output must end in .csv or .parquet")


def write_signals(signals: Sequence[Signal], path: str | Path) -> Path:
    """Write the signal table as CSV or Parquet (by suffix), atomically and deterministically."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        text = signals_csv_text(signals)
        atomic_write_text(target, text)
    elif suffix in (".parquet", ".pq"):
        table = _signals_table(signals)
        atomic_write(target, lambda temporary: pq.write_table(table, temporary, compression="zstd"))
    else:
        _check_signal_suffix(target)
    return target


def signal_counts_table(signals: Sequence[Signal]) -> Table:
    """Signal counts by strategy, symbol and direction (the end-of-run summary)."""
    counts = Counter((s.strategy_name, s.symbol, s.direction) for s in signals)
    table = Table(title=f"Signals: {len(signals)}")
    for header in ("strategy", "symbol", "direction"):
        table.add_column(header)
    table.add_column("signals", justify="right")
    for (strategy, symbol, direction), count in sorted(counts.items()):
        table.add_row(strategy, symbol, direction, str(count))
    return table


def default_signals_path(start: dt.date | None, end: dt.date | None) -> Path:
    """``reports/signals_<start>_<end>.csv`` when the user gives no ``--out``."""
    first = start.isoformat() if start else "begin"
    last = end.isoformat() if end else "end"
    return Path("reports") / f"signals_{first}_{last}.csv"


@dataclass(frozen=True)
class SignalsRequest:
    """`vwapcli signals`: which bars, which strategies, batch or ``replay``, and the output file."""

    bars: BarRequest
    strategies: StrategyChoice = field(default_factory=StrategyChoice)
    replay: bool = False
    out: Path | None = None  # default reports/signals_<start>_<end>.csv
    force: bool = False  # replace an existing ``out``


def run_signals(request: SignalsRequest, env: Env) -> Path:
    """`vwapcli signals`: load config and bars, run the signal pass, write the table, print counts."""
    bars = request.bars
    out = request.out if request.out is not None else default_signals_path(bars.start, bars.end)
    # Issue 12: the output is checked before any work (the default name is the tool's own).
    _check_signal_suffix(out)
    check_output_file(out, force=request.force or request.out is None)
    config = request.strategies.load()
    market_data = bars.load(config.data, env.console)
    total = count_sessions(market_data, bars.start, bars.end)
    mode = "replay" if request.replay else "batch"
    with env.progress.bar(f"signals ({mode})", total) as advance:
        signals = compute_signals(
            config, market_data, bars.start, bars.end, replay=request.replay, progress=lambda: advance(1),
        )
    target = write_signals(signals, out)
    env.console.print(signal_counts_table(signals))
    env.console.print(f"wrote {target}")
    return target
