"""Strategies by config key: the catalogue the engine knows strategies through (SPEC 2).

Core defines what a catalogue is, never what is in it: the shipped list lives in
``vwapcli.strategies`` (one line per strategy) and the application layer hands it to
whatever needs it. A catalogue is built by declaration from module names, each module
exposing ``STRATEGY_SPEC``; nothing registers itself at import time, and a key or display
name declared twice is an error instead of a silent replacement.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from vwapcli.core.strategy import Strategy, StrategyConfig


@dataclass(frozen=True)
class StrategySpec:
    """How to build one strategy: its config key, display name, config model and factory."""

    key: str  # config key, e.g. "orb"
    name: str  # strategy_name written on signals, e.g. "ORB"
    config_model: type[StrategyConfig]
    factory: Callable[[StrategyConfig], Strategy]


class DuplicateStrategyError(ValueError):
    """Two strategy specs share a config key or a display name (a programming error)."""


class StrategyCatalogue(Mapping[str, StrategySpec]):
    """Strategy specs by config key, in declaration order (the order signals are built in)."""

    def __init__(self, specs: Iterable[StrategySpec]) -> None:
        self._specs: dict[str, StrategySpec] = {}
        names: dict[str, StrategySpec] = {}
        for spec in specs:
            for index, value in ((self._specs, spec.key), (names, spec.name)):
                earlier = index.get(value)
                if earlier is not None:
                    raise DuplicateStrategyError(
                        f"strategy {value!r} is declared twice: by {_origin(earlier)} and by {_origin(spec)}"
                    )
            self._specs[spec.key] = spec
            names[spec.name] = spec

    @classmethod
    def from_modules(cls, module_names: Iterable[str]) -> StrategyCatalogue:
        """Import each strategy module and take its ``STRATEGY_SPEC``."""
        return cls(importlib.import_module(name).STRATEGY_SPEC for name in module_names)

    def __getitem__(self, key: str) -> StrategySpec:
        try:
            return self._specs[key]
        except KeyError:
            raise KeyError(f"unknown strategy {key!r}; known: {self.known()}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def known(self) -> str:
        """The config keys, sorted and comma-separated (for error messages)."""
        return ", ".join(sorted(self._specs))

    def display_names(self, keys: Iterable[str]) -> list[str]:
        """Display names (``strategy_name`` on signals and trades) of config keys, in order."""
        return [self[key].name for key in keys]


def _origin(spec: StrategySpec) -> str:
    return f"{spec.factory.__module__} (key {spec.key!r}, name {spec.name!r})"
