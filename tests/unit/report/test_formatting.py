"""One family of number formatters for every page and the terminal (issue 16).

Expected strings are written by hand from the rules in the module docstring.
"""

from __future__ import annotations

import math

import pytest

from vwapcli.report.acceptance import Criterion, Verdict
from vwapcli.report.bootstrap import NO_INTERVAL, Interval
from vwapcli.report.formatting import (
    change,
    count,
    criterion_interval,
    criterion_threshold,
    criterion_value,
    fraction,
    money,
    number,
    percent,
    ratio,
    scope_label,
    signed_count,
    strategy_label,
    verdict_sentence,
)


def test_the_kinds_write_their_numbers_as_documented() -> None:
    assert money(-1234.5) == "-$1,234.50" and money(0.0) == "$0.00"
    assert fraction(0.4523) == "45.2%" and fraction(0.4523, 2) == "45.23%"
    assert percent(12.34) == "12.3%"
    assert ratio(1.3) == "1.30"
    assert count(1234.0) == "1,234" and count(1234) == "1,234"
    assert number("sessions", 1510.0) == "1,510 sessions"


@pytest.mark.parametrize("formatter", [money, fraction, percent, ratio, count])
def test_nan_is_not_available_and_infinity_is_a_symbol(formatter) -> None:  # type: ignore[no-untyped-def]
    assert formatter(math.nan) == "n/a"
    assert formatter(math.inf) == "∞" and formatter(-math.inf) == "-∞"


def test_changes_carry_a_sign_except_zero_and_percentages_change_in_points() -> None:
    assert change("fraction", 0.0125) == "+1.25 pts"
    assert change("percent", -29.7) == "-29.70 pts"
    assert change("ratio", 0.0) == "0.00"
    assert change("money", -24100.4) == "-$24,100.40"
    assert change("count", 894.0) == "+894"
    assert change("ratio", math.inf) == "n/a"
    assert signed_count(None) == "n/a" and signed_count(-127) == "-127"


def test_criteria_are_written_per_key() -> None:
    """Win rate 0.436 -> 43.6%; drawdown 11.4 -> 11.4%; a worsening of 2 points -> +2.00 pts."""
    win = Criterion("win_rate", "Win rate", 0.436, 0.45, ">=", Interval(0.405, 0.469))
    assert (criterion_value("win_rate", win.value), criterion_threshold(win)) == ("43.6%", "≥ 45.0%")
    assert criterion_interval(win) == "[40.5%, 46.9%]"
    drawdown = Criterion("max_drawdown_pct", "Max drawdown", 11.4, 20.0, "<=", NO_INTERVAL)
    assert (criterion_value("max_drawdown_pct", 11.4), criterion_threshold(drawdown)) == ("11.4%", "≤ 20.0%")
    assert criterion_interval(drawdown) == "n/a"
    assert criterion_value("max_drawdown_worsening_pts", 2.0) == "+2.00 pts"
    assert criterion_value("trades", 894.0) == "894" and criterion_value("years_covered", 6.0) == "6.00"


def test_the_whole_run_is_called_all_strategies() -> None:
    assert strategy_label("all") == "All strategies" and strategy_label("ORB") == "ORB"
    assert scope_label("all") == "all strategies" and scope_label("ORB") == "ORB"


def test_a_loss_under_a_dollar_still_puts_its_sign_before_the_dollar() -> None:
    assert money(-0.5) == "-$0.50" and money(0.5) == "$0.50"


def test_a_number_without_digits_has_two_decimals() -> None:
    """0.4523 -> 45.23 %; 12.3456 % -> 12.35 % (the compare page's rows)."""
    assert number("fraction", 0.4523) == "45.23%" and number("percent", 12.3456) == "12.35%"


def test_the_verdict_sentence_names_failures_first_then_not_proven_criteria() -> None:
    """Win rate 0.40 < 0.45 and profit factor 1.2 < 1.3 fail; with them passing and the
    win rate's interval [0.44, 0.55] crossing 0.45, the verdict passes but is NOT PROVEN."""
    failing = Verdict([Criterion("win_rate", "Win rate", 0.40, 0.45, ">=", NO_INTERVAL),
                       Criterion("profit_factor", "Profit factor", 1.2, 1.3, ">=", NO_INTERVAL)])
    assert verdict_sentence(failing) == "Failed: Win rate, Profit factor."
    crossing = Verdict([Criterion("win_rate", "Win rate", 0.5, 0.45, ">=", Interval(0.44, 0.55))], ["Win rate"])
    assert verdict_sentence(crossing) == (
        "Passed, but NOT PROVEN (the 95% interval crosses the threshold): Win rate."
    )
    clear = Verdict([Criterion("win_rate", "Win rate", 0.5, 0.45, ">=", Interval(0.46, 0.55))])
    assert verdict_sentence(clear) == "Passed every criterion, each with its 95% interval clear of the threshold."


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("win_rate", math.nan, "n/a"),
        ("profit_factor", math.inf, "∞"),
        ("profit_factor", -math.inf, "-∞"),
        ("win_rate", 0.4567, "45.7%"),
        ("max_drawdown_pct", 12.345, "12.3%"),
        ("max_drawdown_worsening_pts", 1.5, "+1.50 pts"),
        ("max_drawdown_worsening_pts", -0.25, "-0.25 pts"),
        ("max_drawdown_worsening_pts", 0.0, "0.00 pts"),
        ("sharpe_change", 1.0, "+1.00"),
        ("sharpe_change", -1.0, "-1.00"),
        ("sharpe_change", 0.0, "0.00"),
        ("trades", 1234.0, "1,234"),
        ("years_covered", 5.004, "5.00"),
        ("profit_factor", 1.456, "1.46"),
    ],
)
def test_each_criterion_is_written_in_its_own_unit(key: str, value: float, text: str) -> None:
    assert criterion_value(key, value) == text


def test_thresholds_carry_their_comparison_sign() -> None:
    assert criterion_threshold(Criterion("win_rate", "Win rate", 0.5, 0.45, ">=", NO_INTERVAL)) == "≥ 45.0%"
    assert criterion_threshold(Criterion("max_drawdown_pct", "Max drawdown", 5.0, 20.0, "<=", NO_INTERVAL)) == "≤ 20.0%"


def test_intervals_are_written_in_the_criterions_unit_or_as_n_a() -> None:
    assert criterion_interval(Criterion("win_rate", "Win rate", 0.5, 0.45, ">=", Interval(0.4, 0.55))) == "[40.0%, 55.0%]"
    assert criterion_interval(Criterion("trades", "Trades", 300.0, 200.0, ">=", NO_INTERVAL)) == "n/a"
