"""SPEC 3.3 validation: one test per bad input; each error names file, row, timestamp and rule.

The base frame is five clean 1-minute bars from 2024-01-02 14:30Z; each test breaks one
row (row 2, ts 14:32Z, unless said otherwise) and checks the one-line message and what
``repair=True`` drops.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vwapcli.data.store import BarStore
from vwapcli.data.validation import read_bar_file, read_parquet_file, validate_bars
from vwapcli.errors import DataValidationError

SOURCE = "vendor/SPY_1m.parquet"
ROW2 = "row 2 (2024-01-02 14:32:00+00:00)"


def clean_bars(n: int = 5) -> pd.DataFrame:
    ts = pd.date_range("2024-01-02 14:30", periods=n, freq="1min", tz="UTC").as_unit("ns")
    base = 100.0 + np.arange(n)
    return pd.DataFrame(
        {"ts": ts, "open": base, "high": base + 0.5, "low": base - 0.5, "close": base + 0.25, "volume": 1000.0}
    )


def error_of(df: pd.DataFrame) -> str:
    with pytest.raises(DataValidationError) as caught:
        validate_bars(df, SOURCE)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{SOURCE}: ")
    return message


def test_clean_bars_pass_unchanged_with_nothing_dropped() -> None:
    df = clean_bars()
    clean, dropped = validate_bars(df, SOURCE)
    assert dropped == 0
    pd.testing.assert_frame_equal(clean, df)


def test_nan_price_is_rejected_naming_row_timestamp_and_rule() -> None:
    df = clean_bars()
    df.loc[2, "close"] = np.nan
    message = error_of(df)
    assert ROW2 in message
    assert "NaN/inf price" in message
    assert "close=nan" in message


def test_infinite_price_is_rejected_as_non_finite() -> None:
    df = clean_bars()
    df.loc[2, "high"] = np.inf
    message = error_of(df)
    assert ROW2 in message
    assert "NaN/inf price" in message and "high=inf" in message


def test_duplicate_timestamp_is_rejected_on_the_second_copy() -> None:
    """Row 3 repeats row 2's 14:32Z: the error points at row 3."""
    df = clean_bars()
    df.loc[3, "ts"] = df.loc[2, "ts"]
    message = error_of(df)
    assert "row 3 (2024-01-02 14:32:00+00:00)" in message
    assert "duplicate timestamp" in message
    assert "strictly increasing" in message


def test_out_of_order_timestamp_is_rejected_as_non_monotonic() -> None:
    """ts order 14:30, 14:31, 14:34, 14:33, 14:32 -> row 3 (14:33) is the first step back."""
    df = clean_bars()
    df["ts"] = df["ts"].iloc[[0, 1, 4, 3, 2]].to_numpy()
    message = error_of(df)
    assert "row 3 (2024-01-02 14:33:00+00:00)" in message
    assert "non-monotonic" in message


def test_high_below_low_is_rejected_as_high_below_max_open_close() -> None:
    """Row 2: open 102, close 102.25, high 101, low 101.5: high < low and high < max(o, c) = 102.25."""
    df = clean_bars()
    df.loc[2, ["high", "low"]] = [101.0, 101.5]
    message = error_of(df)
    assert ROW2 in message
    assert "high 101 < max(open, close) 102.25" in message
    assert "rule: high >= max(open, close)" in message


def test_high_below_close_is_rejected() -> None:
    """Row 2: close 102.25 but high 102.1."""
    df = clean_bars()
    df.loc[2, "high"] = 102.1
    message = error_of(df)
    assert "high 102.1 < max(open, close) 102.25" in message


def test_low_above_open_is_rejected() -> None:
    """Row 2: open 102, low 102.1 > min(open, close) = 102."""
    df = clean_bars()
    df.loc[2, "low"] = 102.1
    message = error_of(df)
    assert ROW2 in message
    assert "low 102.1 > min(open, close) 102" in message
    assert "rule: low <= min(open, close)" in message


def test_negative_volume_is_rejected() -> None:
    df = clean_bars()
    df.loc[2, "volume"] = -5.0
    message = error_of(df)
    assert ROW2 in message
    assert "volume -5 is negative" in message
    assert "rule: volume >= 0" in message


def test_missing_columns_are_listed_and_cannot_be_repaired() -> None:
    df = clean_bars().drop(columns=["high", "volume"])
    message = error_of(df)
    assert "missing column(s) high, volume" in message
    with pytest.raises(DataValidationError, match="missing column"):
        validate_bars(df, SOURCE, repair=True)


def test_naive_timestamps_are_rejected_and_cannot_be_repaired() -> None:
    df = clean_bars()
    df["ts"] = df["ts"].dt.tz_localize(None)
    message = error_of(df)
    assert "row 0 (2024-01-02 14:30:00)" in message
    assert "naive timestamp" in message
    with pytest.raises(DataValidationError, match="naive timestamp"):
        validate_bars(df, SOURCE, repair=True)


def test_non_utc_aware_timestamps_are_accepted_and_converted_to_utc() -> None:
    """09:30 America/New_York on 2024-01-02 (EST) is 14:30Z."""
    df = clean_bars()
    df["ts"] = df["ts"].dt.tz_convert("America/New_York")
    clean, _ = validate_bars(df, SOURCE)
    assert clean["ts"].iloc[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")
    assert str(clean["ts"].dt.tz) == "UTC"


def test_message_counts_every_offending_row_and_points_at_repair() -> None:
    df = clean_bars()
    df.loc[1, "volume"] = -1.0
    df.loc[3, "close"] = np.nan
    message = error_of(df)
    assert "row 1 (2024-01-02 14:31:00+00:00)" in message
    assert "2 offending rows in total (import with --repair to drop them)" in message


def test_repair_drops_exactly_the_offending_rows_and_counts_them() -> None:
    """Rows 1 (negative volume), 3 (NaN close), 5 and 6 (both repeat row 4's 14:34Z) go: 3 of 7 remain."""
    df = clean_bars(6)
    df.loc[1, "volume"] = -1.0
    df.loc[3, "close"] = np.nan
    df = pd.concat([df, df.iloc[[4]]], ignore_index=True)  # row 6 duplicates row 4
    df.loc[5, "ts"] = df.loc[4, "ts"]  # row 5 now duplicates row 4 as well
    clean, dropped = validate_bars(df, SOURCE, repair=True)
    assert dropped == 4  # rows 1, 3, 5, 6
    assert list(clean["ts"].dt.strftime("%H:%M")) == ["14:30", "14:32", "14:34"]
    assert clean.index.tolist() == [0, 1, 2]


def test_repair_drops_the_row_that_steps_back_in_time() -> None:
    """ts 14:30, 14:31, 14:34, 14:33, 14:32: rows 3 and 4 are not after 14:34 and are dropped."""
    df = clean_bars()
    df["ts"] = df["ts"].iloc[[0, 1, 4, 3, 2]].to_numpy()
    clean, dropped = validate_bars(df, SOURCE, repair=True)
    assert dropped == 2
    assert list(clean["ts"].dt.strftime("%H:%M")) == ["14:30", "14:31", "14:34"]


def test_truncated_parquet_file_is_reported_as_unreadable_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "SPY.parquet"
    clean_bars().to_parquet(path)
    payload = path.read_bytes()
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataValidationError) as caught:
        read_parquet_file(path)
    assert str(caught.value).startswith(f"{path}: unreadable Parquet (")


def test_store_rejects_a_bad_frame_and_writes_nothing(tmp_path: Path) -> None:
    store = BarStore(tmp_path / "store")
    df = clean_bars()
    df.loc[2, "volume"] = -1.0
    with pytest.raises(DataValidationError, match="negative"):
        store.write_bars("SPY", df, source="vendor.csv")
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*.parquet"))


def test_store_write_with_repair_drops_rows_and_reports_the_count(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    df = clean_bars()
    df.loc[2, "volume"] = -1.0
    result = store.write_bars("SPY", df, repair=True)
    assert (result.rows, result.dropped) == (4, 1)
    assert len(store.read_bars("SPY")) == 4


# ----------------------------------------------------------------- the Arrow read route
def _parquet(tmp_path: Path, df: pd.DataFrame) -> Path:
    path = tmp_path / "part-0.parquet"
    df.to_parquet(path)
    return path


def test_reading_a_clean_file_into_arrays_gives_the_validated_frames_values(tmp_path: Path) -> None:
    """Integer volume, tz-aware ts in New York: arrays are UTC ns and float64, writable."""
    df = clean_bars()
    df["volume"] = np.arange(5, dtype=np.int64) * 100
    df["ts"] = df["ts"].dt.tz_convert("America/New_York")
    bars = read_bar_file(_parquet(tmp_path, df))
    expected, _ = validate_bars(df, SOURCE)
    assert bars.ts.tolist() == [int(t.value) for t in expected["ts"]]
    for name in ("open", "high", "low", "close", "volume"):
        assert bars.__getattribute__(name).dtype == np.float64
        np.testing.assert_array_equal(getattr(bars, name), expected[name].to_numpy())
        assert getattr(bars, name).flags.writeable
    pd.testing.assert_frame_equal(bars.to_frame(), expected)


@pytest.mark.parametrize(
    "breakage",
    ["nan_close", "high_below_close", "negative_volume", "duplicate_ts", "missing_ts", "naive_ts", "text_price",
     "missing_column"],
)
def test_the_arrow_route_rejects_a_file_with_the_dataframe_routes_message(tmp_path: Path, breakage: str) -> None:
    """Independent method: validate_bars on the same file read by pandas."""
    df = clean_bars()
    if breakage == "nan_close":
        df.loc[2, "close"] = np.nan
    elif breakage == "high_below_close":
        df.loc[2, "high"] = df.loc[2, "close"] - 1.0
    elif breakage == "negative_volume":
        df.loc[2, "volume"] = -5.0
    elif breakage == "duplicate_ts":
        df.loc[3, "ts"] = df.loc[2, "ts"]
    elif breakage == "missing_ts":
        df.loc[2, "ts"] = pd.NaT
    elif breakage == "naive_ts":
        df["ts"] = df["ts"].dt.tz_localize(None)
    elif breakage == "text_price":
        df["open"] = df["open"].astype(str)
    else:
        df = df.drop(columns=["volume"])
    path = _parquet(tmp_path, df)
    with pytest.raises(DataValidationError) as reference:
        validate_bars(read_parquet_file(path), str(path))
    with pytest.raises(DataValidationError) as arrow_route:
        read_bar_file(path)
    assert str(arrow_route.value) == str(reference.value)
