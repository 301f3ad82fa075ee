"""The run report's page: verdict first, then strategies, charts, breakdowns, fills, tearsheet.

Everything shown is computed elsewhere (:class:`ReportPage`); this module only lays it
out with the shared pieces of :mod:`vwapcli.report.page`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from vwapcli.report import tearsheet as quantstats_page
from vwapcli.report.acceptance import STATUS_CSS, Assessment
from vwapcli.report.breakdowns import TableBlock
from vwapcli.report.charts import equity_drawdown_png, model_risk_png, pnl_histogram_png
from vwapcli.report.formatting import (
    count,
    fraction,
    money,
    multiplier,
    percent,
    ratio,
    strategy_label,
    verdict_sentence,
)
from vwapcli.report.model_risk import ModelRisk
from vwapcli.report.page import (
    STYLE,
    banner,
    chart_image,
    facts_rows,
    finish_page,
    notes_section,
    page_head,
    synthetic_badge,
    table_html,
    verdict_table_html,
)
from vwapcli.report.tearsheet import TearsheetError, TearsheetJob


@dataclass(frozen=True)
class ReportPage:
    """Everything the page shows, computed elsewhere; this module only lays it out."""

    title: str
    headline: Assessment  # the verdict the banner and --check follow
    strategies: list[Assessment]  # per-strategy sections
    facts: list[tuple[str, str]]  # run facts: symbols, range, provenance, ...
    synthetic_sources: list[str]  # provenance strings that say "synthetic"
    tables: list[TableBlock]
    fill_sensitivity: TableBlock
    tearsheet_returns: pd.Series
    benchmark: pd.Series | None
    benchmark_note: str
    notes: list[str] = field(default_factory=list)
    pricing: list[str] = field(default_factory=list)  # how the prices were made (report.pricing)
    model_risk: list[ModelRisk] = field(default_factory=list)  # headline first, then strategies
    model_risk_note: str = ""  # why there is no model-risk table
    # Started by the caller (start_tearsheet) with these returns already submitted; None
    # builds it here, in-process, from tearsheet_returns and benchmark.
    tearsheet: TearsheetJob | None = None


def key_metrics_table(assessments: Sequence[Assessment]) -> str:
    """One column per strategy (and "all"): the headline numbers side by side."""
    rows: list[tuple[str, Callable[[Assessment], str]]] = [
        ("Trades", lambda a: count(a.summary.trades)),
        ("Win rate", lambda a: fraction(a.summary.win_rate)),
        ("Profit factor", lambda a: ratio(a.summary.profit_factor)),
        ("Expectancy / trade", lambda a: money(a.summary.expectancy)),
        ("Average win", lambda a: money(a.summary.avg_win)),
        ("Average loss", lambda a: money(a.summary.avg_loss)),
        ("Payoff (avg win / avg loss)", lambda a: ratio(a.summary.payoff)),
        ("Net P&L", lambda a: money(a.summary.net_pnl)),
        ("Total return", lambda a: fraction(a.summary.total_return)),
        ("Annual return (CAGR, 252 sessions)", lambda a: fraction(a.summary.annual_return)),
        ("Sharpe (daily, rf 0)", lambda a: ratio(a.summary.sharpe)),
        ("Sortino (daily, rf 0)", lambda a: ratio(a.summary.sortino)),
        ("Max drawdown", lambda a: percent(a.summary.max_drawdown_pct)),
        (
            "Max drawdown duration",
            lambda a: f"{a.summary.max_drawdown_duration_sessions} sessions"
            + ("" if a.summary.max_drawdown_recovered else " (not recovered)"),
        ),
        ("Exposure (sessions with a trade open)", lambda a: fraction(a.summary.exposure)),
        ("Trades per year", lambda a: ratio(a.summary.trades_per_year)),
        ("Years covered", lambda a: ratio(a.summary.years_covered)),
        ("Sessions", lambda a: count(a.summary.sessions)),
    ]
    head = "".join(f"<th>{html.escape(strategy_label(a.name))}</th>" for a in assessments)
    body = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        + "".join(f"<td>{html.escape(cell(a))}</td>" for a in assessments)
        + "</tr>"
        for label, cell in rows
    )
    return (
        f'<table class="data"><thead><tr><th>Metric</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def model_risk_table_html(risk: ModelRisk) -> str:
    """Vol scale | trades | win rate | profit factor | net P&L | max drawdown | verdict."""
    rows = []
    for scale, assessment in risk.rows:
        summary, label = assessment.summary, assessment.verdict.label
        cells = (count(summary.trades), fraction(summary.win_rate), ratio(summary.profit_factor),
                 money(summary.net_pnl), percent(summary.max_drawdown_pct))
        rows.append(
            f"<tr><th>{html.escape(multiplier(scale))}{' (the run)' if scale == 1.0 else ''}</th>"
            + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
            + f'<td class="{STATUS_CSS[label]}">{label}</td></tr>'
        )
    head = "".join(f"<th>{h}</th>" for h in (
        "Vol scale", "Trades", "Win rate", "Profit factor", "Net P&amp;L", "Max drawdown", "Verdict"))
    return f'<table class="data model-risk"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def break_even_sentence(risk: ModelRisk) -> str:
    """Where the verdict class (FAIL / not FAIL) flips, or that no scale of the grid flips it."""
    scales = [scale for scale, _ in risk.rows]
    labels = dict(risk.rows)
    at_one = labels[1.0].verdict.label if 1.0 in labels else "n/a"
    scale = risk.break_even_scale
    if scale is None:
        return (f"Break-even vol scale: none. From {multiplier(min(scales))} to {multiplier(max(scales))} "
                f"the verdict stays {'FAIL' if at_one == 'FAIL' else 'not FAIL'} (at x1: {at_one}).")
    return (f"Break-even vol scale: {multiplier(scale)}. At x1 the verdict is {at_one}; with the vol "
            f"level at {multiplier(scale)} it is {labels[scale].verdict.label} (nearest flip on the grid).")


def model_risk_section(page: ReportPage) -> list[str]:
    """Pricing source, calibration and validation error beside the model-risk table and chart."""
    parts = ['<section id="model-risk"><h2>Pricing and model risk</h2>']
    parts += [f'<p class="note">{html.escape(line)}</p>' for line in page.pricing]
    if not page.model_risk:
        parts.append(f'<p class="note" id="model-risk-note">{html.escape(page.model_risk_note)}</p></section>')
        return parts
    parts.append(
        '<p class="note">Model risk: the same trades (signals, exits, strikes, expiry, contracts) '
        "re-priced with the model's vol level scaled, fills and commissions as configured, judged "
        "by the same verdict as above; x1 is the run itself.</p>"
    )
    for risk in page.model_risk:
        parts += [
            f"<h3>{html.escape(strategy_label(risk.name))}</h3>",
            model_risk_table_html(risk),
            f'<p class="sentence">{html.escape(break_even_sentence(risk))}</p>',
        ]
    headline = page.model_risk[0]
    criteria = {criterion.key: criterion for criterion in page.headline.verdict.criteria}
    min_pf = criteria["profit_factor"].threshold if "profit_factor" in criteria else 1.0
    parts += [chart_image("net P&amp;L and profit factor by vol scale", model_risk_png(headline, min_pf)), "</section>"]
    return parts


# Grow the iframe to its content once loaded (same-origin srcdoc; no network involved).
# Shrink first: a document is never shorter than its viewport, so measuring at the
# fallback height would just return the fallback height.
_RESIZE = (
    "try{var d=this.contentWindow.document;this.style.height='50px';"
    "this.style.height=(d.documentElement.scrollHeight+30)+'px'}catch(e){}"
)


def render_page(page: ReportPage) -> str:
    """The whole report as one HTML string: verdict, strategies, charts, tables, tearsheet."""
    headline = page.headline
    verdict = headline.verdict
    synthetic = page.synthetic_sources
    # 1. Verdict first.
    parts = [*page_head(page.title, STYLE), '<section id="verdict">', banner(verdict.label, STATUS_CSS[verdict.label])]
    if synthetic:
        parts.append(synthetic_badge(synthetic))
    parts += [
        f'<p class="sentence"><b>{html.escape(strategy_label(headline.name))}</b>: '
        f"{html.escape(verdict_sentence(verdict))}</p>",
        verdict_table_html(verdict, table_id="verdict-table"),
    ]
    if synthetic:
        parts.append(
            '<p class="note"><b>Synthetic data:</b> '
            + html.escape("; ".join(synthetic))
            + ". These results say nothing about real markets.</p>"
        )
    parts.append(
        '<p class="note">Win rate and profit factor intervals: trade-level bootstrap; '
        "max drawdown interval: stationary block bootstrap of daily returns "
        "(Politis-Romano). NOT PROVEN = passes, but the interval crosses the threshold.</p>"
    )
    parts += ['<table class="facts">', *facts_rows(page.facts, "style='text-align:left'"), "</table></section>"]
    parts += model_risk_section(page)

    # 2. Per-strategy sections.
    parts.append('<section id="strategies"><h2>Strategies</h2>')
    for assessment in page.strategies:
        parts += [
            f"<h3>{html.escape(strategy_label(assessment.name))}: {assessment.verdict.label}</h3>",
            f'<p class="note">{html.escape(verdict_sentence(assessment.verdict))}</p>',
            verdict_table_html(assessment.verdict),
        ]
    others = [a for a in page.strategies if a.name != headline.name]
    parts += ["<h3>Key metrics</h3>", key_metrics_table([headline, *others]), "</section>"]

    # 3. Charts.
    parts += [
        '<section id="charts"><h2>Equity and drawdown</h2>',
        chart_image("equity and drawdown", equity_drawdown_png(headline, others)),
        "<h2>Trade P&amp;L</h2>",
        chart_image("trade P&amp;L histogram", pnl_histogram_png(headline.trades["pnl"].to_numpy())),
        "</section>",
    ]

    # 4. Breakdown tables.
    parts.append('<section id="tables"><h2>Breakdowns</h2><div class="tables">')
    for block in page.tables:
        parts.append(f"<div><h3>{html.escape(block.title)}</h3>")
        if block.note:
            parts.append(f'<p class="note">{html.escape(block.note)}</p>')
        if block.table is not None:
            parts.append(table_html(block.table, block.title.split(" (")[0]))
        parts.append("</div>")
    parts.append("</div></section>")

    # 5. Fill sensitivity.
    fills = page.fill_sensitivity
    parts.append('<section id="fills"><h2>Fill sensitivity</h2>')
    if fills.note:
        parts.append(f'<p class="note">{html.escape(fills.note)}</p>')
    if fills.table is not None:
        parts.append(table_html(fills.table.set_index("slippage"), "Slippage"))
    parts.append("</section>")

    # 6. quantstats tearsheet.
    parts += ['<section id="tearsheet"><h2>QuantStats tearsheet (daily returns)</h2>',
              f'<p class="note">{html.escape(page.benchmark_note)}</p>',
              f'<p class="note">{html.escape(quantstats_page.quantstats_note())}</p>',
              _tearsheet_frame(page), "</section>"]
    parts += notes_section(page.notes)
    parts.append("<footer>Generated by vwapcli report. Self-contained: no network needed.</footer>")
    parts.append("</main></body></html>")
    return finish_page(parts)


def _tearsheet_frame(page: ReportPage) -> str:
    """quantstats' page in an iframe, or a note saying why there is none."""
    try:
        if page.tearsheet is not None:
            text = page.tearsheet.result()
        else:
            text = quantstats_page.quantstats_tearsheet(page.tearsheet_returns, page.benchmark, page.title)
    except Exception as error:  # a broken third-party tearsheet must not sink the verdict
        reason = str(error) if isinstance(error, TearsheetError) else f"{type(error).__name__}: {error}"
        return f'<p class="note">QuantStats tearsheet unavailable: {html.escape(reason)}</p>'
    return (
        f'<iframe class="tearsheet" title="QuantStats tearsheet" '
        f'srcdoc="{html.escape(text, quote=True)}" onload="{_RESIZE}"></iframe>'
    )
