"""Model accuracy against the demo world's truth, over a month of slates.

Run:  .venv/bin/python benchmarks/bench_accuracy.py [--start 2025-12-01] [--days 31]

For every slate, each model version (`helpers.model.versions.ESTIMATORS`) estimates mu from
the boxscores before the slate only, and its P(over) on every dressed skater's standard
lines is compared with the truth the game was drawn from (`helpers.harness.referee`, the
numbers of /_emulator/truth/probabilities). Prints, per market and version, the expected
log-loss gap (cross-entropy - entropy) / entropy over all lines and over the upper line alone,
next to a constant per-(market, line) baseline learnt from the same boxscores, and the time
taken. No outcome noise is involved: a gap is the model's alone.

Then the market on the same footing: the sportsbooks' consensus (`referee.consensus_p_over`:
the median of the sportsbooks' de-vigged pairs at the morning run, 10:00 ET, as the vendors
show them) scored beside the versions on the props it covers (a consensus needs a book
pricing both sides at that line: fewer props, GOALS mostly Pinnacle's).
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import pandas as pd
from result_line import emit, figure

from helpers.demo.league import build_league
from helpers.harness.referee import add_consensus, log_loss_gaps, score_slates
from helpers.model.versions import ESTIMATORS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--days", type=int, default=31)
    args = parser.parse_args()
    slates = [args.start + timedelta(days=i) for i in range(args.days)]
    league = build_league()
    t0 = time.perf_counter()
    scored = score_slates(league, slates, ESTIMATORS)
    elapsed = time.perf_counter() - t0
    table = log_loss_gaps(scored, [*ESTIMATORS, "baseline"])
    print(f"slates {slates[0]} .. {slates[-1]}: {scored['game_id'].nunique()} games, "
          f"{scored[['game_id', 'player_id']].drop_duplicates().shape[0]} skater-games, "
          f"{len(scored)} props; {elapsed:.1f} s")
    print_percent(table, [*ESTIMATORS, "baseline"])

    t1 = time.perf_counter()
    covered = add_consensus(league, scored).dropna(subset=["consensus"])
    consensus_seconds = time.perf_counter() - t1
    market = log_loss_gaps(covered, [*ESTIMATORS, "consensus"])
    print(f"\nthe props the morning consensus covers: {len(covered)} of {len(scored)}; "
          f"{consensus_seconds:.1f} s")
    print_percent(market, [*ESTIMATORS, "consensus"])
    # the goal: one version within 1.5 % in every market, over all standard lines
    worst = table[table["lines"] == "all"][[*ESTIMATORS, "baseline"]].max()
    best = min(ESTIMATORS, key=lambda version: worst[version])
    # the market's error, sized to be like the models' (helpers.demo.pricing): 0.5-2 %
    consensus_gaps = market.loc[market["lines"] == "all", "consensus"]
    emit([*(figure(f"{version}: worst market's log-loss gap", 100 * worst[version], "%")
            for version in ESTIMATORS),
          figure(f"best version ({best}): worst market's gap", 100 * worst[best], "%",
                 ("<=", 1.5)),
          figure("constant: worst market's gap", 100 * worst["baseline"], "%",
                 baseline=True),
          *(figure(f"consensus: {label} market's log-loss gap", 100 * value, "%")
            for label, value in (("best", consensus_gaps.min()),
                                 ("worst", consensus_gaps.max()))),
          figure("time to score the slates", elapsed, "s")])


def print_percent(table: pd.DataFrame, columns: list[str]) -> None:
    pct = table.copy()
    for col in columns:
        pct[col] = (100 * pct[col]).map(lambda v: f"{v:.2f} %")
    with pd.option_context("display.width", 200):
        print(pct.to_string(index=False))


if __name__ == "__main__":
    main()
