"""Where tests find the project, its fixtures and the real data (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT / "tests" / "fixtures"
# The real market data lives beside the checkout (/work/shared/data/real for /work/<tree>);
# tests that need it skip cleanly when it is absent.
REAL_DATA = PROJECT.parent / "shared" / "data" / "real"
PROVIDERS = FIXTURES / "providers"  # recorded vendor responses (see its README)
