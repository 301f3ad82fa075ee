"""vwapcli: backtest and report a VWAP mean-reversion module traded as options debit spreads."""

import os as _os

from vwapcli.cache_dir import user_cache_dir as _user_cache_dir

__version__ = "0.1.0"

# Compiled kernels are cached with the other rebuildable caches, not in __pycache__ beside
# the sources: the source tree then holds only source (deleting a strategy leaves no trace).
_cache = _user_cache_dir()
if _cache is not None:
    _os.environ.setdefault("NUMBA_CACHE_DIR", str(_cache / "numba"))
