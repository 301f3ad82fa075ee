"""The run report's page is self-contained (issue 4): one real build with quantstats, no
network; the report process itself never imports quantstats (issue 6 speed)."""

from __future__ import annotations

import datetime as dt
import html
import io
import multiprocessing
import re
import socket
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from rich.console import Console

from builders.report import REMOTE_LOAD, build_run, random_trades, sessions_from, trade
from vwapcli.env import Env
from vwapcli.report import ReportRequest, run_report
from vwapcli.report import run as report_run
from vwapcli.report import tearsheet as report_tearsheet

NEW_YORK = ZoneInfo("America/New_York")


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
        code = run_report(ReportRequest(folder, None, None, False), Env(console=Console(file=io.StringIO())))
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
    assert run_report(ReportRequest(folder, None, None, True), Env(console=Console(file=io.StringIO()))) == 1
    page = (folder / "report.html").read_text()
    assert '<div class="banner fail">FAIL</div>' in page
    assert "SYNTHETIC DATA" not in page


def test_importing_the_report_package_does_not_import_quantstats_or_matplotlib() -> None:
    probe = (
        "import sys, vwapcli.report, vwapcli.report.compare, vwapcli.report.charts, vwapcli.report.tearsheet; "
        "print('quantstats' in sys.modules, 'matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]


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
