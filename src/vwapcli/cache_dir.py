"""Where vwapcli keeps rebuildable caches: outside the source tree, one place for all.

``VWAPCLI_CACHE_DIR`` chooses the folder ("" turns caching off); otherwise
``$XDG_CACHE_HOME/vwapcli`` or ``~/.cache/vwapcli``. Standard library only: imported at
package import time.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "VWAPCLI_CACHE_DIR"


def user_cache_dir() -> Path | None:
    """The cache folder, or None when the user turned caching off."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured == "":
        return None
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vwapcli"
