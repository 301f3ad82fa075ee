"""The option model's calibration file (SPEC 7.1: "calibration is data").

One YAML file per symbol (``configs/calibration/SPY.yaml`` ships with the repository)
holds every fitted number of the session-vol model, the data it was fitted on and the
error it achieved there. ``vwapcli.options.calibration.calibrate`` writes it; the quote
source reads it. The models are frozen and refuse unknown keys and non-finite numbers,
so a hand-edited file with a typo fails with one line naming the field.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vwapcli.atomic_write import atomic_write_text
from vwapcli.config import find_config_file, read_yaml_file
from vwapcli.errors import ConfigError
from vwapcli.options.leg_spread import LegSpreadModel
from vwapcli.options.smile import Smile
from vwapcli.options.vol_forecast import ForecastSettings

log = logging.getLogger("vwapcli.options")

CALIBRATION_FORMAT: Literal["vwapcli-session-vol/1"] = "vwapcli-session-vol/1"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class ForecastParams(_Frozen):
    """How prior sessions' bars become the vol level and the intraday profile."""

    method: Literal["har", "ewma"] = Field("har", description="HAR 1/5/22 means or EWMA of 5-minute RV.")
    lags: tuple[int, ...] = Field((1, 5, 22), description="HAR horizons in sessions.")
    ewma_decay: float = Field(0.94, gt=0, lt=1, description="EWMA weight decay per session.")
    min_sessions: int = Field(5, ge=1, description="Prior sessions needed before quoting.")
    profile_window: int = Field(60, ge=1, description="Sessions in the intraday profile.")
    profile_prior_sessions: float = Field(10.0, ge=0, description="Weight of the built-in U profile, in sessions.")

    def settings(self) -> ForecastSettings:
        return ForecastSettings(
            method=self.method,
            lags=self.lags,
            ewma_decay=self.ewma_decay,
            min_sessions=self.min_sessions,
            profile_window=self.profile_window,
            profile_prior_sessions=self.profile_prior_sessions,
        )


class LevelParams(_Frozen):
    """sigma² = 252 · premium · (forecast + gap_weight · gap²), floored at vol_floor²."""

    premium: float = Field(1.0, gt=0, description="Implied over realized variance (a variance ratio).")
    gap_weight: float = Field(0.0, ge=0, description="Share of today's squared opening gap added to the forecast.")
    vol_floor: float = Field(0.02, gt=0, description="Lowest annualised vol the model quotes.")


class SmileParams(_Frozen):
    skew: float = Field(0.0, description="Slope of the vol ratio in z at the money.")
    curvature: float = Field(0.0, ge=0, description="Curvature of the vol ratio in z.")
    bound: float = Field(4.0, gt=0, description="|z| beyond which the smile levels off.")

    def smile(self) -> Smile:
        return Smile(self.skew, self.curvature, self.bound)


class SpreadParams(_Frozen):
    tick: float = Field(0.01, gt=0, description="The options' price tick, dollars.")
    wide: float = Field(0.25, ge=0, description="Extra width of deep in-the-money legs, dollars.")
    half_point: float = Field(1.8, gt=0, description="Price in at-the-money moves where half of 'wide' applies.")
    steepness: float = Field(4.0, gt=0, description="How fast legs widen past half_point.")

    def model(self) -> LegSpreadModel:
        return LegSpreadModel(self.tick, self.wide, self.half_point, self.steepness)


class EventEffect(_Frozen):
    jump: float = Field(0.0, ge=0, description="Variance added at the event, in session units.")
    after_multiplier: float = Field(1.0, gt=0, description="Multiplier on the profile from the event to the close.")


class CalibrationParams(_Frozen):
    """Everything the session-vol quote source needs for one symbol."""

    format: Literal["vwapcli-session-vol/1"] = CALIBRATION_FORMAT
    symbol: str = Field("SPY", description="The underlying the quotes were for.")
    overnight_share: float = Field(0.6, ge=0, description="A night's variance in session units.")
    forecast: ForecastParams = Field(default_factory=ForecastParams)
    level: LevelParams = Field(default_factory=LevelParams)
    smile: SmileParams = Field(default_factory=SmileParams)
    spread: SpreadParams = Field(default_factory=SpreadParams)
    events: dict[str, EventEffect] = Field(default_factory=dict, description="Effect per event type.")
    fitted_on: dict[str, Any] = Field(default_factory=dict, description="Data span the fit used.")
    error: dict[str, Any] = Field(default_factory=dict, description="Error achieved on that data.")

    # ------------------------------------------------------------------ YAML
    @classmethod
    def load(cls, path: Path | str) -> CalibrationParams:
        """Read and validate a calibration file (one ``ConfigError`` line on any problem)."""
        path = Path(path)
        raw = read_yaml_file(path, "option-model calibration")
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: a calibration file is a mapping (format, symbol, level, ...)")
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{path}: {where}: {message}") from None

    @classmethod
    def load_for_symbol(cls, symbol: str, path: Path | str | None = None) -> CalibrationParams:
        """``path`` if given, else ``configs/calibration/<SYMBOL>.yaml``, else SPY's."""
        return cls.load(calibration_path(symbol, path))

    def dump(self, path: Path | str) -> None:
        """Write the file whole or not at all (plain YAML, keys in field order)."""
        payload = self.model_dump(mode="json")
        atomic_write_text(Path(path), yaml.safe_dump(payload, sort_keys=False, width=100))


def calibration_path(symbol: str, path: Path | str | None = None) -> Path:
    """The calibration file ``load_for_symbol`` reads for ``symbol`` (a run records it):
    ``path`` if given, else ``configs/calibration/<SYMBOL>.yaml``, else SPY's, with a warning
    (SPEC 7.1: a symbol without a calibration uses SPY's)."""
    if path is not None:
        return Path(path)
    for name in (symbol.upper(), "SPY"):
        found = find_config_file(f"calibration/{name}.yaml")
        if found is not None:
            if name != symbol.upper():
                log.warning("no option-model calibration for %s: using %s's (%s)", symbol, name, found)
            return found
    raise ConfigError("configs/calibration/SPY.yaml not found in ./configs or the project checkout")
