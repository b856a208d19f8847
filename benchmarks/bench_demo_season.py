"""Demo world: league build time, one day's payloads of each kind, the large Unabated snapshot.

Run:  .venv/bin/python benchmarks/bench_demo_season.py [--seed 2025] [--days 60] [--repeat 5]

- build: build_league(seed, days) with a fresh league each run (median of N), plus the
  same for 120 days.
- one day: at 15:00 UTC on the middle day of the season (so the schedule week and the 36 h
  odds window are full), every vendor payload is rendered once cold (new league, empty
  caches) and once warm (pricing caches filled), with its size.
- large: render_unabated_large(seed) (~3,000 props, ~120k price objects, ~150k rows with
  alternates, ~24 MB): time, size, props, price objects, rows.
Figures are printed; nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import orjson
from result_line import emit, figure

from helpers.demo import build_league
from helpers.demo.league import DEFAULT_SEED
from helpers.demo.render_nhl import render_boxscore, render_schedule
from helpers.demo.render_oddsshark import render_oddsshark
from helpers.demo.render_playnow import event_id, render_event_list, render_events_by_ids
from helpers.demo.render_unabated import ODDS_KEY, render_unabated, render_unabated_large


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bench_build(seed: int, days: int, repeat: int) -> float:
    times = [_timed(lambda i=i: build_league(seed + i, days=days))[0] for i in range(repeat)]
    league = build_league(seed, days=days)
    print(f"build_league days={days:<4} median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}, n={repeat}); "
          f"{len(league.games)} games, {len(league.players)} players, "
          f"{int(league.skaters.dressed.sum())} skater-games, {len(league.goals.game)} goals")
    return statistics.median(times)


def bench_one_day(seed: int, days: int) -> None:
    league = build_league(seed, days=days)
    day = league.season_start + timedelta(days=days // 2)
    now = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    finals = [g for g in league.games if g.slate_date == day - timedelta(days=1)]
    upcoming = [event_id(g) for g in league.games_between(now, now + timedelta(hours=36))]
    jobs = {
        "nhl schedule (week)": lambda: render_schedule(league, now, day),
        f"nhl boxscores x{len(finals)} (final)": lambda: b"".join(
            render_boxscore(league, now, g.game_id) for g in finals),
        "unabated propodds": lambda: render_unabated(league, now),
        "playnow event-list": lambda: render_event_list(league, now),
        f"playnow events-by-ids x{len(upcoming)}": lambda: render_events_by_ids(league, now,
                                                                                 upcoming),
        "oddsshark player-props": lambda: render_oddsshark(league, now),
    }
    print(f"one day at {now:%Y-%m-%d %H:%MZ} ({len(upcoming)} games priced):")
    for name, job in jobs.items():
        cold, body = _timed(job)
        warm, _ = _timed(job)
        print(f"  {name:<32} cold {cold:6.3f} s  warm {warm:6.3f} s  {len(body) / 1e3:9.1f} kB")


def bench_large(seed: int, peak_memory: bool = True) -> float:
    render_unabated_large.cache_clear()
    seconds, body = _timed(lambda: render_unabated_large(seed))
    peak = 0
    if peak_memory:
        # Peak memory in a second, traced run (tracing slows it down several times).
        render_unabated_large.cache_clear()
        tracemalloc.start()
        render_unabated_large(seed + 1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    data = orjson.loads(body)
    props = data["odds"][ODDS_KEY]
    objects = sum(len(books) for p in props for books in p["sides"].values())
    alternates = sum(len(price["alternateLines"]) for p in props
                     for books in p["sides"].values() for price in books.values())
    traced = f"traced peak {peak / 1e6:.0f} MB" if peak_memory else "peak not traced"
    print(f"large unabated snapshot: {seconds:.2f} s ({traced}), "
          f"{len(body) / 1e6:.1f} MB, {len(props)} props, {objects} price objects, "
          f"{objects + alternates} rows with alternates, {len(data['marketSources'])} books")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-peak-memory", action="store_true",
                        help="skip the traced run of the large snapshot (the slowest part)")
    args = parser.parse_args(argv)
    build = bench_build(args.seed, args.days, args.repeat)
    build_120 = bench_build(args.seed, 120, args.repeat)
    bench_one_day(args.seed, args.days)
    large = bench_large(args.seed, peak_memory=not args.no_peak_memory)
    # no baseline: the bar is absolute (a season builds in seconds)
    emit([figure(f"build_league, {args.days} days", build, "s"),
          figure("build_league, 120 days", build_120, "s"),
          figure("large Unabated snapshot render", large, "s")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
