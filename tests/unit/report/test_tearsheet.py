"""quantstats' tearsheet: drawn by quantstats' own ``qs.reports.html`` in a forked child
(issue 6), kept in a content-addressed cache so the same returns are drawn once (issue 17)."""

from __future__ import annotations

import base64
import inspect
import io
import multiprocessing
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from builders.report import REMOTE_LOAD, build_run, sessions_from, trade
from vwapcli.env import Env
from vwapcli.report import ReportRequest, run_report, tearsheet_cache
from vwapcli.report import run as report_run
from vwapcli.report import tearsheet as report_tearsheet
from vwapcli.report.tearsheet import (
    CachedTearsheet,
    ForkedTearsheet,
    InlineTearsheet,
    TearsheetError,
    quantstats_tearsheet,
)
from vwapcli.report.tearsheet_cache import TearsheetCache, tearsheet_key

PNG_IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def child_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked child skips importing quantstats and builds a one-line page instead
    (it inherits these patches: fork copies the test process)."""

    def page(returns: pd.Series, benchmark: pd.Series | None, title: str) -> str:
        if title == "fail":
            raise ValueError("no figures today")
        if title == "die":
            os._exit(3)
        return f"<p>{title}: {len(returns)} days</p>"

    monkeypatch.setattr(report_tearsheet, "_import_quantstats", lambda: None)
    monkeypatch.setattr(report_tearsheet, "quantstats_tearsheet", page)


@pytest.fixture
def drawings(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """In-process drawing by a stub whose page names the sum of the returns; the list
    records each drawing (so a cache hit shows as no new entry)."""
    calls: list[float] = []

    def page(returns: pd.Series, benchmark: pd.Series | None, title: str) -> str:
        calls.append(float(returns.sum()))
        return f"<p>{title}: sum {returns.sum():.6f}</p>"

    monkeypatch.setattr(report_tearsheet, "quantstats_tearsheet", page)
    return calls


def _three_days() -> pd.Series:
    return pd.Series([0.01, -0.02, 0.0], index=pd.bdate_range("2024-01-02", periods=3), name="All")


def _half_year() -> tuple[pd.Series, pd.Series]:
    days = pd.bdate_range("2023-01-03", periods=130)
    rng = np.random.default_rng(11)
    returns = pd.Series(rng.normal(0.0005, 0.01, days.size), index=days, name="All strategies")
    benchmark = pd.Series(rng.normal(0.0003, 0.012, days.size), index=days, name="SPY buy-and-hold")
    return returns, benchmark


def _cached(cache: TearsheetCache, returns: pd.Series, title: str = "t") -> str:
    job = CachedTearsheet(InlineTearsheet, cache)
    try:
        job.submit(returns, None, title)
        return job.result()
    finally:
        job.close()


# ------------------------------------------------------------------ the forked child


def test_a_forked_tearsheet_returns_the_page_its_child_built(child_builds: None) -> None:
    job = ForkedTearsheet()
    try:
        job.submit(_three_days(), None, "title")
        assert job.result() == "<p>title: 3 days</p>"
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
    queue.put(type(report_tearsheet._start_drawing()).__name__)


def test_inside_a_daemonic_worker_the_tearsheet_is_built_in_process() -> None:
    """A daemonic multiprocessing worker (a sweep pool, say) may not start children."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    worker = context.Process(target=_kind_of_tearsheet_job, args=(queue,), daemon=True)
    worker.start()
    assert queue.get(timeout=30) == "InlineTearsheet"
    worker.join()


# ------------------------------------------------------------------ quantstats' own page


def test_the_tearsheet_is_quantstats_own_page_with_every_figure_embedded_and_nothing_remote() -> None:
    """Its metrics table holds quantstats' cumulative return, recomputed
    independently: prod(1 + r) - 1 over the 130 days, as a percentage to two decimals."""
    returns, benchmark = _half_year()
    report_tearsheet._import_quantstats()  # as in the child: quantstats' style set at import
    text = quantstats_tearsheet(returns, benchmark, "t")
    cumulative = (np.prod(1.0 + returns.to_numpy()) - 1.0) * 100.0
    row = re.search(r"<tr><td>Cumulative Return</td><td>([^<]*)</td><td>([^<]*)</td>", text)
    assert row is not None
    # Columns: benchmark, then the strategy; quantstats rounds to two decimals.
    assert float(row.group(2).rstrip("%")) == pytest.approx(cumulative, abs=0.005)
    images = PNG_IMAGE.findall(text)
    assert len(images) >= 14
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert REMOTE_LOAD.search(text) is None
    assert "http://" not in text and "https://" not in text
    assert 'onload="save()"' not in text


def test_the_quiet_backend_draws_byte_for_byte_what_agg_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Independent method: the same quantstats call on matplotlib's own Agg backend."""
    returns, benchmark = _half_year()
    report_tearsheet._import_quantstats()
    quiet = quantstats_tearsheet(returns, benchmark, "t")
    monkeypatch.setattr(report_tearsheet, "QUIET_BACKEND", "Agg")
    agg = quantstats_tearsheet(returns, benchmark, "t")
    assert quiet == agg


def _renders_per_pyplot_save(backend: str, monkeypatch: pytest.MonkeyPatch) -> int:
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    matplotlib.use(backend)
    renders: list[int] = []
    draw = Figure.draw

    def counting(self: Figure, renderer: Any) -> None:
        renders.append(1)
        draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting)
    plt.figure()
    plt.plot([1.0, 2.0, 3.0])
    plt.savefig(io.BytesIO(), format="png")
    plt.close("all")
    monkeypatch.setattr(Figure, "draw", draw)
    return len(renders)


def test_the_quiet_backend_saves_with_one_render_fewer_than_agg(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the backend exists: pyplot.savefig redraws the figure after saving it. Should a
    matplotlib release stop doing so, this fails and the backend can go."""
    agg = _renders_per_pyplot_save("Agg", monkeypatch)
    quiet = _renders_per_pyplot_save(report_tearsheet.QUIET_BACKEND, monkeypatch)
    assert quiet == agg - 1


def test_the_tearsheet_code_names_no_quantstats_placeholder_or_plot_function() -> None:
    """Issue 17: only the public ``qs.reports.html`` is called, nothing is swapped inside
    quantstats, so an upgrade cannot silently change the path taken."""
    source = inspect.getsource(report_tearsheet)
    assert "{{" not in source
    assert "qs.plots" not in source and "qs.reports.metrics" not in source
    assert "setattr" not in source
    assert source.count("qs.reports.html(") == 1


def test_the_installed_quantstats_is_the_one_the_tearsheet_checks_last_ran_on() -> None:
    """Fails on a quantstats upgrade: rerun these checks, look at a page, then bump
    TESTED_QUANTSTATS (until then every page says which quantstats drew it, unchecked)."""
    import quantstats

    assert quantstats.__version__ == report_tearsheet.TESTED_QUANTSTATS
    assert "look it over" not in report_tearsheet.quantstats_note()


def test_another_quantstats_version_is_named_on_the_page_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_tearsheet, "library_version", lambda name: "9.9.9")
    note = report_tearsheet.quantstats_note()
    assert "QuantStats 9.9.9" in note and "look it over" in note


# ------------------------------------------------------------------ the cache


def test_one_changed_return_gives_another_key_and_another_page(tmp_path: Path, drawings: list[float]) -> None:
    """Sums by hand: 0.01 - 0.02 + 0 = -0.01; with the last day 0.005, -0.005."""
    cache = TearsheetCache(tmp_path)
    returns = _three_days()
    changed = returns.copy()
    changed.iloc[-1] = 0.005
    assert tearsheet_key(returns, None, "t") != tearsheet_key(changed, None, "t")
    first, second = _cached(cache, returns), _cached(cache, changed)
    assert first == "<p>t: sum -0.010000</p>"
    assert second == "<p>t: sum -0.005000</p>"
    assert drawings == pytest.approx([-0.01, -0.005])


def test_the_key_changes_with_a_date_the_benchmark_the_title_or_a_library_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    returns = _three_days()
    key = tearsheet_key(returns, None, "t")
    assert tearsheet_key(returns.copy(), None, "t") == key  # same inputs, same key
    moved = returns.copy()
    moved.index = pd.bdate_range("2024-01-03", periods=3)
    others = {tearsheet_key(moved, None, "t"), tearsheet_key(returns, returns.rename("B"), "t"),
              tearsheet_key(returns, None, "u")}
    monkeypatch.setattr(tearsheet_cache, "library_version", lambda name: "9.9.9")
    others.add(tearsheet_key(returns, None, "t"))
    assert key not in others and len(others) == 4


def test_the_same_returns_are_drawn_once_and_read_back_identical(tmp_path: Path, drawings: list[float]) -> None:
    cache = TearsheetCache(tmp_path)
    first = _cached(cache, _three_days())
    second = _cached(cache, _three_days())
    assert second == first
    assert len(drawings) == 1


def test_a_cache_hit_starts_no_drawing_and_a_miss_starts_one(tmp_path: Path) -> None:
    cache = TearsheetCache(tmp_path)
    cache.write(tearsheet_key(_three_days(), None, "t"), "<p>kept</p>")
    events: list[str] = []

    class Recording:
        def __init__(self) -> None:
            events.append("start")

        def submit(self, *args: Any) -> None:
            events.append("submit")

        def result(self) -> str:
            events.append("result")
            return "<p>drawn</p>"

        def close(self) -> None:
            events.append("close")

    for title in ("t", "new title"):
        job = CachedTearsheet(Recording, cache)
        job.submit(_three_days(), None, title)
        events.append(job.result())
        job.close()
    assert events == ["<p>kept</p>", "start", "submit", "result", "<p>drawn</p>", "close"]


def test_a_damaged_cache_entry_is_ignored_drawn_again_and_replaced(tmp_path: Path, drawings: list[float]) -> None:
    cache = TearsheetCache(tmp_path)
    page = _cached(cache, _three_days())
    entry = cache.path(tearsheet_key(_three_days(), None, "t"))
    entry.write_text(entry.read_text("utf-8").replace("sum", "SUM"), "utf-8")  # digest now wrong
    assert _cached(cache, _three_days()) == page
    assert len(drawings) == 2
    assert cache.read(entry.stem) == page  # rewritten intact
    entry.write_bytes(b"\xff\xfe not text")
    assert _cached(cache, _three_days()) == page
    assert len(drawings) == 3


def test_an_unwritable_cache_costs_only_the_caching(tmp_path: Path, drawings: list[float]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _cached(TearsheetCache(blocker / "tearsheets"), _three_days()) == "<p>t: sum -0.010000</p>"


def test_old_entries_beyond_the_limit_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tearsheet_cache, "KEEP_ENTRIES", 2)
    cache = TearsheetCache(tmp_path)
    for k in range(4):
        cache.write(f"{k:064x}", f"<p>{k}</p>")
        os.utime(cache.path(f"{k:064x}"), ns=(k * 10**9, k * 10**9))
    cache.write("f" * 64, "<p>newest</p>")
    assert sorted(p.stem for p in tmp_path.glob("*.html")) == [f"{3:064x}", "f" * 64]


def test_an_empty_cache_dir_setting_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VWAPCLI_CACHE_DIR", "")
    assert TearsheetCache.default() is None


def test_a_report_is_byte_identical_whether_its_tearsheet_was_drawn_or_read_from_the_cache(
    tmp_path: Path, drawings: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAPCLI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(report_tearsheet, "_start_drawing", InlineTearsheet)
    monkeypatch.setattr(report_run, "start_tearsheet", report_tearsheet.start_tearsheet)
    days = sessions_from("2023-01-03", 40)
    folder = build_run(tmp_path / "run", [trade(day, 100.0 if k % 3 else -80.0) for k, day in enumerate(days)],
                       days, acceptance={"min_trades": 10, "min_years": 0.1, "bootstrap_samples": 200})
    pages = []
    for name in ("cold", "warm"):
        out = tmp_path / name / "report.html"
        out.parent.mkdir()
        run_report(ReportRequest(folder, out=out), Env(console=Console(file=io.StringIO(), width=120)))
        pages.append(out.read_bytes())
    assert len(drawings) == 1  # the second report read the cache
    assert pages[0] == pages[1]
    assert b"sum " in pages[0]  # the (stub) tearsheet is on the page


def test_a_real_forked_drawing_is_kept_and_read_back_byte_for_byte_without_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end with quantstats: the first report's child draws, the second starts none."""
    returns, benchmark = _half_year()
    cache = TearsheetCache(tmp_path)
    started: list[str] = []
    start = report_tearsheet._start_drawing

    def counting() -> Any:
        job = start()
        started.append(type(job).__name__)
        return job

    monkeypatch.setattr(report_tearsheet, "_start_drawing", counting)
    pages = []
    for _ in range(2):
        job = report_tearsheet.start_tearsheet(cache)
        try:
            job.submit(returns, benchmark, "t")
            pages.append(job.result())
        finally:
            job.close()
    assert started == ["ForkedTearsheet"]
    assert multiprocessing.active_children() == []
    assert pages[0] == pages[1]
    assert len(PNG_IMAGE.findall(pages[0])) >= 14
    assert [p.name for p in tmp_path.iterdir()] == [f"{tearsheet_key(returns, benchmark, 't')}.html"]
