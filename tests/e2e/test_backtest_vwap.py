"""The module behind its flag: off changes nothing; alone, every trade comes from one of its signals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from builders.cli import invoke, sample_store
from builders.paths import PROJECT


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("store"))


def without_vwap_block(text: str) -> str:
    """configs/default.yaml with the `vwap_meanrev:` block (and the lines under it) deleted."""
    lines, kept, skipping, indent = text.splitlines(keepends=True), [], False, 0
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith("vwap_meanrev:"):
            skipping, indent = True, len(line) - len(stripped)
            continue
        if skipping and (not line.strip() or len(line) - len(stripped) > indent):
            continue
        skipping = False
        kept.append(line)
    return "".join(kept)


def test_flag_off_writes_the_same_trades_as_a_config_without_the_block(store: Path, tmp_path: Path) -> None:
    default = (PROJECT / "configs" / "default.yaml").read_text()
    assert "enabled: false" in default.split("vwap_meanrev:")[1].split("\n  ")[1]
    deleted = tmp_path / "no-vwap.yaml"
    deleted.write_text(without_vwap_block(default))
    assert "vwap_meanrev" not in deleted.read_text()
    common = ["backtest", "--store", str(store), "--symbols", "SPY", "QQQ"]
    invoke([*common, "--config", str(PROJECT / "configs" / "default.yaml"), "--out", str(tmp_path / "off")])
    invoke([*common, "--config", str(deleted), "--out", str(tmp_path / "deleted")])
    off, gone = (tmp_path / "off" / "trades.csv").read_bytes(), (tmp_path / "deleted" / "trades.csv").read_bytes()
    assert off == gone
    assert len(off.splitlines()) > 1


def test_every_trade_of_a_module_only_run_matches_one_of_its_signals(store: Path, tmp_path: Path) -> None:
    common = ["--store", str(store), "--symbols", "SPY", "QQQ", "--only", "vwap_meanrev"]
    invoke(["signals", *common, "--out", str(tmp_path / "signals.csv")])
    invoke(["backtest", *common, "--out", str(tmp_path / "run")])
    signals = pd.read_csv(tmp_path / "signals.csv")
    trades = pd.read_csv(tmp_path / "run" / "trades.csv")
    skipped = pd.read_csv(tmp_path / "run" / "skipped.csv")
    assert len(trades) > 0 and set(trades["strategy_name"]) == {"VWAP_MEANREV"}
    key = ["symbol", "entry_time", "direction"]
    merged = trades.merge(signals, on=key, suffixes=("", "_signal"), how="left", validate="one_to_one")
    assert merged["P_signal"].notna().all()
    assert (merged["P"] == merged["P_signal"]).all()
    assert (merged["P_stop"] == merged["P_stop_signal"]).all()
    assert len(trades) + len(skipped) == len(signals)
