"""The JSON companions of the pages: metrics.json and compare.json.

Sorted keys, NaN as null, numpy scalars as Python numbers, and an infinite profit factor
as ``Infinity``: the same numbers as the page beside them, for scripts and CI.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from vwapcli.core.skips import RISK_REASONS
from vwapcli.report.acceptance import Assessment
from vwapcli.report.model_risk import ModelRisk
from vwapcli.report.portfolio import Comparison, MetricChange, RunSide
from vwapcli.report.pricing import source_sentence


def json_ready(value: Any) -> Any:
    """A nested value with NaN as None and numpy scalars as Python ones (for json.dumps)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return json_ready(value.item())
    return value


def metrics_document(
    assessments: dict[str, Assessment],
    model_risk: Mapping[str, ModelRisk] | None = None,
    model_risk_note: str = "",
) -> str:
    """metrics.json text: sorted keys, NaN as null, infinite profit factor as Infinity.

    Each entry carries ``model_risk`` = ``{scales, rows, break_even_scale}`` (SPEC 7.1);
    without a model-risk table (older run folder, chain mode) the lists are empty, the
    break-even null, and ``model_risk_note`` says why.
    """
    document = {}
    for name, assessment in assessments.items():
        entry = assessment.as_dict()
        risk = (model_risk or {}).get(name)
        if risk is not None:
            entry["model_risk"] = risk.as_dict()
        else:
            entry["model_risk"] = {"scales": [], "rows": [], "break_even_scale": None}
            entry["model_risk_note"] = model_risk_note or "no model-risk table"
        document[name] = json_ready(entry)
    return json.dumps(document, sort_keys=True, indent=2) + "\n"


def _side_document(side: RunSide) -> dict[str, Any]:
    return {
        "path": str(side.folder.path),
        "strategies": side.folder.strategies,
        "starting_equity": side.folder.starting_equity,
        "ending_equity": side.summary.ending_equity,
    }


def _metric_document(row: MetricChange) -> dict[str, Any]:
    return {
        "label": row.label, "base": row.base, "run": row.run, "change": row.change,
        "higher_is_better": row.higher_is_better, "base_note": row.notes[0],
        "run_note": row.notes[1],
    }


def compare_document(comparison: Comparison) -> str:
    """compare.json text: sorted keys, NaN as null, the same numbers as the page."""
    crowding = comparison.crowding
    module = comparison.module
    signals = [
        {**record, "entry_time": record["entry_time"].isoformat()}
        for record in crowding.changed.to_dict("records")
    ] if not crowding.changed.empty else []
    verdict = comparison.verdict
    document = {
        "base": _side_document(comparison.base),
        "run": _side_document(comparison.run),
        "added_strategies": comparison.added,
        "shared_strategies": comparison.shared,
        "same_run": comparison.same_run,
        "metrics": {row.key: _metric_document(row) for row in comparison.metrics},
        "strategies": {
            row.name: {
                "added": row.added,
                "trades": {"base": row.base_trades, "run": row.run_trades,
                           "change": row.run_trades - row.base_trades},
                "net_pnl": {"base": row.base_pnl, "run": row.run_pnl,
                            "change": row.run_pnl - row.base_pnl},
            }
            for row in comparison.strategies
        },
        "crowding_out": {
            "change": crowding.change, "base_count": crowding.base_count,
            "run_count": crowding.run_count, "risk_reasons": list(RISK_REASONS),
            "signals": signals,
        },
        "correlation": {
            "value": module.correlation, "sessions": int(module.module_pnl.size),
            "module_days": module.module_days, "both_days": module.both_days,
        },
        "verdict": comparison.verdict_label,
        "criteria": {} if verdict is None else {c.key: c.as_dict() for c in verdict.criteria},
        "not_proven": [] if verdict is None else [c.key for c in verdict.criteria if c.not_proven],
        "bootstrap": {
            "samples": comparison.acceptance.bootstrap_samples,
            "seed": comparison.acceptance.bootstrap_seed,
            "block_length_days": comparison.acceptance.block_length_days,
            "scheme": "paired stationary block bootstrap of daily returns",
        },
        "warnings": comparison.warnings,
        "pricing": {"base": source_sentence(comparison.base.folder), "run": source_sentence(comparison.run.folder)},
    }
    return json.dumps(json_ready(document), sort_keys=True, indent=2) + "\n"
