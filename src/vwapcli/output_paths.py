"""Where a command may write: every ``--out`` is checked here before any work starts (issue 12).

Three rules, each refused with one :class:`OutputExistsError` line naming the path and the rule:

- nothing is written inside a bar store (the path or any parent holds the store layout),
  so ``signals --out s/bars/.../part-0.parquet`` cannot replace a year of bars and
  ``report RUN --out s/meta.json`` cannot overwrite the store's metadata;
- an existing file is replaced only with ``--force``, except a command's own product in a
  run folder (``report.html`` / ``metrics.json`` of a report, ``compare.*`` of a comparison);
- a run folder's data files (anything beside ``run.json`` that is not the command's own
  product: ``trades.parquet``, ``run.json`` itself, ...) are never replaced, ``--force`` or not.

A fourth check fails early what the system would refuse at the end (``PathAccessError``): a
name too long, a file where a parent folder should be, a folder the user may not write in.

This module sits in layer 2 (it imports only ``errors``), so it cannot ask
``data.store`` what a store is: it recognises the same on-disk layout
(``bars/timeframe=*``, ``iv_index/symbol=*``, ``options/underlying=*``, SPEC 3.1);
``tests/unit/test_output_paths.py`` checks that a store written by ``BarStore`` is recognised.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from pathlib import Path

from vwapcli.errors import OutputExistsError, PathAccessError, short_path

# The store layout (data/store.py, data/option_quotes.py): one of these folders makes a store.
_STORE_MARKERS = ("bars/timeframe=*", "iv_index/symbol=*", "options/underlying=*")
RUN_RECORD = "run.json"  # what makes a folder a run folder (run_folder.py)


def is_bar_store(folder: Path) -> bool:
    """True when ``folder`` holds the bar store's (or option-quote store's) partition layout."""
    try:
        return folder.is_dir() and any(next(folder.glob(marker), None) is not None for marker in _STORE_MARKERS)
    except OSError:  # an unreadable folder is not known to be a store; the write will say why
        return False


def store_holding(path: Path, stores: Iterable[Path] = ()) -> Path | None:
    """The bar store ``path`` lies in (itself or a parent), or None.

    ``stores`` are folders a command reads as stores whatever they hold (its ``--store``).
    """
    resolved = path.resolve()
    for store in stores:
        if resolved.is_relative_to(Path(store).resolve()):
            return Path(store)
    for folder in (resolved, *resolved.parents):
        if is_bar_store(folder):
            return folder
    return None


def _refuse_inside_store(path: Path, option: str, stores: Iterable[Path]) -> None:
    store = store_holding(path, stores)
    if store is not None:
        raise OutputExistsError(
            f"{option} {path}: inside the bar store {store} (rule: nothing is ever written inside a bar store)"
        )


# POSIX file systems (ext4, xfs, apfs, tmpfs) cap one file or folder name at 255 bytes.
NAME_MAX_BYTES = 255


def _refuse_unwritable(path: Path, option: str) -> None:
    """Refuse, before any work, an output the system would refuse at the end: a name longer
    than the file system allows, a file where a parent folder should be, or a folder the
    user may not write in (root passes every permission check, as the kernel lets it)."""
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX_BYTES:
            raise PathAccessError(
                f"{option} {short_path(path)}: file name too long "
                f"(rule: a file or folder name is at most {NAME_MAX_BYTES} bytes)"
            )
    ancestor = path.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise PathAccessError(f"{option} {path}: {ancestor} is a file, not a folder (rule: a folder is expected there)")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise PathAccessError(
            f"{option} {path}: permission denied: cannot write in {ancestor} "
            "(rule: the user running vwapcli needs write permission there)"
        )


def check_output_file(
    path: Path,
    *,
    option: str = "--out",
    force: bool = False,
    own_names: Collection[str] = (),
    stores: Iterable[Path] = (),
) -> None:
    """Refuse a file ``path`` a command is about to write, unless every rule above allows it.

    ``own_names`` are the file names the command itself writes into a run folder (a report's
    ``report.html`` and ``metrics.json``): replacing those there needs no ``--force``.
    """
    _refuse_inside_store(path, option, stores)
    _refuse_unwritable(path, option)
    if path.is_dir():
        raise OutputExistsError(f"{option} {path}: is a folder (rule: {option} names the file to write)")
    in_run_folder = (path.parent / RUN_RECORD).is_file()
    if in_run_folder and path.name in own_names:
        return
    if in_run_folder and path.exists():
        raise OutputExistsError(
            f"{option} {path}: is part of the run folder {path.parent} "
            "(rule: a run folder's data is never replaced, --force or not)"
        )
    if path.exists() and not force:
        raise OutputExistsError(
            f"{option} {path}: already exists (rule: never replace a file unasked; pass --force to replace it)"
        )


def check_output_folder(path: Path, *, option: str = "--out", stores: Iterable[Path] = ()) -> None:
    """Refuse a new folder (run, sweep, validation) ``path`` inside a store or over a file.

    An existing folder is the caller's rule (runs are never overwritten: ``staged_run_dir``).
    """
    _refuse_inside_store(path, option, stores)
    _refuse_unwritable(path, option)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{option} {path}: is a file (rule: {option} names a new folder; no file is replaced)")
