"""SPEC 3.1 bar store: roundtrip, partition pushdown, idempotent and atomic writes, metadata."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vwapcli.data.store as store_module
from vwapcli.data.store import BAR_SCHEMA, BarStore
from vwapcli.data.validation import BarArrays
from vwapcli.errors import DataValidationError, StoreError


def day_bars(day: str, n: int = 3, price: float = 100.0) -> pd.DataFrame:
    """``n`` one-minute bars from 09:30 New York on ``day``."""
    start = pd.Timestamp(f"{day} 09:30", tz="America/New_York").tz_convert("UTC")
    ts = pd.date_range(start, periods=n, freq="1min").as_unit("ns")
    base = price + np.arange(n, dtype=np.float64)
    return pd.DataFrame(
        {"ts": ts, "open": base, "high": base + 1, "low": base - 1, "close": base + 0.5, "volume": 10.0 * (1 + np.arange(n))}
    )


def frames(*days: str, price: float = 100.0) -> pd.DataFrame:
    return pd.concat([day_bars(d, price=price) for d in days], ignore_index=True)


def tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_written_bars_read_back_identical_with_the_spec_schema(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    df = frames("2024-01-02", "2024-01-03")
    store.write_bars("SPY", df, provenance="test vendor")
    back = store.read_bars("SPY")
    pd.testing.assert_frame_equal(back, df)
    path = tmp_path / "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"
    assert pq.read_schema(path).remove_metadata().equals(BAR_SCHEMA)
    assert pq.ParquetFile(path).metadata.row_group(0).column(1).compression == "ZSTD"


def test_files_are_laid_out_as_hive_partitions_by_new_york_year(tmp_path: Path) -> None:
    """A 2023-12-29 bar and a 2024-01-02 bar land in year=2023 and year=2024."""
    store = BarStore(tmp_path)
    store.write_bars("spy", frames("2023-12-29", "2024-01-02"), provenance="t")
    assert tree(tmp_path) == [
        "bars/timeframe=1m/symbol=SPY/year=2023/part-0.parquet",
        "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet",
        "meta.json",
    ]
    assert store.symbols() == ["SPY"]
    assert store.timeframes() == ["1m"]


def test_reading_2024_opens_only_the_2024_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proof two ways: the reader is asked for one file, and a corrupted 2023 file goes unnoticed."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2023-12-29", "2024-01-02", "2025-01-02"))
    (tmp_path / "bars/timeframe=1m/symbol=SPY/year=2023/part-0.parquet").write_bytes(b"not parquet")
    opened: list[str] = []
    real_scan = store_module.scan_bar_files

    def spy_scan(paths: list[Path]) -> BarArrays | None:
        opened.extend(Path(path).parent.name for path in paths)
        return real_scan(paths)

    monkeypatch.setattr(store_module, "scan_bar_files", spy_scan)
    bars = store.read_bars("SPY", "2024-01-01", "2024-12-31")
    assert opened == ["year=2024"]
    assert list(bars["ts"].dt.tz_convert("America/New_York").dt.date.astype(str).unique()) == ["2024-01-02"]
    assert [p.parent.name for p in store.bar_files("SPY", start="2024-06-01")] == ["year=2024", "year=2025"]


def test_date_filter_keeps_whole_new_york_days(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02", "2024-01-03", "2024-01-04"))
    bars = store.read_bars("SPY", "2024-01-03", "2024-01-03")
    assert len(bars) == 3
    assert bars["ts"].iloc[0] == pd.Timestamp("2024-01-03 14:30", tz="UTC")


def test_writing_the_same_range_twice_stores_each_row_once_and_the_same_bytes(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    df = frames("2024-01-02", "2024-01-03")
    store.write_bars("SPY", df)
    path = tmp_path / "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"
    first_bytes = path.read_bytes()
    store.write_bars("SPY", df)
    assert len(store.read_bars("SPY")) == 6
    assert path.read_bytes() == first_bytes


def test_rewriting_a_day_replaces_exactly_that_day(tmp_path: Path) -> None:
    """Store 01-02..01-04 at price 100, then write 01-03 at price 200: only 01-03 changes."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02", "2024-01-03", "2024-01-04"))
    store.write_bars("SPY", frames("2024-01-03", price=200.0))
    bars = store.read_bars("SPY")
    opens = bars.groupby(bars["ts"].dt.tz_convert("America/New_York").dt.date.astype(str))["open"].first()
    assert opens.to_dict() == {"2024-01-02": 100.0, "2024-01-03": 200.0, "2024-01-04": 100.0}
    assert len(bars) == 9


def test_an_explicit_replace_window_removes_stale_days_the_new_data_lacks(tmp_path: Path) -> None:
    """Re-fetching 01-02..01-04 that now only returns 01-02 drops the stale 01-03 and 01-04."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"))
    store.write_bars("SPY", frames("2024-01-02"), replace_start="2024-01-02", replace_end="2024-01-04")
    days = store.read_bars("SPY")["ts"].dt.tz_convert("America/New_York").dt.date.astype(str).unique()
    assert list(days) == ["2024-01-02", "2024-01-05"]


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2023-12-29", "2024-01-02"))
    store.write_bars("SPY", frames("2024-01-02", price=150.0))
    store.write_iv_index("SPY", pd.Series([15.0], index=[pd.Timestamp("2024-01-02")]))
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]


def test_a_crash_during_a_write_leaves_the_old_file_intact_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02"))
    path = tmp_path / "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"
    before = path.read_bytes()

    def half_write(table: pa.Table, where: str, **kwargs: object) -> None:
        Path(where).write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(store_module.pq, "write_table", half_write)
    with pytest.raises(OSError, match="disk full"):
        store.write_bars("SPY", frames("2024-01-02", price=300.0))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["part-0.parquet"]


def test_a_bad_existing_file_stops_the_write_before_anything_changes(tmp_path: Path) -> None:
    """The 2024 file is corrupt; writing 2023-12-29..2024-01-02 must not touch the 2023 file."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2023-12-29", "2024-01-02"))
    bad = tmp_path / "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"
    bad.write_bytes(b"garbage")
    old_2023 = (tmp_path / "bars/timeframe=1m/symbol=SPY/year=2023/part-0.parquet").read_bytes()
    with pytest.raises(DataValidationError, match=r"year=2024/part-0.parquet: unreadable Parquet"):
        store.write_bars("SPY", frames("2023-12-29", "2024-01-02", price=500.0))
    assert (tmp_path / "bars/timeframe=1m/symbol=SPY/year=2023/part-0.parquet").read_bytes() == old_2023


def test_a_truncated_store_file_is_named_when_read(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02"))
    path = tmp_path / "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataValidationError) as caught:
        store.read_bars("SPY")
    assert str(caught.value).startswith(f"{path}: unreadable Parquet (")


def test_provenance_is_recorded_per_symbol_and_mixed_sources_are_joined(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02"), provenance="synthetic (seed 7)")
    store.write_bars("QQQ", frames("2024-01-02"), provenance="alpaca (raw prices)")
    assert store.provenance("SPY") == "synthetic (seed 7)"
    assert store.provenance("QQQ") == "alpaca (raw prices)"
    store.write_bars("SPY", frames("2024-01-03"), provenance="alpaca (raw prices)")
    assert store.provenance("SPY") == "synthetic (seed 7) + alpaca (raw prices)"
    assert store.is_synthetic(["SPY"]) and not store.is_synthetic(["QQQ"])
    # Rewriting everything the symbol holds resets the label.
    store.write_bars("SPY", frames("2024-01-02", "2024-01-03"), provenance="alpaca (raw prices)")
    assert store.provenance("SPY") == "alpaca (raw prices)"
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["symbols"]["SPY"]["bars"]["1m"] == ["alpaca (raw prices)"]
    assert store.provenance("IWM") == "unknown"


def test_fingerprint_is_deterministic_relative_and_sensitive_to_bytes(tmp_path: Path) -> None:
    first = BarStore(tmp_path / "a")
    first.write_bars("SPY", frames("2023-12-29", "2024-01-02"))
    first.write_bars("QQQ", frames("2024-01-02"))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    second = BarStore(tmp_path / "b")
    digest = first.fingerprint(["SPY", "QQQ"], "1m")
    assert len(digest) == 64
    assert digest == first.fingerprint(["QQQ", "SPY"], "1m")
    assert digest == second.fingerprint(["SPY", "QQQ"], "1m")  # paths are relative to the store
    assert digest != first.fingerprint(["SPY"], "1m")
    assert first.fingerprint(["SPY"], "1m", start="2024-01-01") != first.fingerprint(["SPY"], "1m")
    second.write_bars("QQQ", frames("2024-01-02", price=101.0))
    assert second.fingerprint(["SPY", "QQQ"], "1m") != digest


def test_iv_index_roundtrips_and_replaces_the_dates_it_spans(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_iv_index(
        "SPY",
        pd.DataFrame({"session_date": ["2024-01-02", "2024-01-03", "2024-01-04"], "iv_index": [13.2, 14.0, 15.5]}),
        provenance="synthetic (seed 7)",
    )
    store.write_iv_index("SPY", pd.Series([20.0], index=[pd.Timestamp("2024-01-03")]), provenance="synthetic (seed 7)")
    series = store.read_iv_index("SPY")
    assert series.name == "iv_index"
    assert series.index.name == "session_date"
    assert series.to_dict() == {
        pd.Timestamp("2024-01-02"): 13.2, pd.Timestamp("2024-01-03"): 20.0, pd.Timestamp("2024-01-04"): 15.5,
    }
    assert pq.read_schema(tmp_path / "iv_index/symbol=SPY/part-0.parquet").field("session_date").type == pa.date32()
    assert store.iv_provenance("SPY") == "synthetic (seed 7)"


def test_iv_index_rejects_non_positive_values(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"row 1 \(2024-01-03\): IV index -1.0"):
        BarStore(tmp_path).write_iv_index(
            "SPY", pd.DataFrame({"session_date": ["2024-01-02", "2024-01-03"], "iv_index": [13.0, -1.0]})
        )


def test_missing_iv_index_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no IV index for SPY"):
        BarStore(tmp_path).read_iv_index("SPY")


def test_an_empty_or_missing_store_reads_as_empty(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "nothing")
    assert store.is_empty()
    assert store.symbols() == []
    assert store.date_range("SPY") is None
    bars = store.read_bars("SPY")
    assert bars.empty and list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]


def test_date_range_reports_first_and_last_bar_starts(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2023-12-29", "2024-01-02"))
    assert store.date_range("SPY") == (
        pd.Timestamp("2023-12-29 14:30", tz="UTC"), pd.Timestamp("2024-01-02 14:32", tz="UTC"),
    )


def test_symbols_that_cannot_be_folder_names_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="invalid symbol"):
        BarStore(tmp_path).write_bars("../SPY", frames("2024-01-02"))


def test_a_five_minute_fingerprint_hashes_the_one_minute_files_it_would_resample(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02"))
    before = store.fingerprint(["SPY"], "5m")
    store.write_bars("SPY", frames("2024-01-02", price=101.0))
    assert store.fingerprint(["SPY"], "5m") != before


def test_a_daily_timeframe_has_its_own_partition(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2024-01-02"), timeframe="1d")
    assert store.symbols("1d") == ["SPY"] and store.symbols("1m") == []
    with pytest.raises(StoreError, match="invalid timeframe"):
        store.read_bars("SPY", timeframe="../1m")


def test_a_bad_row_in_one_year_file_is_named_with_that_file_and_row(tmp_path: Path) -> None:
    """The one-scan read finds the problem; the per-file route then names 2024's file, row 1."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2023-12-29", "2024-01-02"))
    path = tmp_path / "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"
    table = pq.read_table(path)
    high = table.column("high").to_numpy().copy()
    high[1] = table.column("low").to_numpy()[1] - 1.0
    pq.write_table(table.set_column(2, "high", pa.array(high)), path)
    with pytest.raises(DataValidationError) as caught:
        store.read_bars("SPY")
    assert str(caught.value).startswith(f"{path}: row 1 (2024-01-02 14:31:00+00:00): high ")


def test_year_files_that_overlap_are_a_one_line_error(tmp_path: Path) -> None:
    """A 2023 file that (by hand) holds a 2024 bar: each file is fine, their order is not."""
    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2023-12-29", "2024-01-02"))
    late = tmp_path / "bars/timeframe=1m/symbol=SPY/year=2023/part-0.parquet"
    early = pq.read_table(late)
    pq.write_table(pa.concat_tables([early, pq.read_table(late.parents[1] / "year=2024/part-0.parquet").slice(1, 1)]),
                   late)
    with pytest.raises(DataValidationError, match="year partitions overlap or are out of order"):
        store.read_bars("SPY")


def test_the_one_scan_read_equals_reading_the_files_one_by_one(tmp_path: Path) -> None:
    """Independent method: read_bar_file per year file, joined; and the DataFrame route."""
    from vwapcli.data.validation import read_bar_file, scan_bar_files

    store = BarStore(tmp_path)
    store.write_bars("SPY", frames("2022-12-30", "2023-12-29", "2024-01-02", price=101.5))
    files = store.bar_files("SPY")
    scanned = scan_bar_files(files)
    assert scanned is not None and len(files) == 3
    one_by_one = BarArrays.concatenate([read_bar_file(path) for path in files])
    for name in ("ts", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(scanned, name), getattr(one_by_one, name))
    pd.testing.assert_frame_equal(store.read_bars("SPY"), frames("2022-12-30", "2023-12-29", "2024-01-02", price=101.5))
