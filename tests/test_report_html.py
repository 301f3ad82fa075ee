"""The HTML report is self-contained (issue 4): one real build with quantstats, no network."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import socket
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from rich.console import Console

from report_builders import build_run, random_trades, sessions_from, trade
from vwapcli.report import html as report_html
from vwapcli.report import run_report
from vwapcli.report.html import external_references, strip_external_references

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
        code = run_report(folder, None, None, False, Console(file=io.StringIO()))
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
    monkeypatch.setattr(report_html, "quantstats_tearsheet", lambda *a: "<p>stub</p>")
    days = sessions_from("2024-01-02", 30)
    folder = build_run(tmp_path / "run", [trade(d, -20.0) for d in days], days)
    assert run_report(folder, None, None, True, Console(file=io.StringIO())) == 1
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
        "import sys, vwapcli.report, vwapcli.report.html; "
        "print('quantstats' in sys.modules, 'matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]
