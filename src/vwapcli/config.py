"""Typed, validated configuration of each component: one frozen pydantic model apiece.

Every SPEC 5-8 and 11 parameter is a field here (strategy parameters live in each
strategy's own module) with the SPEC default and a description. These models know no
strategy, so every layer may import them; the whole run's config, which holds the
strategy blocks, is :class:`vwapcli.app_config.AppConfig`. Also here: where config files
are found and how YAML is read (one ``ConfigError`` line per problem).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vwapcli import resources
from vwapcli.errors import ConfigError, short_path


def find_config_file(name: str) -> Path | None:
    """``configs/<name>`` in the working directory, else the installed package's, else the checkout's."""
    return resources.find_config_file(name)


class Frozen(BaseModel):
    """Base of every component config: frozen, no unknown field, and no NaN or +/-inf in any
    numeric field (issue 12: a NaN rate would price every leg at zero without a word)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class DataConfig(Frozen):
    timeframe: Literal["1m", "5m"] = Field("1m", description="Bar timeframe read from the store.")
    calendar: str = Field("XNYS", description="exchange-calendars code for sessions (SPEC 3.2).")


# Domain bounds (issue 12 items 3 and 4). A continuous rate or dividend yield beyond 100% a
# year is no market's, and exp(-rT) at such values swamps or overflows every price.
MAX_ABS_RATE = 1.0
# options.dte is answered from the exchange sessions the engine lists (to the calendar's
# last session, about a year past today, then 120 days of weekdays: engine/build.py and
# options/expirations.py) with up to 70 sessions searched beyond the target for a listed
# expiry: 45 sessions (about two months) keeps every trade date answerable with room to spare.
MAX_DTE_SESSIONS = 45


class SymbolOverride(Frozen):
    strike_increment: float | None = Field(None, gt=0, description="Strike grid step for this symbol.")
    rate: float | None = Field(
        None, ge=-MAX_ABS_RATE, le=MAX_ABS_RATE, description="Risk-free rate (continuous) for this symbol."
    )
    div_yield: float | None = Field(None, ge=0, le=MAX_ABS_RATE, description="Continuous dividend yield q.")
    calibration_file: str | None = Field(
        None, description="Session-vol calibration for this symbol (SPEC 7.1); default: options.calibration_file."
    )


# The shipped calibration of the session-vol model (SPEC 7.1), fitted on real SPY 0DTE
# quotes; configs/default.yaml names it too. Looked up like the shipped files
# (resources.config_setting_path), so it works from any folder and from a wheel.
SHIPPED_CALIBRATION = "configs/calibration/SPY.yaml"

# Trailing dividend yields of the ETFs the tool is built around (configs/default.yaml):
# built in too, so an installed package without the file prices SPY as the repo does.
DEFAULT_SYMBOL_OVERRIDES: dict[str, SymbolOverride] = {
    "SPY": SymbolOverride(div_yield=0.013),
    "QQQ": SymbolOverride(div_yield=0.006),
}


class OptionsConfig(Frozen):
    pricing_source: Literal["model", "chain"] = Field("model", description="Quote source (SPEC 7).")
    dte: int = Field(
        0, ge=0, le=MAX_DTE_SESSIONS,
        description="Sessions to expiry: first listed expiry with >= dte sessions to go (at most 45: the listed calendar).",
    )
    strike_increment: float = Field(1.0, gt=0, description="Model-mode strike grid step (any symbol).")
    rate: float = Field(0.04, ge=-MAX_ABS_RATE, le=MAX_ABS_RATE, description="Risk-free rate r, continuous compounding.")
    div_yield: float = Field(0.0, ge=0, le=MAX_ABS_RATE, description="Continuous dividend yield q.")
    symbols: dict[str, SymbolOverride] = Field(
        default_factory=lambda: dict(DEFAULT_SYMBOL_OVERRIDES),
        description="Per-symbol overrides (default: SPY and QQQ dividend yields, as configs/default.yaml).",
    )
    # SPEC 7.1: the session-vol model is the default; `flat` keeps the previous model
    # (calendar-minute T, close-to-close vol x iv_multiplier, leg_spread_frac) for comparison.
    vol_model: Literal["session", "flat"] = Field(
        "session", description="Model-mode prices: session (SPEC 7.1 variance clock, calibrated) or flat (SPEC 7 previous model)."
    )
    calibration_file: str | None = Field(
        SHIPPED_CALIBRATION,
        description=(
            "vol_model session: calibration file for every symbol without its own (symbols.<SYM>.calibration_file); "
            "null: configs/calibration/<SYM>.yaml, else SPY's. A file fitted on another symbol is used with a warning."
        ),
    )
    events_file: str | None = Field(None, description="Scheduled events (FOMC, CPI, payrolls); default: packaged configs/events.yaml.")
    iv_source: Literal["realized", "series"] = Field("realized", description="vol_model flat: vol input for the model.")
    iv_lookback: int = Field(20, ge=3, description="vol_model flat: prior daily closes for realized vol.")
    iv_multiplier: float = Field(1.1, gt=0, description="vol_model flat: realized vol multiplier.")
    iv_floor: float = Field(0.08, gt=0, description="vol_model flat: lowest vol the model will use.")
    skew_slope: float = Field(0.0, description="vol_model flat: IV change per unit log-moneyness ln(K/S).")
    leg_spread_frac: float = Field(0.05, ge=0, le=2, description="vol_model flat: leg bid/ask width as a fraction of mid.")
    slippage: float = Field(0.5, ge=0, le=1, description="Fill = mid + slippage * (natural - mid).")
    commission_per_contract: float = Field(0.65, ge=0, description="Dollars per contract per leg, entry and exit.")
    max_debit_frac: float = Field(0.9, gt=0, le=1, description="Skip when debit > this fraction of width.")
    expirations_file: str | None = Field(None, description="Listing schedules; default: packaged configs/expirations.yaml.")
    chain_store: str | None = Field(None, description="Option-quote store for pricing_source: chain.")
    max_quote_age_seconds: float = Field(120.0, gt=0, description="As-of quote lookup window (chain).")

    def for_symbol(self, symbol: str) -> SymbolOverride:
        """Effective per-symbol parameters (override, else the global default)."""
        own = self.symbols.get(symbol, SymbolOverride())
        return SymbolOverride(
            strike_increment=own.strike_increment or self.strike_increment,
            rate=self.rate if own.rate is None else own.rate,
            div_yield=self.div_yield if own.div_yield is None else own.div_yield,
            calibration_file=own.calibration_file or self.calibration_file,
        )


class ExitsConfig(Frozen):
    """SPEC 9: the time stop is the first bar closing at or after
    ``min(exit_time, session close - exit_buffer)``: 15:50 on a full day, 12:50 on a 13:00
    early close, while the options still trade."""

    exit_time: dt.time = Field(dt.time(15, 50), description="Time stop (New York).")
    exit_buffer: dt.timedelta = Field(
        dt.timedelta(minutes=10),
        description="The time stop is at most this long before the session close (e.g. 10min).",
    )

    @field_validator("exit_buffer", mode="before")
    @classmethod
    def _duration_text(cls, value: Any) -> Any:
        """Accept pandas-style durations ("10min", "90s") beside ISO 8601 and seconds."""
        if isinstance(value, str) and not value.startswith("P"):
            import pandas as pd  # only when a config spells a duration this way

            try:
                duration = pd.Timedelta(value)
            except ValueError as exc:
                raise ValueError(f"not a duration: {value!r} (e.g. 10min)") from exc
            if pd.isna(duration):  # "nan", "NaT": pandas' missing duration, not a duration
                raise ValueError(f"not a duration: {value!r} (e.g. 10min)")
            return duration.to_pytimedelta()
        return value

    @field_validator("exit_buffer")
    @classmethod
    def _not_negative(cls, value: dt.timedelta) -> dt.timedelta:
        if value < dt.timedelta(0):
            raise ValueError("exit_buffer must not be negative")
        return value


class RiskConfig(Frozen):
    starting_equity: float = Field(100_000.0, gt=0, description="Account equity at the start of the run.")
    risk_per_trade_pct: float = Field(1.0, gt=0, le=100, description="% of start-of-day equity at risk per trade.")
    max_contracts: int = Field(50, ge=1, description="Cap on contracts per trade.")
    daily_loss_limit_pct: float = Field(3.0, gt=0, le=100, description="No new entries once the day's realized P&L <= -limit.")
    max_open_positions: int = Field(4, ge=1, description="Across all strategies and symbols.")


class PortfolioAcceptance(Frozen):
    max_drawdown_worsening_pts: float | None = Field(None, ge=0, description="Max DD may worsen by at most this many points.")
    sharpe_must_not_fall: bool = Field(False, description="Sharpe with the module must be >= without it.")


class AcceptanceConfig(Frozen):
    min_win_rate: float = Field(0.45, ge=0, le=1, description="Fraction of trades with pnl > 0.")
    min_profit_factor: float = Field(1.3, ge=0, description="Gross profit / |gross loss| of net trade P&L.")
    max_drawdown_pct: float = Field(20.0, gt=0, le=100, description="Peak-to-trough % on daily closing equity.")
    min_years: float = Field(5.0, ge=0, description="Years of history the run must cover.")
    min_trades: int = Field(200, ge=0, description="Trades needed for the verdict to mean anything.")
    bootstrap_samples: int = Field(2000, ge=100, description="Resamples for the 95% intervals.")
    bootstrap_seed: int = Field(20240601, ge=0, description="Seed: the verdict is reproducible.")
    block_length_days: int = Field(20, ge=1, description="Mean block length (stationary bootstrap of daily returns).")
    # Without a portfolio block: the criteria of configs/default.yaml. A block names its own
    # criteria (a field it leaves out is not checked).
    portfolio: PortfolioAcceptance = Field(
        default_factory=lambda: PortfolioAcceptance(max_drawdown_worsening_pts=2.0, sharpe_must_not_fall=True)
    )


# A config, grid, calendar or calibration file is a few kB: these bounds are far above any
# real one and far below what a hostile file (an alias bomb, a gigabyte) would cost.
MAX_YAML_BYTES = 10_000_000
MAX_YAML_VALUES = 100_000


def _count_values(document: Any, path: Path, what: str) -> None:
    """Walk the parsed document as consumers will (an alias counted every time it is used)
    and stop past ``MAX_YAML_VALUES``: ``&a [*b, *b, ...]`` chains build a tiny file whose
    expansion (validation, JSON, hashing) would take forever. The value is never echoed."""
    seen = 0
    stack = [document]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_YAML_VALUES:
            raise ConfigError(
                f"{path}: {what} expands to more than {MAX_YAML_VALUES:,} values "
                "(rule: YAML aliases may not blow a file up; write the values out)"
            )
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


#: Parsed YAML documents by their text's digest: a streamed run asks for the same event
#: calendar and calibration once per symbol (issue 17), and PyYAML's pure-Python parser
#: costs ~5-15 ms a file. Keyed by content, so an edited file is always parsed again.
_PARSED_YAML: dict[bytes, Any] = {}
_PARSED_YAML_LIMIT = 64


def read_yaml_file(path: Path, what: str) -> Any:
    """Parse a YAML file; an unreadable file or broken YAML is one ``ConfigError`` line
    naming the file and, for YAML, the line and column. Bounded (issue 12): a file over
    ``MAX_YAML_BYTES``, nested past the parser's depth or expanding (aliases) past
    ``MAX_YAML_VALUES`` is refused in one short line. A text parsed before in this process
    is not parsed again (the caller gets its own copy)."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_YAML_BYTES:
            raise ConfigError(f"{path}: {what} is {size:,} bytes (rule: at most {MAX_YAML_BYTES:,})")
        text = Path(path).read_text()
    except OSError as error:
        raise ConfigError(f"{short_path(path)}: cannot read {what} ({error.strerror})") from None
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    if key in _PARSED_YAML:
        return copy.deepcopy(_PARSED_YAML[key])
    document = _parse_yaml(text, Path(path), what)
    try:
        kept = copy.deepcopy(document)
    except RecursionError:  # deeper than a copy can go: parse such a file every time
        return document
    if len(_PARSED_YAML) >= _PARSED_YAML_LIMIT:
        _PARSED_YAML.clear()
    _PARSED_YAML[key] = kept
    return document


def _parse_yaml(text: str, path: Path, what: str) -> Any:
    """:func:`read_yaml_file`'s parse and bounds, on text already read."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}:{where}: broken YAML: {reason}") from None
    except RecursionError:
        raise ConfigError(f"{path}: {what} is nested too deeply (rule: a config is a few levels deep)") from None
    _count_values(document, path, what)
    return document
