"""The tearsheet process (issue 6 speed): quantstats is drawn in a forked child (and a
helper it forks), and the page must be the same as one drawn in a single process."""

from __future__ import annotations

import multiprocessing
import os
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from vwapcli.report import tearsheet as report_tearsheet
from vwapcli.report.tearsheet import ForkedTearsheet, TearsheetError, quantstats_tearsheet


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
