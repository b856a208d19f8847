"""What the person on call needs when the morning run fails: `runner runs` (what ran),
`runner show RUN` (why it failed, and what to try next) and the plan of `runner rerun RUN`
(which steps to run again, with the original slate and as-of).

Everything here reads: the registry and fetch log through a read-only connection, the
executed notebooks, worker logs and specs from the run's folder, and the run lock's holder
file (to tell a run still going from one whose process died). Nothing takes the run lock;
`rerun` itself goes through the daily driver, which does.
"""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import nbformat
import pandas as pd

from helpers.core.errors import UsageError
from helpers.core.repairs import (
    ATTENTION_STATUSES,
    REPORT_STEP,
    enabled_steps,
    run_repairs,
    step_repairs,
    unfinished_steps,
)
from helpers.core.steps import STEPS, readers_of

NEEDS_ATTENTION = "needs-attention"

STATUS_MARK = {"success": "✓", "partial": "◐", "failed": "✗", "timeout": "✗",
               "interrupted": "✗", "running": "…", "skipped": "·"}
RERUN_STATUSES = ("failed", "timeout", "interrupted", "partial")
TRACEBACK_LINES = 12
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# The next thing to try, by error type (the README's "When the morning run fails").
ADVICE = {
    "VendorError": "A vendor did not answer or sent something unusable. The per-vendor fetch "
                   "summary above says which and how; check FORCE_VENDOR_FAILURE and the "
                   "base URL, then `python -m runner rerun {run} --step odds_ingestion`.",
    "PartialStep": "Some of the step's work failed (for ingestion: a vendor). Once the cause "
                   "is fixed, `python -m runner rerun {run}` runs the step again.",
    "SchemaDriftError": "A vendor changed its format. Fix the parser, then "
                        "`python -m runner renormalize --vendor V` rebuilds its stored rows.",
    "CellTimeoutError": "A cell ran past DAILY_STEP_TIMEOUT_SECONDS. The notebook shows which "
                        "cell; raise the timeout or find what hung, then rerun.",
    "WallClockTimeout": "The step passed its hard wall-clock limit and was killed "
                        "(DAILY_STEP_WALL_CLOCK_SECONDS); see the worker log, then rerun.",
    "DeadKernelError": "The kernel died (out of memory or a crash). See the worker log; "
                       "rerun once memory is free.",
    "WorkerCrashed": "The step's worker process exited without a result: see the worker log.",
    "DatabaseBusyError": "Another process held the database (a notebook, the duckdb shell). "
                         "Close it, then rerun.",
    "Interrupted": "The process running this ended before it finished (killed, crashed, or "
                   "the machine stopped). Nothing is half loaded: "
                   "`python -m runner rerun {run}` runs the unfinished steps again.",
    "ReportRenderError": "The reports were not rendered; the previous ones are in place. See "
                         "outputs/monitoring/executed/ for the notebook and its log, then "
                         "`python -m runner rerun {run}` renders them (and marks the run "
                         "repaired).",
}
DEFAULT_ADVICE = ("Open the executed notebook at the failing cell above; once fixed, "
                  "`python -m runner rerun {run}` runs the failed steps again.")


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> pd.DataFrame:
    return con.execute(sql, params).df()


def _registry(con: duckdb.DuckDBPyConnection, where: str, params: list) -> pd.DataFrame:
    return _frame(con, f"SELECT * FROM fact_run_registry WHERE {where} "
                       f"ORDER BY started_ts_utc NULLS LAST, run_id, step_order", params)


def strip(steps: pd.DataFrame) -> str:
    """The steps' statuses as marks in step order, e.g. '✓ ✓ ✗ · ·'."""
    by_step = dict(zip(steps["step"], steps["status"], strict=True))
    return " ".join(STATUS_MARK.get(by_step.get(s.name, ""), " ") for s in STEPS)


def first_error(steps: pd.DataFrame) -> str | None:
    failed = steps[steps["status"].isin(RERUN_STATUSES)].sort_values("step_order")
    if failed.empty:
        return None
    row = failed.iloc[0]
    cause = f"{row['error_type']}: " if isinstance(row["error_type"], str) else ""
    return f"{row['step']}: {cause}{row['error_summary']}"


def process_alive(db_path: Path, run_id: str) -> bool:
    """Whether the run lock's holder is `run_id` and its process is alive on this host (a
    'running' row whose process is gone is interrupted; the next run will mark it so)."""
    holder_path = db_path.with_name(db_path.name + ".runlock.holder")
    try:
        holder = json.loads(holder_path.read_text())
    except (OSError, ValueError):
        return False
    if holder.get("run_id") != run_id or holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(holder["pid"]), 0)
    except (ProcessLookupError, ValueError, KeyError, TypeError):
        return False
    except PermissionError:
        return True
    return True


def effective(registry: pd.DataFrame, db_path: Path) -> pd.DataFrame:
    """The registry rows with the statuses they really have: a row still 'running' whose
    process is gone is interrupted, and so is its run, even when the run's own row was
    already final (a run killed while rendering its reports)."""
    rows = registry.copy()
    alive = {r: process_alive(db_path, r)
             for r in rows.loc[rows["status"] == "running", "run_id"].unique()}
    dead = rows["status"].eq("running") & ~rows["run_id"].map(alive).fillna(True).astype(bool)
    rows.loc[dead, "status"] = "interrupted"
    cut_short = rows.loc[dead, "run_id"].unique()
    rows.loc[rows["run_id"].isin(cut_short) & rows["step"].eq("run"), "status"] = "interrupted"
    return rows


def _chains(con: duckdb.DuckDBPyConnection, db_path: Path, run_ids: list[str]) -> pd.DataFrame:
    """Every registry row of the slates of `run_ids` (a rerun is always of the same slate),
    effective statuses: what `repairs` needs to follow reruns."""
    return effective(_registry(con, "slate_date IN (SELECT slate_date FROM fact_run_registry "
                                    "WHERE list_contains(?, run_id))", [run_ids]), db_path)


def list_runs(con: duckdb.DuckDBPyConnection, db_path: Path, days: int,
              status: str | None, now: datetime) -> list[dict[str, Any]]:
    """Runs started in the last `days` days, newest first, one dict each. `status`
    'needs-attention': failed, partial or interrupted, and not repaired by a rerun."""
    window = _registry(con, "step = 'run' AND started_ts_utc >= ?", [now - timedelta(days=days)])
    chains = _chains(con, db_path, list(window["run_id"]))
    repaired = run_repairs(chains)
    registry = chains[chains["run_id"].isin(window["run_id"])]
    runs = []
    for run_id, rows in registry.groupby("run_id", sort=False):
        head = rows[rows["step"] == "run"].iloc[0]
        steps = rows[rows["step"] != "run"]
        runs.append({
            "run_id": run_id, "slate_date": str(head["slate_date"])[:10],
            "as_of": f"{pd.Timestamp(head['as_of_ts_utc']):%Y-%m-%dT%H:%M}Z",
            "started": f"{pd.Timestamp(head['started_ts_utc']):%Y-%m-%dT%H:%M:%S}Z",
            "status": head["status"], "steps": strip(steps),
            "duration_s": None if pd.isna(head["duration_s"]) else float(head["duration_s"]),
            "first_error": first_error(steps), "rerun_of": _text(head.get("rerun_of")),
            "repaired_by": repaired.get(run_id)})
    runs.sort(key=lambda r: r["started"], reverse=True)
    return [r for r in runs if _matches(r, status)]


def _matches(run: dict[str, Any], status: str | None) -> bool:
    if status == NEEDS_ATTENTION:
        return run["status"] in ATTENTION_STATUSES and run["repaired_by"] is None
    return status is None or run["status"] == status


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def resolve_run(con: duckdb.DuckDBPyConnection, db_path: Path, ref: str) -> str:
    """A run id from a full id, a unique prefix, `latest` or `latest-failed`."""
    if not ref.strip():  # an empty prefix would match every run, and pick the only one
        raise UsageError("the run is empty: give a run id, a unique prefix of one, latest or "
                         "latest-failed (see `python -m runner runs`)")
    if ref in ("latest", "latest-failed"):
        runs = effective(_registry(con, "TRUE", []), db_path)
        heads = runs[runs["step"] == "run"].sort_values("started_ts_utc", ascending=False)
        for run_id, state in zip(heads["run_id"], heads["status"], strict=True):
            if ref == "latest" or state in ATTENTION_STATUSES:
                return run_id
        raise UsageError(f"no {'failed ' if ref == 'latest-failed' else ''}run in the registry")
    matches = [r for (r,) in con.execute(
        "SELECT DISTINCT run_id FROM fact_run_registry WHERE starts_with(run_id, ?) "
        "ORDER BY run_id", [ref]).fetchall()]
    if not matches:
        raise UsageError(f"no run {ref!r} in the registry (see `python -m runner runs`)")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (" ..." if len(matches) > 5 else "")
        raise UsageError(f"run prefix {ref!r} is ambiguous: {len(matches)} runs ({shown})")
    return matches[0]


def failing_cell(notebook: Path) -> dict[str, Any] | None:
    """The first cell with an error output in an executed notebook: its number, source,
    error and the last lines of its traceback."""
    if not notebook.exists():
        return None
    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError) as exc:  # cut short by a kill mid-save (NotJSONError)
        return {"cell": None, "execution_count": None, "source": "",
                "ename": "UnreadableNotebook",
                "evalue": f"{notebook.name} cannot be read ({type(exc).__name__}): the "
                          f"process was probably killed while saving it",
                "traceback_tail": []}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") == "error":
                lines = "\n".join(_ANSI.sub("", t) for t in output.get("traceback", []))
                return {"cell": index, "execution_count": cell.get("execution_count"),
                        "source": cell.source, "ename": output.get("ename"),
                        "evalue": output.get("evalue"),
                        "traceback_tail": lines.splitlines()[-TRACEBACK_LINES:]}
    return None


def vendor_fetches(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    frame = _frame(con, """
        SELECT vendor, count(*) AS attempts, count(*) FILTER (WHERE attempt > 1) AS retries,
               string_agg(DISTINCT coalesce(status_code::VARCHAR, 'no response'), ', ')
                   AS statuses,
               count(*) FILTER (WHERE error IS NOT NULL OR status_code >= 400) AS errors,
               round(median(elapsed_ms)) AS median_ms, round(max(elapsed_ms)) AS max_ms,
               any_value(error) FILTER (WHERE error IS NOT NULL) AS an_error
        FROM fact_vendor_fetch_log WHERE run_id = ? GROUP BY vendor ORDER BY vendor
        """, [run_id])
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def rejections(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    frame = _frame(con, "SELECT source_vendor AS vendor, reason, sum(n_rejected) AS rows "
                        "FROM fact_rejected_odds WHERE run_id = ? GROUP BY ALL "
                        "ORDER BY vendor, rows DESC", [run_id])
    return frame.astype(object).to_dict("records")


def run_detail(con: duckdb.DuckDBPyConnection, db_path: Path, ops_home: Path,
               run_id: str) -> dict[str, Any]:
    chains = _chains(con, db_path, [run_id])
    rows = chains[chains["run_id"] == run_id].sort_values("step_order")
    head = rows[rows["step"] == "run"].iloc[0]
    state = head["status"]
    repairs = step_repairs(chains)
    repairs = repairs[repairs["run_id"] == run_id]
    steps = []
    for r in rows[rows["step"] != "run"].itertuples():
        notebook = ops_home / r.notebook_path if isinstance(r.notebook_path, str) else None
        status = r.status
        step = {"step": r.step, "status": status,
                "duration_s": None if pd.isna(r.duration_s) else float(r.duration_s),
                "error_type": _text(r.error_type), "summary": _text(r.error_summary),
                "notebook": str(notebook) if notebook else None}
        if notebook is not None:
            stem = Path(notebook).stem
            step["worker_log"] = str(notebook.with_name(f"{stem}.log"))
            step["spec"] = str(notebook.with_name(f"{stem}.spec.json"))
        if status in RERUN_STATUSES and notebook is not None:
            step["failing_cell"] = failing_cell(notebook)
        steps.append(step)
    started = [s for s in steps if s["status"] != "skipped"]
    detail = {"run_id": run_id, "slate_date": str(head["slate_date"])[:10],
              "as_of": f"{pd.Timestamp(head['as_of_ts_utc']):%Y-%m-%dT%H:%M:%S}Z",
              "status": state, "duration_s": None if pd.isna(head["duration_s"])
              else float(head["duration_s"]), "summary": _text(head["error_summary"]),
              "rerun_of": _text(head.get("rerun_of")), "code_version": _text(head["code_version"]),
              "steps": steps,
              "last_step_started": started[-1]["step"] if started else None,
              "unfinished": list(repairs["step"]),
              "repaired_by": run_repairs(chains).get(run_id),
              "repairs": {r.step: r.repaired_by for r in repairs.itertuples()
                          if isinstance(r.repaired_by, str)}}
    if any(s["step"] == "odds_ingestion" and s["status"] != "skipped" for s in steps):
        detail["vendor_fetches"] = vendor_fetches(con, run_id)
        detail["rejections"] = rejections(con, run_id)
    detail["next"] = next_steps(detail)
    return detail


def next_steps(detail: dict[str, Any]) -> list[str]:
    if detail["repaired_by"]:
        return [f"Nothing: run {detail['repaired_by']} (a rerun) finished what this run "
                f"left unfinished ({', '.join(detail['unfinished'])})."]
    types = []
    for step in detail["steps"]:
        if step["status"] in RERUN_STATUSES:
            kind = "Interrupted" if step["status"] == "interrupted" else step["error_type"]
            if kind not in types:
                types.append(kind)
    if REPORT_STEP in detail["unfinished"] and not types:  # the run's render did not finish
        types.append("ReportRenderError")
    return [ADVICE.get(t or "", DEFAULT_ADVICE).format(run=detail["run_id"],
                                                       slate=detail["slate_date"])
            for t in types]


def rerun_steps(con: duckdb.DuckDBPyConnection, db_path: Path, run_id: str,
                named: list[str], only: bool = False) -> list[str]:
    """The steps a rerun of `run_id` runs, in step order: the named ones, or else the run's
    unfinished ones (failed, timed out, interrupted, partial, or never started); then, unless
    `only`, every step of the original run that reads what those write (a rerun of ingestion
    reruns EV and what follows). An empty list: only the run's reports are unfinished, and
    the rerun renders them."""
    chains = _chains(con, db_path, [run_id])
    rows = chains[chains["run_id"] == run_id]
    if named:
        chosen = [s.name for s in STEPS if s.name in named]
    else:
        repaired = run_repairs(chains).get(run_id, "nothing to repair")
        if repaired == "nothing to repair":
            raise UsageError(f"run {run_id} has no unfinished step; name the steps to run "
                             f"again with --step")
        if repaired is not None:
            raise UsageError(f"run {run_id} was already repaired by run {repaired}; name the "
                             f"steps to run again with --step")
        chosen = [step for step in unfinished_steps(rows) if step != REPORT_STEP]
    if only or not chosen:
        return chosen
    head = rows[rows["step"] == "run"]
    original = enabled_steps(head["parameters_json"].iloc[0]) if not head.empty else None
    if original is None:
        original = tuple(rows.loc[rows["status"] != "skipped", "step"])
    later = [step for step in readers_of(chosen) if step in original]
    return [s.name for s in STEPS if s.name in chosen or s.name in later]


# ---- text ------------------------------------------------------------------------------

def format_runs(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "no runs"
    steps = " ".join(f"{s.order}" for s in STEPS)
    lines = [f"{'run':<24} {'slate':<10} {'as of':<17} {steps:<9} {'status':<11} "
             f"{'seconds':>8}  first error"]
    for r in runs:
        seconds = f"{r['duration_s']:.0f}" if r["duration_s"] is not None else ""
        rerun = f" (rerun of {r['rerun_of']})" if r["rerun_of"] else ""
        if r["repaired_by"]:
            rerun += f" (repaired by {r['repaired_by']})"
        lines.append(f"{r['run_id']:<24} {r['slate_date']:<10} {r['as_of']:<17} "
                     f"{r['steps']:<9} {r['status']:<11} {seconds:>8}  "
                     f"{_clip(r['first_error'] or '')}{rerun}")
    return "\n".join(lines)


def _clip(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_detail(d: dict[str, Any]) -> str:
    lines = [f"run {d['run_id']}: {d['status']}, slate {d['slate_date']}, as of {d['as_of']}"
             + (f", {d['duration_s']:.0f} s" if d["duration_s"] is not None else "")
             + (f", rerun of {d['rerun_of']}" if d["rerun_of"] else "")]
    if d["repaired_by"]:
        lines.append(f"  repaired by run {d['repaired_by']} (a rerun that finished "
                     f"{', '.join(d['unfinished'])})")
    elif d["unfinished"] and d["status"] in ATTENTION_STATUSES:
        lines.append(f"  needs attention: unfinished {', '.join(d['unfinished'])}; no rerun "
                     f"has finished them")
    if d["status"] == "interrupted":
        lines.append(f"  interrupted: its process ended during step "
                     f"{d['last_step_started'] or '(none started)'}")
    for s in d["steps"]:
        if s["status"] == "skipped":
            lines.append(f"[·] {s['step']}: skipped - {s['summary']}")
            continue
        seconds = f" in {s['duration_s']:.1f} s" if s["duration_s"] is not None else ""
        lines.append("")
        lines.append(f"[{STATUS_MARK.get(s['status'], '?')}] {s['step']}: {s['status']}{seconds}"
                     + (f" - {s['error_type']}" if s["error_type"] else ""))
        if s["summary"]:
            lines.append(f"    {s['summary']}")
        if s["step"] in d["repairs"]:
            lines.append(f"    repaired by run {d['repairs'][s['step']]}")
        cell = s.get("failing_cell")
        if cell and cell["cell"] is None:
            lines.append(f"    {cell['ename']}: {cell['evalue']}")
        elif cell:
            lines.append(f"    failing cell {cell['cell']} (execution {cell['execution_count']}):")
            lines += [f"      | {line}" for line in cell["source"].splitlines()]
            lines.append("    traceback (last lines):")
            lines += [f"      {line}" for line in cell["traceback_tail"]]
        if s.get("notebook"):
            lines.append(f"    notebook {s['notebook']}")
            lines.append(f"    worker log {s['worker_log']}  spec {s['spec']}")
    if "vendor_fetches" in d:
        lines += ["", "vendor fetches (this run):"]
        for v in d["vendor_fetches"]:
            lines.append(f"  {v['vendor']:<10} {v['attempts']} attempts ({v['retries']} "
                         f"retries), {v['errors']} errors, statuses {v['statuses']}, median "
                         f"{v['median_ms']} ms, max {v['max_ms']} ms"
                         + (f"; e.g. {_clip(v['an_error'], 120)}" if v["an_error"] else ""))
        if d["rejections"]:
            lines += ["rejected rows:"] + [f"  {r['vendor']:<10} {r['reason']}: {r['rows']}"
                                           for r in d["rejections"]]
    if d["next"]:
        lines += ["", "next:"] + [f"  - {advice}" for advice in d["next"]]
    return "\n".join(lines)
