"""Model risk on the page and in metrics.json: the verdict at other vol levels (SPEC 7.1).

The backtest re-prices the run's trades with the model's vol level scaled by 0.8, 1.0,
1.25, 1.5 and 2.0 (same signals, exits, strikes, expiry and contracts; fills and
commissions as configured) and writes ``model_risk.parquet`` (``vwapcli.engine.model_risk``
documents how). The report cannot re-price (it never imports the engine); it judges
those P&Ls exactly as it judges the run:

* For "all" and each strategy, at each scale: the strategy's trades with the re-priced
  P&L (a trade the scaled source could not price is left out), and its daily equity
  rebuilt the way the report rebuilds a ``--strategy`` filter's: the headline's own daily
  equity plus the change in P&L summed by exit session. At 1.0 the change is exactly zero,
  so that row is the headline, number for number.
* The verdict is :func:`vwapcli.report.acceptance.assess`, the headline's own (same
  bootstrap, same seed): trades, win rate, profit factor, net P&L, max drawdown and the
  three-state verdict per scale.

**Break-even scale** (``break_even_scale``): how wrong may the vol level be before the
verdict class changes? The verdict class is FAIL against not FAIL (PASS or NOT PROVEN).
Walk the grid outward from 1.0 by distance ``|ln s|`` (0.8 and 1.25 are equally far: 1.25
first, the direction issue 11 measured on real bars, where the underlying moved 1.4-1.9x
more than the flat model assumed); the first scale whose class differs from the 1.0
row's is the break-even scale. ``None`` when no scale of the grid flips it. It is a grid
point, not an interpolation: "the verdict has flipped by x1.25" means somewhere in
(1, 1.25].

Run folders written before model risk existed (no ``model_risk.parquet``) and chain-mode
runs (real quotes have no vol level to scale) report without it and say why in one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.errors import ReportError
from vwapcli.report.acceptance import Assessment, assess
from vwapcli.report.metrics import equity_from_trades
from vwapcli.report.pricing import pricing_record
from vwapcli.report.run_folder import RunFolder, read_table

MODEL_RISK_FILE = "model_risk.parquet"  # the engine's name for it (report cannot import it)
MODEL_RISK_REQUIRED = ("trade_id", "scale", "pnl")
#: The metrics.json row keys, in order (SPEC 7.1 / issue 11 item 5).
ROW_KEYS = ("scale", "trades", "win_rate", "profit_factor", "net_pnl", "max_drawdown_pct", "verdict")


@dataclass(frozen=True)
class ModelRiskTable:
    """A run's re-priced P&L per trade and scale, or why there is none (``note``)."""

    pnl: pd.DataFrame | None  # trade_id, scale, pnl (NaN: not priced at that scale)
    note: str = ""

    @property
    def scales(self) -> list[float]:
        return [] if self.pnl is None else sorted({float(s) for s in self.pnl["scale"]})


@dataclass(frozen=True)
class ModelRisk:
    """One strategy's (or "all") assessments at each vol scale, and the break-even scale."""

    name: str
    rows: list[tuple[float, Assessment]]

    @property
    def break_even_scale(self) -> float | None:
        return break_even_scale([(scale, a.verdict.label) for scale, a in self.rows])

    def as_dict(self) -> dict[str, Any]:
        """metrics.json ``model_risk``: scales, rows (ROW_KEYS), break_even_scale."""
        return {
            "scales": [scale for scale, _ in self.rows],
            "rows": [
                {
                    "scale": scale,
                    "trades": a.summary.trades,
                    "win_rate": a.summary.win_rate,
                    "profit_factor": a.summary.profit_factor,
                    "net_pnl": a.summary.net_pnl,
                    "max_drawdown_pct": a.summary.max_drawdown_pct,
                    "verdict": a.verdict.label,
                }
                for scale, a in self.rows
            ],
            "break_even_scale": self.break_even_scale,
        }


def break_even_scale(verdicts: list[tuple[float, str]]) -> float | None:
    """The grid scale nearest 1.0 (in ``|ln s|``, ties to the larger scale) whose verdict
    class (FAIL / not FAIL) differs from the 1.0 row's; None if none does or there is no 1.0."""
    by_scale = dict(verdicts)
    if 1.0 not in by_scale:
        return None
    failed_at_one = by_scale[1.0] == "FAIL"
    # Rounded so that ln 1.25 and -ln 0.8 (equal in exact arithmetic) tie.
    outward = sorted((s for s in by_scale if s != 1.0), key=lambda s: (round(abs(math.log(s)), 9), -s))
    for scale in outward:
        if (by_scale[scale] == "FAIL") != failed_at_one:
            return scale
    return None


def read_model_risk(run: RunFolder) -> ModelRiskTable:
    """The run's model_risk.parquet, or a one-line note saying why there is none."""
    path = run.path / MODEL_RISK_FILE
    recorded = pricing_record(run).get("model_risk") or {}
    reason = recorded.get("not_applicable") if isinstance(recorded, dict) else None
    if reason:
        return ModelRiskTable(None, f"Model risk not applicable: {reason}.")
    if not path.is_file():
        if recorded:
            return ModelRiskTable(None, f"Model risk unavailable: run.json names {MODEL_RISK_FILE}, "
                                        "but the run folder has none.")
        return ModelRiskTable(None, f"Model risk unavailable: this run folder predates it (no "
                                    f"{MODEL_RISK_FILE}); rerun the backtest to get it.")
    frame = read_table(path)
    missing = [column for column in MODEL_RISK_REQUIRED if column not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")
    if "trade_id" not in run.trades:
        raise ReportError(f"{path}: the run's trades have no trade_id to match it with")
    if frame.empty:  # a run without trades (e.g. a config that enables no strategy)
        return ModelRiskTable(None, "Model risk: the run has no trades to re-price.")
    return ModelRiskTable(frame[list(MODEL_RISK_REQUIRED)].astype({"trade_id": np.int64, "scale": float, "pnl": float}))


def at_scale(headline: Assessment, table: pd.DataFrame, scale: float, run: RunFolder) -> Assessment:
    """``headline``'s trades with their P&L at ``scale``, judged as the headline is."""
    trades = headline.trades
    chosen = table[table["scale"] == scale].set_index("trade_id")["pnl"]
    repriced = trades["trade_id"].map(chosen).to_numpy(dtype=float)
    recorded = trades["pnl"].to_numpy(dtype=float)
    priced = ~np.isnan(repriced)
    # The change in P&L by exit session (a trade left out removes its recorded P&L).
    change = trades[["exit_date"]].assign(pnl=np.where(priced, repriced - recorded, -recorded))
    daily_change = equity_from_trades(change, run.sessions, 0.0)["pnl"].to_numpy(dtype=float)
    daily = headline.daily.copy()
    daily["pnl"] = daily["pnl"].to_numpy(dtype=float) + daily_change
    daily["equity"] = daily["equity"].to_numpy(dtype=float) + np.cumsum(daily_change)
    kept = trades[priced].assign(pnl=repriced[priced])
    return assess(headline.name, kept, daily, run.starting_equity, run.acceptance)


def model_risk(run: RunFolder, headline: Assessment, table: ModelRiskTable) -> ModelRisk | None:
    """``headline``'s assessment at every scale of ``table`` (None when there is no table)."""
    if table.pnl is None:
        return None
    return ModelRisk(headline.name, [(scale, at_scale(headline, table.pnl, scale, run)) for scale in table.scales])
