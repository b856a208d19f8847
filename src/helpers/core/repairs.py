"""Which work of a run is unfinished, and which later run finished it: one rule for the
daily report's "Repaired by", `runner runs --status needs-attention` and `runner rerun`.

Pure functions over rows of `fact_run_registry` (a DataFrame with run_id, step, status,
started_ts_utc, rerun_of and, on the run's own row, parameters_json).

- A run's **unfinished steps** are the steps it enabled that did not end `success`: failed,
  timed out, interrupted, partial, or never started (no row, or skipped by fail-fast after an
  earlier failure); plus its reports (`report`) when their render failed or was cut short.
- Only a **rerun** repairs: a run whose `rerun_of` chain leads back to the same original run,
  started later, in which that step (or the render) ended `success`. A later scheduled run
  of the same slate repairs nothing: it did not redo the failed run's work, and its own
  steps say what they did.
- A run is **repaired** once every unfinished step of it is; `repaired_by` is the run that
  finished the last of them. A run **needs attention** when it failed, was partial or was
  interrupted and is not repaired.
"""

from __future__ import annotations

import json

import pandas as pd

from helpers.core.steps import STEPS

RUN_STEP = "run"
REPORT_STEP = "report"
UNFINISHED_STATUSES = ("failed", "timeout", "interrupted", "partial", "running")
ATTENTION_STATUSES = ("failed", "partial", "interrupted")
_PIPELINE = tuple(step.name for step in STEPS)


def enabled_steps(parameters_json: object) -> tuple[str, ...] | None:
    """The steps a run enabled, from its run row's parameters (None when not recorded)."""
    if not isinstance(parameters_json, str):
        return None
    try:
        enabled = json.loads(parameters_json).get("enabled")
    except (ValueError, AttributeError):
        return None
    if not isinstance(enabled, dict):
        return None
    return tuple(name for name in _PIPELINE if enabled.get(name))


def unfinished_steps(run_rows: pd.DataFrame) -> list[str]:
    """The steps of one run (its registry rows) that did not finish, in step order; `report`
    last when the run's render failed or was cut short."""
    status = dict(zip(run_rows["step"], run_rows["status"], strict=True))
    head = run_rows[run_rows["step"] == RUN_STEP]
    enabled = enabled_steps(head["parameters_json"].iloc[0]) if not head.empty else None
    if enabled is None:  # parameters not recorded: the rows alone say what went wrong
        enabled = tuple(name for name in _PIPELINE if name in status)
    unfinished = [name for name in enabled
                  if status.get(name, "never started") not in ("success",)]
    if status.get(REPORT_STEP) in UNFINISHED_STATUSES:
        unfinished.append(REPORT_STEP)
    return unfinished


def _roots(runs: pd.DataFrame) -> dict[str, str]:
    """run_id -> the original run its `rerun_of` chain leads back to (itself if none)."""
    parent = {r: p for r, p in zip(runs["run_id"], runs["rerun_of"], strict=True)
              if isinstance(p, str)}
    roots = {}
    for run_id in runs["run_id"]:
        seen, current = {run_id}, run_id
        while current in parent and parent[current] not in seen:
            current = parent[current]
            seen.add(current)
        roots[run_id] = current
    return roots


def step_repairs(registry: pd.DataFrame) -> pd.DataFrame:
    """One row per unfinished step of every run in `registry`: run_id, step and
    repaired_by (the first later rerun of the same chain where the step ended `success`,
    else None). `registry` must hold every run of the chains concerned (e.g. every run of a
    slate)."""
    columns = ["run_id", "step", "repaired_by"]
    if registry.empty:
        return pd.DataFrame(columns=columns)
    heads = registry[registry["step"] == RUN_STEP]
    roots = _roots(heads)
    started = dict(zip(heads["run_id"], heads["started_ts_utc"], strict=True))
    succeeded = registry[registry["status"] == "success"]
    done_by = {}  # (root, step) -> [(started, run_id), ...]
    for run_id, step in zip(succeeded["run_id"], succeeded["step"], strict=True):
        if run_id in roots:
            done_by.setdefault((roots[run_id], step), []).append((started[run_id], run_id))
    rows = []
    for run_id, run_rows in registry.groupby("run_id", sort=False):
        if run_id not in roots:
            continue
        for step in unfinished_steps(run_rows):
            later = sorted(r for r in done_by.get((roots[run_id], step), [])
                           if r[1] != run_id and pd.Timestamp(r[0]) > pd.Timestamp(
                               started[run_id]))
            rows.append((run_id, step, later[0][1] if later else None))
    return pd.DataFrame(rows, columns=columns)


def run_repairs(registry: pd.DataFrame) -> dict[str, str | None]:
    """run_id -> the rerun that finished its last unfinished step, or None while any is
    still unfinished; only runs with something unfinished appear."""
    repairs = step_repairs(registry)
    found: dict[str, str | None] = {}
    for run_id, rows in repairs.groupby("run_id", sort=False):
        by = rows["repaired_by"]
        found[run_id] = None if by.isna().any() else max(by)
    return found
