"""Bootstrap 95 % intervals for the acceptance criteria (SPEC 11).

Why two schemes:

* **Win rate and profit factor** are statistics of individual trades, which are close to
  independent (one trade per strategy-symbol-session), so trades are resampled with
  replacement, ``n`` out of ``n`` (the ordinary i.i.d. bootstrap).
* **Max drawdown** depends on the *order* of returns: losing days cluster. Resampling
  single days would break the clusters and understate drawdowns, so daily returns are
  resampled with the stationary block bootstrap of Politis & Romano (1994): each path
  is built from blocks that start at a uniformly random day and whose lengths are
  geometric with mean ``block_length_days`` (wrapping around the end of the series).
* **Portfolio comparisons** (``report --compare``) resample the same stationary-block
  day paths for both runs (paired), so the change in drawdown or Sharpe is judged
  on days as they happened to both books.

Reproducibility: one ``numpy.random.SeedSequence(seed)`` is split into two child
streams (trades, days), so each interval depends only on the seed and its own input.
Intervals are percentile intervals (2.5 % and 97.5 % quantiles, ``inverted_cdf``, i.e.
actual resampled values, which also handles an infinite profit factor without NaNs).

Everything is vectorised in row chunks of resamples so 2000 x 5000 trades stays well
under a second and memory stays bounded (~2 MB per chunk, which is also faster than one big matrix).

A report asks for the same intervals many times (issue 17): "all" and a run's only
strategy are the same trades, and the model-risk verdicts judge five vol scales on the
same sessions. So :func:`bootstrap_intervals` keeps its results by a digest of its inputs,
and the day paths (which depend only on the day count, the block length and the seed) are
drawn once per process; every number is the one a fresh computation gives.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass

import numpy as np

from vwapcli.report.metrics import TRADING_DAYS_PER_YEAR

INTERVAL_QUANTILES = (0.025, 0.975)
# Elements per chunk (resamples x observations): bounds memory of the gathered matrix.
_CHUNK_ELEMENTS = 250_000


@dataclass(frozen=True)
class Interval:
    """A bootstrap percentile interval; NaN ends when there was nothing to resample."""

    low: float
    high: float

    @property
    def available(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))


NO_INTERVAL = Interval(math.nan, math.nan)


def percentile_interval(samples: np.ndarray) -> Interval:
    """2.5 % / 97.5 % quantiles of resampled statistics (values that actually occurred)."""
    samples = np.asarray(samples, dtype=float)
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return NO_INTERVAL
    low, high = np.quantile(samples, INTERVAL_QUANTILES, method="inverted_cdf")
    return Interval(float(low), float(high))


def _chunks(samples: int, width: int) -> list[tuple[int, int]]:
    rows = max(1, _CHUNK_ELEMENTS // max(width, 1))
    return [(start, min(start + rows, samples)) for start in range(0, samples, rows)]


def trade_resamples(
    pnl: np.ndarray, samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Win rate and profit factor of ``samples`` i.i.d. resamples of trade P&Ls.

    Profit factor follows :func:`vwapcli.report.metrics.profit_factor`: ``inf`` with
    no losing trade in the resample, 0.0 with no winning one.
    """
    pnl = np.asarray(pnl, dtype=float)
    n = pnl.size
    win_rates = np.full(samples, np.nan)
    factors = np.full(samples, np.nan)
    if n == 0:
        return win_rates, factors
    for start, stop in _chunks(samples, n):
        drawn = pnl[rng.integers(0, n, size=(stop - start, n))]
        win_rates[start:stop] = (drawn > 0).mean(axis=1)
        gains = np.maximum(drawn, 0.0).sum(axis=1)
        losses = -np.minimum(drawn, 0.0).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = gains / losses
        factors[start:stop] = np.where(gains <= 0.0, 0.0, np.where(losses == 0.0, np.inf, ratio))
    return win_rates, factors


def stationary_bootstrap_indices(
    n: int, samples: int, mean_block: float, rng: np.random.Generator
) -> np.ndarray:
    """Index paths of the Politis-Romano stationary bootstrap, shape ``(samples, n)``.

    Each position starts a new block with probability ``1/mean_block`` (always at
    position 0); a new block starts at a uniformly random index, and within a block
    the index advances by one, wrapping circularly.
    """
    p_new_block = 1.0 / max(float(mean_block), 1.0)
    starts_new = rng.random((samples, n)) < p_new_block
    starts_new[:, 0] = True
    block_origin = rng.integers(0, n, size=(samples, n))
    position = np.arange(n)
    # Position at which the current block began: running max of block-start positions.
    began_at = np.maximum.accumulate(np.where(starts_new, position, 0), axis=1)
    origin = np.take_along_axis(block_origin, began_at, axis=1)
    return (origin + (position - began_at)) % n


def max_drawdown_pct_of_paths(returns: np.ndarray) -> np.ndarray:
    """Max drawdown (positive %) of each row of daily returns, starting from 1.0.

    ``max(1 - growth/peak)`` per row, computed in place as ``1 - min(growth/peak)``: the
    same bits (``1 - q`` is monotone in q and correctly rounded, NaN propagates through
    both), two fewer path-sized temporaries; the report draws thousands of paths per verdict.
    """
    growth = returns + 1.0  # a new array: the caller's paths are left alone
    np.cumprod(growth, axis=1, out=growth)
    # The starting equity (1.0) is the first peak, as in metrics.max_drawdown.
    peak = np.maximum.accumulate(growth, axis=1)
    np.maximum(peak, 1.0, out=peak)
    np.divide(growth, peak, out=growth)
    return np.maximum(1.0 - growth.min(axis=1), 0.0) * 100.0


def drawdown_resamples(
    returns: np.ndarray, samples: int, mean_block: float, rng: np.random.Generator
) -> np.ndarray:
    """Max drawdown % of ``samples`` stationary-bootstrap paths of daily returns."""
    returns = np.asarray(returns, dtype=float)
    n = returns.size
    result = np.full(samples, np.nan)
    if n == 0:
        return result
    for start, stop in _chunks(samples, n):
        paths = stationary_bootstrap_indices(n, stop - start, mean_block, rng)
        result[start:stop] = max_drawdown_pct_of_paths(returns[paths])
    return result


def seed_streams(seed: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """The (trades, days) child streams of ``seed``: every day-level bootstrap uses the second.

    Sharing the day stream means the paired comparison bootstrap walks exactly the day
    paths each run's own report walked, so their drawdown intervals agree.
    """
    # SeedSequence needs a non-negative entropy; the modulo keeps negative seeds distinct.
    trade_seed, day_seed = np.random.SeedSequence(seed % (1 << 128)).spawn(2)
    return trade_seed, day_seed


def sharpe_of_paths(returns: np.ndarray) -> np.ndarray:
    """Annualised Sharpe of each row of daily returns, as ``metrics.sharpe_ratio`` (NaN if flat)."""
    returns = np.asarray(returns, dtype=float)
    result = np.full(returns.shape[0], np.nan)
    if returns.shape[1] < 2:
        return result
    std = returns.std(axis=1, ddof=1)
    flat = std == 0.0
    result[~flat] = returns[~flat].mean(axis=1) / std[~flat] * math.sqrt(TRADING_DAYS_PER_YEAR)
    return result


@dataclass(frozen=True)
class PairedResamples:
    """Max drawdown % and Sharpe of two runs on the same resampled day paths (row k = path k)."""

    base_drawdown_pct: np.ndarray
    run_drawdown_pct: np.ndarray
    base_sharpe: np.ndarray
    run_sharpe: np.ndarray


def paired_day_resamples(
    base_returns: np.ndarray,
    run_returns: np.ndarray,
    samples: int,
    mean_block: float,
    rng: np.random.Generator,
) -> PairedResamples:
    """Stationary-bootstrap day paths applied to BOTH runs' daily returns (paired).

    Why paired: the two runs share most of their days' P&L (same data, same other
    strategies), so resampling them independently would drown the difference in the
    noise they have in common. Drawing each path's day indices once and reading both
    runs through them keeps each resampled day's pair together, as it happened.
    The generator is consumed exactly as :func:`drawdown_resamples` consumes it.
    """
    base_returns = np.asarray(base_returns, dtype=float)
    run_returns = np.asarray(run_returns, dtype=float)
    if base_returns.shape != run_returns.shape:
        raise ValueError(
            f"paired resampling needs equal-length returns ({base_returns.size} vs {run_returns.size})"
        )
    n = base_returns.size
    results = [np.full(samples, np.nan) for _ in range(4)]
    if n == 0:
        return PairedResamples(*results)
    # Same chunking as drawdown_resamples: identical draws, hence identical paths.
    for start, stop in _chunks(samples, n):
        paths = stationary_bootstrap_indices(n, stop - start, mean_block, rng)
        base_paths, run_paths = base_returns[paths], run_returns[paths]
        results[0][start:stop] = max_drawdown_pct_of_paths(base_paths)
        results[1][start:stop] = max_drawdown_pct_of_paths(run_paths)
        results[2][start:stop] = sharpe_of_paths(base_paths)
        results[3][start:stop] = sharpe_of_paths(run_paths)
    return PairedResamples(*results)


@dataclass(frozen=True)
class BootstrapIntervals:
    """95 % intervals of the bootstrapped acceptance criteria."""

    win_rate: Interval
    profit_factor: Interval
    max_drawdown_pct: Interval


#: Results kept by :func:`bootstrap_intervals` (small objects; oldest dropped first).
_KEPT_INTERVALS = 64
_intervals_by_input: dict[str, BootstrapIntervals] = {}


def bootstrap_intervals(
    pnl: np.ndarray,
    returns: np.ndarray,
    samples: int,
    seed: int,
    block_length_days: float,
) -> BootstrapIntervals:
    """Seeded 95 % intervals: trades i.i.d. for win rate/PF, stationary blocks for max DD.

    Pure in its inputs, so a repeat (same P&Ls, returns, samples, seed and block length)
    returns the result already computed.
    """
    pnl = np.ascontiguousarray(pnl, dtype=float)
    returns = np.ascontiguousarray(returns, dtype=float)
    digest = hashlib.sha256(f"{pnl.size};{returns.size};{samples};{seed};{float(block_length_days)!r};".encode())
    digest.update(pnl.tobytes())
    digest.update(returns.tobytes())
    key = digest.hexdigest()
    if key not in _intervals_by_input:
        if len(_intervals_by_input) >= _KEPT_INTERVALS:
            del _intervals_by_input[next(iter(_intervals_by_input))]
        _intervals_by_input[key] = _bootstrap_intervals(pnl, returns, samples, seed, block_length_days)
    return _intervals_by_input[key]


def _bootstrap_intervals(
    pnl: np.ndarray, returns: np.ndarray, samples: int, seed: int, block_length_days: float
) -> BootstrapIntervals:
    trade_seed, _ = seed_streams(seed)
    win_rates, factors = trade_resamples(pnl, samples, np.random.default_rng(trade_seed))
    drawdowns = np.full(samples, np.nan)
    if returns.size:
        paths = _day_paths(returns.size, samples, float(block_length_days), seed)
        for (start, stop), chunk in zip(_chunks(samples, returns.size), paths, strict=True):
            drawdowns[start:stop] = max_drawdown_pct_of_paths(returns[chunk])
    return BootstrapIntervals(
        win_rate=percentile_interval(win_rates),
        profit_factor=percentile_interval(factors),
        max_drawdown_pct=percentile_interval(drawdowns),
    )


@functools.lru_cache(maxsize=1)
def _day_paths(n: int, samples: int, mean_block: float, seed: int) -> tuple[np.ndarray, ...]:
    """The day paths :func:`drawdown_resamples` walks for ``seed``'s day stream, by chunk
    (one set kept: about 40 MB for 2,000 paths of ten years)."""
    rng = np.random.default_rng(seed_streams(seed)[1])
    return tuple(
        stationary_bootstrap_indices(n, stop - start, mean_block, rng) for start, stop in _chunks(samples, n)
    )
