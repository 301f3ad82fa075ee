"""``vwapcli report --compare BASE RUN``: what switching the module on changes.

A thin command: the numbers come from :mod:`vwapcli.report.portfolio`, the page from
:mod:`vwapcli.report.compare_page`, ``compare.json`` from :mod:`vwapcli.report.documents`
and the terminal tables from :mod:`vwapcli.report.terminal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vwapcli.env import Env
from vwapcli.errors import ExitStatus
from vwapcli.report.compare_page import render_compare_page
from vwapcli.report.documents import compare_document
from vwapcli.report.page import check_page_out, write_page
from vwapcli.report.portfolio import compare_runs
from vwapcli.report.terminal import print_comparison


@dataclass(frozen=True)
class CompareRequest:
    """`vwapcli report --compare BASE RUN`: the two runs, where the page goes, --check."""

    base_run: Path
    run: Path
    out: Path | None = None
    check: bool = False
    strict: bool = False  # --strict: NOT PROVEN fails the gate too
    force: bool = False  # --force: replace an existing --out (never a run folder's data)


def run_compare(request: CompareRequest, env: Env) -> ExitStatus:
    """Compare RUN (with the module) against BASE (without); the exit status follows the verdict.

    Writes ``compare.html`` (default inside RUN) and ``compare.json`` beside it. Under
    ``check`` the status is CHECK_FAILED when a configured portfolio criterion FAILs (with
    ``strict`` also when one is NOT PROVEN), else SUCCESS ("no criteria configured" passes
    the gate, as does NOT PROVEN without ``strict``, as in the single-run report).
    """
    if request.out is not None:  # issue 12: checked before any work
        check_page_out(Path(request.out), "compare.json", ("compare.html", "compare.json"), request.force)
    comparison = compare_runs(Path(request.base_run), Path(request.run))
    out = request.out
    html_path = Path(out) if out is not None else comparison.run.folder.path / "compare.html"
    write_page(html_path, render_compare_page(comparison), "compare.json", compare_document(comparison), "comparison")
    print_comparison(env.console, comparison, html_path)
    if (request.check and comparison.verdict is not None
            and comparison.verdict.gate_fails(strict=request.strict)):
        return ExitStatus.CHECK_FAILED
    return ExitStatus.SUCCESS
