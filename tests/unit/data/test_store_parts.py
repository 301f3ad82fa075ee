"""A vendor's year folder split into parts named in any order still reads as one series."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from builders.cli import good_bars
from vwapcli.data.store import BarStore
from vwapcli.errors import DataValidationError


def write_part(folder: Path, name: str, frame) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    # Microsecond timestamps, as some writers produce: still timestamp + UTC.
    table = table.set_column(0, "ts", table.column("ts").cast(pa.timestamp("us", tz="UTC")))
    pq.write_table(table, folder / name)


def test_parts_named_against_time_order_are_joined_by_their_first_bar(tmp_path: Path) -> None:
    bars = good_bars()
    folder = tmp_path / "bars" / "timeframe=1m" / "symbol=SPY" / "year=2024"
    half = len(bars) // 2
    write_part(folder, "a-later.parquet", bars.iloc[half:])
    write_part(folder, "b-earlier.parquet", bars.iloc[:half])
    read = BarStore(tmp_path).read_bars("SPY")
    assert len(read) == len(bars)
    assert (read["ts"].to_numpy() == bars["ts"].to_numpy()).all()


def test_overlapping_parts_are_still_refused(tmp_path: Path) -> None:
    bars = good_bars()
    folder = tmp_path / "bars" / "timeframe=1m" / "symbol=SPY" / "year=2024"
    write_part(folder, "part-0.parquet", bars.iloc[:400])
    write_part(folder, "part-1.parquet", bars.iloc[390:])
    with pytest.raises(DataValidationError, match="SPY"):
        BarStore(tmp_path).read_bars("SPY")
