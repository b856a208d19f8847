"""The issue's bar: a full slate (16 games, ~700 skaters, every standard and priced line) in
under 10 s on a warm warehouse - on a synthetic 16-game slate, beside a real demo slate.

Run:  .venv/bin/python benchmarks/bench_slate16.py [--repeat 5]

The demo world never has all 32 teams on one day, so the 16-game slate is built here: the
warehouse is filled from the loopback emulator (as in bench_production.py), then every team
is paired into 16 games with fake game ids on the real slate date, and every skater on it
gets the full ladder of lines the demo vendors quote (standard lines plus every alternate).

Prints
1) the first season refresh + snapshot of 2025-12-01 on an empty warehouse, and the catch-up
   refresh to the baseline day (the busiest real day of the week from 2025-12-01);
2) the baseline: the real warm `run_production` of that day (refresh with nothing new,
   schedule fetch, identity, mus, snapshot, writes), median of --repeat, and the four timed
   phases below on the same real slate and its mapped priced lines;
3) the synthetic 16-game slate, median of --repeat per phase: history read from DuckDB (the
   SQL of `production._history`), `skater_mu`, `build_snapshot`, and the insert into
   fact_prob_snapshot (`db.insert_new_rows` in a transaction, a new snapshot_id each repeat);
   games, skaters, snapshot rows, PASS/FAIL against the 10 s bar, the cost per skater and per
   row against the real slate, and an estimate of the whole production step at 16 games.

Not in the synthetic part (there are no vendor odds for fake games): the stats refresh, the
HTTP schedule fetch, the vendor event/player SQL, identity mapping, the priced-lines SQL and
the map writes. The baseline's "rest of run_production" is that part, measured on the real
slate. Only the production model (features.skater_mu) is timed: run_production also prices
any MODEL_CHALLENGERS, empty by default and here. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
from result_line import emit, figure

from helpers.core import db
from helpers.core.slate import Slate
from helpers.core.steps import run_step
from helpers.demo.pricing import ALT_LINES, HALF_LINES, INTEGER_ALT_LINES
from helpers.demo.server import Emulator
from helpers.model.distributions import STANDARD_LINES
from helpers.model.features import MARKETS, MODEL_VERSION, skater_mu, slate_skaters
from helpers.model.production import _history
from helpers.model.snapshot import SNAPSHOT_KEY, build_snapshot
from helpers.odds.capture import capture
from helpers.odds.read import priced_lines

FIRST_MORNING = datetime(2025, 12, 1, 15, 0)   # the warm-up slate, as in bench_production
BASELINE_WINDOW_DAYS = 7                        # baseline: busiest real day in this window
FAKE_GAME_ID_BASE = 2025029000                  # above every regular-season id of the demo
BAR_SECONDS = 10.0
PHASES = ("history", "skater_mu", "build_snapshot", "write")


def line_ladder() -> pd.DataFrame:
    """(market_type, line): the standard lines plus every line a demo vendor quotes, for
    the model's markets - the most a skater can be priced on."""
    pairs = {(m, line) for m in MARKETS
             for source in (STANDARD_LINES, HALF_LINES, ALT_LINES, INTEGER_ALT_LINES)
             for line in source.get(m, ())}
    return pd.DataFrame(sorted(pairs), columns=["market_type", "line"])


def synthetic_slate(con: duckdb.DuckDBPyConnection, slate_date: date) -> pd.DataFrame:
    """Every team of the warehouse paired into one game (16 for 32 teams), fake ids."""
    teams = [row[0] for row in con.execute(
        "SELECT DISTINCT home_team FROM dim_games ORDER BY 1").fetchall()]
    half = len(teams) // 2
    start = datetime.combine(slate_date, datetime.min.time()) + timedelta(hours=24)
    return pd.DataFrame({
        "game_id": [FAKE_GAME_ID_BASE + i + 1 for i in range(half)],
        "slate_date": slate_date, "start_ts_utc": start, "state": "FUT",
        "home_team": teams[:half], "away_team": teams[half:2 * half]})


def synthetic_priced_lines(con: duckdb.DuckDBPyConnection, slate: pd.DataFrame,
                           slate_date: date) -> pd.DataFrame:
    """(game_id, player_id, market_type, line): the full ladder for every slate skater."""
    skaters, _ = _history(con, slate_date)
    players = slate_skaters(skaters, slate, slate_date)[["game_id", "player_id"]]
    return players.merge(line_ladder(), how="cross")


def time_phases(con: duckdb.DuckDBPyConnection, slate: pd.DataFrame, priced: pd.DataFrame,
                slate_date: date, as_of: datetime, tag: str, repeat: int
                ) -> tuple[dict[str, list[float]], pd.DataFrame]:
    """Seconds per phase and repeat, and the last snapshot's rows."""
    times: dict[str, list[float]] = {p: [] for p in (*PHASES, "total")}
    rows = pd.DataFrame()
    for i in range(repeat):
        t0 = time.perf_counter()
        skaters, goalies = _history(con, slate_date)
        t1 = time.perf_counter()
        mus = skater_mu(skaters, goalies, slate, slate_date)
        t2 = time.perf_counter()
        run_id = f"{tag}-{i}"
        snapshot = build_snapshot(mus, priced, snapshot_id=f"{run_id}:{MODEL_VERSION}",
                                  snapshot_ts_utc=as_of, slate_date=slate_date, run_id=run_id)
        t3 = time.perf_counter()
        with db.transaction(con):
            written = db.insert_new_rows(con, "fact_prob_snapshot", snapshot.rows, SNAPSHOT_KEY)
        t4 = time.perf_counter()
        if written != len(snapshot.rows):
            raise RuntimeError(f"{tag}: wrote {written} of {len(snapshot.rows)} rows")
        for phase, seconds in zip((*PHASES, "total"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3,
                                                       t4 - t0), strict=True):
            times[phase].append(seconds)
        rows = snapshot.rows
    return times, rows


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {phase: statistics.median(values) for phase, values in times.items()}


def phase_text(times: dict[str, list[float]]) -> str:
    med = medians(times)
    return (", ".join(f"{p} {med[p]:.2f}" for p in PHASES) + f" -> total {med['total']:.2f} s"
            f" (range {min(times['total']):.2f}-{max(times['total']):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    # the warehouse (~80 MB) lives in a temporary OPS_HOME, removed at the end
    with tempfile.TemporaryDirectory(prefix="bench-slate16-") as home, Emulator() as emu:
        settings = emu.settings(home)
        con = db.connect(settings.paths.db_path)

        # 1) warm the warehouse: the season to 2025-11-30, then up to the baseline day
        emu.set_clock(FIRST_MORNING)
        capture(con, settings, FIRST_MORNING, run_id="bench")
        t0 = time.perf_counter()
        first = run_step("production", con, settings, Slate(FIRST_MORNING.date(), FIRST_MORNING), "bench-cold")
        print(f"1) first season refresh + snapshot of {FIRST_MORNING.date()}, empty warehouse: "
              f"{time.perf_counter() - t0:.1f} s, {first.refresh.requests} requests, "
              f"{first.refresh.games_loaded} games, {first.refresh.skater_rows} skater rows")
        days = [FIRST_MORNING.date() + timedelta(days=d) for d in range(BASELINE_WINDOW_DAYS)]
        slate_date = max(days, key=lambda d: (len(emu.league.games_on(d)), -d.toordinal()))
        morning = datetime.combine(slate_date, FIRST_MORNING.time())
        emu.set_clock(morning)
        capture(con, settings, morning, run_id="bench")
        t0 = time.perf_counter()
        catch_up = run_step("production", con, settings, Slate(slate_date, morning), "bench-catch-up")
        print(f"   catch-up refresh + snapshot of {slate_date}: "
              f"{time.perf_counter() - t0:.1f} s, {catch_up.refresh.games_loaded} games")

        # 2) baseline: the real slate, warm (nothing new to refresh)
        warm = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            result = run_step("production", con, settings, Slate(slate_date, morning),
                              f"bench-real-{i}")
            warm.append(time.perf_counter() - t0)
        real_games = len(result.slate_games)
        real_skaters = result.snapshot.rows["player_id"].nunique()
        real_rows = len(result.snapshot.rows)
        real_total = statistics.median(warm)
        real_priced = priced_lines(con, Slate(slate_date, morning), result.event_map,
                                   result.player_map)
        real_times, _ = time_phases(con, result.slate_games, real_priced, slate_date, morning,
                                    "bench-real-phases", args.repeat)
        real = medians(real_times)
        rest = real_total - real["total"]
        print(f"2) baseline, real slate {slate_date} ({real_games} games, {real_skaters} "
              f"skaters priced, {len(real_priced)} mapped priced lines, "
              f"{real_rows} snapshot rows):\n"
              f"   warm run_production median {real_total:.2f} s of {args.repeat} "
              f"(range {min(warm):.2f}-{max(warm):.2f})\n"
              f"   the four phases alone: {phase_text(real_times)}\n"
              f"   rest of run_production (refresh, schedule, identity, odds SQL, map writes): "
              f"{rest:.2f} s")

        # 3) the synthetic 16-game slate
        slate = synthetic_slate(con, slate_date)
        priced = synthetic_priced_lines(con, slate, slate_date)
        times, rows = time_phases(con, slate, priced, slate_date, morning, "bench-slate16",
                                  args.repeat)
        con.close()
    syn = medians(times)
    skaters = rows["player_id"].nunique()
    verdict = "PASS" if syn["total"] < BAR_SECONDS else "FAIL"
    print(f"3) synthetic slate {slate_date} ({len(slate)} games, "
          f"{priced['player_id'].nunique()} skaters on it, {skaters} priced, "
          f"{len(priced)} priced lines, {len(rows)} snapshot rows), median of {args.repeat}:\n"
          f"   {phase_text(times)}\n"
          f"   {verdict}: {syn['total']:.2f} s against the {BAR_SECONDS:.0f} s bar")
    print(f"   per skater: {syn['total'] / skaters * 1000:.2f} ms vs real phases "
          f"{real['total'] / real_skaters * 1000:.2f} ms, real run_production "
          f"{real_total / real_skaters * 1000:.2f} ms; per 1,000 rows: "
          f"{syn['total'] / len(rows) * 1e6:.0f} ms vs real phases "
          f"{real['total'] / real_rows * 1e6:.0f} ms, real run_production "
          f"{real_total / real_rows * 1e6:.0f} ms")
    scaled_rest = rest * len(slate) / real_games
    print(f"   estimate of the whole production step at {len(slate)} games: {syn['total']:.2f} "
          f"+ rest scaled by games {scaled_rest:.2f} = {syn['total'] + scaled_rest:.2f} s")
    emit([figure(f"production snapshot, synthetic {len(slate)}-game slate (4 phases)",
                 syn["total"], "s", ("<", BAR_SECONDS)),
          figure(f"estimate of the whole production step at {len(slate)} games",
                 syn["total"] + scaled_rest, "s"),
          figure(f"real {real_games}-game slate, warm run_production", real_total, "s",
                 baseline=True)])


if __name__ == "__main__":
    main()
