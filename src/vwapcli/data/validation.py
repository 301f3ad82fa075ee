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
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

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


def read_parquet_file(path: Path | str) -> pd.DataFrame:
    """Read one Parquet file; pyarrow's failures become ``<path>: unreadable Parquet (...)``."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataValidationError(f"{path}: unreadable Parquet ({reason})") from None
    return table.to_pandas()


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

    bad_rules = np.stack(
        [
            is_nat,
            ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)),
            h < np.maximum(o, c),
            lo > np.minimum(o, c),
            ~(volume >= 0) | ~np.isfinite(volume),
        ]
    )
    row_bad = np.asarray(bad_rules.any(axis=0), dtype=bool)

    # Ordering is judged among the rows that pass the other rules: a row is out of order
    # when its ts is not strictly after every earlier (kept) row.
    candidate = np.flatnonzero(~row_bad)
    cand_ts = ts_ns[candidate]
    previous_max = np.maximum.accumulate(np.concatenate([[np.iinfo(np.int64).min], cand_ts]))[:-1]
    out_of_order_rows = candidate[cand_ts <= previous_max]
    order_bad = np.zeros(len(df), dtype=bool)
    order_bad[out_of_order_rows] = True

    offending = row_bad | order_bad
    n_bad = int(offending.sum())
    if n_bad and not repair:
        row = int(np.flatnonzero(offending)[0])
        rule_index = int(np.flatnonzero(bad_rules[:, row])[0]) if row_bad[row] else len(_ROW_RULES) - 1
        raise DataValidationError(
            f"{source}: row {row} ({ts.iloc[row]}): {_describe(rule_index, row, o, h, lo, c, volume, ts)}; "
            f"{n_bad} offending row{'s' if n_bad != 1 else ''} in total (import with --repair to drop them)"
        )

    keep = ~offending
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


def _describe(
    rule_index: int,
    row: int,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    volume: np.ndarray,
    ts: pd.Series,
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
        earlier = ts.iloc[:row]
        duplicate = bool((earlier == ts.iloc[row]).any())
        kind = "duplicate timestamp" if duplicate else "non-monotonic timestamp (earlier than a previous bar)"
        return f"{kind} (rule: ts strictly increasing, no duplicates)"
    return rule
