"""Vendor CSV/Parquet import: column mapping, timezone inference said out loud, validation, store write.

Timezone arithmetic used below: 2024-01-02 is winter (EST, UTC-5), so 09:30 New York is
14:30Z; 2024-07-01 is summer (EDT, UTC-4), so 09:30 New York is 13:30Z.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vwapcli.data.csv_import import import_bars, read_vendor_file, symbol_from_filename
from vwapcli.data.store import BarStore
from vwapcli.errors import DataValidationError

ROWS = "100.0,100.5,99.5,100.25,1200\n100.25,100.75,100.0,100.5,900\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def two_rows(header: str, first_ts: str, second_ts: str) -> str:
    lines = ROWS.splitlines()
    return f"{header}\n{first_ts},{lines[0]}\n{second_ts},{lines[1]}\n"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_naive_strings_without_tz_are_read_as_new_york_and_the_summary_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "SPY.csv", two_rows("timestamp,open,high,low,close,volume", "2024-01-02 09:30:00", "2024-01-02 09:31:00"))
    vendor = read_vendor_file(path)
    assert list(vendor.bars["ts"]) == [utc("2024-01-02 14:30"), utc("2024-01-02 14:31")]
    assert vendor.timezone_note == "timestamps had no timezone: assumed America/New_York (pass --tz to override)"


def test_naive_strings_use_the_explicit_tz(tmp_path: Path) -> None:
    path = write(tmp_path / "SPY.csv", two_rows("datetime,open,high,low,close,volume", "2024-01-02 14:30", "2024-01-02 14:31"))
    vendor = read_vendor_file(path, tz="UTC")
    assert vendor.bars["ts"].iloc[0] == utc("2024-01-02 14:30")
    assert vendor.timezone_note == "naive timestamps read as UTC (--tz)"


def test_strings_with_offsets_keep_their_own_timezone_across_a_dst_change(tmp_path: Path) -> None:
    """09:30-05:00 on 03-08 (EST) is 14:30Z; 09:30-04:00 on 03-11 (EDT) is 13:30Z."""
    path = write(tmp_path / "SPY.csv", two_rows("Time,Open,High,Low,Close,Volume", "2024-03-08T09:30:00-05:00", "2024-03-11T09:30:00-04:00"))
    vendor = read_vendor_file(path, tz="Asia/Tokyo")
    assert list(vendor.bars["ts"]) == [utc("2024-03-08 14:30"), utc("2024-03-11 13:30")]
    assert vendor.timezone_note == "timestamps with UTC offsets kept"


def test_epoch_seconds_and_milliseconds_are_read_as_utc(tmp_path: Path) -> None:
    """1704205800 s = 2024-01-02 14:30:00Z (19724 days * 86400 + 52200 s)."""
    seconds = write(tmp_path / "SPY_s.csv", two_rows("t,o,h,l,c,v", "1704205800", "1704205860"))
    millis = write(tmp_path / "SPY_ms.csv", two_rows("t,o,h,l,c,v", "1704205800000", "1704205860000"))
    for path, unit in ((seconds, "s"), (millis, "ms")):
        vendor = read_vendor_file(path)
        assert vendor.bars["ts"].iloc[0] == utc("2024-01-02 14:30")
        assert vendor.timezone_note == f"epoch {unit} read as UTC"


def test_separate_date_and_time_columns_are_joined(tmp_path: Path) -> None:
    text = "Date,Time,Open,High,Low,Close,Volume\n2024-07-01,09:30,100.0,100.5,99.5,100.25,1200\n"
    vendor = read_vendor_file(write(tmp_path / "QQQ.csv", text))
    assert vendor.bars["ts"].iloc[0] == utc("2024-07-01 13:30")
    assert list(vendor.bars.columns) == ["ts", "open", "high", "low", "close", "volume"]


def test_tz_aware_parquet_is_kept(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Timestamp": pd.date_range("2024-01-02 09:30", periods=2, freq="1min", tz="America/New_York"),
            "OPEN": [1.0, 1.0], "HIGH": [2.0, 2.0], "LOW": [0.5, 0.5], "CLOSE": [1.5, 1.5], "VOLUME": [5, 6],
        }
    )
    frame.to_parquet(tmp_path / "IWM.parquet")
    vendor = read_vendor_file(tmp_path / "IWM.parquet")
    assert vendor.bars["ts"].iloc[0] == utc("2024-01-02 14:30")
    assert vendor.timezone_note == "timezone-aware timestamps kept"


def test_a_missing_price_column_names_the_file_and_what_was_found(tmp_path: Path) -> None:
    path = write(tmp_path / "SPY.csv", "ts,open,high,close,volume\n2024-01-02 09:30,1,2,1.5,3\n")
    with pytest.raises(DataValidationError, match=r"SPY.csv: missing column\(s\) low .*found ts, open, high, close, volume"):
        read_vendor_file(path)


def test_an_unparseable_timestamp_names_file_and_row(tmp_path: Path) -> None:
    path = write(tmp_path / "SPY.csv", two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "not a time"))
    with pytest.raises(DataValidationError, match=r"SPY.csv: row 1: cannot parse timestamp 'not a time'"):
        read_vendor_file(path)


def test_a_time_that_dst_skips_is_rejected_rather_than_guessed(tmp_path: Path) -> None:
    """02:30 on 2024-03-10 does not exist in New York (clocks jump 02:00 -> 03:00)."""
    path = write(tmp_path / "SPY.csv", two_rows("ts,open,high,low,close,volume", "2024-03-10 01:59", "2024-03-10 02:30"))
    with pytest.raises(DataValidationError, match=r"row 1 \(2024-03-10 02:30:00\): time is ambiguous or does not exist"):
        read_vendor_file(path)


def test_symbol_comes_from_the_file_name() -> None:
    assert symbol_from_filename(Path("spy_1m_2024.csv")) == "SPY"
    assert symbol_from_filename(Path("QQQ-minute.parquet")) == "QQQ"


def test_a_folder_import_writes_each_symbol_with_csv_provenance(tmp_path: Path) -> None:
    folder = tmp_path / "vendor"
    folder.mkdir()
    write(folder / "SPY_1m.csv", two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "2024-01-02 09:31"))
    write(folder / "QQQ_1m.csv", two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "2024-01-02 09:31"))
    write(folder / "notes.md", "ignored")
    store = BarStore(tmp_path / "store")
    summaries = import_bars(folder, store)
    assert [(s.symbol, s.rows, s.dropped) for s in summaries] == [("QQQ", 2, 0), ("SPY", 2, 0)]
    assert store.symbols() == ["QQQ", "SPY"]
    assert store.provenance("SPY") == "csv import (vendor)"
    assert store.read_bars("SPY")["ts"].iloc[0] == utc("2024-01-02 14:30")
    assert "assumed America/New_York" in summaries[0].timezone_note


def test_a_symbol_column_splits_one_file_into_symbols(tmp_path: Path) -> None:
    text = (
        "ticker,ts,open,high,low,close,volume\n"
        "spy,2024-01-02T14:30:00Z,1,2,0.5,1.5,10\nqqq,2024-01-02T14:30:00Z,3,4,2.5,3.5,20\n"
    )
    store = BarStore(tmp_path / "store")
    summaries = import_bars(write(tmp_path / "mixed.csv", text), store, symbols=["QQQ"])
    assert [s.symbol for s in summaries] == ["QQQ"]
    assert store.symbols() == ["QQQ"]
    assert store.read_bars("QQQ")["open"].tolist() == [3.0]


def test_a_single_file_takes_the_single_requested_symbol(tmp_path: Path) -> None:
    path = write(tmp_path / "download.csv", two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "2024-01-02 09:31"))
    store = BarStore(tmp_path / "store")
    import_bars(path, store, symbols=["IWM"])
    assert store.symbols() == ["IWM"]


def test_a_bad_row_in_one_file_means_nothing_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "vendor"
    folder.mkdir()
    write(folder / "AAA.csv", two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "2024-01-02 09:31"))
    bad = "ts,open,high,low,close,volume\n2024-01-02 09:30,100,99,98,100.5,10\n"  # high 99 < close 100.5
    write(folder / "BBB.csv", bad)
    store = BarStore(tmp_path / "store")
    with pytest.raises(DataValidationError, match=r"BBB.csv: row 0 \(2024-01-02 14:30:00\+00:00\): high 99 < max"):
        import_bars(folder, store)
    assert store.is_empty()


def test_repair_drops_bad_rows_and_counts_them(tmp_path: Path) -> None:
    text = two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "2024-01-02 09:31") + "2024-01-02 09:32,1,2,0.5,1.5,-3\n"
    store = BarStore(tmp_path / "store")
    summaries = import_bars(write(tmp_path / "SPY.csv", text), store, repair=True)
    assert (summaries[0].rows, summaries[0].dropped) == (2, 1)


def test_dry_run_validates_but_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / "SPY.csv", two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "2024-01-02 09:31"))
    store = BarStore(tmp_path / "store")
    summaries = import_bars(path, store, dry_run=True)
    assert summaries[0].rows == 2
    assert store.is_empty()


def test_overlapping_files_of_one_symbol_are_rejected_as_duplicates(tmp_path: Path) -> None:
    folder = tmp_path / "vendor"
    folder.mkdir()
    body = two_rows("ts,open,high,low,close,volume", "2024-01-02 09:30", "2024-01-02 09:31")
    write(folder / "SPY_a.csv", body)
    write(folder / "SPY_b.csv", body)
    with pytest.raises(DataValidationError, match=r"files SPY_a.csv, SPY_b.csv\): row 1 .*duplicate timestamp"):
        import_bars(folder, BarStore(tmp_path / "store"))
