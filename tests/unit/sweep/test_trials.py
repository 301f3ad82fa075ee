"""The sweep's pricer sharing: configurations share a SpreadPricer only when every input
their option prices depend on is equal."""

from __future__ import annotations

from typing import Any

import pytest

from vwapcli.app_config import AppConfig
from vwapcli.sweep.trials import pricing_key


def config(options: dict[str, Any] | None = None, data: dict[str, Any] | None = None) -> AppConfig:
    return AppConfig.model_validate({"options": options or {}, "data": data or {}})


@pytest.mark.parametrize(
    ("options", "data"),
    [
        ({"vol_model": "flat"}, None),
        ({"calibration_file": "elsewhere/SPY.yaml"}, None),
        ({"calibration_file": None}, None),
        ({"events_file": "elsewhere/events.yaml"}, None),
        ({"symbols": {"QQQ": {"calibration_file": "QQQ.yaml"}}}, None),
        ({"iv_multiplier": 1.3}, None),
        ({"pricing_source": "chain"}, None),
        ({"expirations_file": "elsewhere/expirations.yaml"}, None),
        (None, {"calendar": "XLON"}),
    ],
)
def test_a_change_to_anything_prices_depend_on_changes_the_pricing_key(
    options: dict[str, Any] | None, data: dict[str, Any] | None
) -> None:
    assert pricing_key(config(options, data)) != pricing_key(config())


@pytest.mark.parametrize(
    "options",
    [{"slippage": 0.25}, {"commission_per_contract": 1.0}, {"max_debit_frac": 0.8}, {"dte": 1}],
)
def test_fills_sizing_and_dte_leave_the_pricing_key_alone(options: dict[str, Any]) -> None:
    """Fills, commissions and the debit cap act after pricing; dte is an argument of the pricer."""
    assert pricing_key(config(options)) == pricing_key(config())
