"""Issue 17: the backtest at universe scale (SPEC 13) - 1, 10 and 100 symbols x 10 years.

    .venv/bin/python bench/universe.py                       # 1 and 10 symbols, streamed + all-at-once
    .venv/bin/python bench/universe.py --sizes 1 10 100      # also 100 symbols (~1.7 GB store)
    .venv/bin/python bench/universe.py --peer                # also backtesting.py on one symbol

What is measured, each a whole `vwapcli backtest --only vwap_meanrev` process (the module
the peer implements; default config otherwise: session-vol option model, model-risk table)
over the first N symbols of one synthetic store, 2015-01-01..2024-12-31, 1-minute bars:

* wall seconds, CPU seconds (user + sys of the process and its workers; on a shared
  machine the steadier measure) and peak RSS
  (GNU time's %M: the largest single process of the tree, parent or worker);
* bars/s = the 1-minute bars read / wall seconds;
* streamed with ``--workers 1`` (one process: the memory criterion, peak RSS at most 1.5x
  the 1-symbol run) and with the default local pool (one worker per core);
* ``all-at-once``: the pipeline before streaming, still the library's ``execute_backtest``
  (every symbol's bars loaded together), with the same outputs, for the before/after;
* ``--peer``: ``bench/peer_backtesting_py.py`` once per symbol (sizes up to 10), whole
  processes, in the same minutes as ours: N single-asset backtesting.py runs on the same
  bars (it trades the underlying only, so the ratio flatters it: no option pricing);
* ``--repeat K``: each mode K times, the fastest shown with all walls beside it (the
  trades must be identical across the K runs).

The store is generated once under ``--workdir`` (bench/results/universe, git-ignored) with
``vwapcli fetch --source synthetic`` in batches of 10 symbols (seed 7; SPY QQQ IWM DIA and
six sector ETF names, then SYN01..SYN90 with the generator's default profile) and reused.
Results go to ``<workdir>/universe.json`` and print as the table of bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = Path(sys.executable)
VWAPCLI = [str(PYTHON), "-m", "vwapcli.cli"]
START, END = "2015-01-01", "2024-12-31"
NAMED = ["SPY", "QQQ", "IWM", "DIA", "XLF", "XLE", "XLK", "XLV", "XLI", "XLU"]
SYMBOLS = NAMED + [f"SYN{i:02d}" for i in range(1, 91)]
GNU_TIME = "/usr/bin/time"

# The pipeline before streaming, as the library keeps it (execute_backtest on bars loaded
# all at once), writing the same tables and model-risk file as the command.
ALL_AT_ONCE = """
import sys
from pathlib import Path
from vwapcli.app_config import StrategyChoice
from vwapcli.backtest import execute_backtest, scaled_quote_sources
from vwapcli.data.loading import load_market_data
from vwapcli.engine import build_engine, reprice_trades
from vwapcli.run_folder import write_table
store, out, symbols = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
config = StrategyChoice(only="vwap_meanrev").load()
market = load_market_data(store, symbols, None, None, config.data.timeframe, config.data.calendar)
result = execute_backtest(config, market, None, None, store)
out.mkdir()
write_table(result.trades, out / "trades.csv", out / "trades.parquet")
write_table(result.skipped, out / "skipped.csv", None)
write_table(result.equity, None, out / "equity.parquet")
engine = build_engine(config, market, store)
write_table(reprice_trades(result.trades, engine, scaled_quote_sources(config, market, store)), None, out / "model_risk.parquet")
"""


# Every measured process (ours and the peer's) runs with Python's default of keeping
# modules' bytecode under __pycache__: a sandbox setting PYTHONDONTWRITEBYTECODE makes each
# run compile the editable install's sources again (~0.1-0.2 s a process), which no user's
# install does.
MEASURED_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def measured(command: list[str]) -> dict[str, float]:
    """Wall s, CPU s and peak RSS (MB) of one process tree, by GNU time."""
    done = subprocess.run(
        [GNU_TIME, "-f", "BENCH %e %U %S %M", *command], cwd=ROOT, capture_output=True, text=True, check=False,
        env=MEASURED_ENV,
    )
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    line = [x for x in done.stderr.splitlines() if x.startswith("BENCH ")][-1]
    wall, user, system, rss_kb = (float(x) for x in line.split()[1:])
    return {"wall_s": wall, "cpu_s": user + system, "peak_rss_mb": rss_kb / 1024}


def ensure_store(workdir: Path, n_symbols: int) -> Path:
    """The synthetic store with at least the first ``n_symbols`` symbols, made in batches of 10."""
    store = workdir / "store"
    for first in range(0, n_symbols, 10):
        batch = SYMBOLS[first : first + 10]
        if all((store / "bars" / "timeframe=1m" / f"symbol={s}").is_dir() for s in batch):
            continue
        print(f"generating {batch[0]}..{batch[-1]} into {store}", flush=True)
        subprocess.run(
            [*VWAPCLI, "--quiet", "fetch", "--source", "synthetic", "--symbols", *batch, "--start", START,
             "--end", END, "--store", str(store)], cwd=ROOT, check=True,
        )
    return store


def bar_count(store: Path, symbols: list[str]) -> int:
    """1-minute bars stored for ``symbols`` (Parquet row counts; no data read)."""
    import pyarrow.dataset as ds

    return sum(
        ds.dataset(store / "bars" / "timeframe=1m" / f"symbol={s}", format="parquet").count_rows()
        for s in symbols
    )


def run_streamed(store: Path, symbols: list[str], out: Path, workers: int | None) -> dict[str, float]:
    command = [*VWAPCLI, "--quiet", "backtest", "--store", str(store), "--symbols", *symbols,
               "--start", START, "--end", END, "--only", "vwap_meanrev", "--out", str(out)]
    if workers is not None:
        command += ["--workers", str(workers)]
    return measured(command)


def run_all_at_once(store: Path, symbols: list[str], out: Path) -> dict[str, float]:
    return measured([str(PYTHON), "-c", ALL_AT_ONCE, str(store), str(out), *symbols])


def run_peer(store: Path, symbol: str) -> dict[str, float]:
    """backtesting.py on one symbol, whole process (it is single-asset: N symbols = N runs)."""
    return measured([str(PYTHON), str(BENCH / "peer_backtesting_py.py"), "--store", str(store), "--symbol",
                     symbol, "--start", START, "--end", END])


def best_of(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the least wall time, with every run's wall and CPU kept beside it."""
    best = dict(min(runs, key=lambda run: run["wall_s"]))
    best["walls_s"] = [round(run["wall_s"], 2) for run in runs]
    best["cpus_s"] = [round(run["cpu_s"], 2) for run in runs]
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--workdir", type=Path, default=BENCH / "results" / "universe")
    parser.add_argument("--peer", action="store_true",
                        help="also run backtesting.py once per symbol (sizes up to 10), summed per size")
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode; the table shows the fastest")
    parser.add_argument("--no-reference", action="store_true", help="skip the all-at-once runs")
    parser.add_argument("--no-pool", action="store_true", help="skip the default-pool runs")
    args = parser.parse_args()
    store = ensure_store(args.workdir, max(args.sizes))
    results: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg(), "runs": []}
    scratch = Path(tempfile.mkdtemp(prefix="universe-"))
    try:
        for n in args.sizes:
            symbols = SYMBOLS[:n]
            bars = bar_count(store, symbols)
            modes: list[tuple[str, Any]] = [("streamed, --workers 1", 1)]
            if not args.no_pool:
                modes.append(("streamed, default pool", None))
            if not args.no_reference and n <= 10:
                modes.append(("all-at-once (before)", "reference"))
            for label, mode in modes:
                repeats, digests = [], set()
                for _ in range(args.repeat):
                    out = scratch / f"{n}-{len(results['runs'])}-{len(repeats)}"
                    repeats.append(run_all_at_once(store, symbols, out) if mode == "reference" else run_streamed(
                        store, symbols, out, mode
                    ))
                    digests.add(_digest(out / "trades.csv"))
                    shutil.rmtree(out, ignore_errors=True)
                if len(digests) != 1:
                    raise SystemExit(f"{n} symbols, {label}: trades.csv differed between runs: {sorted(digests)}")
                run = best_of(repeats)
                run.update({"symbols": n, "mode": label, "bars": bars, "bars_per_s": bars / run["wall_s"],
                            "trades_sha256": digests.pop()})
                results["runs"].append(run)
                print(json.dumps(run), flush=True)
            if args.peer and n <= 10:
                # Side by side in the same minutes: one backtesting.py process per symbol.
                peers = [run_peer(store, symbol) for symbol in symbols]
                results.setdefault("peer", {})[str(n)] = {
                    "wall_s": sum(p["wall_s"] for p in peers), "cpu_s": sum(p["cpu_s"] for p in peers),
                    "peak_rss_mb": max(p["peak_rss_mb"] for p in peers),
                    "walls_s": [round(p["wall_s"], 2) for p in peers],
                }
                print(json.dumps(results["peer"][str(n)]), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    (args.workdir / "universe.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def print_table(results: dict[str, Any]) -> None:
    peers = results.get("peer", {})
    print("\n| symbols | mode | wall s (runs) | CPU s | peak RSS MB | bars/s | backtesting.py x N runs: wall s | "
          "ratio wall / CPU | trades.csv sha256 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for run in results["runs"]:
        peer = peers.get(str(run["symbols"]))
        ratio = f"{peer['wall_s'] / run['wall_s']:.0f}x / {peer['cpu_s'] / run['cpu_s']:.0f}x" if peer else "-"
        peer_wall = f"{peer['wall_s']:.1f}" if peer else "-"
        walls = ", ".join(f"{w:.1f}" for w in run.get("walls_s", [run["wall_s"]]))
        print(f"| {run['symbols']} | {run['mode']} | {run['wall_s']:.2f} ({walls}) | {run['cpu_s']:.1f} | "
              f"{run['peak_rss_mb']:.0f} | {run['bars_per_s']:,.0f} | {peer_wall} | {ratio} | "
              f"{run['trades_sha256']} |")
    for n, peer in peers.items():
        print(f"\nbacktesting.py, {n} runs (one per symbol), whole processes: {peer['wall_s']:.1f} s wall "
              f"({', '.join(f'{w:.1f}' for w in peer['walls_s'])}), {peer['cpu_s']:.1f} s CPU, "
              f"{peer['peak_rss_mb']:.0f} MB peak")
    print(f"load average before / after: {results['load_before']} / {results['load_after']}")


if __name__ == "__main__":
    main()
