"""ORB signals on real bars equal an independent reading of SPEC 3.2 and 6 (tests/independent_reference.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cli_builders import invoke
from independent_reference import as_frame, orb_signals, read_real_bars
from vwapcli.data.store import BarStore

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
FILES = {"SPY": "SPY_1m_2024-02-20_2024-05-17.parquet", "QQQ": "QQQ_1m_2025-09-15_2026-03-19.parquet"}


@pytest.mark.parametrize("symbol", sorted(FILES))
def test_orb_signals_on_real_bars_match_the_independent_reading(symbol: str, tmp_path: Path) -> None:
    path = REAL / FILES[symbol]
    if not path.exists():
        pytest.skip("real market data folder is absent")
    bars = read_real_bars(path)
    BarStore(tmp_path / "store").write_bars(symbol, bars, provenance="real (test)")
    invoke(["signals", "--store", str(tmp_path / "store"), "--symbols", symbol, "--only", "orb", "--out", str(tmp_path / "s.csv")])
    ours = pd.read_csv(tmp_path / "s.csv", parse_dates=["entry_time"])
    expected = as_frame(orb_signals(bars, symbol))
    assert len(expected) > 20
    key = ["symbol", "entry_time", "direction"]
    ours["entry_time"] = ours["entry_time"].astype("datetime64[ns, UTC]")
    pd.testing.assert_frame_equal(ours[[*key, "P", "P_stop", "P_target"]], expected, check_exact=False, rtol=1e-12)
