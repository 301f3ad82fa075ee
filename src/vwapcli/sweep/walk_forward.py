"""Walk-forward analysis: choose parameters on a training window, trade them on the next one.

``--walk-forward train=3y,test=1y`` rolls a 3-year training window over the data in steps
of the test length; on each training window the grid's best configuration (by
``metric``, Sharpe by default) is chosen, and only its trades in the following test
window are kept. The concatenated out-of-sample trades are the honest estimate of what
the parameter-selection process would have earned.

Windows are calendar spans anchored at the first session: fold k trains on
``[first + k*step, first + k*step + train)`` and tests on the ``test`` span right after.
Each window is then snapped to the sessions present inside it. The last test window may
be cut short by the end of the data; a fold whose test window holds no session is dropped.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vwapcli.errors import ConfigError

# Metrics a fold may select on, and whether larger is better.
SELECTION_METRICS: dict[str, bool] = {
    "sharpe": True,
    "profit_factor": True,
    "win_rate": True,
    "total_pnl": True,
    "max_drawdown_pct": False,
}
_SPAN = re.compile(r"^(\d+)\s*([ymd])$")


@dataclass(frozen=True)
class Span:
    """A calendar length: ``count`` years, months or days."""

    count: int
    unit: str  # "y" | "m" | "d"

    def add_to(self, day: dt.date) -> dt.date:
        """``day`` moved forward by this span (Feb 29 + 1y -> Feb 28)."""
        if self.unit == "d":
            return day + dt.timedelta(days=self.count)
        months = self.count * (12 if self.unit == "y" else 1)
        month_index = day.month - 1 + months
        year, month = day.year + month_index // 12, month_index % 12 + 1
        return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"


@dataclass(frozen=True)
class WalkForwardSpec:
    train: Span
    test: Span
    step: Span
    metric: str = "sharpe"


@dataclass(frozen=True)
class Fold:
    """One walk-forward step; all dates are sessions present in the data (inclusive)."""

    index: int
    train_start: dt.date
    train_end: dt.date
    test_start: dt.date
    test_end: dt.date


def _span(text: str, name: str, spec_text: str) -> Span:
    match = _SPAN.match(text.strip().lower())
    if not match or int(match.group(1)) <= 0:
        raise ConfigError(
            f"--walk-forward {spec_text!r}: {name}={text!r} is not a length like 3y, 6m or 90d"
        )
    return Span(int(match.group(1)), match.group(2))


def parse_walk_forward(text: str) -> WalkForwardSpec:
    """Parse ``train=3y,test=1y[,step=6m][,metric=profit_factor]``."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ConfigError(f"--walk-forward {text!r}: {part.strip()!r} is not key=value")
        key, value = (s.strip() for s in part.split("=", 1))
        if key not in ("train", "test", "step", "metric"):
            raise ConfigError(f"--walk-forward {text!r}: unknown key {key!r}; known: train, test, step, metric")
        fields[key] = value
    for required in ("train", "test"):
        if required not in fields:
            raise ConfigError(f"--walk-forward {text!r}: {required}= is required (e.g. train=3y,test=1y)")
    metric = fields.get("metric", "sharpe")
    if metric not in SELECTION_METRICS:
        raise ConfigError(
            f"--walk-forward {text!r}: metric {metric!r} unknown; known: {', '.join(SELECTION_METRICS)}"
        )
    test = _span(fields["test"], "test", text)
    step = _span(fields["step"], "step", text) if "step" in fields else test
    return WalkForwardSpec(train=_span(fields["train"], "train", text), test=test, step=step, metric=metric)


def split_windows(sessions: Sequence[dt.date], spec: WalkForwardSpec) -> list[Fold]:
    """Folds over sorted session dates (see the module docstring for the rule)."""
    days = sorted(sessions)
    if not days:
        return []
    as_array = np.array(days, dtype="datetime64[D]")

    def inside(lo: dt.date, hi_exclusive: dt.date) -> tuple[dt.date, dt.date] | None:
        a = int(np.searchsorted(as_array, np.datetime64(lo, "D"), "left"))
        b = int(np.searchsorted(as_array, np.datetime64(hi_exclusive, "D"), "left"))
        return (days[a], days[b - 1]) if b > a else None

    folds: list[Fold] = []
    anchor = days[0]
    k = 0
    while True:
        train_stop = spec.train.add_to(anchor)
        test_stop = spec.test.add_to(train_stop)
        if train_stop > days[-1]:
            break  # no session left to test on
        train = inside(anchor, train_stop)
        test = inside(train_stop, test_stop)
        if train is not None and test is not None:
            folds.append(Fold(len(folds), train[0], train[1], test[0], test[1]))
        k += 1
        anchor = _add_steps(days[0], spec.step, k)
    return folds


def _add_steps(origin: dt.date, step: Span, k: int) -> dt.date:
    # Step from the origin each time (not cumulatively) so month-end clipping never drifts.
    return Span(step.count * k, step.unit).add_to(origin)


def select_best(results: pd.DataFrame, metric: str) -> int:
    """Row position of the best configuration by ``metric``; NaN ranks last, ties -> first row."""
    larger_is_better = SELECTION_METRICS[metric]
    values = results[metric].to_numpy(dtype=float)
    score = np.where(np.isnan(values), -math.inf, values if larger_is_better else -values)
    return int(np.argmax(score))
