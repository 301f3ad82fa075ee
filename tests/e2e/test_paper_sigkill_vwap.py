"""A paper session killed with SIGKILL at random moments and restarted with the same
``--out`` ends with exactly the trades of an uninterrupted session: none lost, none
doubled (SPEC 12). Both strategies on (ORB and VWAP_MEANREV).

The reference is an uninterrupted run of the same command (itself equal to the backtest:
test_paper_replay_vwap.py). Kill moments are drawn from seeded generators, so a failure
names its seed; each seed kills the process up to twice (startup, journaling, table
publishing: wherever the moment lands) before letting it finish.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders.cli import sample_store

ARGS = ["--quiet", "paper", "--source", "replay", "--symbols", "SPY", "QQQ", "--start", "2024-12-09",
        "--end", "2024-12-10", "--enable", "vwap_meanrev", "--speed", "max"]
TABLES = ("trades.csv", "trades.parquet", "skipped.csv", "equity.parquet")


def _command(store: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", "from vwapcli.cli import main; main()", *ARGS, "--store", str(store),
            "--out", str(out)]


def _run(store: Path, out: Path, kill_after: float | None) -> int | None:
    """Run to the end (None) or SIGKILL after ``kill_after`` seconds; the exit code, or
    None when it was killed."""
    process = subprocess.Popen(_command(store, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after is None:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
        return 0
    deadline = time.monotonic() + kill_after
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
            return 0  # finished before the kill
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return None


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def uninterrupted(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "paper"
    _run(store, out, None)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_session_killed_at_random_moments_resumes_to_the_same_trades(
    seed: int, store: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    out = tmp_path / "paper"
    kills = 0
    for _ in range(2):
        if _run(store, out, rng.uniform(1.5, 6.0)) is None:
            kills += 1
        if (out / "journal.jsonl").is_file() and json.loads(
            (out / "journal.jsonl").read_bytes().splitlines()[-1] or b"{}"
        ).get("kind") == "end":
            break
    _run(store, out, None)
    for name in TABLES:
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes(), (seed, kills, name)
    records = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    opened = [r["trade_id"] for r in records if r["kind"] == "open"]
    closed = [r["trade_id"] for r in records if r["kind"] == "close"]
    assert len(opened) == len(set(opened)) and sorted(opened) == sorted(closed)  # none doubled, none lost
    events = [r["event"] for r in records if "event" in r]
    assert events == list(range(len(events)))  # each decision journaled exactly once, in order
