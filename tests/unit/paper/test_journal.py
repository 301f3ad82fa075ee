"""The paper journal: one fsynced JSON line per record; a torn last line (a crash mid-write)
is dropped on read and cut off before the next append; an edited middle line is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vwapcli.errors import RunFolderExistsError
from vwapcli.paper.journal import Journal, read_journal


def test_records_are_numbered_lines_and_each_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.append("header", {"symbols": ["SPY"]})
        journal.append("bars", {"t": 1})
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"seq": 0, "kind": "header", "symbols": ["SPY"]}, {"seq": 1, "kind": "bars", "t": 1},
    ]
    assert len(synced) == 2  # one fsync per record


def test_a_torn_last_line_is_ignored_and_truncated_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal(path) as journal:
        journal.append("header", {})
        journal.append("bars", {"t": 1})
    intact = path.read_bytes()
    path.write_bytes(intact + b'{"seq":2,"kind":"ba')  # SIGKILL in the middle of a write
    contents = read_journal(path)
    assert [r["seq"] for r in contents.records] == [0, 1]
    assert contents.intact_bytes == len(intact) and contents.torn_bytes == len(b'{"seq":2,"kind":"ba')
    journal, records = Journal.open(path)
    with journal:
        assert len(records) == 2 and journal.next_seq == 2
        journal.append("bars", {"t": 2})
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [0, 1, 2]


def test_a_bad_line_before_the_last_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b'{"seq":0,"kind":"header"}\nnot json\n{"seq":2,"kind":"end"}\n')
    with pytest.raises(RunFolderExistsError, match="line 2"):
        read_journal(path)
