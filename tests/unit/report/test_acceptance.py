"""The acceptance verdict (SPEC 11, issue 4) criterion by criterion: equality at a
threshold, NOT PROVEN at the interval's edge, no intervals without trades (the text each
number is printed as is in ``test_formatting.py``, the terminal table in
``test_terminal.py``). Thresholds and values are small exact decimals chosen so the
expected status can be read off by hand."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.report import build_run, passing_summary, sessions_from, trade
from vwapcli.config import AcceptanceConfig
from vwapcli.report.acceptance import (
    Criterion,
    Verdict,
    acceptance_verdict,
    assess,
    assess_run,
    evaluate,
)
from vwapcli.report.bootstrap import NO_INTERVAL, BootstrapIntervals, Interval
from vwapcli.report.run_folder import load_run

summary = passing_summary


EVERY_INTERVAL = BootstrapIntervals(Interval(0.46, 0.55), Interval(1.35, 1.8), Interval(6.0, 14.0))


# ------------------------------------------------------------------ one criterion
def test_a_minimum_is_met_by_an_equal_value_and_a_maximum_too() -> None:
    """0.45 >= 0.45 passes; 20.0 <= 20.0 passes; 0.4499 and 20.01 fail."""
    assert Criterion("win_rate", "Win rate", 0.45, 0.45, ">=", NO_INTERVAL).status == "PASS"
    assert Criterion("max_drawdown_pct", "Max drawdown", 20.0, 20.0, "<=", NO_INTERVAL).status == "PASS"
    assert Criterion("win_rate", "Win rate", 0.4499, 0.45, ">=", NO_INTERVAL).status == "FAIL"
    assert Criterion("max_drawdown_pct", "Max drawdown", 20.01, 20.0, "<=", NO_INTERVAL).status == "FAIL"


@pytest.mark.parametrize("comparator", [">=", "<="])
def test_a_value_that_could_not_be_computed_fails(comparator: str) -> None:
    """NaN (e.g. no trades for a ratio) is neither above nor below a threshold: FAIL."""
    criterion = Criterion("x", "X", math.nan, 1.0, comparator, NO_INTERVAL)  # type: ignore[arg-type]
    assert not criterion.passed and criterion.status == "FAIL"


def test_an_interval_ending_exactly_at_the_threshold_does_not_reach_the_failing_side() -> None:
    """Minimum 0.45 with interval [0.45, 0.55]: its low end is not below 0.45 -> PASS;
    [0.4499, 0.55] -> NOT PROVEN. Maximum 20 with [5, 20] -> PASS, [5, 20.01] -> NOT PROVEN."""
    assert Criterion("w", "W", 0.5, 0.45, ">=", Interval(0.45, 0.55)).status == "PASS"
    assert Criterion("w", "W", 0.5, 0.45, ">=", Interval(0.4499, 0.55)).status == "NOT PROVEN"
    assert Criterion("d", "D", 10.0, 20.0, "<=", Interval(5.0, 20.0)).status == "PASS"
    assert Criterion("d", "D", 10.0, 20.0, "<=", Interval(5.0, 20.01)).status == "NOT PROVEN"


def test_a_failed_criterion_is_never_also_not_proven() -> None:
    """Win rate 0.40 < 0.45 fails; its interval [0.35, 0.50] reaches below 0.45, but NOT
    PROVEN qualifies passes only: the verdict lists it as failed, not as not proven."""
    criterion = Criterion("win_rate", "Win rate", 0.40, 0.45, ">=", Interval(0.35, 0.50))
    assert not criterion.not_proven
    intervals = BootstrapIntervals(Interval(0.35, 0.50), EVERY_INTERVAL.profit_factor, EVERY_INTERVAL.max_drawdown_pct)
    verdict = evaluate(summary(win_rate=0.40), intervals, AcceptanceConfig())
    assert verdict.failed == ["Win rate"] and verdict.not_proven == []


def test_a_pass_without_an_interval_is_a_plain_pass() -> None:
    """Years and trades carry no interval: a pass is never NOT PROVEN."""
    criterion = Criterion("trades", "Trades", 300.0, 200.0, ">=", NO_INTERVAL)
    assert not criterion.not_proven and criterion.status == "PASS"


def test_metrics_json_form_carries_interval_ends_only_when_there_is_an_interval() -> None:
    with_interval = Criterion("win_rate", "Win rate", 0.5, 0.45, ">=", Interval(0.4, 0.6)).as_dict()
    assert with_interval == {"value": 0.5, "threshold": 0.45, "comparator": ">=", "status": "NOT PROVEN",
                             "passed": True, "ci_low": 0.4, "ci_high": 0.6}
    without = Criterion("trades", "Trades", 150.0, 200.0, ">=", NO_INTERVAL).as_dict()
    assert (without["status"], without["passed"], without["ci_low"], without["ci_high"]) == ("FAIL", False, None, None)


# ------------------------------------------------------------------ the verdict
def test_the_verdict_lists_five_criteria_each_with_its_own_interval() -> None:
    """Win rate, PF, max DD (with the matching bootstrap interval), years, trades (none)."""
    verdict = evaluate(summary(), EVERY_INTERVAL, AcceptanceConfig())
    assert [c.key for c in verdict.criteria] == ["win_rate", "profit_factor", "max_drawdown_pct",
                                                 "years_covered", "trades"]
    assert [c.interval for c in verdict.criteria] == [*EVERY_INTERVAL.__dict__.values(), NO_INTERVAL, NO_INTERVAL]
    assert [c.threshold for c in verdict.criteria] == [0.45, 1.3, 20.0, 5.0, 200.0]
    assert verdict.passed and verdict.label == "PASS" and verdict.failed == [] and verdict.not_proven == []


def test_without_trades_the_trade_intervals_are_dropped_but_not_the_drawdown_one() -> None:
    """0 trades: nothing to resample for win rate and PF (n/a, not [0, 0]); the daily
    drawdown interval stays. With 1 trade all three stay."""
    none = evaluate(summary(trades=0, win_rate=0.0, profit_factor=0.0), EVERY_INTERVAL, AcceptanceConfig())
    assert [c.interval for c in none.criteria[:3]] == [NO_INTERVAL, NO_INTERVAL, EVERY_INTERVAL.max_drawdown_pct]
    assert [c.key for c in none.criteria] == ["win_rate", "profit_factor", "max_drawdown_pct", "years_covered", "trades"]
    assert [c.value for c in none.criteria[:2]] == [0.0, 0.0]
    one = evaluate(summary(trades=1), EVERY_INTERVAL, AcceptanceConfig())
    assert [c.interval for c in one.criteria[:3]] == [EVERY_INTERVAL.win_rate, EVERY_INTERVAL.profit_factor,
                                                     EVERY_INTERVAL.max_drawdown_pct]


def test_verdicts_and_criteria_cannot_be_changed() -> None:
    verdict = evaluate(summary(), EVERY_INTERVAL, AcceptanceConfig())
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.criteria = []  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.criteria[0].value = 0.0  # type: ignore[misc]


# ------------------------------------------------------------------ one assessment
def test_an_assessment_reports_its_daily_returns_and_metrics_json_entry() -> None:
    """Start 100,000; closes 101,000 and 99,990 on 2024-01-02/03; trades +1,000 and
    -1,010. Returns: +1 %, 99,990/101,000 - 1 = -1 %. Win rate 1/2 >= 0.45 passes;
    PF 1000/1010 = 0.99 < 1.3 fails -> FAIL. metrics.json lists the verdict, the keys (not
    labels) of the not-proven criteria and every criterion by key."""
    trades = pd.DataFrame({
        "pnl": [1000.0, -1010.0],
        "entry_date": np.array(["2024-01-02", "2024-01-03"], "datetime64[s]"),
        "exit_date": np.array(["2024-01-02", "2024-01-03"], "datetime64[s]"),
    })
    daily = pd.DataFrame({"session_date": np.array(["2024-01-02", "2024-01-03"], "datetime64[D]"),
                          "equity": [101_000.0, 99_990.0]})
    assessment = assess("ORB", trades, daily, 100_000.0, AcceptanceConfig(bootstrap_samples=200))
    returns = assessment.returns
    assert returns.name == "ORB"
    assert list(returns.index) == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    assert returns.to_numpy() == pytest.approx([0.01, -0.01])
    document = assessment.as_dict()
    assert document["verdict"] == "FAIL"
    assert document["trades"] == 2 and document["profit_factor"] == pytest.approx(1000 / 1010)
    assert set(document["criteria"]) == {"win_rate", "profit_factor", "max_drawdown_pct", "years_covered", "trades"}
    assert document["criteria"]["profit_factor"]["status"] == "FAIL"
    assert document["not_proven"] == [c.key for c in assessment.verdict.criteria if c.not_proven]
    assert isinstance(assessment.verdict, Verdict)
    with pytest.raises(dataclasses.FrozenInstanceError):
        assessment.name = "X"  # type: ignore[misc]


# ------------------------------------------------------------------ a whole run
def _three_trade_run(tmp_path: Path) -> Path:
    """Four sessions from 2024-01-02; ORB +100 on the 1st, FADE -50 on the 2nd, ORB +30 on
    the 3rd; starting equity 100,000."""
    days = sessions_from("2024-01-02", 4)
    trades = [trade(days[0], 100.0, "ORB"), trade(days[1], -50.0, "FADE"), trade(days[2], 30.0, "ORB")]
    return build_run(tmp_path / "run", trades, days, acceptance={"bootstrap_samples": 100},
                     strategies=["ORB", "FADE"])


def test_a_run_is_assessed_as_a_whole_and_per_strategy(tmp_path: Path) -> None:
    """"all": 3 trades, net +80, ending 100,080; ORB alone: 2 trades, +130, 100,130;
    FADE alone: 1 trade, -50, 99,950 (each strategy on the run's starting equity)."""
    assessments = assess_run(load_run(_three_trade_run(tmp_path)))
    assert list(assessments) == ["all", "ORB", "FADE"]
    assert [(a.summary.trades, a.summary.net_pnl, a.summary.ending_equity) for a in assessments.values()] == [
        (3, 80.0, 100_080.0), (2, 130.0, 100_130.0), (1, -50.0, 99_950.0)]


def test_daily_equity_handed_in_is_used_and_the_rest_is_rebuilt(tmp_path: Path) -> None:
    """A flat daily frame handed in for ORB (equity 100,000 every session) is ORB's ending
    equity, 100,000 instead of 100,130; "all" and FADE, not handed in, are rebuilt from the
    folder: 100,080 and 99,950."""
    run = load_run(_three_trade_run(tmp_path))
    flat = pd.DataFrame({"session_date": np.array(sessions_from("2024-01-02", 4), "datetime64[D]"),
                         "pnl": [0.0] * 4, "equity": [100_000.0] * 4})
    assessments = assess_run(run, {"ORB": flat})
    assert [a.summary.ending_equity for a in assessments.values()] == [100_080.0, 100_000.0, 99_950.0]


def test_the_gate_and_the_verdict_take_their_options_by_name() -> None:
    """``strict`` and the metrics are keyword-only: a bare True or a bare number in the
    wrong place is refused rather than read as something else."""
    verdict = acceptance_verdict(AcceptanceConfig(), win_rate=0.5, profit_factor=1.5, max_drawdown_pct=10.0,
                                 years_covered=6.0, trades=300)
    assert verdict.gate_fails(strict=True) is False
    with pytest.raises(TypeError):
        verdict.gate_fails(True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        acceptance_verdict(AcceptanceConfig(), 0.5, 1.5, 10.0, 6.0, 300)  # type: ignore[misc]
