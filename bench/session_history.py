"""Issue 17: the session model's history of one symbol (SessionHistory.from_bars) and the
1m -> 5m resample it starts with, on one symbol x 10 years of 1-minute bars.

    .venv/bin/vwapcli fetch --source synthetic --symbols SPY --start 2015-01-01 --end 2024-12-31 --store /tmp/v17store
    .venv/bin/python bench/session_history.py --store /tmp/v17store
    PYTHONPATH=<older checkout>/src .venv/bin/python bench/session_history.py --store /tmp/v17store  # before

Prints the best and median of ``--repeat`` warm calls of each (the first call, which loads
the compiled kernels from numba's cache, is left out), and the CPU of a warm
``symbol_phase.run_symbol`` (load, signals, exits, option model) with the default config.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from vwapcli.app_config import load_config
from vwapcli.data.loading import load_symbol
from vwapcli.data.sessions import SessionCalendar, resample_sessioned
from vwapcli.data.store import BarStore
from vwapcli.options.vol_forecast import BUCKET_NS, SessionHistory
from vwapcli.symbol_phase import SymbolPhase, run_symbol


def timed(label: str, work: Callable[[], object], repeat: int, clock: Callable[[], float]) -> None:
    work()  # warm: numba's cache loaded, allocator primed
    seconds = []
    for _ in range(repeat):
        start = clock()
        work()
        seconds.append(clock() - start)
    print(f"{label:42s} best {min(seconds):7.4f} s   median {statistics.median(seconds):7.4f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--symbol", default="SPY")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bars = load_symbol(BarStore(args.store), args.symbol, None, None, "1m", SessionCalendar())
    five = resample_sessioned(bars, BUCKET_NS)
    print(f"{args.symbol}: {bars.ts.shape[0]:,} 1-minute bars, {bars.n_sessions:,} sessions")
    timed("resample_sessioned 1m -> 5m", lambda: resample_sessioned(bars, BUCKET_NS), args.repeat, time.perf_counter)
    timed("SessionHistory.from_bars, 5m bars", lambda: SessionHistory.from_bars(five), args.repeat, time.perf_counter)
    timed("SessionHistory.from_bars, 1m bars (both)", lambda: SessionHistory.from_bars(bars), args.repeat,
          time.perf_counter)
    phase = SymbolPhase(load_config(), args.store, None, None)
    timed("run_symbol (CPU)", lambda: run_symbol(phase, args.symbol), args.repeat, time.process_time)


if __name__ == "__main__":
    main()
