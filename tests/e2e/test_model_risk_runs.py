"""Model risk end to end on the packaged synthetic sample (SPEC 7.1, issue 11 items 5 and 7).

A real backtest writes model_risk.parquet beside the trades; the report judges each vol
scale with the headline's own verdict, so its 1.0 row must be the headline number for
number. quantstats is stubbed (the tearsheet is not what is tested here).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from builders.cli import invoke, sample_store
from vwapcli.env import Env
from vwapcli.report import ReportRequest, run_report
from vwapcli.report import run as report_run
from vwapcli.report import tearsheet as report_tearsheet

HEADLINE_KEYS = ("trades", "win_rate", "profit_factor", "net_pnl", "max_drawdown_pct", "verdict")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("store"))


def _backtest(store: Path, out: Path, *extra: str) -> Path:
    invoke(["backtest", "--store", str(store), "--symbols", "SPY", "QQQ", "--only", "orb", "--out", str(out), *extra])
    return out


@pytest.fixture(scope="module")
def runs(store: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    return _backtest(store, root / "first"), _backtest(store, root / "second")


@pytest.fixture(autouse=True)
def inline_tearsheet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_tearsheet, "quantstats_tearsheet", lambda r, b, t: "<html><body>stub</body></html>")
    monkeypatch.setattr(report_run, "start_tearsheet", report_tearsheet.InlineTearsheet)


def _report(folder: Path) -> dict:
    assert run_report(ReportRequest(folder), Env(console=Console(file=io.StringIO(), width=200))) == 0
    return json.loads((folder / "metrics.json").read_text())


def test_a_run_reprices_every_trade_at_the_five_scales_and_its_1_0_row_is_the_trade_log(runs: tuple[Path, Path]) -> None:
    folder = runs[0]
    trades = pd.read_parquet(folder / "trades.parquet").set_index("trade_id")
    risk = pd.read_parquet(folder / "model_risk.parquet")
    assert len(trades) > 20
    assert list(risk.columns) == ["trade_id", "scale", "entry_debit", "exit_credit", "pnl", "exit_priced_by"]
    assert len(risk) == 5 * len(trades)
    assert sorted(set(risk["scale"])) == [0.8, 1.0, 1.25, 1.5, 2.0]
    one = risk[risk["scale"] == 1.0].set_index("trade_id")
    for column in ("entry_debit", "exit_credit", "pnl"):
        assert one[column].tolist() == trades[column].tolist(), column  # exactly, not approximately
    # The flat model's debit grows with its vol level: a dearer level never makes an entry cheaper.
    debit = risk.pivot(index="trade_id", columns="scale", values="entry_debit")
    assert (debit.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert (debit[2.0] > debit[0.8]).mean() > 0.9


def test_the_model_risk_file_is_byte_identical_on_a_rerun(runs: tuple[Path, Path]) -> None:
    first, second = runs
    assert (first / "model_risk.parquet").read_bytes() == (second / "model_risk.parquet").read_bytes()


def test_run_json_records_how_the_prices_were_made(runs: tuple[Path, Path]) -> None:
    pricing = json.loads((runs[0] / "run.json").read_text())["pricing"]
    assert pricing["source"] == "model"
    assert pricing["model_risk"] == {
        "file": "model_risk.parquet", "scales": [0.8, 1.0, 1.25, 1.5, 2.0], "not_applicable": None,
    }


def test_metrics_json_model_risk_has_the_spec_shape_and_its_1_0_row_equals_the_headline(runs: tuple[Path, Path]) -> None:
    document = _report(runs[0])
    assert sorted(document) == ["ORB", "all"]
    for name, entry in document.items():
        risk = entry["model_risk"]
        assert set(risk) == {"scales", "rows", "break_even_scale"}
        assert risk["scales"] == [0.8, 1.0, 1.25, 1.5, 2.0]
        assert [row["scale"] for row in risk["rows"]] == risk["scales"]
        assert all(set(row) == {"scale", *HEADLINE_KEYS} for row in risk["rows"])
        one = risk["rows"][1]
        assert {key: one[key] for key in HEADLINE_KEYS} == {key: entry[key] for key in HEADLINE_KEYS}, name
        assert risk["break_even_scale"] is None or risk["break_even_scale"] in risk["scales"]
    page = (runs[0] / "report.html").read_text()
    assert "Pricing and model risk" in page and "Option prices: model prices" in page
    assert "hold-out validation error" in page


def test_a_chain_mode_run_records_that_model_risk_does_not_apply_and_the_report_says_so(
    store: Path, tmp_path: Path
) -> None:
    """The sample store holds no option quotes: every signal is skipped (no_quote), yet the
    run folder is complete, has no model_risk.parquet, and says why."""
    config = tmp_path / "chain.yaml"
    config.write_text("options:\n  pricing_source: chain\n")
    folder = _backtest(store, tmp_path / "chain-run", "--config", str(config))
    assert not (folder / "model_risk.parquet").exists()
    pricing = json.loads((folder / "run.json").read_text())["pricing"]
    assert pricing["source"] == "chain" and pricing["chain_store"] == str(store)
    assert pricing["model_risk"]["file"] is None and "chain mode" in pricing["model_risk"]["not_applicable"]
    document = _report(folder)
    assert document["all"]["model_risk"] == {"scales": [], "rows": [], "break_even_scale": None}
    assert document["all"]["model_risk_note"].startswith("Model risk not applicable: chain mode")
    page = (folder / "report.html").read_text()
    assert "Model risk not applicable: chain mode" in page
    assert "real option quotes from the chain store" in page


def test_with_the_session_model_run_json_carries_each_symbols_calibration_as_the_file_states_it(tmp_path: Path) -> None:
    """vol_model session (OptionsConfig gets the field with branch h1; set here by copy): SPY
    reads configs/calibration/SPY.yaml, QQQ has no file and uses SPY's. The recorded
    fitted_on/error are compared with the YAML read independently (yaml.safe_load)."""
    import yaml

    from vwapcli.config import OptionsConfig
    from vwapcli.data.loading import MarketData
    from vwapcli.run_record import pricing_record

    options = OptionsConfig().model_copy(update={"vol_model": "session"})
    market_data = MarketData({"SPY": None, "QQQ": None}, tmp_path)  # type: ignore[dict-item]
    record = pricing_record(options, market_data, None)
    shipped = Path(__file__).resolve().parents[2] / "configs/calibration/SPY.yaml"
    stated = yaml.safe_load(shipped.read_text())
    assert record["vol_model"] == "session" and sorted(record["calibrations"]) == ["QQQ", "SPY"]
    for symbol in ("SPY", "QQQ"):
        calibration = record["calibrations"][symbol]
        assert Path(calibration["file"]).name == "SPY.yaml" and calibration["symbol"] == "SPY"
        assert calibration["fitted_on"] == stated["fitted_on"]
        assert calibration["error"] == stated["error"]
    json.dumps(record)  # run.json must be able to hold it
