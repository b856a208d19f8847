"""Odds ingestion end to end on a large Unabated capture, and insert cost as the table grows.

Run:  .venv/bin/python benchmarks/bench_ingest.py [--sizes 1,5,10] [--repeat 5]

The capture is the emulator's large propodds.json (~24 MB, ~3,000 props, ~115k price objects,
~157k rows with alternate lines). Figures (medians of --repeat runs), each beside a naive
baseline measured in the same run:

1. end-to-end ingest of one capture into an empty table: save raw (file + fsync + sidecar) +
   SHA-256 + parse + insert_new_rows + dims + registry, in rows/s; warm (after one untimed
   ingest in the process) and cold (the only ingest of a fresh process, like a daily run).
   Baseline: stdlib json + one dict per row -> DataFrame, then the same insert.
2. inserting a NEW capture into fact_prop_odds already holding 1M / 5M / 10M rows
   (insert_new_rows with prune_column=capture_ts_utc). Baseline: the same anti-join against
   the whole table (no pruning).
3. an identical re-capture (same bytes): hash lookup, 0 rows added. Also the cost of
   re-inserting the same rows when the hash check is bypassed (0 rows added by the key).
Writes only to a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parsers import naive_unabated
from result_line import emit, figure

from helpers.core import db
from helpers.core.settings import load_settings
from helpers.demo.render_unabated import render_unabated_large
from helpers.odds import capture as ingest
from helpers.odds.vendors import unabated
from helpers.odds.vendors.base import ODDS_COLUMNS, ODDS_KEY, Fetched, RawPayload

CAPTURE = datetime(2025, 12, 1, 15, 0)


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def end_to_end(body: bytes, repeat: int, tmp: Path) -> tuple[float, int]:
    """Time load_payload alone on an open database with an empty fact table (connect and
    schema creation are not part of ingesting a capture)."""
    times, rows = [], 0
    for run in range(repeat + 1):
        settings = load_settings({"OPS_HOME": str(tmp / f"e2e{run}")})
        con = db.connect(settings.paths.db_path)
        try:
            t0 = time.perf_counter()
            outcome = ingest.load_payload(con, settings, unabated,
                                          Fetched("propodds", body, "json"), CAPTURE, "bench")
            elapsed = time.perf_counter() - t0
        finally:
            con.close()
        rows = outcome.rows_inserted
        if run:  # the first run warms imports and allocators; not timed
            times.append(elapsed)
    return statistics.median(times), rows


NAIVE_MARKETS = {70: "POINTS", 73: "ASSISTS", 86: "SOG", 88: "BLOCKS", 129: "GOALS"}


def naive_end_to_end(body: bytes, repeat: int, tmp: Path) -> float:
    """Baseline: the per-row-dict parser of bench_parsers, mapped onto the canonical columns
    with plain pandas, then inserted without pruning (anti-join against the whole table)."""
    counter = iter(range(10_000))

    def once() -> float:
        con = db.connect(tmp / f"naive{next(counter)}.duckdb")
        try:
            t0 = time.perf_counter()
            naive = naive_unabated(body)
            frame = pd.DataFrame({column: None for column in ODDS_COLUMNS}, index=naive.index)
            frame["source_vendor"] = "UNABATED"
            frame["capture_ts_utc"] = CAPTURE
            frame["event_id_vendor"] = naive["event"]
            frame["player_name_raw"] = naive["player"]
            frame["market_type"] = naive["market"].map(NAIVE_MARKETS)
            frame["side"] = naive["side"].map({"si0": "OVER", "si1": "UNDER"})
            frame["line"] = naive["line"]
            frame["book_id_vendor"] = naive["book"]
            frame["odds_american"] = naive["odds_american"]
            frame["odds_decimal"] = naive["odds_decimal"]
            frame["raw_payload_hash"] = "naive"
            frame["parser_version"] = "naive"
            frame["vendor_outcome_key"] = (naive["side"] + ":" + naive["book"] + ":"
                                           + naive["line"].astype(str))
            frame = frame.dropna(subset=["market_type"])
            # the obvious insert: in-batch dedup by window, anti-join against the whole table
            con.register("_naive", frame)
            keys = ", ".join(ODDS_KEY)
            match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in ODDS_KEY)
            con.execute(f"""INSERT INTO fact_prop_odds SELECT * EXCLUDE (_rn) FROM (
                SELECT *, row_number() OVER (PARTITION BY {keys}) AS _rn FROM _naive) s
                WHERE _rn = 1 AND NOT EXISTS (SELECT 1 FROM fact_prop_odds t WHERE {match})
            """).fetchall()
            return time.perf_counter() - t0
        finally:
            con.close()

    return statistics.median(once() for _ in range(repeat))


def fill_table(con, rows: pd.DataFrame, target: int) -> int:
    """Append copies of `rows` at earlier hourly capture times until `target` rows exist."""
    have = con.execute("SELECT count(*) FROM fact_prop_odds").fetchall()[0][0]
    con.register("_template", rows)
    hours = 0
    while have < target:
        hours += 1
        batch = min(-(-(target - have) // len(rows)), 20)
        con.execute(f"""
            INSERT INTO fact_prop_odds
            SELECT _template.* REPLACE (capture_ts_utc - to_hours(CAST(i + {have // len(rows)} + 1
                                                             AS BIGINT)) AS capture_ts_utc)
            FROM _template, range({batch}) r(i)
            ORDER BY i DESC
        """).fetchall()
        have = con.execute("SELECT count(*) FROM fact_prop_odds").fetchall()[0][0]
    con.unregister("_template")
    return have


def growth(rows: pd.DataFrame, sizes: list[int], repeat: int, tmp: Path
           ) -> list[tuple[int, float, float]]:
    """Prints the table; returns (rows in table, pruned s, whole-table s) per size."""
    measured = []
    con = db.connect(tmp / "growth.duckdb")
    print("\n2) insert one new capture into a growing fact_prop_odds (insert_new_rows)")
    print(f"{'rows in table':>14} {'pruned (s)':>11} {'whole-table baseline (s)':>25} "
          f"{'ratio':>6} {'re-insert same rows (s)':>24}")
    step = [0]

    def new_capture() -> pd.DataFrame:
        step[0] += 1
        return rows.assign(capture_ts_utc=rows["capture_ts_utc"] + timedelta(minutes=step[0]))

    for millions in sizes:
        fill_table(con, rows, millions * 1_000_000)
        # Each timed insert adds one capture; delete it again so the size stays put.
        def timed_insert(prune: str | None) -> float:
            frame = new_capture()
            t0 = time.perf_counter()
            added = db.insert_new_rows(con, "fact_prop_odds", frame, ODDS_KEY,
                                       prune_column=prune)
            elapsed = time.perf_counter() - t0
            assert added == len(frame), (added, len(frame))
            con.execute("DELETE FROM fact_prop_odds WHERE capture_ts_utc = ?",
                        [frame["capture_ts_utc"].iloc[0]]).fetchall()
            return elapsed

        pruned = statistics.median(timed_insert("capture_ts_utc") for _ in range(repeat))
        whole = statistics.median(timed_insert(None) for _ in range(repeat))
        existing = rows.assign(capture_ts_utc=rows["capture_ts_utc"] - timedelta(hours=1))
        reinsert = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            added = db.insert_new_rows(con, "fact_prop_odds", existing, ODDS_KEY,
                                       prune_column="capture_ts_utc")
            reinsert.append(time.perf_counter() - t0)
            assert added == 0
        total = con.execute("SELECT count(*) FROM fact_prop_odds").fetchall()[0][0]
        print(f"{total:>14,} {pruned:>11.3f} {whole:>25.3f} {whole / pruned:>5.1f}x "
              f"{statistics.median(reinsert):>24.3f}")
        measured.append((total, pruned, whole))
    con.close()
    return measured


def recapture(body: bytes, repeat: int, tmp: Path) -> float:
    settings = load_settings({"OPS_HOME": str(tmp / "recap")})
    con = db.connect(settings.paths.db_path)
    first = ingest.load_payload(con, settings, unabated, Fetched("propodds", body, "json"),
                                CAPTURE, "bench")

    def again() -> None:
        outcome = ingest.load_payload(con, settings, unabated, Fetched("propodds", body, "json"),
                                      CAPTURE, "bench")
        assert outcome.status == "duplicate" and outcome.rows_inserted == 0

    med, _ = median_time(again, repeat)
    total = con.execute("SELECT count(*) FROM fact_prop_odds").fetchall()[0][0]
    con.close()
    print(f"\n3) identical re-capture: median {med:.3f} s, 0 rows added "
          f"(table stays at {total:,} = first capture's {first.rows_inserted:,})")
    return med


def cold_once(body_path: Path, tmp: Path) -> None:
    """One ingest in this (fresh) process, as a daily run's kernel does it; prints seconds."""
    settings = load_settings({"OPS_HOME": str(tmp)})
    con = db.connect(settings.paths.db_path)
    body = body_path.read_bytes()
    t0 = time.perf_counter()
    ingest.load_payload(con, settings, unabated, Fetched("propodds", body, "json"), CAPTURE,
                        "bench")
    print(f"{time.perf_counter() - t0:.6f}")
    con.close()


def cold_end_to_end(body: bytes, repeat: int, tmp: Path) -> float:
    """Median of `repeat` ingests, each the first and only one of a fresh process."""
    body_path = tmp / "capture.json"
    body_path.write_bytes(body)
    times = []
    for run in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--cold-once", str(body_path),
                              str(tmp / f"cold{run}")], capture_output=True, text=True,
                             check=True).stdout
        times.append(float(out.split()[-1]))
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10", help="table sizes in millions of rows")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold-once", nargs=2, metavar=("BODY", "HOME"),
                        help=argparse.SUPPRESS)  # the child of the cold measurement
    args = parser.parse_args(argv)
    if args.cold_once:
        cold_once(Path(args.cold_once[0]), Path(args.cold_once[1]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]

    t0 = time.perf_counter()
    body = render_unabated_large(2025)
    print(f"capture: emulator large Unabated snapshot, {len(body) / 1e6:.1f} MB "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        e2e, rows = end_to_end(body, args.repeat, tmp)
        cold = cold_end_to_end(body, args.repeat, tmp)
        naive = naive_end_to_end(body, args.repeat, tmp)
        print(f"\n1) end-to-end ingest of one capture ({rows:,} rows), median of {args.repeat}")
        print(f"   house path : {e2e:.3f} s = {rows / e2e:,.0f} rows/s")
        print(f"   house, cold: {cold:.3f} s = {rows / cold:,.0f} rows/s (first ingest of a "
              f"fresh process, as in a daily run)")
        print(f"   naive path : {naive:.3f} s = {rows / naive:,.0f} rows/s "
              f"(json + dict per row -> DataFrame -> same insert)")
        print(f"   ratio      : {naive / e2e:.1f}x")
        parsed = unabated.parse(RawPayload("UNABATED", "propodds", body, CAPTURE, "x")).rows
        inserts = growth(parsed, sizes, args.repeat, tmp)
        again = recapture(body, args.repeat, tmp)
    figures = [figure("end-to-end ingest of one capture, warm", rows / e2e, "rows/s",
                      (">=", 300_000)),
               figure("end-to-end ingest, cold (fresh process)", rows / cold, "rows/s",
                      (">=", 300_000)),
               figure("naive ingest (json + dict per row, whole-table anti-join)",
                      rows / naive, "rows/s", baseline=True),
               figure("end-to-end ingest over the naive baseline (same run)", naive / e2e, "x",
                      (">=", 5.0))]
    for total, pruned, whole in inserts:
        figure_rows = f"{total / 1e6:.1f}M"
        figures += [figure(f"insert a new capture into {figure_rows} rows (pruned)", pruned,
                           "s", ("<=", 0.3)),
                    figure(f"insert into {figure_rows} rows, whole-table anti-join", whole,
                           "s", baseline=True)]
    figures.append(figure("identical re-capture (0 rows added)", again, "s", ("<=", 0.1)))
    emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
