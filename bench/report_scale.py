"""Issue 17 benchmark: ``vwapcli report`` at scale, cold and warm tearsheet cache, against
the backtest's own time on the same run.

    .venv/bin/python bench/report_scale.py                        # 2 and 10 symbols x 10 years
    .venv/bin/python bench/report_scale.py --symbols 2 --repeat 3
    .venv/bin/python bench/report_scale.py --before 3a2b11f       # also the report of that commit

For each universe (the first N of SPY QQQ IWM DIA XLF XLK XLE XLV XLI XLY, synthetic, seed 7,
2015-01-01..2024-12-31, made once under ``--workdir``) it times, whole process:

* backtest - ``vwapcli backtest`` of the store into ``run-N`` (the reference: the report
  should take less; the reports below read that run folder);
* report cold - ``vwapcli report RUN --out ...`` with the tearsheet cache emptied first
  (quantstats imported and its tearsheet drawn; the forked child's CPU is included);
* report warm - the same again, the tearsheet read back from the cache;
* report before - with ``--before COMMIT``: that commit's ``src/`` (``git archive``) on
  ``PYTHONPATH``, same interpreter and libraries (it has no tearsheet cache).

Each round runs the four in turn (so all see the same machine load), ``--repeat`` rounds;
wall is given as min and median, CPU (user + sys of the process and every child it waited
for, the tearsheet process included) as median. The machine's load average is printed
beside: on a shared 2-core box other work inflates the wall times most, the CPU times too.
The cache lives in ``<workdir>/cache`` (``VWAPCLI_CACHE_DIR``), never the user's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(sys.executable)
VWAPCLI = [str(PYTHON), "-m", "vwapcli.cli"]
START, END = "2015-01-01", "2024-12-31"  # as bench/run_benchmarks.py

UNIVERSE = ("SPY", "QQQ", "IWM", "DIA", "XLF", "XLK", "XLE", "XLV", "XLI", "XLY")


def timed(command: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the children it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(list(command), cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # report exit 1 would be a --check verdict, not a crash
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ensure_store(workdir: Path, count: int) -> tuple[Path, list[str]]:
    """The synthetic store of the first ``count`` symbols, made once."""
    symbols = list(UNIVERSE[:count])
    store = workdir / f"store-{count}"
    if not (store / "bars" / "timeframe=1m" / f"symbol={symbols[-1]}").is_dir():
        timed([*VWAPCLI, "--quiet", "fetch", "--source", "synthetic", "--symbols", *symbols,
               "--start", START, "--end", END, "--store", str(store)])
    return store, symbols


def time_backtest(store: Path, symbols: list[str], run: Path) -> tuple[float, float]:
    shutil.rmtree(run, ignore_errors=True)
    return timed([*VWAPCLI, "--quiet", "backtest", "--store", str(store), "--symbols", *symbols, "--out", str(run)])


def time_report(run: Path, cache: Path, cold: bool, pythonpath: Path | None = None) -> tuple[float, float]:
    environment = {**os.environ, "VWAPCLI_CACHE_DIR": str(cache)}
    if pythonpath is not None:
        environment["PYTHONPATH"] = str(pythonpath)
    if cold:
        shutil.rmtree(cache / "tearsheets", ignore_errors=True)
    out = run.parent / f"{run.name}-report" / "report.html"
    shutil.rmtree(out.parent, ignore_errors=True)
    out.parent.mkdir(parents=True)
    return timed([*VWAPCLI, "--quiet", "report", str(run), "--out", str(out)], env=environment)


def summary(samples: list[tuple[float, float]]) -> dict[str, Any]:
    walls, cpus = [wall for wall, _ in samples], [cpu for _, cpu in samples]
    return {"wall_min_s": min(walls), "wall_median_s": statistics.median(walls),
            "cpu_median_s": statistics.median(cpus), "walls": walls, "cpus": cpus}


def baseline_source(workdir: Path, commit: str) -> Path:
    """``src/`` of ``commit``, unpacked once under the workdir."""
    target = workdir / f"before-{commit}"
    if not (target / "src" / "vwapcli").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "results" / "report_scale")
    parser.add_argument("--symbols", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="a commit whose report to time too (its src/ via git archive)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    cache = args.workdir / "cache"
    before = baseline_source(args.workdir, args.before) if args.before else None
    results: dict[str, Any] = {"load_average_start": os.getloadavg()}
    kinds = ["backtest", "report_cold", "report_warm"] + (["report_before"] if before else [])
    for count in args.symbols:
        store, symbols = ensure_store(args.workdir, count)
        run = args.workdir / f"run-{count}"
        samples: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
        for _ in range(args.repeat):  # interleaved, so each kind sees the same machine load
            samples["backtest"].append(time_backtest(store, symbols, run))
            samples["report_cold"].append(time_report(run, cache, cold=True))
            samples["report_warm"].append(time_report(run, cache, cold=False))
            if before is not None:
                samples["report_before"].append(time_report(run, cache, cold=False, pythonpath=before))
        results[str(count)] = {kind: summary(values) for kind, values in samples.items()}
    results["load_average_end"] = os.getloadavg()
    (args.workdir / "report_scale.json").write_text(json.dumps(results, indent=2))
    print("| symbols x 10 years | what (whole process) | wall, min | wall, median | CPU, median |")
    print("|---|---|---|---|---|")
    labels = {"backtest": "vwapcli backtest (reference)", "report_before": f"vwapcli report, before ({args.before})",
              "report_cold": "vwapcli report, cold tearsheet cache", "report_warm": "vwapcli report, warm tearsheet cache"}
    for count in args.symbols:
        for kind in ("backtest", "report_before", "report_cold", "report_warm"):
            if kind in results[str(count)]:
                entry = results[str(count)][kind]
                print(f"| {count} | {labels[kind]} | {entry['wall_min_s']:.2f} s | {entry['wall_median_s']:.2f} s "
                      f"| {entry['cpu_median_s']:.2f} s |")
    print(f"load average (1/5/15 min) at start {results['load_average_start']}, "
          f"at end {results['load_average_end']}; {args.repeat} interleaved rounds")


if __name__ == "__main__":
    main()
