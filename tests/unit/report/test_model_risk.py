"""Model risk and the pricing statement in the report, on hand-built run folders.

quantstats is stubbed (as in test_run.py) so each report takes well under a second.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from builders.report import build_run, sessions_from, trade
from vwapcli.env import Env
from vwapcli.report import ReportRequest, run_report
from vwapcli.report import run as report_run
from vwapcli.report import tearsheet as report_tearsheet
from vwapcli.report.model_risk import ROW_KEYS, break_even_scale
from vwapcli.report.pricing import HOLD_OUT_ERRORS, calibration_sentence, hold_out_sentence

REPO = Path(__file__).resolve().parents[3]
EASY = {"min_trades": 20, "min_years": 0.1, "bootstrap_samples": 200}


@pytest.fixture(autouse=True)
def inline_tearsheet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_tearsheet, "quantstats_tearsheet", lambda r, b, t: "<html><body>stub</body></html>")
    monkeypatch.setattr(report_run, "start_tearsheet", report_tearsheet.InlineTearsheet)


def _report(folder: Path) -> dict[str, Any]:
    assert run_report(ReportRequest(folder), Env(console=Console(file=io.StringIO(), width=200))) == 0
    return json.loads((folder / "metrics.json").read_text())


def _three_trades(tmp_path: Path, **trade_extra: Any) -> tuple[Path, list[dt.date]]:
    """ORB +500 (day 1), ORB -300 (day 2), FADE +200 (day 3); $100,000 start."""
    days = sessions_from("2024-01-02", 3)
    rows = [trade(days[0], 500.0, "ORB", contracts=2), trade(days[1], -300.0, "ORB"), trade(days[2], 200.0, "FADE", "QQQ")]
    for row, extra in zip(rows, trade_extra.get("rows", [{}] * 3), strict=True):
        row.update(extra)
    return build_run(tmp_path / "run", rows, days, acceptance=EASY, strategies=["ORB", "FADE"]), days


def _write_model_risk(folder: Path, pnl_by_scale: dict[float, list[float]]) -> None:
    rows = [
        {"trade_id": trade_id, "scale": scale, "entry_debit": np.nan, "exit_credit": np.nan,
         "pnl": pnl[trade_id - 1], "exit_priced_by": "quote"}
        for trade_id in (1, 2, 3) for scale, pnl in pnl_by_scale.items()
    ]
    pd.DataFrame(rows).to_parquet(folder / "model_risk.parquet", index=False)


def test_each_scale_is_judged_on_the_repriced_pnl_and_the_one_row_is_the_headline(tmp_path: Path) -> None:
    """At x2 the trades pay +100, -900 and (FADE) could not be priced.

    all at x2: 2 trades, win rate 1/2, PF 100/900 = 0.1111, net -800; daily equity = the
    run's [100,500, 100,200, 100,400] + cumulative change [-400, -1,000, -1,200] =
    [100,100, 99,200, 99,200] -> max drawdown 900 / 100,100 = 0.8991%.
    FADE at x2: no trade left -> 0 trades, net 0, equity flat at 100,000, drawdown 0.
    """
    folder, _ = _three_trades(tmp_path)
    _write_model_risk(folder, {1.0: [500.0, -300.0, 200.0], 2.0: [100.0, -900.0, np.nan]})
    document = _report(folder)
    for name in ("all", "ORB", "FADE"):
        risk = document[name]["model_risk"]
        assert set(risk) == {"scales", "rows", "break_even_scale"}
        assert risk["scales"] == [1.0, 2.0]
        assert [list(row) for row in risk["rows"]] == [sorted(ROW_KEYS)] * 2  # json keys are sorted
        one = risk["rows"][0]
        for key in ("trades", "win_rate", "profit_factor", "net_pnl", "max_drawdown_pct", "verdict"):
            assert one[key] == document[name][key], (name, key)  # exactly the headline
    everything = document["all"]["model_risk"]["rows"][1]
    assert (everything["trades"], everything["win_rate"], everything["net_pnl"]) == (2, 0.5, -800.0)
    assert everything["profit_factor"] == pytest.approx(100 / 900, rel=1e-12)
    assert everything["max_drawdown_pct"] == pytest.approx(900 / 100_100 * 100, rel=1e-12)
    fade = document["FADE"]["model_risk"]["rows"][1]
    assert (fade["trades"], fade["net_pnl"], fade["max_drawdown_pct"]) == (0, 0.0, 0.0)
    page = (folder / "report.html").read_text()
    assert 'id="model-risk"' in page and "x2" in page and "(the run)" in page
    assert "net P&amp;L and profit factor by vol scale" in page  # the chart


def test_a_run_folder_without_model_risk_still_reports_with_a_one_line_note(tmp_path: Path) -> None:
    folder, _ = _three_trades(tmp_path)
    document = _report(folder)
    assert document["all"]["model_risk"] == {"scales": [], "rows": [], "break_even_scale": None}
    assert "predates it" in document["all"]["model_risk_note"]
    page = (folder / "report.html").read_text()
    assert re.search(r'id="model-risk-note">Model risk unavailable: this run folder predates it', page)
    # An older run priced with the flat model (run.json has no pricing block): said so.
    assert "the flat model" in page


def test_a_chain_run_says_model_risk_does_not_apply_and_how_many_exits_the_model_priced(tmp_path: Path) -> None:
    priced_by = [{"exit_priced_by": "quote"}, {"exit_priced_by": "model"}, {"exit_priced_by": "quote"}]
    folder, _ = _three_trades(tmp_path, rows=priced_by)
    meta = json.loads((folder / "run.json").read_text())
    meta["pricing"] = {
        "source": "chain", "chain_store": "/data/chain", "vol_model": "flat", "calibrations": {},
        "model_risk": {"file": None, "scales": [], "not_applicable": "chain mode: real quotes"},
    }
    (folder / "run.json").write_text(json.dumps(meta))
    document = _report(folder)
    assert document["ORB"]["model_risk"]["rows"] == []
    assert document["ORB"]["model_risk_note"] == "Model risk not applicable: chain mode: real quotes."
    page = (folder / "report.html").read_text()
    assert "Model risk not applicable: chain mode" in page
    assert "real option quotes from the chain store /data/chain; 1 of 3 exits had no quote" in page


def test_break_even_is_the_nearest_grid_scale_where_fail_and_not_fail_swap() -> None:
    """|ln s| from 1: 0.8 and 1.25 are 0.223 (tie -> 1.25), 1.5 is 0.405, 2 is 0.693."""
    grid = [0.8, 1.0, 1.25, 1.5, 2.0]
    assert break_even_scale(list(zip(grid, ["PASS", "PASS", "NOT PROVEN", "FAIL", "FAIL"], strict=True))) == 1.5
    assert break_even_scale(list(zip(grid, ["FAIL", "PASS", "FAIL", "FAIL", "FAIL"], strict=True))) == 1.25
    assert break_even_scale(list(zip(grid, ["FAIL", "PASS", "PASS", "PASS", "PASS"], strict=True))) == 0.8
    assert break_even_scale(list(zip(grid, ["PASS", "FAIL", "FAIL", "FAIL", "FAIL"], strict=True))) == 0.8
    assert break_even_scale(list(zip(grid, ["NOT PROVEN", "PASS", "PASS", "NOT PROVEN", "PASS"], strict=True))) is None
    assert break_even_scale([(0.8, "PASS"), (2.0, "FAIL")]) is None  # no 1.0 row to start from


def test_the_calibration_sentence_names_file_span_and_stated_error() -> None:
    calibration = {
        "file": "configs/calibration/SPY.yaml", "symbol": "SPY",
        "fitted_on": {"quotes": "q.parquet", "sessions": ["2026-07-17", "2026-07-20"],
                      "first_session": "2026-07-17", "last_session": "2026-07-20"},
        "error": {"spreads": {"n": 1200, "median_abs_error": 0.05, "median_error": -0.003,
                              "median_abs_half_spread_error": 0.003}, "note": "in-sample: ..."},
    }
    assert calibration_sentence("QQQ", calibration) == (
        "QQQ: configs/calibration/SPY.yaml (SPY's calibration: no QQQ file), fitted on 2 sessions "
        "2026-07-17..2026-07-20 of q.parquet; its stated error (in-sample, 1,200 strategy-shaped "
        "spreads): mid median |err| 5.0%, bias -0.3%, half-spread 0.30c."
    )


def test_the_hold_out_numbers_on_the_page_are_bench_readmes_table() -> None:
    """Independent source: the "all" row of bench/README.md's hold-out table, parsed here."""
    row = next(line for line in (REPO / "bench/README.md").read_text().splitlines()
               if line.startswith("| **all** |"))
    cells = [cell.strip().strip("*") for cell in row.strip("|").split("|")]
    session = HOLD_OUT_ERRORS["session"]
    flat = HOLD_OUT_ERRORS["flat"]
    assert cells[2:5] == [f"{session.median_abs_error:.1%}", f"{session.median_error:+.1%}",
                          f"{session.half_spread_error * 100:.2f}c"]
    assert cells[5:8] == [f"{flat.median_abs_error:.1%}", f"{flat.median_error:+.1%}",
                          f"{flat.half_spread_error * 100:.2f}c"]
    sentence = hold_out_sentence("session")
    assert sentence is not None and "5.5%" in sentence and "+2.0%" in sentence and "0.30c" in sentence
