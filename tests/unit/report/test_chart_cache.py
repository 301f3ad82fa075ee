"""The report's own charts are kept by a digest of exactly what they draw (issue 17)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vwapcli.report.charts as charts
from vwapcli.cache_dir import CACHE_DIR_ENV


def _pnl() -> np.ndarray:
    return np.random.default_rng(3).normal(10.0, 120.0, 400)


def test_a_chart_drawn_once_is_read_back_without_drawing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    first = charts.pnl_histogram_png(_pnl())
    assert len(list((tmp_path / "charts").glob("*.b64"))) == 1
    monkeypatch.setattr(charts, "_draw_pnl_histogram", lambda pnl: pytest.fail("drawn again"))
    assert charts.pnl_histogram_png(_pnl()) == first


def test_one_changed_value_is_another_key_and_a_fresh_drawing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One trade's P&L moved by a cent: a new entry, and the PNG differs from the first."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    pnl = _pnl()
    first = charts.pnl_histogram_png(pnl)
    moved = pnl.copy()
    moved[7] += 0.01
    assert charts.chart_key("pnl_histogram", (moved,)) != charts.chart_key("pnl_histogram", (pnl,))
    charts.pnl_histogram_png(moved)
    assert len(list((tmp_path / "charts").glob("*.b64"))) == 2
    assert charts.pnl_histogram_png(pnl) == first


def test_keys_tell_apart_types_orders_and_nesting() -> None:
    """1 and 1.0, "1" and 1, [a, b] and [b, a], [[a], b] and [a, [b]] are different charts."""
    key = charts.chart_key
    assert len({key("k", (1,)), key("k", (1.0,)), key("k", ("1",)), key("k", (True,))}) == 4
    assert key("k", ([1.0, 2.0],)) != key("k", ([2.0, 1.0],))
    assert key("k", ([[1.0], 2.0],)) != key("k", ([1.0, [2.0]],))
    assert key("k", (np.array([1.0]),)) != key("k", (np.array([1.0], dtype=np.float32),))
    assert key("a", (1,)) != key("b", (1,))
    with pytest.raises(TypeError):
        key("k", (object(),))


def test_with_caching_off_every_chart_is_drawn_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, "")
    drawn: list[int] = []
    real = charts._draw_pnl_histogram
    monkeypatch.setattr(charts, "_draw_pnl_histogram", lambda pnl: drawn.append(1) or real(pnl))
    charts.pnl_histogram_png(_pnl())
    charts.pnl_histogram_png(_pnl())
    assert drawn == [1, 1]
    assert not any(tmp_path.iterdir())
