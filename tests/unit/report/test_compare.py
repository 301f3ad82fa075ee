"""``report --compare BASE RUN`` on hand-built run folders (issue 7: portfolio impact).

The folders are written by hand (tests/report_builders.py plus the skipped.csv, config
blocks and loss-limit column an engine run also has). Strategy names are neutral: "ORB"
and a made-up "FADE" (the added strategy) and "GAP", so this file survives the deletion
of any shipped strategy.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from builders.cli import run_cli
from builders.report import REMOTE_LOAD, build_run, sessions_from, trade, utc_iso
from vwapcli.env import Env
from vwapcli.report import ReportError
from vwapcli.report.bootstrap import (
    bootstrap_intervals,
    paired_day_resamples,
    percentile_interval,
    seed_streams,
    sharpe_of_paths,
)
from vwapcli.report.compare import CompareRequest, run_compare
from vwapcli.report.documents import compare_document
from vwapcli.report.metrics import sharpe_ratio
from vwapcli.report.portfolio import compare_runs, pnl_correlation
from vwapcli.report.self_contained import external_references

ORB_BLOCK = {"enabled": True, "range_minutes": 30, "max_entry_time": "12:00:00",
             "target_range_mult": 1.0}
FADE_BLOCK = {"enabled": True, "lookback": 20}
GAP_BLOCK = {"enabled": True, "min_gap_atr_frac": 0.3}
BLOCKS = {"orb": ORB_BLOCK, "fade": FADE_BLOCK, "gap": GAP_BLOCK}
KEYS = {"ORB": "orb", "FADE": "fade", "GAP": "gap"}
SKIP_COLUMNS = ["strategy_name", "symbol", "direction", "entry_time", "P", "P_stop", "P_target",
                "reason", "detail"]
FAST = {"bootstrap_samples": 200}


def skip(day: dt.date, clock: dt.time, strategy: str, symbol: str, direction: str,
         reason: str, detail: str = "") -> dict[str, Any]:
    """One skipped.csv row, as the engine writes it (entry_time = decision time, UTC)."""
    return {"strategy_name": strategy, "symbol": symbol, "direction": direction,
            "entry_time": utc_iso(day, clock), "P": 100.0, "P_stop": 99.0, "P_target": 101.0,
            "reason": reason, "detail": detail}


def make_run(
    folder: Path,
    rows: Sequence[dict[str, Any]],
    days: Sequence[dt.date],
    strategies: Sequence[str],
    skipped: Sequence[dict[str, Any]] = (),
    loss_limit_hit: Sequence[bool] | None = None,
    portfolio: dict[str, Any] | None = None,
    acceptance: dict[str, Any] | None = None,
    risk: dict[str, Any] | None = None,
    blocks: dict[str, dict[str, Any]] | None = None,
    meta: dict[str, Any] | None = None,
    write_skipped: bool = True,
) -> Path:
    """A run folder as the engine writes it: trades, equity (pnl_<NAME>, loss-limit flag),
    skipped.csv and run.json with a resolved config whose strategy blocks are enabled
    exactly for ``strategies``."""
    build_run(folder, list(rows), days, strategies=list(strategies), symbols=["QQQ", "SPY"],
              acceptance={**FAST, **(acceptance or {}), "portfolio": portfolio or {}})
    record = json.loads((folder / "run.json").read_text())
    config_blocks = {
        key: {**block, "enabled": name in strategies}
        for name, key in KEYS.items() for block in [(blocks or BLOCKS)[key]]
    }
    record["config"]["strategies"] = config_blocks
    record["config"]["risk"] = {"starting_equity": 100_000.0, "max_open_positions": 1,
                                "daily_loss_limit_pct": 3.0, **(risk or {})}
    record["config"]["options"] = {"slippage": 0.5}
    record["data_fingerprint"] = "f" * 16
    record.update(meta or {})
    (folder / "run.json").write_text(json.dumps(record, indent=2))
    equity = pd.read_parquet(folder / "equity.parquet")
    equity["daily_loss_limit_hit"] = list(loss_limit_hit or [False] * len(days))
    equity.to_parquet(folder / "equity.parquet", index=False)
    if write_skipped:
        pd.DataFrame(list(skipped), columns=SKIP_COLUMNS).to_csv(folder / "skipped.csv",
                                                                 index=False)
    return folder


def quiet() -> Console:
    return Console(file=io.StringIO(), width=140)


# ------------------------------------------------------------------- zero change


@pytest.fixture
def busy_run(tmp_path: Path) -> tuple[Path, list[dt.date]]:
    """ORB and FADE on 12 sessions, with risk and pricing skips and one loss-limit day."""
    days = sessions_from("2024-03-04", 12)
    rows = [trade(day, pnl, "ORB", "SPY") for day, pnl in
            zip(days, [300, -200, 150, -400, 250, 100, -150, 450, -300, 200, 50, -100],
                strict=True)]
    rows += [trade(day, pnl, "FADE", "QQQ", "SHORT", entry_clock=dt.time(13, 0),
                   exit_clock=dt.time(15, 50)) for day, pnl in
             zip(days[::2], [120, -80, 60, -40, 90, -30], strict=True)]
    skipped = [skip(days[1], dt.time(10, 40), "ORB", "QQQ", "LONG", "max_open_positions"),
               skip(days[3], dt.time(10, 45), "ORB", "QQQ", "SHORT", "no_quote")]
    loss_limit = [False] * 12
    loss_limit[3] = True
    folder = make_run(tmp_path / "busy", rows, days, ["ORB", "FADE"], skipped, loss_limit,
                      portfolio={"max_drawdown_worsening_pts": 0.0, "sharpe_must_not_fall": True})
    return folder, days


def test_comparing_a_run_with_itself_shows_zero_change_in_every_metric(
    busy_run: tuple[Path, list[dt.date]],
) -> None:
    folder, _ = busy_run
    comparison = compare_runs(folder, folder)
    assert comparison.added == [] and comparison.shared == ["ORB", "FADE"]
    for row in comparison.metrics:
        assert not math.isnan(row.base), row.key  # a real number on both sides ...
        assert row.change == 0.0, row.key  # ... that did not move
    assert all(s.base_trades == s.run_trades and s.base_pnl == s.run_pnl
               for s in comparison.strategies)
    assert comparison.crowding.change == 0 and comparison.crowding.changed.empty
    assert math.isnan(comparison.module.correlation)  # nothing was added
    # Paired resampling of identical books: every resampled difference is exactly 0.
    assert comparison.verdict is not None and comparison.verdict.label == "PASS"
    for criterion in comparison.verdict.criteria:
        assert criterion.value == 0.0 and criterion.status == "PASS"
        assert (criterion.interval.low, criterion.interval.high) == (0.0, 0.0)


def test_a_copied_rerun_of_the_same_run_compares_with_zero_change_and_check_passes(
    busy_run: tuple[Path, list[dt.date]], tmp_path: Path
) -> None:
    folder, _ = busy_run
    rerun = shutil.copytree(folder, tmp_path / "rerun")
    code = run_compare(CompareRequest(folder, rerun, None, True), Env(console=quiet()))
    assert code == 0
    document = json.loads((rerun / "compare.json").read_text())
    assert document["same_run"] is True
    assert {key: row["change"] for key, row in document["metrics"].items()} == dict.fromkeys(
        document["metrics"], 0.0
    )


# -------------------------------------------------------------------- refusals


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, list[dt.date]]:
    """BASE (ORB) and RUN (ORB + FADE) over 5 sessions: comparable as built."""
    days = sessions_from("2024-03-04", 5)
    orb = [trade(days[0], 100.0, "ORB", "SPY"), trade(days[2], -50.0, "ORB", "SPY")]
    fade = [trade(days[1], 80.0, "FADE", "QQQ")]
    base = make_run(tmp_path / "base", orb, days, ["ORB"])
    run = make_run(tmp_path / "run", orb + fade, days, ["ORB", "FADE"])
    return base, run, days


def _rewrite(folder: Path, **changes: Any) -> None:
    record = json.loads((folder / "run.json").read_text())
    record.update(changes)
    (folder / "run.json").write_text(json.dumps(record))


@pytest.mark.parametrize(
    ("field", "base_value", "run_value", "shown_base", "shown_run"),
    [
        ("data_fingerprint", "aaaa1111", "bbbb2222", "aaaa1111", "bbbb2222"),
        ("timeframe", "1m", "5m", "1m", "5m"),
        ("start", "2024-03-04", "2024-03-05", "2024-03-04", "2024-03-05"),
        ("end", "2024-03-08", "2024-03-07", "2024-03-08", "2024-03-07"),
        ("symbols", ["QQQ", "SPY"], ["SPY"], "QQQ, SPY", "SPY"),
    ],
    ids=["fingerprint", "timeframe", "start", "end", "symbols"],
)
def test_runs_on_different_data_are_refused_naming_the_field_and_both_values(
    pair: tuple[Path, Path, list[dt.date]], field: str, base_value: Any, run_value: Any,
    shown_base: str, shown_run: str,
) -> None:
    base, run, _ = pair
    _rewrite(base, **{field: base_value})
    _rewrite(run, **{field: run_value})
    with pytest.raises(ReportError) as refused:
        compare_runs(base, run)
    message = str(refused.value)
    assert f"{field} differs (BASE: {shown_base}; RUN: {shown_run})" in message
    assert "\n" not in message


def test_a_run_missing_one_of_the_base_strategies_is_refused(
    pair: tuple[Path, Path, list[dt.date]],
) -> None:
    base, run, _ = pair
    with pytest.raises(ReportError, match=r"RUN lacks BASE's FADE \(BASE: ORB, FADE; RUN: ORB\)"):
        compare_runs(run, base)  # swapped: BASE now has FADE, RUN does not


def test_a_shared_strategy_with_a_different_config_block_is_refused(
    pair: tuple[Path, Path, list[dt.date]], tmp_path: Path,
) -> None:
    base, _, days = pair
    rows = [trade(days[0], 100.0, "ORB", "SPY")]
    other = make_run(tmp_path / "other", rows, days, ["ORB", "FADE"],
                     blocks={**BLOCKS, "orb": {**ORB_BLOCK, "range_minutes": 15}})
    with pytest.raises(
        ReportError,
        match=r"config\.strategies\.orb\.range_minutes differs \(BASE: 30; RUN: 15\)",
    ):
        compare_runs(base, other)


def test_a_run_that_adds_nothing_and_is_not_a_rerun_is_refused(
    pair: tuple[Path, Path, list[dt.date]], tmp_path: Path
) -> None:
    base, _, days = pair
    riskier = make_run(tmp_path / "riskier", [trade(days[0], 100.0, "ORB", "SPY")], days,
                       ["ORB"], risk={"max_open_positions": 3})
    with pytest.raises(
        ReportError,
        match=r"RUN adds no strategy to BASE \(both run ORB\) and is not a rerun of it: "
              r"config\.risk\.max_open_positions differs \(BASE: 1; RUN: 3\)",
    ):
        compare_runs(base, riskier)


def test_runs_whose_equity_sessions_differ_are_refused(
    pair: tuple[Path, Path, list[dt.date]],
) -> None:
    base, run, days = pair
    equity = pd.read_parquet(run / "equity.parquet")
    equity[equity["session_date"] != days[2]].to_parquet(run / "equity.parquet", index=False)
    with pytest.raises(ReportError, match=r"equity\.parquet sessions differ \(BASE 5 sessions, "
                                          r"RUN 4; first difference 2024-03-06\)"):
        compare_runs(base, run)


def test_the_cli_prints_a_refusal_as_one_line_and_exits_2(
    pair: tuple[Path, Path, list[dt.date]], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, run, _ = pair
    _rewrite(run, end="2024-03-07")
    code, text = run_cli(["report", "--compare", str(base), str(run)], capsys, monkeypatch)
    assert code == 2
    assert "Traceback" not in text
    assert "end differs (BASE: 2024-03-08; RUN: 2024-03-07)" in " ".join(text.split())
    assert not (run / "compare.html").exists()


def test_other_config_differences_are_allowed_but_flagged(
    pair: tuple[Path, Path, list[dt.date]],
) -> None:
    base, run, _ = pair
    record = json.loads((run / "run.json").read_text())
    record["config"]["options"]["slippage"] = 0.66
    (run / "run.json").write_text(json.dumps(record))
    comparison = compare_runs(base, run)
    assert any("config.options.slippage differs (BASE: 0.5; RUN: 0.66)" in note
               for note in comparison.warnings)


# ----------------------------------------------------------------- crowding out


def test_a_module_trade_filling_the_last_slot_crowds_out_one_shared_signal(
    tmp_path: Path,
) -> None:
    """Hand-built two-signal day, max_open_positions = 1.

    BASE (ORB alone): ORB's QQQ LONG at 10:31 trades (+$150).
    RUN (ORB + FADE): FADE's SPY SHORT at 10:05 holds the only slot until 11:15, so ORB's
    10:31 signal is skipped "max_open_positions".
    Not counted: ORB's SPY 10:40 "no_quote" (pricing, in both runs), FADE's own QQQ 10:50
    risk skip (the module is not crowded out by itself). Counted in both runs alike:
    ORB's day-2 "daily_loss_limit" skip.
    Crowding out = RUN (1 + 1) - BASE (1) = +1; the one signal listed is ORB's 10:31.
    """
    days = sessions_from("2024-03-05", 3)
    orb_trade = trade(days[0], 150.0, "ORB", "QQQ", "LONG", entry_clock=dt.time(10, 31))
    fade_trade = trade(days[0], -80.0, "FADE", "SPY", "SHORT", entry_clock=dt.time(10, 5),
                       exit_clock=dt.time(11, 15))
    common = [skip(days[0], dt.time(10, 40), "ORB", "SPY", "SHORT", "no_quote", "no chain"),
              skip(days[1], dt.time(11, 0), "ORB", "SPY", "LONG", "daily_loss_limit")]
    base = make_run(tmp_path / "base", [orb_trade], days, ["ORB"], common)
    crowded = skip(days[0], dt.time(10, 31), "ORB", "QQQ", "LONG", "max_open_positions")
    own = skip(days[0], dt.time(10, 50), "FADE", "QQQ", "LONG", "max_open_positions")
    run = make_run(tmp_path / "run", [fade_trade], days, ["ORB", "FADE"],
                   [crowded, *common, own])

    crowding = compare_runs(base, run).crowding
    assert (crowding.base_count, crowding.run_count, crowding.change) == (1, 2, 1)
    assert len(crowding.changed) == 1
    listed = crowding.changed.iloc[0]
    assert (listed["change"], listed["strategy_name"], listed["symbol"], listed["direction"],
            listed["reason"]) == ("skipped in RUN only", "ORB", "QQQ", "LONG",
                                  "max_open_positions")
    assert listed["entry_time"] == pd.Timestamp("2024-03-05 10:31", tz="America/New_York")
    assert listed["other_run"] == "traded, P&L $150.00"

    assert run_compare(CompareRequest(base, run, None, False), Env(console=quiet())) == 0
    page = (run / "compare.html").read_text()
    assert "Crowding out: <b>+1</b>" in page
    assert "2024-03-05 10:31" in page  # New York time of the crowded-out signal
    assert json.loads((run / "compare.json").read_text())["crowding_out"]["change"] == 1


def test_without_skipped_csv_crowding_out_is_not_measured_and_says_so(
    tmp_path: Path,
) -> None:
    days = sessions_from("2024-03-05", 3)
    base = make_run(tmp_path / "base", [trade(days[0], 10.0)], days, ["ORB"],
                    write_skipped=False)
    run = make_run(tmp_path / "run", [trade(days[0], 10.0)], days, ["ORB", "FADE"])
    comparison = compare_runs(base, run)
    assert comparison.crowding.change is None
    assert any("No skipped.csv in base" in note for note in comparison.warnings)


# ------------------------------------------------------------------ correlation


def test_pnl_correlation_matches_a_hand_worked_pearson_value() -> None:
    """module [100, -50, 0, 50] (mean 25), rest [200, 0, -100, 100] (mean 50).

    deviations: module 75, -75, -25, 25; rest 150, -50, -150, 50.
    sum of products = 11250 + 3750 + 3750 + 1250 = 20000
    sums of squares = 12500 and 50000; sqrt(12500 x 50000) = 25000
    r = 20000 / 25000 = 0.8
    """
    module = np.array([100.0, -50.0, 0.0, 50.0])
    rest = np.array([200.0, 0.0, -100.0, 100.0])
    assert pnl_correlation(module, rest) == pytest.approx(0.8, abs=1e-12)
    assert pnl_correlation(module, -rest) == pytest.approx(-0.8, abs=1e-12)
    assert math.isnan(pnl_correlation(module, np.zeros(4)))  # a flat series has no correlation


def test_the_module_is_correlated_with_the_sum_of_the_other_strategies_columns(
    tmp_path: Path,
) -> None:
    """RUN = ORB + GAP (shared) + FADE (added), one trade a day on 4 sessions.

    rest = ORB [200, 0, -100, 0] + GAP [0, 0, 0, 100] = [200, 0, -100, 100]
    module = FADE [100, -50, 0, 50]  ->  r = 0.8 (worked in the test above).
    """
    days = sessions_from("2024-03-04", 4)
    orb = [trade(days[0], 200.0, "ORB"), trade(days[2], -100.0, "ORB")]
    gap = [trade(days[3], 100.0, "GAP", "QQQ")]
    fade = [trade(days[0], 100.0, "FADE", "QQQ"), trade(days[1], -50.0, "FADE", "QQQ"),
            trade(days[3], 50.0, "FADE", "SPY")]
    base = make_run(tmp_path / "base", orb + gap, days, ["ORB", "GAP"])
    run = make_run(tmp_path / "run", orb + gap + fade, days, ["ORB", "GAP", "FADE"])
    comparison = compare_runs(base, run)
    assert comparison.added == ["FADE"]
    assert comparison.module.rest_pnl.tolist() == [200.0, 0.0, -100.0, 100.0]
    assert comparison.module.module_pnl.tolist() == [100.0, -50.0, 0.0, 50.0]
    assert comparison.module.correlation == pytest.approx(0.8, abs=1e-12)
    assert (comparison.module.module_days, comparison.module.both_days) == (3, 2)


# ------------------------------------------------------- metrics and the verdict


@pytest.fixture
def worse_drawdown(tmp_path: Path) -> tuple[Path, Path]:
    """5 sessions from $100,000.

    BASE (ORB): +1000, -2000, +3000, 0, 0 -> closes 101000, 99000, 102000, ...
      max DD = 2000 / 101000 = 1.9802 %; worst day -$2,000 = -1.9802 %.
    RUN (+ FADE): FADE -3000 on day 2 and +500 on day 3 -> closes 101000, 96000, 99500, ...
      max DD = 5000 / 101000 = 4.9505 %; worst day -$5,000 = -4.9505 %; the loss limit
      (3 % of 101000 = $3,030) is hit on day 2.
    Max DD worsens by 2.9703 points.
    """
    days = sessions_from("2024-03-04", 5)
    orb = [trade(days[0], 1000.0, "ORB", contracts=10), trade(days[1], -2000.0, "ORB",
           contracts=10), trade(days[2], 3000.0, "ORB", contracts=10)]
    fade = [trade(days[1], -3000.0, "FADE", "QQQ", contracts=10),
            trade(days[2], 500.0, "FADE", "QQQ", contracts=10)]
    base = make_run(tmp_path / "base", orb, days, ["ORB"])
    run = make_run(tmp_path / "run", orb + fade, days, ["ORB", "FADE"],
                   loss_limit_hit=[False, True, False, False, False],
                   portfolio={"max_drawdown_worsening_pts": 1.0, "sharpe_must_not_fall": False})
    return base, run


def test_side_by_side_metrics_match_the_hand_worked_drawdown_and_worst_day(
    worse_drawdown: tuple[Path, Path],
) -> None:
    rows = {row.key: row for row in compare_runs(*worse_drawdown).metrics}
    assert rows["max_drawdown_pct"].base == pytest.approx(2000 / 101000 * 100)
    assert rows["max_drawdown_pct"].run == pytest.approx(5000 / 101000 * 100)
    assert rows["max_drawdown_pct"].change == pytest.approx(3000 / 101000 * 100)
    assert (rows["worst_day_pnl"].base, rows["worst_day_pnl"].run) == (-2000.0, -5000.0)
    assert rows["worst_day_pnl"].notes == ("2024-03-05", "2024-03-05")
    assert rows["worst_day_return"].run == pytest.approx(-5000 / 101000)
    assert (rows["daily_loss_limit_days"].base, rows["daily_loss_limit_days"].run) == (0, 1)
    assert rows["total_return"].change == pytest.approx(-2500 / 100000)
    assert rows["net_pnl"].change == -2500.0
    assert rows["max_drawdown_pct"].effect == "worse" and rows["net_pnl"].effect == "worse"


def test_a_drawdown_worsening_beyond_the_limit_fails_and_check_exits_1(
    worse_drawdown: tuple[Path, Path],
) -> None:
    base, run = worse_drawdown
    assert run_compare(CompareRequest(base, run, None, True), Env(console=quiet())) == 1
    assert run_compare(CompareRequest(base, run, None, False), Env(console=quiet())) == 0  # no --check, no gate
    document = json.loads((run / "compare.json").read_text())
    assert document["verdict"] == "FAIL"
    criterion = document["criteria"]["max_drawdown_worsening_pts"]
    assert criterion["value"] == pytest.approx(3000 / 101000 * 100)
    assert (criterion["threshold"], criterion["status"]) == (1.0, "FAIL")
    assert '<div class="banner fail">FAIL</div>' in (run / "compare.html").read_text()


def test_the_criteria_come_from_runs_config_not_bases(worse_drawdown: tuple[Path, Path]) -> None:
    base, run = worse_drawdown
    record = json.loads((run / "run.json").read_text())
    record["config"]["acceptance"]["portfolio"] = {"max_drawdown_worsening_pts": 3.5}
    (run / "run.json").write_text(json.dumps(record))
    verdict = compare_runs(base, run).verdict
    assert verdict is not None and verdict.passed  # 2.97 points <= 3.5
    assert run_compare(CompareRequest(base, run, None, True), Env(console=quiet())) == 0


def test_without_portfolio_criteria_the_verdict_says_so_and_check_exits_0(
    pair: tuple[Path, Path, list[dt.date]],
) -> None:
    base, run, _ = pair
    console = quiet()
    assert run_compare(CompareRequest(base, run, None, True), Env(console=console)) == 0
    page = (run / "compare.html").read_text()
    assert '<div class="banner none">NO CRITERIA</div>' in page
    assert "No portfolio criteria configured" in page
    assert 'id="verdict-table"' not in page
    assert json.loads((run / "compare.json").read_text())["verdict"] == "NO CRITERIA"
    assert "NO CRITERIA" in console.file.getvalue()  # type: ignore[attr-defined]


def test_trades_per_strategy_are_counted_in_each_run(
    worse_drawdown: tuple[Path, Path],
) -> None:
    table = {row.name: row for row in compare_runs(*worse_drawdown).strategies}
    assert (table["ORB"].base_trades, table["ORB"].run_trades, table["ORB"].added) == (3, 3, False)
    assert (table["FADE"].base_trades, table["FADE"].run_trades, table["FADE"].added) == (0, 2, True)
    assert table["FADE"].run_pnl == -2500.0


# ------------------------------------------------------------- paired bootstrap


def _returns(seed: int, n: int = 120) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0005, 0.01, n)


def test_paired_bootstrap_is_deterministic_for_a_seed_and_moves_with_it() -> None:
    base, run = _returns(1), _returns(1) + _returns(2) * 0.3

    def draw(seed: int) -> np.ndarray:
        paths = paired_day_resamples(base, run, 300, 10, np.random.default_rng(seed_streams(seed)[1]))
        return np.stack([paths.base_drawdown_pct, paths.run_drawdown_pct,
                         paths.base_sharpe, paths.run_sharpe])

    assert np.array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))


def test_paired_resampling_reads_both_runs_through_the_same_days() -> None:
    """RUN = 3 x BASE day by day. Sharpe ignores scale, so on shared paths both Sharpes
    agree path by path; independently drawn paths would not."""
    base = _returns(3)
    paths = paired_day_resamples(base, 3.0 * base, 300, 10, np.random.default_rng(11))
    assert np.allclose(paths.run_sharpe, paths.base_sharpe, rtol=1e-9, atol=1e-12)
    assert not np.allclose(paths.base_sharpe, paths.base_sharpe[0])  # the paths do vary


def test_runs_paired_drawdown_interval_equals_its_own_reports_interval() -> None:
    """Same seed, same day stream, same chunking: the comparison walks the very day paths
    the single-run report used for RUN's max-drawdown interval."""
    base, run = _returns(4), _returns(5)
    seed, samples, block = 20240601, 500, 20
    paths = paired_day_resamples(base, run, samples, block,
                                 np.random.default_rng(seed_streams(seed)[1]))
    own = bootstrap_intervals(np.array([1.0, -1.0]), run, samples, seed, block)
    assert percentile_interval(paths.run_drawdown_pct) == own.max_drawdown_pct


def test_sharpe_of_paths_equals_the_metrics_sharpe_row_by_row() -> None:
    """Independent method: metrics.sharpe_ratio called on each row; a flat row is NaN."""
    rows = np.vstack([_returns(6, 30), _returns(7, 30), np.zeros(30)])
    vectorised = sharpe_of_paths(rows)
    assert vectorised[:2] == pytest.approx([sharpe_ratio(row) for row in rows[:2]], rel=1e-12)
    assert math.isnan(vectorised[2]) and math.isnan(sharpe_ratio(rows[2]))


# ------------------------------------------------------------------- the outputs


def test_the_page_is_self_contained_with_one_inline_chart_and_json_beside_it(
    worse_drawdown: tuple[Path, Path], tmp_path: Path
) -> None:
    base, run = worse_drawdown
    target = tmp_path / "elsewhere" / "impact.html"
    assert run_compare(CompareRequest(base, run, target, False), Env(console=quiet())) == 0
    page = target.read_text()
    assert REMOTE_LOAD.findall(page) == [] and external_references(page) == []
    assert page.count('src="data:image/png;base64,') == 1
    for section in ("verdict", "impact", "module", "crowding", "charts"):
        assert f'<section id="{section}">' in page
    document = json.loads((target.parent / "compare.json").read_text())
    assert document["added_strategies"] == ["FADE"] and document["shared_strategies"] == ["ORB"]
    assert document["metrics"]["worst_day_pnl"]["run"] == -5000.0
    assert not (run / "compare.html").exists()  # --out wins over the default


def test_compare_json_holds_the_numbers_the_comparison_computed(
    worse_drawdown: tuple[Path, Path],
) -> None:
    comparison = compare_runs(*worse_drawdown)
    document = json.loads(compare_document(comparison))
    for row in comparison.metrics:
        stored = document["metrics"][row.key]
        assert (stored["base"], stored["run"]) == (row.base, row.run), row.key
    assert document["correlation"]["sessions"] == 5


def test_the_comparison_states_how_each_runs_option_prices_were_made(
    busy_run: tuple[Path, list[dt.date]], tmp_path: Path
) -> None:
    """Issue 11 item 7: one row when both runs priced alike, one per run when they did not.
    The hand-built BASE has no run.json pricing block (an older run: the flat model)."""
    folder, _ = busy_run
    rerun = shutil.copytree(folder, tmp_path / "rerun")
    assert run_compare(CompareRequest(folder, rerun, None, False), Env(console=quiet())) == 0
    page = (rerun / "compare.html").read_text()
    assert "<th>Option prices</th>" in page and "model prices: the flat model" in page
    record = json.loads((rerun / "run.json").read_text())
    record["pricing"] = {"source": "chain", "chain_store": "/quotes", "vol_model": "session",
                         "calibrations": {}, "model_risk": None}
    (rerun / "run.json").write_text(json.dumps(record))
    assert run_compare(CompareRequest(folder, rerun, None, False), Env(console=quiet())) == 0
    page = (rerun / "compare.html").read_text()
    assert "<th>Option prices (BASE)</th>" in page and "<th>Option prices (RUN)</th>" in page
    assert "real option quotes from the chain store /quotes (how the exits were priced is not recorded)" in page
    document = json.loads((rerun / "compare.json").read_text())
    assert document["pricing"]["base"].startswith("model prices: the flat model")
    assert document["pricing"]["run"].startswith("real option quotes from the chain store /quotes")
