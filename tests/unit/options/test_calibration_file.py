"""The calibration file: round trip, and one-line refusals of a malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from vwapcli.errors import ConfigError
from vwapcli.options.calibration_file import CalibrationParams


def test_the_shipped_spy_calibration_loads_and_round_trips(tmp_path: Path) -> None:
    shipped = CalibrationParams.load_for_symbol("SPY")
    assert shipped.symbol == "SPY"
    assert set(shipped.events) >= {"fomc"}
    copy = tmp_path / "SPY.yaml"
    shipped.dump(copy)
    assert CalibrationParams.load(copy) == shipped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("smile: {skew: .inf}\n", r"smile.skew: must be a finite number"),
        ("level: {premium: -1}\n", r"level.premium: Input should be greater than 0"),
        ("smile: {skew: 0.1, wiggle: 2}\n", r"smile.wiggle: Extra inputs are not permitted"),
        ("format: something-else\n", r"format: Input should be"),
        ("- just a list\n", r"a calibration file is a mapping"),
    ],
)
def test_a_malformed_calibration_is_one_line_naming_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        CalibrationParams.load(path)
    assert str(raised.value).startswith(str(path))
    assert "\n" not in str(raised.value)
