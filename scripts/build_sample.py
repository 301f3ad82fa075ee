"""Regenerate the packaged sample store under src/vwapcli/sample/.

Usage: .venv/bin/python scripts/build_sample.py

Synthetic SPY and QQQ 1-minute bars plus IV index for Q4 2024, seed
vwapcli.data.sample.SAMPLE_SEED. Deterministic: rerunning gives byte-identical files.
"""

from __future__ import annotations

from vwapcli.data.sample import SAMPLE_END, SAMPLE_SEED, SAMPLE_START, build_sample


def main() -> None:
    store = build_sample()
    total = sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file())
    print(
        f"wrote {store.root} (seed {SAMPLE_SEED}, {SAMPLE_START} to {SAMPLE_END}, "
        f"{', '.join(store.symbols())}; {total / 1e6:.2f} MB)"
    )


if __name__ == "__main__":
    main()
