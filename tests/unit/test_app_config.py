"""Config: SPEC defaults, strict validation with the field path, --only/--enable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from builders.paths import PROJECT
from vwapcli.app_config import AppConfig, config_from_dict, load_config
from vwapcli.errors import ConfigError


def test_default_yaml_equals_builtin_spec_defaults_for_strategies_and_limits() -> None:
    """configs/default.yaml spells out the SPEC defaults; ORB is the one strategy on."""
    from_file = load_config(PROJECT / "configs" / "default.yaml")
    builtin = AppConfig()
    assert from_file.strategies == builtin.strategies
    assert from_file.risk == builtin.risk
    assert from_file.acceptance.model_copy(update={"portfolio": builtin.acceptance.portfolio}) == builtin.acceptance
    assert from_file.acceptance.portfolio.max_drawdown_worsening_pts == 2.0
    assert from_file.exits.exit_time == dt.time(15, 50)
    assert from_file.exits == builtin.exits
    assert from_file.exits.exit_buffer == dt.timedelta(minutes=10)  # SPEC 9 "10min"
    assert from_file.enabled_strategies() == ["orb"]


def test_spec_defaults_of_risk_options_and_acceptance() -> None:
    config = AppConfig()
    assert config.risk.starting_equity == 100_000
    assert config.risk.risk_per_trade_pct == 1.0
    assert config.risk.daily_loss_limit_pct == 3.0
    assert config.options.slippage == 0.5
    assert config.options.commission_per_contract == 0.65
    assert config.options.max_debit_frac == 0.9
    assert config.options.rate == 0.04 and config.options.div_yield == 0.0
    assert (config.acceptance.min_win_rate, config.acceptance.min_profit_factor) == (0.45, 1.3)
    assert (config.acceptance.max_drawdown_pct, config.acceptance.min_years, config.acceptance.min_trades) == (20, 5, 200)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"strategies": {"orb": {"target_range_mult": -1}}}, "strategies.orb.target_range_mult"),
        ({"strategies": {"momentum": {"enabled": True}}}, "unknown strategy 'momentum'"),
        ({"strategies": {"orb": {"range_minute": 30}}}, "strategies.orb.range_minute: Extra inputs are not permitted"),
        ({"risk": {"starting_equity": 0}}, "risk.starting_equity"),
        ({"options": {"slippage": 1.5}}, "options.slippage"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"exits": {"exit_buffer": "soon"}}, "exits.exit_buffer"),
        ({"exits": {"exit_buffer": "-5min"}}, "exits.exit_buffer"),
    ],
)
def test_bad_values_are_rejected_with_the_field_path(raw: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw, "cfg.yaml")
    message = str(caught.value)
    assert message.startswith("cfg.yaml: ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(("text", "minutes"), [("10min", 10), ("90s", 1.5), ("PT15M", 15), (300, 5), ("0min", 0)])
def test_exit_buffer_reads_pandas_and_iso_durations_and_seconds(text: object, minutes: float) -> None:
    config = config_from_dict({"exits": {"exit_buffer": text}}, "cfg.yaml")
    assert config.exits.exit_buffer == dt.timedelta(minutes=minutes)


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("risk:\n  starting_equity: [1, 2\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: line \d+, column \d+: broken YAML"):
        load_config(path)


def test_missing_config_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_only_enables_just_that_strategy_and_unknown_names_are_refused() -> None:
    config = config_from_dict({"strategies": {"orb": {"enabled": False}}})
    assert config.enabled_strategies() == []
    assert config.with_strategies(only="orb").enabled_strategies() == ["orb"]
    assert config.with_strategies(enable=["orb"]).enabled_strategies() == ["orb"]
    with pytest.raises(ConfigError, match="unknown strategy 'nope'"):
        config.with_strategies(only="nope")


def test_per_symbol_overrides_fall_back_to_global_values() -> None:
    config = config_from_dict({"options": {"symbols": {"SPY": {"div_yield": 0.013, "strike_increment": 0.5}}}})
    spy, iwm = config.options.for_symbol("SPY"), config.options.for_symbol("IWM")
    assert (spy.div_yield, spy.strike_increment, spy.rate) == (0.013, 0.5, 0.04)
    assert (iwm.div_yield, iwm.strike_increment, iwm.rate) == (0.0, 1.0, 0.04)


def test_every_parameter_has_a_description() -> None:
    """Issue 8: every SPEC 5-8 and 11 parameter is a documented field (strategies included)."""
    import vwapcli.config as config_module
    from vwapcli.strategies import catalogue

    models = [
        config_module.DataConfig, config_module.OptionsConfig, config_module.SymbolOverride,
        config_module.ExitsConfig, config_module.RiskConfig, config_module.AcceptanceConfig,
        config_module.PortfolioAcceptance, *(spec.config_model for spec in catalogue().values()),
    ]
    undocumented = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if not field.description and name not in {"symbols", "portfolio"}
    ]
    assert undocumented == []


def test_builtin_defaults_equal_configs_default_yaml_field_for_field() -> None:
    """An install that cannot find the file must price and judge exactly as the repo does."""
    from_file = load_config(PROJECT / "configs" / "default.yaml")
    assert AppConfig() == from_file
    assert AppConfig().resolved_dict() == from_file.resolved_dict()
    assert from_file.options.for_symbol("SPY").div_yield == 0.013
