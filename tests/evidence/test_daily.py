"""helpers.evidence.daily on hand-built rows: which failures need attention (and which a later
run repaired), the coverage change against the trailing median, the accuracy pooled over
lines with ECE from the bins, the EV funnel's arithmetic; and md_table."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core import db
from helpers.evidence import daily
from helpers.evidence.markdown import md_table

DAY = date(2025, 12, 10)


@pytest.fixture
def con(tmp_path: Path):
    connection = db.connect(tmp_path / "ops.duckdb")
    yield connection
    connection.close()


def registry(con, run_id: str, hour: int, steps: dict[str, str], day: date = DAY,
             rerun_of: str | None = None) -> None:
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)
    overall = "failed" if {"failed", "timeout"} & set(steps.values()) else "success"
    rows = [{"run_id": run_id, "slate_date": day, "as_of_ts_utc": start, "step": "run",
             "step_order": 0, "status": overall, "started_ts_utc": start,
             "code_version": "0.1.0+abc", "rerun_of": rerun_of,
             "parameters_json": json.dumps({"enabled": {s: True for s in steps}})}]
    for order, (step, status) in enumerate(steps.items(), start=1):
        failed = status in ("failed", "timeout")
        rows.append({"run_id": run_id, "slate_date": day, "as_of_ts_utc": start, "step": step,
                     "step_order": order, "status": status,
                     "started_ts_utc": start + timedelta(minutes=order), "duration_s": 2.0,
                     "error_type": "VendorError" if failed else None,
                     "error_summary": "boom" if failed else "ok",
                     "notebook_path": f"outputs/runs/{day}/{run_id}/0{order}_{step}.ipynb",
                     "rerun_of": rerun_of})
    db.upsert_rows(con, "fact_run_registry", pd.DataFrame(rows))


def test_a_failed_step_needs_attention_until_a_rerun_of_its_run_repairs_it(con) -> None:
    registry(con, "morning", 15, {"odds_ingestion": "failed", "production": "success"})
    steps = daily.day_steps(con, DAY)
    runs = daily.day_runs(con, DAY)
    empty = pd.DataFrame(columns=["check_name", "subject", "detail", "passed"])
    health = daily.vendor_health(con, DAY)
    text = daily.attention_markdown(steps, empty, health, daily.stats_lag(con, DAY), runs)
    assert "**odds_ingestion failed** in run `morning`: VendorError: boom" in text
    assert "outputs/runs/2025-12-10/morning/01_odds_ingestion.ipynb" in text
    assert "Repaired" not in text

    # a later scheduled run of the slate redid none of the morning's work: not a repair
    registry(con, "pregame", 16, {"odds_ingestion": "success"})
    assert daily.failed_steps(daily.day_steps(con, DAY))["repaired_by"].isna().all()

    registry(con, "rerun", 17, {"odds_ingestion": "success"}, rerun_of="morning")
    steps = daily.day_steps(con, DAY)
    failed = daily.failed_steps(steps)
    assert list(failed["repaired_by"]) == ["rerun"]
    text = daily.attention_markdown(steps, empty, health, daily.stats_lag(con, DAY),
                                    daily.day_runs(con, DAY))
    assert "Repaired by run `rerun`" in text
    assert daily.runs_table(steps)["status"].tolist()[0] == "✗ failed"


def test_nothing_needs_attention_is_one_line_and_no_run_is_said(con) -> None:
    registry(con, "morning", 15, {"odds_ingestion": "success"})
    empty = pd.DataFrame(columns=["check_name", "subject", "detail", "passed"])
    args = (daily.vendor_health(con, DAY), daily.stats_lag(con, DAY))
    assert daily.attention_markdown(daily.day_steps(con, DAY), empty, *args,
                                    daily.day_runs(con, DAY)) == "Nothing needs attention."
    other = DAY + timedelta(days=1)
    text = daily.attention_markdown(daily.day_steps(con, other), empty, *args,
                                    daily.day_runs(con, other))
    assert "No run is registered" in text
    assert "No run is registered" in daily.title_markdown(other, daily.day_runs(con, other))


def test_a_vendor_whose_every_request_failed_is_named(con) -> None:
    registry(con, "morning", 15, {"odds_ingestion": "partial"})
    at = datetime(2025, 12, 10, 15, 0)
    log = pd.DataFrame([
        {"run_id": "morning", "vendor": "PLAYNOW", "endpoint": "event_list", "url_redacted": "u",
         "request_ts_utc": at, "attempt": k, "status_code": 503, "elapsed_ms": 10.0}
        for k in (1, 2, 3)] + [
        {"run_id": "morning", "vendor": "UNABATED", "endpoint": "propodds", "url_redacted": "u",
         "request_ts_utc": at, "attempt": 1, "status_code": 200, "elapsed_ms": 30.0}])
    db.insert_new_rows(con, "fact_vendor_fetch_log", log, list(log.columns))
    health = daily.vendor_health(con, DAY).set_index("vendor")
    assert health.loc["PLAYNOW", "all_failed"] and health.loc["PLAYNOW", "retries"] == 2
    assert not health.loc["UNABATED", "all_failed"]
    assert health.loc["PLAYNOW", "error_rate"] == 1.0
    empty = pd.DataFrame(columns=["check_name", "subject", "detail", "passed"])
    text = daily.attention_markdown(daily.day_steps(con, DAY), empty, health.reset_index(),
                                    daily.stats_lag(con, DAY), daily.day_runs(con, DAY))
    assert "**Vendor PLAYNOW failed**: all 3 requests failed." in text
    assert "UNABATED" not in text


def coverage(con, day: date, run_id: str, rows: dict[tuple[str, str], int], hour: int) -> None:
    stamp = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)
    frame = pd.DataFrame([{"run_id": run_id, "slate_date": day, "source_vendor": v,
                           "book_name": b, "market_type": "SOG", "n_rows": n, "n_events": 5,
                           "n_players": 90 + n % 7, "n_captures": 1,
                           "first_capture_ts_utc": stamp, "last_capture_ts_utc": stamp,
                           "computed_ts_utc": stamp} for (v, b), n in rows.items()])
    db.insert_new_rows(con, "fact_odds_coverage_daily", frame,
                       ["run_id", "slate_date", "source_vendor", "book_name", "market_type"])


def test_coverage_change_is_against_the_trailing_median_of_newest_runs(con) -> None:
    for k, total in enumerate([100, 120, 80, 110], start=1):  # median 105
        day = DAY - timedelta(days=k)
        coverage(con, day, f"d{k}", {("UNABATED", "A"): total // 2,
                                     ("UNABATED", "B"): total - total // 2}, 15)
    # an older run of a trailing day is superseded by its newer run, not added to it
    coverage(con, DAY - timedelta(days=1), "d1-old", {("UNABATED", "A"): 999}, 10)
    # PLAYNOW appears on one trailing day only: the other days count as 0
    coverage(con, DAY - timedelta(days=2), "d2", {("PLAYNOW", "P"): 40}, 15)
    coverage(con, DAY, "today", {("UNABATED", "A"): 40, ("UNABATED", "B"): 30,
                                 ("PLAYNOW", "P"): 50}, 15)
    table = daily.coverage_table(con, DAY).set_index("source_vendor")
    assert table.loc["UNABATED", "rows"] == 70 and table.loc["UNABATED", "books"] == 2
    assert table.loc["UNABATED", "trailing_median_rows"] == 105
    assert table.loc["UNABATED", "change"] == pytest.approx(70 / 105 - 1)
    assert table.loc["PLAYNOW", "trailing_median_rows"] == 0  # median of 40, 0, 0, 0
    assert np.isnan(table.loc["PLAYNOW", "change"])  # no change against nothing


def test_graded_accuracy_pools_lines_exactly_and_takes_ece_from_the_bins(con) -> None:
    graded = DAY - timedelta(days=1)
    stamp = datetime(2025, 12, 10, 15)
    rows = []
    for source, ll in (("p10-nhlapi", (0.5, 0.7)), ("market", (0.4, 0.6))):
        for (line, n), value in zip(((0.5, 100), (1.5, 300)), ll, strict=True):
            rows.append({"run_id": "r", "slate_date": graded, "source": source,
                         "scope": "shared", "market_type": "SOG", "line": line, "n": n,
                         "log_loss": value, "log_loss_baseline": 0.69, "brier": value / 3,
                         "auc": 0.6, "top10_hit_rate": 0.5, "computed_ts_utc": stamp})
    # an 'own' row must not leak into the model-vs-market table
    rows.append({**rows[0], "scope": "own", "log_loss": 9.9})
    db.insert_new_rows(con, "fact_forecast_accuracy_daily", pd.DataFrame(rows),
                       ["run_id", "slate_date", "source", "scope", "market_type", "line"])
    bins = pd.DataFrame([
        {"run_id": "r", "slate_date": graded, "source": "p10-nhlapi", "scope": "shared",
         "market_type": "SOG", "bin": b, "n": n, "sum_p": sp, "sum_y": sy,
         "computed_ts_utc": stamp}
        for b, n, sp, sy in ((1, 100, 15.0, 10.0), (6, 300, 195.0, 210.0))])
    db.insert_new_rows(con, "fact_calibration_daily", bins,
                       ["run_id", "slate_date", "source", "scope", "market_type", "bin"])
    assert daily.last_graded_slate(con, DAY) == graded
    table = daily.graded_accuracy(con, graded).set_index("source")
    assert list(table.index) == ["p10-nhlapi", "market"]  # production first
    assert table.loc["p10-nhlapi", "n"] == 400
    assert table.loc["p10-nhlapi", "log_loss"] == pytest.approx((0.5 * 100 + 0.7 * 300) / 400)
    assert table.loc["market", "log_loss_improvement"] == pytest.approx(
        0.69 - (0.4 * 100 + 0.6 * 300) / 400)
    # ECE = 100/400 * |0.10 - 0.15| + 300/400 * |0.70 - 0.65|
    assert table.loc["p10-nhlapi", "ece"] == pytest.approx(0.25 * 0.05 + 0.75 * 0.05)
    assert np.isnan(table.loc["market", "ece"])  # no bins for it: unknown, not zero


def store_candidates(con, reasons: list[str | None], market: str, line: float) -> None:  # type: ignore[no-untyped-def]
    """One EV run's candidates, one per reason (None: eligible), on one market and line."""
    frame = pd.DataFrame({
        "run_id": "ev1", "snapshot_id": "s", "slate_date": DAY,
        "as_of_ts_utc": datetime(2025, 12, 10, 15), "source_vendor": "UNABATED",
        "player_key_vendor": [f"p{i}" for i in range(len(reasons))], "market_type": market,
        "line": line, "side": "OVER", "capture_ts_utc": datetime(2025, 12, 10, 14),
        "odds_decimal": 2.0, "is_eligible": [r is None for r in reasons],
        "exclusion_reason": reasons, "is_suspicious": False})
    db.insert_new_rows(con, "fact_ev_candidates", frame, ["run_id", "player_key_vendor"])


def test_ev_funnel_subtracts_each_gate_in_order_down_to_the_eligible(con) -> None:
    reasons = [None] * 3 + ["unmapped_player"] * 4 + ["below_min_edge"] * 10 + ["stale_odds"] * 2
    store_candidates(con, reasons, "SOG", 2.5)
    funnel = daily.ev_funnel(con, DAY).set_index("stage")["left"]
    assert funnel.iloc[0] == 19 and funnel.iloc[-1] == 3
    stages = list(funnel.index)
    assert stages.index(next(s for s in stages if s.startswith("unmapped_player"))) < \
        stages.index(next(s for s in stages if s.startswith("stale_odds"))) < \
        stages.index(next(s for s in stages if s.startswith("below_min_edge")))


def test_md_table_escapes_bounds_and_blanks() -> None:
    frame = pd.DataFrame({"name": ["a|b", "c\nd", None], "x": [1.5, np.nan, 2.0]})
    text = md_table(frame)
    lines = text.splitlines()
    assert lines[0] == "| name | x |" and lines[1] == "|---|---:|"
    assert lines[2] == "| a\\|b | 1.5 |" and lines[3] == "| c d |  |" and lines[4] == "|  | 2 |"
    many = md_table(pd.DataFrame({"k": range(60)}), max_rows=50)
    assert many.count("\n| ") == 50 and "_10 more rows not shown._" in many
    assert md_table(pd.DataFrame()) == "_(none)_"
    assert md_table(frame, {"x": lambda v: f"{v:.0%}"}).splitlines()[2].endswith("| 150% |")


def test_an_off_day_is_said_and_other_days_say_nothing() -> None:
    assert daily.off_day_markdown(DAY, 0).startswith(f"**An off day**: no games on {DAY}")
    for games in (None, 7):  # never looked (production did not run), or a slate with games
        assert daily.off_day_markdown(DAY, games) == ""


def test_ev_funnel_counts_a_price_gate_by_its_code_whatever_its_numbers(con) -> None:
    # the price gates write their numbers after the code: one stage per gate all the same
    reasons = [None, "absurd_price: price +100000 is longer than any book offers on a "
               "player prop (cap +5000)", "absurd_price: price +25000 is longer than any "
               "book offers on a player prop (cap +5000)",
               "price_outlier: price +900 pays 4.1x the median of the other 3 books (+220; "
               "limit 3x)"]
    store_candidates(con, reasons, "GOALS", 0.5)
    funnel = daily.ev_funnel(con, DAY)
    removed = {stage.split(" ")[0]: int(n) for stage, n in
               zip(funnel["stage"], funnel["removed"], strict=True) if pd.notna(n) and n > 0}
    assert removed == {"absurd_price": 2, "price_outlier": 1}
    assert list(funnel["left"])[-1] == 1 and len(funnel) == 2 + len(daily.GATES)


def test_graded_bets_show_roi_without_the_best_bet_beside_the_roi(con) -> None:
    # 99 SOG bets at evens, 49 won; one legit +5000 GOALS long shot won 50 units. The mean
    # is the truth (kept), and the figure beside it says how much of it is that one bet.
    results = ["WIN"] * 49 + ["LOSS"] * 50 + ["WIN", "VOID"]
    decimals = [2.0] * 99 + [51.0, 2.0]
    profits = [1.0] * 49 + [-1.0] * 50 + [50.0, 0.0]
    frame = pd.DataFrame({
        "slate_date": DAY, "candidate_run_id": "ev1", "game_id": 1,
        "player_id": range(len(results)), "source_vendor": "UNABATED",
        "player_key_vendor": [f"p{i}" for i in range(len(results))],
        "market_type": ["SOG"] * 99 + ["GOALS", "SOG"], "line": 0.5, "side": "OVER",
        "capture_ts_utc": datetime(2025, 12, 10, 14), "odds_decimal": decimals,
        "is_eligible": True, "result": results, "profit_units": profits,
        "graded_ts_utc": datetime(2025, 12, 11, 15), "run_id": "g1"})
    db.insert_new_rows(con, "fact_bet_results", frame, ["player_id"])
    table = daily.graded_bets(con, DAY).set_index("market")
    assert table.at["all", "roi"] == pytest.approx((49 - 50 + 50) / 100)          # +49 %
    assert table.at["all", "roi_without_best_bet"] == pytest.approx((49 - 50) / 99)
    assert table.at["SOG", "roi_without_best_bet"] == pytest.approx((48 - 50) / 98)
    assert np.isnan(table.at["GOALS", "roi_without_best_bet"])  # one bet: nothing left


def test_a_blank_or_zero_clv_is_explained_from_the_bets(con) -> None:
    # GOALS bets close one-sided (a price CLV, no no-vig one); BetRivers never moved on its
    # 20 SOG bets; DraftKings moved on one of its 20: only the first two are explained.
    rows = []
    for i in range(20):
        rows.append({"market_type": "GOALS", "book_name": "DraftKings", "odds_decimal": 3.0,
                     "closing_odds_decimal": 2.8, "clv": 3.0 / 2.8 - 1, "clv_prob": None})
        rows.append({"market_type": "SOG", "book_name": "BetRivers", "odds_decimal": 1.9,
                     "closing_odds_decimal": 1.9, "clv": 0.0, "clv_prob": 0.0})
        moved = 1.8 if i == 0 else 1.9
        rows.append({"market_type": "SOG", "book_name": "DraftKings", "odds_decimal": 1.9,
                     "closing_odds_decimal": moved, "clv": 1.9 / moved - 1, "clv_prob": 0.01})
    frame = pd.DataFrame(rows).assign(
        slate_date=DAY, candidate_run_id="ev1", game_id=1, player_id=range(len(rows)),
        source_vendor="UNABATED", player_key_vendor="p", line=0.5, side="OVER",
        capture_ts_utc=datetime(2025, 12, 10, 14), is_eligible=True, result="LOSS",
        profit_units=-1.0, graded_ts_utc=datetime(2025, 12, 11, 15), run_id="g1")
    db.insert_new_rows(con, "fact_bet_results", frame, ["player_id"])
    notes = daily.clv_notes_markdown(con, DAY).splitlines()
    assert len(notes) == 2
    assert notes[0].startswith("- **GOALS**: none of its 20 bets has a no-vig closing")
    assert notes[1].startswith("- **BetRivers**: its price did not move from any of its 20")
    table = daily.graded_bets(con, DAY).set_index("market")
    assert table.at["GOALS", "clv_mean"] == pytest.approx(3.0 / 2.8 - 1)  # a CLV all the same
    assert np.isnan(table.at["GOALS", "clv_prob_mean"])
    # a slate with nothing to explain says nothing
    assert daily.clv_notes_markdown(con, DAY - timedelta(days=1)) == ""
