"""The packaged sample: small, float64, zstd, synthetic-labelled, and reproducible from its seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vwapcli.data.sample import (
    SAMPLE_END,
    SAMPLE_PROVENANCE,
    SAMPLE_SEED,
    SAMPLE_START,
    build_sample,
    sample_path,
    sample_store,
    write_sample,
)
from vwapcli.data.store import BarStore
from vwapcli.data.synthetic import generate_market


def shipped_files() -> list[Path]:
    return sorted(p for p in sample_path().rglob("*") if p.is_file())


def test_the_sample_is_a_small_store_of_spy_and_qqq_with_iv_index() -> None:
    store = sample_store()
    assert store.symbols() == ["QQQ", "SPY"]
    assert store.has_iv_index("SPY") and store.has_iv_index("QQQ")
    assert sum(p.stat().st_size for p in shipped_files()) < 3_000_000


def test_sample_parquet_columns_are_float64_and_zstd_compressed() -> None:
    bar_files = [p for p in shipped_files() if "bars" in p.parts]
    assert len(bar_files) == 2
    for path in bar_files:
        schema = pq.read_schema(path)
        assert schema.field("ts").type == pa.timestamp("ns", tz="UTC")
        for name in ("open", "high", "low", "close", "volume"):
            assert schema.field(name).type == pa.float64()
        meta = pq.ParquetFile(path).metadata
        assert {meta.row_group(0).column(i).compression for i in range(meta.num_columns)} == {"ZSTD"}


def test_sample_is_labelled_synthetic_with_its_seed() -> None:
    assert f"synthetic (seed {SAMPLE_SEED}, packaged sample)" == SAMPLE_PROVENANCE
    assert sample_store().provenance("SPY") == SAMPLE_PROVENANCE


def test_rebuilding_the_sample_reproduces_the_shipped_bytes(tmp_path: Path) -> None:
    rebuilt = build_sample(tmp_path / "sample")
    ours = sorted(p.relative_to(rebuilt.root) for p in rebuilt.root.rglob("*") if p.is_file())
    shipped = [p.relative_to(sample_path()) for p in shipped_files()]
    assert ours == shipped
    for relative in ours:
        assert (rebuilt.root / relative).read_bytes() == (sample_path() / relative).read_bytes(), relative


def test_sample_equals_the_generator_output_for_its_seed_and_range() -> None:
    market = generate_market(["SPY"], SAMPLE_START, SAMPLE_END, seed=SAMPLE_SEED)
    pd.testing.assert_frame_equal(sample_store().read_bars("SPY"), market.bars["SPY"])


def test_sample_covers_about_three_months_with_the_2024_early_closes() -> None:
    bars = sample_store().read_bars("SPY")
    per_day = bars.groupby(bars["ts"].dt.tz_convert("America/New_York").dt.date.astype(str)).size()
    assert 60 <= len(per_day) <= 66
    assert per_day["2024-11-29"] == 210 and per_day["2024-12-24"] == 210
    assert per_day["2024-10-01"] == 390


def test_write_sample_copies_a_window_into_another_store(tmp_path: Path) -> None:
    target = BarStore(tmp_path)
    copied = write_sample(target, ["SPY"], "2024-11-01", "2024-11-30")
    bars = target.read_bars("SPY")
    pd.testing.assert_frame_equal(bars, copied["SPY"])
    days = bars["ts"].dt.tz_convert("America/New_York").dt.date
    assert str(days.min()) == "2024-11-01" and str(days.max()) == "2024-11-29"
    assert target.provenance("SPY") == SAMPLE_PROVENANCE
    iv = target.read_iv_index("SPY")
    assert iv.index.min() == pd.Timestamp("2024-11-01") and iv.index.max() == pd.Timestamp("2024-11-29")
    assert np.isfinite(iv.to_numpy()).all()
