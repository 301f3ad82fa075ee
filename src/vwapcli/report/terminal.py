"""What `vwapcli report` prints: the verdict as a Rich table, and the comparison's tables.

The terminal twin of the pages, with the same formatters, so a number reads the same in
both places.
"""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vwapcli.report.acceptance import STATUS_RICH, Assessment, Verdict
from vwapcli.report.formatting import (
    change,
    count,
    criterion_interval,
    criterion_threshold,
    criterion_value,
    multiplier,
    number,
    scope_label,
    signed_count,
)
from vwapcli.report.model_risk import ModelRisk
from vwapcli.report.portfolio import NO_CRITERIA, Comparison


def verdict_rich_table(verdict: Verdict, title: str, value_header: str = "Value") -> Table:
    """The verdict as a Rich table (terminal twin of the HTML verdict table)."""
    table = Table(title=title)
    for column in ("Criterion", value_header, "Threshold", "Result", "95% interval"):
        table.add_column(column, justify="left" if column == "Criterion" else "right")
    style = STATUS_RICH
    for criterion in verdict.criteria:
        table.add_row(
            criterion.label,
            criterion_value(criterion.key, criterion.value),
            criterion_threshold(criterion),
            f"[{style[criterion.status]}]{criterion.status}[/]",
            criterion_interval(criterion),
        )
    return table


def print_verdict_table(console: Console, verdict: Verdict, title: str, value_header: str = "Value") -> None:
    """The verdict table, then the criteria that pass but are NOT PROVEN."""
    console.print(verdict_rich_table(verdict, title, value_header))
    if verdict.not_proven and verdict.passed:
        console.print(f"[yellow]NOT PROVEN (a 95% interval crosses its threshold):[/] {', '.join(verdict.not_proven)}")


def print_verdict(console: Console, assessment: Assessment, html_path: Path) -> None:
    """The run's verdict as a Rich table, then where the report went."""
    verdict = assessment.verdict
    title = f"Acceptance verdict ({scope_label(assessment.name)}): {verdict.label}"
    print_verdict_table(console, verdict, title)
    console.print(f"[{STATUS_RICH[verdict.label]}]{verdict.label}[/]  report: {html_path}")


def print_comparison(console: Console, comparison: Comparison, html_path: Path) -> None:
    """Side-by-side table, correlation, crowding out, verdict, then where the page went."""
    table = Table(title=f"Portfolio impact: {comparison.base.name} -> {comparison.run.name}")
    for column in ("Metric", "BASE", "RUN", "Change"):
        table.add_column(column, justify="left" if column == "Metric" else "right")
    colour = {"better": "green", "worse": "red"}
    for row in comparison.metrics:
        shown = change(row.kind, row.change)
        if row.effect in colour:
            shown = f"[{colour[row.effect]}]{shown}[/]"
        table.add_row(row.label, number(row.kind, row.base), number(row.kind, row.run), shown)
    for strategy in comparison.strategies:
        table.add_row(f"Trades {strategy.name}" + (" (added)" if strategy.added else ""),
                      count(strategy.base_trades), count(strategy.run_trades),
                      change("count", strategy.run_trades - strategy.base_trades))
    console.print(table)
    correlation = comparison.module.correlation
    console.print(
        f"Added: {', '.join(comparison.added) or 'none (same run)'}; correlation with the rest: "
        f"{'n/a' if math.isnan(correlation) else f'{correlation:+.3f}'}; crowding out: "
        f"{signed_count(comparison.crowding.change)}"
    )
    for note in comparison.warnings:
        console.print(f"[yellow]note:[/] {note}", markup=True, highlight=False)
    verdict = comparison.verdict
    if verdict is None:
        console.print(f"[bold]{NO_CRITERIA}[/]: {comparison.verdict_sentence}")
    else:
        print_verdict_table(console, verdict, f"Portfolio criteria: {verdict.label}", value_header="Change")
    label = comparison.verdict_label
    tone = STATUS_RICH.get(label, "bold white")
    console.print(f"[{tone}]{label}[/]  compare: {html_path}")


def print_model_risk(console: Console, risk: ModelRisk | None, note: str) -> None:
    """One line: the verdict at each vol scale and the break-even scale, or why there is none."""
    if risk is None:
        console.print(f"[dim]{note}[/]")
        return
    steps = ", ".join(
        f"{multiplier(scale)} [{STATUS_RICH[a.verdict.label]}]{a.verdict.label}[/]" for scale, a in risk.rows
    )
    scale = risk.break_even_scale
    console.print(f"model risk (vol scale): {steps}; break-even {'none' if scale is None else multiplier(scale)}")
