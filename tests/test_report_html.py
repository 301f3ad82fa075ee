"""The HTML report is self-contained (issue 4): one real build with quantstats, no network.

Also the tearsheet process (issue 6 speed): quantstats is drawn in a forked child (and a
helper it forks), and the page must be the same as one drawn in a single process.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import multiprocessing
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from report_builders import build_run, random_trades, sessions_from, trade
from vwapcli.env import Env
from vwapcli.report import ReportRequest, run_report
from vwapcli.report import run as report_run
from vwapcli.report import tearsheet as report_tearsheet
from vwapcli.report.self_contained import external_references, strip_external_references
from vwapcli.report.tearsheet import ForkedTearsheet, TearsheetError, quantstats_tearsheet

NEW_YORK = ZoneInfo("America/New_York")
# Independent of the module's own pattern: any remote load via src/href, url() or @import.
REMOTE_LOAD = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A synthetic 2-strategy run with a store benchmark, built with the real quantstats
    while every socket connection and quantstats' downloader raise."""
    from vwapcli.data.store import BarStore

    root = tmp_path_factory.mktemp("real")
    days = sessions_from("2023-01-03", 130)
    store = BarStore(root / "store")
    stamps = [dt.datetime.combine(d, dt.time(15, 59), tzinfo=NEW_YORK)
              for d in [dt.date(2022, 12, 30), *days]]
    closes = [400.0 + 0.5 * i for i in range(len(stamps))]
    store.write_bars("SPY", pd.DataFrame({
        "ts": pd.DatetimeIndex(stamps).tz_convert("UTC"), "open": closes, "high": closes,
        "low": closes, "close": closes, "volume": [1.0e6] * len(closes),
    }), provenance="synthetic (seed 7)")
    folder = build_run(
        root / "run", random_trades(days, 200, seed=9), days,
        acceptance={"min_trades": 50, "min_years": 0.3}, store=str(root / "store"),
        provenance={"SPY": "synthetic (seed 7)", "QQQ": "synthetic (seed 7)"},
        symbols=["SPY", "QQQ"],
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report tried to use the network")

    import quantstats

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(quantstats.utils, "download_returns", refuse)
        code = run_report(ReportRequest(folder, None, None, False, ), Env(console=Console(file=io.StringIO())))
    assert code == 0
    page = (folder / "report.html").read_text()
    match = re.search(r'<iframe class="tearsheet"[^>]*srcdoc="([^"]*)"', page)
    assert match, "quantstats tearsheet is not embedded"
    return page, html.unescape(match.group(1))


def test_the_page_loads_nothing_from_the_network(real_report: tuple[str, str]) -> None:
    page, tearsheet = real_report
    assert REMOTE_LOAD.findall(page) == []
    assert REMOTE_LOAD.findall(tearsheet) == []
    assert "http://" not in tearsheet and "https://" not in tearsheet


def test_every_chart_is_an_inline_image(real_report: tuple[str, str]) -> None:
    page, tearsheet = real_report
    sources = re.findall(r'<img[^>]*\ssrc="([^"]{0,30})', page + tearsheet)
    assert len(sources) >= 10
    assert all(source.startswith("data:image/png;base64,") for source in sources)


def test_the_quantstats_tearsheet_is_embedded_with_the_store_benchmark(
    real_report: tuple[str, str],
) -> None:
    page, tearsheet = real_report
    assert "Key Performance Metrics" in tearsheet
    assert "SPY BUY-AND-HOLD" in tearsheet  # quantstats upper-cases the benchmark title
    assert page.index('id="verdict-table"') < page.index("<iframe")


def test_synthetic_provenance_puts_a_visible_label_beside_the_verdict(
    real_report: tuple[str, str],
) -> None:
    page, _ = real_report
    assert page.index('class="synthetic"') < page.index('id="verdict-table"')
    assert ">SYNTHETIC DATA</div>" in page


def test_a_failing_run_shows_a_fail_banner_and_no_synthetic_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_tearsheet, "quantstats_tearsheet", lambda *a: "<p>stub</p>")
    monkeypatch.setattr(report_run, "start_tearsheet", report_tearsheet.InlineTearsheet)
    days = sessions_from("2024-01-02", 30)
    folder = build_run(tmp_path / "run", [trade(d, -20.0) for d in days], days)
    assert run_report(ReportRequest(folder, None, None, True, ), Env(console=Console(file=io.StringIO()))) == 1
    page = (folder / "report.html").read_text()
    assert '<div class="banner fail">FAIL</div>' in page
    assert "SYNTHETIC DATA" not in page


def test_strip_removes_remote_links_scripts_styles_and_keeps_the_text() -> None:
    dirty = (
        '<link rel="icon" href="https://x.io/f.ico"><script src="//cdn.x/a.js"></script>'
        '<a href="http://quantstats.io" target="q">QuantStats</a>'
        "<style>@import url(https://fonts.x/css);b{background:url('http://x/i.png')}</style>"
        '<img src="https://x/i.png"><a href="#local">ok</a><img src="data:image/png;base64,AA">'
    )
    clean = strip_external_references(dirty)
    assert external_references(clean) == []
    assert REMOTE_LOAD.findall(clean) == []
    assert "QuantStats" in clean and 'href="#local"' in clean and "data:image/png" in clean


def test_importing_the_report_package_does_not_import_quantstats_or_matplotlib() -> None:
    probe = (
        "import sys, vwapcli.report, vwapcli.report.compare, vwapcli.report.charts, vwapcli.report.tearsheet; "
        "print('quantstats' in sys.modules, 'matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]


# ------------------------------------------------------------- the tearsheet process


@pytest.fixture
def child_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked child skips importing quantstats and builds a one-line page instead
    (it inherits these patches: fork copies the test process)."""

    def page(returns: pd.Series, benchmark: pd.Series | None, title: str, split: bool) -> str:
        if title == "fail":
            raise ValueError("no figures today")
        if title == "die":
            os._exit(3)
        return f"<p>{title}: {len(returns)} days, split={split}</p>"

    monkeypatch.setattr(report_tearsheet, "_import_quantstats", lambda: None)
    monkeypatch.setattr(report_tearsheet, "quantstats_tearsheet", page)


def _three_days() -> pd.Series:
    return pd.Series([0.01, -0.02, 0.0], index=pd.bdate_range("2024-01-02", periods=3))


def test_a_forked_tearsheet_returns_the_page_its_child_built(child_builds: None) -> None:
    job = ForkedTearsheet()
    try:
        job.submit(_three_days(), None, "title")
        assert job.result() == "<p>title: 3 days, split=True</p>"
    finally:
        job.close()
    assert multiprocessing.active_children() == []


def test_a_child_that_fails_becomes_a_one_line_tearsheet_error(child_builds: None) -> None:
    job = ForkedTearsheet()
    try:
        job.submit(_three_days(), None, "fail")
        with pytest.raises(TearsheetError, match=r"^ValueError: no figures today$"):
            job.result()
    finally:
        job.close()


def test_a_child_that_dies_is_reported_with_its_exit_code_not_awaited(child_builds: None) -> None:
    job = ForkedTearsheet()
    try:
        job.submit(_three_days(), None, "die")
        with pytest.raises(TearsheetError, match=r"ended without a result \(exit code 3\)"):
            job.result()
    finally:
        job.close()


def test_closing_a_tearsheet_never_fed_ends_its_child(child_builds: None) -> None:
    ForkedTearsheet().close()
    assert multiprocessing.active_children() == []


def _kind_of_tearsheet_job(queue: Any) -> None:
    queue.put(type(report_tearsheet.start_tearsheet()).__name__)


def test_inside_a_daemonic_worker_the_tearsheet_is_built_in_process() -> None:
    """A daemonic multiprocessing worker (a sweep pool, say) may not start children."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    worker = context.Process(target=_kind_of_tearsheet_job, args=(queue,), daemon=True)
    worker.start()
    assert queue.get(timeout=30) == "InlineTearsheet"
    worker.join()


def test_the_split_tearsheet_is_identical_to_one_drawn_in_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Independent method: the same quantstats call in one process, no helper, no markers.
    The split must really have been merged (not fallen back to one process)."""
    merges: list[bool] = []
    merge = report_tearsheet._merge_helper_figures

    def spy(first: str, helper_output: str) -> str | None:
        merged = merge(first, helper_output)
        merges.append(merged is not None)
        return merged

    monkeypatch.setattr(report_tearsheet, "_merge_helper_figures", spy)
    days = pd.bdate_range("2023-01-03", periods=130)
    rng = np.random.default_rng(11)
    returns = pd.Series(rng.normal(0.0005, 0.01, days.size), index=days, name="All strategies")
    benchmark = pd.Series(rng.normal(0.0003, 0.012, days.size), index=days,
                          name="SPY buy-and-hold")
    # As in the tearsheet process: quantstats' style is set at import, outside any
    # rc_context, so both drawings below use it.
    report_tearsheet._import_quantstats()
    split = quantstats_tearsheet(returns, benchmark, "t", split=True)
    whole = quantstats_tearsheet(returns, benchmark, "t")
    assert merges == [True]
    assert split == whole
    assert split.count('<img src="data:image/png;base64,i') >= 14  # every figure, non-empty
    assert "vwapcli-figure" not in split


def test_a_missing_or_empty_helper_figure_makes_the_split_give_up() -> None:
    """Then the whole tearsheet is drawn again in one process (the caller's fallback).

    The helper's output is its template with each placeholder replaced by its figure."""
    template = "<h1>{{title}}</h1>" + "".join(
        "<div>{{" + name + "}}</div>"
        for names in report_tearsheet.HELPER_FIGURES.values() for name in names
    )
    first, helper = report_tearsheet._split_templates(template)
    image = '<img src="data:image/png;base64,iVBORw0KGgo=" />'
    complete = re.sub(r"\{\{\w+\}\}", image, helper)
    merged = report_tearsheet._merge_helper_figures(first, complete)
    assert merged == re.sub(r"\{\{(?!title)\w+\}\}", image, template)
    assert report_tearsheet._merge_helper_figures(first, "") is None
    assert report_tearsheet._merge_helper_figures(first, complete.replace(image, "", 1)) is None
    assert report_tearsheet._split_templates("<h1>no placeholders</h1>") is None


def test_the_report_leaves_no_tearsheet_process_behind(real_report: tuple[str, str]) -> None:
    assert multiprocessing.active_children() == []


def test_the_report_process_itself_never_imports_quantstats_seaborn_or_scipy_stats(
    tmp_path: Path,
) -> None:
    """They load in the forked tearsheet process only. (To keep the test short the child
    reports what it imported instead of drawing the tearsheet.)"""
    days = sessions_from("2024-01-02", 60)
    folder = build_run(tmp_path / "run", random_trades(days, 80, seed=3), days)
    probe = (
        "import io, sys; from pathlib import Path; from rich.console import Console; "
        "from vwapcli.env import Env; from vwapcli.report import ReportRequest, run_report, tearsheet; "
        "tearsheet.quantstats_tearsheet = lambda *a, **k: 'child has quantstats: %s' "
        "% ('quantstats' in sys.modules); "
        f"run_report(ReportRequest(Path({str(folder)!r})), Env(console=Console(file=io.StringIO()))); "
        "print(*(name in sys.modules for name in ('quantstats', 'seaborn', 'scipy.stats')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False", "False"]
    assert "child has quantstats: True" in (folder / "report.html").read_text()
