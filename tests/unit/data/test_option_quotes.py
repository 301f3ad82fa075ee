"""The option-quote store of the data layer: validated, atomic day files (SPEC 7 chain mode)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from builders.options import EXPIRY, ROWS, option_quotes, quote_file_frame
from vwapcli.data.option_quotes import option_quotes_path, read_quote_file, write_option_quotes
from vwapcli.errors import DataValidationError


def test_writing_a_day_again_replaces_it(tmp_path: Path) -> None:
    """Second write of 2024-03-15 holds one row: the day's file is replaced, not appended."""
    write_option_quotes(tmp_path, option_quotes(ROWS))
    written = write_option_quotes(tmp_path, option_quotes(ROWS[:1]))
    assert written == [option_quotes_path(tmp_path, "SPY", EXPIRY, EXPIRY)]
    assert pd.read_parquet(written[0]).shape[0] == 1
    assert [p.name for p in written[0].parent.iterdir()] == ["part-0.parquet"]  # no temp files left


def test_naive_timestamps_are_rejected(tmp_path: Path) -> None:
    frame = option_quotes(ROWS)
    frame["ts"] = frame["ts"].dt.tz_localize(None)
    with pytest.raises(DataValidationError, match="'ts' must be timezone-aware"):
        write_option_quotes(tmp_path, frame)


def test_bad_right_is_rejected_with_its_row(tmp_path: Path) -> None:
    frame = option_quotes(ROWS)
    frame.loc[3, "right"] = "X"
    with pytest.raises(DataValidationError, match="row 3: right must be 'C' or 'P'"):
        write_option_quotes(tmp_path, frame)


# ----------------------------------------------------------------- quote files (validate)
FILE_ROWS = [
    ("2024-03-15 10:00:00", 500.0, "c", 2.00, 2.02),
    ("2024-03-15 10:00:00", 500.0, "P", 1.50, 1.50),  # locked: a real quote, kept
    ("2024-03-15 10:05:00", 501.0, "C", 1.40, 1.42),
    ("2024-03-15 10:05:00", 499.0, "P", 1.10, 1.12),
]


def test_a_quote_file_reads_back_with_prices_unchanged_and_rights_upper_case(tmp_path: Path) -> None:
    frame = quote_file_frame(FILE_ROWS)
    path = tmp_path / "quotes.parquet"
    frame.to_parquet(path)
    read = read_quote_file(path)
    assert read["bid"].tolist() == [2.00, 1.50, 1.40, 1.10]
    assert read["ask"].tolist() == [2.02, 1.50, 1.42, 1.12]
    assert read["right"].tolist() == ["C", "P", "C", "P"]
    assert read["expiration"].tolist() == [EXPIRY] * 4
    assert str(read["ts"].dt.tz) == "UTC"


def test_a_csv_quote_file_with_offsets_in_its_times_reads_like_parquet(tmp_path: Path) -> None:
    frame = quote_file_frame(FILE_ROWS)
    parquet, csv = tmp_path / "quotes.parquet", tmp_path / "quotes.csv"
    frame.to_parquet(parquet)
    frame.assign(ts=frame["ts"].map(lambda t: t.isoformat())).to_csv(csv, index=False)
    pd.testing.assert_frame_equal(
        read_quote_file(csv), read_quote_file(parquet), check_dtype=False, check_index_type=False
    )


# The rules themselves (one line naming file, row and rule) are tested where the one
# reader lives: tests/unit/data/test_option_quote_import.py and tests/e2e/test_option_quote_import.py.
