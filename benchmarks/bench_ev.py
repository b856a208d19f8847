"""The EV step (step 3) on a full slate with 3 vendors and ~25 books; bar: under 5 s.

Run:  .venv/bin/python benchmarks/bench_ev.py [--repeat 5]

The warehouse is filled from the loopback emulator as in bench_production.py, for the
demo's busiest day near December, 2025-12-06 (13 games):
- 15:00:00 UTC: the normal capture of the three vendors (PlayNow, Unabated, OddsShark), then
  `run_production` (the first one refreshes the season's stats: its time is printed);
- 15:00:05 UTC: an extra Unabated capture of the slate's games rendered with the benchmark's
  extra books (`render_unabated.render_games(..., UNABATED_BOOKS + EXTRA_UNABATED_BOOKS)`,
  the emulator's own league), loaded through the normal path (`capture.load_payload`:
  register, raw file, the real Unabated parser, `store_parsed`). Prices move by the hour,
  so the 13 regular Unabated books quote the same prices again, now as the latest capture;
- 15:00:10 UTC (the as_of of what follows): `run_production` again, so the new vendor
  players are mapped and priced.

Prints
1) the two production runs, the books (distinct `book_name`) and vendors of the slate's
   odds, and the priced rows;
2) `run_ev`, median of --repeat (each repeat a new run_id, so it really writes its rows):
   priced rows, eligible, PASS/FAIL against the 5 s bar;
3) the split, median of --repeat, calling the functions of `helpers.ev.step` directly:
   the small SQL reads (`model.read.newest_snapshot`, `snapshot_rows`, `_games`), `slate_odds`,
   `ev_candidates` (with its helpers `_fair`, `_consensus`, `_reasons`, `_suspicion` timed
   inside it), `funnel` + `_names`, the insert into fact_ev_candidates, and the two files;
4) the same-run baseline: EV alone computed row by row in plain Python (a dict of the
   snapshot's p, a loop over the odds rows), against the vectorised EV alone (merge +
   `ev_per_unit`) and against the whole `ev_candidates` (which does much more than EV).
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from result_line import emit, figure

from helpers.core import db
from helpers.core.files import published_with
from helpers.core.markets import MARKETS
from helpers.core.slate import Slate
from helpers.demo.books import EXTRA_UNABATED_BOOKS, UNABATED_BOOKS
from helpers.demo.render_unabated import render_games
from helpers.demo.server import Emulator
from helpers.ev import candidates as cand
from helpers.ev import step
from helpers.ev.blend import fit_blends
from helpers.ev.candidates import Gates, ev_candidates, funnel
from helpers.ev.read import graded_props
from helpers.model import read as model_read
from helpers.model.production import run_production
from helpers.nhl import read as nhl_read
from helpers.odds import read as odds_read
from helpers.odds.capture import capture, load_payload
from helpers.odds.prices import ev_per_unit
from helpers.odds.vendors import unabated
from helpers.odds.vendors.base import Fetched

SLATE = date(2025, 12, 6)
MORNING = datetime(2025, 12, 6, 15, 0)              # naive UTC, as the pipeline stores it
EXTRA_CAPTURE = MORNING + timedelta(seconds=5)
AS_OF = MORNING + timedelta(seconds=10)
BAR_SECONDS = 5.0
PHASES = ("small SQL", "slate_odds", "ev_candidates", "funnel+names", "insert", "files")
INNER = ("_fair", "_consensus", "_reasons", "_suspicion")


def extra_unabated_capture(con, settings, emu: Emulator) -> tuple[int, int]:
    """The slate's games with the extra benchmark books, ingested as a normal Unabated
    payload at EXTRA_CAPTURE. Returns (body bytes, rows inserted)."""
    league = emu.league
    games = league.games_on(SLATE)
    body = render_games(league, EXTRA_CAPTURE.replace(tzinfo=UTC), games,
                        UNABATED_BOOKS + EXTRA_UNABATED_BOOKS)
    outcome = load_payload(con, settings, unabated, Fetched("propodds", body, "json"),
                           EXTRA_CAPTURE, "bench-ev-extra")
    if outcome.status != "loaded":
        raise RuntimeError(f"extra Unabated capture: {outcome.status} ({outcome.error})")
    return len(body), outcome.rows_inserted


@contextlib.contextmanager
def timed_helpers(times: dict[str, list[float]]) -> Iterator[None]:
    """Wrap the private helpers of `ev.candidates` so each call inside ev_candidates is
    timed; restored on exit."""
    originals = {name: getattr(cand, name) for name in INNER}

    def wrap(name, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[name].append(time.perf_counter() - t0)
        return timed

    for name, fn in originals.items():
        setattr(cand, name, wrap(name, fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(cand, name, fn)


def split_once(con, settings, run_id: str, times: dict[str, list[float]]
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """`run_ev`'s body, phase by phase (same calls, same order). Returns the candidates and
    the odds and snapshot rows they were computed from."""
    gates = Gates.from_settings(settings.ev)
    t0 = time.perf_counter()
    snapshot_id, snapshot_ts = model_read.newest_snapshot(con, SLATE, AS_OF,
                                                          settings.ev.model_version)
    snapshot = model_read.snapshot_rows(con, snapshot_id, step.SNAPSHOT_COLUMNS)
    games = step._games(con, SLATE)
    version = settings.ev.model_version
    blends = fit_blends(graded_props(con, SLATE, settings.ev.blend_window_days, version),
                        MARKETS, settings.ev.blend_min_props)
    t1 = time.perf_counter()
    odds = step.slate_odds(con, Slate(SLATE, AS_OF))
    t2 = time.perf_counter()
    with timed_helpers(times):
        rows = ev_candidates(odds, snapshot, games, snapshot_ts_utc=snapshot_ts, as_of=AS_OF,
                             gates=gates, blends=blends)
    rows = rows.assign(run_id=run_id, snapshot_id=snapshot_id, slate_date=SLATE,
                       as_of_ts_utc=AS_OF, model_version=version)
    t3 = time.perf_counter()
    out_dir = settings.paths.outputs_dir / "ev"
    result = step.EvResult(SLATE, snapshot_id, snapshot_ts, rows, funnel(rows),
                           nhl_read.player_names(con, rows["player_id"]), games, blends,
                           version, out_dir / f"ev_candidates_{SLATE}.csv",
                           out_dir / f"best_bets_{SLATE}.md")
    t4 = time.perf_counter()
    with db.transaction(con):
        written = db.insert_new_rows(con, "fact_ev_candidates", rows[list(step.TABLE_COLUMNS)],
                                     step.TABLE_KEY, prune_column="as_of_ts_utc")
    t5 = time.perf_counter()
    with published_with(step._outputs(result)) as publish:
        publish()
    t6 = time.perf_counter()
    if written != len(rows):
        raise RuntimeError(f"{run_id}: wrote {written} of {len(rows)} rows")
    for phase, seconds in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5),
                              strict=True):
        times[phase].append(seconds)
    times["total"].append(t6 - t0)
    return rows, odds, snapshot


def tied_latest(con) -> tuple[int, int]:
    """Keys of `slate_odds`' latest pick (its partition) with more than one row at the same
    capture and payload: its tie-break (vendor_outcome_key, then the price) decides. (keys,
    rows)"""
    sql = f"""
        SELECT count(*), coalesce(sum(n), 0) FROM (
            SELECT count(*) AS n FROM ({odds_read.slate_rows_sql()})
            WHERE line IS NOT NULL
            GROUP BY source_vendor, book_id_vendor, book_name_raw, event_id_vendor,
                     player_key_vendor, market_type, line, side, capture_ts_utc,
                     raw_payload_hash
            HAVING count(*) > 1)
        """
    return con.execute(sql, Slate(SLATE, AS_OF).sql_params(sql)).fetchone()


def naive_ev(odds: pd.DataFrame, snapshot: pd.DataFrame) -> list[float]:
    """EV only, row by row: p from a dict of the snapshot, p*(d-1) - (1-p-push)."""
    probs = {}
    for r in snapshot.itertuples(index=False):
        probs[(int(r.game_id), int(r.player_id), r.market_type, float(r.line))] = (
            r.p_over, r.p_under, r.p_push)
    out = []
    for r in odds.itertuples(index=False):
        hit = None
        if not (pd.isna(r.game_id) or pd.isna(r.player_id)):
            hit = probs.get((int(r.game_id), int(r.player_id), r.market_type, float(r.line)))
        d = r.odds_decimal
        if hit is None or not d > 1.0:
            out.append(math.nan)
            continue
        p = hit[0] if r.side == "OVER" else hit[1]
        push = hit[2]
        if p is None or math.isnan(p):
            out.append(math.nan)
            continue
        push = 0.0 if push is None or math.isnan(push) else push
        out.append(p * (d - 1.0) - (1.0 - p - push))
    return out


def vectorised_ev(odds: pd.DataFrame, snapshot: pd.DataFrame) -> np.ndarray:
    """EV only, the way ev_candidates computes it: one merge, one array expression."""
    keys = ["game_id", "player_id", "market_type", "line"]
    rows = odds[[*keys, "side", "odds_decimal"]].astype({"game_id": "Int64",
                                                         "player_id": "Int64"})
    snap = snapshot[[*keys, "p_over", "p_under", "p_push"]].astype(
        {"game_id": "Int64", "player_id": "Int64"})
    rows = rows.merge(snap, on=keys, how="left")
    p = np.where(rows["side"].eq("OVER"), rows["p_over"], rows["p_under"]).astype(float)
    push = rows["p_push"].fillna(0.0).to_numpy(dtype=float)
    return ev_per_unit(p, rows["odds_decimal"].to_numpy(dtype=float), push)


def med(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ev-") as home, Emulator() as emu:
        settings = emu.settings(home)
        con = db.connect(settings.paths.db_path)

        # 1) the warm warehouse
        emu.set_clock(MORNING)
        t0 = time.perf_counter()
        reports = capture(con, settings, MORNING, run_id="bench-ev")
        t_capture = time.perf_counter() - t0
        t0 = time.perf_counter()
        first = run_production(con, settings, Slate(SLATE, MORNING), "bench-ev-cold")
        t_first = time.perf_counter() - t0
        print(f"1) capture of {SLATE} at {MORNING:%H:%M:%S} UTC: {t_capture:.1f} s ("
              + ", ".join(f"{r.vendor} {r.status} {r.rows_inserted} rows" for r in reports)
              + ")")
        print(f"   first run_production (season refresh + snapshot), empty warehouse: "
              f"{t_first:.1f} s, {first.refresh.requests} requests, "
              f"{first.refresh.games_loaded} games, {len(first.slate_games)} slate games, "
              f"{len(first.snapshot.rows)} snapshot rows")
        t0 = time.perf_counter()
        size, inserted = extra_unabated_capture(con, settings, emu)
        print(f"   extra Unabated capture at {EXTRA_CAPTURE:%H:%M:%S} "
              f"({len(UNABATED_BOOKS) + len(EXTRA_UNABATED_BOOKS)} books, slate games only): "
              f"{size / 1e6:.1f} MB, {inserted} rows, {time.perf_counter() - t0:.1f} s "
              f"(render + ingest)")
        emu.set_clock(AS_OF)
        t0 = time.perf_counter()
        second = run_production(con, settings, Slate(SLATE, AS_OF), "bench-ev-prod")
        print(f"   run_production at {AS_OF:%H:%M:%S}: {time.perf_counter() - t0:.1f} s, "
              f"{len(second.snapshot.rows)} snapshot rows, "
              f"{second.snapshot.rows['player_id'].nunique()} skaters")
        odds = step.slate_odds(con, Slate(SLATE, AS_OF))
        per_vendor = odds.groupby("source_vendor")["book_name"].nunique()
        print(f"   slate odds: {odds['source_vendor'].nunique()} vendors, "
              f"{odds['book_name'].nunique()} distinct book_name "
              f"({odds['book_name'].str.lower().nunique()} case-folded; per vendor "
              + ", ".join(f"{v} {n}" for v, n in per_vendor.items())
              + f"), {len(odds)} priced rows, "
              f"{int(odds['game_id'].notna().sum())} on a mapped event, "
              f"{int(odds['player_id'].notna().sum())} with a mapped player")

        # 2) run_ev, as the step runs it
        totals, eligible = [], []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            result = step.run_ev(con, settings, Slate(SLATE, AS_OF), f"bench-ev-run-{i}")
            totals.append(time.perf_counter() - t0)
            eligible.append(len(result.eligible))
        written = con.execute("SELECT count(*) FROM fact_ev_candidates WHERE run_id = ?",
                              [f"bench-ev-run-{args.repeat - 1}"]).fetchone()[0]
        verdict = "PASS" if med(totals) < BAR_SECONDS else "FAIL"
        print(f"2) run_ev: {len(result.candidates)} priced rows ({written} written by the last "
              f"repeat), {len(result.eligible)} eligible, "
              f"{int(result.eligible['is_suspicious'].sum())} of them flagged (eligible per "
              f"repeat: {min(eligible)}-{max(eligible)})\n"
              f"   median {med(totals):.2f} s of {args.repeat} "
              f"(range {min(totals):.2f}-{max(totals):.2f})\n"
              f"   {verdict}: {med(totals):.2f} s against the {BAR_SECONDS:.0f} s bar")

        # 3) the split
        times: dict[str, list[float]] = defaultdict(list)
        for i in range(args.repeat):
            rows, odds, snapshot = split_once(con, settings, f"bench-ev-split-{i}", times)
        print(f"3) split, median of {args.repeat} (total {med(times['total']):.2f} s, "
              f"range {min(times['total']):.2f}-{max(times['total']):.2f}):")
        for phase in PHASES:
            print(f"   {phase:<14} {med(times[phase]):6.3f} s")
            if phase == "ev_candidates":
                for name in INNER:
                    print(f"     {name:<12} {med(times[name]):6.3f} s")
                inner = sum(med(times[n]) for n in INNER)
                print(f"     {'the rest':<12} {med(times[phase]) - inner:6.3f} s "
                      "(merges, implied/EV/Kelly, timing columns)")

        tied_keys, tied_rows = tied_latest(con)
        print(f"   note: {tied_keys} keys of the latest pick in slate_odds have {tied_rows} rows "
              "at one capture and payload (the tie-break on vendor_outcome_key decides)")
        con.close()

    # 4) the baseline, on the odds and snapshot rows of the last split repeat
    naive_t, vec_t = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        naive = naive_ev(odds, snapshot)
        naive_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        vec = vectorised_ev(odds, snapshot)
        vec_t.append(time.perf_counter() - t0)
    naive_arr = np.array(naive, dtype=float)
    same = np.allclose(naive_arr, vec, equal_nan=True) and np.allclose(
        naive_arr, rows["ev"].to_numpy(dtype=float), equal_nan=True)
    full = med(times["ev_candidates"])
    print(f"4) EV alone on the same {len(odds)} rows ({int(np.isfinite(naive_arr).sum())} "
          f"with a model p), median of {args.repeat}:\n"
          f"   row by row in plain Python (dict of the snapshot's p + loop): "
          f"{med(naive_t) * 1000:.0f} ms\n"
          f"   vectorised (merge + ev_per_unit): {med(vec_t) * 1000:.0f} ms "
          f"({med(naive_t) / med(vec_t):.1f}x faster)\n"
          f"   whole ev_candidates (EV + fair, consensus, market EV, Kelly, gates, flags): "
          f"{full * 1000:.0f} ms (row-by-row EV alone / this = {med(naive_t) / full:.2f})\n"
          f"   same EV values in all three: {'yes' if same else 'NO'}")
    emit([figure("run_ev on a full slate, 3 vendors", med(totals), "s", ("<", BAR_SECONDS)),
          figure("EV alone, vectorised", med(vec_t) * 1000, "ms"),
          figure("EV alone, row by row in plain Python", med(naive_t) * 1000, "ms",
                 baseline=True)])


if __name__ == "__main__":
    main()
