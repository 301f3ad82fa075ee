"""Import vendor CSV or Parquet bar files into the store (``vwapcli fetch --source csv``).

Vendors name columns differently (``Date``/``Time``, ``o``/``h``/``l``/``c``/``v``, ``Close``)
and label time differently (UTC offsets, epoch integers, naive exchange time). This module
maps names case-insensitively, turns every timestamp into UTC, and SAYS how it read the
time, because a silently wrong timezone shifts every session by hours:

* a timezone-aware column (Parquet, or ISO strings with offsets / ``Z``) is kept as is;
* integer or float columns are epoch time in UTC (unit inferred from magnitude);
* naive times use ``--tz`` when given, otherwise America/New_York, and the summary says so.

Bars are then validated (SPEC 3.3) with the file named in every error, and written to the
store only after every file passed (nothing is written when one fails).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from vwapcli.data.sessions import DateLike
from vwapcli.data.store import BarStore, fetchable_timeframe_ns, normalize_symbol
from vwapcli.data.validation import check_bar_spacing, read_parquet_file, validate_bars
from vwapcli.errors import DataValidationError

DEFAULT_NAIVE_TZ = "America/New_York"
CSV_SUFFIXES = (".csv", ".txt", ".csv.gz", ".txt.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")

# Accepted vendor names per canonical column, matched after lower-casing and stripping.
TS_ALIASES: tuple[str, ...] = ("ts", "timestamp", "datetime", "date_time", "time", "date", "t")
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "open": ("open", "o", "open_price", "openprice"),
    "high": ("high", "h", "high_price", "highprice"),
    "low": ("low", "l", "low_price", "lowprice"),
    "close": ("close", "c", "close_price", "closeprice", "last"),
    "volume": ("volume", "v", "vol", "volume_shares"),
}
SYMBOL_ALIASES: tuple[str, ...] = ("symbol", "ticker", "sym")


@dataclass(frozen=True)
class VendorFrame:
    """One vendor file read into store columns (plus ``symbol`` when the file has one)."""

    path: Path
    bars: pd.DataFrame
    timezone_note: str


@dataclass(frozen=True)
class ImportSummary:
    """What the import did for one symbol."""

    symbol: str
    files: tuple[Path, ...]
    rows: int
    dropped: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    timezone_note: str
    bars: pd.DataFrame = field(repr=False, compare=False)  # validated bars (written unless dry run)


def _normalized(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _find(columns: dict[str, str], aliases: tuple[str, ...]) -> str | None:
    for alias in aliases:
        if alias in columns:
            return columns[alias]
    return None


def read_vendor_table(path: Path) -> pd.DataFrame:
    """One CSV or Parquet file as read, columns untouched; unreadable -> one-line error."""
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return read_parquet_file(path)
    if name.endswith(CSV_SUFFIXES):
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
            raise DataValidationError(f"{path}: unreadable CSV ({str(error).splitlines()[0]})") from None
    raise DataValidationError(f"{path}: unsupported file type (rule: .csv, .txt, .csv.gz or .parquet)")


def _zone(tz: str, path: Path) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise DataValidationError(f"{path}: unknown timezone {tz!r} given with --tz") from None


_OFFSET_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def _epoch_unit(values: np.ndarray) -> str:
    """Epoch unit from magnitude: seconds ~1e9, ms ~1e12, us ~1e15, ns ~1e18 for recent dates."""
    magnitude = float(np.nanmedian(np.abs(values))) if values.size else 0.0
    if magnitude < 1e11:
        return "s"
    if magnitude < 1e14:
        return "ms"
    if magnitude < 1e17:
        return "us"
    return "ns"


def parse_timestamps(
    raw: pd.Series, path: Path, tz: str | None, assume_tz: str | None = DEFAULT_NAIVE_TZ
) -> tuple[pd.Series, str]:
    """Vendor time column -> tz-aware UTC timestamps, plus a sentence saying how it was read.

    Naive times are read in ``tz`` (``--tz``), else in ``assume_tz`` (said in the note);
    with neither they are refused: option quotes take no guess (a wrong zone moves every
    quote across the expiry's close).
    """
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        note = "timezone-aware timestamps kept"
        if tz:
            note += f" (--tz {tz} not needed)"
        return raw.dt.tz_convert("UTC"), note
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        unit = _epoch_unit(values)
        parsed = pd.to_datetime(raw, unit=unit, utc=True)
        return parsed, f"epoch {unit} read as UTC"
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        naive = raw
    else:
        text = raw.astype("string").str.strip()
        has_offset = text.str.contains(_OFFSET_SUFFIX, na=False)
        present = text.notna()
        if has_offset[present].all() and present.any():
            parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
            _raise_unparsed(parsed, text, path)
            return parsed, "timestamps with UTC offsets kept"
        if has_offset.any():
            row = int(np.flatnonzero((~has_offset & present).to_numpy())[0])
            raise DataValidationError(
                f"{path}: row {row} ({text.iloc[row]}): mixes timestamps with and without UTC offsets "
                "(rule: one timezone convention per file)"
            )
        try:
            naive = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except ValueError:
            naive = pd.to_datetime(text, errors="coerce")
        if naive.isna().sum() > text.isna().sum():
            naive = pd.to_datetime(text, errors="coerce", format="mixed")
        _raise_unparsed(naive, text, path)
    if tz is None and assume_tz is None:
        present = np.flatnonzero(naive.notna().to_numpy())
        row = int(present[0]) if present.size else 0
        shown = naive.iloc[row] if present.size else "NaT"
        raise DataValidationError(
            f"{path}: row {row} ({shown}): timestamp without timezone "
            "(rule: give times with a UTC offset, or name their zone with --tz ZONE)"
        )
    zone_name = tz or assume_tz or DEFAULT_NAIVE_TZ
    zone = _zone(zone_name, path)
    localized = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    lost = localized.isna() & naive.notna()
    if lost.any():
        row = int(np.flatnonzero(lost.to_numpy())[0])
        raise DataValidationError(
            f"{path}: row {row} ({naive.iloc[row]}): time is ambiguous or does not exist in {zone_name} "
            "(DST change; rule: naive times must be unambiguous local times)"
        )
    if tz:
        note = f"naive timestamps read as {zone_name} (--tz)"
    else:
        note = f"timestamps had no timezone: assumed {zone_name} (pass --tz to override)"
    return localized.dt.tz_convert("UTC"), note


def _raise_unparsed(parsed: pd.Series, text: pd.Series, path: Path) -> None:
    bad = parsed.isna() & text.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(f"{path}: row {row}: cannot parse timestamp {text.iloc[row]!r} (rule: ts must be a date-time)")


def read_vendor_file(path: Path | str, tz: str | None = None) -> VendorFrame:
    """Read one vendor file into columns ts (UTC), open, high, low, close, volume [, symbol]."""
    path = Path(path)
    table = read_vendor_table(path)
    columns = {_normalized(c): c for c in table.columns}
    ts_column = _find(columns, TS_ALIASES[:4])
    if ts_column is None and "date" in columns and "time" in columns:
        # Separate date and time columns (common in vendor CSVs): join them.
        raw_ts = table[columns["date"]].astype(str).str.strip() + " " + table[columns["time"]].astype(str).str.strip()
    else:
        ts_column = ts_column or _find(columns, TS_ALIASES[4:])
        if ts_column is None:
            raise DataValidationError(
                f"{path}: missing column(s) ts (rule: a time column named one of {', '.join(TS_ALIASES)}; "
                f"found {', '.join(map(str, table.columns))})"
            )
        raw_ts = table[ts_column]
    mapped = {name: _find(columns, aliases) for name, aliases in COLUMN_ALIASES.items()}
    missing = [name for name, column in mapped.items() if column is None]
    if missing:
        raise DataValidationError(
            f"{path}: missing column(s) {', '.join(missing)} "
            f"(rule: bars need open, high, low, close, volume; found {', '.join(map(str, table.columns))})"
        )
    ts, note = parse_timestamps(raw_ts.reset_index(drop=True), path, tz)
    bars = pd.DataFrame({"ts": ts})
    for name, column in mapped.items():
        bars[name] = table[column].to_numpy()
    symbol_column = _find(columns, SYMBOL_ALIASES)
    if symbol_column is not None:
        symbols = table[symbol_column].astype("string").str.strip().str.upper()
        blank = (symbols.isna() | (symbols == "")).to_numpy()
        if blank.any():
            row = int(np.flatnonzero(blank)[0])
            raise DataValidationError(
                f"{path}: row {row}: blank {symbol_column} (rule: every row names its symbol, or drop the column)"
            )
        bars["symbol"] = symbols.to_numpy(dtype=object)
    return VendorFrame(path=path, bars=bars, timezone_note=note)


def symbol_from_filename(path: Path) -> str:
    """``SPY_1m_2024.csv`` -> ``SPY``: the file name up to the first ``_``, ``-``, space or dot."""
    return re.split(r"[_\-\s.]", path.name, maxsplit=1)[0].upper()


def vendor_files(path: Path | str) -> list[Path]:
    """The file itself, or every CSV/Parquet file in the folder (sorted, hidden files skipped)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = [
            p for p in sorted(path.iterdir())
            if p.is_file() and not p.name.startswith((".", "_")) and p.name.lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)
        ]
        if not files:
            raise DataValidationError(f"{path}: no .csv or .parquet files in folder")
        return files
    raise DataValidationError(f"{path}: no such file or folder")


def import_bars(
    path: Path | str,
    store: BarStore,
    symbols: list[str] | None = None,
    tz: str | None = None,
    repair: bool = False,
    timeframe: str = "1m",
    dry_run: bool = False,
    replace_start: DateLike | None = None,
    replace_end: DateLike | None = None,
) -> list[ImportSummary]:
    """Read, map, validate and store vendor files; one summary per symbol.

    The symbol of a file's rows comes from its ``symbol``/``ticker`` column, else from
    ``symbols`` when a single file and a single symbol were given, else from the file name.
    When ``symbols`` is given, other symbols are ignored.
    """
    bar_ns = fetchable_timeframe_ns(timeframe)
    files = vendor_files(path)
    wanted = [normalize_symbol(s) for s in symbols] if symbols else None
    # Phase 1: read and validate everything; nothing is written if any file is bad.
    per_symbol: dict[str, list[tuple[Path, pd.DataFrame, str]]] = {}
    dropped: dict[str, int] = {}
    for file in files:
        vendor = read_vendor_file(file, tz)
        if "symbol" in vendor.bars.columns:
            groups = {normalize_symbol(s): g.drop(columns="symbol") for s, g in vendor.bars.groupby("symbol", sort=True)}
        elif wanted and len(wanted) == 1 and len(files) == 1:
            groups = {wanted[0]: vendor.bars}
        else:
            groups = {normalize_symbol(symbol_from_filename(file)): vendor.bars}
        for symbol, frame in groups.items():
            if wanted and symbol not in wanted:
                continue
            source = f"{file} [{symbol}]" if "symbol" in vendor.bars.columns else str(file)
            clean, n_dropped = validate_bars(frame.reset_index(drop=True), source, repair=repair)
            per_symbol.setdefault(symbol, []).append((file, clean, vendor.timezone_note))
            dropped[symbol] = dropped.get(symbol, 0) + n_dropped
    if wanted:
        absent = [s for s in wanted if s not in per_symbol]
        if absent:
            raise DataValidationError(f"{path}: no bars for {', '.join(absent)} (found: {', '.join(sorted(per_symbol)) or 'none'})")

    combined: dict[str, pd.DataFrame] = {}
    for symbol, parts in per_symbol.items():
        frame = pd.concat([p[1] for p in parts], ignore_index=True).sort_values("ts", kind="stable")
        # Files of one symbol must not overlap (SPEC 3.3: no duplicate ts within a symbol).
        source = str(path) if len(parts) == 1 else f"{path} (files {', '.join(p[0].name for p in parts)})"
        combined[symbol], extra = validate_bars(frame.reset_index(drop=True), source, repair=repair)
        dropped[symbol] += extra
        check_bar_spacing(combined[symbol], bar_ns, timeframe, f"{source} [{symbol}]")

    # Phase 2: write, one publication per symbol (bars and metadata together).
    summaries = []
    label = f"csv import ({Path(path).name})"
    for symbol in sorted(combined):
        frame = combined[symbol]
        parts = per_symbol[symbol]
        notes = sorted({p[2] for p in parts})
        if not dry_run and not frame.empty:
            store.write_bars(
                symbol, frame, timeframe=timeframe, provenance=label, source=str(path),
                replace_start=replace_start, replace_end=replace_end,
            )
        summaries.append(
            ImportSummary(
                symbol=symbol,
                files=tuple(p[0] for p in parts),
                rows=int(frame.shape[0]),
                dropped=dropped[symbol],
                first=frame["ts"].iloc[0] if not frame.empty else None,
                last=frame["ts"].iloc[-1] if not frame.empty else None,
                timezone_note="; ".join(notes),
                bars=frame,
            )
        )
    return summaries
