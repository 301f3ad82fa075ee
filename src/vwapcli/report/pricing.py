"""How a run's option prices were made, as the pages say it (SPEC 7.1, issue 11 item 7).

A verdict is only as good as the prices behind it, so the report and the comparison name
the pricing source: with model prices, the model (``vol_model``) and, per symbol, the
calibration it read (file, the span it was fitted on, the error the file states), next to
the model's measured hold-out error; with real quotes, the chain store and how many exits
had no quote and were valued by the model instead (trades' ``exit_priced_by``).

Everything comes from the run folder: run.json's ``pricing`` block (written at backtest
time, so no config or calibration file is read here) and the trade log. Older run folders
without that block fall back to run.json's resolved config (a run from before the session
model was wired priced with the flat model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vwapcli.report.formatting import cents, count, fraction, signed_fraction
from vwapcli.report.run_folder import RunFolder


@dataclass(frozen=True)
class HoldOutError:
    """A model's error on real SPY 0DTE quotes from sessions its calibration never saw:
    strategy-shaped spreads (long leg nearest spot, short leg 1-6 strikes out), medians."""

    model: str
    median_abs_error: float  # |model mid - real mid| / real mid
    median_error: float  # signed (bias)
    half_spread_error: float  # dollars per share


#: bench/README.md, "option_model_validation.py" hold-out table, row "all" (2,640 spreads on
#: the 4 held-out sessions 2026-08-04..08-07, calibration fitted on 07-17..07-31).
HOLD_OUT_SESSIONS = "4 held-out sessions of real SPY 0DTE quotes (2026-08-04..08-07)"
#: The session model's number is out of sample: its calibration there was fitted the same way
#: on the 11 earlier sessions only (the shipped file then refits on all 15).
HOLD_OUT_FIT = {"session": ", priced by a calibration fitted the same way on the 11 earlier sessions only"}
HOLD_OUT_ERRORS: dict[str, HoldOutError] = {
    "session": HoldOutError("session", 0.055, 0.020, 0.0030),
    "flat": HoldOutError("flat", 0.096, -0.044, 0.0192),
}


def pricing_record(run: RunFolder) -> dict[str, Any]:
    """run.json's ``pricing`` block, or what an older run's config says (flat model then)."""
    recorded = run.meta.get("pricing")
    if isinstance(recorded, dict):
        return recorded
    options = (run.meta.get("config") or {}).get("options") or {}
    source = str(options.get("pricing_source", "model"))
    return {
        "source": source,
        "chain_store": (options.get("chain_store") or run.meta.get("store")) if source == "chain" else None,
        "vol_model": str(options.get("vol_model", "flat")),
        "calibrations": {},
        "model_risk": None,
    }


def _exit_counts(run: RunFolder) -> dict[str, int] | None:
    """Trades per ``exit_priced_by`` value (None: the trade log predates the column)."""
    if "exit_priced_by" not in run.trades:
        return None
    return {str(k): int(v) for k, v in run.trades["exit_priced_by"].astype(str).value_counts().items()}


def model_description(vol_model: str) -> str:
    """What ``vol_model`` is, in a phrase."""
    if vol_model == "session":
        return ("the session-vol model of SPEC 7.1 (variance clock, HAR vol forecast x implied "
                "premium, smile, calibrated bid/ask)")
    if vol_model == "flat":
        return "the flat model (calendar-minute T, close-to-close vol x iv_multiplier)"
    return f"vol_model {vol_model}"


def source_sentence(run: RunFolder) -> str:
    """One sentence: where the run's option prices came from (the compare page's fact)."""
    record = pricing_record(run)
    vol_model = str(record.get("vol_model") or "flat")
    if record.get("source") != "chain":
        return f"model prices: {model_description(vol_model)}"
    head = f"real option quotes from the chain store {record.get('chain_store') or 'n/a'}"
    counts = _exit_counts(run)
    if counts is None:
        return f"{head} (how the exits were priced is not recorded)"
    sentence = (f"{head}; {count(counts.get('model', 0))} of {count(len(run.trades))} exits had no "
                f"quote and were priced by {model_description(vol_model)}")
    if counts.get("intrinsic", 0):
        sentence += f", {count(counts['intrinsic'])} at intrinsic value (the model had no vol either)"
    return sentence


def calibration_sentence(symbol: str, calibration: dict[str, Any]) -> str:
    """``SPY: <file>, fitted on 15 sessions 2026-07-17..2026-08-07 (...); stated error ...``."""
    fitted = calibration.get("fitted_on") or {}
    sessions = fitted.get("sessions")
    n_sessions = len(sessions) if isinstance(sessions, list) else None
    span = f"{fitted.get('first_session', '?')}..{fitted.get('last_session', '?')}"
    fitted_text = f"{n_sessions} sessions {span}" if n_sessions else span
    if fitted.get("quotes"):
        fitted_text += f" of {fitted['quotes']}"
    owner = str(calibration.get("symbol") or symbol)
    whose = "" if owner == symbol else f" ({owner}'s calibration: no {symbol} file)"
    spreads = (calibration.get("error") or {}).get("spreads") or {}
    note = (calibration.get("error") or {}).get("note") or ""
    label = "in-sample" if "in-sample" in str(note) else "as stated"
    if spreads:
        error = (
            f"its stated error ({label}, {count(float(spreads.get('n', float('nan'))))} strategy-shaped spreads): "
            f"mid median |err| {fraction(float(spreads.get('median_abs_error', float('nan'))))}, "
            f"bias {signed_fraction(float(spreads.get('median_error', float('nan'))))}, "
            f"half-spread {cents(float(spreads.get('median_abs_half_spread_error', float('nan'))))}"
        )
    else:
        error = "the file states no error"
    return f"{symbol}: {calibration.get('file', '?')}{whose}, fitted on {fitted_text}; {error}."


def hold_out_sentence(vol_model: str) -> str | None:
    """The model's measured validation error on unseen sessions (bench/README.md), if measured."""
    measured = HOLD_OUT_ERRORS.get(vol_model)
    if measured is None:
        return None
    return (
        f"Measured hold-out validation error of the {vol_model} model (bench/README.md, "
        f"option_model_validation.py): on {HOLD_OUT_SESSIONS}{HOLD_OUT_FIT.get(vol_model, '')}, "
        f"strategy-shaped spread mids are off by a "
        f"median {fraction(measured.median_abs_error)} (bias {signed_fraction(measured.median_error)}), "
        f"half-spread by {cents(measured.half_spread_error)}."
    )


def pricing_lines(run: RunFolder) -> list[str]:
    """The report's pricing statement: source, model, calibrations, validation error."""
    record = pricing_record(run)
    vol_model = str(record.get("vol_model") or "flat")
    lines = [f"Option prices: {source_sentence(run)}."]
    calibrations = record.get("calibrations") or {}
    if calibrations:
        lines.append("Calibration used: " + " ".join(
            calibration_sentence(symbol, calibrations[symbol]) for symbol in sorted(calibrations)
        ))
    elif vol_model == "flat":
        lines.append("Calibration used: none (the flat model takes iv_multiplier from the config).")
    hold_out = hold_out_sentence(vol_model)
    if hold_out is not None:
        lines.append(hold_out)
    return lines
