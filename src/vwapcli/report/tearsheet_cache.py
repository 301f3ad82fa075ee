"""quantstats' tearsheet, kept once drawn: a content-addressed cache (issue 17).

The tearsheet is a pure function of the daily returns, the benchmark's, the title and the
libraries that draw it, and drawing it (about 3 s of CPU, plus 1 s to import quantstats)
is most of a report's time. So the finished page is kept under
``<cache dir>/tearsheets/<key>.html``, the key a SHA-256 over exactly those inputs (every
return's bytes, the dates, the names, the versions of quantstats, matplotlib, pandas and
numpy, and :data:`TEARSHEET_FORMAT`); a second report of the same returns reads it back
without importing quantstats. Any change of one return, one date or one library version
is another key, hence a fresh drawing. An entry carries the digest of its own text: one
that fails it (a torn or edited file) is ignored and drawn again, never shown.

The cache folder is :func:`vwapcli.cache_dir.user_cache_dir` (``VWAPCLI_CACHE_DIR=""``
turns it off). Standard library, numpy and pandas only: no quantstats import here.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from vwapcli.atomic_write import atomic_write_text
from vwapcli.cache_dir import user_cache_dir

log = logging.getLogger(__name__)

#: Bump when what vwapcli does to quantstats' page changes (its options, the cleaning,
#: the backend): every earlier entry then misses.
TEARSHEET_FORMAT = "vwapcli-tearsheet-1 qs.reports.html figfmt=png backend=quiet_agg clean=strip-external"
#: Libraries whose version changes the page's bytes.
DRAWING_LIBRARIES = ("quantstats", "matplotlib", "pandas", "numpy")
#: Entries kept; the least recently used beyond this are deleted (each about 0.8 MB).
KEEP_ENTRIES = 32
_HEADER = "<!-- vwapcli tearsheet sha256={} -->\n"


def library_version(name: str) -> str:
    """An installed distribution's version, without importing it ("absent" if missing)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _add_series(digest: hashlib._Hash, series: pd.Series | None) -> None:
    """Feed one series to the digest: its name, dates and values, each length-prefixed."""
    if series is None:
        digest.update(b"none;")
        return
    dates = pd.DatetimeIndex(series.index)
    if dates.tz is not None:
        dates = dates.tz_convert("UTC")
    parts = (
        str(series.name).encode(),
        str(dates.tz).encode(),
        np.ascontiguousarray(dates.asi8, dtype="<i8").tobytes(),
        np.ascontiguousarray(series.to_numpy(dtype=float), dtype="<f8").tobytes(),
    )
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)


def tearsheet_key(returns: pd.Series, benchmark: pd.Series | None, title: str) -> str:
    """The SHA-256 (hex) naming the tearsheet of these inputs drawn by these libraries."""
    digest = hashlib.sha256()
    versions = ";".join(f"{name}={library_version(name)}" for name in DRAWING_LIBRARIES)
    for text in (TEARSHEET_FORMAT, versions, title):
        encoded = text.encode()
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    _add_series(digest, returns)
    _add_series(digest, benchmark)
    return digest.hexdigest()


class TearsheetCache:
    """Finished tearsheets by key, in one folder; a bad or missing entry reads as a miss.

    ``suffix`` names the entries' files: the report's own charts keep their base64 PNG text
    the same way (``report.charts``, ``<cache dir>/charts/<key>.b64``).
    """

    def __init__(self, folder: Path, suffix: str = ".html") -> None:
        self.folder = folder
        self.suffix = suffix

    @classmethod
    def default(cls) -> TearsheetCache | None:
        """The user's cache (``<cache dir>/tearsheets``), or None when caching is off."""
        folder = user_cache_dir()
        return None if folder is None else cls(folder / "tearsheets")

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{self.suffix}"

    def read(self, key: str) -> str | None:
        """The page stored under ``key`` if present and intact, else None (then redraw)."""
        path = self.path(key)
        try:
            stored = path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            log.info("tearsheet cache entry %s unreadable (%s): drawing it again", path, error)
            return None
        header, _, text = stored.partition("\n")
        if header + "\n" != _HEADER.format(_sha256(text)):
            log.info("tearsheet cache entry %s is damaged (digest mismatch): drawing it again", path)
            return None
        with contextlib.suppress(OSError):  # mark it used, for the pruning in write()
            os.utime(path)
        return text

    def write(self, key: str, text: str) -> None:
        """Store a page (atomically) and prune old entries; a failure only costs speed."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path(key), _HEADER.format(_sha256(text)) + text)
            self._prune()
        except OSError as error:
            log.info("tearsheet not cached in %s (%s)", self.folder, error)

    def _prune(self) -> None:
        entries = sorted(self.folder.glob(f"*{self.suffix}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP_ENTRIES:]:
            old.unlink(missing_ok=True)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
