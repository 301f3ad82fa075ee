"""The pages' charts: matplotlib figures drawn to inline PNG (no files, no network).

matplotlib is imported inside each drawing function, so importing the report stays cheap.
PNGs carry no "Software" text chunk: the bytes are free of URLs and identical across runs.

Each chart is first reduced to the plain values it draws (arrays, numbers, label texts);
its PNG is kept in the user's cache under a SHA-256 of exactly those values, this module's
source and the drawing libraries' versions (issue 17: a warm report then neither imports
matplotlib nor draws, about 1 s of a 2-symbol report). A drawing function reads nothing
but its arguments, so the key covers all it draws.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vwapcli.cache_dir import user_cache_dir
from vwapcli.report.acceptance import Assessment
from vwapcli.report.formatting import strategy_label
from vwapcli.report.metrics import drawdown_series
from vwapcli.report.model_risk import ModelRisk
from vwapcli.report.portfolio import Comparison
from vwapcli.report.tearsheet_cache import TearsheetCache, library_version

BASE_COLOUR, RUN_COLOUR = "#7f8c8d", "#1f4e79"
#: The banner colours of each verdict (page.STYLE), for verdict-coloured chart marks.
VERDICT_COLOURS = {"PASS": "#1e8449", "NOT PROVEN": "#d68910", "FAIL": "#b03a2e"}
#: Bump when the PNG settings change in a way the source digest would not show.
CHART_FORMAT = "vwapcli-chart-1 png dpi=90 bbox=tight"


def _feed(digest: Any, value: object) -> None:
    """Feed one drawn value to the digest, typed and length-prefixed (arrays by their bytes)."""
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        parts: tuple[bytes, ...] = (b"array", array.dtype.str.encode(), repr(array.shape).encode(), array.tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"seq{len(value)};".encode())
        for item in value:
            _feed(digest, item)
        return
    elif isinstance(value, float):
        parts = (b"float", value.hex().encode())
    elif isinstance(value, (str, int, bool)) or value is None:
        parts = (type(value).__name__.encode(), repr(value).encode())
    else:
        raise TypeError(f"a chart's drawn values must be plain, got {type(value).__name__}")
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)


@functools.lru_cache(maxsize=1)
def _drawing_code() -> str:
    """This module's source and the drawing libraries' versions: a change to either redraws."""
    versions = ";".join(f"{name}={library_version(name)}" for name in ("matplotlib", "numpy"))
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest() + ";" + versions + ";" + CHART_FORMAT


def chart_key(kind: str, drawn: Sequence[object]) -> str:
    """The SHA-256 (hex) naming the PNG of chart ``kind`` drawn from the values ``drawn``."""
    digest = hashlib.sha256()
    _feed(digest, (_drawing_code(), kind, list(drawn)))
    return digest.hexdigest()


def _kept(kind: str, drawn: Sequence[object], draw: Callable[..., str]) -> str:
    """``draw(*drawn)``, or the PNG kept for these very values (caching off: always drawn)."""
    folder = user_cache_dir()
    if folder is None:
        return draw(*drawn)
    cache = TearsheetCache(folder / "charts", suffix=".b64")
    key = chart_key(kind, drawn)
    text = cache.read(key)
    if text is None:
        text = draw(*drawn)
        cache.write(key, text)
    return text


def png_base64(figure: Any) -> str:
    """A matplotlib figure as base64 PNG text, for an inline ``data:`` image."""
    buffer = io.BytesIO()
    # No "Software" text chunk: keeps the bytes free of URLs and identical across runs.
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def equity_drawdown_png(headline: Assessment, others: Sequence[Assessment]) -> str:
    """Equity (headline bold, each strategy alone thin) above the headline's drawdown %."""
    drawn = (
        float(headline.summary.starting_equity),
        strategy_label(headline.name),
        headline.daily["session_date"].to_numpy(dtype="datetime64[D]"),
        headline.daily["equity"].to_numpy(dtype=float),
        [f"{other.name} alone" for other in others],
        [other.daily["session_date"].to_numpy(dtype="datetime64[D]") for other in others],
        [other.daily["equity"].to_numpy(dtype=float) for other in others],
        float(headline.summary.max_drawdown_pct),
    )
    return _kept("equity_drawdown", drawn, _draw_equity_drawdown)


def _draw_equity_drawdown(
    start: float, label: str, dates: np.ndarray, equity: np.ndarray, other_labels: list[str],
    other_dates: list[np.ndarray], other_equity: list[np.ndarray], max_drawdown_pct: float,
) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(12, 6.5))
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    top.plot(dates, equity, color="#1f4e79", linewidth=1.6, label=label)
    for other_label, days, values in zip(other_labels, other_dates, other_equity, strict=True):
        top.plot(days, values, linewidth=0.9, alpha=0.8, label=other_label)
    top.axhline(start, color="#888888", linewidth=0.8, linestyle="--")
    top.set_ylabel("equity ($)")
    top.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    top.set_title("Daily closing equity")
    top.legend(loc="upper left", fontsize=8)
    top.grid(alpha=0.3)
    drawdown = drawdown_series(start, equity)
    bottom.fill_between(dates, drawdown, 0.0, color="#c0392b", alpha=0.45, step="post")
    bottom.set_ylabel("drawdown (%)")
    bottom.set_title(f"Drawdown from peak (max {max_drawdown_pct:.1f}%)")
    bottom.grid(alpha=0.3)
    figure.tight_layout()
    return png_base64(figure)


def pnl_histogram_png(pnl: np.ndarray) -> str:
    """Histogram of net trade P&L (dollars), winners and losers coloured apart."""
    return _kept("pnl_histogram", (np.asarray(pnl, dtype=float),), _draw_pnl_histogram)


def _draw_pnl_histogram(pnl: np.ndarray) -> str:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3.6))
    axis = figure.subplots()
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
    base, run = comparison.base, comparison.run
    drawn = (
        run.daily["session_date"].to_numpy(dtype="datetime64[D]"),
        [f"BASE {base.name}", f"RUN {run.name}"],
        [base.daily["equity"].to_numpy(dtype=float), run.daily["equity"].to_numpy(dtype=float)],
        [float(base.folder.starting_equity), float(run.folder.starting_equity)],
        [float(base.summary.max_drawdown_pct), float(run.summary.max_drawdown_pct)],
        ", ".join(comparison.added) or "none",
        np.asarray(comparison.module.module_pnl, dtype=float),
        np.asarray(comparison.module.rest_pnl, dtype=float),
    )
    return _kept("comparison", drawn, _draw_comparison)


def _draw_comparison(
    dates: np.ndarray, labels: list[str], equities: list[np.ndarray], starts: list[float],
    max_drawdowns: list[float], added: str, module_pnl: np.ndarray, rest_pnl: np.ndarray,
) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    figure = Figure(figsize=(12, 9))
    top, middle, bottom = figure.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1, 1.2]}
    )
    dollars = FuncFormatter(lambda value, _: f"{value:,.0f}")
    for label, equity, start, max_drawdown, colour, width in zip(
        labels, equities, starts, max_drawdowns, (BASE_COLOUR, RUN_COLOUR), (1.2, 1.6), strict=True
    ):
        top.plot(dates, equity, color=colour, linewidth=width, label=label)
        drawdown = drawdown_series(start, equity)
        middle.plot(dates, drawdown, color=colour, linewidth=width, label=f"{label} (max {max_drawdown:.1f}%)")
    middle.fill_between(dates, drawdown_series(starts[1], equities[1]), 0.0, color=RUN_COLOUR, alpha=0.15)
    top.axhline(starts[1], color="#aaaaaa", linewidth=0.8, linestyle="--")
    top.set_title("Daily closing equity: BASE (without) and RUN (with the added strategies)")
    top.set_ylabel("equity ($)")
    top.yaxis.set_major_formatter(dollars)
    middle.set_title("Drawdown from peak")
    middle.set_ylabel("drawdown (%)")
    bottom.plot(dates, np.cumsum(module_pnl), color="#d35400", linewidth=1.4, label=f"added ({added})")
    bottom.plot(dates, np.cumsum(rest_pnl), color="#27ae60", linewidth=1.4, label="rest of the book")
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
    drawn = (
        [float(scale) for scale, _ in risk.rows],
        [float(assessment.summary.net_pnl) for _, assessment in risk.rows],
        [float(assessment.summary.profit_factor) for _, assessment in risk.rows],
        [VERDICT_COLOURS.get(assessment.verdict.label, "#555555") for _, assessment in risk.rows],
        float(min_profit_factor),
        strategy_label(risk.name),
    )
    return _kept("model_risk", drawn, _draw_model_risk)


def _draw_model_risk(
    scales: list[float], pnl: list[float], pf: list[float], colours: list[str], min_profit_factor: float,
    label_of_run: str,
) -> str:
    from matplotlib.figure import Figure

    # An infinite profit factor (no losing trade) is drawn at the top of the axis.
    finite = [value for value in pf if math.isfinite(value)]
    ceiling = max([*finite, min_profit_factor, 1.0]) * 1.15
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
    left.set_title(f"{label_of_run}: net P&L by vol scale")
    right.set_title("Profit factor by vol scale (dot colour = verdict)")
    figure.tight_layout()
    return png_base64(figure)
