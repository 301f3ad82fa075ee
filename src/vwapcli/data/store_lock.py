"""One writer per bar store at a time: ``<store>/.lock`` (issue 12, item 2).

Two fetches into one store would interleave their publications and their
``.publishing.json`` journals (each run's recovery could roll the other's half-finished
renames forward), so a fetch holds an exclusive ``flock`` on ``<store>/.lock`` from its
first check to its last rename. The lock is non-blocking: a second writer is refused at
once in one line naming the holder's pid, rather than waiting behind a download that may
take hours. Readers never take it: the store they read is always whole per symbol, and
an unfinished publication is refused by the read itself (``BarStore``).

The kernel drops a ``flock`` when its holder dies, SIGKILL included, so a stale ``.lock``
file left by a killed run locks nothing; the next writer takes it over and removes it
when done. Removing a lock file is racy in general (a waiter may hold a lock on the
removed file while a third process creates a new one), so after locking, the holder
checks that the path still names the file it locked, and starts over if not.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vwapcli.errors import StoreError

LOCK_NAME = ".lock"


@contextmanager
def store_write_lock(root: Path) -> Iterator[Path]:
    """Hold the store's write lock for the ``with`` block (creates the store folder, and
    removes it again when it was created here and is still empty).

    Raises :class:`StoreError` at once when another process holds it. The lock file holds
    the writer's pid while it writes and is removed on the way out.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise StoreError(f"{root}: the store path is a file (rule: a bar store is a folder)")
    created = not root.exists()
    path = root / LOCK_NAME
    while True:
        try:
            root.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StoreError(f"{root}: cannot lock the store for writing ({error.strerror or error})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise StoreError(
                f"store {root} is being written by another vwapcli ({_holder(path)}); "
                "wait for it to finish, then run this again"
            ) from None
        except BaseException:
            os.close(descriptor)
            raise
        if _names_same_file(path, descriptor):
            break
        os.close(descriptor)  # the previous holder removed this file as we locked it: retry
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield path
    finally:
        path.unlink(missing_ok=True)
        os.close(descriptor)
        if created and root.is_dir() and not any(root.iterdir()):
            root.rmdir()  # a failed first fetch leaves no empty store behind


def _names_same_file(path: Path, descriptor: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(descriptor).st_ino
    except FileNotFoundError:
        return False


def _holder(path: Path) -> str:
    """``pid N`` from the lock file (empty while the holder is still writing it)."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "pid unknown"
