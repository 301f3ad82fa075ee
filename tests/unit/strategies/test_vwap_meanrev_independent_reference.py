"""VWAP_MEANREV signals on real bars equal an independent reading of SPEC 3.2 and 5
(tests/builders/independent_reference.py): extended hours, missing minutes and early closes included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from builders.independent_reference import (
    REAL_FILES,
    vwap_reversion_signals,
    vwapcli_and_reference_signals,
)


@pytest.mark.parametrize("symbol", sorted(REAL_FILES))
def test_vwap_signals_on_real_bars_match_the_independent_reading(symbol: str, tmp_path: Path) -> None:
    ours, expected = vwapcli_and_reference_signals(symbol, "vwap_meanrev", vwap_reversion_signals, tmp_path)
    assert len(expected) >= 5
    pd.testing.assert_frame_equal(ours, expected, check_exact=False, rtol=1e-12)
