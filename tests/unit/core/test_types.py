"""Time helpers of core.types."""

from __future__ import annotations

import pandas as pd
import pytest

from vwapcli.core.types import new_york_date


@pytest.mark.parametrize(
    "utc_instant",
    [
        "2024-03-10 06:59:59",  # 01:59:59 EST, the second before spring-forward
        "2024-03-10 07:00:00",  # 03:00 EDT
        "2024-11-03 05:30:00",  # 01:30 EDT, first pass of the repeated hour
        "2024-11-03 06:30:00",  # 01:30 EST, second pass
        "2024-11-04 04:59:59",  # 23:59:59 EST on the 3rd
        "2024-11-04 05:00:00",  # midnight New York
        "1969-12-31 23:59:59",  # before the epoch: whole seconds floor toward the past
    ],
)
def test_new_york_date_agrees_with_pandas_around_dst_and_midnight(utc_instant: str) -> None:
    """Independent method: pandas' tz_convert of the same instant."""
    for offset_ns in (0, 999_999_999):
        ts_ns = int(pd.Timestamp(utc_instant, tz="UTC").value) + offset_ns
        assert new_york_date(ts_ns) == pd.Timestamp(ts_ns, tz="UTC").tz_convert("America/New_York").date()
