"""A second, independent reading of SPEC 3.2, 5 and 6, written from the SPEC text alone.

It shares no code with vwapcli: sessions come straight from exchange-calendars, bars from
pandas, and every rule is a plain loop in SPEC order. Tests compare vwapcli's signals with
it on real bars (extended hours, missing minutes, early closes).
"""

from __future__ import annotations

import math
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from builders.paths import REAL_DATA

NEW_YORK = "America/New_York"
MINUTE = pd.Timedelta(minutes=1)


def sessions_of(bars: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp, pd.DataFrame]]:
    """(day, open, close, bars with start in [open, close)) for each NYSE session holding bars."""
    calendar = xcals.get_calendar("XNYS", start="2000-01-01")
    first, last = bars.ts.min().tz_convert(NEW_YORK).date(), bars.ts.max().tz_convert(NEW_YORK).date()
    schedule = calendar.schedule.loc[str(first):str(last)]
    out = []
    for day, row in schedule.iterrows():
        inside = bars[(bars.ts >= row["open"]) & (bars.ts < row["close"])]
        if len(inside):
            out.append((day, row["open"], row["close"], inside.reset_index(drop=True)))
    return out


def wall_clock(day: pd.Timestamp, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day.date()} {hhmm}", tz=NEW_YORK).tz_convert("UTC")


def vwap_reversion_signals(bars: pd.DataFrame, symbol: str) -> list[tuple]:
    """SPEC 5 with every default: (symbol, entry_time, direction, P, P_stop, P_target)."""
    sessions = sessions_of(bars)
    highs = [b.high.max() for *_, b in sessions]
    lows = [b.low.min() for *_, b in sessions]
    closes = [b.close.iloc[-1] for *_, b in sessions]
    true_range = [highs[0] - lows[0]] + [
        max(highs[i] - lows[i], abs(highs[i] - closes[i - 1]), abs(lows[i] - closes[i - 1]))
        for i in range(1, len(sessions))
    ]
    out = []
    for i, (day, _open, _close, b) in enumerate(sessions):
        if i < 20:
            continue  # fewer than atr_period prior sessions
        total = 0.0
        for k in range(i - 20, i):
            total += true_range[k]
        atr = total / 20
        band = 0.5 * atr
        session_open = b.open.iloc[0]
        armed_long = armed_short = False
        leg_low = leg_high = math.nan
        n_signals, trend = 0, False
        hi, lo, sum_pv, sum_v = -math.inf, math.inf, 0.0, 0.0
        cutoff, earliest, latest = wall_clock(day, "11:00"), wall_clock(day, "10:00"), wall_clock(day, "15:30")
        rows = list(b.itertuples(index=False))
        for t, bar in enumerate(rows):
            tc = bar.ts + MINUTE
            sum_pv += (bar.high + bar.low + bar.close) / 3.0 * bar.volume
            sum_v += bar.volume
            hi, lo = max(hi, bar.high), min(lo, bar.low)
            if tc <= cutoff and (hi - lo > 1.0 * atr or hi - session_open > 0.7 * atr or session_open - lo > 0.7 * atr):
                trend = True
            if trend:
                break
            if sum_v == 0:
                continue
            vwap = sum_pv / sum_v
            if armed_long:
                leg_low = min(leg_low, bar.low)
            if armed_short:
                leg_high = max(leg_high, bar.high)
            allowed = earliest <= tc <= latest and n_signals < 1 and t > 0
            signal = None
            if armed_long and allowed and bar.close > rows[t - 1].close and vwap - band < bar.close < vwap:
                signal = ("LONG", bar.close, min(leg_low, vwap - 2.0 * band), vwap)
            elif armed_short and allowed and bar.close < rows[t - 1].close and vwap < bar.close < vwap + band:
                signal = ("SHORT", bar.close, max(leg_high, vwap + 2.0 * band), vwap)
            if signal:
                out.append((symbol, tc, *signal))
                n_signals += 1
                armed_long = armed_short = False
                continue
            if armed_long and bar.close >= vwap:
                armed_long = False
            if armed_short and bar.close <= vwap:
                armed_short = False
            if not armed_long and bar.low < vwap - band:
                armed_long, leg_low = True, bar.low
            if not armed_short and bar.high > vwap + band:
                armed_short, leg_high = True, bar.high
    return out


def orb_signals(bars: pd.DataFrame, symbol: str) -> list[tuple]:
    """SPEC 6 with every default: (symbol, entry_time, direction, P, P_stop, P_target)."""
    out = []
    for day, session_open, _close, b in sessions_of(bars):
        close_time = b.ts + MINUTE
        opening = b[close_time <= session_open + pd.Timedelta(minutes=30)]
        if not len(opening):
            continue
        high, low = opening.high.max(), opening.low.min()
        later = b[(close_time > session_open + pd.Timedelta(minutes=30)) & (close_time <= wall_clock(day, "12:00"))]
        for bar in later.itertuples(index=False):
            if bar.close > high:
                out.append((symbol, bar.ts + MINUTE, "LONG", bar.close, low, bar.close + (high - low)))
                break
            if bar.close < low:
                out.append((symbol, bar.ts + MINUTE, "SHORT", bar.close, high, bar.close - (high - low)))
                break
    return out


def read_real_bars(path: Path) -> pd.DataFrame:
    bars = pd.read_parquet(path, columns=["ts", "open", "high", "low", "close", "volume"])
    bars["ts"] = pd.to_datetime(bars["ts"], utc=True)
    return bars.sort_values("ts").reset_index(drop=True)


def as_frame(signals: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(signals, columns=["symbol", "entry_time", "direction", "P", "P_stop", "P_target"])
    frame["entry_time"] = pd.to_datetime(frame["entry_time"], utc=True)
    return frame.astype({"P": np.float64, "P_stop": np.float64, "P_target": np.float64})


REAL_FILES = {"SPY": "SPY_1m_2024-02-20_2024-05-17.parquet", "QQQ": "QQQ_1m_2025-09-15_2026-03-19.parquet"}


def vwapcli_and_reference_signals(symbol: str, strategy_key: str, reference, tmp_path: Path):  # type: ignore[no-untyped-def]
    """(vwapcli's signals, the reference's) on one real file written into a fresh store."""
    import pytest

    from builders.cli import invoke
    from vwapcli.data.store import BarStore

    path = REAL_DATA / REAL_FILES[symbol]
    if not path.exists():
        pytest.skip("real market data folder is absent")
    bars = read_real_bars(path)
    BarStore(tmp_path / "store").write_bars(symbol, bars, provenance="real (test)")
    out = tmp_path / "signals.csv"
    invoke(["signals", "--store", str(tmp_path / "store"), "--symbols", symbol, "--only", strategy_key, "--out", str(out)])
    ours = pd.read_csv(out, parse_dates=["entry_time"])
    ours["entry_time"] = ours["entry_time"].astype("datetime64[ns, UTC]")
    columns = ["symbol", "entry_time", "direction", "P", "P_stop", "P_target"]
    return ours[columns], as_frame(reference(bars, symbol))
