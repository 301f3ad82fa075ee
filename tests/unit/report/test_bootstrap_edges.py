"""Bootstrap internals worked by hand (SPEC 11): resampling with a scripted random source,
the stationary-bootstrap path rule, chunking, degenerate inputs, seeds.

``ScriptedRng`` stands in for ``numpy.random.Generator``: ``random(shape)`` returns the
next scripted array and ``integers(low, high, size)`` returns ``low +`` the next scripted
array, so every resample is known in advance and each expected value is worked out below.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest

from vwapcli.report.bootstrap import (
    NO_INTERVAL,
    BootstrapIntervals,
    Interval,
    PairedResamples,
    _chunks,
    drawdown_resamples,
    max_drawdown_pct_of_paths,
    paired_day_resamples,
    percentile_interval,
    seed_streams,
    sharpe_of_paths,
    stationary_bootstrap_indices,
    trade_resamples,
)


class ScriptedRng:
    def __init__(self, uniforms: list[np.ndarray] | None = None, offsets: list[np.ndarray] | None = None) -> None:
        self.uniforms = list(uniforms or [])
        self.offsets = list(offsets or [])

    def random(self, shape: tuple[int, int]) -> np.ndarray:
        values = np.asarray(self.uniforms.pop(0), dtype=float)
        assert values.shape == shape
        return values

    def integers(self, low: int, high: int, size: tuple[int, int]) -> np.ndarray:
        values = low + np.asarray(self.offsets.pop(0), dtype=np.int64)
        assert values.shape == size and values.max() < high
        return values


# ------------------------------------------------------------------ trade resamples
def test_trade_resamples_of_scripted_draws_match_hand_arithmetic() -> None:
    """P&Ls [+2.0, -0.5, 0.0]; draws (rows of indices) [0, 1, 2], [0, 0, 0], [1, 2, 1], [2, 2, 2]:

    * [+2, -0.5, 0]: 1 win of 3 -> 1/3; PF 2 / 0.5 = 4
    * [+2, +2, +2]: 3/3; no loss -> PF inf
    * [-0.5, 0, -0.5]: 0 wins (0 is not a win); no gain -> PF 0
    * [0, 0, 0]: 0 wins; no gain -> PF 0
    """
    draws = np.array([[0, 1, 2], [0, 0, 0], [1, 2, 1], [2, 2, 2]])
    win_rates, factors = trade_resamples(np.array([2.0, -0.5, 0.0]), 4, ScriptedRng(offsets=[draws]))  # type: ignore[arg-type]
    assert win_rates.tolist() == pytest.approx([1 / 3, 1.0, 0.0, 0.0])
    assert factors.tolist() == [4.0, math.inf, 0.0, 0.0]


def test_a_single_small_winning_trade_resamples_to_itself() -> None:
    """One trade of +0.50: every resample is that trade -> win rate 1, PF inf (a gross
    profit under $1 is still a profit)."""
    win_rates, factors = trade_resamples(np.array([0.5]), 3, np.random.default_rng(0))
    assert win_rates.tolist() == [1.0, 1.0, 1.0]
    assert factors.tolist() == [math.inf] * 3


def test_no_trades_give_no_resamples() -> None:
    win_rates, factors = trade_resamples(np.array([]), 5, np.random.default_rng(0))
    assert np.isnan(win_rates).all() and np.isnan(factors).all() and win_rates.shape == (5,)


def test_each_trade_is_drawn_with_probability_one_over_n() -> None:
    """P&Ls [+1, -1]: each resample of 2 has 0, 1 or 2 winners with probabilities 1/4, 1/2,
    1/4, so win rates average 0.5; over 4,000 resamples the standard error is
    sqrt(0.125 / 4000) = 0.0056, and the mean must be within 4 of them of 0.5."""
    win_rates, _ = trade_resamples(np.array([1.0, -1.0]), 4000, np.random.default_rng(3))
    assert set(win_rates.tolist()) <= {0.0, 0.5, 1.0}
    assert abs(win_rates.mean() - 0.5) < 4 * math.sqrt(0.125 / 4000)


# ------------------------------------------------------------------ stationary bootstrap
def test_stationary_paths_of_scripted_draws_follow_the_block_rule() -> None:
    """6 days, mean block 4 -> a new block where the uniform is below 1/4 (and always at 0).

    uniforms [0.9, 0.9, 0.25, 0.1, 0.9, 0.0]: new blocks at positions 0, 3 and 5 (0.25 is
    not below 0.25). Origins drawn per position [4, 0, 3, 5, 0, 2]; only block starts use
    theirs. Path: 4, 5, 6 -> 0 (wraps mod 6) | 5, 6 -> 0 | 2 = [4, 5, 0, 5, 0, 2].
    """
    rng = ScriptedRng(uniforms=[np.array([[0.9, 0.9, 0.25, 0.1, 0.9, 0.0]])],
                      offsets=[np.array([[4, 0, 3, 5, 0, 2]])])
    paths = stationary_bootstrap_indices(6, 1, 4.0, rng)  # type: ignore[arg-type]
    assert paths.tolist() == [[4, 5, 0, 5, 0, 2]]


@pytest.mark.parametrize("mean_block", [0.0, 0.5])
def test_a_mean_block_below_one_day_means_one_day_blocks(mean_block: float) -> None:
    """Blocks cannot be shorter than a day: mean 0 or 0.5 draws exactly what mean 1 does
    (same seed), where every position starts a new block."""
    expected = stationary_bootstrap_indices(20, 5, 1.0, np.random.default_rng(4))
    got = stationary_bootstrap_indices(20, 5, mean_block, np.random.default_rng(4))
    np.testing.assert_array_equal(got, expected)


def test_one_day_blocks_draw_every_day_equally_often() -> None:
    """Mean block 1: every index is a fresh uniform draw from 0..n-1. n = 4, 5,000 paths:
    20,000 indices, each day expected 5,000 times (sd sqrt(20000 x 3/16) = 61); each count
    must be within 5 sd of 5,000; and consecutive indices continue a block (differ by 1
    mod n) only by chance, 1/4 of the time."""
    paths = stationary_bootstrap_indices(4, 5000, 1.0, np.random.default_rng(8))
    counts = np.bincount(paths.ravel(), minlength=4)
    assert (np.abs(counts - 5000) < 5 * 61).all()
    continues = ((paths[:, 1:] - paths[:, :-1]) % 4 == 1).mean()
    assert abs(continues - 0.25) < 0.02


# ------------------------------------------------------------------ drawdown paths
def test_a_first_day_loss_is_a_drawdown_from_the_starting_equity() -> None:
    """Returns -10 %, +5 %: equity 0.9, 0.945, both below the start 1.0 -> DD 10 %."""
    assert max_drawdown_pct_of_paths(np.array([[-0.10, 0.05]])).tolist() == pytest.approx([10.0])


def test_a_single_day_of_returns_resamples_to_itself() -> None:
    """One day at -5 %: every resampled path is that day -> DD 5 % every time."""
    result = drawdown_resamples(np.array([-0.05]), 3, 10.0, np.random.default_rng(0))
    assert result.tolist() == pytest.approx([5.0, 5.0, 5.0])
    assert np.isnan(drawdown_resamples(np.array([]), 3, 10.0, np.random.default_rng(0))).all()


def test_resamples_spanning_several_chunks_are_all_filled() -> None:
    """130,000 days: 250,000 // 130,000 = 1 resample per chunk, so 3 resamples take three
    chunks; every one gets a finite drawdown (both for one run and for a pair)."""
    returns = np.full(130_000, 0.0001)
    returns[::7] = -0.0005
    single = drawdown_resamples(returns, 3, 20.0, np.random.default_rng(1))
    assert np.isfinite(single).all() and single.shape == (3,)
    paired = paired_day_resamples(returns, 2 * returns, 3, 20.0, np.random.default_rng(1))
    np.testing.assert_array_equal(paired.base_drawdown_pct, single)  # same draws, same paths
    assert np.isfinite(paired.run_drawdown_pct).all()


def test_paired_resamples_of_one_day_and_of_none() -> None:
    """One day: base -5 % -> DD 5; run +1 % -> DD 0; Sharpe undefined (one day). None: NaN."""
    one = paired_day_resamples(np.array([-0.05]), np.array([0.01]), 2, 10.0, np.random.default_rng(0))
    assert one.base_drawdown_pct.tolist() == pytest.approx([5.0, 5.0])
    assert one.run_drawdown_pct.tolist() == [0.0, 0.0]
    assert np.isnan(one.base_sharpe).all()
    none = paired_day_resamples(np.array([]), np.array([]), 2, 10.0, np.random.default_rng(0))
    assert all(np.isnan(values).all() for values in dataclasses.astuple(none))


# ------------------------------------------------------------------ sharpe of paths
def test_sharpe_of_a_two_day_path_and_of_a_flat_one() -> None:
    """[+1 %, +3 %]: mean 2 %, sample std sqrt(2) % -> sqrt(2) x sqrt(252) = sqrt(504).
    [1 %, 1 %, 1 %]: no dispersion -> NaN. One day: NaN."""
    assert sharpe_of_paths(np.array([[0.01, 0.03]])).tolist() == pytest.approx([math.sqrt(504)])
    assert np.isnan(sharpe_of_paths(np.array([[0.01, 0.01, 0.01]]))).all()
    assert np.isnan(sharpe_of_paths(np.array([[0.01], [0.02]]))).all()


def test_sharpe_of_one_day_paths_is_nan_without_a_numpy_warning() -> None:
    """Paths of one day have no sample std: NaN is returned before numpy is asked for
    ``std(ddof=1)`` of one value (a RuntimeWarning on the user's terminal)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(sharpe_of_paths(np.array([[0.01], [0.02]]))).all()


# ------------------------------------------------------------------ intervals and chunks
def test_one_resampled_value_is_its_own_interval_and_nans_are_no_interval() -> None:
    assert percentile_interval(np.array([3.0])) == Interval(3.0, 3.0)
    assert percentile_interval(np.array([math.nan, math.nan])) == NO_INTERVAL
    assert percentile_interval(np.array([])) == NO_INTERVAL


def test_an_interval_with_one_undefined_end_is_not_available() -> None:
    assert not Interval(0.1, math.nan).available
    assert not Interval(math.nan, 0.1).available
    assert Interval(0.1, 0.2).available


@pytest.mark.parametrize("width", [1, 7, 1_000, 125_000, 250_000, 250_001, 400_000])
def test_chunks_hold_at_most_250000_elements_and_at_least_one_resample(width: int) -> None:
    """Rows per chunk = the most that fit in 250,000 elements (at least one): width 1 ->
    250,000 rows, 125,000 -> 2, 250,000 -> 1, wider -> 1. The chunks tile 0..samples."""
    samples = 600_000 if width == 1 else 5
    chunks = _chunks(samples, width)
    rows = max(1, 250_000 // width)
    assert chunks[0] == (0, min(rows, samples))
    assert all(stop - start <= rows for start, stop in chunks)
    assert [start for start, _ in chunks] == list(range(0, samples, rows))
    assert chunks[-1][1] == samples


def test_a_zero_width_is_treated_as_one() -> None:
    assert _chunks(3, 0) == [(0, 3)]


# ------------------------------------------------------------------ seeds and records
def test_negative_seeds_are_taken_modulo_two_to_the_128() -> None:
    """Seed -1 and seed 2^128 - 1 are the same entropy (-1 mod 2^128); 2^127 - 1 is not."""
    def first_draws(seed: int) -> list[float]:
        trades, days = seed_streams(seed)
        return [np.random.default_rng(trades).random(), np.random.default_rng(days).random()]

    assert first_draws(-1) == first_draws(2**128 - 1)
    assert first_draws(-1) != first_draws(2**127 - 1)


def test_bootstrap_records_cannot_be_changed() -> None:
    records = [(Interval(0.1, 0.2), "low"),
               (BootstrapIntervals(NO_INTERVAL, NO_INTERVAL, NO_INTERVAL), "win_rate"),
               (PairedResamples(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1)), "run_sharpe")]
    for record, field in records:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, None)


def test_path_drawdowns_equal_the_plain_formula_bit_for_bit() -> None:
    """Reference: cumulative growth, peak (at least the starting 1.0), max of 1 - growth/peak,
    written out plainly; paths with crashes, NaN and inf rows included."""
    rng = np.random.default_rng(17)
    paths = rng.normal(0.0003, 0.02, (300, 400))
    paths[5, 10] = -1.0  # wiped out
    paths[6, 20] = np.nan
    paths[7, 30] = np.inf
    paths[8, :] = 0.0
    growth = np.cumprod(1.0 + paths, axis=1)
    peak = np.maximum(np.maximum.accumulate(growth, axis=1), 1.0)
    with np.errstate(invalid="ignore"):
        expected = np.maximum((1.0 - growth / peak).max(axis=1), 0.0) * 100.0
        got = max_drawdown_pct_of_paths(paths)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[6]) and got[8] == 0.0 and got[5] == 100.0
