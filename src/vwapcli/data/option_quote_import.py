"""Read and validate option-quote files a user holds (SPEC 7 chain mode, SPEC 3.3 standard).

``vwapcli fetch --source csv --option-quotes --path FILE|DIR`` and ``vwapcli options
calibrate --quotes`` read quotes through :func:`read_option_quotes`, the one reader of
quote files. Layout: the columns of ``../shared/data/real/options/*quotes*.parquet``::

    ts (UTC), underlying, expiration, strike, right (C/P), bid, ask
    [, underlying_price, bid_size, ask_size, iv]

Vendor exports (Cboe DataShop, ThetaData, Polygon flat files, a broker's CSV) name these
differently: ``--map quote_datetime=ts --map option_type=right`` renames a vendor column
to ours (names compared case-insensitively, spaces and hyphens as ``_``; ``expiry`` is
accepted for ``expiration`` without a map). Other columns are ignored.

Time: tz-aware columns and strings with a UTC offset are kept, numbers are epoch UTC;
naive times need ``--tz ZONE``, else the file is refused (a guessed zone would move every
quote by hours, across the expiry's close).

Rules (the first offending row of a file is reported with file, row and rule, and nothing
is written): every required column present; ts set and parseable; underlying a ticker;
expiration a date not before the quote's New York date; strike > 0; right C/P/call/put in
any case; bid and ask finite and >= 0; optional numbers empty or >= 0; one quote per
(ts, underlying, expiration, strike, right) across all files. Rows are numbered from 0,
as in bar validation.

Kept or dropped, and why (each counted in the report):

* crossed (bid > ask): dropped. No mid exists; chain mode would refuse it at lookup anyway,
  and a calibration must not fit it.
* locked (bid == ask): kept; chain mode refuses it at lookup with its own skip reason.
* one-sided (bid or ask empty / NaN: no one on that side, e.g. 829 Lean SPX rows with
  bid_size 0): dropped. No mid exists either.
* zero bid (bid 0, ask > 0): kept. Real far out-of-the-money books are 0 / 0.01 (a quarter
  of the real SPY 0DTE file); dropping them would hide the tick floor the model fits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich import box
from rich.table import Table

from vwapcli.data.csv_import import parse_timestamps, read_vendor_table, vendor_files
from vwapcli.data.store import normalize_symbol
from vwapcli.env import Advance
from vwapcli.errors import DataValidationError, StoreError

QUOTE_COLUMNS: tuple[str, ...] = ("ts", "underlying", "expiration", "strike", "right", "bid", "ask")
OPTIONAL_COLUMNS: tuple[str, ...] = ("underlying_price", "bid_size", "ask_size", "iv")
KEY_COLUMNS: tuple[str, ...] = ("ts", "underlying", "expiration", "strike", "right")
# Our names for vendor names that need no --map.
BUILT_IN_NAMES: dict[str, str] = {"expiry": "expiration"}
RIGHT_WORDS: dict[str, str] = {"c": "C", "call": "C", "p": "P", "put": "P"}
NEW_YORK = "America/New_York"


def _normalized(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def parse_column_map(items: Iterable[str]) -> dict[str, str]:
    """``["quote_datetime=ts", ...]`` -> {normalized vendor column: our column}.

    Each target must be one of our columns and may be named once; a bad item fails with
    one line naming it.
    """
    known = (*QUOTE_COLUMNS, *OPTIONAL_COLUMNS)
    mapping: dict[str, str] = {}
    for item in items:
        vendor, sep, ours = item.partition("=")
        vendor, ours = _normalized(vendor), _normalized(ours)
        if not sep or not vendor or ours not in known:
            raise DataValidationError(
                f"--map {item!r}: expected VENDOR_COLUMN=NAME with NAME one of {', '.join(known)}"
            )
        if ours in mapping.values():
            raise DataValidationError(f"--map {item!r}: {ours} is mapped twice (rule: one vendor column per field)")
        mapping[vendor] = ours
    return mapping


def quote_files(paths: Path | str | Sequence[Path | str]) -> list[Path]:
    """The files named, and every CSV/Parquet file of the folders named (sorted, no hidden)."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[Path] = []
    for item in items:
        for file in vendor_files(item):
            if file not in files:
                files.append(file)
    return files


@dataclass(frozen=True)
class UnderlyingImport:
    """One underlying's share of an import (a row of the summary table)."""

    underlying: str
    rows: int  # kept
    contracts: int  # distinct (expiration, strike, right)
    days: int  # New York trade dates
    first_day: dt.date | None  # New York trade dates (None: every row dropped)
    last_day: dt.date | None
    crossed: int  # bid > ask: dropped
    one_sided: int  # bid or ask missing: dropped
    locked: int  # bid == ask: kept
    zero_bid: int  # bid == 0 < ask: kept


@dataclass(frozen=True)
class QuoteImportReport:
    """What an import read, kept and dropped (printed as the fetch summary)."""

    files: tuple[Path, ...]
    rows_read: int  # every row of every file
    timezone_notes: tuple[str, ...]
    underlyings: tuple[UnderlyingImport, ...]

    def total(self, field: str) -> int:
        """Sum of one ``UnderlyingImport`` count over the underlyings."""
        return sum(int(getattr(u, field)) for u in self.underlyings)

    def line(self) -> str:
        """One sentence: files, rows, contracts, days, dropped crossed."""
        files = len(self.files)
        return (
            f"{files} file{'s' if files != 1 else ''}, {self.rows_read:,} rows read, {self.total('rows'):,} quotes kept "
            f"({self.total('crossed'):,} crossed and {self.total('one_sided'):,} one-sided dropped), "
            f"{self.total('contracts'):,} contracts, {self.total('days'):,} underlying-days"
        )


@dataclass(frozen=True)
class _FileQuotes:
    """One file's rows in our columns, validated on their own (duplicates are judged across files)."""

    path: Path
    frame: pd.DataFrame
    note: str


def _columns_of(table: pd.DataFrame, path: Path, column_map: Mapping[str, str]) -> dict[str, str]:
    """Our column -> the file's column; user-mapped names win over same-named native ones."""
    native: dict[str, list[str]] = {}
    mapped: dict[str, list[str]] = {}
    known = (*QUOTE_COLUMNS, *OPTIONAL_COLUMNS)
    for column in table.columns:
        name = _normalized(column)
        if name in column_map:
            mapped.setdefault(column_map[name], []).append(str(column))
        elif name in known or name in BUILT_IN_NAMES:
            native.setdefault(BUILT_IN_NAMES.get(name, name), []).append(str(column))
    resolved: dict[str, str] = {}
    for ours in known:
        sources = mapped.get(ours) or native.get(ours) or []
        if len(sources) > 1:
            raise DataValidationError(
                f"{path}: columns {', '.join(repr(s) for s in sources)} all give {ours} "
                "(rule: one column per field; rename one with --map)"
            )
        if sources:
            resolved[ours] = sources[0]
    missing = [name for name in QUOTE_COLUMNS if name not in resolved]
    if missing:
        raise DataValidationError(
            f"{path}: missing column(s) {', '.join(missing)} (rule: option quotes need "
            f"{', '.join(QUOTE_COLUMNS)}; found {', '.join(map(str, table.columns))}; "
            "map vendor names with --map VENDOR_COLUMN=NAME)"
        )
    return resolved


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, True where a value was given but is not a finite number)."""
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    given = raw.notna().to_numpy(dtype=bool)
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        given = given & raw.astype("string").str.strip().ne("").fillna(False).to_numpy(dtype=bool)
    return values, given & ~np.isfinite(values)


def _expiration_days(raw: pd.Series) -> np.ndarray:
    """Expiration -> datetime64[D] (NaT where it is not a date): dates, date-times,
    ISO or vendor strings, or yyyymmdd numbers. A file holds few distinct expirations:
    each is parsed once."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if len(uniques) == 0:
        return np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[D]")
    days = np.append(_parse_expirations(pd.Series(uniques)), np.datetime64("NaT"))
    return days[codes]  # code -1 (missing) -> the NaT appended last


def _parse_expirations(raw: pd.Series) -> np.ndarray:
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        raw = raw.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return raw.to_numpy(dtype="datetime64[D]")
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        text = raw.astype("Int64").astype("string")
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    else:
        text = raw.astype("string").str.strip()
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if parsed.isna().sum() > text.isna().sum():
            parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    return parsed.to_numpy(dtype="datetime64[D]")


def _check_underlyings(underlying: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(normalized tickers, True where the value cannot be a ticker / store folder name)."""
    text = underlying.astype("string").str.strip().str.upper().fillna("")
    codes, uniques = pd.factorize(text)
    valid = np.ones(len(uniques), dtype=bool)
    for i, value in enumerate(uniques):
        try:
            normalize_symbol(str(value))
        except StoreError:
            valid[i] = False
    bad = ~valid[codes] if len(uniques) else np.zeros(len(text), dtype=bool)
    return text.to_numpy(dtype=object), bad


def _read_quote_file(path: Path, column_map: Mapping[str, str], tz: str | None) -> _FileQuotes:
    """One file -> our columns, every row rule checked (module docstring)."""
    table = read_vendor_table(path)
    columns = _columns_of(table, path, column_map)
    if table.empty:
        raise DataValidationError(f"{path}: no rows (rule: a quote file holds at least one quote)")
    raw = {ours: table[source].reset_index(drop=True) for ours, source in columns.items()}
    ts, note = parse_timestamps(raw["ts"], path, tz, assume_tz=None)
    ts = ts.dt.as_unit("ns")
    underlying, bad_underlying = _check_underlyings(raw["underlying"])
    expiration = _expiration_days(raw["expiration"])
    strike, strike_text = _numbers(raw["strike"])
    # Each spelling looked up once; code -1 (missing) takes the None appended last.
    codes, spellings = pd.factorize(raw["right"].astype("string").str.strip().str.lower(), use_na_sentinel=True)
    rights = [*(RIGHT_WORDS.get(str(s)) for s in spellings), None]
    right = pd.Series(np.asarray(rights, dtype=object)[codes])
    bid, bid_text = _numbers(raw["bid"])
    ask, ask_text = _numbers(raw["ask"])
    optional = {name: _numbers(raw[name]) for name in OPTIONAL_COLUMNS if name in raw}
    trade_date = ts.dt.tz_convert(NEW_YORK).dt.tz_localize(None).to_numpy(dtype="datetime64[D]")
    ts_missing = ts.isna().to_numpy()

    # (offending rows, the column whose value the message shows, the message): the first
    # offending row of the file is reported with the first rule it breaks.
    prices = "(rule: bid and ask are finite numbers >= 0, or empty)"
    rules: list[tuple[np.ndarray, str, str]] = [
        (ts_missing, "ts", "missing timestamp (rule: ts must be set)"),
        (bad_underlying, "underlying", "underlying {value} is not a ticker (rule: letters, digits, '.', '-', '^')"),
        (np.isnat(expiration), "expiration", "cannot parse expiration {value} (rule: expiration must be a date)"),
        (strike_text | np.isnan(strike), "strike", "strike {value} is not a number (rule: strike > 0)"),
        (strike <= 0, "strike", "strike {value} is not > 0 (rule: strike > 0)"),
        (right.isna().to_numpy(), "right", "unknown right {value} (rule: right is C, P, call or put, in any case)"),
        (bid_text, "bid", "bid {value} is not a price " + prices),
        (bid < 0, "bid", "negative price: bid {value} (rule: bid and ask >= 0)"),
        (ask_text, "ask", "ask {value} is not a price " + prices),
        (ask < 0, "ask", "negative price: ask {value} (rule: bid and ask >= 0)"),
    ]
    rules += [
        (text | np.isinf(values) | (values < 0), name, name + " {value} is not a number >= 0 (rule: empty or >= 0)")
        for name, (values, text) in optional.items()
    ]
    if "underlying_price" in optional:
        spot = optional["underlying_price"][0]
        rules.append((spot <= 0, "underlying_price",
                      "underlying_price {value} is not > 0 (rule: spot > 0 where given)"))
    late = ~ts_missing & (expiration < trade_date)  # NaT compares False
    rules.append((late, "expiration", "expiration {value} is before the quote's New York date {date} "
                                      "(rule: no quote after its expiry day)"))
    any_bad = np.logical_or.reduce([mask for mask, _, _ in rules])
    if any_bad.any():
        row = int(np.flatnonzero(any_bad)[0])
        column, message = next((column, message) for mask, column, message in rules if mask[row])
        total = int(any_bad.sum())
        detail = message.format(value=repr(str(raw[column].iloc[row])), date=trade_date[row])
        raise DataValidationError(
            f"{path}: row {row} ({raw['ts'].iloc[row]}): {detail}; "
            f"{total} offending row{'s' if total != 1 else ''} in total"
        )
    frame = pd.DataFrame(
        {
            "ts": ts,
            "underlying": underlying,
            "expiration": expiration,
            "strike": strike,
            "right": right.to_numpy(dtype=object),
            "bid": bid,
            "ask": ask,
            "underlying_price": optional["underlying_price"][0] if "underlying_price" in optional else np.nan,
        }
    )
    for name in OPTIONAL_COLUMNS[1:]:
        if name in optional:
            frame[name] = optional[name][0]
    return _FileQuotes(path, frame, note)


def _refuse_duplicates(parts: Sequence[_FileQuotes], frame: pd.DataFrame) -> None:
    """One quote per (ts, underlying, expiration, strike, right), across every file."""
    duplicated = frame.duplicated(list(KEY_COLUMNS), keep=False).to_numpy()
    if not duplicated.any():
        return
    file_of = np.concatenate([np.full(len(p.frame), i) for i, p in enumerate(parts)])
    row_of = np.concatenate([np.arange(len(p.frame)) for p in parts])
    candidates = np.flatnonzero(duplicated)
    keys = frame.iloc[candidates][list(KEY_COLUMNS)]
    first_seen = ~keys.duplicated(keep="first").to_numpy()
    second = int(candidates[~first_seen][0])
    key = tuple(frame.iloc[second][list(KEY_COLUMNS)])
    first = int(candidates[(keys == pd.Series(key, index=list(KEY_COLUMNS))).all(axis=1).to_numpy()][0])
    where = "" if file_of[first] == file_of[second] else f"{parts[file_of[first]].path} "
    ts, underlying, expiration, strike, right = key
    raise DataValidationError(
        f"{parts[file_of[second]].path}: row {row_of[second]} ({ts}): duplicate quote of "
        f"{underlying} {pd.Timestamp(expiration).date()} {strike:g} {right} (also {where}row {row_of[first]}; "
        f"rule: one quote per ts, underlying, expiration, strike and right); "
        f"{int(duplicated.sum()) - int(first_seen.sum())} duplicate rows in total"
    )


def read_option_quotes(
    paths: Path | str | Sequence[Path | str],
    column_map: Mapping[str, str] | None = None,
    tz: str | None = None,
    on_file: Advance | None = None,
) -> tuple[pd.DataFrame, QuoteImportReport]:
    """Every quote file under ``paths``, validated (module docstring); crossed and
    one-sided rows dropped and counted.

    Returns (quotes, report). Columns: ts (datetime64[ns, UTC]), underlying, expiration
    (``datetime.date``), strike, right ("C"/"P"), bid, ask, underlying_price (NaN where
    the files had none), then bid_size, ask_size, iv when any file had them; rows in
    file order. ``column_map`` is :func:`parse_column_map`'s result; ``on_file(1)`` is
    called after each file (a progress bar). Nothing is returned unless every file passed.
    """
    mapping = dict(column_map or {})
    parts: list[_FileQuotes] = []
    for file in quote_files(paths):
        parts.append(_read_quote_file(file, mapping, tz))
        if on_file is not None:
            on_file(1)
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    _refuse_duplicates(parts, frame)
    crossed = (frame["bid"] > frame["ask"]).to_numpy()
    one_sided = (frame["bid"].isna() | frame["ask"].isna()).to_numpy()
    kept = frame.loc[~crossed & ~one_sided].reset_index(drop=True)
    codes, expirations = pd.factorize(kept["expiration"])
    kept["expiration"] = np.asarray(pd.DatetimeIndex(expirations).date, dtype=object)[codes]
    report = QuoteImportReport(
        files=tuple(p.path for p in parts),
        rows_read=len(frame),
        timezone_notes=tuple(dict.fromkeys(p.note for p in parts)),
        underlyings=_by_underlying(kept, frame, crossed, one_sided),
    )
    return kept, report


def _by_underlying(
    kept: pd.DataFrame, read: pd.DataFrame, crossed: np.ndarray, one_sided: np.ndarray
) -> tuple[UnderlyingImport, ...]:
    """One summary per underlying read, also when every row of it was dropped."""
    by_underlying = read["underlying"].to_numpy()
    crossed_by = pd.Series(crossed).groupby(by_underlying).sum()
    one_sided_by = pd.Series(one_sided).groupby(by_underlying).sum()
    days = pd.Series(kept["ts"].dt.tz_convert(NEW_YORK).dt.tz_localize(None).to_numpy().astype("datetime64[D]"))
    kept_rows = kept.groupby("underlying", sort=True).groups
    summaries = []
    for underlying in sorted(set(by_underlying)):
        rows = kept_rows.get(underlying, pd.Index([], dtype=np.int64))
        part, part_days = kept.loc[rows], days.loc[rows]
        summaries.append(UnderlyingImport(
            underlying=str(underlying),
            rows=len(part),
            contracts=len(part[["expiration", "strike", "right"]].drop_duplicates()),
            days=int(part_days.nunique()),
            first_day=part_days.min().date() if len(part) else None,
            last_day=part_days.max().date() if len(part) else None,
            crossed=int(crossed_by.get(underlying, 0)),
            one_sided=int(one_sided_by.get(underlying, 0)),
            locked=int((part["bid"] == part["ask"]).sum()),
            zero_bid=int(((part["bid"] == 0) & (part["ask"] > 0)).sum()),
        ))
    return tuple(summaries)


def summary_table(report: QuoteImportReport, chain_store: Path, dry_run: bool = False) -> Table:
    """Rich table: one row per underlying symbol (quotes kept, contracts, New York trade days, first
    and last day, crossed and one-sided rows dropped); the caption says how time was read
    and what was kept on purpose."""
    title = f"option quotes -> {chain_store}" + (" (dry run)" if dry_run else "")
    kept = f"{report.total('zero_bid'):,} zero-bid and {report.total('locked'):,} locked quotes kept"
    table = Table(
        title=title, caption="; ".join([*report.timezone_notes, kept]), caption_justify="left", box=box.SIMPLE_HEAD,
        pad_edge=False, collapse_padding=True,  # fits 80 columns
    )
    for name in ("symbol", "quotes", "contracts", "days", "first", "last", "crossed", "one-sided"):
        table.add_column(name, justify="left" if name in ("symbol", "first", "last") else "right", no_wrap=True)
    for u in report.underlyings:
        table.add_row(
            u.underlying, f"{u.rows:,}", f"{u.contracts:,}", f"{u.days:,}", str(u.first_day or "-"), str(u.last_day or "-"),
            f"{u.crossed:,}", f"{u.one_sided:,}",
        )
    return table
