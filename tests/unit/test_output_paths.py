"""Where a command may write (issue 12, item 1): the rules of ``vwapcli.output_paths``."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.cli import good_bars
from vwapcli.data.store import BarStore
from vwapcli.errors import OutputExistsError
from vwapcli.output_paths import check_output_file, check_output_folder, is_bar_store, store_holding


def _store(root: Path) -> Path:
    BarStore(root).write_bars("SPY", good_bars(), provenance="test")
    return root


def test_a_store_written_by_bar_store_is_recognised_and_its_plain_sibling_is_not(tmp_path: Path) -> None:
    """The layer-1 module duplicates the layout names: this ties them to what BarStore writes."""
    store = _store(tmp_path / "s")
    (tmp_path / "elsewhere").mkdir()
    assert is_bar_store(store)
    assert not is_bar_store(tmp_path / "elsewhere")
    assert store_holding(store / "bars" / "timeframe=1m" / "symbol=SPY" / "year=2024" / "part-0.parquet") == store.resolve()
    assert store_holding(tmp_path / "elsewhere" / "signals.csv") is None


@pytest.mark.parametrize(
    "inside",
    ["meta.json", "bars/timeframe=1m/symbol=SPY/year=2024/part-0.parquet", "bars/timeframe=7m/new.csv", "x.csv"],
)
def test_a_file_anywhere_inside_a_store_is_refused_even_with_force(inside: str, tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    with pytest.raises(OutputExistsError, match="inside the bar store"):
        check_output_file(store / inside, force=True)


def test_a_folder_inside_a_store_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    with pytest.raises(OutputExistsError, match="inside the bar store"):
        check_output_folder(store / "bars" / "timeframe=1m" / "symbol=SPY" / "year=2025")


def test_a_path_inside_a_named_store_is_refused_even_before_it_holds_bars(tmp_path: Path) -> None:
    with pytest.raises(OutputExistsError, match="inside the bar store"):
        check_output_file(tmp_path / "empty-store" / "out.yaml", stores=[tmp_path / "empty-store"])


def test_an_existing_file_is_refused_without_force_and_allowed_with_it(tmp_path: Path) -> None:
    target = tmp_path / "signals.csv"
    target.write_text("mine\n")
    with pytest.raises(OutputExistsError, match=r"already exists.*--force"):
        check_output_file(target)
    check_output_file(target, force=True)  # no error: the user asked
    check_output_file(tmp_path / "new.csv")  # a new file needs nothing


def test_a_folder_given_where_a_file_is_written_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputExistsError, match="is a folder"):
        check_output_file(tmp_path, force=True)


def test_a_file_given_where_a_folder_is_made_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("x")
    with pytest.raises(OutputExistsError, match="is a file"):
        check_output_folder(target)


def test_a_run_folders_data_is_refused_even_with_force_but_its_own_report_files_are_fine(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in ("run.json", "trades.parquet", "report.html", "metrics.json"):
        (run / name).write_text("x")
    own = ("report.html", "metrics.json")
    for name in ("trades.parquet", "run.json"):
        with pytest.raises(OutputExistsError, match="part of the run folder"):
            check_output_file(run / name, force=True, own_names=own)
    for name in own:
        check_output_file(run / name, own_names=own)  # no --force needed: the report's own file
    with pytest.raises(OutputExistsError, match="part of the run folder"):
        check_output_file(run / "report.html", force=True)  # not own for a command that names none
