"""Every corrupt input fed to `vwapcli backtest` gives exit 2, one short line, no traceback,
and writes nothing (issue 8, "How it will be checked")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.cli import assert_clean_failure, backtest_args, good_bars, run_cli, write_store


def corrupt(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    frame = frame.copy()
    if kind == "nan_price":
        frame.loc[5, "close"] = np.nan
    elif kind == "duplicate_ts":
        frame.loc[6, "ts"] = frame.loc[5, "ts"]
    elif kind == "out_of_order_ts":
        frame.loc[[5, 6], "ts"] = frame.loc[[6, 5], "ts"].to_numpy()
    elif kind == "high_below_low":
        frame.loc[7, "high"] = frame.loc[7, "low"] - 1.0
    elif kind == "negative_volume":
        frame.loc[8, "volume"] = -5.0
    elif kind == "missing_column":
        frame = frame.drop(columns=["volume"])
    elif kind == "naive_ts":
        frame["ts"] = frame["ts"].dt.tz_localize(None)
    return frame


@pytest.mark.parametrize(
    ("kind", "needles"),
    [
        ("nan_price", ["part-0.parquet", "NaN"]),
        ("duplicate_ts", ["part-0.parquet", "duplicate"]),
        ("out_of_order_ts", ["part-0.parquet"]),
        ("high_below_low", ["part-0.parquet", "high"]),
        ("negative_volume", ["part-0.parquet", "volume"]),
        ("missing_column", ["part-0.parquet", "volume"]),
        ("naive_ts", ["part-0.parquet"]),
    ],
)
def test_corrupt_bars_fail_cleanly(kind: str, needles: list[str], tmp_path: Path, capsys, monkeypatch) -> None:
    store, out = tmp_path / "store", tmp_path / "run"
    write_store(store, corrupt(good_bars(), kind))
    code, text = run_cli(backtest_args(store, out), capsys, monkeypatch)
    assert_clean_failure(code, text, out, *needles)


def test_truncated_parquet_fails_cleanly(tmp_path: Path, capsys, monkeypatch) -> None:
    store, out = tmp_path / "store", tmp_path / "run"
    path = write_store(store, good_bars())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, text = run_cli(backtest_args(store, out), capsys, monkeypatch)
    assert_clean_failure(code, text, out, "part-0.parquet")


def test_empty_store_fails_cleanly(tmp_path: Path, capsys, monkeypatch) -> None:
    store, out = tmp_path / "empty", tmp_path / "run"
    store.mkdir()
    code, text = run_cli(backtest_args(store, out), capsys, monkeypatch)
    assert_clean_failure(code, text, out, str(store))


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("strategies:\n  orb:\n    range_minutes: -30\n", "strategies.orb.range_minutes"),
        ("risk: [unclosed\n", "broken YAML"),
        ("strategies:\n  mystery: {enabled: true}\n", "unknown strategy 'mystery'"),
    ],
)
def test_bad_configs_fail_cleanly(yaml_text: str, needle: str, tmp_path: Path, capsys, monkeypatch) -> None:
    store, out = tmp_path / "store", tmp_path / "run"
    write_store(store, good_bars())
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text)
    code, text = run_cli(backtest_args(store, out, "--config", str(config)), capsys, monkeypatch)
    assert_clean_failure(code, text, out, needle, "bad.yaml")


def test_unknown_strategy_name_on_the_command_line_fails_cleanly(tmp_path: Path, capsys, monkeypatch) -> None:
    store, out = tmp_path / "store", tmp_path / "run"
    write_store(store, good_bars())
    code, text = run_cli(backtest_args(store, out, "--only", "mystery"), capsys, monkeypatch)
    assert_clean_failure(code, text, out, "unknown strategy 'mystery'")


def test_an_existing_run_folder_is_refused_and_left_untouched(tmp_path: Path, capsys, monkeypatch) -> None:
    store, out = tmp_path / "store", tmp_path / "run"
    write_store(store, good_bars())
    out.mkdir()
    (out / "keep.txt").write_text("earlier run")
    code, text = run_cli(backtest_args(store, out), capsys, monkeypatch)
    assert code == 2 and "already exists" in text
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
