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
* Overall, three states (SPEC 11, issue 11 item 7): FAIL if any criterion FAILs; NOT
  PROVEN when none fails but at least one is NOT PROVEN; PASS only when every criterion
  passes with its interval clear of the threshold. A headline never says PASS over
  criteria that chance alone could have produced.
* ``report --check`` exits non-zero on FAIL only; ``--check --strict`` on NOT PROVEN too.
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
from vwapcli.report.run_folder import ALL, RunFolder, daily_equity, strategy_trades

Status = Literal["PASS", "FAIL", "NOT PROVEN"]

#: How each status is coloured on every page and in the terminal (amber = not proven).
STATUS_CSS: dict[str, str] = {"PASS": "pass", "FAIL": "fail", "NOT PROVEN": "unproven"}
STATUS_RICH: dict[str, str] = {"PASS": "green", "FAIL": "bold red", "NOT PROVEN": "bold yellow"}


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
    """All criteria and the overall three-state verdict."""

    criteria: list[Criterion]
    not_proven: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """No criterion FAILs (PASS or NOT PROVEN): what ``--check`` gates on."""
        return all(criterion.passed for criterion in self.criteria)

    @property
    def proven(self) -> bool:
        """Every criterion passes with its interval clear of the threshold."""
        return self.passed and not any(criterion.not_proven for criterion in self.criteria)

    @property
    def label(self) -> Status:
        if not self.passed:
            return "FAIL"
        return "PASS" if self.proven else "NOT PROVEN"

    def gate_fails(self, *, strict: bool) -> bool:
        """Should ``--check`` exit non-zero? On FAIL; with ``strict`` on NOT PROVEN too."""
        return not (self.proven if strict else self.passed)

    @property
    def failed(self) -> list[str]:
        return [criterion.label for criterion in self.criteria if not criterion.passed]


def acceptance_verdict(
    acceptance: AcceptanceConfig,
    *,
    win_rate: float,
    profit_factor: float,
    max_drawdown_pct: float,
    years_covered: float,
    trades: int,
    intervals: BootstrapIntervals | None = None,
) -> Verdict:
    """Judge a set of trades' metrics against the acceptance config: the one verdict
    function (the report with bootstrap ``intervals``, the sweep on point values alone)."""
    criteria = [
        Criterion(
            "win_rate", "Win rate", win_rate, acceptance.min_win_rate, ">=",
            intervals.win_rate if intervals else NO_INTERVAL,
        ),
        Criterion(
            "profit_factor", "Profit factor", profit_factor, acceptance.min_profit_factor, ">=",
            intervals.profit_factor if intervals else NO_INTERVAL,
        ),
        Criterion(
            "max_drawdown_pct", "Max drawdown", max_drawdown_pct, acceptance.max_drawdown_pct, "<=",
            intervals.max_drawdown_pct if intervals else NO_INTERVAL,
        ),
        Criterion(
            "years_covered", "Years covered", years_covered, acceptance.min_years, ">=", NO_INTERVAL,
        ),
        Criterion(
            "trades", "Trades", float(trades), float(acceptance.min_trades), ">=", NO_INTERVAL,
        ),
    ]
    if trades == 0:
        # Nothing to resample: the trade-level intervals say "n/a", not a fake [0, 0].
        criteria[0] = _without_interval(criteria[0])
        criteria[1] = _without_interval(criteria[1])
    return Verdict(criteria, [c.label for c in criteria if c.not_proven])


def evaluate(
    summary: Summary, intervals: BootstrapIntervals, acceptance: AcceptanceConfig
) -> Verdict:
    """Judge one strategy's (or the run's) metrics against the acceptance config."""
    return acceptance_verdict(
        acceptance, win_rate=summary.win_rate, profit_factor=summary.profit_factor,
        max_drawdown_pct=summary.max_drawdown_pct, years_covered=summary.years_covered,
        trades=summary.trades, intervals=intervals,
    )


def _without_interval(criterion: Criterion) -> Criterion:
    return Criterion(
        criterion.key, criterion.label, criterion.value, criterion.threshold,
        criterion.comparator, NO_INTERVAL,
    )


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
        return returns_series(self.daily, self.summary.starting_equity, self.name)

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


def returns_series(daily: pd.DataFrame, starting_equity: float, name: str) -> pd.Series:
    """Daily returns indexed by session date, exactly as ``Assessment.returns`` has them.

    Computed before the bootstrap so the tearsheet process can start drawing sooner.
    """
    values = daily_returns(starting_equity, daily["equity"].to_numpy())
    index = pd.DatetimeIndex(daily["session_date"].to_numpy(dtype="datetime64[ns]"))
    return pd.Series(values, index=index, name=name)


def assess_run(
    run: RunFolder, dailies: dict[str, pd.DataFrame] | None = None
) -> dict[str, Assessment]:
    """Assessments for the whole run ("all") and each strategy alone.

    ``dailies`` (from ``daily_equity``, by name) saves rebuilding them when already made.
    """
    results = {}
    for name in [ALL, *run.strategies]:
        daily = dailies[name] if dailies and name in dailies else daily_equity(run, name)
        results[name] = assess(
            name, strategy_trades(run, name), daily, run.starting_equity, run.acceptance
        )
    return results
