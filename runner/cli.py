"""The command line: `python -m runner <command>`. Logging is configured here and only here."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from helpers.clock import et_date, parse_as_of, parse_slate_date, utcnow
from helpers.errors import OpsError
from helpers.settings import Settings, load_settings, parse_number
from runner import daily
from runner.steps import STEPS, resolve_enabled


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line and exits 2, like every other usage error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(daily.EXIT_USAGE, f"{self.prog}: error: {message}\n")


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
    return parser


def _daily_options(args: argparse.Namespace, env_settings: Settings) -> daily.DailyOptions:
    as_of = parse_as_of(args.as_of) if args.as_of else utcnow()
    slate = parse_slate_date(args.date) if args.date else et_date(as_of)
    cli_flags = {step.name: bool(args.all or getattr(args, step.name)) for step in STEPS}
    enabled = resolve_enabled(cli_flags, env_settings.step_flags)
    # Env beats flags (DESIGN.md §4): a variable that is set wins over the CLI value.
    explicit = env_settings.explicit
    fail_fast = env_settings.fail_fast if "FAIL_FAST" in explicit else bool(args.fail_fast)
    if "DAILY_STEP_TIMEOUT_SECONDS" in explicit or not args.step_timeout_seconds:
        timeout = env_settings.step_timeout_seconds
    else:
        timeout = parse_number("--step-timeout-seconds", args.step_timeout_seconds)
    wall_clock = (env_settings.step_wall_clock_seconds
                  if "DAILY_STEP_WALL_CLOCK_SECONDS" in explicit else 3 * timeout + 60)
    return daily.DailyOptions(slate_date=slate, as_of=as_of, enabled=enabled,
                              fail_fast=fail_fast, step_timeout_seconds=timeout,
                              wall_clock_seconds=wall_clock, dry_run=args.dry_run)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        if args.command == "daily":
            return daily.run_daily(_daily_options(args, settings), settings)
    except OpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return daily.EXIT_USAGE
    raise AssertionError(f"unhandled command {args.command}")
