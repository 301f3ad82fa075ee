"""The acceptance verdict: each criterion of config ``acceptance`` against its threshold.

Rules (SPEC 11, issue 4):

* Minimums (win rate, profit factor, years covered, trades) pass when ``value >=
  threshold``; the drawdown maximum passes when ``value <= threshold``.
* Win rate, profit factor and max drawdown carry a bootstrap 95 % interval
  (:mod:`vwapcli.report.bootstrap`); years and trade count are facts of the run and
  carry none ("n/a").
* A criterion that PASSes while its interval reaches past the threshold on the failing
  side (lower end below a minimum, upper end above a maximum) is **NOT PROVEN**: the
  point estimate passes but chance alone could have produced it.
* Overall: FAIL if any criterion FAILs; otherwise PASS, listing the not-proven criteria.
  NOT PROVEN is a warning, not a failure, so ``--check`` gates on hard failures only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from vwapcli.config import AcceptanceConfig
from vwapcli.report.bootstrap import (
    NO_INTERVAL,
    BootstrapIntervals,
    Interval,
    bootstrap_intervals,
)
from vwapcli.report.metrics import Summary, daily_returns, summarize

Status = Literal["PASS", "FAIL", "NOT PROVEN"]


@dataclass(frozen=True)
class Criterion:
    """One row of the verdict table."""

    key: str  # machine name used in metrics.json
    label: str  # what a person reads
    value: float
    threshold: float
    comparator: Literal[">=", "<="]
    interval: Interval  # NO_INTERVAL when the criterion is not bootstrapped

    @property
    def passed(self) -> bool:
        if math.isnan(self.value):
            return False
        if self.comparator == ">=":
            return self.value >= self.threshold
        return self.value <= self.threshold

    @property
    def not_proven(self) -> bool:
        """PASS, but the 95 % interval reaches the failing side of the threshold."""
        if not self.passed or not self.interval.available:
            return False
        if self.comparator == ">=":
            return self.interval.low < self.threshold
        return self.interval.high > self.threshold

    @property
    def status(self) -> Status:
        if not self.passed:
            return "FAIL"
        return "NOT PROVEN" if self.not_proven else "PASS"

    def as_dict(self) -> dict[str, Any]:
        """metrics.json form: value, threshold, status and interval ends (None = n/a)."""
        return {
            "value": self.value,
            "threshold": self.threshold,
            "comparator": self.comparator,
            "status": self.status,
            "passed": self.passed,
            "ci_low": self.interval.low if self.interval.available else None,
            "ci_high": self.interval.high if self.interval.available else None,
        }


@dataclass(frozen=True)
class Verdict:
    """All criteria and the overall PASS/FAIL."""

    criteria: list[Criterion]
    not_proven: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(criterion.passed for criterion in self.criteria)

    @property
    def label(self) -> Literal["PASS", "FAIL"]:
        return "PASS" if self.passed else "FAIL"

    @property
    def failed(self) -> list[str]:
        return [criterion.label for criterion in self.criteria if not criterion.passed]


def evaluate(
    summary: Summary, intervals: BootstrapIntervals, acceptance: AcceptanceConfig
) -> Verdict:
    """Judge one strategy's (or the run's) metrics against the acceptance config."""
    criteria = [
        Criterion(
            "win_rate", "Win rate", summary.win_rate, acceptance.min_win_rate, ">=",
            intervals.win_rate,
        ),
        Criterion(
            "profit_factor", "Profit factor", summary.profit_factor,
            acceptance.min_profit_factor, ">=", intervals.profit_factor,
        ),
        Criterion(
            "max_drawdown_pct", "Max drawdown", summary.max_drawdown_pct,
            acceptance.max_drawdown_pct, "<=", intervals.max_drawdown_pct,
        ),
        Criterion(
            "years_covered", "Years covered", summary.years_covered, acceptance.min_years,
            ">=", NO_INTERVAL,
        ),
        Criterion(
            "trades", "Trades", float(summary.trades), float(acceptance.min_trades), ">=",
            NO_INTERVAL,
        ),
    ]
    if summary.trades == 0:
        # Nothing to resample: the trade-level intervals say "n/a", not a fake [0, 0].
        criteria[0] = _without_interval(criteria[0])
        criteria[1] = _without_interval(criteria[1])
    return Verdict(criteria, [c.label for c in criteria if c.not_proven])


def _without_interval(criterion: Criterion) -> Criterion:
    return Criterion(
        criterion.key, criterion.label, criterion.value, criterion.threshold,
        criterion.comparator, NO_INTERVAL,
    )


def format_value(key: str, value: float) -> str:
    """How each criterion's numbers are written on the page and in the terminal."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if key == "win_rate":
        return f"{value * 100:.1f}%"
    if key == "max_drawdown_pct":
        return f"{value:.1f}%"
    # Portfolio criteria (report --compare) are changes, so they carry a sign (not zero).
    if key in ("max_drawdown_worsening_pts", "sharpe_change"):
        text = f"{value:+.2f}" if value != 0.0 else "0.00"
        return f"{text} pts" if key == "max_drawdown_worsening_pts" else text
    if key == "trades":
        return f"{value:,.0f}"
    if key == "years_covered":
        return f"{value:.2f}"
    return f"{value:.2f}"


def format_threshold(criterion: Criterion) -> str:
    sign = "≥" if criterion.comparator == ">=" else "≤"
    return f"{sign} {format_value(criterion.key, criterion.threshold)}"


def verdict_rich_table(verdict: Verdict, title: str, value_header: str = "Value") -> Any:
    """The verdict as a Rich table (terminal twin of the HTML verdict table)."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("Criterion", value_header, "Threshold", "Result", "95% interval"):
        table.add_column(column, justify="left" if column == "Criterion" else "right")
    style = {"PASS": "green", "FAIL": "bold red", "NOT PROVEN": "yellow"}
    for criterion in verdict.criteria:
        table.add_row(
            criterion.label,
            format_value(criterion.key, criterion.value),
            format_threshold(criterion),
            f"[{style[criterion.status]}]{criterion.status}[/]",
            format_interval(criterion),
        )
    return table


def format_interval(criterion: Criterion) -> str:
    if not criterion.interval.available:
        return "n/a"
    low = format_value(criterion.key, criterion.interval.low)
    high = format_value(criterion.key, criterion.interval.high)
    return f"[{low}, {high}]"


@dataclass(frozen=True)
class Assessment:
    """Everything the report says about one strategy (or "all"): inputs, metrics, verdict."""

    name: str  # strategy display name, or "all"
    trades: pd.DataFrame  # prepared trade table (see metrics.prepare_trades)
    daily: pd.DataFrame  # session_date, pnl, equity for every session of the run
    summary: Summary
    intervals: BootstrapIntervals
    verdict: Verdict

    @property
    def returns(self) -> pd.Series:
        """Daily returns (first session against starting equity), indexed by session date."""
        values = daily_returns(self.summary.starting_equity, self.daily["equity"].to_numpy())
        index = pd.DatetimeIndex(self.daily["session_date"].to_numpy(dtype="datetime64[ns]"))
        return pd.Series(values, index=index, name=self.name)

    def as_dict(self) -> dict[str, Any]:
        """metrics.json entry: headline metrics, verdict, not-proven list, criteria."""
        document: dict[str, Any] = dict(self.summary.as_dict())
        document["verdict"] = self.verdict.label
        document["not_proven"] = [c.key for c in self.verdict.criteria if c.not_proven]
        document["criteria"] = {c.key: c.as_dict() for c in self.verdict.criteria}
        return document


def assess(
    name: str,
    trades: pd.DataFrame,
    daily: pd.DataFrame,
    starting_equity: float,
    acceptance: AcceptanceConfig,
) -> Assessment:
    """Metrics, seeded bootstrap intervals and the verdict for one set of trades."""
    summary = summarize(trades, daily, starting_equity)
    intervals = bootstrap_intervals(
        trades["pnl"].to_numpy(dtype=float),
        daily_returns(starting_equity, daily["equity"].to_numpy(dtype=float)),
        samples=acceptance.bootstrap_samples,
        seed=acceptance.bootstrap_seed,
        block_length_days=acceptance.block_length_days,
    )
    return Assessment(name, trades, daily, summary, intervals, evaluate(summary, intervals, acceptance))
