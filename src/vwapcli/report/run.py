"""``vwapcli report``: load a backtest run folder, judge it, write the HTML and metrics.json.

A thin command over the report's parts: the run folder (:mod:`.run_folder`), the store
reads (:mod:`.store_reads`), the verdict (:mod:`.acceptance`), the breakdowns, the page
(:mod:`.run_page`), its JSON twin (:mod:`.documents`) and the terminal (:mod:`.terminal`).
Model risk (the verdict with the vol level scaled, :mod:`.model_risk`) and the pricing
statement (:mod:`.pricing`) come from the run folder too. The report is rebuilt from the
run folder alone, plus two optional reads from the bar
store the run names: the IV index (IV-tercile table) and the first symbol's daily closes
(quantstats benchmark). When the store or its reader is unavailable the page says so and
everything else is still produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console

from vwapcli.env import Env
from vwapcli.errors import ExitStatus
from vwapcli.report.acceptance import Assessment, assess_run, returns_series
from vwapcli.report.breakdowns import breakdown_blocks, fill_block
from vwapcli.report.documents import metrics_document
from vwapcli.report.formatting import scope_label, strategy_label
from vwapcli.report.model_risk import model_risk, read_model_risk
from vwapcli.report.page import check_page_out, write_page
from vwapcli.report.pricing import pricing_lines
from vwapcli.report.run_folder import ALL, RunFolder, daily_equity, load_run, resolve_strategy
from vwapcli.report.run_page import ReportPage, render_page
from vwapcli.report.store_reads import benchmark_returns, store_reader
from vwapcli.report.tearsheet import TearsheetJob, start_tearsheet
from vwapcli.report.terminal import print_model_risk, print_verdict


@dataclass(frozen=True)
class ReportRequest:
    """`vwapcli report RUN_DIR`: the run, an optional strategy, where the page goes, --check.

    ``strategy_keys`` maps config keys to display names (the application's strategy
    catalogue) so ``--strategy orb`` finds ORB; run folders outlive strategies, so it may
    be empty.
    """

    run_dir: Path
    strategy: str | None = None
    out: Path | None = None
    check: bool = False
    strategy_keys: Mapping[str, str] = field(default_factory=dict)
    strict: bool = False  # --strict: NOT PROVEN fails the gate too
    force: bool = False  # --force: replace an existing --out (never a run folder's data)


REPORT_FILES = ("report.html", "metrics.json")  # a report's own files in a run folder


def run_report(request: ReportRequest, env: Env) -> ExitStatus:
    """Build the report of a run folder; the exit status follows the verdict under ``check``.

    Writes the HTML (default ``<run_dir>/report.html``) and ``metrics.json`` beside it,
    prints the verdict table. With ``strategy`` (display name or config key) the page,
    the banner and the exit status are about that strategy alone; metrics.json always holds
    "all" and every strategy.
    """
    if request.out is not None:  # issue 12: checked before any work
        check_page_out(Path(request.out), "metrics.json", REPORT_FILES, request.force)
    # First of all: quantstats' import and drawing (most of the time, unless the tearsheet
    # cache has these returns' page) then overlap everything below on the other core
    # (issues 6 and 17: the report within seconds).
    tearsheet = start_tearsheet()
    try:
        return _report(request, env.console, tearsheet)
    finally:
        tearsheet.close()


def _report(request: ReportRequest, console: Console, tearsheet: TearsheetJob) -> ExitStatus:
    run = load_run(Path(request.run_dir))
    selected = resolve_strategy(run, request.strategy, request.strategy_keys) if request.strategy else ALL
    dailies = {selected: daily_equity(run, selected)}
    reader, reader_note = store_reader(run.meta.get("store"))
    benchmark, benchmark_note = benchmark_returns(reader, run)
    if reader is None:
        benchmark_note = f"No benchmark: {reader_note}."
    title = f"vwapcli report: {run.path.name} ({scope_label(selected)})"
    returns = returns_series(dailies[selected], run.starting_equity, strategy_label(selected))
    # The tearsheet needs only these; the bootstrap below runs while it is drawn.
    tearsheet.submit(returns, benchmark, title)

    assessments = assess_run(run, dailies)
    headline = assessments[selected]
    strategies = [assessments[name] for name in run.strategies] if selected == ALL else [headline]
    table = read_model_risk(run)
    risks = {name: risk for name, a in assessments.items() if (risk := model_risk(run, a, table)) is not None}
    shown = [selected, *(a.name for a in strategies if a.name != selected)] if risks else []
    page = ReportPage(
        title=title,
        headline=headline,
        strategies=strategies,
        facts=_facts(run, headline),
        synthetic_sources=run.synthetic_sources(),
        tables=breakdown_blocks(headline.trades, run, reader, reader_note),
        fill_sensitivity=fill_block(headline.trades),
        tearsheet_returns=returns,
        benchmark=benchmark,
        benchmark_note=benchmark_note,
        notes=_consistency_notes(run, assessments),
        pricing=pricing_lines(run),
        model_risk=[risks[name] for name in shown],
        model_risk_note=table.note,
        tearsheet=tearsheet,
    )
    html_path = Path(request.out) if request.out is not None else run.path / "report.html"
    document = metrics_document(assessments, risks, table.note)
    write_page(html_path, render_page(page), "metrics.json", document, "report")
    print_verdict(console, headline, html_path)
    print_model_risk(console, risks.get(selected), table.note)
    if request.check and headline.verdict.gate_fails(strict=request.strict):
        return ExitStatus.CHECK_FAILED
    return ExitStatus.SUCCESS


def _facts(run: RunFolder, headline: Assessment) -> list[tuple[str, str]]:
    data = run.data_facts(headline.summary.sessions)
    acceptance = run.acceptance
    return [
        ("Run", run.path.name),
        ("Verdict for", scope_label(headline.name)),
        ("Strategies in run", ", ".join(run.strategies) or "none"),
        *[(key, data[key]) for key in ("Symbols", "Range", "Timeframe", "Data provenance", "Data fingerprint")],
        ("Starting equity", f"${run.starting_equity:,.0f}"),
        ("Bootstrap", f"{acceptance.bootstrap_samples} resamples, seed {acceptance.bootstrap_seed}, "
                      f"mean block {acceptance.block_length_days} sessions"),
    ]


def _consistency_notes(run: RunFolder, assessments: dict[str, Assessment]) -> list[str]:
    """Flag a per-strategy P&L column that disagrees with the trades (engine bug canary)."""
    notes = []
    for name, assessment in assessments.items():
        column = f"pnl_{name}"
        if name == ALL or column not in run.equity:
            continue
        recorded = run.equity[column].to_numpy(dtype=float)
        rebuilt = assessment.daily["pnl"].to_numpy(dtype=float)
        if recorded.shape == rebuilt.shape and not np.allclose(recorded, rebuilt, atol=0.01):
            notes.append(f"equity.parquet {column} differs from {name}'s trades summed by exit date")
    return notes
