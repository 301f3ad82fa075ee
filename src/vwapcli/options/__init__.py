"""The options layer (SPEC 7): expiries, strikes, BSM pricing, quote sources, spreads, fills.

Imports core, config, errors and the data layer's option-quote store only; never a strategy. The engine drives it through
``build_spread`` -> ``price_spread`` (open and close) -> ``fill_price``; model quotes are
priced one at a time by ``bs_price_scalar`` (bit-equal to the vectorised ``bs_price``).
"""

from vwapcli.options.expirations import ExpiryChoice, ExpirySchedule
from vwapcli.options.pricing import (
    bs_delta,
    bs_price,
    bs_price_scalar,
    bs_vega,
    normal_cdf,
    round_to_cent,
    year_fraction,
)
from vwapcli.options.quotes import (
    ChainQuoteSource,
    ModelQuoteSource,
    Quote,
    QuoteSource,
)
from vwapcli.options.spreads import (
    DebitSpread,
    SpreadFill,
    SpreadPrice,
    build_spread,
    check_max_debit,
    close_spread,
    fill_price,
    open_spread,
    price_spread_close,
    price_spread_open,
)
from vwapcli.options.strikes import NoStrikeError, choose_strikes, strike_grid
from vwapcli.options.volatility import VolatilityModel

__all__ = [
    "ChainQuoteSource",
    "DebitSpread",
    "ExpiryChoice",
    "ExpirySchedule",
    "ModelQuoteSource",
    "NoStrikeError",
    "Quote",
    "QuoteSource",
    "SpreadFill",
    "SpreadPrice",
    "VolatilityModel",
    "bs_delta",
    "bs_price",
    "bs_price_scalar",
    "bs_vega",
    "build_spread",
    "check_max_debit",
    "choose_strikes",
    "close_spread",
    "fill_price",
    "normal_cdf",
    "open_spread",
    "price_spread_close",
    "price_spread_open",
    "round_to_cent",
    "strike_grid",
    "year_fraction",
]
