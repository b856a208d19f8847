"""Bad input to every command: one line on stderr naming what is wrong, exit 2, nothing written.

The house rule (README, exit codes): a command that cannot be carried out as given says so in
one line, exits 2 and leaves everything as it was: no database created or changed, nothing
under outputs/, no lock file, no registry row. One table of cases covers, for every command,
bad dates, unknown vendors, every parsed environment variable (each at least once, spread
over the commands), a missing or unwritable OPS_HOME and a damaged database file. The cases
already proven elsewhere are not repeated here: test_daily.py (daily's flags, RUN_EV,
DAILY_STEP_TIMEOUT_SECONDS, PLAYNOW_COOKIE, read-only homes, a non-DuckDB OPS_DB_PATH,
locks), test_rerun.py (bad run references), test_backfill.py (bad ranges, sources and caps),
test_renormalize.py (an unknown vendor, a tampered raw archive: exit 1, nothing changed).

Every case runs the real CLI in a subprocess with an environment cleared of the pipeline's
variables; every base URL points at a closed loopback port, so a case that got past its
validation by mistake could not reach the network either.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from helpers.core import db
from helpers.core.settings import DEFAULTS
from helpers.core.vendors import NHL_API, VENDORS

pytestmark = pytest.mark.slow  # ~110 subprocesses: about a minute

REPO = Path(__file__).resolve().parents[2]
UNABATED_FIXTURE = REPO / "tests" / "fixtures" / "unabated" / "propodds_trimmed_DAL_at_CAR.json"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # the discard port: nothing listens, refused at once
# The file header and both database headers survive (so the file still looks like DuckDB),
# the blocks after them do not.
TRUNCATED_BYTES = 4 * 4096

# A command given good arguments: what each case spoils one thing of.
COMMANDS: dict[str, tuple[str, ...]] = {
    "daily": ("daily", "--run-ev"),
    "renormalize": ("renormalize", "--vendor", "UNABATED"),
    "runs": ("runs",),
    "show": ("show", "latest"),
    "rerun": ("rerun", "latest"),
    "backfill-unabated": ("backfill-unabated", "--start-date", "2025-12-01", "--end-date",
                          "2025-12-02", "--source-dir", "{tmp}/source"),
    "backfill-stats": ("backfill-stats", "--start-date", "2025-12-01", "--end-date",
                       "2025-12-02"),
    "report": ("report", "--date", "2025-12-01"),
    "backup": ("backup", "--to", "{tmp}/backups"),
    "demo": ("demo", "--days", "1", "--home", "{tmp}/demo"),
}
# Commands that use OPS_HOME (the demo has its own --home, the emulator none).
HOME_COMMANDS = tuple(name for name in COMMANDS if name != "demo")
READ_COMMANDS = ("runs", "show", "rerun", "report", "renormalize", "backup")  # need an existing database


@dataclass(frozen=True)
class Case:
    """`args` run with `env` on a home of kind `home`; the last stderr line must contain
    `needle`. `{tmp}`, `{home}` and `{db}` in args, env and needle are filled in."""

    id: str
    args: tuple[str, ...]
    needle: str
    env: dict[str, str] = field(default_factory=dict)
    # empty: OPS_HOME exists, nothing in it; missing: it does not exist; database: a real
    # database with one failed run; random_bytes / truncated: a damaged data/ops.duckdb;
    # unwritable: no file can be created in OPS_HOME; outputs_file: a database, and outputs
    # is a regular file so nothing can be written under it.
    home: str = "empty"


def _env_case(command: str, name: str, value: str) -> Case:
    return Case(f"{command}-env-{name}={value}", COMMANDS[command], name, env={name: value})


def _with(command: str, *extra: str) -> tuple[str, ...]:
    return (*COMMANDS[command], *extra)


# Every variable settings.py parses, each through at least one command (the ones test_daily
# covers through daily go through another command here).
ENV_CASES = [
    _env_case("daily", "OPS_NOTEBOOK_DIR", "{tmp}/no-notebooks"),
    _env_case("runs", "RUN_ODDS_INGESTION", "maybe"),
    _env_case("show", "RUN_PRODUCTION", "2"),
    _env_case("rerun", "RUN_EV", "maybe"),
    _env_case("report", "RUN_OUTCOMES", "yes please"),
    _env_case("backfill-stats", "RUN_DIAGNOSTICS", "onn"),
    _env_case("renormalize", "FAIL_FAST", "sometimes"),
    _env_case("daily", "DAILY_STEP_TIMEOUT_SECONDS", "abc"),
    _env_case("report", "DAILY_STEP_TIMEOUT_SECONDS", "-1"),
    _env_case("rerun", "DAILY_STEP_WALL_CLOCK_SECONDS", "0"),
    _env_case("daily", "DAILY_STEP_WALL_CLOCK_SECONDS", "abc"),
    _env_case("runs", "RUN_LOCK_WAIT_SECONDS", "-1"),
    _env_case("backfill-unabated", "RUN_LOCK_WAIT_SECONDS", "abc"),
    _env_case("runs", "OPS_KERNEL_NAME", "no such kernel"),
    _env_case("daily", "OPS_KERNEL_NAME", "no-such-kernel"),
    _env_case("report", "OPS_KERNEL_NAME", "no-such-kernel"),
    _env_case("backfill-stats", "HTTP_CONNECT_TIMEOUT_SECONDS", "abc"),
    _env_case("backfill-unabated", "HTTP_READ_TIMEOUT_SECONDS", "0"),
    _env_case("daily", "HTTP_MAX_ATTEMPTS", "5"),
    _env_case("backfill-stats", "HTTP_MAX_ATTEMPTS", "2.5"),
    _env_case("demo", "HTTP_BACKOFF_SECONDS", "-1"),
    _env_case("renormalize", "HTTP_RETRY_AFTER_CAP_SECONDS", "abc"),
    _env_case("daily", "CAPTURE_MAX_CLOCK_SKEW_SECONDS", "inf"),
    _env_case("renormalize", "VENDORS", "NOPE"),
    _env_case("daily", "FORCE_VENDOR_FAILURE", "NOPE"),
    _env_case("demo", "FORCE_VENDOR_FAILURE", "NOPE"),
    _env_case("daily", "FORCE_PLAYNOW_FAILURE", "maybe"),
    _env_case("backfill-unabated", "FORCE_UNABATED_FAILURE", "maybe"),
    _env_case("demo", "FORCE_ODDSSHARK_FAILURE", "2"),
    _env_case("daily", "PLAYNOW_BASE_URL", "ftp://127.0.0.1"),
    _env_case("backfill-unabated", "UNABATED_BASE_URL", "content.unabated.com"),
    _env_case("runs", "ODDSSHARK_BASE_URL", "127.0.0.1:9"),
    _env_case("backfill-stats", f"{NHL_API}_BASE_URL", "api-web.nhle.com"),
    _env_case("backfill-unabated", "UNABATED_API_KEY", "SECRETMARKER123\r"),
    _env_case("show", "PLAYNOW_COOKIE", "SECRETMARKER123\n"),
    _env_case("daily", "MODEL_CHALLENGERS", "nope"),
    _env_case("report", "EV_ODDS_FRESHNESS_MINUTES", "0"),
    _env_case("daily", "EV_EVENT_START_GRACE_MINUTES", "-5"),
    _env_case("show", "EV_MIN_EDGE", "abc"),
    _env_case("rerun", "EV_MIN_MARKET_EDGE", "20"),
    _env_case("report", "EV_EXCLUDE_BOOK_TYPES", "NOPE"),
    _env_case("daily", "EV_EXCLUDE_MARKETS", "NOPE"),
    _env_case("rerun", "OUTCOMES_LOOKBACK_DAYS", "0"),
    _env_case("daily", "EV_MODEL_VERSION", "eb-season"),
    Case("runs-env-OPS_DB_PATH-a-directory", COMMANDS["runs"], "{tmp}/source",
         env={"OPS_DB_PATH": "{tmp}/source"}),
    Case("renormalize-env-OPS_DB_PATH-under-a-file", COMMANDS["renormalize"], "{tmp}/plain",
         env={"OPS_DB_PATH": "{tmp}/plain/ops.duckdb"}),
]

DATE_CASES = [
    Case("daily-date-month-13", ("daily", "--run-ev", "--date", "2025-13-01"), "--date"),
    Case("daily-as-of-hour-25", ("daily", "--run-ev", "--as-of", "2025-12-01T25:00:00Z"),
         "--as-of"),
    # Valid ISO-8601, but the ET date of year 1 (or a window after year 9999) overflows
    # downstream: refused in one line, a dry run included.
    Case("daily-dry-run-as-of-year-1", ("daily", "--dry-run", "--as-of", "0001-01-01T00:00:00Z"),
         "--as-of '0001-01-01T00:00:00Z' is out of range"),
    Case("daily-dry-run-as-of-year-9999",
         ("daily", "--dry-run", "--as-of", "9999-12-31T23:59:59Z"), "out of range"),
    Case("daily-as-of-year-1-with-an-offset",
         ("daily", "--run-odds-ingestion", "--as-of", "0001-01-01T00:00:00+01:00"),
         "out of range"),
    Case("daily-as-of-1999", ("daily", "--run-ev", "--as-of", "1999-12-31T23:59:59Z"),
         "out of range"),
    Case("renormalize-since-month-13", _with("renormalize", "--since", "2025-13-01"),
         "--since"),
    Case("report-date-month-13", ("report", "--date", "2025-13-01"), "--date"),
    Case("report-date-yesterday", ("report", "--date", "yesterday"), "--date"),
    Case("backfill-unabated-start-month-13",
         ("backfill-unabated", "--start-date", "2025-13-01", "--end-date", "2025-12-02",
          "--source-dir", "{tmp}/source"), "--start-date"),
    Case("backfill-unabated-end-yesterday",
         ("backfill-unabated", "--start-date", "2025-12-01", "--end-date", "yesterday",
          "--source-dir", "{tmp}/source"), "--end-date"),
    Case("backfill-stats-start-yesterday",
         ("backfill-stats", "--start-date", "yesterday", "--end-date", "2025-12-02"),
         "--start-date"),
    Case("backfill-stats-range-reversed",
         ("backfill-stats", "--start-date", "2025-12-02", "--end-date", "2025-12-01"),
         "--end-date"),
    # A range the size of a typo (year 1 to 9999) is refused before anything is listed.
    Case("backfill-unabated-dry-run-years-1-to-9999",
         ("backfill-unabated", "--start-date", "0001-01-01", "--end-date", "9999-12-31",
          "--source-dir", "{tmp}/source", "--dry-run"), "--start-date '0001-01-01' is out of range"),
    Case("backfill-unabated-dry-run-two-years",
         ("backfill-unabated", "--start-date", "2024-01-01", "--end-date", "2025-12-31",
          "--source-dir", "{tmp}/source", "--dry-run"), "at most 366 days"),
    Case("backfill-stats-two-years",
         ("backfill-stats", "--start-date", "2024-01-01", "--end-date", "2025-12-31"),
         "at most 366 days"),
    Case("report-date-year-9999", ("report", "--date", "9999-12-31"), "out of range"),
    Case("backfill-stats-max-elapsed-nan", _with("backfill-stats", "--max-elapsed-seconds",
                                                 "nan"), "--max-elapsed-seconds"),
    Case("backfill-stats-max-requests-abc", _with("backfill-stats", "--max-requests", "abc"),
         "--max-requests"),
    Case("demo-start-month-13", _with("demo", "--start-date", "2025-13-01"), "--start-date"),
    Case("demo-start-yesterday", _with("demo", "--start-date", "yesterday"), "--start-date"),
    Case("demo-start-before-the-season", _with("demo", "--start-date", "2025-09-01"),
         "--start-date"),
    Case("demo-days-0", _with("demo", "--days", "0"), "--days"),
    Case("demo-postpone-outside-the-days", _with("demo", "--postpone", "2026-02-01"),
         "--postpone '2026-02-01': 2026-02-01 is not one of the demo's days"),
    Case("demo-postpone-month-13", _with("demo", "--postpone", "2025-13-01"), "--postpone"),
    Case("demo-fail-vendor-month-13", _with("demo", "--fail-vendor", "2025-13-01=PLAYNOW"),
         "--fail-vendor"),
    Case("demo-fail-vendor-outside-the-days",
         _with("demo", "--fail-vendor", "2026-02-01=PLAYNOW"), "--fail-vendor"),
    Case("runs-days-abc", ("runs", "--days", "abc"), "--days"),
    Case("runs-status-unknown", ("runs", "--status", "fine"), "--status"),
    Case("show-empty-run-id", ("show", ""), "the run is empty", home="database"),
    Case("rerun-blank-run-id", ("rerun", " "), "the run is empty", home="database"),
    Case("emulator-season-start-month-13", ("emulator", "--season-start", "2025-13-01"),
         "--season-start"),
    Case("emulator-now-garbage", ("emulator", "--now", "noon"), "--now"),
    Case("emulator-port-out-of-range", ("emulator", "--port", "70000"), "--port"),
    Case("emulator-days-0", ("emulator", "--days", "0"), "--days"),
    Case("emulator-seed-abc", ("emulator", "--seed", "abc"), "--seed"),
]

BACKUP_CASES = [
    Case("backup-without-to", ("backup",), "--to", home="database"),
    Case("backup-to-empty", ("backup", "--to", " "), "--to is empty", home="database"),
    Case("backup-to-a-file", ("backup", "--to", "{tmp}/plain"), "{tmp}/plain is not a directory",
         home="database"),
    Case("backup-to-under-a-file", ("backup", "--to", "{tmp}/plain/backups"),
         "{tmp}/plain is not a directory", home="database"),
]

VENDOR_CASES = [
    Case("renormalize-vendor-unknown", ("renormalize", "--vendor", "nope"), "--vendor"),
    Case("demo-fail-vendor-unknown", _with("demo", "--fail-vendor", "2025-12-01=NOPE"),
         "--fail-vendor"),
    Case("demo-fail-vendor-without-date", _with("demo", "--fail-vendor", "PLAYNOW"),
         "--fail-vendor"),
]

HOME_CASES = [
    # A missing OPS_HOME is an error for the commands that read an existing database, and
    # none of them creates it. (The backfills create a missing home, and so does daily when
    # a step that builds the database runs: `test_a_first_run_creates_the_database`.)
    *(Case(f"{name}-home-missing", COMMANDS[name], "{home}", home="missing")
      for name in READ_COMMANDS),
    # daily with only steps that read what earlier runs wrote: a mistyped OPS_HOME or
    # OPS_DB_PATH would otherwise get a new empty database and a run with nothing in it.
    Case("daily-ev-home-missing", COMMANDS["daily"], "no database at {db}: a run of ev "
         "needs the database earlier runs wrote; check OPS_HOME / OPS_DB_PATH", home="missing"),
    Case("daily-diagnostics-home-empty", ("daily", "--run-diagnostics"),
         "no database at {db}: a run of diagnostics needs"),
    Case("daily-outcomes-diagnostics-db-path-mistyped",
         ("daily", "--run-outcomes", "--run-diagnostics", "--date", "2025-12-01"),
         "no database at {tmp}/opz.duckdb: a run of outcomes, diagnostics needs",
         env={"OPS_DB_PATH": "{tmp}/opz.duckdb"}, home="database"),
    Case("daily-env-RUN_EV-home-empty", ("daily",), "no database at {db}",
         env={"RUN_EV": "1"}),
    # report: a date no run was for (the database's one run is of 2025-12-01)
    Case("report-date-without-a-run", ("report", "--date", "2025-12-02"),
         "no run of slate 2025-12-02 in {db}", home="database"),
    Case("report-date-in-the-future", ("report", "--date", "2099-12-01"),
         "no run of slate 2099-12-01 in {db}", home="database"),
    *(Case(f"{name}-home-unwritable", COMMANDS[name], "{home}", home="unwritable")
      for name in HOME_COMMANDS),
    Case("demo-home-unwritable", ("demo", "--days", "1", "--home", "{tmp}/plain/demo"),
         "{tmp}/plain/demo"),
    *(Case(f"{name}-outputs-is-a-file", COMMANDS[name], "{home}/outputs", home="outputs_file")
      for name in ("daily", "rerun", "report", "backfill-unabated", "backfill-stats")),
    *(Case(f"{name}-db-random-bytes", COMMANDS[name], "{db}", home="random_bytes")
      for name in HOME_COMMANDS),
    *(Case(f"{name}-db-truncated", COMMANDS[name], "{db}", home="truncated")
      for name in HOME_COMMANDS),
]

CASES = [*ENV_CASES, *DATE_CASES, *BACKUP_CASES, *VENDOR_CASES, *HOME_CASES]


@pytest.fixture(scope="module")
def database_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real database made by the package itself, with one failed run in its registry (its
    odds ingestion failed: `rerun latest` would run that step again)."""
    path = tmp_path_factory.mktemp("template") / "ops.duckdb"
    con = db.connect(path)
    for step, order in (("run", 0), ("odds_ingestion", 1)):
        con.execute("INSERT INTO fact_run_registry (run_id, slate_date, as_of_ts_utc, step, "
                    "step_order, status, started_ts_utc, error_type, error_summary) VALUES "
                    "('20251201T150000Z-abcdef', DATE '2025-12-01', "
                    "TIMESTAMP '2025-12-01 15:00', ?, ?, 'failed', "
                    "TIMESTAMP '2025-12-01 15:00', 'VendorError', 'every vendor failed')",
                    [step, order])
    con.close()
    return path.read_bytes()


def _make_home(kind: str, tmp: Path, database: bytes) -> Path:
    """The OPS_HOME of a case, built under `tmp`."""
    (tmp / "source").mkdir()  # an empty raw-store tree for backfill-unabated
    (tmp / "plain").write_text("a regular file, not a folder\n")
    home = tmp / "home"
    if kind == "missing":
        return home
    if kind == "unwritable" and os.geteuid() == 0:
        return tmp / "plain" / "home"  # chmod does not stop root; a file in the way does
    home.mkdir()
    data = home / "data" / "ops.duckdb"
    if kind in ("database", "outputs_file"):
        data.parent.mkdir()
        data.write_bytes(database)
    if kind == "outputs_file":
        (home / "outputs").write_text("not a folder\n")
    if kind == "random_bytes":
        data.parent.mkdir()
        data.write_bytes(random.Random(2025).randbytes(64 * 1024))
    if kind == "truncated":
        data.parent.mkdir()
        data.write_bytes(database[:TRUNCATED_BYTES])
        assert data.read_bytes()[8:12] == b"DUCK"  # still looks like a DuckDB file
    if kind == "unwritable":
        home.chmod(0o500)
    return home


def clean_env(home: Path) -> dict[str, str]:
    """The outer environment without any pipeline variable, plus OPS_HOME, with every base
    URL on a closed loopback port."""
    ours = set(DEFAULTS)
    env = {k: v for k, v in os.environ.items()
           if k not in ours and not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env["OPS_HOME"] = str(home)
    env.update({f"{name}_BASE_URL": CLOSED_PORT_URL for name in (*VENDORS, NHL_API)})
    return env


def snapshot(root: Path) -> dict[str, tuple[bool, int, int]]:
    """Every path under `root` (and root itself): is it a folder, its size and mtime."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in [".", *dirs, *files]:
            path = Path(folder) / name
            info = path.lstat()
            found[str(path.relative_to(root))] = (path.is_dir(), info.st_size,
                                                  info.st_mtime_ns)
    return found


def run_cli(args: tuple[str, ...], env: dict[str, str], cwd: Path
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_exits_2_in_one_line_and_writes_nothing(case: Case, tmp_path: Path,
                                                          database_bytes: bytes) -> None:
    home = _make_home(case.home, tmp_path, database_bytes)
    cwd = tmp_path / "cwd"  # relative defaults (the demo's outputs/demo) would land here
    cwd.mkdir()
    names = {"tmp": str(tmp_path), "home": str(home), "db": str(home / "data" / "ops.duckdb")}
    args = tuple(arg.format(**names) for arg in case.args)
    env = clean_env(home) | {k: v.format(**names) for k, v in case.env.items()}
    database = home / "data" / "ops.duckdb"
    database_before = database.read_bytes() if database.is_file() else None
    before = snapshot(tmp_path)
    try:
        proc = run_cli(args, env, cwd)
        after = snapshot(tmp_path)
    finally:
        if home.is_dir():
            home.chmod(0o755)

    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output, output
    assert proc.stdout == "", output
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert "error" in lines[-1] and case.needle.format(**names) in lines[-1], output
    # The emulator's own argparse prints its usage above the error line.
    assert len(lines) == 1 or args[0] == "emulator", output
    assert "SECRETMARKER" not in output
    assert after == before  # nothing created, changed or left behind (a lock, a folder)
    if database_before is not None:
        assert database.read_bytes() == database_before
    if case.home == "missing":
        assert not home.exists()


@pytest.mark.parametrize("step", ["--run-odds-ingestion", "--run-production"])
def test_a_first_run_creates_the_database(step: str, tmp_path: Path) -> None:
    """Ingestion and production build the database from nothing: on a new home they run
    (on stand-in notebooks here), and the steps that read it may run beside them."""
    from tests.runner.nbfactory import write_step_notebooks

    home = tmp_path / "home"
    env = clean_env(home) | {"OPS_NOTEBOOK_DIR": str(write_step_notebooks(tmp_path / "nb",
                                                                           {}))}
    proc = run_cli(("daily", step, "--run-ev", "--date", "2025-12-01"), env, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (home / "data" / "ops.duckdb").is_file()


# ---------------------------------------------------------------- renormalize and bad data


def test_an_unparseable_raw_payload_is_counted_and_the_others_renormalized(
        tmp_path: Path) -> None:
    """Bad vendor data is counted, never a crash: a payload the vendor sent truncated (its
    file matches its hash: that is what arrived) is counted as unparseable by renormalize,
    and the good payload beside it is still rebuilt. A raw file that no longer matches its
    hash is another matter: the archive itself is damaged and renormalize refuses to change
    anything (exit 1; test_renormalize.py)."""
    from helpers.core.settings import load_settings
    from helpers.odds.capture import load_payload
    from helpers.odds.vendors import vendor_module
    from helpers.odds.vendors.base import Fetched

    home = tmp_path / "home"
    settings = load_settings({"OPS_HOME": str(home)})
    module = vendor_module("UNABATED")
    body = UNABATED_FIXTURE.read_bytes()
    con = db.connect(settings.paths.db_path)
    good = load_payload(con, settings, module, Fetched("propodds", body, "json"),
                        datetime(2025, 12, 1, 15), "capture")
    cut = load_payload(con, settings, module, Fetched("propodds", body[:len(body) // 2],
                                                      "json"),
                       datetime(2025, 12, 1, 16), "capture")
    assert (good.status, cut.status) == ("loaded", "parse_failed")
    assert good.rows_inserted > 0
    # As if an older parser had written the good payload's rows: renormalize must redo them.
    con.execute("UPDATE fact_prop_odds SET parser_version = 'unabated-0'")
    con.close()
    cut_file = home / cut.path
    cut_bytes = cut_file.read_bytes()

    proc = run_cli(("renormalize", "--vendor", "UNABATED"), clean_env(home), tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert (f"2 payloads, rows {good.rows_inserted} -> {good.rows_inserted}, 0 rejected, "
            "1 unparseable") in last
    con = db.connect(settings.paths.db_path, read_only=True)
    try:
        versions = con.execute("SELECT DISTINCT parser_version FROM fact_prop_odds").fetchall()
        states = con.execute("SELECT load_state FROM raw_payloads ORDER BY capture_ts_utc"
                             ).fetchall()
    finally:
        con.close()
    assert versions == [(module.PARSER_VERSION,)]
    assert states == [("loaded",), ("parse_failed",)]
    assert cut_file.read_bytes() == cut_bytes  # the raw archive is never rewritten
