"""EV claims against the demo world's truth: the shipped pricing beside the model-only one.

Run:  .venv/bin/python benchmarks/bench_ev_truth.py [--start 2025-12-01] [--days 7]
          [--warmup-days 14] [--env EV_CONSENSUS_LEAVE_BOOK_OUT=on ...]

Each day, as the daily run does it at 15:00 UTC against the loopback emulator: odds capture,
production snapshot (p10-nhlapi), EV, then the grading of the days before (so the pricing
blend has graded slates to learn from, walk-forward). The first `--warmup-days` days only
build that history; the `--days` after them are measured.

Two policies over the same days and the same candidates:
- shipped: the eligible bets of the EV step (EV on p_price, the fitted blend; one per bet);
- model-only: what the step did before the blend: EV on the model's p alone, the same
  gates at their defaults (EV >= 2 %, the price at least even with the consensus), one row
  per bet.
For each bet, the EV it claimed is set beside the EV it really had (`helpers.harness.referee.
true_ev`: the probability the game was drawn from x decimal - 1). Prints, per policy:
distinct bets, mean claimed and true EV, true / claimed, and true profit (units, one unit a
bet) overall and per market; then the shipped bets by claimed-EV bucket and the blend's
weights per market on the last day. The referee is used here only: the pricing never sees it.
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
from helpers.core.slate import Slate
from helpers.core.steps import run_step
from helpers.demo.league import build_league
from helpers.demo.server import Emulator
from helpers.ev.candidates import BET_KEY
from helpers.harness.referee import true_ev

# Rows the model-only policy could bet: those that passed every gate before the EV gates.
_PAST_THE_EARLY_GATES = {"below_min_edge", "market_disagrees", "duplicate_bet"}
MODEL_ONLY_MIN_EDGE, MODEL_ONLY_MIN_MARKET_EDGE = 0.02, 0.0  # its EV_MIN_*EDGE defaults


def model_only_bets(candidates: pd.DataFrame, min_edge: float,
                    min_market_edge: float) -> pd.DataFrame:
    """The bets of the step before the blend: EV on the model's p, the market gate, and
    one row per bet (the freshest capture, then the best price), EV restated as ev_model."""
    past = candidates[candidates["is_eligible"]
                      | candidates["exclusion_reason"].isin(_PAST_THE_EARLY_GATES)]
    bets = past[(past["ev_model"] >= min_edge) & (past["ev_market"] >= min_market_edge)]
    bets = bets.assign(_book=bets["book_name"].str.lower()).sort_values(
        ["capture_ts_utc", "odds_decimal", "source_vendor"], ascending=[False, False, True],
        kind="mergesort")
    bets = bets.drop_duplicates(BET_KEY, keep="first").drop(columns="_book")
    return bets.assign(claimed=bets["ev_model"])


def run_days(start: date, days: int, warmup: int, env: dict[str, str]
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[float]]:
    """(shipped bets, model-only bets, blend fits, EV seconds) of the measured days."""
    league = build_league()
    shipped, model_only, fits, seconds = [], [], [], []
    first = start - timedelta(days=warmup)
    with tempfile.TemporaryDirectory(prefix="bench-ev-truth-") as home, Emulator() as emu:
        settings = emu.settings(home, **env)
        con = db.connect(settings.paths.db_path)
        for day in (first + timedelta(days=i) for i in range(warmup + days)):
            morning = datetime(day.year, day.month, day.day, 15, 0)
            emu.set_clock(morning)
            run_id = f"bench-{day}"
            run_step("odds_ingestion", con, settings, Slate(day, morning), run_id)
            run_step("production", con, settings, Slate(day, morning), run_id)
            t0 = time.perf_counter()
            result = run_step("ev", con, settings, Slate(day, morning), run_id)
            elapsed = time.perf_counter() - t0
            run_step("outcomes", con, settings, Slate(day, morning), run_id)
            measured = day >= start
            tag = "" if measured else " (warm-up)"
            print(f"{day}{tag}: {len(result.candidates)} priced rows, {len(result.eligible)} "
                  f"eligible bets, EV step {elapsed:.2f} s", flush=True)
            if not measured:
                continue
            seconds.append(elapsed)
            bets = result.eligible.assign(claimed=result.eligible["ev"])
            shipped.append(bets.assign(true_ev=true_ev(league, bets)))
            # the step before the blend, at its defaults, whatever --env changes
            old = model_only_bets(result.candidates, MODEL_ONLY_MIN_EDGE,
                                  MODEL_ONLY_MIN_MARKET_EDGE)
            model_only.append(old.assign(true_ev=true_ev(league, old)))
            fits.append(result.fits().assign(slate_date=day))
        con.close()
    return (pd.concat(shipped, ignore_index=True), pd.concat(model_only, ignore_index=True),
            pd.concat(fits, ignore_index=True), seconds)


def summary(bets: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    settled = bets[bets["true_ev"].notna()]
    groups = settled.groupby(by, observed=True) if by else [("all", settled)]
    rows = []
    for key, part in groups:
        rows.append({"group": key, "bets": len(part), "claimed_ev": part["claimed"].mean(),
                     "market_ev": part["ev_market"].mean(), "true_ev": part["true_ev"].mean(),
                     "true_over_claimed": part["true_ev"].mean() / part["claimed"].mean(),
                     "true_profit": part["true_ev"].sum()})
    return pd.DataFrame(rows).round(4)


BUCKETS = [0.0, 0.05, 0.10, 0.25, 0.50, 100.0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--warmup-days", type=int, default=14,
                        help="days run before --start so the blend has graded history")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the run, e.g. EV_CONSENSUS_LEAVE_BOOK_OUT=on")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    shipped, model_only, fits, seconds = run_days(args.start, args.days, args.warmup_days, env)
    print(f"\n{args.days} measured days after {args.warmup_days} warm-up days; EV step "
          f"median {statistics.median(seconds):.2f} s a day")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for name, bets in (("model-only (EV on the model's p)", model_only),
                           ("shipped (EV on p_price, the fitted blend)", shipped)):
            print(f"\n== {name}")
            print(summary(bets).to_string(index=False))
            print(summary(bets, "market_type").to_string(index=False))
        shipped["claimed_bucket"] = pd.cut(shipped["claimed"], BUCKETS, right=False)
        print("\n== shipped, by claimed-EV bucket")
        print(summary(shipped, "claimed_bucket").to_string(index=False))
        last = fits[fits["slate_date"] == fits["slate_date"].max()]
        print(f"\n== the blends of {last['slate_date'].iloc[0]}")
        print(last[["market_type", "method", "intercept", "coef_model", "coef_consensus",
                    "n_props", "log_loss_in_sample", "log_loss_model_in_sample",
                    "log_loss_consensus_in_sample"]].round(4).to_string(index=False))
    new, old = summary(shipped).iloc[0], summary(model_only).iloc[0]
    per_market = summary(shipped, "market_type")
    emit([figure("shipped: true EV / claimed EV", new["true_over_claimed"], "x", (">=", 0.7)),
          figure("shipped: mean true EV", 100 * new["true_ev"], "%", (">", 0)),
          figure("shipped: lowest market's mean true EV", 100 * per_market["true_ev"].min(),
                 "%", (">", 0)),
          figure("shipped: true profit", new["true_profit"], "units",
                 (">=", round(float(old["true_profit"]), 1))),
          figure("shipped: distinct bets", new["bets"], "bets"),
          figure("model-only: true EV / claimed EV", old["true_over_claimed"], "x",
                 baseline=True),
          figure("model-only: true profit", old["true_profit"], "units", baseline=True),
          figure("EV step, median a day", statistics.median(seconds), "s")])


if __name__ == "__main__":
    main()
