"""Where the time of one `vwapcli backtest` goes, phase by phase, in a fresh process.

Runs the same steps as ``vwapcli backtest --only vwap_meanrev`` (``vwapcli.backtest``'s
building blocks, in the same order) and prints one JSON object of wall-clock seconds:
interpreter start is measured by the caller; here ``import_*`` are the module imports,
``load`` is ``load_market_data`` (Parquet read + validation + sessions, including the
exchange calendar's session table), ``numba_init`` numba's one-time target set-up on the
first compiled call (it imports numba's numpy/random/linalg registries and, through
them, scipy.linalg; whichever kernel runs first pays it), ``signals`` the signal pass
(including the kernels' cache loads), ``plan_exits`` the exit scan, ``engine`` options
pricing + fills + the risk walk + the result tables, ``write`` the run folder's tables.

    .venv/bin/python bench/phase_profile.py --store bench/results/store --symbol SPY
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--symbol", default="SPY")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2015, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2024, 12, 31))
    args = parser.parse_args(argv)
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round(now - mark, 3)
        mark = now

    import numpy  # noqa: F401
    import pandas  # noqa: F401

    lap("import_numpy_pandas")
    import numba  # noqa: F401

    lap("import_numba")
    from vwapcli.cli import app  # noqa: F401

    lap("import_cli")
    from vwapcli.app_config import load_config
    from vwapcli.data.loading import load_market_data, sessions_between
    from vwapcli.engine import build_engine, plan_candidates
    from vwapcli.run_folder import write_table
    from vwapcli.signal_run import compute_signals

    lap("import_backtest_modules")
    config = load_config().with_strategies(only="vwap_meanrev")
    lap("config")
    market_data = load_market_data(args.store, [args.symbol], args.start, args.end, "1m", "XNYS")
    lap("load")
    from numba.core.registry import cpu_target

    cpu_target.target_context.refresh()
    lap("numba_init")
    signals = compute_signals(config, market_data, args.start, args.end)
    lap("signals")
    candidates = plan_candidates(signals, market_data, config)
    lap("plan_exits")
    engine = build_engine(config, market_data, args.store)
    names = config.enabled_strategy_names()
    result = engine.run(candidates, sessions_between(market_data, args.start, args.end), names)
    lap("engine")
    with tempfile.TemporaryDirectory() as folder:
        write_table(result.trades, Path(folder) / "trades.csv", Path(folder) / "trades.parquet")
        write_table(result.skipped, Path(folder) / "skipped.csv", None)
        write_table(result.equity, None, Path(folder) / "equity.parquet")
    lap("write")
    phases["signals_count"] = len(signals)
    phases["trades_count"] = len(result.trades)
    print(json.dumps(phases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
