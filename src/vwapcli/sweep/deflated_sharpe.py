"""The deflated Sharpe ratio (Bailey & Lopez de Prado 2014): how much of the best Sharpe is luck.

A sweep that tries N configurations and keeps the best one reports an inflated Sharpe: the
maximum of N noisy estimates is high even when no configuration has an edge. The DSR is
the probability that the best configuration's true Sharpe exceeds the Sharpe one would
*expect* from the best of N skill-less trials, given the spread of the trials' Sharpes
and the non-normality (skew, fat tails) of the best one's returns.

All Sharpe ratios here are **per period** (daily, not annualised): the formula's standard
error ``sqrt((1 - skew*SR + (kurtosis-1)/4*SR^2) / (T-1))`` is written for the period the
returns are sampled at. Kurtosis is the plain (Pearson) kurtosis: 3 for a normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

# Euler-Mascheroni constant: the extreme-value approximation of E[max of N normals].
EULER_GAMMA = 0.5772156649015329
TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class ReturnMoments:
    """What the DSR needs to know of one trial's daily returns."""

    sharpe: float  # per-period mean / sample std (ddof=1); NaN when flat or too short
    skew: float  # third standardised moment (0 for a normal)
    kurtosis: float  # fourth standardised moment, Pearson (3 for a normal)
    n_returns: int


def return_moments(returns: np.ndarray) -> ReturnMoments:
    """Per-period Sharpe, skew and Pearson kurtosis of a return series.

    Skew and kurtosis are the population (biased) moments, as in the paper's estimator;
    a flat series has no defined moments and gets NaN Sharpe, skew 0 and kurtosis 3.
    """
    r = np.asarray(returns, dtype=float)
    n = int(r.size)
    if n < 2:
        return ReturnMoments(math.nan, 0.0, 3.0, n)
    centred = r - r.mean()
    std_sample = float(r.std(ddof=1))
    m2 = float(np.mean(centred**2))
    if std_sample == 0.0 or m2 == 0.0:
        return ReturnMoments(math.nan, 0.0, 3.0, n)
    skew = float(np.mean(centred**3)) / m2**1.5
    kurtosis = float(np.mean(centred**4)) / m2**2
    return ReturnMoments(float(r.mean()) / std_sample, skew, kurtosis, n)


def expected_max_sharpe(n_trials: int, sharpe_variance: float, mean_sharpe: float = 0.0) -> float:
    """E[max Sharpe] of ``n_trials`` skill-less trials whose Sharpes have this variance.

    ``mean + sqrt(V) * ((1-g) * Z^-1(1 - 1/N) + g * Z^-1(1 - 1/(N e)))`` with g the
    Euler-Mascheroni constant (Bailey & Lopez de Prado 2014, eq. 2). With one trial there
    is no selection, so the benchmark is the mean itself.
    """
    if n_trials <= 1 or not sharpe_variance > 0:
        return float(mean_sharpe)
    n = float(n_trials)
    quantiles = (1.0 - EULER_GAMMA) * norm.ppf(1.0 - 1.0 / n) + EULER_GAMMA * norm.ppf(
        1.0 - 1.0 / (n * math.e)
    )
    return float(mean_sharpe + math.sqrt(sharpe_variance) * quantiles)


def deflated_sharpe_ratio(
    sharpe: float,
    n_trials: int,
    sharpe_variance: float,
    n_returns: int,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """Probability that the best trial's true (per-period) Sharpe beats the luck benchmark.

    ``Phi((SR - SR0) * sqrt(T - 1) / sqrt(1 - skew*SR + (kurtosis - 1)/4 * SR^2))`` where
    ``SR0 = expected_max_sharpe(N, V)``. NaN when the Sharpe is undefined or T < 2.
    """
    if math.isnan(sharpe) or n_returns < 2:
        return math.nan
    benchmark = expected_max_sharpe(n_trials, sharpe_variance)
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if spread <= 0.0:
        return math.nan
    z = (sharpe - benchmark) * math.sqrt(n_returns - 1) / math.sqrt(spread)
    return float(norm.cdf(z))


def annualised(sharpe_per_day: float) -> float:
    """A daily Sharpe in the annual units the report uses (x sqrt(252))."""
    return sharpe_per_day * math.sqrt(TRADING_DAYS_PER_YEAR)
