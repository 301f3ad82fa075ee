"""Deflated Sharpe ratio (Bailey & Lopez de Prado 2014) against hand-worked numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vwapcli.sweep.deflated_sharpe import (
    EULER_GAMMA,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    return_moments,
)

# Normal quantiles from a table: Z^-1(0.9) and Z^-1(1 - 1/(10 e)) = Z^-1(0.963212).
Z_090 = 1.2815515655
Z_0963 = 1.7892417646


def test_expected_max_sharpe_of_ten_trials_matches_the_hand_calculation() -> None:
    """N = 10, V = 0.0004 (trial Sharpes spread 0.02 per day):

    (1 - 0.5772157) x 1.2815516 = 0.5418201
    0.5772157 x 1.7892418        = 1.0327783
    sum 1.5745984 x sqrt(0.0004) = 1.5745984 x 0.02 = 0.0314920
    """
    assert expected_max_sharpe(10, 0.0004) == pytest.approx(0.0314920, abs=1e-7)
    by_hand = math.sqrt(0.0004) * ((1 - EULER_GAMMA) * Z_090 + EULER_GAMMA * Z_0963)
    assert expected_max_sharpe(10, 0.0004) == pytest.approx(by_hand, rel=1e-9)


def test_deflated_sharpe_of_a_normal_best_trial_matches_the_hand_calculation() -> None:
    """SR = 0.08 per day over T = 1001 returns, skew 0, kurtosis 3, N = 10, V = 0.0004:

    SR0 = 0.0314920 (above)
    numerator   (0.08 - 0.0314920) x sqrt(1000) = 0.0485080 x 31.6227766 = 1.5339589
    denominator sqrt(1 - 0 + (3 - 1)/4 x 0.08^2) = sqrt(1.0032)       = 1.0015987
    z = 1.5315106, Phi(z) = 0.93718
    """
    dsr = deflated_sharpe_ratio(0.08, 10, 0.0004, 1001, skew=0.0, kurtosis=3.0)
    assert dsr == pytest.approx(0.93718, abs=5e-5)


def test_negative_skew_and_fat_tails_deflate_the_best_sharpe_further() -> None:
    """Same trial with skew -1, kurtosis 6: denominator sqrt(1 + 0.08 + 5/4 x 0.0064)
    = sqrt(1.088) = 1.0430724, z = 1.5339589 / 1.0430724 = 1.4706155, Phi(z) = 0.92930."""
    dsr = deflated_sharpe_ratio(0.08, 10, 0.0004, 1001, skew=-1.0, kurtosis=6.0)
    assert dsr == pytest.approx(0.92930, abs=5e-5)
    assert dsr < deflated_sharpe_ratio(0.08, 10, 0.0004, 1001)


def test_more_trials_raise_the_bar_the_best_sharpe_must_clear() -> None:
    values = [deflated_sharpe_ratio(0.08, n, 0.0004, 1001) for n in (2, 10, 100, 1000)]
    assert values == sorted(values, reverse=True)
    assert expected_max_sharpe(1000, 0.0004) > expected_max_sharpe(100, 0.0004)


def test_a_single_trial_is_not_deflated_so_the_benchmark_is_zero() -> None:
    """N = 1: no selection; DSR = PSR against 0: Phi(0.08 x sqrt(1000) / sqrt(1.0032)) = Phi(2.5258)."""
    assert expected_max_sharpe(1, 0.0004) == 0.0
    assert deflated_sharpe_ratio(0.08, 1, 0.0004, 1001) == pytest.approx(0.99423, abs=5e-5)


def test_undefined_sharpe_gives_undefined_dsr() -> None:
    assert math.isnan(deflated_sharpe_ratio(math.nan, 10, 0.0004, 1001))
    assert math.isnan(deflated_sharpe_ratio(0.1, 10, 0.0004, 1))


def test_return_moments_of_a_four_day_series_by_hand() -> None:
    """r = [0.01, -0.01, 0.02, 0.00]: mean 0.005; deviations +-0.005, +-0.015.

    sample std = sqrt(0.0005 / 3) = 0.0129099 -> Sharpe 0.005 / 0.0129099 = 0.3872983
    m2 = 0.0005 / 4 = 1.25e-4; m3 = 0 (symmetric) -> skew 0
    m4 = (2 x 0.005^4 + 2 x 0.015^4) / 4 = 2.5625e-8 -> kurtosis 2.5625e-8 / 1.5625e-8 = 1.64
    """
    moments = return_moments(np.array([0.01, -0.01, 0.02, 0.0]))
    assert moments.sharpe == pytest.approx(0.3872983, abs=1e-7)
    assert moments.skew == pytest.approx(0.0, abs=1e-12)
    assert moments.kurtosis == pytest.approx(1.64, abs=1e-9)
    assert moments.n_returns == 4


def test_flat_returns_have_no_sharpe() -> None:
    moments = return_moments(np.zeros(10))
    assert math.isnan(moments.sharpe) and moments.kurtosis == 3.0
