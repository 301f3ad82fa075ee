"""`vwapcli sweep` end to end on a six-month synthetic store: outputs, ledger, dask, walk-forward."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from builders.cli import synthetic_store
from builders.hostile import tree_digest
from vwapcli.data.loading import BarRequest
from vwapcli.env import Env
from vwapcli.errors import RunFolderExistsError
from vwapcli.sweep import SweepRequest, run_sweep
from vwapcli.sweep.ledger import ledger_path, read_ledger

GRID = """\
strategies.vwap_meanrev.band_atr_frac: [0.3, 0.5]
strategies.vwap_meanrev.stop_band_mult: [1.5, 2.5]
options.slippage: [0.25, 0.75]
"""
BASE = "strategies:\n  orb: {enabled: false}\n  vwap_meanrev: {enabled: true}\n"
SWEPT = ["strategies.vwap_meanrev.band_atr_frac", "strategies.vwap_meanrev.stop_band_mult", "options.slippage"]


@pytest.fixture(scope="module")
def pristine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_store(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def workspace(tmp_path: Path, pristine_store: Path) -> dict[str, Path]:
    """A private copy of the store (its own ledger), the base config and the grid."""
    store = tmp_path / "store"
    shutil.copytree(pristine_store, store)
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "grid.yaml").write_text(GRID)
    return {"store": store, "config": tmp_path / "base.yaml", "grid": tmp_path / "grid.yaml", "root": tmp_path}


def _sweep(ws: dict[str, Path], out: str, **kwargs: object) -> Path:
    request = SweepRequest(config=ws["config"], grid=ws["grid"], bars=BarRequest(ws["store"]), out=ws["root"] / out,
                           **kwargs)  # type: ignore[arg-type]
    return run_sweep(request, Env(console=Console(quiet=True)))


def test_local_sweep_writes_one_result_row_per_configuration(workspace: dict[str, Path]) -> None:
    folder = _sweep(workspace, "sweep-a", executor="local")
    results = pd.read_parquet(folder / "results.parquet")
    assert len(results) == 8
    for column in [*SWEPT, "trades", "win_rate", "profit_factor", "max_drawdown_pct", "sharpe", "total_pnl", "verdict"]:
        assert column in results.columns
    assert set(results["verdict"]) <= {"PASS", "FAIL"}
    assert (results["trades"] > 0).all()
    # The grid's product, in file order (last key fastest).
    assert results[SWEPT].iloc[1].tolist() == [0.3, 1.5, 0.75]
    # Slippage only changes fills: same trades, worse P&L at 0.75 than at 0.25.
    pair = results[(results[SWEPT[0]] == 0.3) & (results[SWEPT[1]] == 1.5)]
    assert pair["trades"].nunique() == 1
    assert pair["total_pnl"].iloc[0] > pair["total_pnl"].iloc[1]


def test_sweep_records_every_trial_once_in_the_ledger_beside_the_sweeps(workspace: dict[str, Path]) -> None:
    """The ledger is <sweeps root>/trials/ledger.parquet; the store is never written (issue 12 item 1)."""
    store_before = tree_digest(workspace["store"])
    _sweep(workspace, "sweep-a")
    assert tree_digest(workspace["store"]) == store_before
    ledger = read_ledger(ledger_path(workspace["root"]))
    assert len(ledger) == 8 and ledger["config_hash"].nunique() == 8
    assert ledger["data_fingerprint"].nunique() == 1
    assert ledger["code_version"].str.startswith("vwapcli ").all()
    # Same grid, same data, same code: recorded already, nothing appended.
    _sweep(workspace, "sweep-b")
    assert len(read_ledger(ledger_path(workspace["root"]))) == 8
    # A wider grid adds only its new configurations.
    workspace["grid"].write_text(GRID.replace("[0.25, 0.75]", "[0.25, 0.75, 1.0]"))
    _sweep(workspace, "sweep-c")
    assert read_ledger(ledger_path(workspace["root"]))["config_hash"].nunique() == 12


def test_heatmap_is_self_contained_and_states_trials_and_deflated_sharpe(workspace: dict[str, Path]) -> None:
    folder = _sweep(workspace, "sweep-a")
    page = (folder / "heatmap.html").read_text()
    assert "<svg" in page
    assert not re.search(r"(src|href)=\"https?:", page)
    assert "<script" not in page
    assert "8 configurations tried in total on this data" in page
    assert "deflated Sharpe ratio" in page


def test_an_existing_sweep_folder_is_never_overwritten(workspace: dict[str, Path]) -> None:
    _sweep(workspace, "sweep-a")
    with pytest.raises(RunFolderExistsError):
        _sweep(workspace, "sweep-a")


def test_dask_executor_gives_results_identical_to_the_local_pool(workspace: dict[str, Path]) -> None:
    distributed = pytest.importorskip("dask.distributed")
    local = pd.read_parquet(_sweep(workspace, "sweep-local", executor="local") / "results.parquet")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        folder = _sweep(workspace, "sweep-dask", executor="dask", scheduler=cluster.scheduler_address)
    dask = pd.read_parquet(folder / "results.parquet")
    pd.testing.assert_frame_equal(local, dask)


def test_walk_forward_reports_only_out_of_sample_trades(workspace: dict[str, Path]) -> None:
    """Six months, train=2m, test=1m: folds test March, April, May, June (4 folds).

    Every out-of-sample trade lies inside its fold's test window, which never overlaps
    that fold's training window.
    """
    workspace["grid"].write_text("strategies.vwap_meanrev.band_atr_frac: [0.3, 0.5]\noptions.slippage: [0.25, 0.75]\n")
    folder = _sweep(workspace, "wf", walk_forward="train=2m,test=1m")
    folds = pd.read_csv(folder / "walk_forward.csv", parse_dates=["train_start", "train_end", "test_start", "test_end"])
    assert len(folds) == 4
    assert folds["test_start"].dt.month.tolist() == [3, 4, 5, 6]
    assert (folds["train_end"] < folds["test_start"]).all()
    trades = pd.read_csv(folder / "oos_trades.csv")
    assert len(trades) > 0 and trades["trade_id"].tolist() == list(range(1, len(trades) + 1))
    entry_days = pd.to_datetime(trades["entry_time"], utc=True).dt.tz_convert("America/New_York").dt.tz_localize(None).dt.normalize()
    for fold in folds.itertuples():
        mine = entry_days[trades["fold"] == fold.fold]
        assert ((mine >= fold.test_start) & (mine <= fold.test_end)).all()
    metrics = json.loads((folder / "oos_metrics.json").read_text())
    assert metrics["trades"] == len(trades)
    assert metrics["total_pnl"] == pytest.approx(trades["pnl"].sum(), abs=0.01)
    # Training windows are trials on this data too: 4 configurations, 4 windows each.
    ledger = read_ledger(ledger_path(workspace["root"]))
    assert len(ledger) == 16 and ledger["config_hash"].nunique() == 4
