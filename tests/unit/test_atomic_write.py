"""Files are published whole or not at all, with the usual permissions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vwapcli.atomic_write import FILE_MODE, atomic_write, atomic_write_text


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
