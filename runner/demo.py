"""`python -m runner demo`: the whole pipeline on a simulated league, offline.

Starts the emulator on an ephemeral loopback port, points the four base URLs at it and runs
the daily driver day by day exactly as the scheduled job would: a morning run and a pre-game
odds-only capture, each at the simulated time (the emulator's clock and the run's --as-of
move together). Everything lands under --home (default outputs/demo).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from helpers.core.clock import ET
from helpers.core.errors import UsageError
from helpers.core.models import CHALLENGER_MODELS
from helpers.core.paths import check_writable_dir
from helpers.core.steps import STEPS, Step, step_named
from helpers.core.vendors import NHL_API, VENDOR_SPECS, VENDORS
from runner.codes import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL

if TYPE_CHECKING:  # the demo world is only loaded for the demo
    from helpers.demo.server import Emulator

# Steps whose capability has landed (`in_demo` in the step registry); the demo runs these
# and nothing that would only fail with "not implemented yet".
DEMO_STEPS: tuple[Step, ...] = tuple(step for step in STEPS if step.in_demo)
PREGAME_STEP = step_named("odds_ingestion")  # the pre-game run captures closing lines
MORNING_ET = time(10, 0)
PREGAME_ET = time(17, 30)
# Written into a demo home: which world it ran on, so that `runner rerun` there can serve the
# same world again at the run's time instead of calling the real vendors.
DEMO_MARKER = "demo.json"


@dataclass(frozen=True)
class DemoOptions:
    days: int
    start_date: date
    seed: int
    home: Path
    # slate date -> FORCE_VENDOR_FAILURE value for that day's morning run: to see how a
    # vendor outage looks in the registry and the reports
    vendor_failures: dict[date, str] = field(default_factory=dict)
    # slate dates whose first game is postponed after the morning run: priced in the morning,
    # PPD from the pre-game run on, its bets VOID the next morning
    postponed_days: frozenset[date] = frozenset()


def et_to_utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ET).astimezone(UTC).replace(tzinfo=None)


def run_demo(options: DemoOptions, err: TextIO = sys.stderr) -> int:
    # the demo world is only loaded for the demo
    from helpers.demo.league import DEFAULT_SEASON_START
    from helpers.demo.server import Emulator

    if options.start_date <= DEFAULT_SEASON_START:
        raise UsageError(f"--start-date must be after the simulated season's opening day "
                         f"{DEFAULT_SEASON_START}")
    home = options.home.resolve()
    check_writable_dir(home, "--home")  # one line naming it, before the emulator starts
    home.mkdir(parents=True, exist_ok=True)
    codes: list[int] = []
    season_days = (options.start_date - DEFAULT_SEASON_START).days + options.days + 2
    (home / DEMO_MARKER).write_text(json.dumps({
        "seed": options.seed, "season_start": DEFAULT_SEASON_START.isoformat(),
        "season_days": season_days}) + "\n")
    with Emulator(seed=options.seed, days=season_days, prefetch=True) as emulator:
        env = _demo_env(home, emulator.base_url)
        print(f"demo: emulator at {emulator.base_url} (seed {options.seed}), home {home}",
              file=err)
        for offset in range(options.days):
            day = options.start_date + timedelta(days=offset)
            for label, at, flags in (("morning", MORNING_ET, [s.cli_flag for s in DEMO_STEPS]),
                                     ("pre-game", PREGAME_ET, [PREGAME_STEP.cli_flag])):
                as_of = et_to_utc(day, at)
                emulator.set_clock(as_of)
                if label == "pre-game" and day in options.postponed_days:
                    _postpone_first_game(emulator, day, err)
                run_env = dict(env)
                failing = options.vendor_failures.get(day) if label == "morning" else None
                if failing:
                    run_env["FORCE_VENDOR_FAILURE"] = failing
                print(f"demo: {day} {label} run at {as_of:%Y-%m-%dT%H:%M}Z"
                      + (f", vendor failure forced: {failing}" if failing else ""), file=err)
                proc = subprocess.run(
                    [sys.executable, "-m", "runner", "daily", *flags, "--date", day.isoformat(),
                     "--as-of", as_of.strftime("%Y-%m-%dT%H:%M:%SZ")],
                    env=run_env, cwd=home, stderr=err if err is not sys.stderr else None)
                codes.append(proc.returncode)
    print(f"demo: done. Database {home / 'data' / 'ops.duckdb'}", file=err)
    print(f"demo: executed notebooks under {home / 'outputs' / 'runs'}", file=err)
    print(f"demo: raw payloads under {home / 'outputs' / 'odds' / 'raw'}", file=err)
    print(f"demo: EV reports under {home / 'outputs' / 'ev'}", file=err)
    monitoring = home / "outputs" / "monitoring"
    last = options.start_date + timedelta(days=options.days - 1)
    print(f"demo: daily reports {monitoring}/daily_report_<date>.md, the last one "
          f"{monitoring / f'daily_report_{last}.md'}", file=err)
    print(f"demo: rolling report {monitoring / 'rolling_report.md'}", file=err)
    print(f"demo: to look at its runs, or repair a failed one against the demo world:\n"
          f"  OPS_HOME={home} python -m runner runs --status needs-attention\n"
          f"  OPS_HOME={home} python -m runner show latest-failed\n"
          f"  OPS_HOME={home} python -m runner rerun latest-failed", file=err)
    if any(c not in (EXIT_OK, EXIT_PARTIAL) for c in codes):
        return EXIT_FAILED
    return EXIT_PARTIAL if EXIT_PARTIAL in codes else EXIT_OK


def _postpone_first_game(emulator: Emulator, day: date, err: TextIO) -> None:
    """The NHL api-web calls the day's first game postponed (PPD) from now on; the vendors'
    boards keep it, as boards captured before the announcement would."""
    game = min(emulator.league.games_on(day), key=lambda g: (g.start_utc, g.game_id))
    for route in ("nhl_schedule", "nhl_boxscore"):
        emulator.set_fault(route, "postponed", count=None, game_id=game.game_id)
    print(f"demo: {day} game {game.game_id} ({game.away} @ {game.home}) postponed "
          f"after the morning run", file=err)


def _demo_env(home: Path, base_url: str) -> dict[str, str]:
    """The user's environment minus anything that would steer the demo away from its own
    world: step flags, forced failures, a vendor subset, another database. The challenger
    models run beside production unless MODEL_CHALLENGERS is set."""
    env = dict(os.environ)
    cleared = [*(s.env_var for s in STEPS), *(v.force_failure_var for v in VENDOR_SPECS),
               "OPS_DB_PATH", "FORCE_VENDOR_FAILURE", "VENDORS"]
    for var in cleared:
        env.pop(var, None)
    env["OPS_HOME"] = str(home)
    # The demo world is where the challenger is measured: run it beside production unless
    # the user chose otherwise.
    env.setdefault("MODEL_CHALLENGERS", ",".join(CHALLENGER_MODELS))
    for source in (*VENDORS, NHL_API):
        env[f"{source}_BASE_URL"] = base_url
    return env


def demo_home_world(home: Path) -> dict | None:
    """The world a demo home ran on (seed, season length), None if `home` is not one."""
    try:
        return json.loads((home / DEMO_MARKER).read_text())
    except (OSError, ValueError):
        return None


@contextmanager
def served_again(home: Path, world: dict, clock: datetime) -> Iterator[None]:
    """Serve a demo home's world again with its clock at `clock`, the base URLs of this
    process (and so of the runs it starts) pointing at it, for as long as the block lasts."""
    from helpers.demo.server import Emulator

    with Emulator(seed=int(world["seed"]),
                  season_start=date.fromisoformat(world["season_start"]),
                  days=int(world["season_days"])) as emulator:
        emulator.set_clock(clock)
        env = _demo_env(home, emulator.base_url)
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update({**saved, **{k: v for k, v in env.items()
                                       if k.endswith("_BASE_URL") or k == "MODEL_CHALLENGERS"}})
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
