"""SIGKILL of a run's whole process tree (the driver's process group, its step worker and
the worker's kernel) while each step after ingestion is under way, and of `runner
backfill-stats`; then the proof that the kill left nothing half done.

Every kill targets one step, run alone with its flag on a home where the steps before it
already ran (module fixtures, shared, copied per test with shutil.copytree). A kill moment
is a sign that the step is under way, plus a delay:
- "mid_step": the step's main cell (the one calling `step_context`) has started; the delay
  is half of that cell's duration in the clean preparatory run (its executed notebook);
- "..._write": the database and its write-ahead log grow by more than any write of the step
  but its big commit. DuckDB keeps an uncommitted transaction in memory, so on disk "inside
  the write" is the commit being written to the WAL: the one moment a kill can tear it;
- "checkpoint": after that commit, the database file starts to change (the WAL being
  folded into it as the step closes its connection);
- new raw boxscore files: a stats refresh, grading or backfill is storing games (one
  transaction per game);
- a scratch report notebook or a report temp file: the renderer is executing the report
  notebook (the delay: half of the clean render's) or replacing the report files.
One kill (EV, mid-step) SIGKILLs the driver's process group only: the worker (its
PR_SET_PDEATHSIG), its kernel and any warm standby must end by themselves. Each kill prints
where it landed: seconds into the step, the main cell's state, the rows of
the killed run that were committed, and the WAL it left behind.

After each kill: no process of the tree survives (nor any process working on the home);
the database opens read-only and answers; no table holds a duplicate on its natural key; no
batch is partial (a snapshot, a run's EV candidates, a grading, a run's evidence, a game's
stat rows: all or nothing, against the clean run). After the last kill of a step, the next
run completes, every killed run is interrupted (`runner show` names the step) and the
results equal the clean run's. The reports are the previous ones byte for byte, or the new
ones whole, with every chart they link.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers.core import db
from helpers.core.slate import Slate
from helpers.core.steps import run_step
from helpers.demo.server import Emulator
from helpers.ev.step import TABLE_KEY as EV_KEY
from helpers.evidence.tables import EVIDENCE_TABLES
from helpers.evidence.tables import KEYS as EVIDENCE_KEYS
from helpers.model.snapshot import SNAPSHOT_KEY
from helpers.odds.vendors.base import ODDS_KEY
from tests.conftest import WARM_MORNING, WARM_SLATE
from tests.runner.test_kill import alive, descendants
from tests.runner.test_rerun import run_env, runner

pytestmark = pytest.mark.slow

DAY1, MORNING1 = WARM_SLATE, WARM_MORNING                      # the warm home's slate
DAY2, MORNING2 = date(2025, 12, 2), datetime(2025, 12, 2, 15)   # grades DAY1
DAY3, MORNING3 = date(2025, 12, 3), datetime(2025, 12, 3, 15)   # stats of DAY1, DAY2 to load
KIB, MIB = 1024, 1024 * 1024

# The natural key of every table a step writes (schema.sql and its migrations; the fact
# tables without a PRIMARY KEY are deduplicated on these by helpers.core.db.insert_new_rows).
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "fact_run_registry": ("run_id", "step"),
    "raw_payloads": ("payload_hash", "vendor", "kind"),
    "fact_prop_odds": tuple(ODDS_KEY),
    "map_events": ("source_vendor", "event_id_vendor"),
    "map_players": ("source_vendor", "event_id_vendor", "player_key_vendor"),
    "dim_games": ("game_id",),
    "dim_players": ("player_id",),
    "fact_skater_games": ("game_id", "player_id"),
    "fact_goalie_games": ("game_id", "player_id"),
    "fact_prob_snapshot": SNAPSHOT_KEY,
    "fact_ev_candidates": EV_KEY,
    "fact_prop_outcomes": ("game_id", "player_id", "market_type"),
    # one result per graded candidate (the candidate's run and vendor keys)
    "fact_bet_results": ("slate_date", "candidate_run_id", "source_vendor", "book_id_vendor",
                         "book_name", "event_id_vendor", "player_key_vendor", "market_type",
                         "line", "side"),
    "fact_outcome_corrections": ("game_id", "player_id", "market_type", "detected_ts_utc"),
    **EVIDENCE_KEYS,
    "fact_anomaly_checks": ("run_id", "slate_date", "check_name", "subject"),
}
STATS_TABLES = ("dim_games", "dim_players", "fact_skater_games", "fact_goalie_games")
GRADING_TABLES = ("fact_prop_outcomes", "fact_bet_results", "fact_outcome_corrections",
                  *STATS_TABLES)


# ---- running and killing ------------------------------------------------------------------

def daily_argv(slate: date, as_of: datetime, *flags: str) -> list[str]:
    return [sys.executable, "-m", "runner", "daily", *flags, "--date", slate.isoformat(),
            "--as-of", as_of.strftime("%Y-%m-%dT%H:%M:%SZ")]


def run_to_end(emu: Emulator, home: Path, at: datetime, argv: list[str]
               ) -> subprocess.CompletedProcess:
    emu.set_clock(at)
    return subprocess.run(argv, cwd=home, env=run_env(home, emu), capture_output=True,
                          text=True, timeout=280)


def copy_home(source: Path, into: Path) -> Path:
    home = into / "home"
    shutil.copytree(source, home)
    return home


def _freeze_and_kill(driver: subprocess.Popen) -> list[int]:
    """SIGSTOP the driver and everything under it, top down, until no new process appears
    (a stopped process starts no other), then SIGKILL the driver's process group and every
    process of the tree: the worker and the kernel have process groups of their own."""
    family: list[int] = []
    new = [driver.pid]
    while new:
        for pid in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        family += new
        new = [p for p in descendants(driver.pid) if p not in family]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(driver.pid, signal.SIGKILL)
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    driver.wait(timeout=10)
    return family


def _kill_driver_group(driver: subprocess.Popen) -> list[int]:
    """SIGKILL the driver's process group only: its worker (PR_SET_PDEATHSIG) and the
    worker's kernel must then end by themselves. Returns the tree as it was."""
    family = [driver.pid, *descendants(driver.pid)]
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(timeout=10)
    return family


def _working_on(home: Path) -> list[int]:
    """Processes whose environment names this home: an orphan the tree walk missed (a
    kernel whose worker died first) would still show here."""
    needle = f"OPS_HOME={home}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in (entry / "environ").read_bytes() and alive(int(entry.name)):
                    found.append(int(entry.name))
    return found


def _command_lines(pids: list[int]) -> list[str]:
    lines = []
    for pid in pids:
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            lines.append(f"{pid}: {command.decode(errors='replace')[:200]}")
    return lines


def assert_all_dead(family: list[int], home: Path) -> None:
    """Within 10 s (a kernel polls for its parent every second), nothing of the tree is
    alive and no process works on the home."""
    deadline = time.monotonic() + 10
    while (any(alive(p) for p in family) or _working_on(home)) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [p for p in family if alive(p)]
    assert not survivors, f"processes of the killed tree survived: {_command_lines(survivors)}"
    strays = _working_on(home)
    assert not strays, f"processes still work on the home after the kill: {_command_lines(strays)}"


# ---- the signs that a moment has come (each made before the run starts) -------------------

Sign = Callable[[], bool]


def new_files(home: Path, pattern: str, count: int = 1) -> Sign:
    before = set(home.glob(pattern))
    return lambda: len(set(home.glob(pattern)) - before) >= count


def main_cell_state(notebook: Path) -> str:
    """papermill's status of the step's main cell (the one calling step_context)."""
    try:
        cells = json.loads(notebook.read_text())["cells"]
    except (OSError, ValueError, KeyError):  # not written yet, or being written
        return "not started"
    for cell in cells:
        if cell["cell_type"] == "code" and "step_context(" in "".join(cell["source"]):
            return cell.get("metadata", {}).get("papermill", {}).get("status", "pending")
    return "not started"


def main_cell_started(home: Path, stem: str) -> Sign:
    specs = f"outputs/runs/*/*/{stem}.spec.json"
    before = set(home.glob(specs))
    seen = {"mtime": 0.0}

    def ready() -> bool:
        new = [s for s in home.glob(specs) if s not in before]
        if not new:
            return False
        notebook = new[0].with_name(f"{stem}.ipynb")
        try:
            mtime = notebook.stat().st_mtime
        except FileNotFoundError:
            return False
        if mtime == seen["mtime"]:
            return False
        seen["mtime"] = mtime
        return main_cell_state(notebook) in ("running", "completed")
    return ready


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def writes_at_least(home: Path, nbytes: int) -> Sign:
    """The database file and its WAL together grew by `nbytes` since first asked: a commit
    that big is being written (DuckDB logs a commit to the WAL; an append of whole row
    groups it writes straight into the file)."""
    wal, database = home / "data" / "ops.duckdb.wal", home / "data" / "ops.duckdb"
    start: dict[str, int] = {}

    def ready() -> bool:
        size = max(_size(wal), 0) + _size(database)
        start.setdefault("size", size)
        return size - start["size"] >= nbytes
    return ready


def checkpoint_after_write(home: Path, nbytes: int) -> Sign:
    """After a write of `nbytes` (`writes_at_least`), the database file changes size or the
    WAL shrinks: the checkpoint is folding the commit into the file."""
    wal, database = home / "data" / "ops.duckdb.wal", home / "data" / "ops.duckdb"
    written = writes_at_least(home, nbytes)
    state: dict[str, int] = {}

    def ready() -> bool:
        if "db" not in state:
            if written():
                state["db"], state["wal"] = _size(database), _size(wal)
            return False
        size = _size(wal)
        state["wal"] = max(state["wal"], size)
        return _size(database) != state["db"] or size < state["wal"]
    return ready


def once_main_cell_started(home: Path, stem: str, then: Sign) -> Sign:
    """`then`, asked only once the step's main cell has started: a WAL left by the previous
    kill is replayed when the next run opens the database, before its step starts."""
    started = main_cell_started(home, stem)
    state = {"started": False}

    def ready() -> bool:
        if not state["started"]:
            state["started"] = started()
            return False
        return then()
    return ready


@dataclass(frozen=True)
class Moment:
    name: str
    sign: Callable[[Path], Sign]
    delay: float = 0.0
    driver_only: bool = False  # kill the driver's group only; the rest must follow it


@dataclass(frozen=True)
class Kill:
    moment: str
    run_id: str | None     # None for a backfill (no spec file; see the registry)
    seconds_in: float      # from the step's start (its spec file) to the kill


def kill_at(home: Path, env: dict[str, str], argv: list[str], moment: Moment,
            step_stem: str | None) -> Kill:
    """Start `argv`, wait for the moment's sign, wait its delay, kill the whole tree (or the
    driver's group only) and see every process of it gone."""
    ready = moment.sign(home)
    specs = set(home.glob(f"outputs/runs/*/*/{step_stem}.spec.json")) if step_stem else set()
    log = home.parent / f"killed-{moment.name}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(argv, cwd=home, env=env, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
    deadline = time.monotonic() + 150
    while not ready():
        assert proc.poll() is None, (f"the run ended before the moment {moment.name}:\n"
                                     f"{log.read_text()[-3000:]}")
        assert time.monotonic() < deadline, f"no sign of {moment.name} in 150 s"
        time.sleep(0.002)
    time.sleep(moment.delay)
    assert proc.poll() is None, (f"the run ended during the delay of {moment.name} "
                                 f"({moment.delay:.2f} s):\n{log.read_text()[-3000:]}")
    pids = _kill_driver_group(proc) if moment.driver_only else _freeze_and_kill(proc)
    killed = time.time()
    assert_all_dead(pids, home)
    run_id, seconds_in = None, 0.0
    new_specs = [s for s in home.glob(f"outputs/runs/*/*/{step_stem}.spec.json")
                 if s not in specs] if step_stem else []
    if new_specs:
        run_id = new_specs[0].parent.name
        seconds_in = killed - new_specs[0].stat().st_mtime
    return Kill(moment.name, run_id, seconds_in)


# ---- the database after a kill ------------------------------------------------------------

@contextlib.contextmanager
def read_only(home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    # A killed process whose state is already Z (what `alive` calls dead) can still hold
    # the file's lock for a moment while the kernel tears it down (seen: a zombie DuckDB
    # process named as the holder, released within the second): wait for the OS.
    con = db.connect(home / "data" / "ops.duckdb", read_only=True, wait_seconds=10)
    try:
        yield con
    finally:
        con.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    return con.execute(sql, params or []).fetchall()[0][0]


def check_database(home: Path) -> None:
    """The file opens read-only and answers; no duplicate on any natural key; every game
    stored as final has all of its stat rows and its raw boxscore (one transaction each)."""
    with read_only(home) as con:
        assert con.execute("PRAGMA database_size").fetchall()
        assert scalar(con, "SELECT count(*) FROM fact_run_registry") > 0
        for table, key in NATURAL_KEYS.items():
            columns = ", ".join(f'"{k}"' for k in key)
            dupes = scalar(con, f"SELECT count(*) FROM (SELECT {columns} FROM {table} "
                                f"GROUP BY ALL HAVING count(*) > 1)")
            assert dupes == 0, f"{table}: {dupes} keys ({', '.join(key)}) stored twice"
        torn = con.execute(
            r"""
            WITH box AS (
                SELECT CAST(regexp_extract(path, 'boxscore_(\d+)', 1) AS BIGINT) AS game_id,
                       arg_max(rows_inserted, registered_ts_utc) AS rows_inserted
                FROM raw_payloads WHERE kind = 'boxscore' AND load_state = 'loaded' GROUP BY 1
            ), stored AS (
                SELECT game_id, count(*) AS n FROM (
                    SELECT game_id FROM fact_skater_games
                    UNION ALL SELECT game_id FROM fact_goalie_games) GROUP BY 1
            )
            SELECT g.game_id, b.rows_inserted, s.n
            FROM dim_games g LEFT JOIN box b USING (game_id) LEFT JOIN stored s USING (game_id)
            WHERE g.state IN ('OFF', 'FINAL') AND b.rows_inserted IS DISTINCT FROM s.n
            UNION ALL
            SELECT s.game_id, NULL, s.n FROM stored s ANTI JOIN dim_games g USING (game_id)
            """).fetchall()
        assert not torn, f"games stored in part (game, rows registered, rows stored): {torn}"


def batch_sizes(con: duckdb.DuckDBPyConnection, table: str, by: str,
                where: str = "TRUE", params: list | None = None) -> dict:
    """Rows of `table` per value of `by`."""
    return dict(con.execute(f"SELECT {by}, count(*) FROM {table} WHERE {where} "
                            f"GROUP BY ALL", params or []).fetchall())


def wal_left(home: Path) -> str:
    size = _size(home / "data" / "ops.duckdb.wal")
    return "no WAL left" if size < 0 else f"a {size / KIB:.0f} KiB WAL left"


def describe(home: Path, kill: Kill, stem: str, rows_of_run: str) -> str:
    """Where the kill landed: seconds into the step, its main cell, the killed run's
    committed rows (`rows_of_run`: SQL with one ? for the run id) and the WAL."""
    notebooks = list(home.glob(f"outputs/runs/*/{kill.run_id}/{stem}.ipynb"))
    cell = main_cell_state(notebooks[0]) if notebooks else "not started"
    with read_only(home) as con:
        rows = scalar(con, rows_of_run, [kill.run_id])
    return (f"{kill.seconds_in:.2f} s into the step, main cell {cell}, {rows} rows of the "
            f"killed run committed, {wal_left(home)}")


def assert_marked_interrupted(home: Path, env: dict[str, str], kills: list[Kill],
                              step: str) -> None:
    """Every killed run and its step are interrupted once a later run has started; `runner
    show` names the step the last one died in."""
    with read_only(home) as con:
        for kill in kills:
            rows = dict(con.execute("SELECT step, status FROM fact_run_registry WHERE run_id = ?",
                                    [kill.run_id]).fetchall())
            assert rows.get("run") == rows.get(step) == "interrupted", (kill.moment, rows)
        assert scalar(con, "SELECT count(*) FROM fact_run_registry WHERE status = 'running'"
                      ) == 0
    shown = runner(env, "show", kills[-1].run_id)
    assert shown.returncode == 0, shown.stderr
    assert f"run {kills[-1].run_id}: interrupted" in shown.stdout, shown.stdout
    assert f"interrupted: its process ended during step {step}" in shown.stdout, shown.stdout


def newest_run(home: Path) -> str:
    with read_only(home) as con:
        return scalar(con, "SELECT run_id FROM fact_run_registry WHERE step = 'run' "
                           "ORDER BY started_ts_utc DESC LIMIT 1")


def frame(home: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with read_only(home) as con:
        return con.execute(sql, params or []).df()


def same_rows(left: pd.DataFrame, right: pd.DataFrame, what: str) -> None:
    assert len(left) == len(right), f"{what}: {len(left)} rows, the clean run {len(right)}"
    keys = list(left.columns)
    pd.testing.assert_frame_equal(
        left.sort_values(keys, ignore_index=True), right.sort_values(keys, ignore_index=True),
        check_exact=False, rtol=1e-9, obj=what)


def table_counts(home: Path, tables: tuple[str, ...]) -> dict[str, int]:
    with read_only(home) as con:
        return {t: scalar(con, f"SELECT count(*) FROM {t}") for t in tables}


# ---- the clean runs every test starts from or compares with --------------------------------

@dataclass
class Prepared:
    home: Path
    run_id: str
    main_cell_seconds: float = 0.0   # the step's main cell in the clean run
    extra: dict = field(default_factory=dict)


def main_cell_seconds(notebook: Path) -> float:
    cells = json.loads(notebook.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "code" and "step_context(" in "".join(cell["source"]):
            meta = cell["metadata"]["papermill"]
            return (datetime.fromisoformat(meta["end_time"])
                    - datetime.fromisoformat(meta["start_time"])).total_seconds()
    raise AssertionError(f"no main cell in {notebook}")


def _prepare(emu: Emulator, source: Path, into: Path, at: datetime, argv: list[str],
             stem: str) -> Prepared:
    home = copy_home(source, into)
    done = run_to_end(emu, home, at, argv)
    assert done.returncode == 0, done.stderr[-3000:]
    run_id = newest_run(home)
    notebook = next(home.glob(f"outputs/runs/*/{run_id}/{stem}.ipynb"))
    return Prepared(home, run_id, main_cell_seconds(notebook))


@pytest.fixture(scope="module")
def world(warm_world: tuple[Emulator, Path]) -> Iterator[tuple[Emulator, Path]]:
    emu, template = warm_world
    yield emu, template
    emu.set_clock(MORNING1)  # as the warm world's other users expect it


@pytest.fixture(scope="module")
def after_production(world, tmp_path_factory) -> Prepared:
    """The warm home after the morning's production step (the clean snapshot)."""
    emu, template = world
    return _prepare(emu, template, tmp_path_factory.mktemp("after-production"), MORNING1,
                    daily_argv(DAY1, MORNING1, "--run-production"), "02_production_snapshot")


@pytest.fixture(scope="module")
def after_ev(world, after_production, tmp_path_factory) -> Prepared:
    """... and after the morning's EV step (the clean candidates)."""
    emu, _ = world
    return _prepare(emu, after_production.home, tmp_path_factory.mktemp("after-ev"), MORNING1,
                    daily_argv(DAY1, MORNING1, "--run-ev"), "03_ev_report")


@pytest.fixture(scope="module")
def after_diagnostics(world, after_ev, tmp_path_factory) -> Prepared:
    """... and after the morning's diagnostics (the clean evidence, and rendered reports)."""
    emu, _ = world
    prepared = _prepare(emu, after_ev.home, tmp_path_factory.mktemp("after-diagnostics"),
                        MORNING1, daily_argv(DAY1, MORNING1, "--run-diagnostics"),
                        "05_diagnostics")
    executed = prepared.home / "outputs" / "monitoring" / "executed" / f"report_{DAY1}.ipynb"
    prepared.extra["report_seconds"] = json.loads(executed.read_text())["metadata"][
        "papermill"]["duration"]
    return prepared


def _in_process(emu: Emulator, home: Path, at: datetime, work: Callable) -> object:
    """A step's function run here, as its notebook runs it: the clean run to compare with."""
    emu.set_clock(at)
    con = db.connect(home / "data" / "ops.duckdb")
    try:
        return work(con, emu.settings(home))
    finally:
        con.close()


@pytest.fixture(scope="module")
def graded_reference(world, after_ev, tmp_path_factory) -> Prepared:
    """The morning's home graded the next morning (slate DAY2 grades DAY1), cleanly."""
    emu, _ = world
    home = copy_home(after_ev.home, tmp_path_factory.mktemp("graded-reference"))
    result = _in_process(emu, home, MORNING2, lambda con, settings: run_step(
        "outcomes", con, settings, Slate(DAY2, MORNING2), "reference-outcomes"))
    assert result.status == "success" and len(result.results) > 0, result.summary()
    return Prepared(home, "reference-outcomes")


@pytest.fixture(scope="module")
def day3_reference(world, tmp_path_factory) -> Prepared:
    """The warm home's production for slate DAY3, cleanly: its stats refresh loads the
    games of DAY1 and DAY2, then it writes the snapshot."""
    emu, template = world
    home = copy_home(template, tmp_path_factory.mktemp("day3-reference"))
    result = _in_process(emu, home, MORNING3, lambda con, settings: run_step(
        "production", con, settings, Slate(DAY3, MORNING3), "reference-day3"))
    # the kills land among these games: the refresh must have a few to load
    assert result.refresh.games_loaded >= 6 and len(result.snapshot.rows) > 0, result.summary()
    return Prepared(home, "reference-day3", extra={"games": result.refresh.games_loaded})


# ---- the checks each step's kills share ---------------------------------------------------

SNAPSHOT_COLUMNS = ("game_id, player_id, market_type, line, p_over, p_under, p_push, mu, "
                    "distribution, alpha, games_used, model_version")


def snapshot_sizes(home: Path, run_id: str) -> dict[str, int]:
    """Rows per model version of a run's snapshot."""
    with read_only(home) as con:
        return batch_sizes(con, "fact_prob_snapshot", "model_version", "run_id = ?", [run_id])


def check_snapshots_whole(home: Path, clean: dict[date, dict[str, int]]) -> None:
    """Every run's snapshot of a slate has every model version and all of its rows:
    `clean` is the clean run's rows per model version, by slate."""
    with read_only(home) as con:
        found = con.execute("SELECT slate_date, run_id, model_version, count(*) "
                            "FROM fact_prob_snapshot GROUP BY ALL").fetchall()
    by_run: dict[tuple[date, str], dict[str, int]] = {}
    for slate, run_id, version, n in found:
        by_run.setdefault((slate, run_id), {})[version] = n
    for (slate, run_id), sizes in by_run.items():
        assert sizes == clean[slate], (f"snapshot of run {run_id} (slate {slate}) is partial: "
                                       f"{sizes}, the clean run wrote {clean[slate]}")


def kill_chain(emu: Emulator, home: Path, at: datetime, argv: list[str],
               moments: list[Moment], stem: str, rows_of_run: str,
               check: Callable[[], None]) -> list[Kill]:
    """Kill a run at each moment in turn; after each: the tree is gone (kill_at), the
    database is sound (`check_database`, then the step's own `check`)."""
    env = run_env(home, emu)
    kills = []
    for moment in moments:
        emu.set_clock(at)
        kill = kill_at(home, env, argv, moment, stem)
        assert kill.run_id, f"{moment.name}: the step had not started"
        how = " (the driver's group only)" if moment.driver_only else ""
        print(f"\n{stem} killed at {moment.name}{how}: "
              f"{describe(home, kill, stem, rows_of_run)}")
        check_database(home)
        check()
        kills.append(kill)
    return kills


# ---- production ---------------------------------------------------------------------------

PRODUCTION_ROWS = "SELECT count(*) FROM fact_prob_snapshot WHERE run_id = ?"


def test_production_killed_in_its_stats_refresh_mid_step_and_in_the_snapshot_write(
        world, after_production, day3_reference, tmp_path: Path) -> None:
    """Slate DAY3 on the warm home: the refresh has the games of DAY1 and DAY2 to load."""
    emu, template = world
    home = copy_home(template, tmp_path)
    argv = daily_argv(DAY3, MORNING3, "--run-production")
    stem = "02_production_snapshot"
    clean = snapshot_sizes(day3_reference.home, day3_reference.run_id)
    games = day3_reference.extra["games"]
    moments = [
        # the refresh has stored its first game and saved the second one's boxscore
        Moment("stats_refresh", lambda h: new_files(h, "outputs/nhl/raw/**/*boxscore_*.json",
                                                    2)),
        # half of the clean morning run's main cell: in the rest of the refresh, or the model
        Moment("mid_step", lambda h: main_cell_started(h, stem),
               after_production.main_cell_seconds / 2),
        # the snapshot's commit brings the WAL past ~0.5 MiB; a game's commit adds ~5 KiB
        Moment("snapshot_write",
               lambda h: once_main_cell_started(h, stem, writes_at_least(h, 256 * KIB))),
    ]
    env = run_env(home, emu)
    kills = []
    for moment in moments:
        kills += kill_chain(emu, home, MORNING3, argv, [moment], stem, PRODUCTION_ROWS,
                            lambda: check_snapshots_whole(home, {DAY3: clean}))
        with read_only(home) as con:
            stored = scalar(con, "SELECT count(*) FROM dim_games WHERE slate_date >= ?", [DAY1])
        print(f"  {stored} of the {games} games of the refresh stored")
        if moment.name == "stats_refresh":
            assert stored < games, "the kill came after the refresh"

    recovery = run_to_end(emu, home, MORNING3, argv)
    assert recovery.returncode == 0, recovery.stderr[-3000:]
    assert "as interrupted" in recovery.stderr, recovery.stderr[-2000:]
    assert_marked_interrupted(home, env, kills, "production")
    check_database(home)
    check_snapshots_whole(home, {DAY3: clean})
    assert_same_stats(home, day3_reference.home)
    rows = f"SELECT {SNAPSHOT_COLUMNS} FROM fact_prob_snapshot WHERE run_id = ?"
    same_rows(frame(home, rows, [newest_run(home)]),
              frame(day3_reference.home, rows, [day3_reference.run_id]),
              "the snapshot after the kills")
    maps = ("map_events", "map_players")
    assert table_counts(home, maps) == table_counts(day3_reference.home, maps)


def assert_same_stats(home: Path, clean: Path) -> None:
    """The stats warehouse equals the clean run's, row for row (load times aside)."""
    for table, columns in (("dim_games", "game_id, slate_date, state, home_score, away_score"),
                           ("fact_skater_games", "*"), ("fact_goalie_games", "*"),
                           ("dim_players", "player_id, name, position")):
        sql = f"SELECT {columns} FROM {table}"
        same_rows(frame(home, sql), frame(clean, sql), table)


# ---- EV -----------------------------------------------------------------------------------

EV_ROWS = "SELECT count(*) FROM fact_ev_candidates WHERE run_id = ?"


def test_ev_killed_mid_step_in_the_candidates_write_and_in_the_checkpoint(
        world, after_production, after_ev, tmp_path: Path) -> None:
    emu, _ = world
    home = copy_home(after_production.home, tmp_path)
    argv = daily_argv(DAY1, MORNING1, "--run-ev")
    with read_only(after_ev.home) as con:
        clean = scalar(con, EV_ROWS, [after_ev.run_id])

    def all_or_nothing() -> None:
        with read_only(home) as con:
            sizes = batch_sizes(con, "fact_ev_candidates", "run_id")
        partial = {run: n for run, n in sizes.items() if n != clean}
        assert not partial, f"EV runs with part of their {clean} candidates: {partial}"

    moments = [
        # this one kills the driver's group only: the worker, the kernel and the warm
        # standby must follow it (PR_SET_PDEATHSIG, the kernel's parent poll; the kernel
        # may finish its commit in the second it outlives the driver)
        Moment("mid_step", lambda h: main_cell_started(h, "03_ev_report"),
               after_ev.main_cell_seconds / 2, driver_only=True),
        # the candidates' commit writes ~10 MiB of WAL: killed one MiB into it
        Moment("candidates_write",
               lambda h: once_main_cell_started(h, "03_ev_report", writes_at_least(h, MIB))),
        Moment("checkpoint", lambda h: once_main_cell_started(h, "03_ev_report",
                                                              checkpoint_after_write(h, MIB))),
    ]
    kills = kill_chain(emu, home, MORNING1, argv, moments, "03_ev_report", EV_ROWS,
                       all_or_nothing)
    csv = home / "outputs" / "ev" / f"ev_candidates_{DAY1}.csv"
    if csv.exists():  # written after the commit, atomically
        assert len(pd.read_csv(csv)) == len(pd.read_csv(after_ev.home / csv.relative_to(home)))

    recovery = run_to_end(emu, home, MORNING1, argv)
    assert recovery.returncode == 0, recovery.stderr[-3000:]
    assert_marked_interrupted(home, run_env(home, emu), kills, "ev")
    assert "as interrupted" in recovery.stderr, recovery.stderr[-2000:]
    check_database(home)
    all_or_nothing()
    columns = ", ".join(c for c in EV_KEY if c != "run_id") + (
        ", snapshot_id, game_id, player_id, odds_decimal, p_model, p_consensus, ev, "
        "is_eligible, is_suspicious")
    rows = f"SELECT {columns} FROM fact_ev_candidates WHERE run_id = ?"
    same_rows(frame(home, rows, [newest_run(home)]),
              frame(after_ev.home, rows, [after_ev.run_id]), "the EV candidates after the kills")


# ---- outcomes -----------------------------------------------------------------------------

OUTCOME_ROWS = "SELECT count(*) FROM fact_bet_results WHERE run_id = ?"


def test_outcomes_killed_while_storing_games_and_in_the_grading_write(
        world, after_ev, graded_reference, tmp_path: Path) -> None:
    emu, _ = world
    home = copy_home(after_ev.home, tmp_path)  # the morning of DAY1 ran; DAY2 grades it
    argv = daily_argv(DAY2, MORNING2, "--run-outcomes")
    clean = table_counts(graded_reference.home, GRADING_TABLES)

    def all_or_nothing() -> None:
        # outcomes and results land in one transaction: both there in full, or neither
        counts = table_counts(home, ("fact_prop_outcomes", "fact_bet_results"))
        assert counts in ({"fact_prop_outcomes": 0, "fact_bet_results": 0},
                          {k: clean[k] for k in counts}), (counts, clean)

    moments = [
        # grading fetches the boxscores of DAY1 and stores them, one transaction each
        Moment("storing_boxscores",
               lambda h: new_files(h, "outputs/nhl/raw/**/*boxscore_*.json")),
        # the grading's commit writes ~8 MiB of WAL (the boxscores' commits ~5 KiB each)
        Moment("grading_write",
               lambda h: once_main_cell_started(h, "04_outcomes", writes_at_least(h, MIB))),
    ]
    kills = kill_chain(emu, home, MORNING2, argv, moments, "04_outcomes", OUTCOME_ROWS,
                       all_or_nothing)

    recovery = run_to_end(emu, home, MORNING2, argv)
    assert recovery.returncode == 0, recovery.stderr[-3000:]
    assert_marked_interrupted(home, run_env(home, emu), kills, "outcomes")
    assert "as interrupted" in recovery.stderr, recovery.stderr[-2000:]
    check_database(home)
    assert table_counts(home, GRADING_TABLES) == clean
    rows = "SELECT * EXCLUDE (run_id, graded_ts_utc) FROM fact_bet_results"
    same_rows(frame(home, rows), frame(graded_reference.home, rows), "the graded bets")
    rows = "SELECT * EXCLUDE (graded_ts_utc) FROM fact_prop_outcomes"
    same_rows(frame(home, rows), frame(graded_reference.home, rows), "the outcomes")


# ---- diagnostics and report rendering ----------------------------------------------------

EVIDENCE_ROWS = "SELECT " + " + ".join(f"(SELECT count(*) FROM {t} WHERE run_id = $1)"
                                        for t in EVIDENCE_TABLES)
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
SCRATCH_NOTEBOOKS = "outputs/monitoring/executed/.render-*/report_*.ipynb"


def evidence_sizes(home: Path) -> dict[str, dict[str, int]]:
    """Rows per evidence table, by run (tables without rows left out)."""
    sizes: dict[str, dict[str, int]] = {}
    with read_only(home) as con:
        for table in EVIDENCE_TABLES:
            for run_id, n in batch_sizes(con, table, "run_id").items():
                sizes.setdefault(run_id, {})[table] = n
    return sizes


def report_files(home: Path) -> dict[str, bytes]:
    """The reports and their charts, by path under outputs/monitoring (temp files aside)."""
    monitoring = home / "outputs" / "monitoring"
    return {str(p.relative_to(monitoring)): p.read_bytes()
            for p in [*monitoring.glob("*.md"), *monitoring.glob("*_files/*")]
            if not p.name.startswith(".")}


def missing_links(files: dict[str, bytes]) -> list[str]:
    """The images a report links that are not among `files`."""
    return [f"{name} -> {link}" for name, data in files.items() if name.endswith(".md")
            for link in IMAGE_LINK.findall(data.decode()) if link not in files]


def render_of(notebook: Path) -> dict[str, bytes]:
    """The files the renderer writes from an executed report notebook, as it writes them."""
    import nbformat

    from runner.render import REPORT_TAGS, export_markdown, report_name

    nb = nbformat.read(str(notebook), as_version=4)
    files: dict[str, bytes] = {}
    for tag in REPORT_TAGS:
        name = report_name(tag, DAY1)
        body, charts = export_markdown(nb, tag, name)
        files[f"{name}.md"] = body.encode("utf-8")
        files.update(charts)
    return files


@dataclass
class DiagnosticsKills:
    home: Path
    reports_before: dict[str, bytes]
    kills: list[Kill] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)   # evidence_sizes after each kill
    reports: list[dict] = field(default_factory=list)    # report_files after each kill
    run_status: dict[str, str] = field(default_factory=dict)  # run row right after the kill
    interrupted_render: dict[str, bytes] = field(default_factory=dict)
    recovery: subprocess.CompletedProcess | None = None


@pytest.fixture(scope="module")
def diagnostics_kills(world, after_diagnostics, tmp_path_factory) -> DiagnosticsKills:
    """Four kills of a daily diagnostics run on a home with rendered reports, then a run to
    the end. Two land in the step (half-way through its main cell, by the clean run; its
    evidence commit), two in the rendering at the end of the run: half-way through the
    report notebook (by the clean render's duration), and as the renderer replaces the
    rolling report's charts (the daily report already replaced, the rolling one's
    Markdown not yet). Each kill's diagnostics committed new evidence, so each render
    differs from the reports on disk."""
    emu, _ = world
    home = copy_home(after_diagnostics.home, tmp_path_factory.mktemp("diagnostics-kills"))
    env = run_env(home, emu)
    argv = daily_argv(DAY1, MORNING1, "--run-diagnostics")
    stem = "05_diagnostics"
    half_step = after_diagnostics.main_cell_seconds / 2
    half_render = after_diagnostics.extra["report_seconds"] / 2
    moments = [
        Moment("mid_step", lambda h: main_cell_started(h, stem), half_step),
        # the evidence commit is ~30 KiB of WAL; the registry's writes are < 2 KiB
        Moment("evidence_write",
               lambda h: once_main_cell_started(h, stem, writes_at_least(h, 8 * KIB))),
        Moment("report_notebook", lambda h: new_files(h, SCRATCH_NOTEBOOKS), half_render),
        Moment("replacing_files", lambda h: new_files(
            h, "outputs/monitoring/rolling_report_files/.*.tmp")),
    ]
    observed = DiagnosticsKills(home, report_files(home))
    for moment in moments:
        emu.set_clock(MORNING1)
        kill = kill_at(home, env, argv, moment, stem)
        print(f"\n{stem} killed at {moment.name}: {describe(home, kill, stem, EVIDENCE_ROWS)}")
        check_database(home)
        observed.kills.append(kill)
        observed.evidence.append(evidence_sizes(home))
        observed.reports.append(report_files(home))
        with read_only(home) as con:
            observed.run_status[kill.run_id] = scalar(
                con, "SELECT status FROM fact_run_registry WHERE run_id = ? AND step = 'run'",
                [kill.run_id])
    replaced = sorted(k for k, v in observed.reports[-1].items()
                      if v != observed.reports[-2].get(k))
    print(f"  the kill while replacing files left these replaced: {replaced}")
    # the render that kill interrupted: its executed notebook is the newest scratch one
    scratch = max(home.glob(SCRATCH_NOTEBOOKS), key=lambda p: p.stat().st_mtime)
    observed.interrupted_render = render_of(scratch)

    observed.recovery = run_to_end(emu, home, MORNING1, argv)
    leftovers = sorted(str(p.relative_to(home))
                       for p in (home / "outputs" / "monitoring").rglob(".*"))
    print(f"  temp files and scratch folders left by the killed renders: {leftovers}")
    return observed


def test_diagnostics_killed_mid_step_and_in_the_evidence_write(
        diagnostics_kills: DiagnosticsKills, after_diagnostics, world) -> None:
    emu, _ = world
    observed, home = diagnostics_kills, diagnostics_kills.home
    clean = evidence_sizes(after_diagnostics.home)[after_diagnostics.run_id]
    # The anomaly checks depend on the history a run sees (a killed run before it is one
    # more thing to check), so their count is compared for presence only; the evidence tables
    # proper must equal the clean run's.
    evidence_only = {t: n for t, n in clean.items() if t != "fact_anomaly_checks"}
    for kill, sizes in zip(observed.kills, observed.evidence, strict=True):
        for run_id, tables in sizes.items():  # one transaction keyed by run: all or none
            tables = dict(tables)
            checks = tables.pop("fact_anomaly_checks", 0)
            assert tables == evidence_only and checks > 0, (
                f"after the kill at {kill.moment}, run {run_id} has part of its evidence: "
                f"{tables} and {checks} checks, the clean run {clean}")
    recovery = observed.recovery
    assert recovery.returncode == 0, recovery.stderr[-3000:]
    check_database(home)
    recovered = dict(evidence_sizes(home)[newest_run(home)])
    assert recovered.pop("fact_anomaly_checks", 0) > 0 and recovered == evidence_only
    in_step = [k for k in observed.kills if k.moment in ("mid_step", "evidence_write")]
    assert_marked_interrupted(home, run_env(home, emu), in_step, "diagnostics")


def test_reports_stay_whole_when_rendering_is_killed(
        diagnostics_kills: DiagnosticsKills) -> None:
    observed = diagnostics_kills
    before = observed.reports_before
    for kill, files in zip(observed.kills[:3], observed.reports[:3], strict=True):
        assert files == before, f"the kill at {kill.moment} changed the reports"
    # killed while replacing: every file is the previous one or the new one, whole, and
    # every chart a report links is there
    during, new = observed.reports[3], observed.interrupted_render
    assert new != before, "the interrupted render must differ from the reports on disk"
    for name, data in during.items():
        assert data in (before.get(name), new.get(name)), (
            f"{name} is neither the previous report's file nor the new render's")
    assert during != before, "the kill came before the renderer replaced any file"
    assert not missing_links(during), missing_links(during)
    # and the next run renders them whole
    after = report_files(observed.home)
    assert after != during and not missing_links(after), missing_links(after)


def test_a_run_killed_while_rendering_is_marked_interrupted(
        diagnostics_kills: DiagnosticsKills) -> None:
    observed = diagnostics_kills
    with read_only(observed.home) as con:
        for kill in observed.kills[2:]:  # killed in the rendering, after the step
            statuses = dict(con.execute("SELECT step, status FROM fact_run_registry "
                                        "WHERE run_id = ?", [kill.run_id]).fetchall())
            assert "interrupted" in statuses.values(), (
                f"DEFECT: run {kill.run_id} was SIGKILLed while rendering its reports "
                f"({kill.moment}); right after the kill its run row said "
                f"'{observed.run_status[kill.run_id]}', after the next run {statuses}. "
                f"runner/daily.py run_daily writes the run's final status before _render and "
                f"no row stays 'running' during the render, so no later run can mark it "
                f"interrupted: `runner runs` and `runner show` report a success whose reports "
                f"were never written (a render that fails, by contrast, marks the run failed "
                f"with ReportRenderError)")


# ---- backfill-stats -----------------------------------------------------------------------

def test_backfill_stats_killed_inside_a_game_and_mid_range(world, day3_reference,
                                                          tmp_path: Path) -> None:
    emu, template = world
    home = copy_home(template, tmp_path)
    env = run_env(home, emu)
    argv = [sys.executable, "-m", "runner", "backfill-stats", "--start-date", DAY1.isoformat(),
            "--end-date", DAY2.isoformat()]
    total = day3_reference.extra["games"]
    boxscores = "outputs/nhl/raw/**/*boxscore_*.json"
    stored_before = table_counts(home, ("dim_games",))["dim_games"]
    for moment in (Moment("first_game", lambda h: new_files(h, boxscores)),
                   Moment("mid_range", lambda h: new_files(h, boxscores, total // 2))):
        emu.set_clock(MORNING3)
        kill_at(home, env, argv, moment, None)
        stored = table_counts(home, ("dim_games",))["dim_games"] - stored_before
        print(f"\nbackfill-stats killed at {moment.name}: {stored} of {total} games stored, "
              f"{wal_left(home)}")
        check_database(home)

    emu.set_clock(MORNING3)
    done = subprocess.run(argv, cwd=home, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    check_database(home)
    assert_same_stats(home, day3_reference.home)
    with read_only(home) as con:
        statuses = [s for (s,) in con.execute(
            "SELECT status FROM fact_run_registry WHERE step = 'backfill' "
            "ORDER BY started_ts_utc").fetchall()]
    assert statuses == ["interrupted", "interrupted", "success"]


# ---- a kill inside papermill's save of the executed notebook ------------------------------

def test_show_explains_a_run_killed_while_its_notebook_was_being_saved(tmp_path: Path) -> None:
    """papermill saves the executed notebook in place (open for writing, then write) at every
    cell's start and end, and the worker rewrites it in place to scrub secrets; a SIGKILL
    inside one of those writes leaves the notebook cut short under its final name. Too
    narrow a window to hit with a timed kill, so the state is built here: a run killed in
    production, its notebook half written."""
    run_id, start = "20251203T150000Z-half01", datetime(2025, 12, 3, 15, 0)
    notebook = Path("outputs/runs/2025-12-03") / run_id / "02_production_snapshot.ipynb"
    con = db.connect(tmp_path / "data" / "ops.duckdb")
    db.upsert_rows(con, "fact_run_registry", pd.DataFrame([
        {"run_id": run_id, "slate_date": DAY3, "as_of_ts_utc": start, "step": step,
         "step_order": order, "status": status, "started_ts_utc": start,
         "notebook_path": path}
        for step, order, status, path in (("run", 0, "running", str(notebook.parent)),
                                          ("production", 2, "running", str(notebook)))]))
    con.close()
    whole = (Path(__file__).resolve().parents[2] / "notebooks" / notebook.name).read_bytes()
    (tmp_path / notebook).parent.mkdir(parents=True)
    (tmp_path / notebook).write_bytes(whole[: len(whole) // 2])

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "RUN_"))}
    env["OPS_HOME"] = str(tmp_path)
    shown = runner(env, "show", run_id)
    assert shown.returncode == 0 and "ended during step production" in shown.stdout, (
        f"DEFECT: `runner show {run_id}` fails (exit {shown.returncode}) when the killed "
        f"run's executed notebook was cut short by the kill: runner/runs.py failing_cell "
        f"reads it with nbformat.read and lets NotJSONError escape, so the command meant to "
        f"explain an interrupted run prints a traceback instead:\n{shown.stderr[-600:]}")
