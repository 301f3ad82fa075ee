"""The trial ledger: every configuration ever tried on a data set, appended across sweeps.

Why keep it: the best of many backtests looks better than it is. Knowing how many
configurations were tried on the same data (and how their Sharpes spread) is what the
deflated Sharpe ratio needs to tell skill from selection.

One row per trial at ``<sweeps root>/trials/ledger.parquet`` (``reports/`` by default; never in the store). A trial is identified by
``trial_key`` = sha256(config hash, data fingerprint, code version, window): re-running
the same sweep on the same data with the same code adds nothing (idempotent), while a new
code version or window is a new trial. Appends are atomic (temp file + rename) and
serialised by an advisory lock, so concurrent sweeps never lose each other's rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vwapcli import __version__
from vwapcli.atomic_write import atomic_write
from vwapcli.errors import StoreError

LEDGER_COLUMNS = [
    "trial_key", "config_hash", "data_fingerprint", "code_version", "sweep_id", "timestamp",
    "window_start", "window_end", "params", "config",
    "trades", "win_rate", "profit_factor", "max_drawdown_pct", "sharpe", "total_pnl", "verdict",
    "sharpe_daily", "skew", "kurtosis", "n_returns",
]
_STRING_COLUMNS = {
    "trial_key", "config_hash", "data_fingerprint", "code_version", "sweep_id", "timestamp",
    "window_start", "window_end", "params", "config", "verdict",
}
_INT_COLUMNS = {"trades", "n_returns"}
_SCHEMA = pa.schema([
    pa.field(
        name,
        pa.string() if name in _STRING_COLUMNS else pa.int64() if name in _INT_COLUMNS else pa.float64(),
    )
    for name in LEDGER_COLUMNS
])


def ledger_path(sweeps_root: Path) -> Path:
    """Where the ledger lives: ``<sweeps root>/trials/ledger.parquet``, beside the sweep
    folders it describes (``reports/`` by default; the parent of ``--out`` otherwise).

    Never inside the bar store (issue 12 item 1: a command writes nothing into the data it
    reads). Trials are keyed by the data's fingerprint, so one ledger serves many stores;
    sweeps written under another root keep a ledger of their own there.
    """
    return Path(sweeps_root) / "trials" / "ledger.parquet"


def code_version() -> str:
    """``vwapcli <version>`` plus the git commit of the checkout when there is one."""
    root = Path(__file__).resolve().parents[3]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return f"vwapcli {__version__}"
    commit = done.stdout.strip()
    if done.returncode != 0 or not commit:
        return f"vwapcli {__version__}"
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True, timeout=5, check=False,
    ).stdout.strip()
    return f"vwapcli {__version__} git {commit}{'-dirty' if dirty else ''}"


def trial_key(config_hash: str, data_fingerprint: str, version: str, window_start: str, window_end: str) -> str:
    """Identity of one trial: same config, data, code and window -> same key."""
    text = "\x1f".join([config_hash, data_fingerprint, version, window_start, window_end])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def empty_ledger() -> pd.DataFrame:
    """A ledger with no rows and the full column set."""
    return _SCHEMA.empty_table().to_pandas()


def read_ledger(path: Path) -> pd.DataFrame:
    """All trials so far (an empty frame when the ledger does not exist yet)."""
    if not path.exists():
        return empty_ledger()
    try:
        return pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowInvalid) as error:
        raise StoreError(f"{path}: unreadable trial ledger ({error})") from None


@dataclass(frozen=True)
class AppendResult:
    added: int
    already_present: int
    total_rows: int


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # An advisory lock beside the ledger serialises read-modify-write across processes.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _normalise(rows: pd.DataFrame) -> pa.Table:
    missing = [c for c in LEDGER_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"ledger rows lack columns {missing}")
    frame = rows[LEDGER_COLUMNS].copy()
    for name in LEDGER_COLUMNS:
        if name in _STRING_COLUMNS:
            frame[name] = frame[name].astype(str)
        elif name in _INT_COLUMNS:
            frame[name] = frame[name].astype(np.int64)
        else:
            frame[name] = frame[name].astype(np.float64)
    return pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)


def append_trials(path: Path, rows: pd.DataFrame) -> AppendResult:
    """Append trials whose ``trial_key`` is new; existing keys are left as they were.

    The new file is written beside the old one and renamed over it, so a reader (or a
    crash) only ever sees the old ledger or the complete new one.
    """
    with _locked(path):
        existing = pq.read_table(path, schema=_SCHEMA) if path.exists() else _SCHEMA.empty_table()
        known = set(existing.column("trial_key").to_pylist())
        fresh = rows.drop_duplicates("trial_key", keep="first")
        fresh = fresh[~fresh["trial_key"].isin(known)]
        skipped = len(rows) - len(fresh)
        if fresh.empty:
            return AppendResult(0, skipped, existing.num_rows)
        combined = pa.concat_tables([existing, _normalise(fresh)])
        atomic_write(path, lambda temporary: pq.write_table(combined, temporary, compression="zstd"))
        return AppendResult(len(fresh), skipped, combined.num_rows)


def now_utc() -> str:
    """ISO-8601 UTC timestamp of a trial's recording."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DataTrials:
    """The ledger seen from one data set: what the deflated Sharpe needs."""

    configurations: int  # distinct config hashes ever tried on this data
    trial_rows: int  # ledger rows on this data (windows and code versions included)
    sharpe_daily: np.ndarray  # latest per-period Sharpe of each configuration (NaN dropped)


def trials_on_data(ledger: pd.DataFrame, data_fingerprint: str) -> DataTrials:
    """Distinct configurations tried on ``data_fingerprint`` and their latest daily Sharpes.

    Each configuration counts once, however many times or windows it was run: the N of the
    deflated Sharpe is the number of *different* things tried on this data.
    """
    mine = ledger[ledger["data_fingerprint"] == data_fingerprint]
    if mine.empty:
        return DataTrials(0, 0, np.array([], dtype=float))
    latest = mine.sort_values("timestamp", kind="stable").drop_duplicates("config_hash", keep="last")
    sharpes = latest["sharpe_daily"].to_numpy(dtype=float)
    return DataTrials(
        configurations=int(latest.shape[0]),
        trial_rows=int(mine.shape[0]),
        sharpe_daily=sharpes[~np.isnan(sharpes)],
    )
