"""The VWAP module's config block: shipped off, validated, switchable (deleted with the module)."""

from __future__ import annotations

import pytest

from builders.paths import PROJECT
from vwapcli.app_config import AppConfig, config_from_dict, load_config
from vwapcli.errors import ConfigError


def test_production_config_ships_the_module_disabled() -> None:
    config = load_config(PROJECT / "configs" / "default.yaml")
    assert config.strategies["vwap_meanrev"].enabled is False
    assert config.enabled_strategies() == ["orb"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"strategies": {"vwap_meanrev": {"band_atr_frac": -0.5}}}, "strategies.vwap_meanrev.band_atr_frac"),
        ({"strategies": {"vwap_meanrev": {"min_entry_time": "15:45"}}}, "min_entry_time 15:45:00 is after max_entry_time"),
        ({"strategies": {"vwap_meanrev": {"atr_method": "ema"}}}, "strategies.vwap_meanrev.atr_method"),
    ],
)
def test_bad_vwap_values_are_rejected_with_the_field_path(raw: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match=r"cfg\.yaml: ") as caught:
        config_from_dict(raw, "cfg.yaml")
    assert expected in str(caught.value)


def test_flag_off_and_deleted_block_resolve_identically() -> None:
    explicit_off = config_from_dict({"strategies": {"orb": {"enabled": True}, "vwap_meanrev": {"enabled": False}}})
    deleted = config_from_dict({"strategies": {"orb": {"enabled": True}}})
    assert explicit_off == deleted


def test_only_runs_the_module_alone_and_enable_adds_it() -> None:
    config = AppConfig()
    assert config.with_strategies(only="vwap_meanrev").enabled_strategies() == ["vwap_meanrev"]
    assert config.with_strategies(enable=["vwap_meanrev"]).enabled_strategies() == ["orb", "vwap_meanrev"]
