"""Hostile configs and grids (issue 12, item 3): NaN and +/-inf refused in every numeric
field, seeds >= 0, and YAML alias bombs refused in one short line that never echoes them."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from vwapcli.app_config import AppConfig, load_config
from vwapcli.config import MAX_YAML_VALUES, read_yaml_file
from vwapcli.errors import ConfigError
from vwapcli.sweep.grid import MAX_GRID_POINTS, load_grid


def _numeric_leaves(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every int/float leaf of the resolved default config (bools are not numbers here)."""
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _numeric_leaves(value, (*prefix, str(key)))]
    if isinstance(node, int | float) and not isinstance(node, bool):
        return [prefix]
    return []


DEFAULTS = AppConfig().resolved_dict()
NUMERIC_PATHS = _numeric_leaves(DEFAULTS)


def test_the_hunt_finds_the_numeric_fields_of_every_section() -> None:
    """Guard against an empty parametrisation: every section has numbers, strategies included."""
    sections = {path[0] for path in NUMERIC_PATHS}
    assert {"options", "risk", "acceptance", "strategies"} <= sections  # exits: durations, below
    assert len(NUMERIC_PATHS) >= 30


def _with(raw: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy = yaml.safe_load(yaml.safe_dump(raw))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("path", NUMERIC_PATHS, ids=[".".join(p) for p in NUMERIC_PATHS])
def test_nan_and_infinities_are_refused_in_every_numeric_field_read_from_yaml(
    path: tuple[str, ...], bad: float, tmp_path: Path
) -> None:
    """The YAML spellings .nan / .inf / -.inf (what safe_dump writes) are refused, naming the field."""
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(_with(DEFAULTS, path, bad)))
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    message = str(refused.value)
    assert path[-1] in message, message
    assert "\n" not in message


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf", "nan", "NaT", "inf", "1e400"])
def test_the_exit_buffer_refuses_nan_and_infinite_durations_in_every_spelling(text: str, tmp_path: Path) -> None:
    """Seconds (.nan, .inf), and pandas-style text ("nan" and "NaT" parse to pandas' NaT)."""
    config = tmp_path / "config.yaml"
    config.write_text(f"exits:\n  exit_buffer: {text}\n")
    with pytest.raises(ConfigError, match=r"exits\.exit_buffer"):
        load_config(config)


def test_nan_is_refused_in_an_optional_numeric_field_left_unset_by_default(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("acceptance:\n  portfolio:\n    max_drawdown_worsening_pts: .nan\n")
    with pytest.raises(ConfigError, match="max_drawdown_worsening_pts"):
        load_config(config)


def test_a_negative_bootstrap_seed_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("acceptance:\n  bootstrap_seed: -1\n")
    with pytest.raises(ConfigError, match="bootstrap_seed"):
        load_config(config)


def _alias_bomb(levels: int = 9) -> str:
    """The classic "billion laughs": 9 levels of 9 aliases = 9**9 (387 million) strings
    from a file of a few hundred bytes."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def _assert_short_refusal(error: ConfigError, started: float) -> None:
    message = str(error)
    assert time.perf_counter() - started < 5.0  # refused, not expanded
    assert "expands to more than" in message
    assert f"{MAX_YAML_VALUES:,}" in message
    assert "lol" not in message  # the value is never echoed
    assert len(message) < 300 and "\n" not in message


def test_a_config_whose_aliases_expand_past_the_bound_is_refused_quickly_without_echoing_it(tmp_path: Path) -> None:
    config = tmp_path / "bomb.yaml"
    config.write_text(_alias_bomb())
    assert config.stat().st_size < 1000
    started = time.perf_counter()
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    _assert_short_refusal(refused.value, started)


def test_a_grid_whose_aliases_expand_past_the_bound_is_refused_quickly(tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(_alias_bomb() + "options.slippage: *a8\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError) as refused:
        load_grid(grid)
    _assert_short_refusal(refused.value, started)


def test_a_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    """``&a [*a]`` loads as a list containing itself: infinite when walked."""
    config = tmp_path / "loop.yaml"
    config.write_text("strategies: &a [*a]\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError) as refused:
        read_yaml_file(config, "config")
    _assert_short_refusal(refused.value, started)


def test_aliases_within_the_bound_still_load(tmp_path: Path) -> None:
    """Aliases are YAML, not an attack: two levels (9 + 81 values) are fine."""
    config = tmp_path / "small.yaml"
    config.write_text(_alias_bomb(levels=2))
    assert len(read_yaml_file(config, "config")["a1"]) == 9


def test_a_config_nested_past_the_parsers_depth_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "deep.yaml"
    config.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError) as refused:
        read_yaml_file(config, "config")
    assert len(str(refused.value)) < 300


def test_a_grid_of_more_configurations_than_the_bound_is_refused_before_expansion(tmp_path: Path) -> None:
    """Five axes of ten values: 10**5 = 100,000 configurations from a 5-line file."""
    grid = tmp_path / "grid.yaml"
    values = "[" + ", ".join(str(0.01 * (i + 1)) for i in range(10)) + "]"
    grid.write_text("".join(f"axis{i}.x: {values}\n" for i in range(5)))
    assert MAX_GRID_POINTS < 10**5
    with pytest.raises(ConfigError, match="100,000 configurations"):
        load_grid(grid)


def test_a_grid_sweeping_a_nan_value_is_refused_naming_the_field(tmp_path: Path) -> None:
    from vwapcli.sweep.grid import expand_grid

    grid = tmp_path / "grid.yaml"
    grid.write_text("options.slippage: [0.5, .nan]\n")
    with pytest.raises(ConfigError, match=r"options\.slippage"):
        expand_grid(AppConfig(), load_grid(grid))


def test_a_negative_synthetic_seed_is_refused_with_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    from builders.cli import run_cli

    store = tmp_path / "s"
    args = ["fetch", "--source", "synthetic", "--symbols", "SPY", "--start", "2024-01-02", "--end", "2024-01-05",
            "--store", str(store), "--seed", "-1"]
    code, text = run_cli(args, capsys, monkeypatch)
    assert code == 2, text
    assert "--seed" in text and "Traceback" not in text
    assert not store.exists()
