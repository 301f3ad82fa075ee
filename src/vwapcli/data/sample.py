"""The packaged sample: a few months of synthetic SPY and QQQ bars shipped with the package.

It lets a new user run every command offline (``vwapcli fetch --source sample``, or the
automatic fallback when the default ``./data`` store is empty). The files are a bar store
in the usual layout under ``vwapcli/sample/``, built by ``scripts/build_sample.py`` from
:func:`vwapcli.data.synthetic.generate_market` with :data:`SAMPLE_SEED`: regenerating with
the same seed and range gives the same values. It is synthetic and labelled so.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from vwapcli.data.sessions import DateLike, as_date
from vwapcli.data.store import BarStore
from vwapcli.data.synthetic import generate_market
from vwapcli.errors import StoreError

SAMPLE_SEED = 7
SAMPLE_SYMBOLS: tuple[str, ...] = ("SPY", "QQQ")
# Q4 2024: ~64 sessions, including the 13:00 ET early closes of 2024-11-29 and 2024-12-24.
SAMPLE_START = dt.date(2024, 10, 1)
SAMPLE_END = dt.date(2024, 12, 31)
SAMPLE_PROVENANCE = f"synthetic (seed {SAMPLE_SEED}, packaged sample)"


def sample_path() -> Path:
    """Folder of the packaged sample store (``vwapcli/sample``)."""
    return Path(__file__).resolve().parents[1] / "sample"


def sample_store() -> BarStore:
    """The packaged sample as a read-only BarStore; StoreError when the files are missing."""
    store = BarStore(sample_path())
    if store.is_empty():
        raise StoreError(f"{store.root}: packaged sample is missing (run scripts/build_sample.py)")
    return store


def build_sample(target: Path | None = None) -> BarStore:
    """(Re)generate the sample store at ``target`` (default: the package folder).

    Built in a temp folder and swapped in, so a failed build leaves the old sample intact.
    """
    target = Path(target) if target is not None else sample_path()
    market = generate_market(SAMPLE_SYMBOLS, SAMPLE_START, SAMPLE_END, seed=SAMPLE_SEED)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=target.parent))
    try:
        store = BarStore(staging)
        for symbol in SAMPLE_SYMBOLS:
            store.write_bars(symbol, market.bars[symbol], provenance=SAMPLE_PROVENANCE, source=f"synthetic {symbol}")
            store.write_iv_index(symbol, market.iv_index[symbol], provenance=SAMPLE_PROVENANCE)
        for name in ("bars", "iv_index", "meta.json"):
            old = target / name
            if old.is_dir():
                shutil.rmtree(old)
            elif old.exists():
                old.unlink()
        target.mkdir(exist_ok=True)
        for child in staging.iterdir():
            child.rename(target / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BarStore(target)


def write_sample(
    store: BarStore,
    symbols: list[str] | None = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    dry_run: bool = False,
) -> dict[str, pd.DataFrame]:
    """Copy the sample's bars and IV index (optionally a date window) into ``store``.

    Goes through ``write_bars``, so the copy is validated, atomic and idempotent. Returns
    the bars copied per symbol (what would be copied, on ``dry_run``).
    """
    sample = sample_store()
    wanted = [s.upper() for s in (symbols or list(SAMPLE_SYMBOLS))]
    unknown = [s for s in wanted if s not in sample.symbols()]
    if unknown:
        raise StoreError(
            f"packaged sample has no {', '.join(unknown)} (sample symbols: {', '.join(sample.symbols())})"
        )
    copied: dict[str, pd.DataFrame] = {}
    for symbol in wanted:
        bars = sample.read_bars(symbol, start, end)
        if bars.empty:
            raise StoreError(
                f"packaged sample has no {symbol} bars between {start} and {end} "
                f"(it covers {SAMPLE_START} to {SAMPLE_END})"
            )
        copied[symbol] = bars
        if dry_run:
            continue
        iv = sample.read_iv_index(symbol)
        if start is not None:
            iv = iv[iv.index >= pd.Timestamp(as_date(start))]
        if end is not None:
            iv = iv[iv.index <= pd.Timestamp(as_date(end))]
        # One publication per symbol: bars, IV index and metadata together or none.
        store.write_bars(symbol, bars, provenance=SAMPLE_PROVENANCE, source=f"sample {symbol}", iv_index=iv)
    return copied
