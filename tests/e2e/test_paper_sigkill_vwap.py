"""A paper session killed with SIGKILL at random moments and restarted with the same
``--out`` ends with exactly the trades of an uninterrupted session: none lost, none
doubled (SPEC 12). Both strategies on (ORB and VWAP_MEANREV).

The reference is an uninterrupted run of the same command (itself equal to the backtest:
test_paper_replay_vwap.py). Kill moments are drawn from seeded generators, so a failure
names its seed; each seed kills the process up to twice (a random journal length plus a
random few milliseconds: startup, journaling, deciding, table publishing, wherever the
moment lands) before letting it finish. A two-session run journals about 800 lines.
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
from vwapcli.paper.journal import read_journal

ARGS = ["--quiet", "paper", "--source", "replay", "--symbols", "SPY", "QQQ", "--start", "2024-12-09",
        "--end", "2024-12-10", "--enable", "vwap_meanrev", "--speed", "max"]
TABLES = ("trades.csv", "trades.parquet", "skipped.csv", "equity.parquet")


def _command(store: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", "from vwapcli.cli import main; main()", *ARGS, "--store", str(store),
            "--out", str(out)]


def _run(store: Path, out: Path, kill_at: tuple[int, float] | None) -> int | None:
    """Run to the end (``kill_at`` None) or SIGKILL it ``delay`` seconds after the journal
    holds ``lines`` lines (a moment defined by progress, not by wall time, so a loaded
    machine moves it nowhere); the exit code, or None when it was killed."""
    process = subprocess.Popen(_command(store, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_at is None:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()
        return 0
    lines, delay = kill_at
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
            return 0  # finished before the kill
        if lines == 0 or (journal.is_file() and journal.read_bytes().count(b"\n") >= lines):
            break
        time.sleep(0.01)
    time.sleep(delay)
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


def _ended(journal: Path) -> bool:
    """The run got to its ``end`` record (a torn last line is not a record)."""
    if not journal.is_file():
        return False
    records = read_journal(journal).records
    return bool(records) and records[-1]["kind"] == "end"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_session_killed_at_random_moments_resumes_to_the_same_trades(
    seed: int, store: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    out = tmp_path / "paper"
    kills = 0
    for _ in range(2):
        journal = out / "journal.jsonl"
        written = journal.read_bytes().count(b"\n") if journal.is_file() else 0
        if _run(store, out, (written + rng.randrange(0, 700), rng.uniform(0.0, 0.05))) is None:
            kills += 1
        if _ended(journal):
            break
    assert kills >= 1  # the first kill always lands: about 800 lines are journaled in all
    _run(store, out, None)
    for name in TABLES:
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes(), (seed, kills, name)
    records = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    opened = [r["trade_id"] for r in records if r["kind"] == "open"]
    closed = [r["trade_id"] for r in records if r["kind"] == "close"]
    assert len(opened) == len(set(opened)) and sorted(opened) == sorted(closed)  # none doubled, none lost
    events = [r["event"] for r in records if "event" in r]
    assert events == list(range(len(events)))  # each decision journaled exactly once, in order


def test_ctrl_c_stops_with_exit_130_a_consistent_journal_and_resumes_to_the_same_trades(
    store: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    out = tmp_path / "paper"
    process = subprocess.Popen(_command(store, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not journal.is_file() or journal.read_bytes().count(b"\n") < 300):
        time.sleep(0.05)  # wait until it is well into the first session
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err.decode()
    assert "interrupted" in err.decode()
    records = [json.loads(line) for line in journal.read_text().splitlines()]  # every line whole
    assert records[-1]["kind"] == "interrupted"
    _run(store, out, None)
    for name in TABLES:
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes(), name
