"""The trial ledger: atomic, idempotent appends and counting what was tried on a data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vwapcli.sweep.ledger import (
    LEDGER_COLUMNS,
    append_trials,
    code_version,
    ledger_path,
    read_ledger,
    trial_key,
    trials_on_data,
)


def _rows(config_hashes: list[str], fingerprint: str = "fp-a", sharpes: list[float] | None = None,
          stamp: str = "2025-01-01T00:00:00Z", version: str = "vwapcli 0.1.0") -> pd.DataFrame:
    sharpes = sharpes or [0.05] * len(config_hashes)
    rows = []
    for config_hash, sharpe in zip(config_hashes, sharpes, strict=True):
        rows.append({
            "trial_key": trial_key(config_hash, fingerprint, version, "2024-01-02", "2024-06-28"),
            "config_hash": config_hash, "data_fingerprint": fingerprint, "code_version": version,
            "sweep_id": "sweep-test", "timestamp": stamp, "window_start": "2024-01-02",
            "window_end": "2024-06-28", "params": "{}", "config": "{}", "trades": 10, "win_rate": 0.5,
            "profit_factor": 1.2, "max_drawdown_pct": 3.0, "sharpe": sharpe * 15.87, "total_pnl": 100.0,
            "verdict": "FAIL", "sharpe_daily": sharpe, "skew": 0.0, "kurtosis": 3.0, "n_returns": 120,
        })
    return pd.DataFrame(rows)


def test_ledger_lives_beside_the_bars_of_its_store(tmp_path: Path) -> None:
    assert ledger_path(tmp_path) == tmp_path / "trials" / "ledger.parquet"


def test_appending_trials_creates_the_ledger_with_every_column(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    result = append_trials(path, _rows(["h1", "h2"]))
    assert (result.added, result.already_present, result.total_rows) == (2, 0, 2)
    ledger = read_ledger(path)
    assert list(ledger.columns) == LEDGER_COLUMNS
    assert ledger["config_hash"].tolist() == ["h1", "h2"]
    assert ledger["n_returns"].dtype == np.int64


def test_re_appending_the_same_trials_adds_nothing(tmp_path: Path) -> None:
    """Same config, data, code and window -> same trial_key -> recorded once."""
    path = ledger_path(tmp_path)
    append_trials(path, _rows(["h1", "h2"]))
    again = append_trials(path, _rows(["h2", "h3"], stamp="2025-02-01T00:00:00Z"))
    assert (again.added, again.already_present, again.total_rows) == (1, 1, 3)
    assert read_ledger(path)["config_hash"].tolist() == ["h1", "h2", "h3"]


def test_appends_leave_no_temporary_files_behind(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    append_trials(path, _rows(["h1"]))
    append_trials(path, _rows(["h2"]))
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_trial_key_changes_with_each_part_of_its_identity() -> None:
    base = trial_key("h", "fp", "v1", "2024-01-02", "2024-06-28")
    assert base == trial_key("h", "fp", "v1", "2024-01-02", "2024-06-28")
    variants = [
        trial_key("h2", "fp", "v1", "2024-01-02", "2024-06-28"),
        trial_key("h", "fp2", "v1", "2024-01-02", "2024-06-28"),
        trial_key("h", "fp", "v2", "2024-01-02", "2024-06-28"),
        trial_key("h", "fp", "v1", "2024-01-03", "2024-06-28"),
    ]
    assert len({base, *variants}) == 5


def test_configurations_are_counted_once_per_data_set_whatever_the_code_version(tmp_path: Path) -> None:
    """h1 run under two code versions counts once; fp-b's trial is another data set."""
    path = ledger_path(tmp_path)
    append_trials(path, _rows(["h1", "h2"], sharpes=[0.01, 0.03]))
    append_trials(path, _rows(["h1"], sharpes=[0.02], version="vwapcli 0.2.0", stamp="2025-03-01T00:00:00Z"))
    append_trials(path, _rows(["h9"], fingerprint="fp-b"))
    seen = trials_on_data(read_ledger(path), "fp-a")
    assert seen.configurations == 2
    assert seen.trial_rows == 3
    # The latest Sharpe of each configuration: h1 -> 0.02 (newer), h2 -> 0.03.
    assert sorted(seen.sharpe_daily.tolist()) == [0.02, 0.03]


def test_an_unknown_data_set_has_no_trials(tmp_path: Path) -> None:
    seen = trials_on_data(read_ledger(ledger_path(tmp_path)), "nothing")
    assert seen.configurations == 0 and seen.sharpe_daily.size == 0


def test_rows_missing_a_column_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lack columns"):
        append_trials(ledger_path(tmp_path), _rows(["h1"]).drop(columns=["skew"]))


def test_code_version_names_the_package_version() -> None:
    assert code_version().startswith("vwapcli ")
