"""The compiled one-pass row check accepts exactly the bars the SPEC 3.3 numpy rules accept.

The read path asks ``_rows_clean`` first and runs the numpy rules (which find and name the
offending row) only when it says no; so it must never say yes to a row a rule refuses, nor
no to clean bars. The expected verdict is computed here independently, rule by rule with
numpy, on arrays seeded with NaN, +/-inf, -0.0, negative and NaN volumes, high/low on the
wrong side of open/close, NaT rows and repeated or backward timestamps.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vwapcli.data.validation import _rows_clean

ODD = [np.nan, np.inf, -np.inf, -0.0, 0.0, -1.0]


def numpy_verdict(ts, is_nat, o, h, lo, c, v) -> bool:
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
        bad = is_nat | ~finite | (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | ~(v >= 0) | ~np.isfinite(v)
    increasing = bool(np.all(ts[1:] > ts[:-1]))
    return not bad.any() and increasing


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(0, 3))
def test_one_pass_verdict_equals_the_numpy_rules(seed, n, n_faults):
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(1, 3, n)).astype(np.int64) * 60_000_000_000
    o = rng.uniform(99.0, 101.0, n)
    c = rng.uniform(99.0, 101.0, n)
    h = np.maximum(o, c) + rng.choice([0.0, 0.5], n)
    lo = np.minimum(o, c) - rng.choice([0.0, 0.5], n)
    v = rng.choice([0.0, 10.0], n)
    is_nat = np.zeros(n, dtype=bool)
    columns = [o, h, lo, c, v]
    for _ in range(n_faults if n else 0):
        row = int(rng.integers(0, n))
        kind = int(rng.integers(0, 4))
        if kind == 0:
            columns[int(rng.integers(0, 5))][row] = ODD[int(rng.integers(0, len(ODD)))]
        elif kind == 1:
            ts[row] = ts[max(row - 1, 0)] - int(rng.integers(0, 2))  # repeat or step back
        elif kind == 2:
            is_nat[row] = True
        else:
            h[row], lo[row] = lo[row], h[row]  # high below, low above
    assert _rows_clean(ts, is_nat, o, h, lo, c, v) == numpy_verdict(ts, is_nat, o, h, lo, c, v)


def test_clean_bars_with_zero_volume_and_negative_zero_prices_are_clean():
    """-0.0 == 0.0 everywhere: high -0.0 >= max(0.0, -0.0); volume -0.0 >= 0."""
    ts = np.array([1, 2], dtype=np.int64)
    z = np.array([-0.0, 0.0])
    assert _rows_clean(ts, np.zeros(2, dtype=bool), z.copy(), z.copy(), z.copy(), z.copy(), np.array([-0.0, 0.0]))


def test_arrays_the_read_path_did_not_make_go_to_the_numpy_rules():
    """A read-only or float32 column is not judged by the kernel (one compiled signature): no means 'ask numpy'."""
    ts = np.array([1, 2], dtype=np.int64)
    prices = np.array([1.0, 1.0])
    readonly = prices.copy()
    readonly.flags.writeable = False
    assert not _rows_clean(ts, np.zeros(2, dtype=bool), readonly, prices.copy(), prices.copy(), prices.copy(), prices.copy())
    assert not _rows_clean(ts, np.zeros(2, dtype=bool), prices.astype(np.float32), prices.copy(), prices.copy(),
                           prices.copy(), prices.copy())
