"""The sweep's fast path equals `vwapcli backtest` (the reference engine) exactly.

Independent method: every configuration is also run through ``execute_backtest`` (the
function the backtest command uses) and its trade P&Ls and daily equity are compared
bit for bit with the sweep's cached-pricing account walk.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vwapcli.backtest import execute_backtest
from vwapcli.config import AppConfig, config_from_dict
from vwapcli.core.types import SessionedBars
from vwapcli.sweep.trials import TrialSpec, TrialTask, evaluate_task, trial_metrics

BOTH_STRATEGIES = {"vwap_meanrev": {"enabled": True, "band_atr_frac": 0.3}, "orb": {"enabled": True}}
# Each configuration drives the account through different skip paths of the engine.
CONFIGS: dict[str, dict[str, Any]] = {
    "defaults_vwap_only": {"strategies": {"vwap_meanrev": {"enabled": True}, "orb": {"enabled": False}}},
    "loss_limit_and_one_position": {
        "strategies": BOTH_STRATEGIES, "risk": {"daily_loss_limit_pct": 0.5, "max_open_positions": 1},
    },
    "debit_cap_size_zero_natural_fills_1dte": {
        "strategies": BOTH_STRATEGIES, "risk": {"risk_per_trade_pct": 0.05},
        "options": {"max_debit_frac": 0.4, "slippage": 1.0, "dte": 1},
    },
    "mid_fills_small_account": {
        "strategies": BOTH_STRATEGIES, "risk": {"starting_equity": 20000, "max_contracts": 3},
        "options": {"slippage": 0.0},
    },
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, SessionedBars]]:
    """Six months of seeded synthetic SPY + QQQ (about 100k bars)."""
    from vwapcli.data.loading import load_market_data
    from vwapcli.data.store import BarStore
    from vwapcli.data.synthetic import generate_market

    root = tmp_path_factory.mktemp("store")
    generated = generate_market(["SPY", "QQQ"], "2024-01-02", "2024-06-28", seed=7)
    store = BarStore(root)
    for symbol, bars in generated.bars.items():
        store.write_bars(symbol, bars, provenance=generated.provenance)
        store.write_iv_index(symbol, generated.iv_index[symbol])
    return root, load_market_data(root, None, None, None)


def _reference(config: AppConfig, root: Path, market_data: dict[str, SessionedBars],
               start: dt.date | None = None, end: dt.date | None = None) -> tuple[np.ndarray, np.ndarray, Any]:
    result = execute_backtest(config, market_data, start, end, root)
    return result.trades["pnl"].to_numpy(dtype=float), result.equity["equity"].to_numpy(dtype=float), result


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_fast_account_walk_reproduces_the_backtest_trades_and_equity_bit_for_bit(
    name: str, market: tuple[Path, dict[str, SessionedBars]]
) -> None:
    from vwapcli.backtest import build_quote_source, run_sessions_between
    from vwapcli.core.registry import registered
    from vwapcli.engine import plan_candidates
    from vwapcli.options.expirations import ExpirySchedule
    from vwapcli.signal_run import compute_signals
    from vwapcli.sweep.account_walk import price_candidates, walk_account

    root, market_data = market
    config = config_from_dict(CONFIGS[name])
    pnl, equity, _ = _reference(config, root, market_data)
    candidates = plan_candidates(compute_signals(config, market_data, None, None), market_data, config)
    sessions = {s: bars.session_date.astype("datetime64[D]") for s, bars in market_data.items()}
    priced = price_candidates(candidates, build_quote_source(config, market_data, root),
                              ExpirySchedule.load(None), sessions, config.options.dte)
    names = [registered()[key].name for key in config.enabled_strategies()]
    walk = walk_account(priced, run_sessions_between(market_data, None, None), names, config)
    assert walk is not None
    assert len(pnl) > 0
    np.testing.assert_array_equal(walk.pnl, pnl)
    np.testing.assert_array_equal(walk.equity, equity)


def test_the_configurations_exercise_every_risk_and_pricing_skip(market: tuple[Path, dict[str, SessionedBars]]) -> None:
    """Guards the test above: its configurations really hit the engine's skip paths."""
    root, market_data = market
    reasons: set[str] = set()
    for raw in CONFIGS.values():
        reasons |= set(_reference(config_from_dict(raw), root, market_data)[2].skipped["reason"])
    assert {"daily_loss_limit", "max_open_positions", "debit_too_high", "size_zero", "no_vol"} <= reasons


def test_a_task_gives_each_configuration_the_metrics_of_its_own_backtest(
    market: tuple[Path, dict[str, SessionedBars]]
) -> None:
    """Four configurations in one task (two signal groups, shared quote cache) over a window."""
    root, market_data = market
    start, end = dt.date(2024, 2, 1), dt.date(2024, 5, 31)
    configs = [config_from_dict(CONFIGS[name]) for name in sorted(CONFIGS)]
    task = TrialTask(tuple(TrialSpec(i, c) for i, c in enumerate(configs)), start, end, str(root), "token")
    outcomes = evaluate_task(market_data, task)
    assert [o.index for o in outcomes] == [0, 1, 2, 3]
    for outcome, config in zip(outcomes, configs, strict=True):
        pnl, equity, result = _reference(config, root, market_data, start, end)
        sessions = list(result.equity["session_date"])
        expected, moments = trial_metrics(pnl, sessions, equity, config)
        assert outcome.metrics == expected
        assert outcome.moments == moments
        assert outcome.trades is None


def test_a_task_that_keeps_trades_returns_the_reference_engine_trades(
    market: tuple[Path, dict[str, SessionedBars]]
) -> None:
    root, market_data = market
    config = config_from_dict(CONFIGS["loss_limit_and_one_position"])
    task = TrialTask((TrialSpec(7, config),), None, None, str(root), "token", keep_trades=True)
    outcome = evaluate_task(market_data, task)[0]
    _, _, result = _reference(config, root, market_data)
    assert outcome.trades is not None and outcome.equity is not None
    assert outcome.trades.equals(result.trades)
    assert outcome.equity.equals(result.equity)
