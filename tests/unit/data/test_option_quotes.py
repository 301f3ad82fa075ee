"""The option-quote store of the data layer: validated, atomic day files (SPEC 7 chain mode)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from builders.options import EXPIRY, ROWS, option_quotes
from vwapcli.data.option_quotes import option_quotes_path, write_option_quotes
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
