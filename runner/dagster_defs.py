"""The five steps as Dagster assets: the same notebooks, parameters, registry rows and reports
as `python -m runner daily`, with Dagster's schedule, partitions, re-execution and run queue in
place of cron, a loop of `daily --date`, `rerun` and the run lock. Optional:
`pip install -e ".[dagster]"` in an environment of its own (dagstermill needs
jupyter-client<8; docs/operations.md, "Under Dagster").

    dagster asset materialize -m runner.dagster_defs --select '*' --partition 2025-12-03
    dagster job backfill -m runner.dagster_defs -j history --from 2025-12-01 --to 2025-12-05
    dagster-daemon run -m runner.dagster_defs   # launches backfills' runs and the schedules

- **Partitions** are slate dates (America/New_York), today's included.
- **A Dagster run is one registry run**: its id is made from the Dagster run's start and id,
  its as-of is the one `run_as_of` gives (the tag `nhl_props/as_of`, a parent's, a past
  slate's morning, or the moment the run was created), and
  each step notebook gets the parameters the driver gives it (`Slate.parameters()`, run id,
  database, home, `offline_demo=False`). The first step of the run writes the run's row
  'running', each step its own row as the driver does, and the last one the run's final row.
- **Notebooks** run through dagstermill (its context in place of the parameters cell, then
  the notebook's own defaults, then the run's values), the executed copy saved where the
  driver saves it.
- **A failed step stops the run**, as `--fail-fast` does: Dagster does not materialise an
  asset whose upstream failed. The later steps get 'skipped' rows and the run its final row;
  "re-execute from failure" is then `runner rerun` (its registry run names the run it
  repeats).
- **The reports**: the `reports` asset renders them after diagnostics and writes the Parquet
  copies (`runner/export.py`), as the driver does at a run's end.
- **One run at a time**: the jobs carry the tag `nhl_props/database`; a run-level limit of one
  on it (dagster.yaml) queues the next run until this one ends. Every step still takes the
  run lock, so a driver run and a Dagster run never meet in the database.
"""


import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

import duckdb
import nbformat
from dagster import (
    AssetExecutionContext,
    AssetKey,
    DailyPartitionsDefinition,
    Definitions,
    Failure,
    MaterializeResult,
    asset,
    build_schedule_from_partitioned_job,
    define_asset_job,
)
from dagstermill.factory import execute_notebook
from papermill.exceptions import PapermillExecutionError
from papermill.translators import PythonTranslator

from helpers.core import db
from helpers.core.clock import ET, et_date, parse_as_of, parse_slate_date, utcnow
from helpers.core.settings import Settings, load_settings, redact
from helpers.core.slate import Slate
from helpers.core.step_status import read_step_status
from runner.codes import EXIT_FAILED
from runner.daily import (
    RUN_STATUS_BY_EXIT,
    DailyOptions,
    exit_code,
    render_run_reports,
    wall_clock_seconds,
)
from runner.demo import demo_home_world
from runner.export import export_after_run
from runner.kernel import ensure_kernel
from runner.lock import RunLock
from runner.registry import (
    RUN_STEP,
    RUN_STEP_ORDER,
    StepRecord,
    code_version,
    mark_interrupted,
    parameters_json,
    slates_interrupted_by,
    write_records,
)
from runner.rerun import rerun_as_of
from runner.steps import STEPS, Step
from runner.worker import add_failure_banner, one_line, scrub_notebook

AS_OF_TAG = "nhl_props/as_of"
# Jobs carry this tag; a run-level limit of one on it in dagster.yaml queues a second run of
# the database until the first ends, as the run lock does (docs/operations.md).
DATABASE_TAG = {"nhl_props/database": "ops"}
FIRST_SLATE = "2025-10-01"  # before the first slate any database of this pipeline holds
SLATES = DailyPartitionsDefinition(start_date=FIRST_SLATE, timezone="America/New_York",
                                   end_offset=1)
REPORTS_ASSET = "reports"
ORDER = {step.name: step.order for step in STEPS}
MORNING = clock_time(10, 0)  # ET: the morning schedule
EXIT_BY_RUN_STATUS = {status: code for code, status in RUN_STATUS_BY_EXIT.items()}


@dataclass(frozen=True)
class DagsterRun:
    """What every asset of one Dagster run agrees on: the registry run it is."""
    run_id: str           # the registry's run id
    slate: Slate
    settings: Settings
    selected: tuple[str, ...]  # the steps this Dagster run materialises, in order
    renders: bool
    rerun_of: str | None
    dagster_run_id: str

    @property
    def run_dir(self) -> Path:
        return self.settings.paths.runs_dir / self.slate.date.isoformat() / self.run_id


def registry_run_id(created: datetime, dagster_run_id: str) -> str:
    """Sorted by start like the driver's ids; the Dagster run is found by its prefix."""
    return created.strftime("%Y%m%dT%H%M%SZ") + "-" + dagster_run_id[:6]


def morning_of(slate: date) -> datetime:
    """10:00 in New York on the slate's day, as naive UTC: when the morning schedule runs."""
    local = datetime.combine(slate, MORNING, tzinfo=ET)
    return local.astimezone(UTC).replace(tzinfo=None)


def run_as_of(slate: date, tagged: str | None, parent_as_of: datetime | None,
              steps: tuple[str, ...], in_demo: bool, created: datetime) -> datetime:
    """A Dagster run's as-of (naive UTC), the one moment all its steps share.

    - the tag `nhl_props/as_of`, when the run has it (as `--as-of` for the driver);
    - a re-execution: its parent's, as `runner rerun` keeps the run's (`rerun_as_of`);
    - a past slate (a partition backfill): that slate's morning, when the morning schedule
      would have run it, so a slate's snapshot and EV are priced from the lines of its
      morning, not from today's; its odds must already be in the database (the `history`
      job; a capture of a past board fails, as it does for the driver);
    - otherwise (today's slate): the moment the run was created.
    """
    if tagged:
        return parse_as_of(tagged)
    if parent_as_of is not None:
        return rerun_as_of(parent_as_of, slate, list(steps), None, in_demo, created)[0]
    if slate < et_date(created):
        return morning_of(slate)
    return created


def _dagster_run(context: AssetExecutionContext) -> DagsterRun:
    run = context.run
    settings = load_settings()
    record = context.instance.get_run_record_by_id(run.run_id)
    created = (record.create_timestamp if record is not None else datetime.now(UTC))
    created = created.astimezone(UTC).replace(tzinfo=None)
    slate = parse_slate_date(context.partition_key)
    # The steps this run materialises (a step's key is its asset's name): a re-execution
    # from failure lists its step keys, a run of a selection its assets, a job its nodes.
    names = set(run.step_keys_to_execute
                or [key.to_user_string() for key in run.asset_selection or ()]
                or [node.name for node in context.job_def.nodes])
    selected = tuple(step.name for step in STEPS if step.name in names)
    rerun_of = parent_as_of = None
    if run.parent_run_id:
        parent = context.instance.get_run_record_by_id(run.parent_run_id)
        if parent is not None:
            rerun_of = registry_run_id(parent.create_timestamp.astimezone(UTC),
                                       run.parent_run_id)
            parent_as_of = _registered_as_of(settings, rerun_of)
    in_demo = demo_home_world(settings.paths.ops_home) is not None
    as_of = run_as_of(slate, run.tags.get(AS_OF_TAG), parent_as_of, selected, in_demo, created)
    return DagsterRun(run_id=registry_run_id(created, run.run_id), slate=Slate(slate, as_of),
                      settings=settings, selected=selected,
                      renders=REPORTS_ASSET in names, rerun_of=rerun_of,
                      dagster_run_id=run.run_id)


@contextmanager
def _database(settings: Settings, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """The ops database for one short query, waiting for another process as the driver does."""
    con = db.connect(settings.paths.db_path, read_only=read_only,
                     wait_seconds=settings.run.lock_wait_seconds)
    try:
        yield con
    finally:
        con.close()


def _registered_as_of(settings: Settings, run_id: str) -> datetime | None:
    with _database(settings) as con:
        row = con.execute("SELECT as_of_ts_utc FROM fact_run_registry WHERE run_id = ? "
                          "AND step = ?", [run_id, RUN_STEP]).fetchone()
    return row[0] if row else None


def _record(run: DagsterRun, step: str, order: int, status: str, **fields: object) -> StepRecord:
    return StepRecord(run_id=run.run_id, slate_date=run.slate.date,
                      as_of_ts_utc=run.slate.as_of, step=step, step_order=order, status=status,
                      code_version=code_version(), rerun_of=run.rerun_of, **fields)


def _run_record(run: DagsterRun, status: str) -> StepRecord:
    settings = run.settings
    enabled = {step.name: step.name in run.selected for step in STEPS}
    parameters = {"enabled": enabled, "fail_fast": True,
                  "step_timeout_seconds": settings.run.step_timeout_seconds,
                  "orchestrator": "dagster", "dagster_run_id": run.dagster_run_id}
    return _record(run, RUN_STEP, RUN_STEP_ORDER, status,
                   notebook_path=str(run.run_dir.relative_to(settings.paths.ops_home)),
                   parameters_json=parameters_json(parameters))


def notebook_with_parameters(notebook: Path, parameters: dict[str, object],
                             output: Path) -> Path:
    """`notebook` made ready for dagstermill, which replaces the cell tagged `parameters`
    with its own context: a placeholder takes that tag, the notebook's defaults follow
    untagged, and then the run's values, written as papermill writes them."""
    nb = nbformat.read(str(notebook), as_version=4)
    index = next(i for i, cell in enumerate(nb.cells)
                 if "parameters" in cell.metadata.get("tags", []))
    defaults = nb.cells[index]
    defaults.metadata["tags"] = [t for t in defaults.metadata["tags"] if t != "parameters"]
    placeholder = nbformat.v4.new_code_cell("# dagstermill's context")
    placeholder.metadata["tags"] = ["parameters"]
    values = nbformat.v4.new_code_cell(
        "# Parameters of this run, as the daily driver gives them\n"
        + PythonTranslator.codify(parameters))
    values.metadata["tags"] = ["run-parameters"]
    nb.cells[index:index + 1] = [placeholder, defaults, values]
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(output))
    return output


def _execute(context: AssetExecutionContext, step: Step, run: DagsterRun,
             record: StepRecord) -> None:
    """Run the step's notebook under dagstermill; `record` gets its outcome, as the driver's
    worker classifies it."""
    settings = run.settings
    parameters = {**run.slate.parameters(), "run_id": run.run_id,
                  "db_path": str(settings.paths.db_path),
                  "ops_home": str(settings.paths.ops_home), "offline_demo": False}
    output = run.run_dir / step.notebook
    record.parameters_json = parameters_json(parameters)
    record.notebook_path = str(output.relative_to(settings.paths.ops_home))
    ensure_kernel(settings.run.kernel_name)
    with tempfile.TemporaryDirectory() as work:
        prepared = notebook_with_parameters(settings.paths.notebooks_dir / step.notebook,
                                            parameters, Path(work) / step.notebook)
        t0 = time.monotonic()
        try:
            executed = Path(execute_notebook(
                context.op_execution_context.get_step_execution_context(), name=step.name,
                save_notebook_on_failure=False, notebook_path=str(prepared),
                output_notebook_dir=work, inputs={}))
        except PapermillExecutionError as exc:
            record.status, record.error_type = "failed", exc.ename
            record.error_summary = one_line(f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}")
            executed = max(Path(work).glob("*-out.ipynb"), default=None,
                           key=lambda p: p.stat().st_mtime)
        except Exception as exc:  # noqa: BLE001 - every other failure is classified, not lost
            record.status, record.error_type = "failed", type(exc).__name__
            record.error_summary = one_line(str(exc) or repr(exc))
            executed = None
        else:
            status = read_step_status(nbformat.read(str(executed), as_version=4))
            record.status = status[0] if status else "success"
            if record.status != "success":
                record.error_type = "PartialStep"
            record.error_summary = one_line(status[1]) if status and status[1] else None
        record.duration_s = round(time.monotonic() - t0, 3)
        if executed is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(executed, output)
            scrub_notebook(output, settings.secret_values())
            if record.status == "failed":
                add_failure_banner(output, record.status, record.error_type or "",
                                   record.error_summary or "")
    if record.error_summary:
        record.error_summary = redact(record.error_summary, settings.secret_values())
    record.finished_ts_utc = utcnow()


def _finish_run(run: DagsterRun, stopped_by: str | None) -> StepRecord:
    """The run's final row, and 'skipped' rows for the steps it did not reach."""
    registry = _registry_rows(run)
    unreached = (f"fail-fast: not run after {stopped_by}" if stopped_by
                 else f"not run in Dagster run {run.dagster_run_id}")
    records = [_record(run, step.name, step.order, "skipped", error_summary=unreached)
               for step in STEPS if step.name in run.selected and step.name not in registry]
    records += [_record(run, step.name, step.order, "skipped",
                        error_summary=f"not selected in Dagster run {run.dagster_run_id}")
                for step in STEPS if step.name not in run.selected]
    statuses = [registry[name] for name in run.selected if name in registry]
    run_record = _run_record(run, RUN_STATUS_BY_EXIT[exit_code(statuses)])
    started = _started(run)
    run_record.started_ts_utc = started
    run_record.finished_ts_utc = utcnow()
    run_record.duration_s = round((run_record.finished_ts_utc - started).total_seconds(), 3)
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    run_record.error_summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "nothing ran"
    write_records(run.settings.paths.db_path, [*records, run_record],
                  wait_seconds=run.settings.run.lock_wait_seconds)
    return run_record


def _registry_rows(run: DagsterRun) -> dict[str, str]:
    with _database(run.settings) as con:
        rows = con.execute("SELECT step, status FROM fact_run_registry WHERE run_id = ?",
                           [run.run_id]).fetchall()
    return {step: status for step, status in rows if step in ORDER}


def _interrupted_by(run: DagsterRun) -> list[date]:
    """The slates of the rows this run's first step marked interrupted: their copies are
    written again with the run's own, as the driver does."""
    with _database(run.settings) as con:
        return slates_interrupted_by(con, run.run_id)


def _started(run: DagsterRun) -> datetime:
    with _database(run.settings) as con:
        row = con.execute("SELECT started_ts_utc FROM fact_run_registry WHERE run_id = ? "
                          "AND step = ?", [run.run_id, RUN_STEP]).fetchone()
    return row[0] if row and row[0] else utcnow()


def _step_asset(step: Step):
    previous = [AssetKey(s.name) for s in STEPS if s.order == step.order - 1]

    @asset(name=step.name, partitions_def=SLATES, deps=previous,
           kinds={"ipynb"}, description=f"Step {step.order}: notebooks/{step.notebook}")
    def _asset(context: AssetExecutionContext) -> MaterializeResult:
        run = _dagster_run(context)
        settings = run.settings
        with RunLock(settings.paths.db_path, settings.run.lock_wait_seconds) as lock:
            lock.acquire(run.run_id)
            first = step.name == run.selected[0]
            pending = []
            if first:
                with _database(settings, read_only=False) as con:
                    mark_interrupted(con, run.run_id)
                run_row = _run_record(run, "running")
                run_row.started_ts_utc = utcnow()
                pending.append(run_row)
            record = _record(run, step.name, step.order, "running", started_ts_utc=utcnow())
            write_records(settings.paths.db_path, [*pending, record],
                          wait_seconds=settings.run.lock_wait_seconds)
            _execute(context, step, run, record)
            write_records(settings.paths.db_path, [record],
                          wait_seconds=settings.run.lock_wait_seconds)
            context.log.info(f"{step.name}: {record.status} in {record.duration_s:.1f}s"
                             + (f" - {record.error_summary}" if record.error_summary else ""))
            failed = record.status in ("failed", "timeout")
            last = step.name == run.selected[-1] and not run.renders
            if failed or last:
                run_record = _finish_run(run, f"{step.name} {record.status}" if failed else None)
                if failed and run.renders:  # the driver renders a run that stopped, too
                    _render(run, run_record)
                export_after_run(settings, run_record, also=_interrupted_by(run))
        if failed:
            raise Failure(description=f"{step.name} {record.status}: {record.error_summary}",
                          metadata={"registry_run_id": run.run_id,
                                    "notebook": record.notebook_path})
        return MaterializeResult(metadata={
            "registry_run_id": run.run_id, "status": record.status,
            "summary": record.error_summary or "", "notebook": record.notebook_path,
            "seconds": record.duration_s})

    return _asset


def _render(run: DagsterRun, run_record: StepRecord) -> int:
    """The reports, as the driver renders them at a run's end (its 'report' row included)."""
    settings = run.settings
    timeout = settings.run.step_timeout_seconds
    options = DailyOptions(slate=run.slate,
                           enabled={step.name: step.name in run.selected for step in STEPS},
                           fail_fast=True, step_timeout_seconds=timeout,
                           wall_clock_seconds=wall_clock_seconds(settings, timeout),
                           rerun_of=run.rerun_of)
    code = EXIT_BY_RUN_STATUS[run_record.status]
    return render_run_reports(run_record, options, settings,
                              ensure_kernel(settings.run.kernel_name), code, sys.stderr,
                              None, [])


@asset(name=REPORTS_ASSET, partitions_def=SLATES, deps=[AssetKey(STEPS[-1].name)],
       kinds={"markdown"}, description="The daily and rolling reports, rendered as the driver "
                                       "renders them after diagnostics")
def reports(context: AssetExecutionContext) -> MaterializeResult:
    run = _dagster_run(context)
    settings = run.settings
    with RunLock(settings.paths.db_path, settings.run.lock_wait_seconds) as lock:
        lock.acquire(run.run_id)
        run_record = _finish_run(run, None)
        code = _render(run, run_record)
        exported = export_after_run(settings, run_record, also=_interrupted_by(run))
    if run_record.status == "failed" or code == EXIT_FAILED or not exported:
        raise Failure(description=f"run {run.run_id}: {run_record.error_summary}")
    return MaterializeResult(metadata={"registry_run_id": run.run_id,
                                       "status": run_record.status})


STEP_ASSETS = [_step_asset(step) for step in STEPS]
daily = define_asset_job("daily", selection=[*(s.name for s in STEPS), REPORTS_ASSET],
                         tags=DATABASE_TAG)

pregame = define_asset_job("pregame", selection=[STEPS[0].name], tags=DATABASE_TAG)
# Past slates (a partition backfill): every step but the capture, on odds already loaded.
history = define_asset_job("history",
                           selection=[*(s.name for s in STEPS[1:]), REPORTS_ASSET],
                           tags=DATABASE_TAG)
defs = Definitions(
    assets=[*STEP_ASSETS, reports],
    jobs=[daily, pregame, history],
    schedules=[
        build_schedule_from_partitioned_job(daily, hour_of_day=10, minute_of_hour=0,
                                            name="morning"),
        build_schedule_from_partitioned_job(pregame, hour_of_day=17, minute_of_hour=30,
                                            name="pregame"),
    ],
)


def daily_job():
    """The daily job, reconstructable (dagstermill rebuilds it inside each kernel)."""
    return defs.resolve_job_def("daily")


def pregame_job():
    """The pregame job (the capture alone), reconstructable like `daily_job`."""
    return defs.resolve_job_def("pregame")


def history_job():
    """The history job (every step but the capture), reconstructable like `daily_job`."""
    return defs.resolve_job_def("history")
