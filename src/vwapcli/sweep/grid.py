"""Parameter grids: dotted config paths -> value lists, expanded to validated configurations.

A grid file reads like the config it varies::

    strategies.orb.range_minutes: [15, 30, 60]
    options.slippage: [0.25, 0.5]

Configurations are the cartesian product in file order (the last key varies fastest),
each one the base config with those values set and validated again through
``config_from_dict``, so a sweep can never run a configuration ``vwapcli backtest`` would
refuse.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vwapcli.app_config import AppConfig, config_from_dict
from vwapcli.config import read_yaml_file
from vwapcli.errors import ConfigError


@dataclass(frozen=True)
class Grid:
    """Swept parameters in file order: dotted path -> the values to try."""

    axes: dict[str, list[Any]]
    source: str = "<grid>"

    @property
    def size(self) -> int:
        """Number of configurations in the cartesian product."""
        total = 1
        for values in self.axes.values():
            total *= len(values)
        return total


@dataclass(frozen=True)
class SweepPoint:
    """One configuration of the grid: its swept values, resolved config and identity."""

    index: int  # position in the cartesian product (file order, last key fastest)
    params: dict[str, Any]
    config: AppConfig
    config_hash: str


# Every configuration is a backtest: far more than this is a mistake (or a hostile file),
# never a study (issue 12: bounded resources).
MAX_GRID_POINTS = 10_000


def parse_grid(raw: object, source: str = "<grid>") -> Grid:
    """Check a loaded grid mapping; a scalar value is a one-value list (a fixed override)."""
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(f"{source}: a grid must be a non-empty mapping of dotted config paths to value lists")
    axes: dict[str, list[Any]] = {}
    for key, values in raw.items():
        path = str(key)
        if not path or any(not part for part in path.split(".")):
            raise ConfigError(f"{source}: {path!r} is not a dotted config path (e.g. options.slippage)")
        listed = list(values) if isinstance(values, list | tuple) else [values]
        if not listed:
            raise ConfigError(f"{source}: {path}: the value list is empty")
        seen: list[str] = []
        for value in listed:
            text = json.dumps(value, sort_keys=True, default=str)
            if text in seen:
                raise ConfigError(f"{source}: {path}: value {reprlib.repr(value)} is listed twice")
            seen.append(text)
        axes[path] = listed
    grid = Grid(axes=axes, source=source)
    if grid.size > MAX_GRID_POINTS:
        raise ConfigError(
            f"{source}: the grid has {grid.size:,} configurations (rule: at most {MAX_GRID_POINTS:,} per sweep; "
            "split it or sweep fewer values)"
        )
    return grid


def load_grid(path: Path) -> Grid:
    """Read and check a grid YAML file (one-line ``ConfigError`` naming the file on failure)."""
    return parse_grid(read_yaml_file(Path(path), "grid"), str(path))


def set_dotted(raw: dict[str, Any], path: str, value: Any, source: str = "<grid>") -> None:
    """Set ``a.b.c = value`` inside nested mappings (in place).

    Every parent on the path must already be a mapping in the resolved config (or a
    mapping-valued field such as ``options.symbols``, where a new key is created), so a
    typo fails here with the path rather than deep inside pydantic.
    """
    parts = path.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            where = ".".join(parts[:depth]) or "(top level)"
            raise ConfigError(f"{source}: {path}: {where} is not a section of the config")
        if part not in node:
            if depth == 0:
                raise ConfigError(f"{source}: {path}: {part!r} is not a config section")
            node[part] = {}
        node = node[part]
    if not isinstance(node, dict):
        raise ConfigError(f"{source}: {path}: {'.'.join(parts[:-1])} is not a section of the config")
    node[parts[-1]] = value


def config_hash(config: AppConfig) -> str:
    """sha256 of the resolved config as canonical JSON: the identity of a trial.

    Key order and how a value was written (``0.5`` in the grid or the default) do not
    matter: the hash is taken after validation, over the fully resolved config.
    """
    canonical = json.dumps(config.resolved_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def expand_grid(base: AppConfig, grid: Grid) -> list[SweepPoint]:
    """Every configuration of the grid, validated; order = cartesian product in file order."""
    base_raw = base.resolved_dict()
    paths = list(grid.axes)
    points: list[SweepPoint] = []
    for index, combo in enumerate(itertools.product(*(grid.axes[p] for p in paths))):
        raw = copy.deepcopy(base_raw)
        params = dict(zip(paths, combo, strict=True))
        for path, value in params.items():
            set_dotted(raw, path, value, grid.source)
        label = ", ".join(f"{p}={reprlib.repr(v)}" for p, v in params.items())
        config = config_from_dict(raw, f"{grid.source} [{label}]")
        points.append(SweepPoint(index=index, params=params, config=config, config_hash=config_hash(config)))
    return points


def signal_key(config: AppConfig) -> str:
    """What the signal pass depends on (data + strategy blocks): configurations that share
    it share their signals, so the sweep computes them once per group."""
    resolved = config.resolved_dict()
    return json.dumps({"data": resolved["data"], "strategies": resolved["strategies"]}, sort_keys=True)
