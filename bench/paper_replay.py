"""What `vwapcli paper --source replay --speed max` costs (SPEC 12, issue 13).

Replays the packaged sample's sessions (SPY + QQQ, ORB + VWAP_MEANREV) in process, with the
journal fsynced per record (as shipped) and with fsync turned off (the journal's overhead
is the difference), beside `vwapcli backtest` on the same range; checks the trades are
identical and prints bars/s, fsyncs and journal bytes per bar.

    .venv/bin/python bench/paper_replay.py [--start 2024-12-02] [--end 2024-12-13]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from vwapcli.app_config import StrategyChoice
from vwapcli.backtest import BacktestRequest, run_backtest
from vwapcli.data.loading import BarRequest
from vwapcli.data.sample import sample_store
from vwapcli.env import Env
from vwapcli.paper.command import PaperRequest, run_paper


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", default="2024-12-02")
    parser.add_argument("--end", default="2024-12-13")
    args = parser.parse_args()
    start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    store = Path(sample_store().root)
    bars = BarRequest(store, ("SPY", "QQQ"), start, end)
    choice = StrategyChoice(enable=("vwap_meanrev",))
    env = Env(quiet=True)
    env.console.quiet = True
    root = Path(tempfile.mkdtemp(prefix="paper-bench-"))
    t0 = time.perf_counter()
    run_backtest(BacktestRequest(bars, choice, out=root / "backtest"), env)
    backtest_s = time.perf_counter() - t0
    real_fsync = os.fsync
    rows = []
    for label, fsync in (("fsync per record", real_fsync), ("no fsync", lambda fd: None)):
        os.fsync = fsync  # type: ignore[assignment]
        out = root / label.replace(" ", "-")
        t0 = time.perf_counter()
        run_paper(PaperRequest("replay", bars, out, choice), env)
        seconds = time.perf_counter() - t0
        os.fsync = real_fsync
        lines = (out / "journal.jsonl").read_bytes().splitlines()
        n_bars = sum(line.count(b"],") + 1 for line in lines if b'"kind":"bars"' in line)
        same = (out / "trades.csv").read_bytes() == (root / "backtest" / "trades.csv").read_bytes()
        rows.append((label, seconds, n_bars, len(lines), (out / "journal.jsonl").stat().st_size, same))
    print(f"backtest {start}..{end}: {backtest_s:.1f} s (whole command, in process)")
    for label, seconds, n_bars, n_records, size, same in rows:
        print(f"paper replay, {label}: {seconds:.1f} s, {n_bars} bars, {n_bars / seconds:,.0f} bars/s, "
              f"{n_records} journal records ({size / n_bars:.0f} bytes/bar), trades identical to backtest: {same}")
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
