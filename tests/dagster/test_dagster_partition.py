"""The Dagster path (`runner/dagster_defs.py`, the `[dagster]` extra): one slate partition
materialised in-process, with no daemon and no web server, leaves the same rows, registry and
reports as `runner daily --all` on the same slate and as-of. Runs in the environment with the
extra (`-m dagster`; see the README's test command)."""

import os
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import WARM_MORNING, WARM_SLATE

pytestmark = [pytest.mark.slow, pytest.mark.dagster]
# Two mornings: the warm home's slate an hour after its capture (so each run captures boards
# of its own), then the next slate, whose run grades the first.
MORNINGS = [(WARM_SLATE, WARM_MORNING + timedelta(hours=1)),
            (WARM_SLATE + timedelta(days=1), WARM_MORNING + timedelta(days=1))]
# Columns that differ between any two runs of the same slate: who ran, when and how long.
RUN_COLUMNS = re.compile(r"^(run_id|rerun_of|code_version|parameters_json|notebook_path|computed_ts_utc|"
                         r"duration_s|started_ts_utc|finished_ts_utc|updated_ts_utc|"
                         r"request_ts_utc|registered_ts_utc|graded_ts_utc|elapsed_ms)$")
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")  # inside a snapshot id or a summary


def run_env(home: Path, emu) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env.update({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                **{f"{v}_BASE_URL": emu.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})
    return env


def point_at(home: Path, emu, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's environment as a run's in `home` (Dagster runs the steps in-process,
    and their kernels inherit it)."""
    for name in list(os.environ):
        if name.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_")):
            monkeypatch.delenv(name)
    for name, value in run_env(home, emu).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def instance(tmp_path: Path):
    """A Dagster instance of its own (run history in a temporary folder): no daemon."""
    from dagster import instance_for_test

    folder = tmp_path / "dagster-instance"
    folder.mkdir()
    with instance_for_test(temp_dir=str(folder)) as created:
        yield created


def materialise(job, instance, slate, as_of=None, **options):
    """One run of `job` for the slate's partition, in this process."""
    from dagster import execute_job, reconstructable

    from runner.dagster_defs import AS_OF_TAG

    tags = {"dagster/partition": slate.isoformat()}
    if as_of is not None:
        tags[AS_OF_TAG] = f"{as_of:%Y-%m-%dT%H:%M:%SZ}"
    return execute_job(reconstructable(job), instance=instance, tags=tags,
                       run_config={"execution": {"config": {"in_process": {}}}}, **options)


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]


def stable_rows(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [table]).fetchall()]
    kept = [c for c in columns if not RUN_COLUMNS.match(c)]
    frame = con.execute(f"SELECT {', '.join(kept)} FROM {table}").df()
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(
                lambda v: RUN_ID.sub("RUN", v) if isinstance(v, str) else v)
    return frame.sort_values(kept, ignore_index=True) if len(frame) else frame


# Report columns that time a run: how long a step took, how fast a vendor answered.
TIMING_COLUMNS = {"seconds", "p50_ms", "p95_ms"}


def normalised_report(text: str) -> str:
    """The report with run ids replaced and the cells of its timing columns blanked."""
    lines, header = [], []
    for line in RUN_ID.sub("RUN", text).splitlines():
        cells = line.split("|")
        if not line.startswith("|"):
            header = []
        elif not header:
            header = [cell.strip() for cell in cells]
        elif not set(line) <= set("|-: "):
            line = "|".join("" if i < len(header) and header[i] in TIMING_COLUMNS else cell
                            for i, cell in enumerate(cells))
        lines.append(line)
    return "\n".join(lines)


def test_a_slate_materialised_by_dagster_equals_the_drivers_run(warm_home, tmp_path, instance,
                                                                 monkeypatch) -> None:
    from runner.dagster_defs import daily_job

    emu, driver_home = warm_home
    dagster_home = tmp_path / "dagster-ops-home"
    shutil.copytree(driver_home, dagster_home)

    for slate, moment in MORNINGS:
        emu.set_clock(moment)
        driver = subprocess.run(
            [sys.executable, "-m", "runner", "daily", "--all", "--date", slate.isoformat(),
             "--as-of", f"{moment:%Y-%m-%dT%H:%M:%SZ}"], cwd=driver_home,
            env=run_env(driver_home, emu), capture_output=True, text=True, timeout=600)
        assert driver.returncode == 0, driver.stderr[-3000:]

    point_at(dagster_home, emu, monkeypatch)
    for slate, moment in MORNINGS:
        emu.set_clock(moment)
        result = materialise(daily_job, instance, slate, moment)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        materialised = {e.asset_key.to_user_string()
                        for e in result.get_asset_materialization_events()}
        assert materialised == {"odds_ingestion", "production", "ev", "outcomes",
                                "diagnostics", "reports"}

    databases = {name: duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
                 for name, home in (("driver", driver_home), ("dagster", dagster_home))}
    try:
        tables = table_names(databases["driver"])
        assert tables == table_names(databases["dagster"])
        compared = 0
        for table in tables:
            driver_rows = stable_rows(databases["driver"], table)
            dagster_rows = stable_rows(databases["dagster"], table)
            # floats to 12 digits: DuckDB sums in parallel, in no fixed order
            pd.testing.assert_frame_equal(driver_rows, dagster_rows, obj=table, rtol=1e-12)
            compared += len(driver_rows)
        assert compared > 10_000  # the slate's odds, snapshot and EV rows are all there
        dagster = databases["dagster"]
        new_odds = dagster.execute("SELECT count(*) FROM fact_prop_odds WHERE capture_ts_utc = ?",
                                   [MORNINGS[0][1]]).fetchone()[0]
        assert new_odds > 1000  # its own capture, not the warm home's
        graded = dagster.execute("SELECT count(*) FROM fact_bet_results WHERE slate_date = ?",
                                 [WARM_SLATE]).fetchone()[0]
        assert graded > 100  # the second morning graded the first slate's bets
        registry = {name: stable_rows(con, "fact_run_registry")
                    for name, con in databases.items()}
    finally:
        for con in databases.values():
            con.close()
    one_run = [("run", 0, "success"), ("odds_ingestion", 1, "success"),
               ("production", 2, "success"), ("ev", 3, "success"), ("outcomes", 4, "success"),
               ("diagnostics", 5, "success"), ("report", 6, "success")]
    steps = registry["dagster"][["step", "step_order", "status"]].itertuples(index=False)
    assert sorted(map(tuple, steps)) == sorted(one_run * 2)
    pd.testing.assert_frame_equal(registry["dagster"], registry["driver"])  # summaries too

    for report in ("daily_report_2025-12-01.md", "daily_report_2025-12-02.md",
                   "rolling_report.md"):
        texts = [normalised_report((home / "outputs" / "monitoring" / report).read_text())
                 for home in (driver_home, dagster_home)]
        assert texts[0] == texts[1], report
    parquet = [sorted(str(p.relative_to(home)) for p in home.glob("outputs/parquet/*/*/*"))
               for home in (driver_home, dagster_home)]
    assert parquet[0] == parquet[1] and len(parquet[0]) == 10 * 5  # 2 slates + 3 looked back
    run_dirs = list((dagster_home / "outputs" / "runs").glob("*/*"))
    assert len(run_dirs) == 2
    assert sorted(p.name for p in run_dirs[0].glob("*.ipynb")) == [
        "01_odds_ingest.ipynb", "02_production_snapshot.ipynb", "03_ev_report.ipynb",
        "04_outcomes.ipynb", "05_diagnostics.ipynb"]


def registry_rows(home: Path) -> list[tuple]:
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT run_id, step, status, error_summary, rerun_of, as_of_ts_utc "
            "FROM fact_run_registry WHERE run_id NOT LIKE 'warm-%' "
            "ORDER BY started_ts_utc NULLS LAST, step_order").fetchall()
    finally:
        con.close()


def test_a_failed_step_stops_the_run_and_re_execution_from_failure_is_the_rerun(
        warm_home, instance, monkeypatch) -> None:
    """Every vendor down: ingestion fails, the later steps are skipped as with --fail-fast and
    the reports say so; "re-execute from failure" once the vendors are back is a new
    registry run that names the failed one, at its as-of, and repairs the slate."""
    from dagster import ReexecutionOptions, execute_job, reconstructable

    from runner.dagster_defs import daily_job

    emu, home = warm_home
    moment = MORNINGS[0][1]
    emu.set_clock(moment)
    point_at(home, emu, monkeypatch)
    monkeypatch.setenv("FORCE_VENDOR_FAILURE", "ALL")
    failed = materialise(daily_job, instance, WARM_SLATE, moment, raise_on_error=False)
    assert not failed.success
    first = registry_rows(home)
    monkeypatch.delenv("FORCE_VENDOR_FAILURE")
    # with the failed run's tags (its slate and as-of), as Dagster's UI re-executes
    repaired = execute_job(
        reconstructable(daily_job), instance=instance, tags=failed.dagster_run.tags,
        run_config={"execution": {"config": {"in_process": {}}}},
        reexecution_options=ReexecutionOptions.from_failure(failed.run_id, instance))
    assert repaired.success, [e.event_specific_data.error.message for e in repaired.all_events
                              if e.is_failure][:1]
    by_step = {step: (status, summary) for _, step, status, summary, _, _ in first}
    assert by_step["run"][0] == "failed"
    assert by_step["odds_ingestion"][0] == "failed"
    for step in ("production", "ev", "outcomes", "diagnostics"):
        assert by_step[step] == ("skipped", "fail-fast: not run after odds_ingestion failed")
    assert by_step["report"][0] == "success"  # the reports show the failure, as the driver's
    failed_run = first[0][0]
    second = [row for row in registry_rows(home) if row[0] != failed_run]
    assert {row[1]: row[2] for row in second} == {
        "run": "success", "odds_ingestion": "success", "production": "success",
        "ev": "success", "outcomes": "success", "diagnostics": "success", "report": "success"}
    assert {row[4] for row in second} == {failed_run}     # rerun_of names the failed run
    assert {row[5] for row in second} == {moment}         # at the failed run's as-of
    report = (home / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md").read_text()
    assert f"`{second[0][0]}`" in report and "repaired" in report.lower()


def test_a_runs_as_of() -> None:
    from runner.dagster_defs import morning_of, run_as_of

    created = datetime(2025, 12, 3, 16, 0)
    steps = ("odds_ingestion", "production")
    assert run_as_of(date(2025, 12, 3), None, None, steps, False, created) == created
    assert run_as_of(date(2025, 12, 3), "2025-12-03T15:30:00Z", None, steps, False,
                     created) == datetime(2025, 12, 3, 15, 30)
    # a past slate (a backfill): its morning, 10:00 in New York (15:00 UTC in December)
    assert run_as_of(date(2025, 12, 1), None, None, steps[1:], False, created) == \
        datetime(2025, 12, 1, 15, 0) == morning_of(date(2025, 12, 1))
    assert morning_of(date(2025, 7, 1)) == datetime(2025, 7, 1, 14, 0)  # daylight saving
    # a re-execution keeps its parent's as-of within the capture window, or without capture
    parent = created - timedelta(minutes=5)
    assert run_as_of(date(2025, 12, 3), None, parent, steps, False, created) == parent
    older = created - timedelta(hours=3)
    assert run_as_of(date(2025, 12, 3), None, older, steps[1:], False, created) == older
    assert run_as_of(date(2025, 12, 3), None, older, steps, False, created) == created


def test_the_pregame_job_captures_only_and_finishes_its_run(warm_home, instance,
                                                             monkeypatch) -> None:
    """The `pregame` job (the odds capture alone): its one step finishes the registry run,
    the other steps read 'not selected', no reports are rendered, and the copies are
    written, as `runner daily --run-odds-ingestion` does."""
    from runner.dagster_defs import pregame_job
    from runner.registry import StepRecord, write_records

    emu, home = warm_home
    moment = MORNINGS[0][1]
    emu.set_clock(moment)
    point_at(home, emu, monkeypatch)
    # a run killed days ago: this run marks it interrupted, and its slate's copy says so
    killed_slate = WARM_SLATE - timedelta(days=6)
    write_records(home / "data" / "ops.duckdb", [StepRecord(
        run_id="killed-run", slate_date=killed_slate, as_of_ts_utc=WARM_MORNING,
        step="run", step_order=0, status="running")])
    result = materialise(pregame_job, instance, WARM_SLATE, moment)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    rows = {step: (status, summary) for run_id, step, status, summary, _, _
            in registry_rows(home) if run_id != "killed-run"}
    assert rows["run"] == ("success", "1 success")
    assert rows["odds_ingestion"][0] == "success"
    assert {step for step, (status, summary) in rows.items()
            if status == "skipped" and summary.startswith("not selected")} == {
        "production", "ev", "outcomes", "diagnostics"}
    assert "report" not in rows
    assert not (home / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md").exists()
    copies = home / "outputs" / "parquet" / "fact_run_registry"
    assert (copies / f"slate_date={WARM_SLATE}" / "data.parquet").exists()
    killed = pd.read_parquet(copies / f"slate_date={killed_slate}" / "data.parquet")
    assert killed[["run_id", "status"]].values.tolist() == [["killed-run", "interrupted"]]


def test_the_history_job_prices_a_past_slate_as_of_its_morning(warm_home, instance,
                                                                monkeypatch) -> None:
    """A partition backfill's run of a past slate, untagged: as of that slate's morning
    (10:00 New York), on the odds already loaded (the warm home's capture of that morning),
    every step but the capture, and the reports."""
    from runner.dagster_defs import history_job, morning_of

    emu, home = warm_home
    emu.set_clock(WARM_MORNING)
    point_at(home, emu, monkeypatch)
    result = materialise(history_job, instance, WARM_SLATE)  # untagged: the slate's morning
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    rows = registry_rows(home)
    assert {as_of for *_, as_of in rows} == {morning_of(WARM_SLATE)} == {WARM_MORNING}
    statuses = {step: status for _, step, status, *_ in rows}
    assert statuses == {"run": "success", "odds_ingestion": "skipped", "production": "success",
                        "ev": "success", "outcomes": "success", "diagnostics": "success",
                        "report": "success"}
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        priced = con.execute("SELECT count(*), max(capture_ts_utc) FROM fact_ev_candidates "
                             "WHERE slate_date = ?", [WARM_SLATE]).fetchone()
    finally:
        con.close()
    assert priced[0] > 1000 and priced[1] <= WARM_MORNING  # that morning's lines, no later
