"""Files written whole or not at all: the one way vwapcli publishes a file.

A reader (a second process, a ``pyarrow.dataset`` scan, the next run) must see the old
file or the new one, never half of one, and an interrupted write must leave no debris
it could mistake for data. So every file goes to a hidden temporary sibling (leading
dot: dataset scans skip it) and is renamed over its final name with ``os.replace``,
which is atomic on POSIX; on any failure, Ctrl-C included, the temporary is removed.

Several files that only make sense together (an import's day files) go through
:func:`atomic_write_all`: every file is staged first, then all are renamed into place,
and a failure while renaming puts the earlier ones back, so the folder ends as it was
or with all of them. An entry whose writer is ``None`` removes its file in the same
publication (a re-fetch that empties a year partition).

What an interrupted process leaves (a hidden ``.NAME.*.tmp`` temporary or ``.NAME.*.old``
copy: SIGKILL skips every cleanup) is never read as data, and
:func:`remove_leftovers` deletes it on the next run; a publication killed half-way
through its renames is completed from its journal (:func:`finish_interrupted_publication`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePosixPath


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
    made: list[Path] = []
    try:
        os.replace(_stage(path, write, created=made.append), path)
    except BaseException:
        for temporary in made:
            temporary.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """:func:`atomic_write` of a byte string."""
    atomic_write(path, lambda temporary: temporary.write_bytes(payload))


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text, newlines written as given."""
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8", newline=""))


def _stage(
    path: Path,
    write: Callable[[Path], object],
    suffix: str = ".tmp",
    created: Callable[[Path], object] | None = None,
) -> Path:
    """A hidden, fully written sibling of ``path`` (removed again if ``write`` fails).

    The temporary is created and handed to ``created`` (the caller's cleanup list) with
    Ctrl-C held, so a SIGINT landing just after the file appears can never strand it.
    """
    temporary: Path | None = None
    try:
        with ctrl_c_deferred():
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
            os.close(handle)
            temporary = Path(name)
            if created is not None:
                created(temporary)
        write(temporary)
        os.chmod(temporary, FILE_MODE)
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise
    return temporary


def _record_staged(staged: list[tuple[Path | None, Path]], path: Path, temporary: Path) -> None:
    """Remember a temporary for ``path`` the moment it exists (cleanup on any failure)."""
    staged.append((temporary, path))


def _keep_copy(path: Path) -> Path:
    """A hidden copy of ``path`` to put back on rollback (a hard link where possible)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent)
    os.close(handle)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _new_folders(folder: Path) -> list[Path]:
    """The folders ``mkdir(parents=True)`` is about to create, outermost first."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


#: A staging temporary or rollback copy made by this module: ``.<name>.<random>.tmp|.old``.
_LEFTOVER = re.compile(r"^\..+\.[A-Za-z0-9_]{6,}\.(?:tmp|old)$")


def remove_leftovers(root: Path) -> list[Path]:
    """Delete the temporaries and rollback copies an interrupted run left under ``root``.

    Both are redundant by construction: a temporary was never published, and a ``.old``
    copy is a second link to a file that was either put back or deliberately replaced.
    Returns the paths removed (sorted).
    """
    root = Path(root)
    if not root.is_dir():
        return []
    removed = sorted(p for p in root.rglob(".*") if p.is_file() and _LEFTOVER.match(p.name))
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def atomic_write_all(
    files: Sequence[tuple[Path, Callable[[Path], object] | None]], journal: Path | None = None
) -> None:
    """Publish several files together, all or none (module docstring).

    Stage: each ``write(temporary)`` fills a hidden sibling of its path (folders created
    as needed). Publish: each temporary replaces its path, the old file kept aside first;
    a ``None`` writer removes its path (kept aside the same way).
    On any failure, Ctrl-C while staging included, files already published are put back
    (or removed when they were new), every temporary and every folder this call created
    is removed, and the exception propagates. A Ctrl-C once everything is staged waits
    for the renames and their cleanup (:func:`ctrl_c_deferred`), then propagates.

    SIGKILL skips all of that. With a ``journal`` path, the list of renames is written
    there (atomically) once everything is staged and removed once all are done, so
    :func:`finish_interrupted_publication` can complete a publication a kill cut short.
    """
    created: list[Path] = []
    staged: list[tuple[Path | None, Path]] = []
    published: list[tuple[Path, Path | None]] = []
    with contextlib.ExitStack() as renaming:
        try:
            for path, write in files:
                path = Path(path)
                if write is None:
                    staged.append((None, path))
                    continue
                created.extend(_new_folders(path.parent))
                path.parent.mkdir(parents=True, exist_ok=True)
                _stage(path, write, created=functools.partial(_record_staged, staged, path))
            # From here on the work is a few renames: Ctrl-C waits for them (and for the
            # cleanup), so it never lands between two of them nor strands a .old copy.
            renaming.enter_context(ctrl_c_deferred())
            if journal is not None:
                _write_journal(journal, staged)
            for temporary, path in staged:
                if temporary is None and not path.exists():
                    continue
                published.append((path, _keep_copy(path) if path.exists() else None))
                if temporary is None:
                    path.unlink()
                else:
                    os.replace(temporary, path)
        except BaseException:
            for path, backup in reversed(published):
                if backup is not None:
                    os.replace(backup, path)
                    # rename() between two links of one file (the failure came before this
                    # path was replaced) does nothing: the backup name is still there.
                    backup.unlink(missing_ok=True)
                else:
                    path.unlink(missing_ok=True)
            for temporary, _ in staged:
                if temporary is not None:
                    temporary.unlink(missing_ok=True)
            for folder in reversed(created):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            if journal is not None:
                journal.unlink(missing_ok=True)
            raise
        if journal is not None:
            journal.unlink(missing_ok=True)
        for _, backup in published:
            if backup is not None:
                backup.unlink(missing_ok=True)


@contextlib.contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block is done, then
    raise it: for short critical sections (a publication's renames) that must finish once
    begun. Only the main thread receives signals; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def _write_journal(journal: Path, staged: Sequence[tuple[Path | None, Path]]) -> None:
    """The renames of one publication, paths relative to the journal's folder."""
    base = journal.parent

    def relative(path: Path | None) -> str | None:
        return None if path is None else os.path.relpath(path, base)

    entries = [[relative(temporary), relative(path)] for temporary, path in staged]
    atomic_write_bytes(journal, json.dumps(entries).encode())


class ForeignJournalError(ValueError):
    """A publication journal this module did not write (the store turns it into one line)."""


def finish_interrupted_publication(journal: Path) -> int:
    """Complete the publication a killed process left in ``journal`` (roll forward).

    The journal exists only between "every file staged" and "every file renamed", so each
    temporary it names is either still there (rename it now) or already published; a
    removal is simply done again. Returns the renames and removals completed.

    The journal is a file in a folder the user controls: an entry that is not one this
    module writes (a path leaving the folder, a temporary not named like a staging file
    beside its target) is refused with :class:`ForeignJournalError` before anything is renamed,
    so a hostile journal can never move or delete a file elsewhere.
    """
    journal = Path(journal)
    if not journal.is_file():
        return 0
    try:
        entries = json.loads(journal.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        entries = []  # written atomically, so never half there; unreadable: nothing to finish
    base = journal.parent
    if not isinstance(entries, list) or not all(_is_journal_entry(entry) for entry in entries):
        raise ForeignJournalError(
            f"{journal}: not a publication journal vwapcli wrote (rule: [[staged temporary or null, "
            "file]] inside this folder); delete it if no fetch was killed while publishing"
        )
    done = 0
    for temporary, path in entries:
        target = base / path
        if temporary is None:
            if target.exists():
                target.unlink()
                done += 1
        elif (base / temporary).is_file():
            os.replace(base / temporary, target)
            done += 1
    journal.unlink()
    return done


def _is_journal_entry(entry: object) -> bool:
    """``[temporary | None, path]`` as ``_write_journal`` writes it: relative paths that stay
    inside the journal's folder, the temporary a staging name beside its target."""
    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str)):
        return False
    temporary, path = entry
    target = PurePosixPath(path)
    if target.is_absolute() or ".." in target.parts or not target.parts:
        return False
    if temporary is None:
        return True
    if not isinstance(temporary, str):
        return False
    staged = PurePosixPath(temporary)
    return (
        staged.parent == target.parent
        and staged.name.startswith(f".{target.name}.")
        and _LEFTOVER.match(staged.name) is not None
        and staged.name.endswith(".tmp")
    )
