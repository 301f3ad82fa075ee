"""SPEC 7 strikes at the edges: prices outside the listing, duplicate strikes, P = target.

Unless a test says otherwise the listing is the dollar grid 480, 481, ..., 520.
"""

from __future__ import annotations

import numpy as np
import pytest

from vwapcli.options.strikes import NoStrikeError, choose_strikes, strike_grid

DOLLAR_GRID = strike_grid(500.0, 1.0, 20)  # 480 .. 520


# ------------------------------------------------------------ outside the listing
def test_long_below_every_listed_strike_takes_the_lowest_and_the_next_one_up() -> None:
    """LONG P 470 (10 below the lowest strike 480): nearest is 480; target 471.2 is nearest
    480 too, not above K_long -> one step up: (480, 481)."""
    assert choose_strikes("LONG", 470.0, 471.2, DOLLAR_GRID) == (480.0, 481.0)


def test_short_below_every_listed_strike_has_no_strike_beneath_k_long() -> None:
    """SHORT P 470, target 468: K_long = 480 (the lowest), the put spread needs a strike
    below 480 and none is listed."""
    with pytest.raises(NoStrikeError, match="no listed strike below K_long 480"):
        choose_strikes("SHORT", 470.0, 468.0, DOLLAR_GRID)


def test_short_above_every_listed_strike_takes_the_highest_and_the_next_one_down() -> None:
    """SHORT P 530, target 528.6: both nearest the top strike 520 -> K_short one step
    down: (520, 519)."""
    assert choose_strikes("SHORT", 530.0, 528.6, DOLLAR_GRID) == (520.0, 519.0)


def test_a_target_beyond_the_listing_takes_the_outermost_strike() -> None:
    """LONG P 500.2 -> 500; target 560 lies above every strike -> nearest 520: (500, 520).
    SHORT P 500.2 -> 500; target 440 below every strike -> 480: (500, 480)."""
    assert choose_strikes("LONG", 500.2, 560.0, DOLLAR_GRID) == (500.0, 520.0)
    assert choose_strikes("SHORT", 500.2, 440.0, DOLLAR_GRID) == (500.0, 480.0)


def test_a_price_on_a_listed_strike_takes_that_strike() -> None:
    """P 500 and target 503 are listed: (500, 503) for LONG; SHORT P 500, target 497:
    (500, 497). A single listed strike cannot make a spread."""
    assert choose_strikes("LONG", 500.0, 503.0, DOLLAR_GRID) == (500.0, 503.0)
    assert choose_strikes("SHORT", 500.0, 497.0, DOLLAR_GRID) == (500.0, 497.0)
    with pytest.raises(NoStrikeError, match="above K_long 500"):
        choose_strikes("LONG", 500.0, 503.0, np.array([500.0]))


# ------------------------------------------------------------ duplicate strikes
def test_a_sorted_listing_with_a_duplicate_never_gives_a_zero_width_spread() -> None:
    """A chain may list a strike twice (e.g. standard and weekly roots): [499, 500, 500,
    501, 502] is sorted but not strictly increasing.

    LONG P 500.1, target 500.3: both nearest 500 -> K_short must be the next *different*
    strike above 500, i.e. 501 (taking the next array entry would give 500/500, a spread
    of width 0). SHORT P 500.1, target 499.9 -> (500, 499).
    """
    listed = np.array([499.0, 500.0, 500.0, 501.0, 502.0])
    assert choose_strikes("LONG", 500.1, 500.3, listed) == (500.0, 501.0)
    assert choose_strikes("SHORT", 500.1, 499.9, listed) == (500.0, 499.0)


def test_a_duplicated_lowest_strike_still_leaves_no_strike_below_it() -> None:
    """[500, 500, 501]: SHORT P 500.2, target 499.6 -> K_long 500, and no *different* strike
    lies below it (the second 500 is the same strike): no spread."""
    with pytest.raises(NoStrikeError, match="no listed strike below K_long 500"):
        choose_strikes("SHORT", 500.2, 499.6, np.array([500.0, 500.0, 501.0]))


def test_random_listings_with_duplicates_always_give_a_positive_width_in_the_trade_direction() -> None:
    """Independent check of the same rule on 2,000 random sorted listings with repeated
    strikes: every spread that is built has K_short strictly above (LONG) or below
    (SHORT) K_long, both strikes listed."""
    rng = np.random.default_rng(15)
    built = 0
    for _ in range(2000):
        listed = np.sort(rng.choice(np.arange(495.0, 506.0), size=int(rng.integers(2, 12))))
        p = float(rng.uniform(494.0, 507.0))
        for direction, target in (("LONG", p + rng.uniform(0.0, 3.0)), ("SHORT", p - rng.uniform(0.0, 3.0))):
            try:
                k_long, k_short = choose_strikes(direction, p, float(target), listed)
            except NoStrikeError:
                continue
            built += 1
            assert k_long in listed and k_short in listed
            assert (k_short > k_long) if direction == "LONG" else (k_short < k_long)
    assert built > 2000  # most draws make a spread: the check is not vacuous


# ------------------------------------------------------------ target equal to P
def test_target_equal_to_p_on_a_tie_breaks_toward_the_trade_side() -> None:
    """P = target = 500.5, halfway between 500 and 501: there is no target side, so "toward
    the target" means the trade's side (a call spread reaches up, a put spread down).

    LONG: K_long ties up -> 501; K_short ties toward P, i.e. the other way -> 500, which is
    not above 501 -> one step up: (501, 502).
    SHORT: K_long ties down -> 500; K_short ties up -> 501, not below 500 -> (500, 499).
    """
    assert choose_strikes("LONG", 500.5, 500.5, DOLLAR_GRID) == (501.0, 502.0)
    assert choose_strikes("SHORT", 500.5, 500.5, DOLLAR_GRID) == (500.0, 499.0)


def test_a_target_on_the_other_side_of_p_still_gives_a_spread_in_the_trade_direction() -> None:
    """LONG P 500.5 with a target *below* it, 499.5 (it cannot happen in SPEC 5/6, but the
    function must stay sane): K_long ties toward the target -> 500; K_short 499.5 ties
    toward P -> 500; not above -> (500, 501)."""
    assert choose_strikes("LONG", 500.5, 499.5, DOLLAR_GRID) == (500.0, 501.0)


# ------------------------------------------------------------ listing order and the grid
def test_a_listing_in_descending_order_is_sorted_before_choosing() -> None:
    """A chain listed high to low, [505, 504, ..., 495]: same answers as the sorted grid.
    LONG P 500.2 -> 500, target 501.7 -> 502; SHORT P 500.2 -> 500, target 498.4 -> 498."""
    descending = np.arange(505.0, 494.0, -1.0)
    assert choose_strikes("LONG", 500.2, 501.7, descending) == (500.0, 502.0)
    assert choose_strikes("SHORT", 500.2, 498.4, descending) == (500.0, 498.0)


@pytest.mark.parametrize("increment", [0.0, -0.5, float("inf"), float("nan")])
def test_a_strike_grid_needs_a_positive_finite_increment(increment: float) -> None:
    with pytest.raises(ValueError, match="strike increment must be positive"):
        strike_grid(500.0, increment, 3)


def test_grid_strikes_are_rounded_to_one_hundred_millionth_of_a_dollar() -> None:
    """Rounding to 1e-8 strips float noise (1003 x 0.1 = 100.30000000000001 -> 100.3) and
    nothing coarser: a 1e-8 grid around 1.0 keeps 0.99999999 and 1.00000001, while a 3e-9
    grid (steps finer than the rounding) collapses to 1.0 three times."""
    assert strike_grid(100.0, 0.1, 3).tolist() == [99.7, 99.8, 99.9, 100.0, 100.1, 100.2, 100.3]
    assert strike_grid(1.0, 1e-8, 1).tolist() == [0.99999999, 1.0, 1.00000001]
    assert strike_grid(1.0, 3e-9, 1).tolist() == [1.0, 1.0, 1.0]
