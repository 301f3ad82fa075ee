"""Builders for end-to-end CLI tests: a tiny valid bar store and an in-process CLI call."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vwapcli.cli import main

DAYS = [dt.date(2024, 3, 11), dt.date(2024, 3, 12), dt.date(2024, 3, 13)]


def good_bars() -> pd.DataFrame:
    """Three regular sessions of 1-minute SPY bars (09:30-16:00 New York), gently oscillating."""
    frames = []
    for day in DAYS:
        start = pd.Timestamp.combine(day, dt.time(9, 30)).tz_localize("America/New_York").tz_convert("UTC")
        ts = pd.date_range(start, periods=390, freq="1min")
        close = 500 + np.sin(np.arange(390) / 20.0)
        frames.append(pd.DataFrame({
            "ts": ts, "open": close - 0.01, "high": close + 0.05, "low": close - 0.05,
            "close": close, "volume": np.full(390, 1000.0),
        }))
    return pd.concat(frames, ignore_index=True)


def write_store(root: Path, frame: pd.DataFrame, schema: pa.Schema | None = None) -> Path:
    folder = root / "bars" / "timeframe=1m" / "symbol=SPY" / "year=2024"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "part-0.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False, schema=schema), path)
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["vwapcli", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


def backtest_args(store: Path, out: Path, *extra: str) -> list[str]:
    return ["backtest", "--store", str(store), "--symbols", "SPY", "--out", str(out), *extra]


def assert_one_line_failure(code: int, text: str, *needles: str) -> None:
    """Exit 2, no traceback, one line (rich may soft-wrap a long path once), naming ``needles``."""
    assert code == 2, text
    assert "Traceback" not in text
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) <= 2, text
    for needle in needles:
        assert needle in text, (needle, text)


def assert_clean_failure(code: int, text: str, out: Path, *needles: str) -> None:
    """``assert_one_line_failure`` and nothing written at ``out``."""
    assert_one_line_failure(code, text, *needles)
    assert not out.exists()




def synthetic_store(root: Path, start: str = "2024-01-02", end: str = "2024-06-28") -> Path:
    """Seeded synthetic SPY + QQQ bars and IV index (default: six months, about 100k bars)."""
    from vwapcli.data.store import BarStore
    from vwapcli.data.synthetic import generate_market

    generated = generate_market(["SPY", "QQQ"], start, end, seed=7)
    store = BarStore(root)
    for symbol, bars in generated.bars.items():
        store.write_bars(symbol, bars, provenance=generated.provenance)
        store.write_iv_index(symbol, generated.iv_index[symbol])
    return root


def sample_store(root: Path) -> Path:
    """The packaged synthetic sample (SPY, QQQ, ~3 months) written into a fresh store."""
    from vwapcli.data.sample import write_sample
    from vwapcli.data.store import BarStore

    store = root / "sample-store"
    write_sample(BarStore(store))
    return store


def invoke(args: list[str]) -> None:
    """Run the CLI in-process and require success."""
    saved = sys.argv
    sys.argv = ["vwapcli", *args]
    try:
        main()
    except SystemExit as exited:
        assert not exited.code, f"vwapcli {' '.join(args)} exited {exited.code}"
    finally:
        sys.argv = saved
