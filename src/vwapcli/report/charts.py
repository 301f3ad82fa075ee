"""The pages' charts: matplotlib figures drawn to inline PNG (no files, no network).

matplotlib is imported inside each function, so importing the report stays cheap. PNGs
carry no "Software" text chunk: the bytes are free of URLs and identical across runs.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from vwapcli.report.acceptance import Assessment
from vwapcli.report.formatting import strategy_label
from vwapcli.report.metrics import drawdown_series
from vwapcli.report.model_risk import ModelRisk
from vwapcli.report.portfolio import Comparison

BASE_COLOUR, RUN_COLOUR = "#7f8c8d", "#1f4e79"
#: The banner colours of each verdict (page.STYLE), for verdict-coloured chart marks.
VERDICT_COLOURS = {"PASS": "#1e8449", "NOT PROVEN": "#d68910", "FAIL": "#b03a2e"}


def png_base64(figure: Any) -> str:
    """A matplotlib figure as base64 PNG text, for an inline ``data:`` image."""
    buffer = io.BytesIO()
    # No "Software" text chunk: keeps the bytes free of URLs and identical across runs.
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def equity_drawdown_png(headline: Assessment, others: Sequence[Assessment]) -> str:
    """Equity (headline bold, each strategy alone thin) above the headline's drawdown %."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(12, 6.5))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    start = headline.summary.starting_equity
    dates = headline.daily["session_date"].to_numpy(dtype="datetime64[D]")
    equity = headline.daily["equity"].to_numpy(dtype=float)
    top.plot(dates, equity, color="#1f4e79", linewidth=1.6, label=strategy_label(headline.name))
    for other in others:
        top.plot(
            other.daily["session_date"].to_numpy(dtype="datetime64[D]"),
            other.daily["equity"].to_numpy(dtype=float),
            linewidth=0.9,
            alpha=0.8,
            label=f"{other.name} alone",
        )
    top.axhline(start, color="#888888", linewidth=0.8, linestyle="--")
    top.set_ylabel("equity ($)")
    top.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    top.set_title("Daily closing equity")
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    drawdown = drawdown_series(start, equity)
    bottom.fill_between(dates, drawdown, 0.0, color="#c0392b", alpha=0.45, step="post")
    bottom.set_ylabel("drawdown (%)")
    bottom.set_title(f"Drawdown from peak (max {headline.summary.max_drawdown_pct:.1f}%)")
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    return png_base64(figure)


def pnl_histogram_png(pnl: np.ndarray) -> str:
    """Histogram of net trade P&L (dollars), winners and losers coloured apart."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3.6))
    axis = figure.subplots()
    pnl = np.asarray(pnl, dtype=float)
    if pnl.size:
        bins = min(60, max(10, int(math.sqrt(pnl.size))))
        edges = np.histogram_bin_edges(pnl, bins=bins).tolist()
        axis.hist(pnl[pnl <= 0], bins=edges, color="#c0392b", alpha=0.75, label="loss / scratch")
        axis.hist(pnl[pnl > 0], bins=edges, color="#1e8449", alpha=0.75, label="win")
        axis.axvline(float(pnl.mean()), color="black", linewidth=1, label="mean")
        axis.legend(fontsize=8, loc="best")
    axis.set_xlabel("net P&L per trade ($)")
    axis.set_ylabel("trades")
    axis.set_title("Trade P&L distribution")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return png_base64(figure)


def comparison_png(comparison: Comparison) -> str:
    """Equity of both runs, their drawdowns, and RUN's cumulative P&L split module / rest."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    base, run = comparison.base, comparison.run
    dates = run.daily["session_date"].to_numpy(dtype="datetime64[D]")
    figure = Figure(figsize=(12, 9))
    top, middle, bottom = figure.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1, 1.2]}
    )
    dollars = FuncFormatter(lambda value, _: f"{value:,.0f}")
    for side, label, colour, width in (
        (base, f"BASE {base.name}", BASE_COLOUR, 1.2),
        (run, f"RUN {run.name}", RUN_COLOUR, 1.6),
    ):
        equity = side.daily["equity"].to_numpy(dtype=float)
        top.plot(dates, equity, color=colour, linewidth=width, label=label)
        drawdown = drawdown_series(side.folder.starting_equity, equity)
        middle.plot(dates, drawdown, color=colour, linewidth=width,
                    label=f"{label} (max {side.summary.max_drawdown_pct:.1f}%)")
    middle.fill_between(
        dates, drawdown_series(run.folder.starting_equity, run.daily["equity"].to_numpy()),
        0.0, color=RUN_COLOUR, alpha=0.15,
    )
    top.axhline(run.folder.starting_equity, color="#aaaaaa", linewidth=0.8, linestyle="--")
    top.set_title("Daily closing equity: BASE (without) and RUN (with the added strategies)")
    top.set_ylabel("equity ($)")
    top.yaxis.set_major_formatter(dollars)
    middle.set_title("Drawdown from peak")
    middle.set_ylabel("drawdown (%)")
    added = ", ".join(comparison.added) or "none"
    bottom.plot(dates, np.cumsum(comparison.module.module_pnl), color="#d35400", linewidth=1.4,
                label=f"added ({added})")
    bottom.plot(dates, np.cumsum(comparison.module.rest_pnl), color="#27ae60", linewidth=1.4,
                label="rest of the book")
    bottom.axhline(0.0, color="#aaaaaa", linewidth=0.8, linestyle="--")
    bottom.set_title("RUN's cumulative P&L: added strategies vs the rest")
    bottom.set_ylabel("P&L ($)")
    bottom.yaxis.set_major_formatter(dollars)
    for axis in (top, middle, bottom):
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return png_base64(figure)


def model_risk_png(risk: ModelRisk, min_profit_factor: float) -> str:
    """Net P&L and profit factor against the vol scale (log axis), verdict by colour."""
    from matplotlib.figure import Figure

    scales = [scale for scale, _ in risk.rows]
    pnl = [assessment.summary.net_pnl for _, assessment in risk.rows]
    # An infinite profit factor (no losing trade) is drawn at the top of the axis.
    pf = [assessment.summary.profit_factor for _, assessment in risk.rows]
    finite = [value for value in pf if math.isfinite(value)]
    ceiling = max([*finite, min_profit_factor, 1.0]) * 1.15
    colours = [VERDICT_COLOURS.get(assessment.verdict.label, "#555555") for _, assessment in risk.rows]
    figure = Figure(figsize=(12, 3.4))
    left, right = figure.subplots(1, 2)
    for axis, values, label in ((left, pnl, "net P&L ($)"), (right, [min(v, ceiling) for v in pf], "profit factor")):
        axis.plot(scales, values, color=RUN_COLOUR, linewidth=1.4, zorder=1)
        axis.scatter(scales, values, c=colours, s=46, zorder=2)
        axis.axvline(1.0, color="#888888", linewidth=0.8, linestyle=":")
        axis.set_xscale("log")
        axis.set_xticks(scales)
        axis.set_xticklabels([f"x{scale:g}" for scale in scales])
        axis.minorticks_off()
        axis.set_xlabel("vol level scale (x the model's)")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    left.axhline(0.0, color="#aaaaaa", linewidth=0.8, linestyle="--")
    right.axhline(min_profit_factor, color="#b03a2e", linewidth=0.9, linestyle="--",
                  label=f"min profit factor {min_profit_factor:g}")
    right.legend(loc="upper right", fontsize=8)
    left.set_title(f"{strategy_label(risk.name)}: net P&L by vol scale")
    right.set_title("Profit factor by vol scale (dot colour = verdict)")
    figure.tight_layout()
    return png_base64(figure)
