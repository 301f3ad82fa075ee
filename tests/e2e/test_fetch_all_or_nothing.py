"""`vwapcli fetch` is all or nothing per symbol (issue 12, item 2).

Every hostile case here is checked from the outside: the exit code, the printed lines,
and the bytes of every file in the store before and after (sha256 of each file, hidden
ones included, so staging debris counts as a change). A store "as after the last fully
published symbol" is checked against an independent reference: the same fetch run to
completion in another folder (that symbol's files byte for byte, its metadata entry).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import vwapcli.atomic_write as atomic_write_module
from builders.cli import good_bars, run_cli

START, END = "2023-12-27", "2024-01-05"  # two year partitions per symbol, a few sessions


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (hidden files too), by relative path."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def symbol_files(files: dict[str, str], symbol: str) -> dict[str, str]:
    return {path: digest for path, digest in files.items() if f"symbol={symbol}/" in path}


def fetch_args(store: Path, seed: int, *symbols: str) -> list[str]:
    return [
        "fetch", "--source", "synthetic", "--symbols", *symbols, "--start", START, "--end", END,
        "--seed", str(seed), "--store", str(store),
    ]


def fetched(root: Path, seed: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    code, text = run_cli(fetch_args(root, seed, "SPY", "QQQ"), capsys, monkeypatch)
    assert code == 0, text
    return root


def meta(root: Path) -> dict:
    return json.loads((root / "meta.json").read_text())


def lines(text: str) -> list[str]:
    return [line for line in text.strip().splitlines() if line.strip()]


def one_minute_csv(path: Path) -> Path:
    good_bars().to_csv(path, index=False)
    return path


def test_an_unknown_timeframe_is_one_line_exit_2_and_the_store_is_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fetched(tmp_path / "store", 7, capsys, monkeypatch)
    before = snapshot(store)
    csv = one_minute_csv(tmp_path / "SPY.csv")
    code, text = run_cli(
        ["fetch", "--source", "csv", "--path", str(csv), "--store", str(store), "--timeframe", "7m"], capsys, monkeypatch
    )
    assert code == 2 and len(lines(text)) == 1 and "7m" in text and "Traceback" not in text, text
    assert snapshot(store) == before
    assert not (store / "bars" / "timeframe=7m").exists()


def test_one_minute_bars_declared_as_five_minutes_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """good_bars() starts 09:30 and steps 1 minute: 09:31 is off the 5-minute grid."""
    store = fetched(tmp_path / "store", 7, capsys, monkeypatch)
    before = snapshot(store)
    csv = one_minute_csv(tmp_path / "SPY.csv")
    code, text = run_cli(
        ["fetch", "--source", "csv", "--path", str(csv), "--store", str(store), "--timeframe", "5m"], capsys, monkeypatch
    )
    assert code == 2 and len(lines(text)) <= 2 and "5m grid" in text, text
    assert snapshot(store) == before


def test_five_minute_bars_declared_as_one_minute_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every 5th bar of good_bars(): 78 per session, every same-day gap is 5 minutes, none is 1."""
    store = tmp_path / "store"
    path = tmp_path / "SPY.csv"
    good_bars().iloc[::5].to_csv(path, index=False)
    code, text = run_cli(["fetch", "--source", "csv", "--path", str(path), "--store", str(store)], capsys, monkeypatch)
    assert code == 2 and len(lines(text)) <= 2 and "closer than 5 minutes" in text, text
    assert snapshot(store) == {}


def test_a_blank_symbol_value_is_refused_with_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = good_bars().assign(symbol="SPY")
    frame.loc[3, "symbol"] = ""
    path = tmp_path / "bars.csv"
    frame.to_csv(path, index=False)
    store = tmp_path / "store"
    code, text = run_cli(["fetch", "--source", "csv", "--path", str(path), "--store", str(store)], capsys, monkeypatch)
    assert code == 2 and len(lines(text)) <= 2 and "row 3" in text and "blank" in text, text
    assert snapshot(store) == {}


def test_a_store_whose_metadata_is_a_folder_is_refused_before_any_bar_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fetched(tmp_path / "store", 7, capsys, monkeypatch)
    (store / "meta.json").unlink()
    (store / "meta.json").mkdir()
    before = snapshot(store)
    code, text = run_cli(fetch_args(store, 8, "SPY", "QQQ"), capsys, monkeypatch)
    assert code == 2 and len(lines(text)) <= 2 and "meta.json" in text and "not a file" in text, text
    assert snapshot(store) == before


def test_unreadable_metadata_is_refused_before_any_bar_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fetched(tmp_path / "store", 7, capsys, monkeypatch)
    (store / "meta.json").write_text("[1, 2")
    before = snapshot(store)
    code, text = run_cli(fetch_args(store, 8, "SPY"), capsys, monkeypatch)
    assert code == 2 and len(lines(text)) <= 2 and "unreadable store metadata" in text, text
    assert snapshot(store) == before


def fail_on_qqq_2024(monkeypatch: pytest.MonkeyPatch, moment: str, error: BaseException) -> None:
    """Make the publication of QQQ's 2024 file fail: while staging it (its writer raises
    after the 2023 file was staged) or while renaming it (after QQQ's 2023 file was
    already renamed into place, so the rollback has work to do)."""
    target = "symbol=QQQ/year=2024/part-0.parquet"
    if moment == "staging":
        real_stage = atomic_write_module._stage

        def stage(path: Path, write, suffix: str = ".tmp", created=None) -> Path:  # type: ignore[no-untyped-def]
            if path.as_posix().endswith(target):
                def broken(temporary: Path) -> None:
                    temporary.write_bytes(b"PAR1 half a file")
                    raise error
                return real_stage(path, broken, suffix, created)
            return real_stage(path, write, suffix, created)

        monkeypatch.setattr(atomic_write_module, "_stage", stage)
    else:
        real_replace = os.replace
        fired: list[bool] = []

        def replace(source, destination) -> None:  # type: ignore[no-untyped-def]
            if not fired and str(destination).endswith(target):
                fired.append(True)
                raise error
            real_replace(source, destination)

        monkeypatch.setattr(atomic_write_module.os, "replace", replace)


@pytest.mark.parametrize("moment", ["staging", "publishing"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()], ids=["oserror", "ctrl-c"])
def test_a_failure_on_the_second_symbol_keeps_the_first_published_and_the_second_as_before(
    moment: str, error: BaseException, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The store held seed-1 SPY and QQQ; a seed-2 re-fetch fails inside QQQ's publication.
    Expected (independent reference: a seed-2 fetch run to completion elsewhere): SPY's
    files and metadata are the seed-2 ones, QQQ's are the untouched seed-1 ones."""
    reference = fetched(tmp_path / "reference", 2, capsys, monkeypatch)
    store = fetched(tmp_path / "store", 1, capsys, monkeypatch)
    before, before_meta = snapshot(store), meta(store)
    fail_on_qqq_2024(monkeypatch, moment, error)
    code, text = run_cli(fetch_args(store, 2, "SPY", "QQQ"), capsys, monkeypatch)
    if isinstance(error, KeyboardInterrupt):
        assert code == 130 and "interrupted: nothing half-written was kept" in text, text
    else:
        assert code != 0 and len(lines(text)) <= 2 and "Traceback" not in text, text
    after = snapshot(store)
    assert symbol_files(after, "SPY") == symbol_files(snapshot(reference), "SPY")
    assert symbol_files(after, "QQQ") == symbol_files(before, "QQQ")
    assert set(after) == set(before)  # no staging file, no new folder left behind
    assert meta(store)["symbols"]["SPY"] == meta(reference)["symbols"]["SPY"]
    assert meta(store)["symbols"]["QQQ"] == before_meta["symbols"]["QQQ"]


def test_a_failure_on_a_new_symbol_leaves_no_trace_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh store: SPY is published whole with its metadata; QQQ has no file, folder or entry."""
    store = tmp_path / "store"
    fail_on_qqq_2024(monkeypatch, "publishing", KeyboardInterrupt())
    code, text = run_cli(fetch_args(store, 2, "SPY", "QQQ"), capsys, monkeypatch)
    assert code == 130 and "interrupted" in text, text
    assert not symbol_files(snapshot(store), "QQQ")
    assert not list(store.rglob("symbol=QQQ"))
    assert set(meta(store)["symbols"]) == {"SPY"}
    assert set(meta(store)["symbols"]["SPY"]) == {"bars", "iv_index"}


def test_leftovers_of_an_interrupted_run_are_removed_by_the_next_fetch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake crash left a half temporary, a rollback copy and a metadata temporary: names as
    atomic_write makes them (``.<name>.<8 random>.tmp|.old``)."""
    store = fetched(tmp_path / "store", 7, capsys, monkeypatch)
    clean = snapshot(store)
    year = store / "bars/timeframe=1m/symbol=SPY/year=2024"
    debris = [
        year / ".part-0.parquet.k3j4h5g6.tmp",
        year / ".part-0.parquet.a1b2c3d4.old",
        store / ".meta.json.zz9_xy8w.tmp",
        store / "iv_index/symbol=QQQ/.part-0.parquet.q1w2e3r4.tmp",
    ]
    for path in debris:
        path.write_bytes(b"PAR1 half")
    code, text = run_cli(fetch_args(store, 7, "SPY", "QQQ"), capsys, monkeypatch)
    assert code == 0, text
    assert not any(path.exists() for path in debris)
    assert snapshot(store) == clean  # the same fetch again: byte-identical, nothing extra


def test_a_dry_run_leaves_even_leftovers_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = fetched(tmp_path / "store", 7, capsys, monkeypatch)
    (store / ".meta.json.zz9_xy8w.tmp").write_bytes(b"{")
    before = snapshot(store)
    code, text = run_cli([*fetch_args(store, 7, "SPY"), "--dry-run"], capsys, monkeypatch)
    assert code == 0, text
    assert snapshot(store) == before


def test_the_synthetic_range_in_these_tests_spans_two_year_files() -> None:
    """Guard for the tests above: the failure is injected into the second year file."""
    assert pd.Timestamp(START).year == 2023 and pd.Timestamp(END).year == 2024
    assert dt.date.fromisoformat(END) > dt.date.fromisoformat(START)


KILL_CHILD = """
import os, signal, sys
from vwapcli.cli import main
real_replace, calls, kill_at = os.replace, [0], int(os.environ["VWAPCLI_TEST_KILL_AT"])
store = os.path.realpath(os.environ["VWAPCLI_TEST_STORE"])

def replace(source, destination):
    # Only the store's renames count (numba's cache renames its own files now and then).
    if os.path.realpath(destination).startswith(store + os.sep):
        calls[0] += 1
    if calls[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, destination)

os.replace = replace
sys.argv = ["vwapcli", *sys.argv[1:]]
main()
"""


def test_a_fetch_killed_before_any_of_its_renames_is_whole_after_the_next_run_recovers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL (no cleanup runs) just before the k-th file rename of a seed-2 re-fetch over a
    seed-1 store, for every k of the run: 2 symbols x (2 year files + IV index + meta.json +
    the journal) = 10 renames, and k = 11 lets the run finish. After the next run's recovery
    (``prepare_for_write``), each symbol is its seed-1 self or its seed-2 reference, metadata
    entry included, symbols are complete in fetch order, and no hidden file is left."""
    import shutil
    import subprocess
    import sys

    from vwapcli.data.store import BarStore
    from vwapcli.data.store_lock import store_write_lock

    reference = fetched(tmp_path / "reference", 2, capsys, monkeypatch)
    before = fetched(tmp_path / "before", 1, capsys, monkeypatch)
    states = {"before": (snapshot(before), meta(before)), "after": (snapshot(reference), meta(reference))}
    children = []
    for kill_at in range(1, 12):
        store = tmp_path / f"killed-{kill_at}"
        shutil.copytree(before, store)
        env = {**os.environ, "VWAPCLI_TEST_KILL_AT": str(kill_at), "VWAPCLI_TEST_STORE": str(store)}
        child = subprocess.Popen(
            [sys.executable, "-c", KILL_CHILD, *fetch_args(store, 2, "SPY", "QQQ")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        children.append((kill_at, store, child))
    outcomes = []
    for kill_at, store, child in children:
        code = child.wait(timeout=120)
        assert code == (0 if kill_at == 11 else -9), (kill_at, code)
        with store_write_lock(store):  # as the next fetch does: take over the stale lock, recover
            BarStore(store).prepare_for_write()
        files, entries = snapshot(store), meta(store)
        seen = []
        for symbol in ("SPY", "QQQ"):
            matches = [
                name for name, (state_files, state_meta) in states.items()
                if symbol_files(files, symbol) == symbol_files(state_files, symbol)
                and entries["symbols"][symbol] == state_meta["symbols"][symbol]
            ]
            assert len(matches) == 1, (kill_at, symbol, matches)
            seen.append(matches[0])
        assert seen in (["before", "before"], ["after", "before"], ["after", "after"]), (kill_at, seen)
        assert not [name for name in files if Path(name).name.startswith(".")], (kill_at, files)
        outcomes.append(tuple(seen))
    # The kills landed at different moments: all three legal states occur.
    assert set(outcomes) == {("before", "before"), ("after", "before"), ("after", "after")}


INTERRUPT_CHILD = """
import os, signal, sys
import vwapcli.cli as cli
store = os.path.realpath(os.environ["VWAPCLI_TEST_STORE"])
at, calls, real_replace = int(os.environ["VWAPCLI_TEST_SIGINT_AT"]), [0], os.replace

def replace(source, destination):
    if os.path.realpath(destination).startswith(store + os.sep):
        calls[0] += 1
        if calls[0] == at:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: KeyboardInterrupt before this rename
    real_replace(source, destination)

os.replace = replace
real_app = cli.app

def app(*args, **kwargs):  # the marker comes from inside main()'s handlers
    print("in main", flush=True)
    return real_app(*args, **kwargs)

cli.app = app
sys.argv = ["vwapcli", *sys.argv[1:]]
cli.main()
"""

FOUR = ("SPY", "QQQ", "IWM", "DIA")


def wait_for(condition: Callable[[], bool], child: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Poll (1 ms) until ``condition`` holds or the child has exited."""
    deadline = time.monotonic() + timeout
    while child.poll() is None and time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass  # a file renamed away between listing and reading
        time.sleep(0.001)


@pytest.mark.parametrize(
    "moment",
    ["rename-1", "rename-4", "rename-8", "rename-14", "after-0.0s", "after-0.5s", "first-temporary", "first-publication"],
)
def test_ctrl_c_at_any_moment_prints_the_interrupted_line_and_leaves_each_symbol_whole(
    moment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SIGINT into a ``vwapcli fetch`` subprocess re-fetching four symbols (seed 2 over
    a seed-1 store): either sent by the process to itself just before its k-th store rename
    (each symbol publishes 2 year files, the IV index, meta.json and the journal: 5
    renames), or sent from outside: some time after ``main()`` started, as soon as the first
    staging temporary appears in the store, or as soon as meta.json changes (the first
    symbol is published). Afterwards, with no
    recovery run: exit 130 and the "interrupted" line (or exit 0 if the fetch had already
    finished), every symbol wholly its seed-1 self or its seed-2 reference (metadata entry
    included), complete symbols a prefix of the fetch order, no hidden file (temporary,
    journal, lock) left, and the store readable at once."""
    import shutil
    import signal
    import sys

    def four(root: Path, seed: int) -> Path:
        code, text = run_cli(fetch_args(root, seed, *FOUR), capsys, monkeypatch)
        assert code == 0, text
        return root

    reference, before = four(tmp_path / "reference", 2), four(tmp_path / "before", 1)
    states = {"before": (snapshot(before), meta(before)), "after": (snapshot(reference), meta(reference))}
    store = tmp_path / "store"
    shutil.copytree(before, store)
    at = int(moment.removeprefix("rename-")) if moment.startswith("rename-") else 0
    env = {**os.environ, "VWAPCLI_TEST_SIGINT_AT": str(at), "VWAPCLI_TEST_STORE": str(store)}
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT_CHILD, *fetch_args(store, 2, *FOUR)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "in main"
    if moment.startswith("after-"):
        time.sleep(float(moment.removeprefix("after-").removesuffix("s")))
    elif moment == "first-temporary":
        wait_for(lambda: any(p.name.endswith(".tmp") for p in store.rglob(".*")), child)
    elif moment == "first-publication":
        wait_for(lambda: (store / "meta.json").read_bytes() != (before / "meta.json").read_bytes(), child)
    if not at:
        child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    if at:
        assert child.returncode == 130, (child.returncode, out, err)
    assert child.returncode in (0, 130), (child.returncode, out, err)
    if child.returncode == 130:
        assert "interrupted: nothing half-written was kept" in err and "Traceback" not in err, err
    files, entries = snapshot(store), meta(store)
    seen = []
    for symbol in FOUR:
        matches = [
            name for name, (state_files, state_meta) in states.items()
            if symbol_files(files, symbol) == symbol_files(state_files, symbol)
            and entries["symbols"][symbol] == state_meta["symbols"][symbol]
        ]
        assert len(matches) == 1, (moment, symbol, matches, sorted(symbol_files(files, symbol)))
        seen.append(matches[0])
    done = seen.count("after")
    assert seen == ["after"] * done + ["before"] * (len(FOUR) - done), (moment, seen)
    if child.returncode == 0:
        assert done == len(FOUR)
    if at:  # the k-th rename is in symbol (k - 1) // 5 + 1, whose renames finish before Ctrl-C acts
        assert done == (at - 1) // 5 + 1, (moment, seen)
    assert not [name for name in files if any(part.startswith(".") for part in Path(name).parts)], files
    code, text = run_cli(["store", "info", "--store", str(store)], capsys, monkeypatch)
    assert code == 0, text


class ChunkVendor:
    """A provider serving 390 flat regular-session bars per requested date; Ctrl-C on the
    ``interrupt_on``-th request (the user pressing it during a long paced download)."""

    name = "fakevendor"
    requires_key: tuple[str, ...] = ("FAKEVENDOR_KEY",)
    adjustment = "raw"

    def __init__(self, interrupt_on: int | None = None) -> None:
        self.calls: list[list[dt.date]] = []
        self.interrupt_on = interrupt_on

    def fetch_bars(self, symbol: str, session_dates: list[dt.date], timeframe: str = "1m") -> pd.DataFrame:
        self.calls.append(list(session_dates))
        if len(self.calls) == self.interrupt_on:
            raise KeyboardInterrupt
        frames = []
        for day in session_dates:
            start = pd.Timestamp.combine(day, dt.time(9, 30)).tz_localize("America/New_York").tz_convert("UTC")
            frames.append(pd.DataFrame({
                "ts": pd.date_range(start, periods=390, freq="1min"), "open": 600.0, "high": 600.5, "low": 599.5,
                "close": 600.0, "volume": 100.0,
            }))
        return pd.concat(frames, ignore_index=True)


def test_ctrl_c_during_a_provider_download_publishes_nothing_and_the_rerun_downloads_only_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store holds synthetic SPY for 2024-06-03..06-14. ``fetch --source polygon`` (a fake
    vendor in its place) of 06-03..07-03 asks for 06-17..06-28, then 07-01..07-03, and Ctrl-C
    lands in the second request: exit 130 with the interrupted line, every store file
    byte-identical (only the hidden download staging holds the June chunk). The rerun
    requests July only and publishes 06-17..07-03: 12 sessions (06-19 is a holiday), 11 x 390
    bars + 210 on 07-03 (a 13:00 close: the vendor's later bars are dropped), all at 600."""
    import vwapcli.data.providers as providers

    store = tmp_path / "store"
    code, text = run_cli(
        ["fetch", "--source", "synthetic", "--symbols", "SPY", "--start", "2024-06-03", "--end", "2024-06-14",
         "--store", str(store)], capsys, monkeypatch,
    )
    assert code == 0, text
    before = snapshot(store)
    monkeypatch.setenv("FAKEVENDOR_KEY", "FAKE-KEY")
    fetch = ["fetch", "--source", "polygon", "--symbols", "SPY", "--start", "2024-06-03", "--end", "2024-07-03",
             "--store", str(store)]

    interrupted = ChunkVendor(interrupt_on=2)
    monkeypatch.setattr(providers, "get_provider", lambda *args, **kwargs: interrupted)
    code, text = run_cli(fetch, capsys, monkeypatch)
    assert code == 130 and "interrupted: nothing half-written was kept" in text, text
    assert [len(call) for call in interrupted.calls] == [9, 3]  # 06-17..06-28 (no 06-19), 07-01..07-03
    after = snapshot(store)
    assert {name: digest for name, digest in after.items() if not name.startswith(".downloads/")} == before
    assert [name for name in after if name.startswith(".downloads/")]

    resumed = ChunkVendor()
    monkeypatch.setattr(providers, "get_provider", lambda *args, **kwargs: resumed)
    code, text = run_cli(fetch, capsys, monkeypatch)
    assert code == 0, text
    assert resumed.calls == [[dt.date(2024, 7, 1), dt.date(2024, 7, 2), dt.date(2024, 7, 3)]]
    from vwapcli.data.store import BarStore

    fetched = BarStore(store).read_bars("SPY", "2024-06-17", "2024-07-03")
    assert len(fetched) == 11 * 390 + 210 and set(fetched["close"]) == {600.0}
    assert symbol_files(snapshot(store), "SPY").keys() == symbol_files(before, "SPY").keys()
    assert not (store / ".downloads").exists() and not (store / ".lock").exists()
