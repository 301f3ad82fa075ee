"""Config lookup: the user's ./configs first, then the configs shipped with the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.paths import PROJECT
from vwapcli.app_config import load_config
from vwapcli.resources import find_config_file, shipped_config_file

CONFIGS = PROJECT / "configs"


def test_an_empty_folder_reads_the_shipped_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config_file("default.yaml") == shipped_config_file("default.yaml")
    assert find_config_file("expirations.yaml") == shipped_config_file("expirations.yaml")
    assert load_config() == load_config(CONFIGS / "default.yaml")


def test_a_configs_folder_in_the_working_directory_comes_first_also_for_nested_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configs" / "calibration").mkdir(parents=True)
    (tmp_path / "configs" / "default.yaml").write_text("risk: {starting_equity: 25000}\n")
    (tmp_path / "configs" / "calibration" / "IWM.yaml").write_text("symbol: IWM\n")
    monkeypatch.chdir(tmp_path)
    assert load_config().risk.starting_equity == 25_000
    assert find_config_file("calibration/IWM.yaml") == tmp_path / "configs" / "calibration" / "IWM.yaml"
