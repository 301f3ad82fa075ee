"""The whole run's config: the component models plus one block per catalogued strategy.

``configs/default.yaml`` is the engine's production config. Strategy blocks are validated
through the strategy catalogue (``vwapcli.strategies.catalogue``), so this module never
names a particular strategy; it is the application layer's, because it is where the
catalogue meets the config (core and the lower layers never see the catalogue).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SerializeAsAny, ValidationError, field_validator

from vwapcli.config import (
    AcceptanceConfig,
    DataConfig,
    ExitsConfig,
    Frozen,
    OptionsConfig,
    RiskConfig,
    find_config_file,
    read_yaml_file,
)
from vwapcli.core.strategy import StrategyConfig
from vwapcli.errors import ConfigError
from vwapcli.strategies import catalogue

log = logging.getLogger(__name__)


class AppConfig(Frozen):
    """The whole resolved config of a run, written into run.json."""

    data: DataConfig = Field(default_factory=DataConfig, description="Which bars to read.")
    strategies: dict[str, SerializeAsAny[StrategyConfig]] = Field(
        default_factory=dict, validate_default=True
    )
    options: OptionsConfig = Field(default_factory=OptionsConfig)
    exits: ExitsConfig = Field(default_factory=ExitsConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    acceptance: AcceptanceConfig = Field(default_factory=AcceptanceConfig)

    @field_validator("strategies", mode="before")
    @classmethod
    def _validate_strategy_blocks(cls, value: Any) -> dict[str, StrategyConfig]:
        # Every catalogued strategy gets a block (its defaults when absent), so a deleted
        # block and an explicit `enabled: false` resolve to the same engine behaviour.
        value = value or {}
        if not isinstance(value, dict):
            raise ValueError("must be a mapping of strategy key -> settings")
        specs = catalogue()
        unknown = sorted(set(value) - set(specs))
        if unknown:
            raise ValueError(f"unknown strategy {unknown[0]!r}; known: {specs.known()}")
        blocks: dict[str, StrategyConfig] = {}
        for key, spec in specs.items():
            block = value.get(key) or {}
            if isinstance(block, StrategyConfig):
                blocks[key] = block
                continue
            try:
                blocks[key] = spec.config_model.model_validate(block)
            except ValidationError as error:
                # Re-raised as a plain message: pydantic cannot extend the location from
                # inside a validator, so the path is spelled into the text.
                first = error.errors()[0]
                where = ".".join(str(part) for part in (key, *first["loc"]))
                raise ValueError(f"{where}: {_plain_message(first['msg'])}") from None
        return blocks

    def enabled_strategies(self) -> list[str]:
        """Config keys of enabled strategies, in catalogue order."""
        return [key for key, block in self.strategies.items() if block.enabled]

    def enabled_strategy_names(self) -> list[str]:
        """Display names of the enabled strategies (``strategy_name`` on trades), in order."""
        return catalogue().display_names(self.enabled_strategies())

    def with_strategies(self, only: str | None = None, enable: list[str] | None = None) -> AppConfig:
        """Apply ``--only NAME`` (that strategy alone) or ``--enable NAME`` (alongside)."""
        specs = catalogue()
        for key in [only, *(enable or [])]:
            if key is not None and key not in specs:
                raise ConfigError(f"unknown strategy {key!r}; known: {specs.known()}")
        blocks = {}
        for key, block in self.strategies.items():
            on = key == only if only is not None else block.enabled or key in (enable or [])
            blocks[key] = block.model_copy(update={"enabled": on})
        return self.model_copy(update={"strategies": blocks})

    def resolved_dict(self) -> dict[str, Any]:
        """JSON-ready resolved config for run.json."""
        return self.model_dump(mode="json")


def _plain_message(message: str) -> str:
    return message.removeprefix("Value error, ")


def _format_validation_error(source: str, error: ValidationError) -> str:
    first = error.errors()[0]
    path = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = _plain_message(first["msg"])
    if path == "strategies" and ": " in message and not message.startswith("unknown"):
        nested, message = message.split(": ", 1)
        path = f"strategies.{nested}"
    return f"{source}: {path}: {message}"


def config_from_dict(raw: dict[str, Any], source: str = "<config>") -> AppConfig:
    """Validate a raw mapping; errors become one ``ConfigError`` line with the field path."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: top level must be a mapping, got {type(raw).__name__}")
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(source, error)) from None


def load_config(path: str | Path | None = None) -> AppConfig:
    """Load a YAML config; default ``configs/default.yaml`` (./configs, else the one shipped
    with the package), else the built-in defaults.

    The built-in defaults equal configs/default.yaml field for field (a test holds them
    together); the file exists so a trader can read and edit the production config.
    """
    if path is None:
        found = find_config_file("default.yaml")
        if found is None:
            return AppConfig()
        path = found
    config_path = Path(path)
    return config_from_dict(read_yaml_file(config_path, "config") or {}, str(config_path))


@dataclass(frozen=True)
class StrategyChoice:
    """A command's config and strategy selection: ``--config``, ``--only NAME``, ``--enable NAME``."""

    config_path: Path | None = None
    only: str | None = None
    enable: tuple[str, ...] = ()

    def load(self) -> AppConfig:
        """The config file (default ``configs/default.yaml``) with the selection applied.

        A selection that enables no strategy still runs (an empty run is a valid baseline),
        but never silently: one warning line says so (issue 12 item 6), and the run records
        ``strategies: []``.
        """
        config = load_config(self.config_path).with_strategies(only=self.only, enable=list(self.enable))
        if not config.enabled_strategies():
            log.warning(
                "%s enables no strategy: this run has no signals and no trades "
                "(set enabled: true under strategies:, or pass --only NAME / --enable NAME; known: %s)",
                self.config_path or "the default config", catalogue().known(),
            )
        return config
