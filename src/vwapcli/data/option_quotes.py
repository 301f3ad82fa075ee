"""The option-quote store (SPEC 7 chain mode): real quotes on disk, read back per day.

Layout (hive-style folders, one file per underlying, expiry and trade date)::

    <root>/options/underlying=SPY/expiry=2024-03-15/date=2024-03-14/part-0.parquet

with columns ``ts`` (timestamp[ns, UTC], quote time), ``strike``, ``right`` ("C"/"P"),
``bid``, ``ask`` and optionally ``bid_size``, ``ask_size``, ``iv``, ``underlying_price``;
the folder names carry underlying, expiry and the New York trade date. A file is the unit
of replacement: writing a day again replaces that day's quotes for that expiry, and one
write publishes all its files or none (``atomic_write_all``).

This is data, like the bar store: providers write it (``vwapcli fetch --option-quotes``)
and the options layer's ``ChainQuoteSource`` reads it through :class:`OptionQuoteStore`;
nothing here prices anything.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vwapcli.atomic_write import atomic_write_all
from vwapcli.core.types import MICROS_PER_DOLLAR, NEW_YORK
from vwapcli.errors import DataValidationError, StoreError

OPTION_QUOTE_COLUMNS = ("ts", "underlying", "expiry", "strike", "right", "bid", "ask")
OPTIONAL_QUOTE_COLUMNS = ("bid_size", "ask_size", "iv", "underlying_price")
# Day files an OptionQuoteStore keeps open: a backtest walks forward through the days.
CACHED_DAY_FILES = 32


def option_quotes_path(
    root: Path | str, underlying: str, expiry: dt.date, trade_date: dt.date
) -> Path:
    """The file that holds one underlying's quotes for one expiry on one trade date."""
    return (
        Path(root)
        / "options"
        / f"underlying={underlying}"
        / f"expiry={expiry.isoformat()}"
        / f"date={trade_date.isoformat()}"
        / "part-0.parquet"
    )


def _fail(source: str, rows: np.ndarray, rule: str) -> None:
    if rows.shape[0]:
        raise DataValidationError(f"{source}: row {int(rows[0])}: {rule}")


def write_option_quotes(
    root: Path | str, df: pd.DataFrame, source: str = "option quotes"
) -> list[Path]:
    """Validate and store option quotes, one atomic file per (underlying, expiry, trade date).

    Every file is staged under a temporary name, then all are renamed into place
    (``atomic_write_all``), so a reader sees the old day or the new day, never half of
    one, and a failed or interrupted write leaves the store as it was; writing the same
    day again replaces it.
    Crossed or locked quotes are stored as they came (they are real data) and rejected
    at lookup time. Returns the files written, in sorted order.
    """
    missing = [c for c in OPTION_QUOTE_COLUMNS if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing column {missing[0]!r} (need {', '.join(OPTION_QUOTE_COLUMNS)})"
        )
    frame = df.reset_index(drop=True)
    ts = frame["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataValidationError(
            f"{source}: column 'ts' must be timezone-aware timestamps (UTC), got {ts.dtype}"
        )
    ts_ns = ts.dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
    right = frame["right"].astype(str).str.strip().str.upper().to_numpy()
    _fail(source, np.flatnonzero(~np.isin(right, ["C", "P"])), "right must be 'C' or 'P'")
    strike = pd.to_numeric(frame["strike"], errors="coerce").to_numpy(dtype=np.float64)
    _fail(
        source,
        np.flatnonzero(~(np.isfinite(strike) & (strike > 0))),
        "strike must be a positive number",
    )
    for column in ("bid", "ask"):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        _fail(
            source,
            np.flatnonzero(~(np.isfinite(values) & (values >= 0))),
            f"{column} must be a finite price >= 0",
        )
    try:
        expiry = pd.to_datetime(frame["expiry"]).dt.date
    except (ValueError, TypeError):
        raise DataValidationError(f"{source}: column 'expiry' must hold dates") from None
    trade_date = ts.dt.tz_convert(NEW_YORK).dt.date
    late = np.flatnonzero((trade_date > expiry).to_numpy())
    _fail(source, late, "quote time is after its expiry date")
    stored = pd.DataFrame(
        {
            "ts": pd.to_datetime(ts_ns, utc=True).as_unit("ns"),
            "strike": strike,
            "right": right,
            "bid": frame["bid"].to_numpy(dtype=np.float64),
            "ask": frame["ask"].to_numpy(dtype=np.float64),
        }
    )
    for column in OPTIONAL_QUOTE_COLUMNS:
        if column in frame.columns:
            stored[column] = pd.to_numeric(frame[column], errors="coerce").to_numpy(
                dtype=np.float64
            )
    keys = pd.DataFrame(
        {
            "underlying": frame["underlying"].astype(str).str.upper(),
            "expiry": expiry,
            "date": trade_date,
        }
    )
    files: list[tuple[Path, partial[None]]] = []
    for (underlying, exp, day), rows in keys.groupby(
        ["underlying", "expiry", "date"], sort=True
    ).groups.items():
        part = stored.loc[np.sort(np.asarray(rows))].sort_values(
            ["ts", "right", "strike"], kind="stable"
        )
        path = option_quotes_path(root, str(underlying), exp, day)
        table = pa.Table.from_pandas(part, preserve_index=False)
        files.append((path, partial(pq.write_table, table)))
    atomic_write_all(files)
    return [path for path, _ in files]


@dataclass(frozen=True)
class DayQuotes:
    """One file's quotes, grouped by (right, strike in micro-dollars), each group time-sorted."""

    ts: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    iv: np.ndarray | None
    groups: dict[tuple[str, int], tuple[int, int]]
    first_ts: dict[tuple[str, int], int]


def read_day_quotes(path: Path) -> DayQuotes:
    """One day file of the store, grouped for as-of look-ups; unreadable -> ``StoreError``."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise StoreError(f"{path}: unreadable option-quote file ({error})") from None
    frame = table.to_pandas()
    ts = frame["ts"].dt.tz_convert("UTC").dt.as_unit("ns").astype("int64").to_numpy()
    strike = np.rint(frame["strike"].to_numpy(dtype=np.float64) * MICROS_PER_DOLLAR).astype(
        np.int64
    )
    right = frame["right"].astype(str).to_numpy()
    is_call = (right == "C").astype(np.int64)
    order = np.lexsort((ts, strike, is_call))  # stable: equal times keep file order
    ts, strike, is_call = ts[order], strike[order], is_call[order]
    key_change = np.flatnonzero((np.diff(strike) != 0) | (np.diff(is_call) != 0)) + 1
    starts = np.concatenate([[0], key_change])
    ends = np.concatenate([key_change, [ts.shape[0]]])
    groups: dict[tuple[str, int], tuple[int, int]] = {}
    first_ts: dict[tuple[str, int], int] = {}
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if a == b:
            continue
        key = ("C" if is_call[a] else "P", int(strike[a]))
        groups[key] = (a, b)
        first_ts[key] = int(ts[a])
    iv = frame["iv"].to_numpy(dtype=np.float64)[order] if "iv" in frame.columns else None
    return DayQuotes(
        ts=ts,
        bid=frame["bid"].to_numpy(dtype=np.float64)[order],
        ask=frame["ask"].to_numpy(dtype=np.float64)[order],
        iv=iv,
        groups=groups,
        first_ts=first_ts,
    )


class OptionQuoteStore:
    """Reads the store one day file at a time, keeping the most recent ones (LRU)."""

    def __init__(self, root: Path | str, cached_files: int = CACHED_DAY_FILES) -> None:
        self.root = Path(root)
        self.cached_files = cached_files
        self._days: OrderedDict[Path, DayQuotes | None] = OrderedDict()

    def day(self, underlying: str, expiry: dt.date, trade_date: dt.date) -> DayQuotes | None:
        """One underlying's quotes for one expiry on one trade date; None when not stored."""
        path = option_quotes_path(self.root, underlying.upper(), expiry, trade_date)
        if path in self._days:
            self._days.move_to_end(path)
            return self._days[path]
        quotes = read_day_quotes(path) if path.is_file() else None
        self._days[path] = quotes
        if len(self._days) > self.cached_files:
            self._days.popitem(last=False)
        return quotes


# --------------------------------------------------------------------------- quote files
def read_quote_file(path: Path | str) -> pd.DataFrame:
    """A quote file a user holds (the layout of ``../shared/data/real/options/*quotes*.parquet``
    or CSV), validated exactly as ``fetch --option-quotes`` validates it: the one reader,
    :func:`vwapcli.data.option_quote_import.read_option_quotes` (one line naming file, row
    and rule; crossed and one-sided quotes dropped and counted there)."""
    from vwapcli.data.option_quote_import import read_option_quotes

    return read_option_quotes(Path(path))[0]
