"""Model prices against the real chain on the real quote days (issue 11 item 8).

Runs the VWAP_MEANREV and ORB signals of the real SPY 0DTE quote days through the engine
twice: once priced from the real quotes (``pricing_source: chain``) and once from the
model (``pricing_source: model``, the configured ``vol_model``), then sets the trades
side by side: entry debit and P&L per trade, and in total. Same signals, same exits; the
strikes are those listed in the chain and on the model's $1 grid (SPY's listed step near
the money), so matched trades hold the same contracts.

Reads the real data in place (never copies it into the repository): the SPY 5-minute
bars and the SPY 0DTE quotes in ``../shared/data/real/options/``, loaded into temporary
stores with the project's own ``BarStore`` and ``write_option_quotes``.

    .venv/bin/python bench/chain_vs_model.py                 # default vol_model
    .venv/bin/python bench/chain_vs_model.py --vol-model flat
    .venv/bin/python bench/chain_vs_model.py --holdout-from 2026-08-04 --trades
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vwapcli.app_config import config_from_dict
from vwapcli.backtest import execute_backtest
from vwapcli.data.loading import load_market_data
from vwapcli.data.option_quotes import write_option_quotes
from vwapcli.data.store import BarStore

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "options"
QUOTES = REAL / "SPY_0dte_quotes_2026-07-17_2026-08-07.parquet"
BARS = REAL / "SPY_5m_2026-05-21_2026-08-07.parquet"
FIRST_QUOTE_DAY = dt.date(2026, 7, 17)
LAST_QUOTE_DAY = dt.date(2026, 8, 7)
KEY = ["strategy_name", "symbol", "direction", "entry_time"]


def build_stores(root: Path) -> tuple[Path, Path, int]:
    """Bar store with the real SPY 5m bars; chain store with the real quotes (crossed dropped)."""
    bars = pd.read_parquet(BARS)[["ts", "open", "high", "low", "close", "volume"]]
    BarStore(root / "bars").write_bars("SPY", bars, timeframe="5m", provenance=f"bench ({BARS.name})")
    quotes = pd.read_parquet(QUOTES).rename(columns={"expiration": "expiry"})
    crossed = int((quotes["bid"] > quotes["ask"]).sum())
    quotes = quotes[quotes["bid"] <= quotes["ask"]]
    write_option_quotes(root / "chain", quotes[["ts", "underlying", "expiry", "strike", "right", "bid", "ask"]],
                        source=QUOTES.name)
    return root / "bars", root / "chain", crossed


def run(store: Path, chain: Path, pricing: str, vol_model: str | None) -> pd.DataFrame:
    """Trades of ORB + VWAP_MEANREV on the quote days, priced as asked."""
    # The recorded books are ~5-minute snapshots: an as-of window of one snapshot interval
    # (330 s) finds the last book before each bar close, as a live trader would have had it.
    options: dict[str, Any] = {"pricing_source": pricing, "chain_store": str(chain), "dte": 0,
                               "max_quote_age_seconds": 330.0}
    if vol_model is not None:
        options["vol_model"] = vol_model
    config = config_from_dict({
        "data": {"timeframe": "5m"},
        "strategies": {"vwap_meanrev": {"enabled": True}, "orb": {"enabled": True}},
        "options": options,
    }, "bench")
    market = load_market_data(store, ["SPY"], FIRST_QUOTE_DAY, LAST_QUOTE_DAY, timeframe="5m")
    result = execute_backtest(config, market, FIRST_QUOTE_DAY, LAST_QUOTE_DAY, store)
    trades = result.trades.copy()
    trades["skips"] = len(result.skipped)
    if len(result.skipped):
        print(f"{pricing}: skipped by reason: {result.skipped['reason'].value_counts().to_dict()}")
    return trades


def compare(chain: pd.DataFrame, model: pd.DataFrame) -> pd.DataFrame:
    """Trades present in both runs on the same contracts, with the model-minus-chain differences."""
    both = chain.merge(model, on=KEY, suffixes=("_chain", "_model"))
    same = (both["k_long_chain"] == both["k_long_model"]) & (both["k_short_chain"] == both["k_short_model"])
    both = both[same].copy()
    both["debit_diff"] = both["entry_debit_model"] - both["entry_debit_chain"]
    both["debit_diff_pct"] = 100 * both["debit_diff"] / both["entry_debit_chain"]
    # Per spread (1 contract) so size differences do not hide price differences.
    both["pnl1_chain"] = (both["exit_credit_chain"] - both["entry_debit_chain"]) * 100
    both["pnl1_model"] = (both["exit_credit_model"] - both["entry_debit_model"]) * 100
    both["pnl1_diff"] = both["pnl1_model"] - both["pnl1_chain"]
    both["day"] = pd.to_datetime(both["entry_time"], utc=True).dt.tz_convert("America/New_York").dt.date
    return both


def summary_rows(both: pd.DataFrame, label: str) -> dict[str, Any]:
    if both.empty:
        return {"set": label, "n": 0}
    return {
        "set": label,
        "n": len(both),
        "median |debit diff| %": round(float(both["debit_diff_pct"].abs().median()), 1),
        "median debit diff %": round(float(both["debit_diff_pct"].median()), 1),
        "median |debit diff| $": round(float(both["debit_diff"].abs().median()), 3),
        "P&L/spread chain $": round(float(both["pnl1_chain"].sum()), 0),
        "P&L/spread model $": round(float(both["pnl1_model"].sum()), 0),
        "median |P&L diff|/spread $": round(float(both["pnl1_diff"].abs().median()), 1),
        "win rate chain": round(float((both["pnl1_chain"] > 0).mean()), 3),
        "win rate model": round(float((both["pnl1_model"] > 0).mean()), 3),
        "exit by model (chain run)": int((both["exit_priced_by_chain"] == "model").sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vol-model", choices=["session", "flat"], default=None,
                        help="Model to compare (default: the config default).")
    parser.add_argument("--holdout-from", type=dt.date.fromisoformat, default=dt.date(2026, 8, 4),
                        help="First session the shipped calibration's dev fit never saw (bench/README).")
    parser.add_argument("--trades", action="store_true", help="Print every matched trade.")
    args = parser.parse_args(argv)
    if not (QUOTES.is_file() and BARS.is_file()):
        print(f"real data not found under {REAL}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        store, chain, crossed = build_stores(Path(tmp))
        chain_trades = run(store, chain, "chain", args.vol_model)
        model_trades = run(store, chain, "model", args.vol_model)
    both = compare(chain_trades, model_trades)
    print(f"quotes: {QUOTES.name} ({crossed} crossed rows dropped); bars: {BARS.name}")
    print(f"trades: chain {len(chain_trades)} (skipped {int(chain_trades['skips'].iloc[0]) if len(chain_trades) else 0}), "
          f"model {len(model_trades)}; matched on the same contracts: {len(both)}")
    by_strategy = [summary_rows(both[both["strategy_name"] == name], name) for name in sorted(both["strategy_name"].unique())]
    late = both[both["day"] >= args.holdout_from]
    rows = [summary_rows(both, "all"), *by_strategy,
            summary_rows(both[both["day"] < args.holdout_from], f"before {args.holdout_from}"),
            summary_rows(late, f"from {args.holdout_from} (hold-out)")]
    print(pd.DataFrame(rows).to_string(index=False))
    if args.trades:
        columns = [*KEY, "k_long_chain", "k_short_chain", "entry_debit_chain", "entry_debit_model",
                   "exit_reason_chain", "exit_credit_chain", "exit_credit_model", "pnl1_chain", "pnl1_model"]
        print(both[columns].to_string(index=False))
    only_chain = len(chain_trades) - len(both)
    only_model = len(model_trades) - len(both)
    print(f"unmatched: {only_chain} chain trade(s), {only_model} model trade(s) "
          "(a no_quote/debit skip on one side, or different strikes)")
    print(f"median |debit diff| %: {np.round(both['debit_diff_pct'].abs().median(), 1) if len(both) else 'n/a'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
