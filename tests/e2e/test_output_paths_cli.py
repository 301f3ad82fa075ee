"""Output paths are checked before any work (issue 12, item 1): the issue's cases, exactly.

Each refusal is exit 2, one line naming the path and the rule, no traceback, and the store
(or run folder) byte-identical afterwards (every file's bytes compared before and after).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.cli import assert_one_line_failure, good_bars, run_cli
from builders.report import build_run, random_trades, sessions_from
from vwapcli.data.store import BarStore

PART = "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet"


def _store(root: Path) -> Path:
    BarStore(root).write_bars("SPY", good_bars(), provenance="test")
    assert (root / "meta.json").is_file() and (root / PART).is_file()
    return root


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(tmp_path: Path) -> Path:
    sessions = sessions_from("2024-01-02", 20)
    return build_run(tmp_path / "run", random_trades(sessions, 10, seed=3), sessions)


def test_signals_out_over_a_stored_year_file_is_refused_and_the_store_is_byte_identical(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    store = _store(tmp_path / "s")
    before = _snapshot(store)
    out = store / PART
    code, text = run_cli(["signals", "--store", str(store), "--symbols", "SPY", "--out", str(out)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "part-0.parquet", "inside the bar store")
    assert _snapshot(store) == before


def test_signals_out_inside_a_store_is_refused_even_with_force(tmp_path: Path, capsys, monkeypatch) -> None:
    store = _store(tmp_path / "s")
    before = _snapshot(store)
    args = ["signals", "--store", str(store), "--symbols", "SPY", "--out", str(store / PART), "--force"]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "inside the bar store")
    assert _snapshot(store) == before


def test_backtest_out_inside_the_stores_bars_is_refused_and_no_folder_appears(tmp_path: Path, capsys, monkeypatch) -> None:
    store = _store(tmp_path / "s")
    before = _snapshot(store)
    out = store / "bars/timeframe=1m/symbol=SPY/year=2025"
    code, text = run_cli(["backtest", "--store", str(store), "--symbols", "SPY", "--out", str(out)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "year=2025", "inside the bar store")
    assert not out.exists()
    assert _snapshot(store) == before
    assert sorted(p.name for p in (store / "bars/timeframe=1m/symbol=SPY").iterdir()) == ["year=2024"]


def test_report_out_over_the_stores_meta_json_isassert_one_line_failure(tmp_path: Path, capsys, monkeypatch) -> None:
    store = _store(tmp_path / "s")
    run = _run(tmp_path)
    before = _snapshot(store)
    code, text = run_cli(["report", str(run), "--out", str(store / "meta.json")], capsys, monkeypatch)
    assert_one_line_failure(code, text, "meta.json", "inside the bar store")
    assert _snapshot(store) == before


@pytest.mark.parametrize("force", [False, True])
def test_report_out_over_the_runs_own_trades_is_refused_even_with_force(
    force: bool, tmp_path: Path, capsys, monkeypatch
) -> None:
    run = _run(tmp_path)
    before = _snapshot(run)
    args = ["report", str(run), "--out", str(run / "trades.parquet"), *(["--force"] if force else [])]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "trades.parquet", "run folder")
    assert _snapshot(run) == before


def test_report_compare_out_inside_a_store_isassert_one_line_failure(tmp_path: Path, capsys, monkeypatch) -> None:
    store = _store(tmp_path / "s")
    run = _run(tmp_path)
    before = _snapshot(store)
    args = ["report", "--compare", str(run), str(run), "--out", str(store / "compare.html")]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "inside the bar store")
    assert _snapshot(store) == before


def test_report_out_over_an_existing_file_is_refused_without_force(tmp_path: Path, capsys, monkeypatch) -> None:
    run = _run(tmp_path)
    page = tmp_path / "page.html"
    page.write_text("the user's own page\n")
    code, text = run_cli(["report", str(run), "--out", str(page)], capsys, monkeypatch)
    assert_one_line_failure(code, text, "page.html", "--force")
    assert page.read_text() == "the user's own page\n"
    assert not (tmp_path / "metrics.json").exists()


def test_signals_out_over_an_existing_file_is_refused_without_force_and_written_with_it(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    store = _store(tmp_path / "s")
    out = tmp_path / "signals.csv"
    out.write_text("the user's notes\n")
    args = ["signals", "--store", str(store), "--symbols", "SPY", "--out", str(out)]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "signals.csv", "already exists", "--force")
    assert out.read_text() == "the user's notes\n"

    code, text = run_cli([*args, "--force"], capsys, monkeypatch)
    assert code == 0, text
    header = out.read_text().splitlines()[0]
    assert header.startswith("strategy_name,symbol,direction,entry_time,"), header  # a signal table now


def test_sweep_out_inside_a_store_isassert_one_line_failure(tmp_path: Path, capsys, monkeypatch) -> None:
    store = _store(tmp_path / "s")
    before = _snapshot(store)
    grid = tmp_path / "grid.yaml"
    grid.write_text("strategies.orb.range_minutes: [15, 30]\n")
    config = Path(__file__).parents[2] / "configs" / "default.yaml"
    args = ["sweep", "--config", str(config), "--grid", str(grid), "--store", str(store), "--symbols", "SPY",
            "--out", str(store / "sweep")]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "inside the bar store")
    assert _snapshot(store) == before


def test_options_validate_out_inside_the_store_isassert_one_line_failure(tmp_path: Path, capsys, monkeypatch) -> None:
    store = _store(tmp_path / "s")
    before = _snapshot(store)
    args = ["options", "validate", "--quotes", str(tmp_path / "quotes.parquet"), "--store", str(store),
            "--out", str(store / "validate")]
    code, text = run_cli(args, capsys, monkeypatch)
    assert_one_line_failure(code, text, "inside the bar store")
    assert _snapshot(store) == before
