"""ORB's config block: SPEC 6's defaults, copied from the SPEC text, and each field's limits."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from vwapcli.strategies.orb import ORBConfig


def test_the_defaults_are_spec_6s() -> None:
    """SPEC 6: enabled [true], range_minutes [30], max_entry_time ["12:00"], target_range_mult [1.0]."""
    config = ORBConfig()
    assert (config.enabled, config.range_minutes, config.max_entry_time, config.target_range_mult) == (
        True, 30, dt.time(12, 0), 1.0)


def test_the_range_lasts_at_least_one_minute() -> None:
    """range_minutes 0 is refused; 1 is accepted."""
    with pytest.raises(ValidationError, match="range_minutes"):
        ORBConfig(range_minutes=0)
    assert ORBConfig(range_minutes=1).range_minutes == 1


def test_the_target_multiple_must_be_strictly_positive() -> None:
    """target_range_mult 0 is refused; 0.01 and 1.5 are accepted."""
    with pytest.raises(ValidationError, match="target_range_mult"):
        ORBConfig(target_range_mult=0.0)
    assert ORBConfig(target_range_mult=0.01).target_range_mult == 0.01
    assert ORBConfig(target_range_mult=1.5).target_range_mult == 1.5
