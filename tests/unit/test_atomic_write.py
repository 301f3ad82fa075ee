"""Files are published whole or not at all, with the usual permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vwapcli.atomic_write import (
    FILE_MODE,
    atomic_write,
    atomic_write_all,
    atomic_write_text,
    remove_leftovers,
)


def test_a_write_replaces_the_file_and_leaves_no_temporary_behind(tmp_path: Path) -> None:
    target = tmp_path / "folder" / "table.csv"
    atomic_write_text(target, "a\n")
    atomic_write_text(target, "b\n")
    assert target.read_text() == "b\n"
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    atomic_write_text(target, "old\n")

    def half_then_fail(temporary: Path) -> None:
        temporary.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_published_files_get_the_umask_mode_not_the_private_temporary_mode(tmp_path: Path) -> None:
    """mkstemp makes 0600 files; a published file is 0666 minus the umask (e.g. 0644)."""
    target = tmp_path / "x.txt"
    atomic_write_text(target, "x")
    assert os.stat(target).st_mode & 0o777 == FILE_MODE


def test_several_files_are_published_together(tmp_path: Path) -> None:
    old = tmp_path / "a" / "x.txt"
    atomic_write_text(old, "old\n")
    new = tmp_path / "b" / "c" / "y.txt"
    atomic_write_all([
        (old, lambda t: t.write_text("new\n")),
        (new, lambda t: t.write_text("y\n")),
    ])
    assert (old.read_text(), new.read_text()) == ("new\n", "y\n")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["x.txt", "y.txt"]


def test_a_failure_while_staging_publishes_nothing_and_removes_new_folders(tmp_path: Path) -> None:
    old = tmp_path / "a" / "x.txt"
    atomic_write_text(old, "old\n")

    def fail(temporary: Path) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write_all([(old, lambda t: t.write_text("new\n")), (tmp_path / "b" / "c" / "y.txt", fail)])
    assert old.read_text() == "old\n"
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["a", "a/x.txt"]


def test_a_failure_while_renaming_puts_the_published_files_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second rename fails (as Ctrl-C there would): the first file, already replaced,
    gets its old content back and the new third file never appears."""
    first, second, third = tmp_path / "1.txt", tmp_path / "2.txt", tmp_path / "3.txt"
    atomic_write_text(first, "old 1\n")
    atomic_write_text(second, "old 2\n")
    real_replace = os.replace
    calls: list[str] = []

    def replace_then_interrupt(source: str | Path, target: str | Path) -> None:
        calls.append(Path(target).name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_all([(p, lambda t, p=p: t.write_text(f"new {p.name}\n")) for p in (first, second, third)])
    monkeypatch.undo()
    assert (first.read_text(), second.read_text()) == ("old 1\n", "old 2\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.txt", "2.txt"]


def test_a_none_writer_removes_its_file_in_the_same_publication(tmp_path: Path) -> None:
    emptied, kept = tmp_path / "2023.txt", tmp_path / "meta.txt"
    atomic_write_text(emptied, "old year\n")
    atomic_write_all([(emptied, None), (kept, lambda t: t.write_text("meta\n")), (tmp_path / "absent.txt", None)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["meta.txt"]


def test_a_writer_failing_while_staging_leaves_a_file_to_remove_in_place(tmp_path: Path) -> None:
    """Every file is staged before any is published, so a failing writer means the
    removal never happened: the old file is still there, no temporary is."""
    emptied = tmp_path / "2023.txt"
    atomic_write_text(emptied, "old year\n")

    def fail(temporary: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write_all([(emptied, None), (tmp_path / "meta.txt", fail)])
    assert emptied.read_text() == "old year\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023.txt"]


def test_a_removal_is_undone_when_a_later_rename_is_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emptied, meta = tmp_path / "2023.txt", tmp_path / "meta.txt"
    atomic_write_text(emptied, "old year\n")
    atomic_write_text(meta, "old meta\n")
    real_replace = os.replace

    def interrupt_meta(source: str | Path, target: str | Path) -> None:
        if Path(target) == meta and Path(source).suffix == ".tmp":
            raise KeyboardInterrupt
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", interrupt_meta)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_all([(emptied, None), (meta, lambda t: t.write_text("new meta\n"))])
    monkeypatch.undo()
    assert (emptied.read_text(), meta.read_text()) == ("old year\n", "old meta\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023.txt", "meta.txt"]


def test_leftover_temporaries_and_rollback_copies_are_removed_and_data_files_kept(tmp_path: Path) -> None:
    folder = tmp_path / "bars" / "year=2024"
    folder.mkdir(parents=True)
    data = [folder / "part-0.parquet", tmp_path / "meta.json", tmp_path / ".hidden-user-file"]
    debris = [folder / ".part-0.parquet.abcd1234.tmp", folder / ".part-0.parquet.x_y_z_12.old", tmp_path / ".meta.json.q9w8e7r6.tmp"]
    for path in data + debris:
        path.write_text("x")
    assert remove_leftovers(tmp_path) == sorted(debris)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(data)


def test_ctrl_c_inside_a_deferred_block_is_raised_only_when_the_block_is_done() -> None:
    import os
    import signal

    from vwapcli.atomic_write import ctrl_c_deferred

    finished = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        finished.append("renames done")
    assert finished == ["renames done"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(
    "entries",
    [
        [[None, "../victim.txt"]],
        [[".victim.txt.abcdef12.tmp", "../victim.txt"]],
        [["../.victim.txt.abcdef12.tmp", "victim.txt"]],
        [[None, "/tmp/victim.txt"]],
        [["elsewhere.bin", "victim.txt"]],
        {"not": "a list"},
        [[1, 2]],
    ],
    ids=["remove-outside", "rename-outside", "temporary-outside", "absolute", "not-a-staging-name", "object", "numbers"],
)
def test_a_journal_it_did_not_write_is_refused_and_nothing_is_moved_or_removed(tmp_path: Path, entries: object) -> None:
    """A hostile ``.publishing.json`` must never reach a file outside the store."""
    import json

    from vwapcli.atomic_write import ForeignJournalError, finish_interrupted_publication

    store = tmp_path / "store"
    store.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (store / ".victim.txt.abcdef12.tmp").write_text("staged")
    (store / "elsewhere.bin").write_text("other")
    journal = store / ".publishing.json"
    journal.write_text(json.dumps(entries))
    with pytest.raises(ForeignJournalError, match="not a publication journal"):
        finish_interrupted_publication(journal)
    assert victim.read_text() == "keep me"
    assert journal.exists() and (store / "elsewhere.bin").read_text() == "other"


def test_a_journal_it_wrote_is_rolled_forward(tmp_path: Path) -> None:
    import json

    from vwapcli.atomic_write import finish_interrupted_publication

    folder = tmp_path / "bars" / "year=2024"
    folder.mkdir(parents=True)
    (folder / "part-0.parquet").write_text("old")
    (folder / ".part-0.parquet.abcdef12.tmp").write_text("new")
    (tmp_path / "gone.json").write_text("x")
    journal = tmp_path / ".publishing.json"
    journal.write_text(json.dumps([["bars/year=2024/.part-0.parquet.abcdef12.tmp", "bars/year=2024/part-0.parquet"],
                                   [None, "gone.json"]]))
    assert finish_interrupted_publication(journal) == 2
    assert (folder / "part-0.parquet").read_text() == "new"
    assert not (tmp_path / "gone.json").exists() and not journal.exists()


@pytest.mark.parametrize("publish", ["one", "all"])
def test_a_ctrl_c_landing_just_after_the_temporary_appears_leaves_no_temporary(
    publish: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CI race of the fetch SIGINT test, made certain: a real SIGINT is delivered the
    moment ``mkstemp`` has created the file (before the caller could record it for cleanup).
    Ctrl-C must still propagate, the target keep its old bytes, and no hidden file remain."""
    import os
    import signal
    import tempfile

    import vwapcli.atomic_write as module

    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    real_mkstemp = tempfile.mkstemp

    def mkstemp_then_ctrl_c(*args: object, **kwargs: object) -> tuple[int, str]:
        made = real_mkstemp(*args, **kwargs)  # type: ignore[call-overload]
        os.kill(os.getpid(), signal.SIGINT)
        return made

    monkeypatch.setattr(module.tempfile, "mkstemp", mkstemp_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        if publish == "one":
            module.atomic_write_bytes(target, b"new")
        else:
            module.atomic_write_all([(target, lambda p: p.write_bytes(b"new"))])
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]
