"""`python -m runner daily`: the five steps in order, each a papermill run in a child process.

The driver holds no DuckDB connection while a notebook runs (DuckDB has one writer); it opens
the database only to append each step's registry row after the step ends.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from helpers.core import db
from helpers.core.clock import utcnow
from helpers.core.errors import DatabaseBusyError, ReportRenderError
from helpers.core.paths import check_run_paths
from helpers.core.settings import Settings, redact
from helpers.core.slate import Slate
from runner.codes import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL
from runner.export import export_after_run
from runner.kernel import ensure_kernel
from runner.lock import RunLock
from runner.registry import (
    REPORT_STEP,
    REPORT_STEP_ORDER,
    RUN_STEP,
    RUN_STEP_ORDER,
    StepRecord,
    code_version,
    mark_interrupted,
    parameters_json,
    slates_of_runs,
    upsert_records,
    write_records,
)
from runner.standby import Standby, Warmer
from runner.steps import STEPS, Step
from runner.worker import one_line

# A run with this step enabled renders the reports at its end; so does a rerun, whose
# repairs the reports must show.
REPORT_AFTER = "diagnostics"
FAILURE_STATUSES = ("failed", "timeout")
REPORT_STANDBY = "report"
STEPS_BY_NAME = {step.name: step for step in STEPS}


@dataclass(frozen=True)
class DailyOptions:
    slate: Slate  # made once, from --date and --as-of; each step gets it as two parameters
    enabled: dict[str, bool]
    fail_fast: bool
    step_timeout_seconds: float
    wall_clock_seconds: float
    dry_run: bool = False
    notebooks_dir: Path | None = None
    rerun_of: str | None = None  # `runner rerun`: the run this one repeats

    @property
    def slate_date(self) -> date:
        return self.slate.date

    @property
    def as_of(self) -> datetime:
        return self.slate.as_of


def wall_clock_seconds(settings: Settings, step_timeout_seconds: float) -> float:
    """A step's hard limit: DAILY_STEP_WALL_CLOCK_SECONDS when set, else three cell timeouts
    and a minute."""
    if "DAILY_STEP_WALL_CLOCK_SECONDS" in settings.explicit:
        return settings.run.step_wall_clock_seconds
    return 3 * step_timeout_seconds + 60


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def exit_code(statuses: list[str]) -> int:
    if any(s in FAILURE_STATUSES for s in statuses):
        return EXIT_FAILED
    if "partial" in statuses:
        return EXIT_PARTIAL
    return EXIT_OK


def format_plan(options: DailyOptions, settings: Settings, notebooks_dir: Path) -> str:
    lines = [f"daily plan: slate {options.slate_date}, as of {options.as_of:%Y-%m-%dT%H:%M:%SZ}, "
             f"db {settings.paths.db_path}, fail-fast {'on' if options.fail_fast else 'off'}, "
             f"step timeout {options.step_timeout_seconds:g}s"]
    for step in STEPS:
        state = "RUN" if options.enabled[step.name] else "off"
        lines.append(f"  {step.order} {step.name:<15} {state:<4} {notebooks_dir / step.notebook}"
                     f"  ({step.cli_flag} / {step.env_var})")
    if options.rerun_of:
        lines.append(f"  a rerun of {options.rerun_of}")
    if options.enabled[REPORT_AFTER] or options.rerun_of:
        lines.append(f"  then render the daily and rolling reports into "
                     f"{settings.paths.monitoring_dir}")
    return "\n".join(lines)


def run_daily(options: DailyOptions, settings: Settings, err: TextIO = sys.stderr) -> int:
    notebooks_dir = options.notebooks_dir or settings.paths.notebooks_dir
    print(format_plan(options, settings, notebooks_dir), file=err)
    # A rerun with no step to run renders the reports its run could not.
    if options.dry_run or not (any(options.enabled.values()) or options.rerun_of):
        reason = "dry run" if options.dry_run else "no step enabled"
        print(f"{reason}: nothing executed, nothing written", file=err)
        return EXIT_OK
    # Before anything is created (the lock file, the database, outputs/).
    check_run_paths(settings.paths.db_path, settings.paths.outputs_dir)

    started = utcnow()
    run_id = new_run_id(started)
    run_dir = settings.paths.runs_dir / options.slate_date.isoformat() / run_id
    wait = settings.run.lock_wait_seconds
    with RunLock(settings.paths.db_path, wait) as lock:
        lock.acquire(run_id)
        version = code_version()
        run_record = StepRecord(
            run_id=run_id, slate_date=options.slate_date, as_of_ts_utc=options.as_of,
            step=RUN_STEP, step_order=RUN_STEP_ORDER, status="running", started_ts_utc=started,
            notebook_path=_relative(run_dir, settings.paths.ops_home), code_version=version,
            rerun_of=options.rerun_of,
            parameters_json=parameters_json({"enabled": options.enabled,
                                             "fail_fast": options.fail_fast,
                                             "step_timeout_seconds":
                                                 options.step_timeout_seconds}))
        # The database must be free before anything runs: a run whose registry cannot be
        # written would leave executed notebooks that no query can find. The run is in the
        # registry from here on, so a kill at any later moment leaves a trace.
        con = db.connect(settings.paths.db_path, wait_seconds=wait)
        try:
            interrupted = mark_interrupted(con, run_id)
            runs = sorted({r for r, _ in interrupted})
            touched = slates_of_runs(con, runs)  # their copies are written again at the end
            upsert_records(con, [run_record])
        finally:
            con.close()
        if interrupted:
            print(f"run {run_id}: marked {len(interrupted)} registry rows of earlier run(s) "
                  f"{', '.join(runs)} as interrupted (their process is gone)", file=err)
        kernel = ensure_kernel(settings.run.kernel_name)
        run_dir.mkdir(parents=True, exist_ok=True)
        print(f"run {run_id}: notebooks -> {run_dir}", file=err)
        statuses: list[str] = []
        stopped_by: str | None = None
        enabled = [step for step in STEPS if options.enabled[step.name]]

        renders = options.enabled[REPORT_AFTER] or bool(options.rerun_of)

        # The workers of the steps to run, then the reports', warmed in order (`Warmer`).
        jobs = [step.name for step in enabled] + ([REPORT_STANDBY] if renders else [])

        def start_worker(job: str) -> Standby:
            if job == REPORT_STANDBY:
                from runner.render import report_standby

                return report_standby(settings, options.slate_date, kernel)
            step = STEPS_BY_NAME[job]
            return Standby(kernel, notebooks_dir / step.notebook, settings.paths.ops_home,
                           run_dir / f"{step.stem}.log")

        warmer = Warmer(jobs, start_worker)
        finishing: list[Standby] = []  # ran their step; shutting their kernels down
        # Rows final since the last registry write; they go with the next one, which comes
        # before anything else runs (a step's 'running' row, the run's end), so a kill never
        # finds a step final in the process and still 'running' in the registry. One
        # connection per step instead of two: each costs ~30 ms.
        pending: list[StepRecord] = []
        try:
            for step in STEPS:
                record = StepRecord(run_id=run_id, slate_date=options.slate_date,
                                    as_of_ts_utc=options.as_of, step=step.name,
                                    step_order=step.order, status="skipped",
                                    code_version=version, rerun_of=options.rerun_of)
                if not options.enabled[step.name]:
                    record.error_summary = f"not enabled ({step.cli_flag} / {step.env_var})"
                elif stopped_by is not None:
                    record.error_summary = f"fail-fast: not run after {stopped_by}"
                else:
                    worker = warmer.take(step.name)
                    try:
                        _run_step(step, record, options, settings, notebooks_dir, run_dir,
                                  worker, err, warmer.tick, pending)
                    finally:
                        worker.cancel()  # only if the step never reached its worker
                        finishing.append(worker)
                    statuses.append(record.status)
                    if options.fail_fast and record.status in FAILURE_STATUSES:
                        stopped_by = f"{step.name} {record.status}"
                if record.status == "skipped" and options.enabled[step.name]:
                    # a step the plan said 'off' is not news; one fail-fast stopped is
                    print(f"[{step.order}/{len(STEPS)}] {step.name}: skipped - "
                          f"{record.error_summary}", file=err)
                pending.append(record)
            code = exit_code(statuses)
            _finish_run_record(run_record, statuses, code)
            pending.append(run_record)
            if renders:
                report_worker = warmer.take(REPORT_STANDBY)
                finishing.append(report_worker)
                code = render_run_reports(run_record, options, settings, kernel, code, err,
                                          report_worker, pending)
            else:
                write_records(settings.paths.db_path, pending, wait_seconds=wait)
            # Last, the render's row and the run's final included; still under the lock.
            if not export_after_run(settings, run_record, err, also=touched):
                code = EXIT_FAILED
        except DatabaseBusyError as exc:
            # The run's rows stay 'running'; the next run marks them interrupted.
            print(f"run {run_id} stopped: its registry could not be written - {exc}", file=err)
            return EXIT_FAILED
        finally:
            unused = warmer.close()  # workers of steps that will not run (fail-fast, a stop)
            for standby in unused:
                standby.cancel()
            for worker in [*finishing, *unused]:  # none outlives the run
                worker.reap()
    print(f"run {run_id} finished: {', '.join(statuses) or 'nothing ran'} -> exit {code}",
          file=err)
    return code


def render_run_reports(run_record: StepRecord, options: DailyOptions, settings: Settings,
                       kernel: str, code: int, err: TextIO, standby: Standby | None,
                       pending: list[StepRecord]) -> int:
    """Render the reports once the run's registry rows are final (`pending` written with
    the render's 'running' row), so that they show them. A failed render leaves the
    previous reports in place and fails the run."""
    from runner.render import executed_path, render_reports

    wait = settings.run.lock_wait_seconds
    record = StepRecord(
        run_id=run_record.run_id, slate_date=options.slate_date,
        as_of_ts_utc=options.as_of, step=REPORT_STEP, step_order=REPORT_STEP_ORDER,
        status="running", started_ts_utc=utcnow(), code_version=run_record.code_version,
        rerun_of=options.rerun_of,
        notebook_path=_relative(executed_path(settings, options.slate_date),
                                settings.paths.ops_home))
    write_records(settings.paths.db_path, [*pending, record], wait_seconds=wait)
    pending.clear()
    print(f"run {run_record.run_id}: rendering the reports", file=err)
    t0 = time.monotonic()
    try:
        reports = render_reports(settings, options.slate_date, kernel,
                                 options.step_timeout_seconds, options.wall_clock_seconds,
                                 standby)
    except (ReportRenderError, OSError) as exc:  # recorded on the run's row and shown
        summary = redact(one_line(str(exc)), settings.secret_values())
        print(f"run {run_record.run_id}: report rendering failed - {summary}", file=err)
        _finish(record, t0, "failed", "ReportRenderError", summary)
        run_record.status, run_record.error_type = "failed", "ReportRenderError"
        run_record.error_summary = f"{run_record.error_summary}; reports not rendered: {summary}"
        write_records(settings.paths.db_path, [record, run_record], wait_seconds=wait)
        return EXIT_FAILED
    _finish(record, t0, "success", None, f"daily and rolling reports for {options.slate_date}")
    write_records(settings.paths.db_path, [record], wait_seconds=wait)
    for line in reports.lines():
        print(f"run {run_record.run_id}: {line}", file=err)
    return code


def _finish(record: StepRecord, t0: float, status: str, error_type: str | None,
            summary: str | None) -> None:
    record.status, record.error_type, record.error_summary = status, error_type, summary
    record.finished_ts_utc = utcnow()
    record.duration_s = round(time.monotonic() - t0, 3)


RUN_STATUS_BY_EXIT = {EXIT_OK: "success", EXIT_PARTIAL: "partial", EXIT_FAILED: "failed"}


def _finish_run_record(record: StepRecord, statuses: list[str], code: int) -> None:
    record.status = RUN_STATUS_BY_EXIT[code]
    record.finished_ts_utc = utcnow()
    if record.started_ts_utc is not None:
        record.duration_s = round((record.finished_ts_utc - record.started_ts_utc)
                                  .total_seconds(), 3)
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    record.error_summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "nothing ran"


def _run_step(step: Step, record: StepRecord, options: DailyOptions, settings: Settings,
              notebooks_dir: Path, run_dir: Path, worker: Standby, err: TextIO,
              while_waiting: Callable[[], None], pending: list[StepRecord]) -> None:
    """Run one step on its (warm) worker, calling `while_waiting` meanwhile; `record` gets
    its outcome. Its 'running' row is written with the `pending` ones."""
    output = run_dir / step.notebook
    parameters = {
        **options.slate.parameters(),  # the notebook's step_context parses them back
        "run_id": record.run_id,
        "db_path": str(settings.paths.db_path),
        "ops_home": str(settings.paths.ops_home),
        "offline_demo": False,
    }
    spec = {
        "input": str(notebooks_dir / step.notebook),
        "output": str(output),
        "parameters": parameters,
        "kernel_name": worker.kernel_name,
        "execution_timeout": options.step_timeout_seconds,
        "cwd": str(settings.paths.ops_home),
        "result_path": str(run_dir / f"{step.stem}.result.json"),
        "parent_pid": os.getpid(),
        # Every variable's effective value (secrets as ***), to reproduce the step from here.
        "settings": settings.effective(),
    }
    spec_path = run_dir / f"{step.stem}.spec.json"
    spec_path.write_text(json.dumps(spec, indent=1))
    record.parameters_json = parameters_json(parameters)
    record.notebook_path = _relative(output, settings.paths.ops_home)

    record.started_ts_utc = utcnow()
    record.status = "running"
    write_records(settings.paths.db_path, [*pending, record],
                  wait_seconds=settings.run.lock_wait_seconds)
    pending.clear()
    print(f"[{step.order}/{len(STEPS)}] {step.name}: running {step.notebook}", file=err)
    t0 = time.monotonic()
    outcome = worker.go(spec_path, Path(spec["result_path"]), options.wall_clock_seconds,
                        while_waiting)
    record.duration_s = round(time.monotonic() - t0, 3)
    record.finished_ts_utc = utcnow()
    record.status = outcome["status"]
    record.error_type = outcome.get("error_type")
    summary = outcome.get("error_summary")
    record.error_summary = redact(summary, settings.secret_values()) if summary else None
    detail = f" - {record.error_type}: {record.error_summary}" if record.error_type else ""
    print(f"[{step.order}/{len(STEPS)}] {step.name}: {record.status} in {record.duration_s:.1f}s"
          f"{detail} -> {record.notebook_path}", file=err)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
