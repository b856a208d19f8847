"""The command line: `python -m runner <command>`. Logging is configured here and only here.

The heavy modules (the daily driver, papermill, pandas, DuckDB) are imported by the commands
that use them, not here: bad usage is refused in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.core.clock import et_date, parse_as_of, parse_slate_date, utcnow
from helpers.core.errors import (
    DatabaseBusyError,
    OpsError,
    PathError,
    RunLockedError,
    SettingsError,
    UsageError,
)
from helpers.core.settings import NUMBER_RULES, Settings, load_settings, parse_number
from helpers.core.slate import Slate
from helpers.core.vendors import VENDORS
from runner.codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE, RUN_STATUSES
from runner.steps import STEPS, resolve_enabled

if TYPE_CHECKING:
    import duckdb


# Exit 2: the command could not be carried out as given; nothing was written. A database
# held by another process is refused before anything runs (mid-run it fails the run, exit 1).
USAGE_ERRORS = (UsageError, SettingsError, RunLockedError, DatabaseBusyError, PathError)
DEMO_DAYS = 5
# A backfill command covers at most a year: a season with its playoffs fits, and a typo'd
# range (0001 to 9999) is refused instead of listing three million days.
MAX_BACKFILL_DAYS = 366
DEMO_START = "2025-12-01"


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line and exits 2, like every other usage error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m runner", description="NHL props ops pipeline")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("daily", help="run the daily pipeline (steps gated by flags)")
    for step in STEPS:
        run.add_argument(step.cli_flag, dest=step.name, action="store_true",
                         help=f"run step {step.order} ({step.notebook}); env {step.env_var}")
    run.add_argument("--all", action="store_true", help="run every step")
    run.add_argument("--fail-fast", action="store_true", default=None,
                     help="stop after the first failed step (env FAIL_FAST)")
    run.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    run.add_argument("--step-timeout-seconds", metavar="S",
                     help="per-cell execution timeout (env DAILY_STEP_TIMEOUT_SECONDS)")
    run.add_argument("--date", metavar="YYYY-MM-DD", help="slate date (default: ET date of as-of)")
    run.add_argument("--as-of", metavar="ISO", help="the run's now in UTC (default: wall clock)")

    renorm = commands.add_parser("renormalize",
                                 help="rebuild a vendor's odds rows from the raw archive")
    renorm.add_argument("--vendor", required=True, type=str.upper,
                        choices=VENDORS)
    renorm.add_argument("--since", metavar="YYYY-MM-DD", help="only payloads captured since")

    runs = commands.add_parser("runs", help="recent runs, newest first, one line each")
    runs.add_argument("--days", type=int, default=7,
                      help="runs started in the last N days (default 7)")
    runs.add_argument("--status", choices=(*RUN_STATUSES, "needs-attention"),
                      help="only runs with this status; needs-attention: failed, partial or "
                           "interrupted, and not repaired by a rerun (what an alert wants)")
    runs.add_argument("--json", action="store_true", help="one JSON list, for scripts")
    runs.add_argument("--check", action="store_true",
                      help="exit 1 when any run is listed (an alert: with --status "
                           "needs-attention, exactly when someone should act)")
    show = commands.add_parser("show", help="one run: why a step failed, where to look, "
                                            "what to try next")
    show.add_argument("run", help="a run id, a unique prefix of one, latest or latest-failed")
    show.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    rerun = commands.add_parser("rerun", help="run a run's failed (or named) steps again, as "
                                              "a new run with the same slate and as-of")
    rerun.add_argument("run", help="a run id, a unique prefix of one, latest or latest-failed")
    rerun.add_argument("--step", dest="steps", action="append", default=[],
                       choices=[s.name for s in STEPS], help="a step to run (repeatable; "
                       "default: the steps that did not finish: failed, timed out, "
                       "interrupted, partial or never started)")
    rerun.add_argument("--only", action="store_true",
                       help="run just those steps, not the later steps that read what they "
                            "write")
    rerun.add_argument("--as-of", metavar="ISO-8601|now",
                       help="the rerun's as-of (default: the run's; `now` when ingestion "
                            "reruns outside the demo, since a capture is of the present)")

    back = commands.add_parser(
        "backfill-unabated", help="load saved Unabated snapshots of past days, bounded and "
                                  "resumable (never today's board under a past date)")
    back.add_argument("--start-date", required=True, metavar="YYYY-MM-DD")
    back.add_argument("--end-date", required=True, metavar="YYYY-MM-DD")
    where = back.add_mutually_exclusive_group(required=True)
    where.add_argument("--source-dir", metavar="PATH",
                       help="a raw-store tree: PATH/YYYY/MM/DD/HHMMSS_unabated_propodds.json")
    where.add_argument("--source-url", metavar="URL",
                       help="an archive: URL/YYYY/MM/DD/index.json and URL/YYYY/MM/DD/<file>")
    back.add_argument("--max-requests", type=int, metavar="N",
                      help="stop before request N+1 (every read counts)")
    back.add_argument("--max-elapsed-seconds", type=float, metavar="S",
                      help="stop starting requests after S seconds")
    back.add_argument("--dry-run", action="store_true",
                      help="print the plan per date; write nothing")

    stats = commands.add_parser(
        "backfill-stats", help="load the NHL games of past slates into the stats warehouse, "
                               "bounded and resumable")
    stats.add_argument("--start-date", required=True, metavar="YYYY-MM-DD")
    stats.add_argument("--end-date", required=True, metavar="YYYY-MM-DD")
    stats.add_argument("--max-requests", type=int, metavar="N",
                       help="stop before request N+1 (schedule weeks, boxscores, retries)")
    stats.add_argument("--max-elapsed-seconds", type=float, metavar="S",
                       help="stop starting requests after S seconds")

    report = commands.add_parser(
        "report", help="render the daily and rolling reports again from the evidence tables")
    report.add_argument("--date", metavar="YYYY-MM-DD",
                        help="slate date (default: the newest slate in the run registry)")

    export = commands.add_parser(
        "export", help="rebuild the Parquet copies (outputs/parquet) of the evidence, EV and "
                       "graded bets from the database, for every slate since a date")
    export.add_argument("--since", required=True, metavar="YYYY-MM-DD",
                        help="the first slate to rebuild; every later one is rebuilt too")

    backup = commands.add_parser(
        "backup", help="copy the database into a folder under the run lock, and check the "
                       "copy opens with the same rows (docs/operations.md: backups)")
    backup.add_argument("--to", required=True, metavar="DIR",
                        help="the folder the backup goes to (created if missing)")

    emu = commands.add_parser("emulator", help="serve the demo world on 127.0.0.1",
                              add_help=False)
    emu.add_argument("emulator_args", nargs=argparse.REMAINDER)

    demo = commands.add_parser("demo", help="run the pipeline day by day on the demo world")
    demo.add_argument("--days", type=int, default=DEMO_DAYS, help="days to run (default 5)")
    demo.add_argument("--start-date", default=DEMO_START, metavar="YYYY-MM-DD",
                      help=f"first slate date (default {DEMO_START})")
    demo.add_argument("--seed", type=int, default=None, help="league seed (default fixed)")
    demo.add_argument("--home", default="outputs/demo",
                      help="OPS_HOME of the demo (default outputs/demo)")
    demo.add_argument("--fail-vendor", action="append", default=[], metavar="DATE=VENDORS",
                      help="force a vendor failure in that day's morning run, e.g. "
                           "2025-12-04=PLAYNOW or 2025-12-05=ALL (repeatable)")
    demo.add_argument("--postpone", action="append", default=[], metavar="DATE",
                      help="postpone that day's first game after its morning run (the NHL "
                           "api-web says PPD from then on; its bets are void), e.g. "
                           "2025-12-03 (repeatable)")
    return parser


def _daily(args: argparse.Namespace, env_settings: Settings) -> int:
    """The run's options, and what it will write, checked before the driver is loaded."""
    as_of = parse_as_of(args.as_of) if args.as_of else utcnow()
    slate = parse_slate_date(args.date) if args.date else et_date(as_of)
    cli_flags = {step.name: bool(args.all or getattr(args, step.name)) for step in STEPS}
    enabled = resolve_enabled(cli_flags, env_settings.run.step_flags)
    # Env beats flags (docs/architecture.md): a variable that is set wins over the CLI value.
    explicit = env_settings.explicit
    fail_fast = env_settings.run.fail_fast if "FAIL_FAST" in explicit else bool(args.fail_fast)
    if "DAILY_STEP_TIMEOUT_SECONDS" in explicit or not args.step_timeout_seconds:
        timeout = env_settings.run.step_timeout_seconds
    else:
        timeout = parse_number("--step-timeout-seconds", args.step_timeout_seconds,
                               NUMBER_RULES["DAILY_STEP_TIMEOUT_SECONDS"])
    if not args.dry_run and any(enabled.values()):  # steps will run: refuse what cannot
        _check_kernel(env_settings.run.kernel_name)
        _check_run_paths(env_settings)
        _check_database_exists(enabled, env_settings)
    today = et_date(as_of)
    if args.date and not args.as_of and enabled["odds_ingestion"] and slate < today:
        # It runs: the rest of the run may be wanted on that slate. But the capture is filed
        # under now, not under the slate the user named, and they should know before it runs.
        print(f"note: slate {slate} is before today's ET date {today}: ingestion captures the "
              f"vendors' present board as of now, not that slate's; past boards: python -m "
              f"runner backfill-unabated", file=sys.stderr)
    from runner import daily

    options = daily.DailyOptions(slate=Slate(slate, as_of), enabled=enabled,
                                 fail_fast=fail_fast, step_timeout_seconds=timeout,
                                 wall_clock_seconds=daily.wall_clock_seconds(env_settings, timeout),
                                 dry_run=args.dry_run)
    return daily.run_daily(options, env_settings)


def _renormalize(args: argparse.Namespace, settings: Settings) -> int:
    from helpers.core.paths import check_writable_dir

    since = parse_slate_date(args.since, "--since") if args.since else None
    if not settings.paths.db_path.exists():
        raise UsageError(f"no database at {settings.paths.db_path}; nothing to renormalize")
    _check_database(settings)
    check_writable_dir(settings.paths.db_path.parent, "the database folder")
    from helpers.core import db
    from helpers.odds.renormalize import renormalize
    from runner.lock import RunLock

    with RunLock(settings.paths.db_path, settings.run.lock_wait_seconds) as lock:
        lock.acquire("renormalize")
        con = db.connect(settings.paths.db_path, wait_seconds=settings.run.lock_wait_seconds)
        try:
            summary = renormalize(con, settings, args.vendor, since)
        finally:
            con.close()
    print(f"renormalized {summary.vendor} with {summary.parser_version}: "
          f"{summary.payloads} payloads, rows {summary.rows_before} -> {summary.rows_after}, "
          f"{summary.rejected_after} rejected, {summary.parse_failures} unparseable",
          file=sys.stderr)
    return EXIT_OK


def _check_database(settings: Settings) -> None:
    """Before a writing command creates anything (the run lock beside the database, a run
    folder): an existing database file must be DuckDB, writable, and open (not damaged or
    truncated)."""
    from helpers.core import db
    from helpers.core.paths import check_database_file

    check_database_file(settings.paths.db_path)
    db.check_opens(settings.paths.db_path)


# The steps that can start from nothing (they fetch what they write): a first run creates
# the database through them. Every other step reads what earlier runs wrote.
CREATE_DATABASE_STEPS = ("odds_ingestion", "production")


def _check_database_exists(enabled: dict[str, bool], settings: Settings) -> None:
    """A run of only reading steps on a missing database is a mistyped OPS_HOME or
    OPS_DB_PATH: it would create an empty database and succeed at nothing."""
    path = settings.paths.db_path
    if path.exists() or any(enabled[name] for name in CREATE_DATABASE_STEPS):
        return
    steps = ", ".join(name for name, on in enabled.items() if on)
    raise UsageError(f"no database at {path}: a run of {steps} needs the database earlier "
                     "runs wrote; check OPS_HOME / OPS_DB_PATH")


def _check_run_paths(settings: Settings) -> None:
    """What a daily run writes (the driver checks it again): the database and outputs/."""
    from helpers.core.paths import check_run_paths

    check_run_paths(settings.paths.db_path, settings.paths.outputs_dir)
    _check_database(settings)


def _check_kernel(name: str) -> None:
    """The kernel OPS_KERNEL_NAME names must exist before a command runs a notebook on it:
    otherwise every step fails on it after the run has been registered. The default kernel
    is registered on first use."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    from runner.kernel import DEFAULT_KERNEL

    if name == DEFAULT_KERNEL:
        return
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise UsageError(f"OPS_KERNEL_NAME={name!r}: no such Jupyter kernel (`jupyter "
                         "kernelspec list` shows the installed ones)") from None


def _read_only(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The database, read-only, waiting briefly while a run writes to it."""
    from helpers.core.errors import SchemaError

    path = settings.paths.db_path
    if not path.exists():
        raise UsageError(f"no database at {path} (set OPS_HOME or OPS_DB_PATH, or run "
                         f"`python -m runner daily` first)")
    from helpers.core import db

    try:
        return db.connect(path, read_only=True, wait_seconds=settings.run.lock_wait_seconds)
    except SchemaError as exc:
        raise UsageError(str(exc)) from exc


def _runs(args: argparse.Namespace, settings: Settings) -> int:
    if args.days < 1:
        raise UsageError(f"--days {args.days} must be at least 1")
    con = _read_only(settings)
    from runner.runs import format_runs, list_runs

    try:
        found = list_runs(con, settings.paths.db_path, args.days, args.status, utcnow())
    finally:
        con.close()
    print(json.dumps(found, indent=1) if args.json else format_runs(found))
    return EXIT_FAILED if args.check and found else EXIT_OK


def _show(args: argparse.Namespace, settings: Settings) -> int:
    con = _read_only(settings)
    from runner.runs import format_detail, resolve_run, run_detail

    try:
        run_id = resolve_run(con, settings.paths.db_path, args.run)
        detail = run_detail(con, settings.paths.db_path, settings.paths.ops_home, run_id)
    finally:
        con.close()
    print(json.dumps(detail, indent=1, default=str) if args.json else format_detail(detail))
    return EXIT_OK


def _rerun(args: argparse.Namespace, settings: Settings) -> int:
    _check_kernel(settings.run.kernel_name)
    from runner.rerun import plan_rerun, run_rerun

    _check_run_paths(settings)  # what it would write, before what it would run
    con = _read_only(settings)
    try:
        options, line = plan_rerun(con, settings, args.run, args.steps, args.only, args.as_of)
    finally:
        con.close()
    print(line, file=sys.stderr)
    return run_rerun(options, settings)


def _backfill_range(args: argparse.Namespace) -> tuple[date, date]:
    """The dates and caps of a backfill command, checked."""
    start = parse_slate_date(args.start_date, "--start-date")
    end = parse_slate_date(args.end_date, "--end-date")
    if end < start:
        raise UsageError(f"--end-date {end} is before --start-date {start}")
    if (end - start).days + 1 > MAX_BACKFILL_DAYS:
        raise UsageError(f"--start-date {start} to --end-date {end} is {(end - start).days + 1} "
                         f"days; a backfill covers at most {MAX_BACKFILL_DAYS} days per command "
                         "(run it again for the next range)")
    if args.max_requests is not None and args.max_requests < 1:
        raise UsageError(f"--max-requests {args.max_requests} must be at least 1")
    # "nan" and "inf" parse as floats; NaN would pass a `<= 0` test and never stop anything.
    if args.max_elapsed_seconds is not None and not 0 < args.max_elapsed_seconds < math.inf:
        raise UsageError(f"--max-elapsed-seconds {args.max_elapsed_seconds:g} must be a "
                         "positive number of seconds")
    return start, end


def _backfill_stats(args: argparse.Namespace, settings: Settings) -> int:
    start, end = _backfill_range(args)
    from runner.backfill import run_backfill_stats

    return run_backfill_stats(start, end, args.max_requests, args.max_elapsed_seconds,
                              settings)


def _backfill(args: argparse.Namespace, settings: Settings) -> int:
    start, end = _backfill_range(args)
    from runner.backfill import BackfillOptions, run_backfill

    return run_backfill(BackfillOptions(
        start=start, end=end, source_dir=Path(args.source_dir) if args.source_dir else None,
        source_url=args.source_url, max_requests=args.max_requests,
        max_elapsed_seconds=args.max_elapsed_seconds, dry_run=args.dry_run), settings)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the Parquet copies of every slate from --since to the newest, under the run
    lock (a run also writes them); a line per table as it goes."""
    import duckdb

    from helpers.core.paths import check_writable_dir
    from runner.export import export_slates, parquet_root, slates_since
    from runner.lock import RunLock

    since = parse_slate_date(args.since, "--since")
    if not settings.paths.db_path.exists():
        raise UsageError(f"no database at {settings.paths.db_path}: nothing to export (set "
                         f"OPS_HOME or OPS_DB_PATH)")
    _check_database(settings)
    check_writable_dir(settings.paths.outputs_dir, "the outputs folder")
    with RunLock(settings.paths.db_path, settings.run.lock_wait_seconds) as lock:
        lock.acquire("export")
        slates = slates_since(settings, since)
        if not slates:
            print(f"nothing to export: no slate on or after --since {since} in the database "
                  "or the copies", file=sys.stderr)
            return EXIT_OK
        print(f"export: {len(slates)} slates, {slates[0]} to {slates[-1]} -> "
              f"{parquet_root(settings)}", file=sys.stderr)
        try:
            summary = export_slates(settings, slates,
                                    lambda line: print(f"export: {line}", file=sys.stderr,
                                                       flush=True))
        except (duckdb.Error, OSError) as exc:  # e.g. a full disk: the old copies stay whole
            print(f"error: parquet export failed - {type(exc).__name__}: "
                  f"{' '.join(str(exc).split())}", file=sys.stderr)
            return EXIT_FAILED
    print(f"export: {summary.line()}", file=sys.stderr)
    return EXIT_OK


def _report(args: argparse.Namespace, settings: Settings) -> int:
    """Render both reports for a date, reading the database read-only: no step runs, no
    run lock is taken, and the previous reports stay in place if anything fails."""
    from helpers.core.errors import SchemaError
    from helpers.core.paths import check_writable_dir

    slate = parse_slate_date(args.date) if args.date else None
    _check_kernel(settings.run.kernel_name)
    path = settings.paths.db_path
    if not path.exists():
        raise UsageError(f"no database at {path}: nothing to report on (set OPS_HOME or "
                         f"OPS_DB_PATH, or run `python -m runner daily` first)")
    check_writable_dir(settings.paths.monitoring_dir, "the reports folder")
    from helpers.core import db
    from runner.kernel import ensure_kernel
    from runner.render import render_reports

    try:
        con = db.connect(path, read_only=True, wait_seconds=settings.run.lock_wait_seconds)
    except SchemaError as exc:
        raise UsageError(str(exc)) from exc
    from helpers.evidence.rolling import newest_slate

    try:
        newest = newest_slate(con)
        runs = con.execute("SELECT count(*) FROM fact_run_registry WHERE step = 'run' "
                           "AND slate_date = ?", [slate or newest]).fetchall()[0][0]
    finally:
        con.close()
    if newest is None:
        raise UsageError(f"no run in the registry of {path}: nothing to report on (run "
                         "`python -m runner daily` first)")
    # A date no run was for has nothing to report on: a typo, or a day not run yet. Saying so
    # beats a report of empty sections that reads like an outage.
    if not runs:
        raise UsageError(f"no run of slate {slate} in {path}: nothing to report on (the "
                         f"newest slate with runs is {newest}; `python -m runner runs` "
                         "lists them)")
    slate = slate or newest
    print(f"report: rendering {slate} from {path}", file=sys.stderr)
    reports = render_reports(settings, slate, ensure_kernel(settings.run.kernel_name),
                             settings.run.step_timeout_seconds,
                             settings.run.step_wall_clock_seconds)
    for line in reports.lines():
        print(f"report: {line}", file=sys.stderr)
    return EXIT_OK


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    """A verified copy of the database; bad input exits 2 before anything is locked or
    created."""
    from runner.backup import check_target, run_backup

    path = settings.paths.db_path
    if not path.exists():
        raise UsageError(f"no database at {path}: nothing to back up (set OPS_HOME or "
                         "OPS_DB_PATH)")
    _check_database(settings)
    backup = run_backup(check_target(args.to), settings)
    print(backup.line(path), file=sys.stderr)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    if args.days < 1:
        raise UsageError(f"--days {args.days} must be at least 1")
    start = parse_slate_date(args.start_date, "--start-date")
    last = start + timedelta(days=args.days - 1)
    failures = {}
    for item in args.fail_vendor:
        day, _, vendors = item.partition("=")
        names = [v.strip().upper() for v in vendors.split(",") if v.strip()]
        unknown = [v for v in names if v not in (*VENDORS, "ALL")]
        if not names or unknown:
            raise UsageError(f"--fail-vendor {item!r}: give DATE=VENDORS with vendors from "
                             f"{', '.join((*VENDORS, 'ALL'))}")
        when = parse_slate_date(day, "--fail-vendor")
        # A failure forced on a day the demo does not run would silently never happen.
        if not start <= when <= last:
            raise UsageError(f"--fail-vendor {item!r}: {when} is not one of the demo's days "
                             f"({start} to {last})")
        failures[when] = ",".join(names)
    postponed = set()
    for item in args.postpone:
        when = parse_slate_date(item, "--postpone")
        if not start <= when <= last:
            raise UsageError(f"--postpone {item!r}: {when} is not one of the demo's days "
                             f"({start} to {last})")
        postponed.add(when)
    from helpers.demo.league import DEFAULT_SEED
    from runner.demo import DemoOptions, run_demo

    seed = DEFAULT_SEED if args.seed is None else args.seed
    return run_demo(DemoOptions(days=args.days, start_date=start, seed=seed,
                                home=Path(args.home), vendor_failures=failures,
                                postponed_days=frozenset(postponed)))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from helpers.demo.server import main as emulator_main

        return emulator_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        if args.command == "demo":
            return _demo(args)
        handler = {"daily": _daily, "renormalize": _renormalize, "runs": _runs, "show": _show,
                   "rerun": _rerun, "report": _report, "backfill-unabated": _backfill,
                   "backfill-stats": _backfill_stats, "backup": _backup,
                   "export": _export}[args.command]
        return handler(args, settings)
    except USAGE_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OpsError as exc:  # a check that failed on data, not on the command line
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
