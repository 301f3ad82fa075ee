"""The Parquet bar store (SPEC 3.1): ingest once, run many times from it.

Layout (hive partitions, read with ``pyarrow.dataset``)::

    <store>/bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet   ts, open, high, low, close, volume
    <store>/iv_index/symbol=SPY/part-0.parquet                      session_date, iv_index
    <store>/meta.json                                               provenance per symbol

``year`` is the New York calendar year of the bar start, so a session never straddles two
files and a date filter maps exactly onto year partitions: a read of 2024 never opens
the 2023 file. Every write goes to a temp file in the target folder and is moved into
place with ``os.replace`` (atomic on POSIX), and replaces exactly the New York dates it
covers, so re-fetching a range never duplicates a bar. Every read validates the file it
read (SPEC 3.3), so an error names that file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from vwapcli.atomic_write import (
    ForeignJournalError,
    atomic_write,
    atomic_write_all,
    finish_interrupted_publication,
    remove_leftovers,
)
from vwapcli.core.types import TIMEFRAME_NS, local_time_ns
from vwapcli.data.sessions import DateLike, as_date, new_york_dates, utc_ns
from vwapcli.data.validation import (
    BarArrays,
    read_bar_file,
    read_parquet_file,
    scan_bar_files,
    validate_bars,
)
from vwapcli.errors import DataValidationError, StoreError

BAR_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns", tz="UTC")),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
    ]
)
IV_SCHEMA = pa.schema([("session_date", pa.date32()), ("iv_index", pa.float64())])
_YEAR_PARTITIONING = ds.partitioning(pa.schema([("year", pa.int32())]), flavor="hive")
_PART_FILE = "part-0.parquet"
_SYMBOL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9.\-^]*$")
_TIMEFRAME_PATTERN = re.compile(r"^[1-9][0-9]*[mhd]$")
UNKNOWN_PROVENANCE = "unknown"


def normalize_symbol(symbol: str) -> str:
    """Upper-case ticker; rejects names that cannot be a partition folder."""
    cleaned = symbol.strip().upper()
    if not _SYMBOL_PATTERN.match(cleaned):
        raise StoreError(f"invalid symbol {symbol!r} (rule: letters, digits, '.', '-', '^')")
    return cleaned


def atomic_write_table(table: pa.Table, path: Path) -> None:
    """Write a Parquet file atomically (zstd); a crash leaves the old file or the new one."""
    atomic_write(path, _table_writer(table))


def _table_writer(table: pa.Table) -> Callable[[Path], object]:
    """Writes ``table`` as zstd Parquet to the path it is given (a staging temporary)."""
    return lambda temporary: pq.write_table(table, temporary, compression="zstd")


def _parquet_writer(frame: pd.DataFrame) -> Callable[[Path], object]:
    return _table_writer(bars_table(frame))


def fetchable_timeframe_ns(timeframe: str) -> int:
    """Bar length of a timeframe a fetch may write (SPEC 3.1: 1m, 5m); anything else is
    refused in one line before a file is read or written."""
    if timeframe not in TIMEFRAME_NS:
        raise StoreError(f"unknown timeframe {timeframe!r} (rule: one of {', '.join(TIMEFRAME_NS)})")
    return TIMEFRAME_NS[timeframe]


def _add_provenance(meta: dict[str, Any], symbol: str, key: tuple[str, ...], provenance: str, replaced_all: bool) -> None:
    """Record in ``meta`` (in memory) that ``provenance`` now supplies ``key`` of ``symbol``."""
    node = meta["symbols"].setdefault(symbol, {})
    for part in key[:-1]:
        node = node.setdefault(part, {})
    sources = [] if replaced_all else list(node.get(key[-1], []))
    if provenance not in sources:
        sources.append(provenance)
    node[key[-1]] = sources


def _misshapen_meta_entry(symbols: dict[str, Any]) -> str | None:
    """The first ``meta.json`` node not of the shape the store writes, or None: a hand-edited
    or foreign file is refused in one line instead of failing deep in a read (issue 12)."""

    def is_sources(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)

    for symbol, entry in symbols.items():
        if not isinstance(entry, dict):
            return f"symbols.{symbol}"
        bars = entry.get("bars", {})
        if not isinstance(bars, dict):
            return f"symbols.{symbol}.bars"
        for timeframe, sources in bars.items():
            if not is_sources(sources):
                return f"symbols.{symbol}.bars.{timeframe}"
        if not is_sources(entry.get("iv_index", [])):
            return f"symbols.{symbol}.iv_index"
    return None


def bars_table(df: pd.DataFrame) -> pa.Table:
    """Validated bars as an Arrow table with exactly the SPEC 3.1 schema (no pandas metadata)."""
    ts = df["ts"].dt.tz_convert("UTC").dt.as_unit("ns")
    arrays = [pa.array(ts, type=BAR_SCHEMA.field("ts").type)]
    arrays += [pa.array(df[name].to_numpy(dtype=np.float64), type=pa.float64()) for name in BAR_SCHEMA.names[1:]]
    return pa.Table.from_arrays(arrays, schema=BAR_SCHEMA)


def empty_bars() -> pd.DataFrame:
    """A bar frame with the store's columns and dtypes and no rows."""
    columns: dict[str, pd.Series] = {"ts": pd.Series(dtype="datetime64[ns, UTC]")}
    columns |= {name: pd.Series(dtype="float64") for name in BAR_SCHEMA.names[1:]}
    return pd.DataFrame(columns)


def _day_bounds_ns(start: DateLike | None, end: DateLike | None) -> tuple[int, int]:
    """UTC ns window [New York midnight of start, New York midnight after end)."""
    lo = local_time_ns(as_date(start), dt.time(0)) if start is not None else np.iinfo(np.int64).min
    if end is None:
        return lo, np.iinfo(np.int64).max
    hi = local_time_ns(as_date(end) + dt.timedelta(days=1), dt.time(0))
    return lo, hi


def _ts_ns(df: pd.DataFrame) -> np.ndarray:
    return utc_ns(df["ts"])


@dataclass(frozen=True)
class WriteResult:
    """What one ``write_bars`` call did: rows written, rows dropped by --repair, files touched."""

    rows: int
    dropped: int
    files: tuple[Path, ...]
    first: pd.Timestamp | None
    last: pd.Timestamp | None


class BarStore:
    """A folder of hive-partitioned Parquet bars plus a daily IV-index series per symbol."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.bars_root = self.root / "bars"
        self.iv_root = self.root / "iv_index"
        self.meta_path = self.root / "meta.json"
        # Present only while a publication renames its files (atomic_write_all).
        self.journal_path = self.root / ".publishing.json"

    def __repr__(self) -> str:
        return f"BarStore({str(self.root)!r})"

    # ----- layout -------------------------------------------------------------------
    def symbol_dir(self, symbol: str, timeframe: str = "1m") -> Path:
        if not _TIMEFRAME_PATTERN.match(timeframe):
            raise StoreError(f"invalid timeframe {timeframe!r} (rule: a number and m, h or d, e.g. 1m, 5m, 1d)")
        return self.bars_root / f"timeframe={timeframe}" / f"symbol={normalize_symbol(symbol)}"

    def partition_path(self, symbol: str, timeframe: str, year: int) -> Path:
        return self.symbol_dir(symbol, timeframe) / f"year={year}" / _PART_FILE

    def iv_path(self, symbol: str) -> Path:
        return self.iv_root / f"symbol={normalize_symbol(symbol)}" / _PART_FILE

    def bar_files(
        self,
        symbol: str,
        timeframe: str = "1m",
        start: DateLike | None = None,
        end: DateLike | None = None,
    ) -> list[Path]:
        """The files a read of [start, end] touches: partition pruning on ``year``, no file opened."""
        folder = self.symbol_dir(symbol, timeframe)
        if not folder.is_dir():
            return []
        for odd in folder.glob("year=*/*.parquet"):
            if not odd.is_file():  # a scan would skip it: that year would vanish without a word
                raise DataValidationError(f"{odd}: not a file (rule: a year partition holds Parquet files)")
        # An explicit schema stops dataset discovery from opening (inspecting) any file.
        dataset = ds.dataset(
            folder,
            format="parquet",
            partitioning=_YEAR_PARTITIONING,
            schema=BAR_SCHEMA.append(pa.field("year", pa.int32())),
        )
        year_filter = None
        if start is not None:
            year_filter = ds.field("year") >= as_date(start).year
        if end is not None:
            upper = ds.field("year") <= as_date(end).year
            year_filter = upper if year_filter is None else year_filter & upper
        fragments = dataset.get_fragments(filter=year_filter) if year_filter is not None else dataset.get_fragments()
        return sorted(Path(fragment.path) for fragment in fragments)

    def symbols(self, timeframe: str = "1m") -> list[str]:
        """Symbols with at least one bar file in ``timeframe``."""
        folder = self.bars_root / f"timeframe={timeframe}"
        if not folder.is_dir():
            return []
        found = []
        for child in sorted(folder.glob("symbol=*")):
            if any(child.glob(f"year=*/{_PART_FILE}")):
                found.append(child.name.removeprefix("symbol="))
        return found

    def timeframes(self) -> list[str]:
        """Timeframes with at least one bar file."""
        if not self.bars_root.is_dir():
            return []
        names = [p.name.removeprefix("timeframe=") for p in sorted(self.bars_root.glob("timeframe=*"))]
        return [name for name in names if self.symbols(name)]

    def is_empty(self) -> bool:
        """True when the store folder is missing or holds no bar file at all."""
        return not self.bars_root.is_dir() or not any(self.bars_root.glob(f"timeframe=*/symbol=*/year=*/{_PART_FILE}"))

    def refuse_unfinished_publication(self) -> None:
        """Reads refuse a store whose last publication a killed fetch left half-renamed
        (its journal is still there): some files may be new and some old. Finishing it is
        a write, which a read must not do, so the fix is the next fetch (issue 12)."""
        if self.journal_path.exists():
            raise StoreError(
                f"{self.root}: a fetch was killed while publishing ({self.journal_path.name} is still there); "
                "run vwapcli fetch into this store again to finish it"
            )

    # ----- bars ---------------------------------------------------------------------
    def _read_file(self, path: Path) -> pd.DataFrame:
        clean, _ = validate_bars(read_parquet_file(path), str(path))
        return clean

    def read_bars(
        self,
        symbol: str,
        start: DateLike | None = None,
        end: DateLike | None = None,
        timeframe: str = "1m",
    ) -> pd.DataFrame:
        """Validated bars with New York date in [start, end] (both optional, inclusive).

        Columns ts (datetime64[ns, UTC], bar start), open, high, low, close, volume (float64).
        Only the year partitions overlapping the range are opened. An empty frame (with the
        columns) comes back when nothing matches; callers decide whether that is an error.
        """
        bars = self.read_bar_arrays(symbol, start, end, timeframe)
        if len(bars) == 0:
            return empty_bars()
        return bars.to_frame()

    def read_bar_arrays(
        self,
        symbol: str,
        start: DateLike | None = None,
        end: DateLike | None = None,
        timeframe: str = "1m",
    ) -> BarArrays:
        """``read_bars`` as numpy arrays: the backtest's load path, with no DataFrame on the way.

        One dataset scan reads the year files the range needs (Arrow decodes them in
        parallel) and the SPEC 3.3 rules run once over the joined arrays. Only when that
        finds anything wrong (or a file will not scan) are the files read one by one, so
        the error names the file and row it is in.
        """
        self.refuse_unfinished_publication()
        lo, hi = _day_bounds_ns(start, end)
        files = self.bar_files(symbol, timeframe, start, end)
        result = scan_bar_files(files)
        if result is None:
            # Each file passed on its own. Files in a folder have no order of their own (a
            # vendor may split a year into parts named in any way), so they are joined in
            # the order of their first bar; overlapping files still break the rule below.
            parts = sorted(
                (read_bar_file(path) for path in files),
                key=lambda part: int(part.ts[0]) if len(part) else -1,
            )
            result = BarArrays.concatenate(parts)
            if len(result) > 1 and not bool((result.ts[1:] > result.ts[:-1]).all()):
                raise DataValidationError(
                    f"{self.symbol_dir(symbol, timeframe)}: year partitions overlap or are out of order "
                    "(rule: ts strictly increasing across files)"
                )
        if len(result) and (result.ts[0] < lo or result.ts[-1] >= hi):
            result = result.select((result.ts >= lo) & (result.ts < hi))
        return result

    def write_bars(
        self,
        symbol: str,
        df: pd.DataFrame,
        timeframe: str = "1m",
        provenance: str = UNKNOWN_PROVENANCE,
        source: str | None = None,
        repair: bool = False,
        replace_start: DateLike | None = None,
        replace_end: DateLike | None = None,
        iv_index: pd.DataFrame | pd.Series | None = None,
        replace_dates: Iterable[dt.date] | None = None,
    ) -> WriteResult:
        """Validate and store bars, replacing every stored bar in the dates they cover.

        The replaced window is the New York dates from ``replace_start`` (default: the first
        new bar's date) through ``replace_end`` (default: the last new bar's date), widened
        to include every new bar. Old bars outside the window stay. With ``replace_dates``
        only those dates (and the new bars' own) are replaced, so one write can fill the
        gaps of a series and keep the sessions between them (a provider fetch publishing
        a symbol's missing sessions at once). Nothing is written when
        validation fails (``source`` names the input in the error). Idempotent: writing the
        same bars twice leaves the same files, byte for byte.

        All or nothing: every year file, the ``iv_index`` when given (same provenance), and
        the symbol's ``meta.json`` entry are published together (``atomic_write_all``), so a
        failure or Ctrl-C leaves the store as it was, never bars without their metadata.
        """
        symbol = normalize_symbol(symbol)
        self.symbol_dir(symbol, timeframe)  # refuses a malformed timeframe before any read
        meta = self._read_meta()
        clean, dropped = validate_bars(df, source or f"{symbol} {timeframe} bars", repair=repair)
        bar_files: list[tuple[Path, Callable[[Path], object] | None]] = []
        if not clean.empty:
            bar_files, replaced_everything = self._plan_bar_files(
                symbol, clean, timeframe, replace_start, replace_end, replace_dates
            )
            _add_provenance(meta, symbol, ("bars", timeframe), provenance, replaced_everything)
        files = list(bar_files)
        if iv_index is not None:
            iv_file = self._plan_iv_file(symbol, iv_index)
            if iv_file is not None:
                files.append(iv_file[0])
                _add_provenance(meta, symbol, ("iv_index",), provenance, iv_file[1])
        if files:
            self._publish(files, meta)
        if clean.empty:
            return WriteResult(0, dropped, (), None, None)
        return WriteResult(
            rows=int(clean.shape[0]),
            dropped=dropped,
            files=tuple(path for path, write in bar_files if write is not None),
            first=clean["ts"].iloc[0],
            last=clean["ts"].iloc[-1],
        )

    def _plan_bar_files(
        self,
        symbol: str,
        clean: pd.DataFrame,
        timeframe: str,
        replace_start: DateLike | None,
        replace_end: DateLike | None,
        replace_dates: Iterable[dt.date] | None = None,
    ) -> tuple[list[tuple[Path, Callable[[Path], object] | None]], bool]:
        """Every year file the write changes (``None``: the year is emptied, remove it), and
        whether the new bars replace everything stored for the symbol. Reads and validates
        the old files first, so a bad old file stops the write before anything changed."""
        ts = _ts_ns(clean)
        dates = new_york_dates(ts)
        first_day = dates[0].astype(dt.date)
        last_day = dates[-1].astype(dt.date)
        if replace_start is not None:
            first_day = min(first_day, as_date(replace_start))
        if replace_end is not None:
            last_day = max(last_day, as_date(replace_end))
        span_lo, span_hi = np.datetime64(first_day, "D"), np.datetime64(last_day, "D")
        replaced: np.ndarray | None = None
        if replace_dates is not None:
            listed = np.array([np.datetime64(as_date(day), "D") for day in replace_dates], dtype="datetime64[D]")
            replaced = np.union1d(listed, np.unique(dates))
            span_lo, span_hi = replaced[0], replaced[-1]
            first_day, last_day = span_lo.astype(dt.date), span_hi.astype(dt.date)
        years = dates.astype("datetime64[Y]").astype(np.int64) + 1970

        files: list[tuple[Path, Callable[[Path], object] | None]] = []
        old_rows_kept = 0
        for year in range(first_day.year, last_day.year + 1):
            path = self.partition_path(symbol, timeframe, year)
            new_part = clean[years == year]
            if path.exists():
                old = self._read_file(path)
                old_dates = new_york_dates(_ts_ns(old))
                if replaced is None:
                    old_keep = old[(old_dates < span_lo) | (old_dates > span_hi)]
                else:
                    old_keep = old[~np.isin(old_dates, replaced)]
                old_rows_kept += old_keep.shape[0]
                if replaced is not None and new_part.empty and old_keep.shape[0] == old.shape[0]:
                    continue  # a year between the gaps: nothing in it changes
                merged = pd.concat([old_keep, new_part], ignore_index=True).sort_values("ts", kind="stable")
                files.append((path, _parquet_writer(merged.reset_index(drop=True)) if not merged.empty else None))
            elif not new_part.empty:
                files.append((path, _parquet_writer(new_part.reset_index(drop=True))))
        touched_years = set(range(first_day.year, last_day.year + 1))
        other_files = [
            p for p in self.bar_files(symbol, timeframe)
            if int(p.parent.name.removeprefix("year=")) not in touched_years
        ]
        return files, old_rows_kept == 0 and not other_files

    def _publish(self, files: list[tuple[Path, Callable[[Path], object] | None]], meta: dict[str, Any]) -> None:
        """Data files and the updated ``meta.json``, all published or none."""
        payload = (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()
        atomic_write_all(
            [*files, (self.meta_path, lambda temporary: temporary.write_bytes(payload))], journal=self.journal_path
        )

    def prepare_for_write(self) -> list[Path]:
        """Before a fetch writes its first byte: refuse a store it could not finish writing
        (``meta.json`` not a readable JSON file, the store path a file), after completing a
        publication a killed run left half-renamed (its journal), then remove what an
        interrupted earlier run left behind (hidden temporaries). Returns the paths removed."""
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.root}: the store path is a file (rule: a bar store is a folder)")
        try:
            finish_interrupted_publication(self.journal_path)
        except ForeignJournalError as error:
            raise StoreError(str(error)) from None
        self._read_meta()
        return remove_leftovers(self.root)

    def date_range(self, symbol: str, timeframe: str = "1m") -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """(first bar start, last bar start) stored for ``symbol``, or None when it has no bars."""
        self.refuse_unfinished_publication()
        files = self.bar_files(symbol, timeframe)
        if not files:
            return None
        first = self._read_file(files[0])["ts"]
        last = first if len(files) == 1 else self._read_file(files[-1])["ts"]
        if first.empty or last.empty:
            return None
        return first.iloc[0], last.iloc[-1]

    # ----- IV index -----------------------------------------------------------------
    def write_iv_index(
        self,
        symbol: str,
        data: pd.DataFrame | pd.Series,
        provenance: str = UNKNOWN_PROVENANCE,
    ) -> int:
        """Store a daily IV-index series (vol points, e.g. 18.5), replacing the dates it spans;
        published together with its ``meta.json`` entry."""
        symbol = normalize_symbol(symbol)
        meta = self._read_meta()
        planned = self._plan_iv_file(symbol, data)
        if planned is None:
            return 0
        (path, write), replaced_all = planned
        _add_provenance(meta, symbol, ("iv_index",), provenance, replaced_all)
        self._publish([(path, write)], meta)
        return int(pq.read_metadata(path).num_rows)

    def _plan_iv_file(
        self, symbol: str, data: pd.DataFrame | pd.Series
    ) -> tuple[tuple[Path, Callable[[Path], object]], bool] | None:
        """The IV-index file to write (merged with the stored dates it does not span) and
        whether it replaces every stored date; None when ``data`` is empty."""
        frame = self._iv_frame(data, f"{symbol} IV index")
        if frame.empty:
            return None
        path = self.iv_path(symbol)
        kept_old = 0
        if path.exists():
            old = self._read_iv_file(path)
            lo, hi = frame["session_date"].iloc[0], frame["session_date"].iloc[-1]
            outside = (old["session_date"] < lo) | (old["session_date"] > hi)
            kept_old = int(outside.sum())
            frame = pd.concat([old[outside], frame], ignore_index=True).sort_values("session_date", kind="stable")
        table = pa.Table.from_arrays(
            [
                pa.array(list(frame["session_date"]), type=pa.date32()),
                pa.array(frame["iv_index"].to_numpy(dtype=np.float64), type=pa.float64()),
            ],
            schema=IV_SCHEMA,
        )
        return (path, _table_writer(table)), kept_old == 0

    @staticmethod
    def _iv_frame(data: pd.DataFrame | pd.Series, source: str) -> pd.DataFrame:
        if isinstance(data, pd.Series):
            frame = pd.DataFrame({"session_date": data.index, "iv_index": data.to_numpy()})
        else:
            frame = data
        missing = [c for c in ("session_date", "iv_index") if c not in frame.columns]
        if missing:
            raise DataValidationError(f"{source}: missing column(s) {', '.join(missing)} (rule: session_date, iv_index)")
        dates = [as_date(d) for d in frame["session_date"]]
        values = pd.to_numeric(frame["iv_index"], errors="coerce").to_numpy(dtype=np.float64)
        out = pd.DataFrame({"session_date": dates, "iv_index": values})
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataValidationError(
                f"{source}: row {row} ({dates[row]}): IV index {values[row]} (rule: finite and > 0, in vol points)"
            )
        order = np.array(dates, dtype="datetime64[D]")
        if order.shape[0] > 1 and not (np.diff(order) > np.timedelta64(0, "D")).all():
            row = int(np.flatnonzero(np.diff(order) <= np.timedelta64(0, "D"))[0]) + 1
            raise DataValidationError(
                f"{source}: row {row} ({dates[row]}): session_date not after the previous row "
                "(rule: dates strictly increasing, no duplicates)"
            )
        return out

    def _read_iv_file(self, path: Path) -> pd.DataFrame:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError, ValueError) as error:
            raise DataValidationError(f"{path}: unreadable Parquet ({str(error).splitlines()[0]})") from None
        frame = table.to_pandas()
        return self._iv_frame(frame, str(path))

    def has_iv_index(self, symbol: str) -> bool:
        return self.iv_path(symbol).is_file()

    def read_iv_index(self, symbol: str) -> pd.Series:
        """Daily IV index: Series named ``iv_index`` on a DatetimeIndex ``session_date`` (midnight, naive)."""
        self.refuse_unfinished_publication()
        path = self.iv_path(symbol)
        if not path.is_file():
            raise StoreError(f"{self.root}: no IV index for {normalize_symbol(symbol)} (expected {path})")
        frame = self._read_iv_file(path)
        index = pd.DatetimeIndex(pd.to_datetime(frame["session_date"]), name="session_date").as_unit("ns")
        return pd.Series(frame["iv_index"].to_numpy(dtype=np.float64), index=index, name="iv_index")

    # ----- metadata -----------------------------------------------------------------
    def _read_meta(self) -> dict[str, Any]:
        """``meta.json`` as a dict; a missing file is an empty store, anything else unreadable
        is refused (a fetch checks this before it writes its first byte)."""
        if not self.meta_path.exists():
            return {"format": 1, "symbols": {}}
        if not self.meta_path.is_file():
            raise StoreError(f"{self.meta_path}: store metadata is not a file (rule: meta.json is a JSON file)")
        try:
            meta = json.loads(self.meta_path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StoreError(f"{self.meta_path}: unreadable store metadata ({error})") from None
        if not isinstance(meta, dict) or not isinstance(meta.setdefault("symbols", {}), dict):
            raise StoreError(f"{self.meta_path}: unreadable store metadata (rule: an object with a 'symbols' object)")
        where = _misshapen_meta_entry(meta["symbols"])
        if where is not None:
            raise StoreError(
                f"{self.meta_path}: unreadable store metadata at {where} "
                "(rule: symbols.<SYM> = {bars: {<timeframe>: [sources]}, iv_index: [sources]}; "
                "fix the file or delete it, which resets provenance to unknown)"
            )
        return meta

    def provenance(self, symbol: str, timeframe: str | None = None) -> str:
        """Where the symbol's bars came from, e.g. "synthetic (seed 7)"; mixed sources joined by " + "."""
        entry = self._read_meta()["symbols"].get(normalize_symbol(symbol), {})
        bars = entry.get("bars", {})
        frames = [timeframe] if timeframe else sorted(bars)
        sources: list[str] = []
        for frame in frames:
            for item in bars.get(frame, []):
                if item not in sources:
                    sources.append(item)
        return " + ".join(sources) if sources else UNKNOWN_PROVENANCE

    def iv_provenance(self, symbol: str) -> str:
        sources = self._read_meta()["symbols"].get(normalize_symbol(symbol), {}).get("iv_index", [])
        return " + ".join(sources) if sources else UNKNOWN_PROVENANCE

    def is_synthetic(self, symbols: Iterable[str], timeframe: str = "1m") -> bool:
        """True when any of the symbols' bars are (partly) synthetic."""
        return any("synthetic" in self.provenance(s, timeframe) for s in symbols)

    # ----- fingerprint --------------------------------------------------------------
    def fingerprint(
        self,
        symbols: Iterable[str],
        timeframe: str = "1m",
        start: DateLike | None = None,
        end: DateLike | None = None,
        include_iv_index: bool = False,
    ) -> str:
        """sha256 over the relative path and bytes of every file a run reads (hex digest).

        Deterministic: files are hashed in sorted path order, each prefixed by its path and
        length, so moving bytes between files changes the digest. A symbol without files in
        ``timeframe`` is hashed from its 1m files, which is what ``load_market_data`` then
        resamples.
        """
        self.refuse_unfinished_publication()
        digest = hashlib.sha256()
        for symbol in sorted({normalize_symbol(s) for s in symbols}):
            digest.update(f"symbol={symbol}\n".encode())
            files = self.bar_files(symbol, timeframe, start, end)
            if not files and timeframe != "1m" and not self.bar_files(symbol, timeframe):
                files = self.bar_files(symbol, "1m", start, end)
            if include_iv_index and self.has_iv_index(symbol):
                files.append(self.iv_path(symbol))
            for path in files:
                payload = path.read_bytes()
                relative = path.relative_to(self.root).as_posix()
                digest.update(f"{relative}\n{len(payload)}\n".encode())
                digest.update(payload)
        return digest.hexdigest()
