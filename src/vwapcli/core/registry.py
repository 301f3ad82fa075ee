"""Strategies by config key. The engine knows strategies only through this registry.

A strategy module exposes ``STRATEGY_SPEC``; ``vwapcli.strategies`` lists the modules,
one line each, so removing a strategy is: delete its file, its line, its config block.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vwapcli.core.strategy import Strategy, StrategyConfig


@dataclass(frozen=True)
class StrategySpec:
    """How to build one strategy: its config key, display name, config model and factory."""

    key: str  # config key, e.g. "orb"
    name: str  # strategy_name written on signals, e.g. "ORB"
    config_model: type[StrategyConfig]
    factory: Callable[[StrategyConfig], Strategy]


_REGISTRY: dict[str, StrategySpec] = {}


def register(spec: StrategySpec) -> None:
    """Add a strategy; a second registration under the same key replaces the first."""
    _REGISTRY[spec.key] = spec


def register_modules(module_names: Iterable[str]) -> None:
    """Import each strategy module and register its ``STRATEGY_SPEC``."""
    for module_name in module_names:
        module = importlib.import_module(module_name)
        register(module.STRATEGY_SPEC)


def registered() -> dict[str, StrategySpec]:
    """All registered strategies by config key, in registration order."""
    import vwapcli.strategies  # noqa: F401  (registers the shipped strategies)

    return dict(_REGISTRY)


def get_spec(key: str) -> StrategySpec:
    """The spec for a config key; ``KeyError`` names the known keys."""
    specs = registered()
    if key not in specs:
        raise KeyError(f"unknown strategy {key!r}; known: {', '.join(sorted(specs))}")
    return specs[key]
