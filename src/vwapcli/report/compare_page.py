"""The comparison's page (`vwapcli report --compare`): portfolio verdict first, then the
side-by-side metrics, the added strategies against the rest, crowding out and the charts.

The numbers come from :mod:`vwapcli.report.portfolio`; this module only lays them out
with the shared pieces of :mod:`vwapcli.report.page`.
"""

from __future__ import annotations

import html
import math

from vwapcli.core.skips import RISK_REASONS
from vwapcli.report import page
from vwapcli.report.acceptance import STATUS_CSS
from vwapcli.report.charts import comparison_png
from vwapcli.report.formatting import change, number, signed_count
from vwapcli.report.portfolio import Comparison, new_york_minute
from vwapcli.report.pricing import source_sentence

COMPARE_STYLE = """
.banner.none{background:#6c7a89}
td.better{background:#e9f7ef;color:#145a32;font-weight:600}
td.worse{background:#fdedec;color:#922b21;font-weight:600}
td.left,th.left{text-align:left}.muted{color:#777;font-size:12px}
.headline{font-size:15px;margin:6px 0 14px;max-width:1000px}
"""


def _with_note(text: str, note: str) -> str:
    return f"{text} ({note})" if note and text != "n/a" else text


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
        f"total return {change('fraction', rows['total_return'].change)}",
        f"max drawdown {change('percent', rows['max_drawdown_pct'].change)}",
        f"Sharpe {change('ratio', rows['sharpe'].change)}",
        f"worst day {change('money', rows['worst_day_pnl'].change)}",
    ]
    correlation = comparison.module.correlation
    shown_correlation = "n/a" if math.isnan(correlation) else f"{correlation:+.2f}"
    crowding = comparison.crowding.change
    return (
        f"Switching on {added} changes {', '.join(parts)}; its daily P&L correlates "
        f"{shown_correlation} with the rest of the book; crowding out: "
        f"{signed_count(crowding)} shared-strategy signal(s)."
    )


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
            + _cell(_with_note(number(row.kind, row.base), row.notes[0]))
            + _cell(_with_note(number(row.kind, row.run), row.notes[1]))
            + _cell(change(row.kind, row.change), css)
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
            + _cell(number("count", row.base_trades))
            + _cell(number("count", row.run_trades))
            + _cell(change("count", row.run_trades - row.base_trades))
            + _cell(number("money", row.base_pnl))
            + _cell(number("money", row.run_pnl))
            + _cell(change("money", row.run_pnl - row.base_pnl))
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
        f'<p class="sentence" id="crowding-out">Crowding out: <b>{signed_count(crowding.change)}</b> '
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
    data = run.folder.data_facts(run.summary.sessions)
    acceptance = comparison.acceptance
    equity = f"${run.folder.starting_equity:,.0f}"
    if base.folder.starting_equity != run.folder.starting_equity:
        equity = f"BASE ${base.folder.starting_equity:,.0f}, RUN {equity}"
    return [
        ("BASE (without)", str(base.folder.path)),
        ("RUN (with)", str(run.folder.path)),
        ("Added strategies", ", ".join(comparison.added) or "none (same run)"),
        ("Shared strategies", ", ".join(comparison.shared) or "none"),
        *[(key, data[key]) for key in ("Symbols", "Range", "Timeframe", "Data fingerprint", "Data provenance")],
        ("Starting equity", equity),
        *pricing_facts(comparison),
        ("Criteria and bootstrap from", f"RUN's config: {acceptance.bootstrap_samples} paired "
                                        f"resamples, seed {acceptance.bootstrap_seed}, mean block "
                                        f"{acceptance.block_length_days} sessions"),
    ]


def pricing_facts(comparison: Comparison) -> list[tuple[str, str]]:
    """How each run's option prices were made (issue 11 item 7): one row when they agree."""
    base, run = (source_sentence(side.folder) for side in (comparison.base, comparison.run))
    if base == run:
        return [("Option prices", base)]
    return [("Option prices (BASE)", base), ("Option prices (RUN)", run)]


def render_compare_page(comparison: Comparison) -> str:
    """The whole comparison as one self-contained HTML string, verdict first."""
    base, run = comparison.base, comparison.run
    title = f"vwapcli compare: {base.name} (BASE) vs {run.name} (RUN)"
    label = comparison.verdict_label
    css = STATUS_CSS.get(label, "none")
    synthetic = run.folder.synthetic_sources()
    parts = [*page.page_head(title, page.STYLE + COMPARE_STYLE), '<section id="verdict">', page.banner(label, css)]
    if synthetic:
        parts.append(page.synthetic_badge(synthetic))
    parts += [
        f'<p class="sentence"><b>Portfolio criteria</b>: '
        f"{html.escape(comparison.verdict_sentence)}</p>",
    ]
    if comparison.verdict is not None:
        parts += [
            page.verdict_table_html(comparison.verdict, table_id="verdict-table",
                               value_header="Change (RUN - BASE)"),
            '<p class="note">Intervals: paired stationary '
            "block bootstrap (the same resampled days for both runs). NOT PROVEN = passes, "
            "but the interval crosses the threshold.</p>",
        ]
    parts.append(f'<p class="headline">{html.escape(headline(comparison))}</p>')
    parts += ['<table class="facts">', *page.facts_rows(_facts(comparison), 'class="left"'), "</table></section>"]

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
        page.chart_image("equity and drawdown of both runs", comparison_png(comparison)),
        "</section>",
    ]
    parts += page.notes_section(comparison.warnings)
    parts.append(
        "<footer>Generated by vwapcli report --compare. Self-contained: no network needed."
        "</footer></main></body></html>"
    )
    return page.finish_page(parts)
