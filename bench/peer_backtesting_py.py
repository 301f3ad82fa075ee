"""The peer: VWAP_MEANREV (SPEC 5) with SPEC 9 underlying exits as a backtesting.py Strategy.

Why it exists: "fast" means nothing without a yardstick. This is the same underlying-only
logic a quant would write with the most readable Python backtester: indicators that can
be vectorised (session VWAP, session high/low, daily ATR, New York time limits) are
precomputed in ``init``; the SPEC 5 state machine (trend filter, arming, leg extremes,
triggers, reset) runs per bar in ``next``; the trade is the underlying itself (100 shares),
entered at the trigger bar's close (``trade_on_close``) with the signal's stop and target
as bracket orders (backtesting.py checks the stop before the target, as SPEC 9 does) and a
time stop at ``min(15:50, session close)``.

It reads the same Parquet store as ``vwapcli`` (pyarrow, hive partitions) and keeps only
RTH bars of NYSE sessions (exchange-calendars), so both tools see the same bars. The whole
process is timed by ``bench/run_benchmarks.py``.

    .venv/bin/python bench/peer_backtesting_py.py --store bench/results/store --symbol SPY \
        --start 2015-01-01 --end 2024-12-31
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import warnings
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from backtesting import Backtest, Strategy

BAR_NS = 60_000_000_000
NEW_YORK = "America/New_York"
# SPEC 5 defaults (config strategies.vwap_meanrev) and SPEC 9 exit_time.
PARAMS = {
    "band_atr_frac": 0.5, "atr_period": 20, "max_session_range_atr_frac": 1.0,
    "max_open_to_high_atr_frac": 0.7, "max_open_to_low_atr_frac": 0.7,
    "trend_cutoff": dt.time(11, 0), "min_entry": dt.time(10, 0), "max_entry": dt.time(15, 30),
    "stop_band_mult": 2.0, "max_trades_per_day": 1, "exit_time": dt.time(15, 50),
}


def load_rth_bars(store: Path, symbol: str, start: dt.date, end: dt.date, warmup_days: int = 60) -> pd.DataFrame:
    """RTH 1-minute bars of NYSE sessions in [start - warmup, end], with a session number."""
    folder = store / "bars" / "timeframe=1m" / f"symbol={symbol}"
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table(
        columns=["ts", "open", "high", "low", "close", "volume"]
    )
    frame = table.to_pandas().sort_values("ts", kind="stable").reset_index(drop=True)
    calendar = xcals.get_calendar("XNYS")
    first = max(start - dt.timedelta(days=warmup_days), calendar.first_session.date())
    schedule = calendar.schedule.loc[str(first):str(end)]
    opens = schedule["open"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    closes = schedule["close"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ts = frame["ts"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    # SPEC 3.2: a bar belongs to session D when its start is in [open_D, close_D).
    k = np.searchsorted(opens, ts, side="right") - 1
    inside = (k >= 0) & (ts < closes[np.clip(k, 0, None)])
    frame = frame[inside].copy()
    frame["session"] = k[inside]
    frame["session_close_ns"] = closes[k[inside]]
    frame["session_date"] = schedule.index.to_numpy()[k[inside]]
    frame.index = pd.DatetimeIndex(frame.pop("ts"))
    return frame.rename(columns=str.capitalize)


def _local_ns(dates: np.ndarray, clock: dt.time) -> np.ndarray:
    stamps = pd.DatetimeIndex(dates) + pd.Timedelta(hours=clock.hour, minutes=clock.minute)
    return stamps.tz_localize(NEW_YORK).tz_convert("UTC").as_unit("ns").asi8


class VwapMeanReversion(Strategy):
    """SPEC 5 signals + SPEC 9 exits, trading 100 shares of the underlying."""

    first_trade_session = 0  # session number of the run's start (earlier ones only warm up ATR)

    def init(self) -> None:
        """Vectorised per-bar context: session VWAP, high/low, ATR-based limits, time gates."""
        data = self.data.df
        p = PARAMS
        session = data["Session"].to_numpy()
        high, low, close = (data[c].to_numpy() for c in ("High", "Low", "Close"))
        volume = data["Volume"].to_numpy()
        starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
        ends = np.r_[starts[1:], len(session)]
        bar_session = np.repeat(np.arange(len(starts)), ends - starts)
        # Daily RTH bars and TR (SPEC 5), ATR = sma of the period sessions strictly before.
        day_high = np.maximum.reduceat(high, starts)
        day_low = np.minimum.reduceat(low, starts)
        day_close = close[ends - 1]
        prev_close = np.r_[np.nan, day_close[:-1]]
        tr = np.fmax(day_high - day_low, np.fmax(np.abs(day_high - prev_close), np.abs(day_low - prev_close)))
        tr[0] = day_high[0] - day_low[0]
        atr = pd.Series(tr).rolling(p["atr_period"]).mean().shift(1).to_numpy()
        # Session VWAP (hlc3) and running session high/low through each bar.
        price = (high + low + close) / 3.0
        frame = pd.DataFrame({"s": bar_session, "pv": price * volume, "v": volume, "h": high, "l": low})
        grouped = frame.groupby("s", sort=False)
        sum_v = grouped["v"].cumsum().to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            vwap = np.where(sum_v > 0, grouped["pv"].cumsum().to_numpy() / sum_v, np.nan)
        dates = data["Session_date"].to_numpy()[starts]
        session_close = data["Session_close_ns"].to_numpy()[starts]
        self.vwap = self.I(lambda: vwap, name="VWAP", overlay=True)
        self.ctx = {
            "vwap": vwap, "hi": grouped["h"].cummax().to_numpy(), "lo": grouped["l"].cummin().to_numpy(),
            "atr": atr[bar_session], "open0": data["Open"].to_numpy()[starts][bar_session],
            "first_bar": np.isin(np.arange(len(session)), starts),
            "tc": data.index.as_unit("ns").asi8 + BAR_NS,
            "trend_cutoff": _local_ns(dates, p["trend_cutoff"])[bar_session],
            "min_entry": _local_ns(dates, p["min_entry"])[bar_session],
            "max_entry": _local_ns(dates, p["max_entry"])[bar_session],
            "deadline": np.minimum(_local_ns(dates, p["exit_time"]), session_close)[bar_session],
            "tradable": session >= self.first_trade_session,
        }
        self.high_, self.low_, self.close_ = high, low, close
        self._reset_session()

    def _reset_session(self) -> None:
        self.trend = self.armed_long = self.armed_short = False
        self.leg_low = self.leg_high = 0.0
        self.n_signals = 0

    def next(self) -> None:
        """One bar: time stop, then the SPEC 5 steps in order."""
        t = len(self.data) - 1
        c = self.ctx
        if c["first_bar"][t]:
            self._reset_session()
        tc = c["tc"][t]
        # SPEC 9 time stop (stop/target are the bracket orders, checked first by the broker).
        if self.position and tc >= c["deadline"][t]:
            self.position.close()
        atr = c["atr"][t]
        if np.isnan(atr) or not c["tradable"][t]:
            return
        p = PARAMS
        hi, lo, o = c["hi"][t], c["lo"][t], c["open0"][t]
        # SPEC 5 step 2: trend filter.
        if tc <= c["trend_cutoff"][t] and (
            hi - lo > p["max_session_range_atr_frac"] * atr
            or hi - o > p["max_open_to_high_atr_frac"] * atr
            or o - lo > p["max_open_to_low_atr_frac"] * atr
        ):
            self.trend = True
        vwap = c["vwap"][t]
        if self.trend or np.isnan(vwap):
            return
        band = p["band_atr_frac"] * atr
        h, low, close = self.high_[t], self.low_[t], self.close_[t]
        # SPEC 5 step 3: extend the armed leg.
        if self.armed_long and low < self.leg_low:
            self.leg_low = low
        if self.armed_short and h > self.leg_high:
            self.leg_high = h
        # SPEC 5 step 4: entry window, cap, not the first bar.
        allowed = (c["min_entry"][t] <= tc <= c["max_entry"][t]
                   and self.n_signals < p["max_trades_per_day"] and not c["first_bar"][t])
        previous = self.close_[t - 1] if t > 0 else np.nan
        emitted = 0
        if self.armed_long and allowed and close > previous and vwap - band < close < vwap:
            emitted = 1
            stop = min(self.leg_low, vwap - p["stop_band_mult"] * band)
        elif self.armed_short and allowed and close < previous and vwap < close < vwap + band:
            emitted = -1
            stop = max(self.leg_high, vwap + p["stop_band_mult"] * band)
        if emitted:
            # SPEC 5 step 7; SPEC 9: a signal at/after the time stop is skipped ("too_late").
            self.n_signals += 1
            self.armed_long = self.armed_short = False
            if not self.position and tc < c["deadline"][t]:
                if emitted > 0:
                    self.buy(size=100, sl=stop, tp=vwap)
                else:
                    self.sell(size=100, sl=stop, tp=vwap)
            return
        # SPEC 5 step 8: reset; step 9: arm.
        if self.armed_long and close >= vwap:
            self.armed_long = False
        if self.armed_short and close <= vwap:
            self.armed_short = False
        if not self.armed_long and low < vwap - band:
            self.armed_long, self.leg_low = True, low
        if not self.armed_short and h > vwap + band:
            self.armed_short, self.leg_high = True, h


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--symbol", default="SPY")
    parser.add_argument("--start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--end", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--json", type=Path, help="Write trade count, P&L and phase timings here.")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bars = load_rth_bars(args.store, args.symbol, args.start, args.end)
    loaded = time.perf_counter()
    first_session = int(bars.loc[bars["Session_date"] >= pd.Timestamp(args.start), "Session"].min())
    strategy = type("Peer", (VwapMeanReversion,), {"first_trade_session": first_session})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = Backtest(bars, strategy, cash=10_000_000, commission=0.0, trade_on_close=True,
                            exclusive_orders=False, finalize_trades=True)
        stats = backtest.run()
    finished = time.perf_counter()
    trades = stats["_trades"]
    summary = {
        "bars": len(bars), "trades": len(trades),
        "pnl_points": float(trades["PnL"].sum() / 100.0) if len(trades) else 0.0,
        "win_rate": float((trades["PnL"] > 0).mean()) if len(trades) else float("nan"),
        "load_s": round(loaded - started, 3), "backtest_s": round(finished - loaded, 3),
        "all_entry_times": [str(t) for t in trades["EntryTime"]] if len(trades) else [],
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "all_entry_times"}))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
