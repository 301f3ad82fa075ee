"""The sweep's per-configuration metrics (``trial_metrics``) against a hand calculation.

``test_trials_vwap.py`` checks that a sweep task reports what ``trial_metrics``
computes on the backtest's own output; this file checks ``trial_metrics`` itself, on
three sessions small enough to work out on paper:

    start 100,000; closes 101,000 / 99,990 / 100,989.90; trade P&Ls +1,000 / -1,010 / +999.90
    sessions 2024-01-02, 01-03, 01-04

* daily returns: +1 %, 99,990 / 101,000 - 1 = -1 %, 100,989.9 / 99,990 - 1 = +1 %
  -> with a = 1 %: mean a/3, deviations 2a/3, -4a/3, 2a/3, sample variance
  (4 + 16 + 4)/9 a^2 / 2 = 4a^2/3, std 2a/sqrt(3);
  Sharpe (annualised) = (a/3) / (2a/sqrt(3)) x sqrt(252) = sqrt(3)/6 x sqrt(252) = sqrt(21);
  per-period Sharpe = sqrt(3)/6 = 1/sqrt(12).
* population moments of the returns (units of a/3): centred 2, -4, 2 -> m2 = 8,
  m3 = (8 - 64 + 8)/3 = -16, m4 = (16 + 256 + 16)/3 = 96 -> skew = -16 / 8^1.5 = -1/sqrt(2),
  Pearson kurtosis = 96 / 64 = 1.5.
* trades: 3, wins 2 -> win rate 2/3; profit factor 1,999.90 / 1,010 = 1.980099...
* max drawdown: peak 101,000 -> trough 99,990 = 1,010 / 101,000 = 1.0 %.
* total P&L: 1,000 - 1,010 + 999.90 = 989.90. Years covered: 2 days / 365.25 = 0.005476.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

from vwapcli.app_config import config_from_dict
from vwapcli.sweep.trials import trial_metrics

PNL = np.array([1000.0, -1010.0, 999.9])
EQUITY = np.array([101_000.0, 99_990.0, 100_989.9])
SESSIONS = [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)]
# Thresholds every metric above clears (years 0.005476 >= 0.005; 3 trades >= 3).
PASSING = {"min_win_rate": 0.6, "min_profit_factor": 1.9, "max_drawdown_pct": 1.5,
           "min_years": 0.005, "min_trades": 3}


def metrics(acceptance: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    config = config_from_dict({"acceptance": acceptance})
    return trial_metrics(PNL, SESSIONS, EQUITY, config)


def test_trial_metrics_of_three_sessions_match_the_hand_calculation() -> None:
    result, _ = metrics(PASSING)
    assert result["trades"] == 3
    assert result["win_rate"] == pytest.approx(2 / 3)
    assert result["profit_factor"] == pytest.approx(1999.9 / 1010)
    assert result["max_drawdown_pct"] == pytest.approx(1.0)
    assert result["sharpe"] == pytest.approx(math.sqrt(21))
    assert result["total_pnl"] == 989.9
    assert result["verdict"] == "PASS"


def test_trial_return_moments_match_the_hand_calculation() -> None:
    _, moments = metrics(PASSING)
    assert moments.sharpe == pytest.approx(1 / math.sqrt(12))
    assert moments.skew == pytest.approx(-1 / math.sqrt(2))
    assert moments.kurtosis == pytest.approx(1.5)
    assert moments.n_returns == 3


@pytest.mark.parametrize(
    ("criterion", "threshold"),
    [
        ("min_win_rate", 0.67),  # 2/3 = 0.6667 < 0.67
        ("min_profit_factor", 1.99),  # 1.9801 < 1.99
        ("max_drawdown_pct", 0.99),  # 1.0 % > 0.99 %
        ("min_years", 0.0055),  # 0.005476 < 0.0055
        ("min_trades", 4),  # 3 < 4
    ],
)
def test_one_criterion_past_its_threshold_fails_the_trial(criterion: str, threshold: float) -> None:
    """From the all-passing thresholds, moving any one just past its value gives FAIL."""
    result, _ = metrics({**PASSING, criterion: threshold})
    assert result["verdict"] == "FAIL"


def test_the_default_acceptance_fails_three_trades() -> None:
    """Defaults ask for 200 trades over 5 years: 3 trades over 2 days fail."""
    result, _ = trial_metrics(PNL, SESSIONS, EQUITY, config_from_dict({}))
    assert result["verdict"] == "FAIL"
