"""The strategy catalogue: declared, ordered, and strict about duplicates (issue 16)."""

from __future__ import annotations

import pytest

from vwapcli.core.registry import DuplicateStrategyError, StrategyCatalogue, StrategySpec
from vwapcli.core.strategy import StrategyConfig
from vwapcli.strategies import SHIPPED, catalogue


def spec(key: str, name: str) -> StrategySpec:
    return StrategySpec(key=key, name=name, config_model=StrategyConfig, factory=lambda block: None)  # type: ignore[arg-type,return-value]


def test_the_catalogue_keeps_declaration_order() -> None:
    built = StrategyCatalogue([spec("zeta", "Z"), spec("alpha", "A")])
    assert list(built) == ["zeta", "alpha"]
    assert built.display_names(["alpha", "zeta"]) == ["A", "Z"]


def test_a_key_declared_twice_is_an_error_not_a_silent_replace() -> None:
    with pytest.raises(DuplicateStrategyError, match="'orb' is declared twice"):
        StrategyCatalogue([spec("orb", "ORB"), spec("orb", "ORB2")])


def test_a_display_name_declared_twice_is_an_error() -> None:
    """Two keys writing the same strategy_name would make trades.csv ambiguous."""
    with pytest.raises(DuplicateStrategyError, match="'ORB' is declared twice"):
        StrategyCatalogue([spec("orb", "ORB"), spec("orb_copy", "ORB")])


def test_an_unknown_key_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown strategy 'nope'; known: alpha, zeta"):
        StrategyCatalogue([spec("zeta", "Z"), spec("alpha", "A")])["nope"]


def test_the_shipped_catalogue_lists_one_strategy_per_shipped_module() -> None:
    shipped = catalogue()
    assert len(shipped) == len(SHIPPED)
    assert [shipped[key].factory.__module__ for key in shipped] == list(SHIPPED)
