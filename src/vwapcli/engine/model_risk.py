"""Model risk: a run's trades re-priced with the option model's vol level scaled (SPEC 7.1).

Why: in model mode every debit and credit is a model price, so the verdict is only as good
as the model's vol level. Issue 11 measured the level off by -30 % to +90 % depending on
the regime. This module answers "how wrong may the vol level be before the verdict
changes?" by re-pricing the run's own trades at ``MODEL_RISK_SCALES`` (0.8 to 2.0 times
the vol level the run used).

What is held fixed, what changes. Same signals, exits (time and underlying level),
strikes, expiry and contracts as the run; only the prices change. For each scale ``s``:

* the quote source is ``source_for_scale(s)``, the configured model with its vol level
  times ``s``; at ``s = 1.0`` it is the very source the run used (the run's own pricer,
  which answers from what it already priced, so that row costs nothing);
* entry and exit spread prices are ``SpreadPricer.price_held``'s answers on that source,
  with the run's exit fallback, so an exit the source cannot quote is valued the way the
  run would value it (flagged ``model`` or ``intrinsic``). The session model prices the
  other scales itself, all of a symbol's legs at every scale in one array pass
  (``SpreadPricer.held_prices_at_vol_scales``: only sigma moves with the scale); any
  other source (the flat model) is built per scale and asked through a pricer on it;
* fills use the configured slippage through the engine's own fill rule, on arrays by its
  exact twins (``options.spreads.fill_prices``, ``fills.exit_fills``: the bits of
  ``fill_price`` and ``exit_fill``), commissions as configured
  (``risk.round_trip_commission_per_contract`` x contracts), and
  ``pnl = (exit_credit - entry_debit) x 100 x contracts - commissions`` rounded to cents
  by ``fills.trade_pnls``, the bits of ``fills.trade_pnl``, the run's own rule. So at
  ``s = 1.0`` every row reproduces the trade log bit for bit.
* Not re-applied: sizing (contracts stay), the debit cap (``max_debit_frac``) and the
  account's limits. A dearer vol level might have skipped some entries or sized them
  smaller; holding the trade set fixed keeps every scale's numbers about the same trades,
  which is what "how much does the price level alone move the verdict" asks. A trade
  whose entry the scaled source cannot price at all keeps NaN prices at that scale.

Chain mode prices entries from real quotes: there is no vol level to scale, so model
risk is not applicable there (``not_applicable_reason``) rather than invented.

Output (``model_risk.parquet`` in the run folder, written with the other run files):
one row per trade and scale, ``trade_id, scale, entry_debit, exit_credit, pnl,
exit_priced_by``, sorted by trade_id then scale. Deterministic: the same run writes the
same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import pandas as pd

from vwapcli.config import OptionsConfig
from vwapcli.engine.engine import Engine
from vwapcli.engine.fills import exit_fills, trade_pnls
from vwapcli.engine.pricing import EXIT_BY_INTRINSIC, HeldPrices, HeldTrades, SpreadPricer
from vwapcli.options.quotes import QuoteSource
from vwapcli.options.spreads import DebitSpread, fill_prices
from vwapcli.risk import round_trip_commission_per_contract

#: The vol-level multipliers of SPEC 7.1 ("0.8, 1.0, 1.25, 1.5 and 2.0").
MODEL_RISK_SCALES: Final[tuple[float, ...]] = (0.8, 1.0, 1.25, 1.5, 2.0)
MODEL_RISK_FILE: Final = "model_risk.parquet"
MODEL_RISK_COLUMNS: Final = ("trade_id", "scale", "entry_debit", "exit_credit", "pnl", "exit_priced_by")
#: ``exit_priced_by`` of a trade whose entry the scaled source could not price.
UNPRICED: Final = "unpriced"

#: A quote source for a vol-level multiplier (``1.0`` = the run's own source).
QuoteSourceForScale = Callable[[float], QuoteSource]


def not_applicable_reason(options: OptionsConfig) -> str | None:
    """Why the run's prices cannot be re-priced at another vol level (None: they can)."""
    if options.pricing_source == "chain":
        return (
            "chain mode: entries are priced from real option quotes, which carry no model "
            "vol level to scale"
        )
    return None


def _as_ns(times: pd.Series) -> np.ndarray:
    return pd.to_datetime(times, utc=True).dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").astype(np.int64)


def reprice_trades(
    trades: pd.DataFrame,
    engine: Engine,
    source_for_scale: QuoteSourceForScale,
    scales: Sequence[float] = MODEL_RISK_SCALES,
) -> pd.DataFrame:
    """Every trade of ``trades`` (the run's trade log) re-priced at each of ``scales``.

    ``engine`` is the run's: its pricer gives the listing schedule, exchange sessions and
    exit fallback, its fill terms the slippage and commission. Returns
    ``MODEL_RISK_COLUMNS``, one row per trade and scale.
    """
    n = len(trades)
    slippage = engine.fill_terms.slippage
    commission = round_trip_commission_per_contract(engine.fill_terms.commission_per_contract)
    # The run's own spreads, value for value (the note included), so at scale 1.0 the run's
    # pricer answers from what it already priced.
    spreads = [
        DebitSpread(symbol, right, dt.date.fromisoformat(expiry), k_long, k_short, width, note or None)
        for symbol, right, expiry, k_long, k_short, width, note in zip(
            trades["symbol"].astype(str).tolist(), trades["right"].astype(str).tolist(),
            trades["expiry"].astype(str).tolist(), trades["k_long"].astype(float).tolist(),
            trades["k_short"].astype(float).tolist(), trades["width"].astype(float).tolist(),
            trades["expiry_note"].fillna("").astype(str).tolist(), strict=True,
        )
    ]
    entry_ns = _as_ns(trades["entry_time"]).tolist()
    exit_ns = _as_ns(trades["exit_time"]).tolist()
    entry_spot = trades["P"].astype(float).tolist()
    exit_spot = trades["underlying_exit"].astype(float).tolist()

    run_pricer = engine.pricer
    held = HeldTrades(spreads, entry_ns, entry_spot, exit_ns, exit_spot)
    # The run's own pricer answers scale 1.0 from what it already priced.
    priced_at = {1.0: HeldPrices.of(run_pricer.price_held_many(held))} if 1.0 in scales else {}
    others = [scale for scale in scales if scale != 1.0]
    # The session model prices every other scale's legs of a symbol in one pass (only
    # sigma moves with the scale); any other source is built per scale and asked trade by
    # trade, with the run's listing schedule, sessions and exit fallback.
    at_others = run_pricer.held_prices_at_vol_scales(held, others)
    if at_others is None:
        at_others = [
            HeldPrices.of(SpreadPricer(
                source_for_scale(scale), run_pricer.schedule, run_pricer.session_dates, run_pricer.exit_fallback
            ).price_held_many(held, remember=False))
            for scale in others
        ]
    priced_at.update(zip(others, at_others, strict=True))
    columns = [priced_at[scale] for scale in scales]
    # Trade-major (n, scales) tables; the fills of every priced row at once, the run's rules.
    priced = np.stack([column.priced for column in columns], axis=1)
    rows, cols = np.nonzero(priced)

    def table(name: str) -> np.ndarray:
        return np.stack([getattr(column, name) for column in columns], axis=1)[rows, cols]

    width = trades["width"].to_numpy(dtype=np.float64)[rows]
    units = trades["contracts"].to_numpy(dtype=np.int64)[rows]
    quoted = table("exit_priced_by") != EXIT_BY_INTRINSIC
    debit = fill_prices(table("entry_mid"), table("entry_natural"), slippage, width)
    credit = exit_fills(table("exit_mid"), table("exit_natural"), quoted, slippage, width)
    shape = (n, len(scales))
    entry_debit = np.full(shape, np.nan)
    exit_credit = np.full(shape, np.nan)
    pnl = np.full(shape, np.nan)
    priced_by = np.full(shape, UNPRICED, dtype=object)
    entry_debit[rows, cols] = debit
    exit_credit[rows, cols] = credit
    pnl[rows, cols] = trade_pnls(debit, credit, units, commission * units.astype(np.float64))
    priced_by[rows, cols] = table("exit_priced_by")
    return pd.DataFrame(
        {
            "trade_id": np.repeat(trades["trade_id"].to_numpy(dtype=np.int64), len(scales)),
            "scale": np.tile(np.asarray(scales, dtype=np.float64), n),
            "entry_debit": entry_debit.ravel(),
            "exit_credit": exit_credit.ravel(),
            "pnl": pnl.ravel(),
            "exit_priced_by": priced_by.ravel().astype(str),
        },
        columns=list(MODEL_RISK_COLUMNS),
    )
