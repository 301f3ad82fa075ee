"""The sweep's shared pricing gives every configuration exactly its `vwapcli backtest`.

The sweep and the backtest run the same engine (``Engine.price_candidate`` and
``Engine.walk``); what the sweep adds is sharing: one quote source, expiry memo and
pricing cache across configurations. Independent method: every configuration is also
run alone through ``execute_backtest`` (the backtest command's function, nothing
shared) and compared bit for bit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from builders.cli import synthetic_store
from vwapcli.app_config import AppConfig, config_from_dict
from vwapcli.backtest import execute_backtest
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
    # Same pricing as the one above, other fills: it reuses that configuration's cache.
    "natural_fills_small_account": {
        "strategies": BOTH_STRATEGIES, "risk": {"starting_equity": 20000, "max_contracts": 3},
        "options": {"slippage": 1.0},
    },
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, SessionedBars]]:
    """Six months of seeded synthetic SPY + QQQ (about 100k bars)."""
    from vwapcli.data.loading import load_market_data

    root = synthetic_store(tmp_path_factory.mktemp("store"))
    return root, load_market_data(root, None, None, None)


def _reference(config: AppConfig, root: Path, market_data: dict[str, SessionedBars],
               start: dt.date | None = None, end: dt.date | None = None) -> tuple[np.ndarray, np.ndarray, Any]:
    result = execute_backtest(config, market_data, start, end, root)
    return result.trades["pnl"].to_numpy(dtype=float), result.equity["equity"].to_numpy(dtype=float), result


def test_configurations_sharing_one_pricing_cache_each_get_their_own_backtests_trades(
    market: tuple[Path, dict[str, SessionedBars]]
) -> None:
    """All configurations in one task: one quote source, one pricing cache per dte, shared
    spread memos. Each one's trade table and daily equity equal its own backtest's."""
    root, market_data = market
    configs = [config_from_dict(CONFIGS[name]) for name in sorted(CONFIGS)]
    task = TrialTask(tuple(TrialSpec(i, c) for i, c in enumerate(configs)), None, None, str(root), "token",
                     keep_trades=True)
    for outcome, config in zip(evaluate_task(market_data, task), configs, strict=True):
        _, _, result = _reference(config, root, market_data)
        assert len(result.trades) > 0
        assert outcome.trades is not None and outcome.trades.equals(result.trades)
        assert outcome.equity is not None and outcome.equity.equals(result.equity)


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
    """Five configurations in one task (two signal groups, shared quote cache) over a window."""
    root, market_data = market
    start, end = dt.date(2024, 2, 1), dt.date(2024, 5, 31)
    configs = [config_from_dict(CONFIGS[name]) for name in sorted(CONFIGS)]
    task = TrialTask(tuple(TrialSpec(i, c) for i, c in enumerate(configs)), start, end, str(root), "token")
    outcomes = evaluate_task(market_data, task)
    assert [o.index for o in outcomes] == list(range(len(configs)))
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


def test_chain_exits_without_a_quote_are_valued_by_the_model_in_the_sweep_as_in_the_backtest(
    market: tuple[Path, dict[str, SessionedBars]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Chain quotes for the first 30 VWAP trades, exit quotes only for every other one.

    The engine values a spread without an exit quote with the model at that instant (SPEC
    7; the old sweep handed such configurations back to the reference engine); the sweep's walk is the engine's
    walk, so two slippages over one pricing cache match their backtests exactly.
    """
    import logging

    import pandas as pd

    from vwapcli.data.option_quotes import write_option_quotes

    root, market_data = market
    model = _reference(config_from_dict(CONFIGS["defaults_vwap_only"]), root, market_data)[2].trades.head(30)
    rows = []
    for i, trade in enumerate(model.itertuples()):
        moments = [(trade.entry_time, trade.P)] + ([(trade.exit_time, trade.underlying_exit)] if i % 2 else [])
        for when, spot in moments:
            low, high = sorted((trade.k_long, trade.k_short))
            for strike in np.arange(low - 2.0, high + 3.0):
                value = max(spot - strike if trade.right == "C" else strike - spot, 0.0) + 0.40
                rows.append({"ts": when - pd.Timedelta(seconds=30), "underlying": trade.symbol, "expiry": trade.expiry,
                             "strike": strike, "right": trade.right, "bid": round(value - 0.03, 2),
                             "ask": round(value + 0.03, 2)})
    quotes = pd.DataFrame(rows).drop_duplicates(["ts", "underlying", "expiry", "strike", "right"])
    write_option_quotes(tmp_path / "chain", quotes)
    chain = {"strategies": {"vwap_meanrev": {"enabled": True}, "orb": {"enabled": False}},
             "options": {"pricing_source": "chain", "chain_store": str(tmp_path / "chain"),
                         "max_quote_age_seconds": 60}}
    configs = [config_from_dict({**chain, "options": {**chain["options"], "slippage": s}}) for s in (0.0, 0.7)]
    task = TrialTask(tuple(TrialSpec(i, c) for i, c in enumerate(configs)), None, None, str(root), "token")
    outcomes = evaluate_task(market_data, task)
    with caplog.at_level(logging.WARNING, logger="vwapcli.engine"):
        for outcome, config in zip(outcomes, configs, strict=True):
            pnl, equity, result = _reference(config, root, market_data)
            expected, moments = trial_metrics(pnl, list(result.equity["session_date"]), equity, config)
            assert outcome.metrics == expected and outcome.moments == moments
    assert len(pnl) > 10
    assert any("valued by the model" in record.getMessage() for record in caplog.records)
    assert set(result.trades["exit_priced_by"]) == {"quote", "model"}


def test_the_sweep_chooses_expiries_from_exchange_sessions_past_the_datas_end(tmp_path: Path) -> None:
    """Data ending Wed 2024-07-03 with dte=1: the next session is Fri 07-05 (July 4th is a
    holiday). The old sweep counted sessions in the data and assumed weekdays after it,
    so it priced a 07-04 expiry that `vwapcli backtest` never uses."""
    from vwapcli.data.loading import load_market_data
    from vwapcli.data.store import BarStore
    from vwapcli.data.synthetic import generate_market

    generated = generate_market(["SPY"], "2024-05-20", "2024-07-03", seed=11)
    store = BarStore(tmp_path)
    store.write_bars("SPY", generated.bars["SPY"], provenance=generated.provenance)
    market_data = load_market_data(tmp_path, None, None, None)
    config = config_from_dict({"strategies": {"orb": {"enabled": True}, "vwap_meanrev": {"enabled": False}},
                               "options": {"dte": 1}, "risk": {"max_open_positions": 4}})
    _, _, result = _reference(config, tmp_path, market_data)
    last_day = result.trades[result.trades["entry_time"].dt.tz_convert("America/New_York").dt.date
                             == dt.date(2024, 7, 3)]
    assert list(last_day["expiry"]) == ["2024-07-05"]  # the case this test is about happened
    task = TrialTask((TrialSpec(0, config),), None, None, str(tmp_path), "token-july")
    outcome = evaluate_task(market_data, task)[0]
    expected, _ = trial_metrics(result.trades["pnl"].to_numpy(dtype=float), list(result.equity["session_date"]),
                                result.equity["equity"].to_numpy(dtype=float), config)
    assert outcome.metrics == expected
