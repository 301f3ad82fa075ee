"""Strike choice: nearest strikes, tie rules and min width (SPEC 7)."""

from __future__ import annotations

import numpy as np
import pytest

from vwapcli.options.strikes import NoStrikeError, choose_strikes, strike_grid

DOLLAR_GRID = strike_grid(500.0, 1.0, 20)  # 480 .. 520


def test_long_tie_for_k_long_goes_toward_the_target() -> None:
    """P 500.5 is 0.5 from 500 and 501 -> toward target 501.7 -> 501; target nearest 502 (0.3)."""
    assert choose_strikes("LONG", 500.5, 501.7, DOLLAR_GRID) == (501.0, 502.0)


def test_short_tie_for_k_long_goes_toward_the_target() -> None:
    """P 500.5 ties 500/501 -> toward target 498.2 (down) -> 500; target nearest 498 (0.2)."""
    assert choose_strikes("SHORT", 500.5, 498.2, DOLLAR_GRID) == (500.0, 498.0)


def test_tie_for_k_short_goes_toward_p() -> None:
    """LONG P 500.2 -> 500; target 501.5 ties 501/502 -> toward P -> 501."""
    assert choose_strikes("LONG", 500.2, 501.5, DOLLAR_GRID) == (500.0, 501.0)
    # SHORT P 500.2 -> 500; target 498.5 ties 498/499 -> toward P -> 499.
    assert choose_strikes("SHORT", 500.2, 498.5, DOLLAR_GRID) == (500.0, 499.0)


def test_target_equal_to_p_gives_the_minimum_width() -> None:
    """P = target = 500.2: both nearest 500 -> K_short one step beyond: 501 (call), 499 (put)."""
    assert choose_strikes("LONG", 500.2, 500.2, DOLLAR_GRID) == (500.0, 501.0)
    assert choose_strikes("SHORT", 500.2, 500.2, DOLLAR_GRID) == (500.0, 499.0)


def test_target_within_the_same_strike_gives_the_next_listed_strike() -> None:
    """Uneven listing [495, 500, 505, 510]: LONG P 501, target 502 -> both 500 -> K_short 505."""
    listed = np.array([510.0, 495.0, 505.0, 500.0])  # any order
    assert choose_strikes("LONG", 501.0, 502.0, listed) == (500.0, 505.0)


def test_ties_on_a_tenth_grid_are_exact_despite_binary_floats() -> None:
    """100.15 is halfway between 100.1 and 100.2 (in binary 100.2 looks nearer).

    SHORT toward target 99.5: tie goes down -> K_long 100.1; target 99.5 is listed.
    """
    grid = strike_grid(100.0, 0.1, 10)
    assert choose_strikes("SHORT", 100.15, 99.5, grid) == (100.1, 99.5)


def test_no_strike_beyond_k_long_raises() -> None:
    """K_long is the top listed strike, LONG needs one above it."""
    with pytest.raises(NoStrikeError, match="no listed strike above K_long 510"):
        choose_strikes("LONG", 512.0, 514.0, np.array([505.0, 510.0]))


def test_empty_listing_raises() -> None:
    with pytest.raises(NoStrikeError):
        choose_strikes("LONG", 500.0, 501.0, np.array([]))


def test_strike_grid_lists_exact_decimal_strikes_around_the_center() -> None:
    """Center 10.04 on a 0.1 grid -> 100 steps -> 9.7 .. 10.3 exactly as written in decimal."""
    assert strike_grid(10.04, 0.1, 3).tolist() == [9.7, 9.8, 9.9, 10.0, 10.1, 10.2, 10.3]
    assert strike_grid(2.0, 1.0, 3).tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]  # positive strikes only
