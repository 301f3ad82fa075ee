"""heatmap.html: a self-contained page (inline SVG, no scripts, no network) for a sweep.

Two swept parameters span the axes; each cell is coloured by the chosen metric (Sharpe or
profit factor). When more than two parameters were swept, a cell holds several
configurations and shows the *best* of them (with how many it summarises), because the
question the picture answers is "where in this plane can the strategy work at all".
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

CELL_W = 78
CELL_H = 34
# Colour is centred where the metric means "no edge": Sharpe 0, profit factor 1.
NEUTRAL = {"sharpe": 0.0, "profit_factor": 1.0}


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _colour(value: float, neutral: float, spread: float) -> str:
    """Red below neutral, green above, white at neutral; grey when undefined."""
    if math.isnan(value):
        return "#d9d9d9"
    t = max(-1.0, min(1.0, (value - neutral) / spread)) if spread > 0 else 0.0
    if t >= 0:
        r, g, b = 255 - int(160 * t), 255 - int(60 * t), 255 - int(160 * t)
    else:
        r, g, b = 255 + int(20 * t), 255 + int(160 * t), 255 + int(160 * t)
    return f"#{r:02x}{g:02x}{b:02x}"


def choose_axes(swept: Sequence[str], results: pd.DataFrame) -> tuple[str | None, str | None]:
    """The first two swept parameters that take more than one value (x, then y)."""
    varying = [p for p in swept if p in results.columns and results[p].nunique(dropna=False) > 1]
    x = varying[0] if varying else None
    y = varying[1] if len(varying) > 1 else None
    return x, y


def _ordered(values: pd.Series) -> list[Any]:
    unique = list(dict.fromkeys(values.tolist()))
    try:
        return sorted(unique)
    except TypeError:
        return unique


def heatmap_svg(results: pd.DataFrame, x: str | None, y: str | None, metric: str) -> str:
    """An inline SVG grid of ``metric`` (best per cell) over parameters ``x`` and ``y``."""
    xs = _ordered(results[x]) if x else [None]
    ys = _ordered(results[y]) if y else [None]
    cells: dict[tuple[int, int], tuple[float, int]] = {}
    for (i, xv) in enumerate(xs):
        for (j, yv) in enumerate(ys):
            mask = np.ones(len(results), dtype=bool)
            if x:
                mask &= (results[x] == xv).to_numpy()
            if y:
                mask &= (results[y] == yv).to_numpy()
            values = results.loc[mask, metric].to_numpy(dtype=float)
            finite = values[~np.isnan(values)]
            best = float(finite.max()) if finite.size else math.nan
            cells[(i, j)] = (best, int(mask.sum()))
    neutral = NEUTRAL.get(metric, 0.0)
    finite_values = [v for v, _ in cells.values() if math.isfinite(v)]
    spread = max((abs(v - neutral) for v in finite_values), default=1.0) or 1.0
    left, top = 130, 30
    width = left + CELL_W * len(xs) + 20
    height = top + CELL_H * len(ys) + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12" role="img" aria-label="{html.escape(metric)} heatmap">'
    ]
    for (i, j), (value, count) in cells.items():
        cx, cy = left + i * CELL_W, top + (len(ys) - 1 - j) * CELL_H
        shown = value if math.isfinite(value) else (spread + neutral if value > 0 else math.nan)
        text = "n/a" if math.isnan(value) else ("inf" if math.isinf(value) else f"{value:.2f}")
        suffix = f" ({count})" if count > 1 else ""
        parts.append(
            f'<rect x="{cx}" y="{cy}" width="{CELL_W - 2}" height="{CELL_H - 2}" '
            f'fill="{_colour(shown, neutral, spread)}"><title>{html.escape(text)}{suffix}</title></rect>'
            f'<text x="{cx + CELL_W / 2 - 1}" y="{cy + CELL_H / 2 + 4}" text-anchor="middle">'
            f"{html.escape(text)}{html.escape(suffix)}</text>"
        )
    for i, xv in enumerate(xs):
        parts.append(
            f'<text x="{left + i * CELL_W + CELL_W / 2 - 1}" y="{top + CELL_H * len(ys) + 16}" '
            f'text-anchor="middle">{html.escape(_label(xv))}</text>'
        )
    for j, yv in enumerate(ys):
        parts.append(
            f'<text x="{left - 8}" y="{top + (len(ys) - 1 - j) * CELL_H + CELL_H / 2 + 4}" '
            f'text-anchor="end">{html.escape(_label(yv))}</text>'
        )
    parts.append(
        f'<text x="{left + CELL_W * len(xs) / 2}" y="{top + CELL_H * len(ys) + 40}" '
        f'text-anchor="middle" font-weight="bold">{html.escape(x or "(one value)")}</text>'
    )
    parts.append(
        f'<text x="10" y="{top - 12}" font-weight="bold">{html.escape(y or "(one value)")}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for value in record:
            text = f"{value:.3f}" if isinstance(value, float) else str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def heatmap_html(
    results: pd.DataFrame,
    swept: Sequence[str],
    metric: str,
    title: str,
    summary_lines: Sequence[str],
    top: int = 20,
) -> str:
    """The whole page: summary (trials, deflated Sharpe), heatmap, best configurations."""
    x, y = choose_axes(swept, results)
    svg = heatmap_svg(results, x, y, metric)
    ranked = results.sort_values(metric, ascending=False, na_position="last", kind="stable")
    columns = [c for c in [*swept, "trades", "win_rate", "profit_factor", "max_drawdown_pct",
                           "sharpe", "total_pnl", "verdict"] if c in ranked.columns]
    summary = "".join(f"<li>{html.escape(line)}</li>" for line in summary_lines)
    caption = (
        f"Colour: {html.escape(metric)} (green above {NEUTRAL.get(metric, 0.0):g}, red below). "
        "A cell holding several configurations shows the best of them, count in brackets."
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
        "th{background:#f2f2f2}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><ul>{summary}</ul>"
        f"<p>{caption}</p>{svg}"
        f"<h2>Best {min(top, len(ranked))} of {len(ranked)} configurations by {html.escape(metric)}</h2>"
        f"{_table(ranked[columns].head(top))}</body></html>\n"
    )
