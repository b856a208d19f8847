"""Step 2 timings on the demo world: the first season refresh and a warm slate.

Run:  .venv/bin/python benchmarks/bench_production.py [--repeat 3]

Prints (1) the first stats refresh on an empty database (seconds, requests, games), (2) the
warm production step of one slate (refresh with nothing new + identity + mus + snapshot +
writes), median of --repeat, and (3) the snapshot's probabilities computed row by row with
scipy (the naive baseline) against the vectorised `market_probabilities`, same rows.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from result_line import emit, figure
from scipy import stats

from helpers.core import db
from helpers.core.slate import Slate
from helpers.demo.server import Emulator
from helpers.model.distributions import MARKET_DISTRIBUTIONS, market_probabilities
from helpers.model.production import run_production
from helpers.odds.capture import capture

SLATE = date(2025, 12, 1)
MORNING = datetime(2025, 12, 1, 15, 0)


def naive_probabilities(rows) -> list[float]:
    out = []
    for row in rows.itertuples(index=False):
        kind, alpha = MARKET_DISTRIBUTIONS[row.market_type]
        dist = (stats.poisson(row.mu) if kind == "poisson"
                else stats.nbinom(1 / alpha, 1 / (1 + alpha * row.mu)))
        out.append(float(dist.sf(int(row.line))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-production-"))
    with Emulator() as emu:
        emu.set_clock(MORNING)
        settings = emu.settings(home)
        con = db.connect(settings.paths.db_path)
        capture(con, settings, MORNING, run_id="bench")
        t0 = time.perf_counter()
        first = run_production(con, settings, Slate(SLATE, MORNING), "bench-cold")
        cold = time.perf_counter() - t0
        print(f"1) first season refresh + snapshot, empty warehouse: {cold:.1f} s, "
              f"{first.refresh.requests} requests, {first.refresh.games_loaded} games, "
              f"{first.refresh.skater_rows} skater rows")
        warm = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            result = run_production(con, settings, Slate(SLATE, MORNING), f"bench-warm-{i}")
            warm.append(time.perf_counter() - t0)
        rows = result.snapshot.rows
        print(f"2) warm slate ({len(result.slate_games)} games, "
              f"{rows['player_id'].nunique()} skaters, {len(rows)} snapshot rows): "
              f"median {statistics.median(warm):.2f} s of {args.repeat}")
        con.close()
    frame = rows[["market_type", "line", "mu"]]
    t0 = time.perf_counter()
    market_probabilities(frame)
    vectorised = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_probabilities(frame)
    naive = time.perf_counter() - t0
    print(f"3) probabilities of {len(frame)} rows: vectorised {vectorised * 1000:.1f} ms, "
          f"row by row {naive * 1000:.0f} ms ({naive / vectorised:.0f}x)")
    emit([figure("first season refresh + snapshot, empty warehouse", cold, "s"),
          figure(f"warm slate run_production ({len(result.slate_games)} games)",
                 statistics.median(warm), "s"),
          figure("snapshot probabilities, vectorised", vectorised * 1000, "ms"),
          figure("snapshot probabilities, row by row with scipy", naive * 1000, "ms",
                 baseline=True)])


if __name__ == "__main__":
    main()
