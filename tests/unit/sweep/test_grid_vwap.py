"""Grid files: dotted paths, cartesian expansion, validation, trial identity (issue 6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from vwapcli.app_config import AppConfig, config_from_dict
from vwapcli.errors import ConfigError
from vwapcli.sweep.grid import (
    config_hash,
    expand_grid,
    load_grid,
    parse_grid,
    set_dotted,
    signal_key,
)

BAND = "strategies.vwap_meanrev.band_atr_frac"


def test_grid_expands_to_the_cartesian_product_in_file_order_last_key_fastest() -> None:
    """2 x 3 values -> 6 configurations: (0.3, 0.25) (0.3, 0.5) (0.3, 0.75) (0.5, 0.25) ..."""
    grid = parse_grid({BAND: [0.3, 0.5], "options.slippage": [0.25, 0.5, 0.75]})
    points = expand_grid(AppConfig(), grid)
    assert grid.size == 6
    assert [(p.params[BAND], p.params["options.slippage"]) for p in points] == [
        (0.3, 0.25), (0.3, 0.5), (0.3, 0.75), (0.5, 0.25), (0.5, 0.5), (0.5, 0.75),
    ]
    assert [p.index for p in points] == list(range(6))
    assert points[4].config.strategies["vwap_meanrev"].band_atr_frac == 0.5  # type: ignore[attr-defined]
    assert points[4].config.options.slippage == 0.5


def test_grid_values_are_validated_like_a_config_file() -> None:
    """slippage must lie in [0, 1]: 1.5 is refused with the grid file and the value named."""
    grid = parse_grid({"options.slippage": [0.5, 1.5]}, source="grid.yaml")
    with pytest.raises(ConfigError, match=r"grid\.yaml.*options\.slippage=1\.5.*options\.slippage"):
        expand_grid(AppConfig(), grid)


def test_grid_times_are_parsed_into_config_times() -> None:
    points = expand_grid(AppConfig(), parse_grid({"strategies.vwap_meanrev.min_entry_time": ["10:30"]}))
    assert points[0].config.strategies["vwap_meanrev"].min_entry_time == dt.time(10, 30)  # type: ignore[attr-defined]


def test_unknown_section_in_a_grid_path_is_named_in_the_error() -> None:
    with pytest.raises(ConfigError, match="'strategy' is not a config section"):
        expand_grid(AppConfig(), parse_grid({"strategy.vwap_meanrev.band_atr_frac": [0.3]}))


def test_unknown_field_in_a_grid_path_is_refused() -> None:
    with pytest.raises(ConfigError, match="band_atr_fraq"):
        expand_grid(AppConfig(), parse_grid({"strategies.vwap_meanrev.band_atr_fraq": [0.3]}))


def test_a_value_listed_twice_is_refused_because_it_would_duplicate_a_configuration() -> None:
    with pytest.raises(ConfigError, match="listed twice"):
        parse_grid({"options.dte": [0, 1, 0]})


def test_a_scalar_grid_value_is_a_fixed_override() -> None:
    grid = parse_grid({"options.dte": 1, BAND: [0.3, 0.5]})
    points = expand_grid(AppConfig(), grid)
    assert len(points) == 2 and all(p.config.options.dte == 1 for p in points)


def test_empty_or_non_mapping_grids_are_refused() -> None:
    with pytest.raises(ConfigError, match="non-empty mapping"):
        parse_grid([0.3, 0.5])
    with pytest.raises(ConfigError, match="value list is empty"):
        parse_grid({"options.dte": []})


def test_grid_yaml_is_read_and_broken_yaml_names_the_file(tmp_path: Path) -> None:
    good = tmp_path / "grid.yaml"
    good.write_text(f"{BAND}: [0.3, 0.5]\noptions.slippage: [0.5]\n")
    assert load_grid(good).axes == {BAND: [0.3, 0.5], "options.slippage": [0.5]}
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"{BAND}: [0.3, 0.5\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*broken YAML"):
        load_grid(bad)


def test_set_dotted_creates_a_key_inside_a_mapping_field() -> None:
    """options.symbols is a mapping: a new symbol's override can be swept."""
    raw = AppConfig().resolved_dict()
    set_dotted(raw, "options.symbols.IWM.div_yield", 0.01)
    assert config_from_dict(raw).options.for_symbol("IWM").div_yield == 0.01


def test_config_hash_ignores_key_order_and_how_a_default_was_written() -> None:
    """Same resolved config -> same hash; any changed value -> a different hash."""
    a = config_from_dict({"options": {"slippage": 0.5, "dte": 0}})
    b = config_from_dict({"options": {"dte": 0, "slippage": 0.5}})
    c = AppConfig()  # slippage 0.5 and dte 0 are the defaults
    d = config_from_dict({"options": {"slippage": 0.25}})
    assert config_hash(a) == config_hash(b) == config_hash(c)
    assert config_hash(a) != config_hash(d)
    assert len(config_hash(a)) == 64


def test_configurations_that_differ_only_in_pricing_share_a_signal_key() -> None:
    """dte and slippage change option prices, not signals; band_atr_frac changes signals."""
    points = expand_grid(AppConfig(), parse_grid({BAND: [0.3, 0.5], "options.dte": [0, 1]}))
    keys = [signal_key(p.config) for p in points]
    assert keys[0] == keys[1] and keys[2] == keys[3]
    assert keys[0] != keys[2]
