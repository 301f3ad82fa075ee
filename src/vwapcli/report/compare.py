"""``vwapcli report --compare BASE RUN``: the portfolio-impact page, JSON and terminal table.

The numbers come from :mod:`vwapcli.report.portfolio`; this module only lays them out:
a self-contained HTML page (default ``<RUN>/compare.html``) built from
:mod:`vwapcli.report.html`'s style, verdict table and external-reference stripping,
``compare.json`` beside it, and a Rich table in the terminal. matplotlib is imported
inside the chart function only.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from vwapcli.core.skips import RISK_REASONS
from vwapcli.env import Env
from vwapcli.errors import ExitStatus
from vwapcli.report.acceptance import (
    verdict_rich_table,
)
from vwapcli.report.html import (
    STYLE,
    _money,
    _png_base64,
    _verdict_sentence,
    strip_external_references,
    verdict_table_html,
    write_page,
)
from vwapcli.report.metrics import drawdown_series
from vwapcli.report.portfolio import (
    Comparison,
    Kind,
    MetricChange,
    RunSide,
    compare_runs,
    new_york_minute,
)
from vwapcli.report.run import json_ready

NO_CRITERIA = "NO CRITERIA"
BASE_COLOUR, RUN_COLOUR = "#7f8c8d", "#1f4e79"

COMPARE_STYLE = """
.banner.none{background:#6c7a89}
td.better{background:#e9f7ef;color:#145a32;font-weight:600}
td.worse{background:#fdedec;color:#922b21;font-weight:600}
td.left,th.left{text-align:left}.muted{color:#777;font-size:12px}
.headline{font-size:15px;margin:6px 0 14px;max-width:1000px}
"""


# ------------------------------------------------------------------------ formatting


def _signed(value: float, body: Callable[[float], str]) -> str:
    """``+x`` / ``-x`` / ``0`` around a magnitude formatter (zero carries no sign)."""
    if math.isnan(value):
        return "n/a"
    if value == 0.0:
        return body(0.0)
    return ("+" if value > 0 else "-") + body(abs(value))


def format_metric(kind: Kind, value: float) -> str:
    """A BASE or RUN value of a side-by-side row."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if kind == "fraction":
        return f"{value * 100:.2f}%"
    if kind == "percent":
        return f"{value:.2f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "money":
        return _money(value)
    if kind == "sessions":
        return f"{value:,.0f} sessions"
    return f"{value:,.0f}"


def format_change(kind: Kind, change: float) -> str:
    """RUN - BASE of a row: percentage points for percentages, dollars, counts."""
    if math.isinf(change):
        return "n/a"
    if kind == "fraction":
        return _signed(change, lambda v: f"{v * 100:.2f} pts")
    if kind == "percent":
        return _signed(change, lambda v: f"{v:.2f} pts")
    if kind == "ratio":
        return _signed(change, lambda v: f"{v:.2f}")
    if kind == "money":
        return _signed(change, lambda v: f"${v:,.2f}")
    return _signed(change, lambda v: f"{v:,.0f}")


def format_crowding(change: int | None) -> str:
    """Crowding out as a signed count ("+1", "0", "-2"), "n/a" when unmeasured."""
    return "n/a" if change is None else format_change("count", float(change))


def _with_note(text: str, note: str) -> str:
    return f"{text} ({note})" if note and text != "n/a" else text


def verdict_label(comparison: Comparison) -> str:
    """PASS / FAIL of the portfolio criteria, or NO CRITERIA when none is configured."""
    return NO_CRITERIA if comparison.verdict is None else comparison.verdict.label


def verdict_sentence(comparison: Comparison) -> str:
    if comparison.verdict is None:
        return (
            "No portfolio criteria configured (acceptance.portfolio in RUN's config sets "
            "neither max_drawdown_worsening_pts nor sharpe_must_not_fall): nothing to pass "
            "or fail, so --check exits 0."
        )
    return _verdict_sentence(comparison.verdict)


def headline(comparison: Comparison) -> str:
    """One sentence: what switching the added strategies on did to the book."""
    rows = {row.key: row for row in comparison.metrics}
    if comparison.same_run:
        return (
            "RUN adds no strategy: this is BASE against itself (or a rerun of it), "
            "so every change below is zero."
        )
    added = ", ".join(comparison.added)
    parts = [
        f"total return {format_change('fraction', rows['total_return'].change)}",
        f"max drawdown {format_change('percent', rows['max_drawdown_pct'].change)}",
        f"Sharpe {format_change('ratio', rows['sharpe'].change)}",
        f"worst day {format_change('money', rows['worst_day_pnl'].change)}",
    ]
    correlation = comparison.module.correlation
    shown_correlation = "n/a" if math.isnan(correlation) else f"{correlation:+.2f}"
    crowding = comparison.crowding.change
    return (
        f"Switching on {added} changes {', '.join(parts)}; its daily P&L correlates "
        f"{shown_correlation} with the rest of the book; crowding out: "
        f"{format_crowding(crowding)} shared-strategy signal(s)."
    )


# ----------------------------------------------------------------------------- chart


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
    return _png_base64(figure)


# ------------------------------------------------------------------------------ page


def _cell(text: str, css: str = "") -> str:
    attribute = f' class="{css}"' if css else ""
    return f"<td{attribute}>{html.escape(text)}</td>"


def metrics_table_html(comparison: Comparison) -> str:
    """Metric | BASE | RUN | Change, the change coloured by whether it helps the book."""
    rows = []
    for row in comparison.metrics:
        css = {"better": "better", "worse": "worse"}.get(row.effect, "")
        rows.append(
            f"<tr><th>{html.escape(row.label)}</th>"
            + _cell(_with_note(format_metric(row.kind, row.base), row.notes[0]))
            + _cell(_with_note(format_metric(row.kind, row.run), row.notes[1]))
            + _cell(format_change(row.kind, row.change), css)
            + "</tr>"
        )
    return (
        '<table class="data" id="side-by-side"><thead><tr><th>Metric</th><th>BASE</th>'
        "<th>RUN</th><th>Change</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def strategies_table_html(comparison: Comparison) -> str:
    """Trades and net P&L per strategy in each run."""
    rows = []
    for row in comparison.strategies:
        role = "added" if row.added else "shared"
        rows.append(
            f"<tr><th>{html.escape(row.name)}</th>{_cell(role)}"
            + _cell(format_metric("count", row.base_trades))
            + _cell(format_metric("count", row.run_trades))
            + _cell(format_change("count", row.run_trades - row.base_trades))
            + _cell(format_metric("money", row.base_pnl))
            + _cell(format_metric("money", row.run_pnl))
            + _cell(format_change("money", row.run_pnl - row.base_pnl))
            + "</tr>"
        )
    return (
        '<table class="data" id="strategies-table"><thead>'
        '<tr><th rowspan="2">Strategy</th><th rowspan="2">Role</th>'
        '<th colspan="3">Trades</th><th colspan="3">Net P&amp;L</th></tr>'
        "<tr><th>BASE</th><th>RUN</th><th>Change</th><th>BASE</th><th>RUN</th><th>Change</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def crowding_html(comparison: Comparison) -> str:
    """The crowding-out count and the signals only one run skipped for risk."""
    crowding = comparison.crowding
    if crowding.change is None:
        return '<p class="note">Not measured: a run folder has no skipped.csv.</p>'
    parts = [
        f'<p class="sentence" id="crowding-out">Crowding out: <b>{format_crowding(crowding.change)}</b> '
        f"(shared-strategy signals skipped for risk: RUN {crowding.run_count}, "
        f"BASE {crowding.base_count}).</p>",
        f'<p class="note">Risk reasons: {html.escape(", ".join(RISK_REASONS))}. Pricing and '
        "timing skips happen with or without the added strategies and are not counted. "
        "Times are New York.</p>",
    ]
    changed = crowding.changed
    if changed.empty:
        parts.append('<p class="note">No signal was skipped for risk in one run only.</p>')
        return "".join(parts)
    head = "".join(
        f"<th>{label}</th>" for label in
        ("Change", "Strategy", "Symbol", "Direction", "Signal time", "Reason", "Detail",
         "In the other run")
    )
    rows = []
    for item in changed.itertuples(index=False):
        rows.append(
            "<tr>" + "".join(
                f'<td class="left">{html.escape(str(value))}</td>' for value in (
                    item.change, item.strategy_name, item.symbol, item.direction,
                    new_york_minute(item.entry_time), item.reason, item.detail or "",
                    item.other_run,
                )
            ) + "</tr>"
        )
    parts.append(
        f'<table class="data" id="crowded-signals"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return "".join(parts)


def correlation_html(comparison: Comparison) -> str:
    module = comparison.module
    sessions = module.module_pnl.size
    if math.isnan(module.correlation):
        why = (
            "the added strategies have no P&L" if not module.module_days
            else "one of the two P&L series never varies"
        )
        value = f"n/a ({why})"
    else:
        value = f"{module.correlation:+.3f}"
    return (
        f'<p class="sentence" id="correlation">Correlation of daily P&amp;L, added strategies '
        f"vs the rest of RUN's book: <b>{html.escape(value)}</b></p>"
        f'<p class="note">Pearson, over all {sessions} sessions (days without a trade count as '
        f"$0). The added strategies had P&amp;L on {module.module_days} sessions, both on "
        f"{module.both_days}. Near zero or negative = diversifying.</p>"
    )


def _facts(comparison: Comparison) -> list[tuple[str, str]]:
    base, run = comparison.base, comparison.run
    meta = run.folder.meta
    provenance = meta.get("data_provenance") or {}
    acceptance = comparison.acceptance
    equity = f"${run.folder.starting_equity:,.0f}"
    if base.folder.starting_equity != run.folder.starting_equity:
        equity = f"BASE ${base.folder.starting_equity:,.0f}, RUN {equity}"
    return [
        ("BASE (without)", str(base.folder.path)),
        ("RUN (with)", str(run.folder.path)),
        ("Added strategies", ", ".join(comparison.added) or "none (same run)"),
        ("Shared strategies", ", ".join(comparison.shared) or "none"),
        ("Symbols", ", ".join(str(s) for s in meta.get("symbols") or []) or "n/a"),
        ("Range", f"{meta.get('start', '?')} to {meta.get('end', '?')} "
                  f"({run.summary.sessions} sessions)"),
        ("Timeframe", str(meta.get("timeframe", "n/a"))),
        ("Data fingerprint", str(meta.get("data_fingerprint", "n/a"))),
        ("Data provenance", "; ".join(f"{k}: {v}" for k, v in sorted(provenance.items())) or "n/a"),
        ("Starting equity", equity),
        ("Criteria and bootstrap from", f"RUN's config: {acceptance.bootstrap_samples} paired "
                                        f"resamples, seed {acceptance.bootstrap_seed}, mean block "
                                        f"{acceptance.block_length_days} sessions"),
    ]


def _synthetic_sources(comparison: Comparison) -> list[str]:
    provenance = comparison.run.folder.meta.get("data_provenance") or {}
    return [
        f"{symbol}: {source}" for symbol, source in sorted(provenance.items())
        if "synthetic" in str(source).lower()
    ]


def render_compare_page(comparison: Comparison) -> str:
    """The whole comparison as one self-contained HTML string, verdict first."""
    base, run = comparison.base, comparison.run
    title = f"vwapcli compare: {base.name} (BASE) vs {run.name} (RUN)"
    label = verdict_label(comparison)
    css = {"PASS": "pass", "FAIL": "fail"}.get(label, "none")
    synthetic = _synthetic_sources(comparison)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}{COMPARE_STYLE}</style></head><body><main>",
        f"<h1>{html.escape(title)}</h1>",
        '<section id="verdict">',
        f'<div class="banner {css}">{label}</div>',
    ]
    if synthetic:
        parts.append(
            f'<div class="synthetic" title="{html.escape("; ".join(synthetic))}">'
            "SYNTHETIC DATA</div>"
        )
    parts += [
        f'<p class="sentence"><b>Portfolio criteria</b>: '
        f"{html.escape(verdict_sentence(comparison))}</p>",
    ]
    if comparison.verdict is not None:
        parts += [
            verdict_table_html(comparison.verdict, table_id="verdict-table",
                               value_header="Change (RUN - BASE)"),
            '<p class="note">Intervals: paired stationary '
            "block bootstrap (the same resampled days for both runs). NOT PROVEN = passes, "
            "but the interval crosses the threshold.</p>",
        ]
    parts.append(f'<p class="headline">{html.escape(headline(comparison))}</p>')
    parts.append('<table class="facts">')
    parts += [
        f'<tr><th>{html.escape(k)}</th><td class="left">{html.escape(v)}</td></tr>'
        for k, v in _facts(comparison)
    ]
    parts.append("</table></section>")

    parts += [
        '<section id="impact"><h2>Side by side</h2>',
        '<p class="note">Change = RUN - BASE; percentages change in points. Green helps the '
        "book, red hurts it.</p>",
        metrics_table_html(comparison),
        "<h3>Trades per strategy</h3>",
        strategies_table_html(comparison),
        "</section>",
        '<section id="module"><h2>Added strategies vs the rest of the book</h2>',
        correlation_html(comparison),
        "</section>",
        '<section id="crowding"><h2>Crowding out</h2>',
        crowding_html(comparison),
        "</section>",
        '<section id="charts"><h2>Equity and drawdown</h2>',
        f'<img class="chart" alt="equity and drawdown of both runs" '
        f'src="data:image/png;base64,{comparison_png(comparison)}">',
        "</section>",
    ]
    if comparison.warnings:
        parts.append('<section id="notes"><h2>Notes</h2><ul>')
        parts += [f"<li>{html.escape(note)}</li>" for note in comparison.warnings]
        parts.append("</ul></section>")
    parts.append(
        "<footer>Generated by vwapcli report --compare. Self-contained: no network needed."
        "</footer></main></body></html>"
    )
    return strip_external_references("\n".join(parts))


# ------------------------------------------------------------------------------ JSON


def _side_document(side: RunSide) -> dict[str, Any]:
    return {
        "path": str(side.folder.path),
        "strategies": side.folder.strategies,
        "starting_equity": side.folder.starting_equity,
        "ending_equity": side.summary.ending_equity,
    }


def _metric_document(row: MetricChange) -> dict[str, Any]:
    return {
        "label": row.label, "base": row.base, "run": row.run, "change": row.change,
        "higher_is_better": row.higher_is_better, "base_note": row.notes[0],
        "run_note": row.notes[1],
    }


def compare_document(comparison: Comparison) -> str:
    """compare.json text: sorted keys, NaN as null, the same numbers as the page."""
    crowding = comparison.crowding
    module = comparison.module
    signals = [
        {**record, "entry_time": record["entry_time"].isoformat()}
        for record in crowding.changed.to_dict("records")
    ] if not crowding.changed.empty else []
    verdict = comparison.verdict
    document = {
        "base": _side_document(comparison.base),
        "run": _side_document(comparison.run),
        "added_strategies": comparison.added,
        "shared_strategies": comparison.shared,
        "same_run": comparison.same_run,
        "metrics": {row.key: _metric_document(row) for row in comparison.metrics},
        "strategies": {
            row.name: {
                "added": row.added,
                "trades": {"base": row.base_trades, "run": row.run_trades,
                           "change": row.run_trades - row.base_trades},
                "net_pnl": {"base": row.base_pnl, "run": row.run_pnl,
                            "change": row.run_pnl - row.base_pnl},
            }
            for row in comparison.strategies
        },
        "crowding_out": {
            "change": crowding.change, "base_count": crowding.base_count,
            "run_count": crowding.run_count, "risk_reasons": list(RISK_REASONS),
            "signals": signals,
        },
        "correlation": {
            "value": module.correlation, "sessions": int(module.module_pnl.size),
            "module_days": module.module_days, "both_days": module.both_days,
        },
        "verdict": verdict_label(comparison),
        "criteria": {} if verdict is None else {c.key: c.as_dict() for c in verdict.criteria},
        "not_proven": [] if verdict is None else [c.key for c in verdict.criteria if c.not_proven],
        "bootstrap": {
            "samples": comparison.acceptance.bootstrap_samples,
            "seed": comparison.acceptance.bootstrap_seed,
            "block_length_days": comparison.acceptance.block_length_days,
            "scheme": "paired stationary block bootstrap of daily returns",
        },
        "warnings": comparison.warnings,
    }
    return json.dumps(json_ready(document), sort_keys=True, indent=2) + "\n"


# -------------------------------------------------------------------------- terminal


def print_comparison(console: Console, comparison: Comparison, html_path: Path) -> None:
    """Side-by-side table, correlation, crowding out, verdict, then where the page went."""
    table = Table(title=f"Portfolio impact: {comparison.base.name} -> {comparison.run.name}")
    for column in ("Metric", "BASE", "RUN", "Change"):
        table.add_column(column, justify="left" if column == "Metric" else "right")
    colour = {"better": "green", "worse": "red"}
    for row in comparison.metrics:
        change = format_change(row.kind, row.change)
        if row.effect in colour:
            change = f"[{colour[row.effect]}]{change}[/]"
        table.add_row(row.label, format_metric(row.kind, row.base),
                      format_metric(row.kind, row.run), change)
    for strategy in comparison.strategies:
        table.add_row(f"Trades {strategy.name}" + (" (added)" if strategy.added else ""),
                      f"{strategy.base_trades:,}", f"{strategy.run_trades:,}",
                      format_change("count", strategy.run_trades - strategy.base_trades))
    console.print(table)
    correlation = comparison.module.correlation
    crowding = comparison.crowding.change
    console.print(
        f"Added: {', '.join(comparison.added) or 'none (same run)'}; correlation with the rest: "
        f"{'n/a' if math.isnan(correlation) else f'{correlation:+.3f}'}; crowding out: "
        f"{format_crowding(crowding)}"
    )
    for note in comparison.warnings:
        console.print(f"[yellow]note:[/] {note}", markup=True, highlight=False)
    verdict = comparison.verdict
    if verdict is None:
        console.print(f"[bold]{NO_CRITERIA}[/]: {verdict_sentence(comparison)}")
    else:
        criteria = verdict_rich_table(verdict, f"Portfolio criteria: {verdict.label}", value_header="Change")
        console.print(criteria)
        if verdict.not_proven and verdict.passed:
            console.print(f"[yellow]NOT PROVEN:[/] {', '.join(verdict.not_proven)}")
    label = verdict_label(comparison)
    tone = {"PASS": "green", "FAIL": "red"}.get(label, "white")
    console.print(f"[bold {tone}]{label}[/]  compare: {html_path}")


@dataclass(frozen=True)
class CompareRequest:
    """`vwapcli report --compare BASE RUN`: the two runs, where the page goes, --check."""

    base_run: Path
    run: Path
    out: Path | None = None
    check: bool = False


def run_compare(request: CompareRequest, env: Env) -> ExitStatus:
    """Compare RUN (with the module) against BASE (without); the exit status follows the verdict.

    Writes ``compare.html`` (default inside RUN) and ``compare.json`` beside it. Under
    ``check`` the status is CHECK_FAILED when a configured portfolio criterion FAILs, else
    SUCCESS (NOT PROVEN and "no criteria configured" both pass the gate, as in the
    single-run report).
    """
    comparison = compare_runs(Path(request.base_run), Path(request.run))
    out = request.out
    html_path = Path(out) if out is not None else comparison.run.folder.path / "compare.html"
    write_page(html_path, render_compare_page(comparison), "compare.json", compare_document(comparison), "comparison")
    print_comparison(env.console, comparison, html_path)
    if request.check and comparison.verdict is not None and not comparison.verdict.passed:
        return ExitStatus.CHECK_FAILED
    return ExitStatus.SUCCESS
