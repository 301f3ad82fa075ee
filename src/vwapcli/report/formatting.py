"""Numbers as the pages and the terminal write them: one family of formatters.

Every formatter writes ``n/a`` for NaN and ``∞`` / ``-∞`` for infinities (a profit factor
without a losing trade). The kinds:

* ``fraction`` - a share written as a percentage: 0.4523 -> ``45.2%`` (1 decimal by default);
* ``percent`` - already in percent: 12.34 -> ``12.3%``;
* ``ratio`` - 2 decimals: ``1.30``;
* ``money`` - dollars with thousands separators, the sign before the dollar: ``-$1,234.50``;
* ``count`` - whole numbers with separators: ``1,234``; ``sessions`` - ``1,234 sessions``;
* ``signed_fraction`` - a bias: ``+1.8%``; ``cents`` - dollars per share in cents: ``0.30c``;
  ``multiplier`` - a scale factor: ``x1.25``.

A change (RUN - BASE, a criterion that is a change) carries its sign, except zero, and
percentages change in points: ``+2.50 pts``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from vwapcli.report.acceptance import Criterion, Verdict
from vwapcli.report.run_folder import ALL

NA = "n/a"
Kind = Literal["fraction", "percent", "ratio", "money", "count", "sessions"]


def _special(value: float) -> str | None:
    if math.isnan(value):
        return NA
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return None


def money(value: float) -> str:
    """``$1,234.56`` / ``-$1,234.56``."""
    special = _special(value)
    if special is not None:
        return special
    return f"-${abs(value):,.2f}" if value < 0 else f"${value:,.2f}"


def fraction(value: float, digits: int = 1) -> str:
    """A share as a percentage: 0.4523 -> ``45.2%``."""
    special = _special(value)
    return special if special is not None else f"{value * 100:.{digits}f}%"


def percent(value: float, digits: int = 1) -> str:
    """A value already in percent: 12.34 -> ``12.3%``."""
    special = _special(value)
    return special if special is not None else f"{value:.{digits}f}%"


def ratio(value: float, digits: int = 2) -> str:
    """``1.30``."""
    special = _special(value)
    return special if special is not None else f"{value:.{digits}f}"


def signed_fraction(value: float, digits: int = 1) -> str:
    """A signed share as a percentage (an error's bias): 0.018 -> ``+1.8%``, -0.003 -> ``-0.3%``."""
    special = _special(value)
    return special if special is not None else f"{value * 100:+.{digits}f}%"


def cents(value: float, digits: int = 2) -> str:
    """Dollars per share written in cents (a half-spread error): 0.003 -> ``0.30c``."""
    special = _special(value)
    return special if special is not None else f"{value * 100:.{digits}f}c"


def multiplier(value: float) -> str:
    """A scale factor: 1.25 -> ``x1.25``, 2.0 -> ``x2``."""
    special = _special(value)
    return special if special is not None else f"x{value:g}"


def count(value: float) -> str:
    """``1,234``."""
    special = _special(value)
    return special if special is not None else f"{value:,.0f}"


def number(kind: Kind, value: float, digits: int = 2) -> str:
    """A value of ``kind`` (fractions and percents with ``digits`` decimals)."""
    if kind == "fraction":
        return fraction(value, digits)
    if kind == "percent":
        return percent(value, digits)
    if kind == "ratio":
        return ratio(value)
    if kind == "money":
        return money(value)
    if kind == "sessions":
        special = _special(value)
        return special if special is not None else f"{value:,.0f} sessions"
    return count(value)


def signed(value: float, body: Callable[[float], str]) -> str:
    """``+x`` / ``-x`` / ``0`` around a magnitude formatter (zero carries no sign)."""
    if math.isnan(value):
        return NA
    if value == 0.0:
        return body(0.0)
    return ("+" if value > 0 else "-") + body(abs(value))


def change(kind: Kind, value: float) -> str:
    """A change of a ``kind`` value: percentage points for percentages, dollars, counts."""
    if math.isinf(value):
        return NA
    if kind == "fraction":
        return signed(value, lambda v: f"{v * 100:.2f} pts")
    if kind == "percent":
        return signed(value, lambda v: f"{v:.2f} pts")
    if kind == "ratio":
        return signed(value, lambda v: f"{v:.2f}")
    if kind == "money":
        return signed(value, lambda v: f"${v:,.2f}")
    return signed(value, lambda v: f"{v:,.0f}")


# How each acceptance criterion's numbers are written: (kind, decimals, is a change).
CRITERION_FORMATS: dict[str, tuple[Kind, int, bool]] = {
    "win_rate": ("fraction", 1, False),
    "max_drawdown_pct": ("percent", 1, False),
    "trades": ("count", 0, False),
    # Portfolio criteria (report --compare) are changes, so they carry a sign (not zero).
    "max_drawdown_worsening_pts": ("percent", 2, True),
    "sharpe_change": ("ratio", 2, True),
}


def criterion_value(key: str, value: float) -> str:
    """A criterion's value or threshold, written the same on the page and in the terminal."""
    special = _special(value)
    if special is not None:
        return special
    kind, digits, is_change = CRITERION_FORMATS.get(key, ("ratio", 2, False))
    return change(kind, value) if is_change else number(kind, value, digits)


def criterion_threshold(criterion: Criterion) -> str:
    """``≥ 45.0%`` / ``≤ 20.0%``."""
    sign = "≥" if criterion.comparator == ">=" else "≤"
    return f"{sign} {criterion_value(criterion.key, criterion.threshold)}"


def criterion_interval(criterion: Criterion) -> str:
    """``[low, high]`` of the bootstrap 95 % interval, ``n/a`` when not bootstrapped."""
    if not criterion.interval.available:
        return NA
    low = criterion_value(criterion.key, criterion.interval.low)
    high = criterion_value(criterion.key, criterion.interval.high)
    return f"[{low}, {high}]"


def strategy_label(name: str) -> str:
    """A strategy's display name, or "All strategies" for the whole run."""
    return "All strategies" if name == ALL else name


def scope_label(name: str) -> str:
    """What a verdict is about, in a sentence: "all strategies" or the strategy's name."""
    return "all strategies" if name == ALL else name


def signed_count(value: int | None) -> str:
    """A signed count ("+1", "0", "-2"), "n/a" when it was not measured."""
    return NA if value is None else change("count", float(value))


def verdict_sentence(verdict: Verdict) -> str:
    """One sentence: failed criteria, not-proven ones, or a clean pass."""
    if not verdict.passed:
        return "Failed: " + ", ".join(verdict.failed) + "."
    if verdict.not_proven:
        return (
            "Passed, but NOT PROVEN (the 95% interval crosses the threshold): "
            + ", ".join(verdict.not_proven)
            + "."
        )
    return "Passed every criterion, each with its 95% interval clear of the threshold."

