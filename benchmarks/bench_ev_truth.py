"""EV claims against the demo world's truth, over a week of daily runs.

Run:  .venv/bin/python benchmarks/bench_ev_truth.py [--start 2025-12-01] [--days 7]
          [--env EV_MIN_MARKET_EDGE=-1 ...]

Each day, as the daily run does it at 15:00 UTC against the loopback emulator: odds capture,
production snapshot (p10-nhlapi), EV. For every eligible bet, the EV it claimed (model p)
is set beside the EV it really had (`helpers.demo.referee.true_ev`: the probability the game
was drawn from x decimal - 1) and the EV the market consensus implied. Prints the means
overall, by book, by market and by price band, the share of bets with positive true EV,
and the same for the flagged (suspicious) and unflagged bets. Also the time of the EV step.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta

import pandas as pd
from result_line import emit, figure

from helpers.core import db
from helpers.demo.league import build_league
from helpers.demo.referee import true_ev
from helpers.demo.server import Emulator
from helpers.ev.step import run_ev
from helpers.model.production import run_production
from helpers.odds.capture import capture


def week_of_bets(start: date, days: int, env: dict[str, str] | None = None
                 ) -> tuple[pd.DataFrame, list[float]]:
    """Every day's eligible bets with `true_ev`, and the EV step's seconds per day."""
    frames, seconds = [], []
    league = build_league()
    with tempfile.TemporaryDirectory(prefix="bench-ev-truth-") as home, Emulator() as emu:
        settings = emu.settings(home, **(env or {}))
        con = db.connect(settings.paths.db_path)
        for day in (start + timedelta(days=i) for i in range(days)):
            morning = datetime(day.year, day.month, day.day, 15, 0)
            emu.set_clock(morning)
            run_id = f"bench-{day}"
            capture(con, settings, morning, run_id=run_id)
            run_production(con, settings, day, morning, run_id)
            t0 = time.perf_counter()
            result = run_ev(con, settings, day, morning, run_id)
            seconds.append(time.perf_counter() - t0)
            bets = result.eligible.copy()
            bets["true_ev"] = true_ev(league, bets)
            frames.append(bets)
            print(f"{day}: {len(result.candidates)} priced rows, {len(bets)} eligible, "
                  f"EV step {seconds[-1]:.2f} s", flush=True)
        con.close()
    return pd.concat(frames, ignore_index=True), seconds


def summary(bets: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    settled = bets[bets["true_ev"].notna()]
    groups = settled.groupby(by) if by else [("all", settled)]
    rows = []
    for key, part in groups:
        rows.append({"group": key, "bets": len(part), "claimed_ev": part["ev"].mean(),
                     "market_ev": part["ev_market"].mean(), "true_ev": part["true_ev"].mean(),
                     "true_over_claimed": part["true_ev"].mean() / part["ev"].mean(),
                     "share_true_positive": (part["true_ev"] > 0).mean()})
    return pd.DataFrame(rows).round(4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the run, e.g. EV_MIN_MARKET_EDGE=-1")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    bets, seconds = week_of_bets(args.start, args.days, env)
    void = int(bets["true_ev"].isna().sum())
    print(f"\n{len(bets)} eligible bets over {args.days} days ({void} void: the player did "
          f"not dress); EV step median {statistics.median(seconds):.2f} s a day")
    bets["price_band"] = pd.cut(bets["odds_decimal"], [1, 1.5, 2, 3, 5, 1000])
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for by in (None, "is_suspicious", "book_name", "market_type", "price_band"):
            print(f"\n-- {by or 'all eligible bets'}")
            print(summary(bets, by).to_string(index=False))
    overall = summary(bets).iloc[0]
    emit([figure("true EV / claimed EV of eligible bets", overall["true_over_claimed"], "x",
                 (">=", 0.5)),
          figure("mean true EV of eligible bets", 100 * overall["true_ev"], "%", (">", 0)),
          figure("mean claimed EV (model)", 100 * overall["claimed_ev"], "%"),
          figure("mean market EV (consensus)", 100 * overall["market_ev"], "%",
                 baseline=True),
          figure("EV step, median a day", statistics.median(seconds), "s")])


if __name__ == "__main__":
    main()
