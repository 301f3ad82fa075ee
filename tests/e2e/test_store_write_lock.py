"""One writer per store, and no read of a half-published store (issue 12, item 2).

Checked from the outside: exit code, printed lines, and the sha256 of every file of the
store before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders.cli import assert_one_line_failure, run_cli

START, END = "2024-01-02", "2024-01-05"

HOLD_LOCK = """
import sys, time
from pathlib import Path
from vwapcli.data.store_lock import store_write_lock
with store_write_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes our stdin
"""


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def fetch_args(store: Path, seed: int = 7) -> list[str]:
    return [
        "fetch", "--source", "synthetic", "--symbols", "SPY", "--start", START, "--end", END,
        "--seed", str(seed), "--store", str(store),
    ]


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "store"
    code, text = run_cli(fetch_args(root), capsys, monkeypatch)
    assert code == 0, text
    return root


def test_a_second_fetch_into_a_locked_store_is_refused_naming_the_holders_pid(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = snapshot(store)
        code, text = run_cli(fetch_args(store, seed=8), capsys, monkeypatch)
        assert_one_line_failure(code, text, "being written by another vwapcli", f"pid {holder.pid}")
        assert snapshot(store) == before
        # Readers are not blocked by the lock.
        code, text = run_cli(["store", "info", "--store", str(store)], capsys, monkeypatch)
        assert code == 0 and "SPY" in text, text
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    assert not (store / ".lock").exists()  # the holder removed its lock file on the way out


def test_a_stale_lock_file_left_by_a_killed_fetch_locks_nothing(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL leaves the file but the kernel drops the flock: the next fetch runs and removes it."""
    (store / ".lock").write_text("999999\n")
    code, text = run_cli(fetch_args(store, seed=8), capsys, monkeypatch)
    assert code == 0, text
    assert not (store / ".lock").exists()


def test_a_failed_first_fetch_leaves_no_empty_store_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "new-store"
    code, text = run_cli(["fetch", "--source", "csv", "--path", str(tmp_path / "absent.csv"), "--store", str(root)],
                         capsys, monkeypatch)
    assert code == 2, text
    assert not root.exists()


def unfinished_publication(store: Path) -> None:
    """What a fetch SIGKILLed between its renames leaves: the journal (here naming a staged
    temporary that is still there)."""
    year = store / "bars/timeframe=1m/symbol=SPY/year=2024"
    staged = year / ".part-0.parquet.abc123xy.tmp"
    staged.write_bytes((year / "part-0.parquet").read_bytes())
    journal = [[os.path.relpath(staged, store), os.path.relpath(year / "part-0.parquet", store)]]
    (store / ".publishing.json").write_text(json.dumps(journal))


@pytest.mark.parametrize(
    "command",
    [
        ["store", "info"],
        ["backtest", "--symbols", "SPY"],
        ["signals", "--symbols", "SPY"],
    ],
    ids=["store-info", "backtest", "signals"],
)
def test_reads_refuse_a_store_with_an_unfinished_publication_and_change_nothing(
    command: list[str], store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unfinished_publication(store)
    before = snapshot(store)
    out = tmp_path / ("signals.csv" if command[0] == "signals" else "run")
    extra = ["--out", str(out)] if command[0] in ("backtest", "signals") else []
    code, text = run_cli([*command, "--store", str(store), *extra], capsys, monkeypatch)
    assert_one_line_failure(code, text, ".publishing.json", "run vwapcli fetch")
    assert snapshot(store) == before
    assert not out.exists()


def test_the_next_fetch_finishes_the_publication_and_reads_work_again(
    store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unfinished_publication(store)
    code, text = run_cli([*fetch_args(store), "--symbols", "QQQ"], capsys, monkeypatch)
    assert code == 0, text
    assert not (store / ".publishing.json").exists()
    assert not [p for p in store.rglob(".*") if p.is_file()]
    code, text = run_cli(["store", "info", "--store", str(store)], capsys, monkeypatch)
    assert code == 0 and "SPY" in text and "QQQ" in text, text


def test_a_hostile_journal_is_refused_by_the_next_fetch_and_no_file_outside_the_store_is_touched(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``.publishing.json`` naming a file outside the store (to remove it) is not rolled
    forward: one line, exit 2, the outside file and the store unchanged."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (store / ".publishing.json").write_text(json.dumps([[None, "../victim.txt"]]))
    before = snapshot(store)
    code, text = run_cli(fetch_args(store, seed=8), capsys, monkeypatch)
    assert_one_line_failure(code, text, "not a publication journal")
    assert victim.read_text() == "keep me"
    assert snapshot(store) == before
