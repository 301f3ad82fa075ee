"""Bad VWAP settings fed to `vwapcli backtest`: exit 2, one line naming file and field, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.cli import assert_clean_failure, backtest_args, good_bars, run_cli, write_store


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("strategies:\n  vwap_meanrev:\n    band_atr_frac: -0.5\n", "strategies.vwap_meanrev.band_atr_frac"),
        ("strategies:\n  vwap_meanrev:\n    min_entry_time: '15:45'\n    max_entry_time: '10:00'\n", "min_entry_time"),
    ],
)
def test_negative_band_and_inverted_entry_window_fail_cleanly(yaml_text: str, needle: str, tmp_path: Path, capsys, monkeypatch) -> None:
    store, out = tmp_path / "store", tmp_path / "run"
    write_store(store, good_bars())
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text)
    code, text = run_cli(backtest_args(store, out, "--config", str(config), "--only", "vwap_meanrev"), capsys, monkeypatch)
    assert_clean_failure(code, text, out, needle, "bad.yaml")
