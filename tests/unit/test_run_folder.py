"""Run folders: which one `vwapcli report` reads when no RUN_DIR is given; the CSV tables' text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from vwapcli.run_folder import newest_run, write_table


def test_newest_run_is_the_latest_created_run_folder(tmp_path: Path) -> None:
    """Two runs and a half-written staging folder: the one created last wins, by its run.json."""
    for name, created in (("b-older", "2024-05-01T10:00:00Z"), ("a-newer", "2024-05-02T09:00:00Z")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(f'{{"created_at": "{created}"}}\n')
    (tmp_path / ".c.partial").mkdir()
    (tmp_path / ".c.partial" / "run.json").write_text('{"created_at": "2030-01-01T00:00:00Z"}\n')
    (tmp_path / "notes").mkdir()
    assert newest_run(tmp_path) == tmp_path / "a-newer"


# ------------------------------------------------------------ the CSV text, written faster
def _pandas_csv(frame: pd.DataFrame) -> str:
    """The reference: pandas' own conversions (strftime for times, its float text)."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.to_csv(index=False, lineterminator="\n")


@settings(max_examples=60, deadline=None)
@given(
    floats=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=30),
    seconds=st.lists(st.integers(-2_000_000_000, 4_000_000_000), min_size=1, max_size=30),
    sub_second=st.booleans(),
    missing_time=st.booleans(),
    text=st.text(alphabet=st.sampled_from(list("ab ,\"\n'x1")), max_size=6),
)
def test_write_table_writes_the_csv_pandas_would(tmp_path_factory, floats, seconds, sub_second, missing_time, text):
    """Any float64 (NaN, inf, -0.0, subnormal, huge), times in whole seconds or not, NaT,
    text needing quotes: byte for byte what pandas' to_csv with strftime writes."""
    n = min(len(floats), len(seconds))
    ns = np.array(seconds[:n], dtype=np.int64) * 1_000_000_000 + (123_456_789 if sub_second else 0)
    times = pd.Series(pd.to_datetime(ns, unit="ns", utc=True))
    if missing_time:
        times.iloc[0] = pd.NaT
    frame = pd.DataFrame({"t": times, "x": np.array(floats[:n], dtype=np.float64), "k": np.arange(n),
                          "s": [text] * n, "y": np.array(floats[:n][::-1], dtype=np.float64)})
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    write_table(frame, path, None)
    assert path.read_text() == _pandas_csv(frame)
