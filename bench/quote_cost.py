"""What the option model costs a backtest: per-leg quote time and whole-pipeline time, per vol_model.

    .venv/bin/python bench/quote_cost.py                    # the demo store (make demo builds it)
    .venv/bin/python bench/quote_cost.py --store data/demo --legs 20000

1. Per leg: ``lookup`` of ``--legs`` at-the-money calls at random bar closes of SPY (after
   its first 30 sessions), through the source ``build_quote_source`` builds for
   ``vol_model: flat`` and ``session``. "cold" = a fresh source (each new day pays for its
   vol level and profile), "warm" = the same legs asked again (everything cached).
2. The pipeline: ``execute_backtest`` (signals, exits, engine) with ORB + VWAP_MEANREV on
   SPY and QQQ, best of ``--repeat`` runs per vol_model, after one warm-up run (numba).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np

from vwapcli.app_config import StrategyChoice
from vwapcli.backtest import execute_backtest
from vwapcli.config import OptionsConfig
from vwapcli.data.loading import load_market_data
from vwapcli.options.source_choice import build_quote_source

MODELS = ("flat", "session")


def per_leg_microseconds(store: Path, legs: int) -> dict[str, tuple[float, float]]:
    market = load_market_data(store, ["SPY"], None, None, "1m")
    bars = market["SPY"]
    rng = np.random.default_rng(1)
    rows = rng.integers(int(bars.session_start[30]), bars.ts.shape[0], legs)
    ts = (bars.ts[rows] + bars.bar_ns).tolist()
    spot = bars.close[rows].tolist()
    days = [np.datetime64(t, "ns").astype("datetime64[D]").astype(dt.date) for t in ts]
    out = {}
    for model in MODELS:
        source = build_quote_source(OptionsConfig(vol_model=model), market, store)
        timings = []
        for _ in ("cold", "warm"):
            started = time.perf_counter()
            for t, s, d in zip(ts, spot, days, strict=True):
                source.lookup("SPY", t, d, float(round(s)), "C", s)  # type: ignore[attr-defined]
            timings.append((time.perf_counter() - started) / legs * 1e6)
        out[model] = (timings[0], timings[1])
    return out


def backtest_seconds(store: Path, repeat: int) -> dict[str, tuple[float, int]]:
    market = load_market_data(store, ["SPY", "QQQ"], None, None, "1m")
    base = StrategyChoice(None, None, ("vwap_meanrev",)).load()
    out = {}
    for model in MODELS:
        config = base.model_copy(update={"options": base.options.model_copy(update={"vol_model": model})})
        execute_backtest(config, market, None, None, store)  # warm-up: numba, session cache
        best, trades = np.inf, 0
        for _ in range(repeat):
            started = time.perf_counter()
            result = execute_backtest(config, market, None, None, store)
            best, trades = min(best, time.perf_counter() - started), len(result.trades)
        out[model] = (best, trades)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("data/demo"))
    parser.add_argument("--legs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for model, (cold, warm) in per_leg_microseconds(args.store, args.legs).items():
        print(f"per leg  {model:8s} cold {cold:6.1f} us   warm {warm:6.1f} us")
    for model, (seconds, trades) in backtest_seconds(args.store, args.repeat).items():
        print(f"backtest {model:8s} {seconds:6.2f} s   ({trades} trades, ORB + VWAP_MEANREV, SPY QQQ)")


if __name__ == "__main__":
    main()
