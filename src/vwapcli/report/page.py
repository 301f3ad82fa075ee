"""The pieces every vwapcli page is built from: head and style, banner, facts, tables, notes.

The run report (:mod:`vwapcli.report.run_page`) and the comparison
(:mod:`vwapcli.report.compare_page`) lay out their own sections from these; each page ends
in :func:`finish_page`, which strips anything remote (the page must open offline).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vwapcli.atomic_write import atomic_write_text
from vwapcli.errors import OutputExistsError, ReportError
from vwapcli.output_paths import check_output_file
from vwapcli.report.acceptance import STATUS_CSS, Verdict
from vwapcli.report.formatting import (
    criterion_interval,
    criterion_threshold,
    criterion_value,
    fraction,
    money,
    ratio,
)
from vwapcli.report.self_contained import strip_external_references

STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1b1b1b;
background:#f4f5f7}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:34px 0 10px;border-bottom:2px solid
#e3e5e8;padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
.banner{font-size:44px;font-weight:800;letter-spacing:2px;color:#fff;padding:14px 24px;
border-radius:6px;display:inline-block;margin:4px 0 10px}
.banner.pass{background:#1e8449}.banner.fail{background:#b03a2e}.banner.unproven{background:#d68910}
.synthetic{display:inline-block;margin-left:16px;vertical-align:top;margin-top:10px;
background:#f39c12;color:#000;font-weight:800;font-size:20px;padding:8px 14px;border-radius:6px;
border:3px dashed #000}
.sentence{font-size:15px;margin:4px 0 14px}
table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}
th,td{border:1px solid #d9dce0;padding:5px 10px;text-align:right}
thead th{background:#eef0f3;text-align:center}tbody th{text-align:left;font-weight:600}
table.verdict{font-size:15px}table.verdict td,table.verdict th{padding:7px 14px}
td.pass{background:#d5f5e3;font-weight:700;color:#145a32;text-align:center}
td.fail{background:#fadbd8;font-weight:700;color:#922b21;text-align:center}
td.unproven{background:#fdebd0;font-weight:700;color:#7e5109;text-align:center}
.facts th{background:#fafafa}.note{color:#555;font-size:13px;margin:4px 0 12px}
img.chart{width:100%;max-width:1120px;display:block;margin:8px 0}
.tables{display:flex;flex-wrap:wrap;gap:6px 28px}.tables>div{flex:0 1 auto}
iframe.tearsheet{width:100%;border:1px solid #d9dce0;height:5200px}
footer{color:#777;font-size:12px;margin-top:30px}
"""



def page_head(title: str, style: str) -> list[str]:
    """The document up to the page title: charset, viewport, an empty favicon, the style."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # An empty data: favicon stops browsers from requesting /favicon.ico.
        '<link rel="icon" href="data:,">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{style}</style></head><body><main>",
        f"<h1>{html.escape(title)}</h1>",
    ]


def finish_page(parts: Sequence[str]) -> str:
    """The page's lines as one self-contained HTML string."""
    return strip_external_references("\n".join(parts))


def banner(label: str, css: str) -> str:
    """The verdict banner: PASS green, NOT PROVEN amber, FAIL red, anything else grey."""
    return f'<div class="banner {css}">{label}</div>'


def synthetic_badge(sources: Sequence[str]) -> str:
    """The SYNTHETIC DATA badge beside the banner, its sources in the tooltip."""
    return f'<div class="synthetic" title="{html.escape("; ".join(sources))}">SYNTHETIC DATA</div>'


def facts_rows(facts: Sequence[tuple[str, str]], value_attribute: str) -> list[str]:
    """One ``<tr>`` per (label, value) of a facts table; ``value_attribute`` aligns the value."""
    return [
        f"<tr><th>{html.escape(label)}</th><td {value_attribute}>{html.escape(value)}</td></tr>"
        for label, value in facts
    ]


def chart_image(alt: str, png_base64: str) -> str:
    """An inline PNG chart."""
    return f'<img class="chart" alt="{alt}" src="data:image/png;base64,{png_base64}">'


def notes_section(notes: Sequence[str]) -> list[str]:
    """The Notes section (nothing when there are no notes)."""
    if not notes:
        return []
    return [
        '<section id="notes"><h2>Notes</h2><ul>',
        *[f"<li>{html.escape(note)}</li>" for note in notes],
        "</ul></section>",
    ]


COLUMN_FORMATS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "slippage": ("Slippage", lambda v: f"{v:g}"),
    "trades": ("Trades", lambda v: f"{int(v):,}"),
    "win_rate": ("Win rate", fraction),
    "profit_factor": ("Profit factor", ratio),
    "net_pnl": ("Net P&L", money),
    "expectancy": ("Expectancy / trade", money),
}


def table_html(table: pd.DataFrame, index_label: str | None, css_class: str = "data") -> str:
    """A DataFrame as an HTML table, columns named and formatted by ``COLUMN_FORMATS``."""
    headers = ([index_label] if index_label is not None else []) + [
        COLUMN_FORMATS.get(column, (column, str))[0] for column in table.columns
    ]
    rows = []
    for key, row in table.iterrows():
        cells = [f"<th>{html.escape(str(key))}</th>"] if index_label is not None else []
        for column in table.columns:
            formatter = COLUMN_FORMATS.get(column, (column, str))[1]
            cells.append(f"<td>{html.escape(formatter(row[column]))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return (
        f'<table class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def verdict_table_html(
    verdict: Verdict, table_id: str | None = None, value_header: str = "Value"
) -> str:
    """criterion | value | threshold | result | bootstrap 95 % interval."""
    rows = []
    for criterion in verdict.criteria:
        status = criterion.status
        css = STATUS_CSS[status]
        rows.append(
            "<tr>"
            f"<th>{html.escape(criterion.label)}</th>"
            f"<td>{html.escape(criterion_value(criterion.key, criterion.value))}</td>"
            f"<td>{html.escape(criterion_threshold(criterion))}</td>"
            f'<td class="{css}">{status}</td>'
            f"<td>{html.escape(criterion_interval(criterion))}</td>"
            "</tr>"
        )
    identity = f' id="{table_id}"' if table_id else ""
    return (
        f'<table class="verdict"{identity}><thead><tr><th>Criterion</th>'
        f"<th>{html.escape(value_header)}</th>"
        "<th>Threshold</th><th>Result</th><th>Bootstrap 95% interval</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def check_page_out(html_path: Path, json_name: str, own_names: tuple[str, ...], force: bool) -> None:
    """Refuse an ``--out`` page (or the JSON written beside it) that may not be written (issue 12)."""
    if html_path.name == json_name:
        raise OutputExistsError(
            f"--out {html_path}: the page would be overwritten by its own {json_name} (rule: name an .html file)"
        )
    check_output_file(html_path, force=force, own_names=own_names)
    check_output_file(html_path.parent / json_name, option="--out (beside it)", force=force, own_names=own_names)


def write_page(html_path: Path, page_text: str, json_name: str, json_text: str, what: str) -> None:
    """Write the page and its JSON companion beside it; a write failure is one ReportError line."""
    try:
        atomic_write_text(html_path, page_text)
        atomic_write_text(html_path.parent / json_name, json_text)
    except OSError as error:
        raise ReportError(f"{html_path}: cannot write {what} ({error.strerror})") from None
