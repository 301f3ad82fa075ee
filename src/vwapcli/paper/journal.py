"""The paper journal: append-only JSON lines, fsynced after every record (SPEC 12).

Every record is one line ``{"seq": n, "kind": ..., ...}``; the first is the ``header``
(config hash, symbols, source). A line is written with one ``write`` and fsynced before
the loop goes on, so after a crash (SIGKILL included) the file holds every record the
loop acted on, plus at most one torn last line, which :func:`read_journal` drops and
:meth:`Journal.open` truncates before appending again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vwapcli.errors import RunFolderExistsError

JOURNAL_FILE = "journal.jsonl"


@dataclass(frozen=True)
class JournalContents:
    """The intact records of a journal and the byte length they occupy."""

    records: list[dict[str, Any]]
    intact_bytes: int
    torn_bytes: int


def read_journal(path: Path) -> JournalContents:
    """Every complete record; a last line without its newline (or not JSON) is torn.

    Only the LAST line may be torn (a crash mid-write); a bad line before it means the
    file was edited, which is refused in one line.
    """
    data = path.read_bytes()
    records: list[dict[str, Any]] = []
    offset = 0
    lines = data.split(b"\n")
    for n, line in enumerate(lines):
        last = n == len(lines) - 1
        if last:  # after the final newline: empty, or a torn record
            break
        try:
            record = json.loads(line)
        except ValueError:
            if n == len(lines) - 2 and not lines[-1]:
                break  # a torn last line that happens to end in a newline byte
            raise RunFolderExistsError(
                f"{path}: line {n + 1} is not a journal record (rule: the journal is append-only; do not edit it)"
            ) from None
        records.append(record)
        offset += len(line) + 1
    return JournalContents(records, offset, len(data) - offset)


class Journal:
    """An open journal: :meth:`append` writes one record and fsyncs it."""

    def __init__(self, path: Path, next_seq: int = 0) -> None:
        self.path = path
        self.next_seq = next_seq
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.bytes_written = 0

    @classmethod
    def open(cls, path: Path) -> tuple[Journal, list[dict[str, Any]]]:
        """Open ``path`` for appending after its intact records (a torn tail is cut off)."""
        contents = read_journal(path) if path.exists() else JournalContents([], 0, 0)
        if contents.torn_bytes:
            os.truncate(path, contents.intact_bytes)
        return cls(path, next_seq=len(contents.records)), contents.records

    def append(self, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``{"seq", "kind", **payload}`` as one line and fsync it; return the record."""
        record = {"seq": self.next_seq, "kind": kind, **payload}
        line = (json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=True) + "\n").encode()
        os.write(self._fd, line)
        os.fsync(self._fd)
        self.next_seq += 1
        self.bytes_written += len(line)
        return record

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
