"""The verdict as the terminal prints it (the Rich twin of the page's verdict table)."""

from __future__ import annotations

from rich.console import Console

from vwapcli.config import AcceptanceConfig
from vwapcli.report.acceptance import acceptance_verdict
from vwapcli.report.bootstrap import BootstrapIntervals, Interval
from vwapcli.report.terminal import verdict_rich_table

EVERY_INTERVAL = BootstrapIntervals(Interval(0.46, 0.55), Interval(1.35, 1.8), Interval(6.0, 14.0))


def test_the_terminal_table_has_one_row_per_criterion_and_five_columns() -> None:
    """Columns Criterion (left), Value, Threshold, Result, 95% interval (right-aligned);
    the win-rate row reads 50.0% / ≥ 45.0% / PASS / [46.0%, 55.0%] (win rate 0.5 against
    the default minimum 0.45, interval [0.46, 0.55] clear of it)."""
    verdict = acceptance_verdict(
        AcceptanceConfig(), win_rate=0.5, profit_factor=1.5, max_drawdown_pct=10.0,
        years_covered=6.0, trades=300, intervals=EVERY_INTERVAL,
    )
    table = verdict_rich_table(verdict, "Verdict", value_header="Measured")
    assert [column.header for column in table.columns] == ["Criterion", "Measured", "Threshold", "Result", "95% interval"]
    assert [column.justify for column in table.columns] == ["left", "right", "right", "right", "right"]
    assert table.row_count == 5
    console = Console(width=120, record=True, color_system=None)
    console.print(table)
    lines = console.export_text().splitlines()
    win_rate = next(line for line in lines if "Win rate" in line)
    assert win_rate.split() == ["│", "Win", "rate", "│", "50.0%", "│", "≥", "45.0%", "│", "PASS", "│",
                                "[46.0%,", "55.0%]", "│"]
