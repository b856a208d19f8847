"""The machine-readable last line of every benchmark: `BENCH_RESULT {json}`.

Each bench_*.py keeps its human output and ends with one such line, so that
`python -m benchmarks` can build its table without parsing prose. The JSON is
{"figures": [{"name", "value", "unit", "target", "baseline"}, ...]}, where `target` is
[op, number] (op one of <, <=, >, >=) when a bar is set, else null, and `baseline` marks a
same-run baseline figure.
"""

from __future__ import annotations

import json
import math

PREFIX = "BENCH_RESULT "
OPERATORS = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}


def figure(name: str, value: float | None, unit: str, target: tuple[str, float] | None = None,
           baseline: bool = False) -> dict:
    if target is not None and target[0] not in OPERATORS:
        raise ValueError(f"target operator must be one of {sorted(OPERATORS)}: {target!r}")
    number = None if value is None or not math.isfinite(float(value)) else float(value)
    return {"name": name, "value": number, "unit": unit,
            "target": list(target) if target else None, "baseline": baseline}


def emit(figures: list[dict]) -> None:
    """Print the result line; call it last, after the human output."""
    print(PREFIX + json.dumps({"figures": figures}), flush=True)


def verdict(fig: dict) -> str:
    """met / missed against the figure's target, '-' without one (or without a value)."""
    if not fig.get("target") or fig.get("value") is None:
        return "-"
    op, bar = fig["target"]
    return "met" if OPERATORS[op](float(fig["value"]), float(bar)) else "missed"
