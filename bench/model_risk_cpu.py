"""CPU seconds of a streamed backtest's phases, model risk timed best of N (issue 17).

Runs ``vwapcli backtest --only vwap_meanrev --workers 1``'s building blocks in order (the
per-symbol phase, pre-pricing the candidates, the account walk) once, then model risk
(``engine.reprice_trades`` at the five vol scales) ``--repeat`` times, each timed with
``time.process_time`` (CPU: the machine is shared). Prints the phases, the model-risk
times and the sha256 of the model-risk table as CSV (equal before/after a change = same
numbers). Compare two trees with the same venv: ``PYTHONPATH=<other tree>/src``.

    .venv/bin/python bench/model_risk_cpu.py --store /tmp/v17store10 \\
        --symbols DIA IWM QQQ SPY XLE XLF XLI XLK XLU XLV
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--symbols", nargs="+", default=["SPY"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from vwapcli.app_config import StrategyChoice
    from vwapcli.data.loading import union_of_sessions
    from vwapcli.engine import (
        build_engine,
        in_signal_order,
        reprice_trades,
        universe_pricer,
        universe_quote_source,
    )
    from vwapcli.symbol_phase import SymbolPhase, run_symbol

    config = StrategyChoice(only="vwap_meanrev").load()
    phase = SymbolPhase(config, args.store, None, None)
    start = time.process_time()
    results = [run_symbol(phase, symbol) for symbol in args.symbols]
    symbols_done = time.process_time()
    universe = [result.pricing for result in results]
    pricer = universe_pricer(config, universe, args.store)
    pricer.prices_of([c for r in results for c in r.candidates if c.skip_reason is None], config.options.dte)
    priced = time.process_time()
    engine = build_engine(config, {}, args.store, pricer=pricer)
    result = engine.run(
        in_signal_order(r.candidates for r in results),
        union_of_sessions([r.session_dates for r in results], None, None),
        config.enabled_strategy_names(),
    )
    walked = time.process_time()
    print(f"symbols {symbols_done - start:.2f} s, pricing {priced - symbols_done:.2f} s, "
          f"walk {walked - priced:.2f} s, trades {len(result.trades)}")

    def source_for_scale(scale: float):  # type: ignore[no-untyped-def]
        return universe_quote_source(config, universe, args.store, vol_scale=scale)

    times = []
    for _ in range(args.repeat):
        began = time.process_time()
        table = reprice_trades(result.trades, engine, source_for_scale)
        times.append(time.process_time() - began)
    print("model risk CPU s:", " ".join(f"{t:.3f}" for t in times), f"best {min(times):.3f}")
    print("model risk table sha256", hashlib.sha256(table.to_csv(index=False).encode()).hexdigest())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
