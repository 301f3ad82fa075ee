"""Bootstrap intervals and the acceptance verdict (issue 4): seeded, vectorised, honest."""

from __future__ import annotations

import math

import numpy as np
import pytest

from builders.report import passing_summary
from vwapcli.config import AcceptanceConfig
from vwapcli.report.acceptance import Criterion, evaluate
from vwapcli.report.bootstrap import (
    NO_INTERVAL,
    BootstrapIntervals,
    Interval,
    bootstrap_intervals,
    drawdown_resamples,
    max_drawdown_pct_of_paths,
    percentile_interval,
    seed_streams,
    stationary_bootstrap_indices,
    trade_resamples,
)
from vwapcli.report.metrics import max_drawdown

_summary = passing_summary


def _intervals(win: Interval = NO_INTERVAL, pf: Interval = NO_INTERVAL,
               dd: Interval = NO_INTERVAL) -> BootstrapIntervals:
    return BootstrapIntervals(win, pf, dd)


def test_same_seed_gives_identical_intervals_and_another_seed_does_not() -> None:
    rng = np.random.default_rng(5)
    pnl = rng.normal(20.0, 100.0, 400)
    returns = rng.normal(0.0005, 0.01, 300)
    first = bootstrap_intervals(pnl, returns, 500, seed=11, block_length_days=10)
    again = bootstrap_intervals(pnl, returns, 500, seed=11, block_length_days=10)
    other = bootstrap_intervals(pnl, returns, 500, seed=12, block_length_days=10)
    assert first == again
    assert first != other


def _fresh_intervals(pnl: np.ndarray, returns: np.ndarray, samples: int, seed: int, block: float) -> BootstrapIntervals:
    """Independent composition: the unmemoised resamplers on fresh generators of the seed's streams."""
    trade_seed, day_seed = seed_streams(seed)
    win_rates, factors = trade_resamples(pnl, samples, np.random.default_rng(trade_seed))
    drawdowns = drawdown_resamples(returns, samples, block, np.random.default_rng(day_seed))
    return BootstrapIntervals(percentile_interval(win_rates), percentile_interval(factors),
                              percentile_interval(drawdowns))


def test_kept_intervals_and_day_paths_equal_a_fresh_computation_every_time() -> None:
    """Issue 17: the report asks for the same intervals many times (kept by a digest of the
    inputs) and walks the same day paths (kept per day count, block and seed); each
    answer must still be the one computed afresh, including after the inputs change."""
    rng = np.random.default_rng(8)
    pnl = rng.normal(20.0, 100.0, 300)
    returns = rng.normal(0.0005, 0.01, 600)  # 600 days: several chunks of paths
    changed = returns.copy()
    changed[17] -= 0.05
    for days in (returns, changed, returns, changed):
        assert bootstrap_intervals(pnl, days, 700, seed=3, block_length_days=12) == _fresh_intervals(
            pnl, days, 700, 3, 12.0)
    assert bootstrap_intervals(pnl, returns, 700, 3, 12) != bootstrap_intervals(pnl, changed, 700, 3, 12)


def test_trade_bootstrap_spanning_several_chunks_fills_every_resample() -> None:
    """400 resamples of 5,000 trades run in chunks of 50 rows (250,000 elements): every row
    is filled, and the resampled win rates centre on the sample's own win rate (their mean
    is within 4 standard errors, sqrt(w(1-w)/5000/400) ~ 0.0004, of it). The time this
    takes at 2,000 x 5,000 is measured by bench/run_benchmarks.py, not asserted here."""
    pnl = np.random.default_rng(1).normal(10.0, 100.0, 5000)
    win_rates, factors = trade_resamples(pnl, 400, np.random.default_rng(2))
    assert win_rates.shape == factors.shape == (400,)
    assert np.isfinite(win_rates).all() and np.isfinite(factors).all()
    sample_win_rate = float((pnl > 0).mean())
    standard_error = math.sqrt(sample_win_rate * (1 - sample_win_rate) / 5000 / 400)
    assert abs(win_rates.mean() - sample_win_rate) < 4 * standard_error


def test_resampling_identical_trades_gives_a_degenerate_interval() -> None:
    """Every trade +10: every resample has win rate 1 and PF inf (no losses)."""
    win_rates, factors = trade_resamples(np.full(50, 10.0), 200, np.random.default_rng(0))
    assert set(win_rates) == {1.0}
    assert set(factors) == {math.inf}


def test_stationary_bootstrap_paths_are_wrapped_blocks_of_mean_length() -> None:
    """Within a block the index advances by one (mod n); blocks start with p = 1/L."""
    n, length = 250, 20.0
    paths = stationary_bootstrap_indices(n, 400, length, np.random.default_rng(3))
    assert paths.shape == (400, n)
    assert paths.min() >= 0 and paths.max() < n
    continues = (paths[:, 1:] - paths[:, :-1]) % n == 1
    # A new block can by chance continue the previous one (prob 1/n), so the observed
    # break rate is about (1 - 1/n) / L; 100k transitions pin it within a few percent.
    break_rate = 1.0 - continues.mean()
    assert break_rate == pytest.approx((1 - 1 / n) / length, rel=0.05)


def test_path_drawdown_matches_the_metric_on_a_hand_path() -> None:
    """Returns +10 %, -20 %, +36.36 %: equity 1.0 -> 1.1 -> 0.88 -> 1.2, DD = 20 %."""
    returns = np.array([[0.10, -0.20, 1.2 / 0.88 - 1.0]])
    assert max_drawdown_pct_of_paths(returns)[0] == pytest.approx(20.0)
    assert max_drawdown(1.0, np.array([1.1, 0.88, 1.2])).pct == pytest.approx(20.0)


def test_a_pass_whose_interval_crosses_the_threshold_is_not_proven() -> None:
    """Win rate 0.50 >= 0.45 passes, but its interval [0.40, 0.60] dips below 0.45."""
    verdict = evaluate(
        _summary(win_rate=0.50),
        _intervals(win=Interval(0.40, 0.60), pf=Interval(1.40, 1.60), dd=Interval(5.0, 15.0)),
        AcceptanceConfig(),
    )
    statuses = {c.key: c.status for c in verdict.criteria}
    assert statuses["win_rate"] == "NOT PROVEN"
    assert statuses["profit_factor"] == "PASS"
    # Three states (issue 11 item 7): no criterion fails, one is not proven -> NOT PROVEN;
    # --check lets it through, --check --strict does not.
    assert verdict.passed and not verdict.proven and verdict.label == "NOT PROVEN"
    assert verdict.not_proven == ["Win rate"]
    assert not verdict.gate_fails(strict=False) and verdict.gate_fails(strict=True)


def test_drawdown_is_not_proven_when_the_upper_end_exceeds_the_maximum() -> None:
    verdict = evaluate(
        _summary(max_drawdown_pct=12.0),
        _intervals(dd=Interval(8.0, 24.0)),
        AcceptanceConfig(),
    )
    drawdown = next(c for c in verdict.criteria if c.key == "max_drawdown_pct")
    assert drawdown.status == "NOT PROVEN"


def test_any_failed_criterion_fails_the_verdict_and_years_and_trades_have_no_interval() -> None:
    verdict = evaluate(_summary(trades=150), _intervals(), AcceptanceConfig())
    by_key = {c.key: c for c in verdict.criteria}
    assert by_key["trades"].status == "FAIL"
    assert by_key["years_covered"].interval == NO_INTERVAL
    assert verdict.label == "FAIL" and verdict.failed == ["Trades"]


def test_a_failing_criterion_is_fail_even_when_its_interval_straddles() -> None:
    criterion = Criterion("win_rate", "Win rate", 0.40, 0.45, ">=", Interval(0.35, 0.50))
    assert criterion.status == "FAIL"
