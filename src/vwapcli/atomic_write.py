"""Files written whole or not at all: the one way vwapcli publishes a file.

A reader (a second process, a ``pyarrow.dataset`` scan, the next run) must see the old
file or the new one, never half of one, and an interrupted write must leave no debris
it could mistake for data. So every file goes to a hidden temporary sibling (leading
dot: dataset scans skip it) and is renamed over its final name with ``os.replace``,
which is atomic on POSIX; on any failure, Ctrl-C included, the temporary is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates 0600 files; a published file gets the usual umask-derived mode.
FILE_MODE = 0o666 & ~_current_umask()


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Publish ``path`` atomically: ``write(temporary)`` fills a temporary file in the
    same folder (created empty), which then replaces ``path``. Creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """:func:`atomic_write` of a byte string."""
    atomic_write(path, lambda temporary: temporary.write_bytes(payload))


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text, newlines written as given."""
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8", newline=""))
