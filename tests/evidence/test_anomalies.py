"""helpers.evidence.anomalies on a hand-built history: a coverage drop, a vanished vendor
and book, a mapping-rate drop, a step failing two days running, a stale capture, a
configured vendor with no capture at all; a normal day that passes every check, and an off
day that is not checked against the days with games."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core import db
from helpers.evidence import daily
from helpers.evidence.anomalies import check_anomalies, freshness_checks, write_anomalies

TODAY = date(2025, 12, 15)
AS_OF = datetime(2025, 12, 15, 15, 0)
VENDORS = ("PLAYNOW", "UNABATED")  # the vendors the hand-built history has


def coverage_rows(day: date, run_id: str, rows: dict[tuple[str, str], int],
                  last_capture: datetime) -> pd.DataFrame:
    return pd.DataFrame([{"run_id": run_id, "slate_date": day, "source_vendor": v,
                          "book_name": b, "market_type": "SOG", "n_rows": n, "n_events": 5,
                          "n_players": 100, "n_captures": 1,
                          "first_capture_ts_utc": last_capture,
                          "last_capture_ts_utc": last_capture,
                          "computed_ts_utc": datetime.combine(day, datetime.min.time())}
                         for (v, b), n in rows.items()])


def mapping_rows(day: date, run_id: str, rate: float) -> pd.DataFrame:
    return pd.DataFrame([{"run_id": run_id, "slate_date": day, "source_vendor": "UNABATED",
                          "entity": "player", "n_total": 1000, "n_mapped": int(rate * 1000),
                          "mapped_rate": rate, "top_unmapped": None,
                          "computed_ts_utc": datetime.combine(day, datetime.min.time())}])


def registry_row(day: date, run_id: str, step: str, status: str) -> pd.DataFrame:
    start = datetime.combine(day, datetime.min.time()) + timedelta(hours=15)
    return pd.DataFrame([{"run_id": run_id, "slate_date": day, "as_of_ts_utc": start,
                          "step": step, "step_order": 2, "status": status,
                          "started_ts_utc": start}])


def history(con, days: int = 10) -> None:
    for k in range(1, days + 1):
        day = TODAY - timedelta(days=k)
        capture = datetime.combine(day, datetime.min.time()) + timedelta(hours=15)
        db.insert_new_rows(con, "fact_odds_coverage_daily", coverage_rows(
            day, f"r{k}", {("UNABATED", "DraftKings"): 1000 + 10 * (k % 3),
                           ("UNABATED", "FanDuel"): 900 + 10 * (k % 2),
                           ("PLAYNOW", "PlayNow"): 300 + 5 * (k % 2)}, capture),
            ("run_id", "slate_date", "source_vendor", "book_name", "market_type"))
        db.insert_new_rows(con, "fact_mapping_quality_daily", mapping_rows(day, f"r{k}", 0.99),
                           ("run_id", "slate_date", "source_vendor", "entity"))


@pytest.fixture
def con(tmp_path: Path):
    connection = db.connect(tmp_path / "ops.duckdb")
    history(connection)
    yield connection
    connection.close()


def by_check(checks: pd.DataFrame) -> dict[tuple[str, str], bool]:
    return {(r.check_name, r.subject): r.passed for r in checks.itertuples()}


def test_a_normal_day_passes_every_check(con) -> None:
    db.insert_new_rows(con, "fact_odds_coverage_daily", coverage_rows(
        TODAY, "today", {("UNABATED", "DraftKings"): 1010, ("UNABATED", "FanDuel"): 905,
                         ("PLAYNOW", "PlayNow"): 302}, AS_OF),
        ("run_id", "slate_date", "source_vendor", "book_name", "market_type"))
    db.insert_new_rows(con, "fact_mapping_quality_daily", mapping_rows(TODAY, "today", 0.985),
                       ("run_id", "slate_date", "source_vendor", "entity"))
    checks = check_anomalies(con, TODAY, "today", AS_OF, VENDORS)
    assert checks["passed"].all(), checks[~checks["passed"]].to_string()
    assert {"row_count_z", "vanished", "mapping_rate_drop", "freshness"} <= set(
        checks["check_name"])


def test_a_failed_vendor_day_is_flagged(con) -> None:
    # PlayNow gone, FanDuel gone from Unabated, DraftKings down to a tenth, mapping down,
    # the capture stale, and production failing today and yesterday
    stale = AS_OF - timedelta(hours=6)
    db.insert_new_rows(con, "fact_odds_coverage_daily", coverage_rows(
        TODAY, "today", {("UNABATED", "DraftKings"): 100}, stale),
        ("run_id", "slate_date", "source_vendor", "book_name", "market_type"))
    db.insert_new_rows(con, "fact_mapping_quality_daily", mapping_rows(TODAY, "today", 0.90),
                       ("run_id", "slate_date", "source_vendor", "entity"))
    for day, run in ((TODAY - timedelta(days=1), "r1"), (TODAY, "today")):
        db.upsert_rows(con, "fact_run_registry", registry_row(day, run, "production", "failed"))
    db.upsert_rows(con, "fact_run_registry", registry_row(TODAY, "today", "ev", "success"))
    checks = check_anomalies(con, TODAY, "today", AS_OF, VENDORS)
    result = by_check(checks)
    assert result[("row_count_z", "UNABATED/SOG")] is False
    assert result[("row_count_z", "PLAYNOW/SOG")] is False
    assert result[("vanished", "PLAYNOW")] is False
    assert result[("vanished", "UNABATED/FanDuel")] is False
    assert result[("vanished", "UNABATED")] is True
    assert result[("mapping_rate_drop", "UNABATED/player")] is False
    assert result[("freshness", "UNABATED")] is False
    assert result[("freshness", "PLAYNOW")] is False  # no capture at all: the worst staleness
    assert result[("step_failing", "production")] is False
    assert result[("step_failing", "ev")] is True
    streak = checks.set_index(["check_name", "subject"]).loc[("step_failing", "production")]
    assert streak["value"] == 2

    now = datetime(2025, 12, 15, 16, 0)
    assert write_anomalies(con, checks, TODAY, "today", now) == len(checks)
    assert write_anomalies(con, checks, TODAY, "today", now) == 0


def test_too_little_history_is_said_not_hidden(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    history(con, days=3)
    db.insert_new_rows(con, "fact_odds_coverage_daily", coverage_rows(
        TODAY, "today", {("UNABATED", "DraftKings"): 10}, AS_OF),
        ("run_id", "slate_date", "source_vendor", "book_name", "market_type"))
    checks = check_anomalies(con, TODAY, "today", AS_OF, VENDORS)
    z = checks[checks["check_name"] == "row_count_z"]
    assert z["passed"].all() and z["detail"].str.startswith("not checked: 3 days").all()
    con.close()


def test_row_counts_are_compared_per_scheduled_game(tmp_path: Path) -> None:
    """Slates of 2 to 12 games: rows in proportion pass on a small slate, and a vendor at
    zero fails - raw counts that vary this much would keep zero inside 3 sigma."""
    con = db.connect(tmp_path / "ops.duckdb")
    sizes = [12, 3, 9, 2, 11, 4, 10, 6, 12, 5]
    games, game_id = [], 2025020001
    for k, n in enumerate(sizes, start=1):
        day = TODAY - timedelta(days=k)
        capture = datetime.combine(day, datetime.min.time()) + timedelta(hours=15)
        db.insert_new_rows(con, "fact_odds_coverage_daily", coverage_rows(
            day, f"r{k}", {("UNABATED", "DraftKings"): 100 * n + 3 * (k % 3),
                           ("PLAYNOW", "PlayNow"): 40 * n + (k % 2)}, capture),
            ("run_id", "slate_date", "source_vendor", "book_name", "market_type"))
    for k, n in enumerate(sizes, start=1):
        for _ in range(n):
            games.append({"game_id": game_id, "season": 20252026, "game_type": 2,
                          "slate_date": TODAY - timedelta(days=k),
                          "start_ts_utc": datetime.combine(TODAY - timedelta(days=k),
                                                           datetime.min.time()),
                          "home_team": "TOR",
                          "away_team": "MTL", "state": "FUT", "schedule_state": "OK",
                          "updated_ts_utc": AS_OF})
            game_id += 1
    db.upsert_rows(con, "dim_games", pd.DataFrame(games))
    # today's games are not final: the warehouse lacks them, today's snapshot priced two
    snapshot = pd.DataFrame({"snapshot_id": "s", "snapshot_ts_utc": AS_OF, "slate_date": TODAY,
                             "game_id": [1, 2], "player_id": 7, "market_type": "SOG",
                             "line": 2.5, "p_over": 0.5, "p_under": 0.5, "p_push": 0.0,
                             "mu": 2.0, "distribution": "poisson", "games_used": 10,
                             "model_version": "p10-nhlapi", "run_id": "today"})
    db.insert_new_rows(con, "fact_prob_snapshot", snapshot, ["snapshot_id", "game_id"])
    db.insert_new_rows(con, "fact_odds_coverage_daily", coverage_rows(
        TODAY, "today", {("UNABATED", "DraftKings"): 201}, AS_OF),
        ("run_id", "slate_date", "source_vendor", "book_name", "market_type"))
    checks = check_anomalies(con, TODAY, "today", AS_OF, VENDORS).set_index(["check_name", "subject"])
    assert checks.loc[("row_count_z", "UNABATED/SOG"), "passed"]  # 2 games, ~100 rows each
    assert not checks.loc[("row_count_z", "PLAYNOW/SOG"), "passed"]
    assert "rows per game" in checks.loc[("row_count_z", "PLAYNOW/SOG"), "detail"]
    # on raw counts the same zero would have passed: 0 against ~296 +- ~150
    raw = [40 * n + (k % 2) for k, n in enumerate(sizes, start=1)]
    assert abs((0 - np.mean(raw)) / np.std(raw, ddof=1)) < 3
    # the daily report's coverage compares the same way: per game, against the trailing median
    table = daily.coverage_table(con, TODAY).set_index("source_vendor")
    per_game = [(100 * n + 3 * (k % 3)) / n for k, n in enumerate(sizes, start=1)]
    assert table.loc["UNABATED", "games"] == 2
    assert table.loc["UNABATED", "rows_per_game"] == pytest.approx(100.5)
    assert table.loc["UNABATED", "trailing_median_per_game"] == pytest.approx(np.median(per_game))
    assert table.loc["UNABATED", "change"] == pytest.approx(100.5 / np.median(per_game) - 1)
    assert abs(table.loc["UNABATED", "change"]) < 0.01  # raw rows would read -73 %: 201 against ~750
    con.close()


def test_a_configured_vendor_with_no_capture_of_the_slate_fails_freshness() -> None:
    """The vendor that failed has no coverage row, so a check over the captures alone would
    have no row for it: an outage day read "0 failed"."""
    today = coverage_rows(TODAY, "today", {("UNABATED", "DraftKings"): 1000},
                          AS_OF - timedelta(minutes=30))
    # a vendor VENDORS no longer lists but captured earlier in the day keeps its row
    today = pd.concat([today, coverage_rows(TODAY, "today", {("OLDVENDOR", "Book"): 10},
                                            AS_OF - timedelta(minutes=40))])
    rows = {r["subject"]: r for r in freshness_checks(today, AS_OF,
                                                       ("PLAYNOW", "UNABATED", "ODDSSHARK"))}
    assert sorted(rows) == ["ODDSSHARK", "OLDVENDOR", "PLAYNOW", "UNABATED"]
    assert rows["UNABATED"]["passed"] and rows["UNABATED"]["value"] == 30
    assert rows["OLDVENDOR"]["passed"]
    for vendor in ("PLAYNOW", "ODDSSHARK"):
        assert rows[vendor]["passed"] is False
        assert rows[vendor]["detail"] == "no capture of the slate by 2025-12-15 15:00 UTC"
    # nothing captured at all (every vendor down): a failed row each
    empty = today.iloc[:0]
    assert [r["passed"] for r in freshness_checks(empty, AS_OF, VENDORS)] == [False, False]


def test_an_off_day_is_not_checked_against_the_days_with_games(con) -> None:
    """No games on the slate (production found none on the schedule): no odds, no mapping and
    no capture of it are expected, so the odds checks say they were not checked; a step
    failing is still a finding."""
    db.upsert_rows(con, "dim_slates", pd.DataFrame([{
        "slate_date": TODAY, "games": 0, "run_id": "today", "updated_ts_utc": AS_OF}]))
    for day, run in ((TODAY - timedelta(days=1), "r1"), (TODAY, "today")):
        db.upsert_rows(con, "fact_run_registry", registry_row(day, run, "outcomes", "failed"))
    checks = check_anomalies(con, TODAY, "today", AS_OF, VENDORS)
    odds = checks[checks["check_name"] != "step_failing"]
    assert {"row_count_z", "vanished", "freshness"} <= set(odds["check_name"])
    assert odds["passed"].all(), odds.to_string()
    assert (odds["detail"] == f"not checked: no games on {TODAY}").all()
    assert odds["value"].isna().all()
    assert not by_check(checks)[("step_failing", "outcomes")]
    # the same day with games on the schedule: the missing odds are an outage
    db.upsert_rows(con, "dim_slates", pd.DataFrame([{
        "slate_date": TODAY, "games": 9, "run_id": "today", "updated_ts_utc": AS_OF}]))
    checks = check_anomalies(con, TODAY, "today", AS_OF, VENDORS)
    assert not by_check(checks)[("freshness", "PLAYNOW")]
    assert not by_check(checks)[("vanished", "UNABATED")]
