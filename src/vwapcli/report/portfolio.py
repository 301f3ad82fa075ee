"""Portfolio impact: what switching strategies on changes, BASE run against RUN (SPEC 11).

``vwapcli report --compare BASE RUN`` answers one question: the book without the module
(BASE) against the same book with it (RUN). "The module" is whatever RUN runs that BASE
does not, so this file names no strategy and survives the deletion of any of them.

Rules (issue 7):

* **Comparable or refused.** Same data fingerprint, timeframe, date range and symbols;
  every BASE strategy in RUN with an equal config block; RUN adds at least one strategy
  unless it is BASE itself (same folder, or a rerun: same strategies, same config
  outside ``acceptance``), which must then show zero change everywhere. Any other
  mismatch is one ``ReportError`` line naming the field and both values. Config sections
  outside the strategies (risk, options, exits, data) may differ but are flagged: the
  change would then not be the module's alone.
* **Metrics** are the single-run ones (:mod:`vwapcli.report.metrics`), side by side,
  change = RUN - BASE (percentage points for percentages).
* **Crowding out** = signals of the shared strategies skipped for a *risk* reason
  (daily loss limit, position open, max open positions, size zero) in RUN minus the
  same count in BASE. Pricing and timing skips (too late, no quote, ...) happen with
  or without the module, so they are not counted.
* **Correlation** = Pearson correlation, over every session of the run, of the module's
  daily P&L (the sum of RUN's ``pnl_<added>`` columns) with the rest of the book's (the
  sum of RUN's other ``pnl_`` columns).
* **Portfolio criteria** (``acceptance.portfolio`` in RUN's config, the authoritative one)
  are judged on point values with a paired stationary-block bootstrap interval of the
  change (:func:`vwapcli.report.bootstrap.paired_day_resamples`), PASS / FAIL /
  NOT PROVEN exactly as the single-run verdict.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from vwapcli.config import AcceptanceConfig
from vwapcli.core.skips import RISK_REASONS
from vwapcli.errors import ReportError
from vwapcli.report.acceptance import Criterion, Verdict
from vwapcli.report.bootstrap import paired_day_resamples, percentile_interval, seed_streams
from vwapcli.report.formatting import Kind, verdict_sentence
from vwapcli.report.metrics import NEW_YORK_TZ, Summary, daily_returns, summarize
from vwapcli.report.run_folder import (
    ALL,
    RunFolder,
    daily_equity,
    load_run,
    read_skipped,
    strategy_daily_pnl,
)

# run.json fields that say "same data": compared first, in this order.
DATA_FIELDS = ("data_fingerprint", "timeframe", "start", "end", "symbols")
# Config sections that may differ without refusal (flagged instead); strategies are
# checked block by block, acceptance is RUN's to set.
UNFLAGGED_SECTIONS = ("strategies", "acceptance")

NO_CRITERIA = "NO CRITERIA"


class _Absent:
    """Marks a key one side of a config lacks (shown as "absent")."""

    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()


# ------------------------------------------------------------------------ loading


@dataclass(frozen=True)
class RunSide:
    """One side of the comparison: a run folder and the book-level numbers derived from it."""

    folder: RunFolder
    skipped: pd.DataFrame | None  # skipped.csv; None when the folder has none
    daily: pd.DataFrame  # session_date, pnl, equity: every session of the run
    summary: Summary
    returns: np.ndarray  # daily returns, first session against starting equity
    strategy_pnl: dict[str, np.ndarray]  # daily P&L per strategy display name
    loss_limit_days: int | None  # sessions stopped by the daily loss limit (None: unrecorded)

    @property
    def name(self) -> str:
        return self.folder.path.name


def load_side(run_dir: Path) -> RunSide:
    """Load a run folder and compute its whole-book metrics."""
    folder = load_run(Path(run_dir))
    daily = daily_equity(folder, ALL)
    equity = daily["equity"].to_numpy(dtype=float)
    loss_limit_days = (
        int(folder.equity["daily_loss_limit_hit"].astype(bool).sum())
        if "daily_loss_limit_hit" in folder.equity
        else None
    )
    return RunSide(
        folder=folder,
        skipped=read_skipped(folder.path),
        daily=daily,
        summary=summarize(folder.trades, daily, folder.starting_equity),
        returns=daily_returns(folder.starting_equity, equity),
        strategy_pnl=strategy_daily_pnl(folder),
        loss_limit_days=loss_limit_days,
    )


# ----------------------------------------------------------------- comparability


def shown(value: Any) -> str:
    """A run.json value as the refusal message prints it."""
    if value is None:
        return "none recorded"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str):
        return value
    return repr(value)


def first_difference(base: Any, run: Any, path: str) -> tuple[str, Any, Any] | None:
    """The first (dotted path, BASE value, RUN value) where two JSON values differ, sorted by key."""
    if isinstance(base, dict) and isinstance(run, dict):
        for key in sorted(set(base) | set(run), key=str):
            found = first_difference(base.get(key, ABSENT), run.get(key, ABSENT), f"{path}.{key}")
            if found is not None:
                return found
        return None
    if base is ABSENT or run is ABSENT or base != run:
        return path, base, run
    return None


def _config(folder: RunFolder) -> dict[str, Any]:
    config = folder.meta.get("config")
    return config if isinstance(config, dict) else {}


def _enabled_blocks(folder: RunFolder) -> dict[str, Any]:
    blocks = _config(folder).get("strategies")
    if not isinstance(blocks, dict):
        return {}
    return {
        key: block for key, block in blocks.items()
        if isinstance(block, dict) and block.get("enabled", False)
    }


def _same_folder(base: RunFolder, run: RunFolder) -> bool:
    return base.path.resolve() == run.path.resolve()


def check_comparable(base: RunFolder, run: RunFolder) -> tuple[list[str], list[str]]:
    """(shared, added) strategy display names; a ``ReportError`` when the runs differ otherwise.

    The message names the field and both values, e.g. ``end differs (BASE 2024-12-31,
    RUN 2024-11-29)``.
    """
    prefix = f"cannot compare {base.path} with {run.path}"
    for name in DATA_FIELDS:
        base_value, run_value = base.meta.get(name), run.meta.get(name)
        if name == "symbols":
            base_value = sorted(str(s) for s in base_value or [])
            run_value = sorted(str(s) for s in run_value or [])
        if base_value != run_value:
            raise ReportError(
                f"{prefix}: {name} differs (BASE: {shown(base_value)}; RUN: {shown(run_value)})"
            )

    missing = [name for name in base.strategies if name not in run.strategies]
    if missing:
        raise ReportError(
            f"{prefix}: strategies differ: RUN lacks BASE's {shown(missing)} "
            f"(BASE: {shown(base.strategies)}; RUN: {shown(run.strategies)})"
        )
    added = [name for name in run.strategies if name not in base.strategies]
    shared = [name for name in run.strategies if name in base.strategies]

    # The shared strategies must have traded under the same rules: compare every block
    # BASE ran (its enabled blocks); RUN's added blocks are the module's own business.
    run_blocks = _config(run).get("strategies")
    run_blocks = run_blocks if isinstance(run_blocks, dict) else {}
    for key, block in sorted(_enabled_blocks(base).items()):
        other = run_blocks.get(key, ABSENT)
        found = first_difference(block, other, f"config.strategies.{key}")
        if found is not None:
            where, base_value, run_value = found
            raise ReportError(
                f"{prefix}: {where} differs (BASE: {shown(base_value)}; RUN: {shown(run_value)})"
            )

    if not added and not _same_folder(base, run):
        # Same strategies: only a rerun of BASE (same config outside acceptance) compares.
        trimmed = [
            {k: v for k, v in _config(side).items() if k != "acceptance"} for side in (base, run)
        ]
        found = first_difference(trimmed[0], trimmed[1], "config")
        if found is not None:
            where, base_value, run_value = found
            raise ReportError(
                f"{prefix}: RUN adds no strategy to BASE (both run {shown(shared)}) and is not a "
                f"rerun of it: {where} differs (BASE: {shown(base_value)}; RUN: {shown(run_value)})"
            )

    base_days, run_days = base.sessions, run.sessions
    if base_days.shape != run_days.shape or not np.array_equal(base_days, run_days):
        extra = np.setxor1d(base_days, run_days)
        first = str(extra[0]) if extra.size else "order"
        raise ReportError(
            f"{prefix}: equity.parquet sessions differ (BASE {base_days.size} sessions, "
            f"RUN {run_days.size}; first difference {first})"
        )
    return shared, added


def config_warnings(base: RunFolder, run: RunFolder) -> list[str]:
    """Config sections outside the strategies that differ: the change is not the module's alone."""
    warnings = []
    base_config, run_config = _config(base), _config(run)
    for section in sorted(set(base_config) | set(run_config)):
        if section in UNFLAGGED_SECTIONS:
            continue
        found = first_difference(
            base_config.get(section, ABSENT), run_config.get(section, ABSENT), f"config.{section}"
        )
        if found is not None:
            where, base_value, run_value = found
            warnings.append(
                f"{where} differs (BASE: {shown(base_value)}; RUN: {shown(run_value)}): "
                "part of the change is not the added strategies'."
            )
    if base.meta.get("data_fingerprint") is None:
        warnings.append("Neither run records a data fingerprint: same data is assumed, not checked.")
    return warnings


# ----------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class MetricChange:
    """One row of the side-by-side table: BASE, RUN and the change RUN - BASE."""

    key: str
    label: str
    kind: Kind
    base: float
    run: float
    higher_is_better: bool | None  # None: neither direction is better (e.g. trade count)
    notes: tuple[str, str] = ("", "")  # e.g. the date of a worst day, per side

    @property
    def change(self) -> float:
        return self.run - self.base

    @property
    def effect(self) -> Literal["better", "worse", "same", "n/a"]:
        """Whether the change helps the book (colours the page)."""
        change = self.change
        if math.isnan(change) or self.higher_is_better is None:
            return "n/a"
        if change == 0.0:
            return "same"
        return "better" if (change > 0) == self.higher_is_better else "worse"


def _worst_day(side: RunSide) -> tuple[float, str, float, str]:
    """Worst day in dollars and in percent (possibly different days), with their dates."""
    pnl = side.daily["pnl"].to_numpy(dtype=float)
    dates = side.daily["session_date"].dt.strftime("%Y-%m-%d").to_numpy()
    if pnl.size == 0:
        return math.nan, "", math.nan, ""
    dollars, percent = int(np.argmin(pnl)), int(np.argmin(side.returns))
    return float(pnl[dollars]), str(dates[dollars]), float(side.returns[percent]), str(dates[percent])


def _count(value: int | None) -> float:
    return math.nan if value is None else float(value)


def metric_changes(base: RunSide, run: RunSide, crowding: CrowdingOut) -> list[MetricChange]:
    """The issue 7 side-by-side rows, in page order."""
    b, r = base.summary, run.summary
    b_worst, r_worst = _worst_day(base), _worst_day(run)
    return [
        MetricChange("net_pnl", "Net P&L", "money", b.net_pnl, r.net_pnl, True),
        MetricChange("total_return", "Total return", "fraction", b.total_return, r.total_return,
                     True),
        MetricChange("annual_return", "Annual return (CAGR, 252 sessions)", "fraction",
                     b.annual_return, r.annual_return, True),
        MetricChange("max_drawdown_pct", "Max drawdown", "percent", b.max_drawdown_pct,
                     r.max_drawdown_pct, False),
        MetricChange("max_drawdown_duration_sessions", "Max drawdown duration", "sessions",
                     float(b.max_drawdown_duration_sessions),
                     float(r.max_drawdown_duration_sessions), False,
                     ("" if b.max_drawdown_recovered else "not recovered",
                      "" if r.max_drawdown_recovered else "not recovered")),
        MetricChange("sharpe", "Sharpe (daily, rf 0)", "ratio", b.sharpe, r.sharpe, True),
        MetricChange("sortino", "Sortino (daily, rf 0)", "ratio", b.sortino, r.sortino, True),
        MetricChange("worst_day_pnl", "Worst day ($)", "money", b_worst[0], r_worst[0], True,
                     (b_worst[1], r_worst[1])),
        MetricChange("worst_day_return", "Worst day (%)", "fraction", b_worst[2], r_worst[2], True,
                     (b_worst[3], r_worst[3])),
        MetricChange("daily_loss_limit_days", "Days stopped by the daily loss limit", "count",
                     _count(base.loss_limit_days), _count(run.loss_limit_days), False),
        MetricChange("shared_risk_skips", "Shared-strategy signals skipped for risk", "count",
                     _count(crowding.base_count), _count(crowding.run_count), False),
        MetricChange("trades", "Trades (all strategies)", "count", float(b.trades),
                     float(r.trades), None),
    ]


@dataclass(frozen=True)
class StrategyRow:
    """Trades and net P&L of one strategy in each run (0 where it did not run)."""

    name: str
    added: bool
    base_trades: int
    run_trades: int
    base_pnl: float
    run_pnl: float


def strategy_rows(base: RunSide, run: RunSide, added: list[str]) -> list[StrategyRow]:
    """One row per strategy of RUN (BASE's are a subset), in RUN's order."""
    rows = []
    for name in run.folder.strategies:
        sides = []
        for side in (base, run):
            mine = side.folder.trades[side.folder.trades["strategy_name"].astype(str) == name]
            sides.append((len(mine), float(mine["pnl"].sum())))
        rows.append(StrategyRow(name, name in added, sides[0][0], sides[1][0], sides[0][1],
                                sides[1][1]))
    return rows


def pnl_correlation(module: np.ndarray, rest: np.ndarray) -> float:
    """Pearson correlation of two daily P&L series; NaN when either never varies."""
    module = np.asarray(module, dtype=float)
    rest = np.asarray(rest, dtype=float)
    if module.size < 2 or module.size != rest.size:
        return math.nan
    a, b = module - module.mean(), rest - rest.mean()
    scale = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    if scale == 0.0:
        return math.nan
    return float(np.dot(a, b)) / scale


@dataclass(frozen=True)
class ModuleVsRest:
    """Daily P&L of the added strategies and of the rest of RUN's book."""

    module_pnl: np.ndarray
    rest_pnl: np.ndarray
    correlation: float
    module_days: int  # sessions with non-zero module P&L
    both_days: int  # sessions where both had non-zero P&L


def module_vs_rest(run: RunSide, added: list[str]) -> ModuleVsRest:
    """Sum of RUN's ``pnl_<added>`` against the sum of its other ``pnl_`` columns."""
    size = run.daily.shape[0]
    module, rest = np.zeros(size), np.zeros(size)
    for name, pnl in run.strategy_pnl.items():
        if name in added:
            module += pnl
        else:
            rest += pnl
    return ModuleVsRest(
        module, rest, pnl_correlation(module, rest),
        int(np.count_nonzero(module)), int(np.count_nonzero((module != 0) & (rest != 0))),
    )


# ------------------------------------------------------------------- crowding out


@dataclass(frozen=True)
class CrowdingOut:
    """Shared-strategy signals skipped for risk: counts per run and the signals that changed."""

    base_count: int | None  # None: a run folder has no skipped.csv
    run_count: int | None
    # One row per signal skipped for risk in one run only: change, strategy_name, symbol,
    # direction, entry_time (UTC), reason, detail, other_run (its fate in the other run).
    changed: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def change(self) -> int | None:
        """Crowding out: RUN's count minus BASE's."""
        if self.base_count is None or self.run_count is None:
            return None
        return self.run_count - self.base_count


SIGNAL_KEY = ["strategy_name", "symbol", "direction", "signal_key"]


def _signal_key(times: pd.Series) -> pd.Series:
    return pd.to_datetime(times, utc=True).map(lambda t: t.isoformat())


def _risk_skips(side: RunSide, strategies: list[str]) -> pd.DataFrame:
    skipped = side.skipped
    assert skipped is not None
    chosen = skipped["strategy_name"].astype(str).isin(strategies) & skipped["reason"].isin(
        RISK_REASONS
    )
    frame = skipped.loc[chosen].copy()
    frame["signal_key"] = _signal_key(frame["entry_time"])
    return frame


def _fate(other: RunSide, rows: pd.DataFrame) -> list[str]:
    """What the other run did with each signal: traded (with its P&L), skipped, or unseen."""
    trades = other.folder.trades.copy()
    time_column = "signal_time" if "signal_time" in trades else "entry_time"
    trades["signal_key"] = _signal_key(trades[time_column])
    traded = {
        tuple(key): pnl
        for key, pnl in zip(trades[SIGNAL_KEY].itertuples(index=False), trades["pnl"], strict=True)
    }
    skipped: dict[tuple[Any, ...], str] = {}
    if other.skipped is not None and len(other.skipped):
        others = other.skipped.copy()
        others["signal_key"] = _signal_key(others["entry_time"])
        skipped = {
            tuple(key): str(reason)
            for key, reason in zip(others[SIGNAL_KEY].itertuples(index=False), others["reason"],
                                   strict=True)
        }
    fates = []
    for key in rows[SIGNAL_KEY].itertuples(index=False):
        key = tuple(key)
        if key in traded:
            pnl = float(traded[key])
            fates.append(f"traded, P&L {'-' if pnl < 0 else ''}${abs(pnl):,.2f}")
        elif key in skipped:
            fates.append(f"skipped: {skipped[key]}")
        else:
            fates.append("not seen")
    return fates


def crowding_out(base: RunSide, run: RunSide, shared: list[str]) -> CrowdingOut:
    """Risk-skipped signals of the shared strategies in each run, and those only one run skipped."""
    if base.skipped is None or run.skipped is None:
        return CrowdingOut(None, None)
    base_skips, run_skips = _risk_skips(base, shared), _risk_skips(run, shared)
    base_keys = set(base_skips[SIGNAL_KEY].itertuples(index=False, name=None))
    run_keys = set(run_skips[SIGNAL_KEY].itertuples(index=False, name=None))
    parts = []
    for label, mine, other, other_keys in (
        ("skipped in RUN only", run_skips, base, base_keys),
        ("skipped in BASE only", base_skips, run, run_keys),
    ):
        keep = np.array(
            [key not in other_keys for key in mine[SIGNAL_KEY].itertuples(index=False, name=None)],
            dtype=bool,
        )
        only = mine.loc[keep].copy()
        only["other_run"] = _fate(other, only)
        only.insert(0, "change", label)
        parts.append(only)
    changed = pd.concat(parts, ignore_index=True).sort_values(
        ["entry_time", "symbol", "strategy_name", "change"], kind="stable"
    )
    columns = ["change", "strategy_name", "symbol", "direction", "entry_time", "reason",
               "detail", "other_run"]
    return CrowdingOut(len(base_skips), len(run_skips), changed[columns].reset_index(drop=True))


# ------------------------------------------------------------------------ verdict


def portfolio_verdict(base: RunSide, run: RunSide, acceptance: AcceptanceConfig) -> Verdict | None:
    """PASS/FAIL of ``acceptance.portfolio`` with paired-bootstrap intervals; None if unset.

    * Max drawdown worsening = RUN max DD - BASE max DD (points), passes when
      ``<= max_drawdown_worsening_pts``.
    * Sharpe change = RUN Sharpe - BASE Sharpe, passes when ``>= 0``.

    The interval of each change comes from the same resampled day paths for both runs,
    drawn from the seed's day stream (so RUN's own report walked the same paths).
    """
    portfolio = acceptance.portfolio
    if portfolio.max_drawdown_worsening_pts is None and not portfolio.sharpe_must_not_fall:
        return None
    _, day_seed = seed_streams(acceptance.bootstrap_seed)
    paths = paired_day_resamples(
        base.returns, run.returns, acceptance.bootstrap_samples, acceptance.block_length_days,
        np.random.default_rng(day_seed),
    )
    criteria = []
    if portfolio.max_drawdown_worsening_pts is not None:
        criteria.append(Criterion(
            "max_drawdown_worsening_pts", "Max drawdown worsening",
            run.summary.max_drawdown_pct - base.summary.max_drawdown_pct,
            float(portfolio.max_drawdown_worsening_pts), "<=",
            percentile_interval(paths.run_drawdown_pct - paths.base_drawdown_pct),
        ))
    if portfolio.sharpe_must_not_fall:
        criteria.append(Criterion(
            "sharpe_change", "Sharpe change", run.summary.sharpe - base.summary.sharpe, 0.0, ">=",
            percentile_interval(paths.run_sharpe - paths.base_sharpe),
        ))
    return Verdict(criteria, [criterion.label for criterion in criteria if criterion.not_proven])


# ---------------------------------------------------------------------- together


@dataclass(frozen=True)
class Comparison:
    """Everything ``report --compare`` shows, computed once; the renderers only lay it out."""

    base: RunSide
    run: RunSide
    shared: list[str]
    added: list[str]
    metrics: list[MetricChange]
    strategies: list[StrategyRow]
    crowding: CrowdingOut
    module: ModuleVsRest
    acceptance: AcceptanceConfig  # RUN's: the authoritative criteria and bootstrap settings
    verdict: Verdict | None  # None: no portfolio criterion configured
    warnings: list[str]

    @property
    def same_run(self) -> bool:
        return not self.added

    @property
    def verdict_label(self) -> str:
        """PASS / FAIL of the portfolio criteria, or NO CRITERIA when none is configured."""
        return NO_CRITERIA if self.verdict is None else self.verdict.label

    @property
    def verdict_sentence(self) -> str:
        """What the portfolio verdict says, in one sentence."""
        if self.verdict is None:
            return (
                "No portfolio criteria configured (acceptance.portfolio in RUN's config sets "
                "neither max_drawdown_worsening_pts nor sharpe_must_not_fall): nothing to pass "
                "or fail, so --check exits 0."
            )
        return verdict_sentence(self.verdict)


def compare_runs(base_dir: Path, run_dir: Path) -> Comparison:
    """Load, check and compare two run folders (BASE without the module, RUN with it)."""
    base, run = load_side(base_dir), load_side(run_dir)
    shared, added = check_comparable(base.folder, run.folder)
    crowding = crowding_out(base, run, shared)
    warnings = config_warnings(base.folder, run.folder)
    if crowding.base_count is None:
        missing = [side.name for side in (base, run) if side.skipped is None]
        warnings.append(f"No skipped.csv in {', '.join(missing)}: crowding out not measured.")
    for side in (base, run):
        if side.loss_limit_days is None:
            warnings.append(
                f"{side.name}/equity.parquet has no daily_loss_limit_hit column: "
                "loss-limit days not recorded."
            )
    acceptance = run.folder.acceptance
    return Comparison(
        base=base,
        run=run,
        shared=shared,
        added=added,
        metrics=metric_changes(base, run, crowding),
        strategies=strategy_rows(base, run, added),
        crowding=crowding,
        module=module_vs_rest(run, added),
        acceptance=acceptance,
        verdict=portfolio_verdict(base, run, acceptance),
        warnings=warnings,
    )


def new_york_minute(ts: pd.Timestamp | dt.datetime) -> str:
    """A UTC time as New York wall clock, to the minute (how signals are read on the page)."""
    return pd.Timestamp(ts).tz_convert(NEW_YORK_TZ).strftime("%Y-%m-%d %H:%M")
