"""What a day adds, and where one machine runs out: a synthetic multi-sport day measured.

Run:  .venv/bin/python benchmarks/bench_growth.py [--slates 4]

A multi-sport deployment runs one pipeline per sport, each on its own slates, into the one
database and disk of the machine. The synthetic day here is `--slates` demo slates (default
4, i.e. four sports of NHL volume: 4x the vendors' rows) run one after another by the real
driver, `runner demo` (per slate a morning run of every step with the reports, and a
pre-game capture), after a first slate that is not counted: it loads the season's stats,
which a running deployment has already. Measured as the difference between two demo homes,
one of 1 slate and one of 1 + `--slates`:

- rows added to each table, the database file, the raw payloads, the executed notebooks and
  reports, and the Parquet copies (when the run writes them);
- wall seconds of the runs (the registry's durations), per slate and for the whole day;
- the peak memory of any process of the runs (the largest child's max RSS).

Then the resources of this machine (free disk where the home is, memory, cores) and the point
where each runs out at this rate: days until the disk is full, the share of memory the
largest process takes, and how many such days fit between the morning run and the pre-game
capture (7.5 h). Baseline: the same figures for one slate (one sport). Writes only to a
temporary folder; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from result_line import emit, figure

START = "2025-12-01"
MORNING_TO_PREGAME_SECONDS = 7.5 * 3600  # 10:00 to 17:30 ET


def run_demo(home: Path, slates: int) -> float:
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "runner", "demo", "--days", str(slates),
                    "--start-date", START, "--home", str(home)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def folder_bytes(path: Path) -> int:
    """Apparent bytes of the files under `path` (du), 0 when it does not exist."""
    if not path.exists():
        return 0
    du = subprocess.run(["du", "-sb", str(path)], check=True, capture_output=True, text=True)
    return int(du.stdout.split()[0])


def measure(home: Path) -> dict[str, float]:
    """Rows per table, bytes per kind of output, and the runs' seconds of one demo home."""
    database = home / "data" / "ops.duckdb"
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE'").fetchall()]
        found = {f"rows {t}": float(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                 for t in tables}
        found["run seconds"] = float(con.execute(
            "SELECT coalesce(sum(duration_s), 0) FROM fact_run_registry WHERE step = 'run'"
        ).fetchone()[0])
        found["report seconds"] = float(con.execute(
            "SELECT coalesce(sum(duration_s), 0) FROM fact_run_registry WHERE step = 'report'"
        ).fetchone()[0])
    finally:
        con.close()
    outputs = home / "outputs"
    found["bytes database"] = float(database.stat().st_size)
    found["bytes raw payloads"] = float(folder_bytes(outputs / "odds" / "raw")
                                        + folder_bytes(outputs / "nhl" / "raw"))
    found["bytes notebooks and reports"] = float(folder_bytes(outputs / "runs")
                                                 + folder_bytes(outputs / "monitoring"))
    found["bytes parquet"] = float(folder_bytes(outputs / "parquet"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slates", type=int, default=4,
                        help="slates in the synthetic day (sports of NHL volume), default 4")
    args = parser.parse_args()
    if not 1 <= args.slates <= 20:
        parser.error("--slates must be 1 to 20")

    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        print("demo of 1 slate (the season's stats; not counted) ...", flush=True)
        first_seconds = run_demo(Path(tmp) / "one", 1)
        print(f"  {first_seconds:.0f} s; demo of 1 + {args.slates} slates ...", flush=True)
        wall = run_demo(Path(tmp) / "more", 1 + args.slates) - first_seconds
        peak_rss_bytes = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        before, after = measure(Path(tmp) / "one"), measure(Path(tmp) / "more")
        free_disk = shutil.disk_usage(tmp).free
    day = {name: after[name] - before.get(name, 0.0) for name in after}
    per_slate = {name: value / args.slates for name, value in day.items()}
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cores = os.cpu_count() or 1

    print(f"\nthe synthetic day: {args.slates} slates (x{args.slates} the vendors' rows of one "
          f"NHL slate); per slate = one sport's day (the baseline)")
    print(f"{'what':<40} {'per slate':>14} {'the day':>14}")
    for name in sorted(day):
        if day[name] or name.startswith(("bytes", "run")):
            print(f"{name:<40} {per_slate[name]:>14,.0f} {day[name]:>14,.0f}")
    day_bytes = sum(day[n] for n in day if n.startswith("bytes"))
    day_seconds = day["run seconds"]
    print(f"{'wall seconds of the demo (driver, emulator)':<40} {wall / args.slates:>14,.0f} "
          f"{wall:>14,.0f}")
    print(f"\npeak memory of one process: {peak_rss_bytes / 2**20:,.0f} MiB "
          f"({peak_rss_bytes / memory:.1%} of {memory / 2**30:,.0f} GiB)")
    print(f"disk: {day_bytes / 2**20:,.0f} MiB a day; {free_disk / 2**30:,.0f} GiB free here: "
          f"full in {free_disk / day_bytes:,.0f} days")
    print(f"time: {day_seconds:,.0f} s of runs a day on {cores} cores; "
          f"{MORNING_TO_PREGAME_SECONDS / day_seconds:,.1f} such days fit between the "
          f"morning run and the pre-game capture")
    emit([
        figure("slates in the day", args.slates, "slates"),
        figure("odds rows, the day", day.get("rows fact_prop_odds"), "rows"),
        figure("odds rows, one slate", per_slate.get("rows fact_prop_odds"), "rows",
               baseline=True),
        figure("EV rows, the day", day.get("rows fact_ev_candidates"), "rows"),
        figure("bytes on disk, the day", day_bytes, "bytes"),
        figure("bytes on disk, one slate", day_bytes / args.slates, "bytes", baseline=True),
        figure("database bytes, the day", day["bytes database"], "bytes"),
        figure("run seconds, the day", day_seconds, "s"),
        figure("run seconds, one slate", day_seconds / args.slates, "s", baseline=True),
        figure("peak process memory", peak_rss_bytes / 2**20, "MiB"),
        figure("days until the disk is full", free_disk / day_bytes, "days"),
        figure("such days between morning and pre-game", MORNING_TO_PREGAME_SECONDS / day_seconds,
               "days"),
    ])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
