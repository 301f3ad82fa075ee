"""``report --compare`` on real engine output: ORB alone (BASE) vs ORB + VWAP_MEANREV (RUN).

Runs the CLI end to end on the packaged synthetic sample and, when present, on real
SPY/QQQ minute bars (/work/shared/data/real, read in place), with
``max_open_positions: 1`` so the two strategies compete for the one slot.

Independent check of the crowding-out count: signals are a causal function of the bars
(SPEC 4: no feedback from positions), so ORB emits the same signals in both runs, and a
pricing or timing skip (no quote, debit too high, too late, ...) does not depend on the
account either. Each ORB signal therefore ends traded, risk-skipped or pricing-skipped,
and RUN's extra risk skips are exactly the ORB trades RUN lost:
crowding out = ORB trades in BASE - ORB trades in RUN.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

from builders.cli import invoke, sample_store
from builders.paths import PROJECT, REAL_DATA
from vwapcli.cli import main
from vwapcli.core.skips import RISK_REASONS
from vwapcli.env import Env
from vwapcli.report import ReportError
from vwapcli.report.compare import CompareRequest, run_compare
from vwapcli.report.portfolio import compare_runs

REAL_FILES = ("SPY_1m_2025-09-15_2026-03-19.parquet", "QQQ_1m_2025-09-15_2026-03-19.parquet")


def crowded_config(folder: Path) -> Path:
    """configs/default.yaml with one open position at a time and both portfolio criteria."""
    config = yaml.safe_load((PROJECT / "configs" / "default.yaml").read_text())
    config["risk"]["max_open_positions"] = 1
    config["acceptance"]["bootstrap_samples"] = 300
    config["acceptance"]["portfolio"] = {"max_drawdown_worsening_pts": 1.0,
                                         "sharpe_must_not_fall": True}
    path = folder / "crowded.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def backtest_pair(store: Path, folder: Path) -> tuple[Path, Path]:
    config = crowded_config(folder)
    common = ["backtest", "--store", str(store), "--config", str(config)]
    invoke([*common, "--out", str(folder / "base")])
    invoke([*common, "--enable", "vwap_meanrev", "--out", str(folder / "run")])
    return folder / "base", folder / "run"


def signal_keys(run: Path, strategy: str) -> set[tuple[str, str, str]]:
    trades = pd.read_csv(run / "trades.csv")
    skipped = pd.read_csv(run / "skipped.csv")
    keys = set()
    for frame, column in ((trades, "signal_time"), (skipped, "entry_time")):
        mine = frame[frame["strategy_name"] == strategy]
        keys |= set(zip(mine["symbol"], mine["direction"], mine[column], strict=True))
    return keys


def check_against_engine_output(base: Path, run: Path) -> None:
    """The comparison agrees with the raw run folders (see the module docstring)."""
    comparison = compare_runs(base, run)
    assert comparison.added == ["VWAP_MEANREV"] and comparison.shared == ["ORB"]

    run_trades, base_trades = pd.read_csv(run / "trades.csv"), pd.read_csv(base / "trades.csv")
    module_trades = run_trades[run_trades["strategy_name"] == "VWAP_MEANREV"]
    assert comparison.module.module_pnl.sum() == pytest.approx(module_trades["pnl"].sum())
    equity = pd.read_parquet(run / "equity.parquet")
    assert np.array_equal(comparison.module.rest_pnl, equity["pnl_ORB"].to_numpy())
    assert -1.0 <= comparison.module.correlation <= 1.0

    assert signal_keys(base, "ORB") == signal_keys(run, "ORB")  # the premise of the check
    orb_lost = int((base_trades["strategy_name"] == "ORB").sum()
                   - (run_trades["strategy_name"] == "ORB").sum())
    assert comparison.crowding.change == orb_lost
    listed = comparison.crowding.changed
    assert set(listed["reason"]) <= set(RISK_REASONS)
    assert (listed["change"] == "skipped in RUN only").sum() - (
        listed["change"] == "skipped in BASE only").sum() == orb_lost

    loss_days = {row.key: row for row in comparison.metrics}["daily_loss_limit_days"]
    assert loss_days.run == int(equity["daily_loss_limit_hit"].sum())

    code = run_compare(CompareRequest(base, run, None, True), Env(console=Console(file=io.StringIO(), width=120)))
    document = json.loads((run / "compare.json").read_text())
    assert document["verdict"] in ("PASS", "NOT PROVEN", "FAIL")
    assert code == (1 if document["verdict"] == "FAIL" else 0)
    assert document["crowding_out"]["change"] == orb_lost


@pytest.fixture(scope="module")
def sample_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("compare-sample")
    return backtest_pair(sample_store(folder), folder)


def test_switching_the_module_on_in_the_sample_is_measured_as_the_engine_recorded_it(
    sample_pair: tuple[Path, Path],
) -> None:
    check_against_engine_output(*sample_pair)


def test_the_sample_module_crowds_out_at_least_one_orb_trade_with_one_slot(
    sample_pair: tuple[Path, Path],
) -> None:
    crowding = compare_runs(*sample_pair).crowding
    assert crowding.change is not None and crowding.change >= 1
    assert set(crowding.changed["strategy_name"]) == {"ORB"}


def test_the_module_run_as_base_is_refused_because_the_other_run_lacks_it(
    sample_pair: tuple[Path, Path],
) -> None:
    base, run = sample_pair
    with pytest.raises(ReportError, match="RUN lacks BASE's VWAP_MEANREV"):
        compare_runs(run, base)


def test_the_cli_writes_compare_html_into_the_run_folder_and_follows_the_verdict(
    sample_pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, run = sample_pair
    monkeypatch.setattr(sys, "argv", ["vwapcli", "report", "--compare", str(base), str(run),
                                      "--check"])
    with pytest.raises(SystemExit) as exited:
        main()
    verdict = json.loads((run / "compare.json").read_text())["verdict"]
    assert int(exited.value.code or 0) == (1 if verdict == "FAIL" else 0)
    out = capsys.readouterr().out
    assert "Portfolio impact" in out and "VWAP_MEANREV" in out
    assert "VWAP_MEANREV" in (run / "compare.html").read_text()


@pytest.mark.skipif(not all((REAL_DATA / name).is_file() for name in REAL_FILES),
                    reason="real SPY/QQQ minute bars not available")
def test_switching_the_module_on_real_spy_qqq_bars_is_measured_as_the_engine_recorded_it(
    tmp_path: Path,
) -> None:
    source = tmp_path / "vendor"
    source.mkdir()
    for name in REAL_FILES:  # links, not copies: the data stays in the shared folder
        (source / f"{name.split('_')[0]}.parquet").symlink_to(REAL_DATA / name)
    store = tmp_path / "store"
    invoke(["fetch", "--source", "csv", "--path", str(source), "--store", str(store)])
    check_against_engine_output(*backtest_pair(store, tmp_path))
