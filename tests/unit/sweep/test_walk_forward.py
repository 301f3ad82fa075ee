"""Walk-forward windows, split by hand on a weekday calendar, and the fold winner's choice."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pandas as pd
import pytest

from vwapcli.errors import ConfigError
from vwapcli.sweep.walk_forward import Fold, Span, parse_walk_forward, select_best, split_windows


def _weekdays(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def test_walk_forward_spec_parses_lengths_step_and_metric() -> None:
    spec = parse_walk_forward("train=3y,test=1y")
    assert (spec.train, spec.test, spec.step, spec.metric) == (Span(3, "y"), Span(1, "y"), Span(1, "y"), "sharpe")
    spec = parse_walk_forward("train=18m, test=3m, step=1m, metric=profit_factor")
    assert (spec.train, spec.test, spec.step, spec.metric) == (Span(18, "m"), Span(3, "m"), Span(1, "m"), "profit_factor")


@pytest.mark.parametrize(("text", "message"), [
    ("train=3y", "test= is required"),
    ("train=3x,test=1y", "not a length"),
    ("train=0y,test=1y", "not a length"),
    ("train=3y,test=1y,metric=alpha", "metric 'alpha' unknown"),
    ("train=3y,test=1y,window=2", "unknown key 'window'"),
])
def test_bad_walk_forward_specs_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_walk_forward(text)


def test_spans_add_calendar_years_and_clip_month_ends() -> None:
    assert Span(1, "y").add_to(dt.date(2020, 2, 29)) == dt.date(2021, 2, 28)
    assert Span(1, "m").add_to(dt.date(2024, 1, 31)) == dt.date(2024, 2, 29)
    assert Span(10, "d").add_to(dt.date(2024, 1, 31)) == dt.date(2024, 2, 10)


def test_two_year_train_one_year_test_over_five_years_gives_three_folds() -> None:
    """Weekdays 2020-01-01 (Wed) .. 2024-12-31 (Tue), train=2y, test=1y, step=1y:

    fold 0: train [2020-01-01, 2022-01-01) -> 2020-01-01 .. 2021-12-31 (Fri)
            test  [2022-01-01, 2023-01-01) -> 2022-01-03 (Mon) .. 2022-12-30 (Fri)
    fold 1: train 2021-01-01 .. 2022-12-30, test 2023-01-02 .. 2023-12-29
    fold 2: train 2022-01-03 .. 2023-12-29, test 2024-01-01 .. 2024-12-31
    fold 3 would train until 2025-01-01, past the last session: none.
    """
    folds = split_windows(_weekdays(dt.date(2020, 1, 1), dt.date(2024, 12, 31)), parse_walk_forward("train=2y,test=1y"))
    assert folds == [
        Fold(0, dt.date(2020, 1, 1), dt.date(2021, 12, 31), dt.date(2022, 1, 3), dt.date(2022, 12, 30)),
        Fold(1, dt.date(2021, 1, 1), dt.date(2022, 12, 30), dt.date(2023, 1, 2), dt.date(2023, 12, 29)),
        Fold(2, dt.date(2022, 1, 3), dt.date(2023, 12, 29), dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ]


def test_the_last_test_window_may_be_cut_short_by_the_end_of_the_data() -> None:
    """Data to 2024-06-28 (Fri): fold 2 tests 2024-01-01 .. 2024-06-28 only."""
    folds = split_windows(_weekdays(dt.date(2020, 1, 1), dt.date(2024, 6, 28)), parse_walk_forward("train=2y,test=1y"))
    assert len(folds) == 3
    assert (folds[-1].test_start, folds[-1].test_end) == (dt.date(2024, 1, 1), dt.date(2024, 6, 28))


def test_test_windows_never_overlap_their_training_window_or_each_other() -> None:
    folds = split_windows(_weekdays(dt.date(2019, 3, 1), dt.date(2024, 12, 31)),
                          parse_walk_forward("train=1y,test=3m"))
    assert len(folds) > 10
    for fold in folds:
        assert fold.train_end < fold.test_start
    for before, after in itertools.pairwise(folds):
        assert before.test_end < after.test_start


def test_too_little_data_gives_no_fold() -> None:
    assert split_windows(_weekdays(dt.date(2024, 1, 1), dt.date(2024, 12, 31)), parse_walk_forward("train=3y,test=1y")) == []
    assert split_windows([], parse_walk_forward("train=3y,test=1y")) == []


def test_best_configuration_is_the_highest_sharpe_with_nan_last_and_ties_to_the_first() -> None:
    results = pd.DataFrame({"sharpe": [math.nan, 1.2, 1.5, 1.5], "max_drawdown_pct": [5.0, 3.0, 9.0, 2.0]})
    assert select_best(results, "sharpe") == 2
    assert select_best(results, "max_drawdown_pct") == 3  # smaller drawdown is better
