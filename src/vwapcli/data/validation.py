"""Bar validation (SPEC 3.3): bad input gets one clear line, never a silent fix.

Every rule names the file (``source``), the row index and timestamp of the first offending
row, and the rule itself, e.g.::

    data/SPY.csv: row 17 (2024-03-01 14:47:00+00:00): high 501.2 < max(open, close) 501.3
    (rule: high >= max(open, close)); 3 offending rows in total, (import with --repair to drop them)

``repair=True`` drops the offending rows instead and returns how many it dropped. Missing
columns, naive timestamps and unreadable files cannot be repaired: there is no row to drop
that would make the file right.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from numba import njit

from vwapcli.data.sessions import utc_ns
from vwapcli.errors import DataValidationError

REQUIRED_COLUMNS: tuple[str, ...] = ("ts", "open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")

# Row rules in the order they are reported when one row breaks several.
_ROW_RULES: tuple[str, ...] = (
    "missing timestamp (rule: ts must be set)",
    "non-finite price (rule: open/high/low/close must be finite numbers)",
    "high < max(open, close) (rule: high >= max(open, close))",
    "low > min(open, close) (rule: low <= min(open, close))",
    "negative volume (rule: volume >= 0)",
    "timestamp not after the previous bar (rule: ts strictly increasing, no duplicates)",
)


def _fmt(value: float) -> str:
    return f"{value:.10g}"


@dataclass(frozen=True)
class BarArrays:
    """Validated bars as numpy arrays: what the store's fast read path hands to sessions.

    ``ts`` is int64 nanoseconds UTC (bar start), strictly increasing; prices and volume
    are float64. Every array is writable and C-contiguous (numba kernels take them as is).
    """

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def select(self, mask: np.ndarray) -> BarArrays:
        """The rows where ``mask`` is True (copies)."""
        return BarArrays(*(np.ascontiguousarray(a[mask]) for a in self._columns()))

    def _columns(self) -> tuple[np.ndarray, ...]:
        return self.ts, self.open, self.high, self.low, self.close, self.volume

    @classmethod
    def concatenate(cls, parts: Sequence[BarArrays]) -> BarArrays:
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate(columns) for columns in zip(*(p._columns() for p in parts), strict=True)))

    @classmethod
    def empty(cls) -> BarArrays:
        f = np.empty(0, dtype=np.float64)
        return cls(np.empty(0, dtype=np.int64), f, f.copy(), f.copy(), f.copy(), f.copy())

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> BarArrays:
        """From a frame ``validate_bars`` returned (ts tz-aware UTC)."""
        def column(name: str) -> np.ndarray:
            return np.array(df[name].to_numpy(dtype=np.float64), dtype=np.float64, copy=True)

        return cls(utc_ns(df["ts"]), *(column(name) for name in ("open", "high", "low", "close", "volume")))

    def to_frame(self) -> pd.DataFrame:
        """The store's bar frame: ts datetime64[ns, UTC], then float64 columns, RangeIndex."""
        return pd.DataFrame(
            {
                "ts": pd.Series(pd.DatetimeIndex(self.ts.view("datetime64[ns]")).tz_localize("UTC")),
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": self.volume,
            }
        )


def _read_table(path: Path | str) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataValidationError(f"{path}: unreadable Parquet ({reason})") from None


def read_parquet_file(path: Path | str) -> pd.DataFrame:
    """Read one Parquet file; pyarrow's failures become ``<path>: unreadable Parquet (...)``."""
    return _read_table(path).to_pandas()


def read_bar_file(path: Path | str) -> BarArrays:
    """Read and validate one bar file straight into numpy arrays (SPEC 3.3 on read).

    The usual file (tz-aware ``ts``, numeric columns) never becomes a DataFrame: the
    rules run on the Arrow columns' numpy views. Anything unusual in the schema (naive
    or non-timestamp ``ts``, text prices, a missing column) goes the DataFrame route of
    ``validate_bars``, so every message is the one that route gives.
    """
    source = str(path)
    table = _read_table(path)
    columns = _arrow_bar_columns(table)
    if columns is None:
        clean, _ = validate_bars(table.to_pandas(), source)
        return BarArrays.from_frame(clean)
    ts_ns, is_nat, o, h, lo, c, volume = columns
    _check_rows(ts_ns, is_nat, o, h, lo, c, volume, source, repair=False, ts_text=_ts_text_of(ts_ns, is_nat))
    return BarArrays(ts_ns, o, h, lo, c, volume)


def scan_bar_files(paths: Sequence[Path]) -> BarArrays | None:
    """Every file in one ``pyarrow.dataset`` scan, if all of it is clean; else None.

    None means "read the files one by one": a file that will not scan, an unusual schema,
    a row that breaks a SPEC 3.3 rule, or times not strictly increasing across the files.
    The per-file route then names the file and row (or accepts what is fine after all).
    """
    if not paths:
        return BarArrays.empty()
    try:
        dataset = ds.dataset([str(path) for path in paths], format="parquet")
        # The scan casts every file to the first one's schema, and a naive ts casts to UTC
        # without a word: one naive year among UTC ones would be read shifted by 4-5 hours
        # (issue 12). So each file's own ts must be tz-aware, else the per-file route refuses it.
        for fragment in dataset.get_fragments():
            schema = fragment.physical_schema
            index = schema.get_field_index("ts")
            if index < 0 or not (pa.types.is_timestamp(schema.field(index).type) and schema.field(index).type.tz):
                return None
        table = dataset.to_table()
    except (pa.ArrowException, OSError, ValueError):
        return None
    columns = _arrow_bar_columns(table)
    if columns is None:
        return None
    ts_ns, is_nat, o, h, lo, c, volume = columns
    _, n_bad = _check_rows(ts_ns, is_nat, o, h, lo, c, volume, "", repair=True, ts_text=str)
    return None if n_bad else BarArrays(ts_ns, o, h, lo, c, volume)


def _arrow_bar_columns(table: pa.Table) -> tuple[np.ndarray, ...] | None:
    """(ts ns, is_nat, open, high, low, close, volume) as writable numpy arrays, or None when
    the schema is not the plain one (the DataFrame route then explains what is wrong)."""
    names = set(table.column_names)
    if any(name not in names for name in REQUIRED_COLUMNS):
        return None
    ts_type = table.schema.field("ts").type
    if not (pa.types.is_timestamp(ts_type) and ts_type.tz is not None):
        return None
    numeric = [table.schema.field(name).type for name in (*PRICE_COLUMNS, "volume")]
    if not all(pa.types.is_floating(t) or pa.types.is_integer(t) for t in numeric):
        return None
    try:
        ts = table.column("ts").cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
    except (pa.ArrowException, ValueError):
        return None  # e.g. out of the nanosecond range: the DataFrame route reports it
    if ts.null_count:
        is_nat = np.asarray(ts.is_null(), dtype=bool)
        ts = ts.fill_null(np.iinfo(np.int64).min)
    else:
        is_nat = np.zeros(len(ts), dtype=bool)
    ts_ns = _writable(ts, np.int64)

    def as_float(name: str) -> np.ndarray:
        column = table.column(name)
        if column.null_count:
            column = column.cast(pa.float64()).fill_null(np.nan)
        return _writable(column, np.float64)

    return (ts_ns, is_nat, *(as_float(name) for name in (*PRICE_COLUMNS, "volume")))


def _writable(column: pa.ChunkedArray, dtype: type) -> np.ndarray:
    # Arrow hands out read-only views; numba would compile a separate (uncached) read-only
    # specialization of every kernel for them, so the arrays are always our own copies.
    # Chunks of the usual (null-free, fixed-width) column are joined in one copy.
    if column.null_count == 0 and column.num_chunks > 1 and pa.types.is_primitive(column.type):
        with contextlib.suppress(pa.ArrowInvalid):
            joined: np.ndarray = np.concatenate([chunk.to_numpy(zero_copy_only=True) for chunk in column.chunks])
            if joined.dtype == dtype:
                return joined
    values: np.ndarray = np.asarray(column.to_numpy(), dtype=dtype)
    if not values.flags.writeable or not values.flags.c_contiguous:
        values = np.array(values, dtype=dtype, order="C", copy=True)
    return values


def _ts_text_of(ts_ns: np.ndarray, is_nat: np.ndarray) -> Callable[[int], str]:
    # How pandas prints the row's UTC timestamp in the DataFrame route: "2024-01-02 14:32:00+00:00".
    def text(row: int) -> str:
        return "NaT" if is_nat[row] else str(pd.Timestamp(int(ts_ns[row]), tz="UTC"))

    return text


def _check_columns(df: pd.DataFrame, source: str) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in df.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing column(s) {', '.join(missing)} "
            f"(rule: bars need columns {', '.join(REQUIRED_COLUMNS)}; found {', '.join(map(str, df.columns))})"
        )


def _utc_ts(df: pd.DataFrame, source: str) -> pd.Series:
    ts = df["ts"]
    if ts.dtype == object and len(ts):
        # Python datetimes / Timestamps held as objects: accept them when they carry a zone.
        with contextlib.suppress(ValueError, TypeError):
            ts = pd.to_datetime(ts)
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_dtype(ts.dtype):
            first = ts.iloc[0] if len(ts) else None
            raise DataValidationError(
                f"{source}: row 0 ({first}): naive timestamp without timezone "
                "(rule: ts must be timezone-aware, stored as UTC)"
            )
        raise DataValidationError(
            f"{source}: column ts has type {ts.dtype}, not a timestamp "
            "(rule: ts must be a timezone-aware timestamp)"
        )
    return ts.dt.tz_convert("UTC").dt.as_unit("ns")


def _numeric(df: pd.DataFrame, name: str, source: str) -> np.ndarray:
    column = df[name]
    if not (pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype)):
        raise DataValidationError(
            f"{source}: column {name} has type {column.dtype}, not a number (rule: prices and volume are numeric)"
        )
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def validate_bars(df: pd.DataFrame, source: str, repair: bool = False) -> tuple[pd.DataFrame, int]:
    """Check bars against SPEC 3.3; return (clean bars, rows dropped by repair).

    The result has exactly the columns ts (datetime64[ns, UTC]), open, high, low, close,
    volume (float64), a fresh RangeIndex, and is strictly increasing in ts. Extra columns
    are left out: the store keeps only the SPEC 3.1 schema.
    """
    _check_columns(df, source)
    ts = _utc_ts(df, source)
    prices = {name: _numeric(df, name, source) for name in PRICE_COLUMNS}
    volume = _numeric(df, "volume", source)
    ts_ns = utc_ns(ts)
    is_nat = ts.isna().to_numpy()
    o, h, lo, c = prices["open"], prices["high"], prices["low"], prices["close"]
    keep, n_bad = _check_rows(ts_ns, is_nat, o, h, lo, c, volume, source, repair, lambda row: str(ts.iloc[row]))
    clean = pd.DataFrame(
        {
            "ts": ts[keep].reset_index(drop=True),
            "open": o[keep],
            "high": h[keep],
            "low": lo[keep],
            "close": c[keep],
            "volume": volume[keep],
        }
    )
    return clean, n_bad


def _check_rows(
    ts_ns: np.ndarray,
    is_nat: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    volume: np.ndarray,
    source: str,
    repair: bool,
    ts_text: Callable[[int], str],
) -> tuple[np.ndarray, int]:
    """The SPEC 3.3 row rules on arrays: (rows to keep, offending rows), or the one-line error.

    ``ts_text(row)`` prints a row's timestamp for the message. Both read routes (DataFrame
    and Arrow) run exactly these rules, so they accept and reject the same rows.
    """
    if _rows_clean(ts_ns, is_nat, o, h, lo, c, volume):
        return np.ones(ts_ns.shape[0], dtype=bool), 0  # the usual case: one pass, nothing to drop
    rules = (
        is_nat,
        ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)),
        h < np.maximum(o, c),
        lo > np.minimum(o, c),
        ~(volume >= 0) | ~np.isfinite(volume),
    )
    row_bad = rules[0] | rules[1] | rules[2] | rules[3] | rules[4]
    if not row_bad.any() and (ts_ns.shape[0] < 2 or bool((ts_ns[1:] > ts_ns[:-1]).all())):
        return np.ones(ts_ns.shape[0], dtype=bool), 0  # the usual case: one pass, nothing to drop

    # Ordering is judged among the rows that pass the other rules: a row is out of order
    # when its ts is not strictly after every earlier (kept) row.
    candidate = np.flatnonzero(~row_bad)
    cand_ts = ts_ns[candidate]
    previous_max = np.maximum.accumulate(np.concatenate([[np.iinfo(np.int64).min], cand_ts]))[:-1]
    out_of_order_rows = candidate[cand_ts <= previous_max]
    order_bad = np.zeros(ts_ns.shape[0], dtype=bool)
    order_bad[out_of_order_rows] = True

    offending = row_bad | order_bad
    n_bad = int(offending.sum())
    if n_bad and not repair:
        row = int(np.flatnonzero(offending)[0])
        broken = [k for k, rule in enumerate(rules) if rule[row]]
        rule_index = broken[0] if row_bad[row] else len(_ROW_RULES) - 1
        raise DataValidationError(
            f"{source}: row {row} ({ts_text(row)}): {_describe(rule_index, row, o, h, lo, c, volume, ts_ns)}; "
            f"{n_bad} offending row{'s' if n_bad != 1 else ''} in total (import with --repair to drop them)"
        )
    return ~offending, n_bad


@njit(cache=True)
def _rows_clean_kernel(
    ts_ns: np.ndarray, is_nat: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
    volume: np.ndarray,
) -> bool:
    # Every SPEC 3.3 row rule of _check_rows in one pass: True iff no row breaks one. No early
    # exit and no branches, so the loop vectorises; ``abs(x) < inf`` is isfinite (False for
    # NaN and +/-inf), and a NaN price is already bad before max/min could see it.
    bad = False
    inf = math.inf
    for i in range(ts_ns.shape[0]):
        oi, hi, li, ci, vi = o[i], h[i], lo[i], c[i], volume[i]
        bad |= is_nat[i] | (not abs(oi) < inf) | (not abs(hi) < inf) | (not abs(li) < inf) | (not abs(ci) < inf)
        bad |= (hi < max(oi, ci)) | (li > min(oi, ci)) | (not vi >= 0) | (not vi < inf)
    for i in range(1, ts_ns.shape[0]):
        bad |= ts_ns[i] <= ts_ns[i - 1]  # strictly increasing
    return not bad


def _rows_clean(
    ts_ns: np.ndarray, is_nat: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
    volume: np.ndarray,
) -> bool:
    """True when no row breaks a rule: the usual case, answered in one compiled pass (the
    numpy rules below then run only to find and name what is wrong)."""
    arrays = (ts_ns, o, h, lo, c, volume)
    if not all(
        a.dtype == (np.int64 if a is ts_ns else np.float64) and a.ndim == 1 and a.flags.c_contiguous and a.flags.writeable
        for a in arrays
    ):
        return False  # not the read path's own arrays (one compiled signature): the numpy rules judge
    return bool(_rows_clean_kernel(ts_ns, np.asarray(is_nat, dtype=np.bool_), o, h, lo, c, volume))


def _describe(
    rule_index: int,
    row: int,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    volume: np.ndarray,
    ts_ns: np.ndarray,
) -> str:
    """The rule text with the row's offending values spelled out."""
    rule = _ROW_RULES[rule_index]
    if rule_index == 1:
        values = ", ".join(f"{n}={_fmt(v)}" for n, v in zip(PRICE_COLUMNS, (o[row], h[row], lo[row], c[row]), strict=True))
        return f"NaN/inf price ({values}) (rule: open/high/low/close must be finite numbers)"
    if rule_index == 2:
        return f"high {_fmt(h[row])} < max(open, close) {_fmt(max(o[row], c[row]))} ({rule.split(' (', 1)[1]}"
    if rule_index == 3:
        return f"low {_fmt(lo[row])} > min(open, close) {_fmt(min(o[row], c[row]))} ({rule.split(' (', 1)[1]}"
    if rule_index == 4:
        return f"volume {_fmt(volume[row])} is negative or not a number (rule: volume >= 0)"
    if rule_index == 5:
        # The row is not NaT (NaT rows break rule 0 first); NaT never equals a time.
        duplicate = bool((ts_ns[:row] == ts_ns[row]).any())
        kind = "duplicate timestamp" if duplicate else "non-monotonic timestamp (earlier than a previous bar)"
        return f"{kind} (rule: ts strictly increasing, no duplicates)"
    return rule


def check_bar_spacing(clean: pd.DataFrame, bar_ns: int, timeframe: str, source: str) -> None:
    """Refuse validated bars whose spacing contradicts the declared ``timeframe`` (issue 12).

    Two checks, both before anything is written: every bar starts on the timeframe's
    grid (UTC epoch multiples of the bar length; New York's offsets are whole hours, so
    this is the local grid too): 1-minute bars declared as 5m fail here; and, once a file
    has enough same-day gaps to tell, some two bars of a day are one bar length apart:
    5-minute bars declared as 1m fail here (missing bars alone never make every gap long).
    """
    if clean.empty:
        return
    ts = utc_ns(clean["ts"])
    off_grid = np.flatnonzero(ts % bar_ns != 0)
    if off_grid.size:
        row = int(off_grid[0])
        raise DataValidationError(
            f"{source}: row {row} ({clean['ts'].iloc[row]}): bar start is off the {timeframe} grid "
            f"(rule: --timeframe {timeframe} bars start on multiples of {bar_ns // 60_000_000_000} minutes)"
        )
    day = ts // (86_400 * 10**9)
    gaps = np.diff(ts)[day[1:] == day[:-1]]
    if gaps.size >= _SPACING_SAMPLE and int(gaps.min()) > bar_ns:
        raise DataValidationError(
            f"{source}: no two bars of a day are closer than {int(gaps.min()) // 60_000_000_000} minutes, "
            f"so they are not {timeframe} bars (rule: --timeframe names the spacing of the bars in the file)"
        )


#: Same-day gaps needed before "no gap is one bar long" means coarser bars, not a sparse file.
_SPACING_SAMPLE = 20
