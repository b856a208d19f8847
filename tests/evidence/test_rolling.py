"""helpers.evidence.rolling on a small hand-built history: every windows_table figure equals a
hand or independent SQL computation (a superseded run of the same slate is ignored, deltas are
last - prev, ECE comes from the pooled bins), worst_days picks and orders the right slates, and
every chart renders to a PNG on that history and on an empty database (read-only both)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core import db
from helpers.core.models import PRODUCTION_MODEL
from helpers.evidence import rolling
from helpers.evidence.markdown import figure_png
from helpers.evidence.tables import KEYS

D = date(2025, 12, 31)  # last_7 = 12-25..12-31, prev_7 = 12-18..12-24, last_30 from 12-02
P10, MKT = PRODUCTION_MODEL, "market"
STEPS = ("odds_ingestion", "production", "ev", "outcomes", "diagnostics")


def at(day: date, hour: float) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)


def run_id(day: date, tag: str) -> str:
    return f"{day:%Y%m%d}-{tag}"


# --------------------------------------------------------------------------- builders


def registry(day: date, tag: str, run_status: str, steps: dict[str, str] | None = None,
             durations: dict[str, float] | None = None) -> list[dict]:
    """A run with its 'run' row and the five steps (success unless given)."""
    steps, durations = steps or {}, durations or {}
    rid = run_id(day, tag)
    rows = [{"run_id": rid, "slate_date": day, "as_of_ts_utc": at(day, 15), "step": "run",
             "step_order": 0, "status": run_status, "started_ts_utc": at(day, 15),
             "duration_s": 300.0}]
    for order, step in enumerate(STEPS, start=1):
        status = steps.get(step, "success")
        rows.append({"run_id": rid, "slate_date": day, "as_of_ts_utc": at(day, 15),
                     "step": step, "step_order": order, "status": status,
                     "started_ts_utc": at(day, 15),
                     "duration_s": None if status == "skipped" else durations.get(step, 10.0)})
    return rows


def coverage(day: date, tag: str, computed: datetime, rows: dict[str, int]) -> list[dict]:
    return [{"run_id": run_id(day, tag), "slate_date": day, "source_vendor": vendor,
             "book_name": book, "market_type": "SOG", "n_rows": n // 2 + (n % 2 if i else 0),
             "computed_ts_utc": computed}
            for vendor, n in rows.items() for i, book in enumerate(("BookA", "BookB"))]


def mapping(day: date, tag: str, computed: datetime, vendor: str, entity: str, total: int,
            mapped: int) -> dict:
    return {"run_id": run_id(day, tag), "slate_date": day, "source_vendor": vendor,
            "entity": entity, "n_total": total, "n_mapped": mapped,
            "mapped_rate": mapped / total, "computed_ts_utc": computed}


def ev(day: date, tag: str, computed: datetime, vendor: str, market: str, candidates: int,
       eligible: int, ev_mean: float) -> dict:
    return {"run_id": run_id(day, tag), "slate_date": day, "source_vendor": vendor,
            "book_name": "BookA", "market_type": market, "n_candidates": candidates,
            "n_eligible": eligible, "n_positive_ev": eligible, "ev_mean": ev_mean,
            "computed_ts_utc": computed}


def accuracy(graded: date, grader: str, computed: datetime, source: str, scope: str,
             market: str, line: float, n: int, log_loss: float, brier: float) -> dict:
    return {"run_id": grader, "slate_date": graded, "source": source, "scope": scope,
            "market_type": market, "line": line, "n": n, "log_loss": log_loss,
            "brier": brier, "computed_ts_utc": computed}


def calibration(graded: date, grader: str, computed: datetime, source: str, scope: str,
                market: str, bin_: int, n: int, sum_p: float, sum_y: float) -> dict:
    return {"run_id": grader, "slate_date": graded, "source": source, "scope": scope,
            "market_type": market, "bin": bin_, "n": n, "sum_p": sum_p, "sum_y": sum_y,
            "computed_ts_utc": computed}


def bet(slate: date, number: int, eligible: bool, result: str,
        clv_prob: float | None) -> dict:
    return {"slate_date": slate, "candidate_run_id": run_id(slate, "am"), "game_id": 1,
            "player_id": number, "source_vendor": "UNABATED", "player_key_vendor": str(number),
            "market_type": "SOG", "line": 2.5, "side": "OVER",
            "capture_ts_utc": at(slate, 14), "odds_decimal": 2.0, "is_eligible": eligible,
            "result": result, "profit_units": 1.0 if result == "WIN" else 0.0,
            "clv_prob": clv_prob, "graded_ts_utc": at(slate + timedelta(days=1), 15),
            "run_id": run_id(slate + timedelta(days=1), "am")}


def check(day: date, tag: str, computed: datetime, name: str, subject: str,
          passed: bool) -> dict:
    return {"run_id": run_id(day, tag), "slate_date": day, "check_name": name,
            "subject": subject, "passed": passed, "computed_ts_utc": computed}


def fetch(rid: str, vendor: str, when: datetime, status: int | None, elapsed: float,
          error: str | None = None) -> dict:
    return {"run_id": rid, "vendor": vendor, "endpoint": "props", "url_redacted": "https://x",
            "request_ts_utc": when, "attempt": 1, "status_code": status, "elapsed_ms": elapsed,
            "error": error}


# --------------------------------------------------------------------------- the history

d31, d30, d29, d28 = D, D - timedelta(1), D - timedelta(2), D - timedelta(3)
d21, d20, d15, d10, d05 = (date(2025, 12, 21), date(2025, 12, 20), date(2025, 12, 15),
                           date(2025, 12, 10), date(2025, 12, 5))
n20 = date(2025, 11, 20)
EDGES = [date(2025, 12, 25), date(2025, 12, 24), date(2025, 12, 18), date(2025, 12, 17),
         date(2025, 12, 2), date(2025, 12, 1), date(2025, 11, 2), date(2025, 11, 1)]
NOV_CHECK_DAYS = [date(2025, 11, 3) + timedelta(k) for k in range(12)]
# The superseded run of 12-31 computed earlier; its id sorts AFTER the newest run's, so
# picking by run id instead of computed time would take it.
OLD = "zz-old"


def history() -> dict[str, list[dict]]:
    am31 = at(d31, 15.5)
    reg = (registry(d31, "am", "success", durations={"odds_ingestion": 40.0})
           + registry(d31, "pm", "partial", {"odds_ingestion": "partial", "production":
                                             "skipped", "ev": "skipped", "outcomes": "skipped",
                                             "diagnostics": "skipped"},
                      durations={"odds_ingestion": 55.0})
           + registry(d30, "am", "success")
           + registry(d28, "am", "failed", {"odds_ingestion": "failed"})
           + registry(d20, "am", "success")
           + registry(d20, "pm", "interrupted", {"odds_ingestion": "interrupted"})
           + registry(d10, "am", "failed", {"production": "timeout", "ev": "failed"})
           + registry(d05, "am", "interrupted")  # killed between steps: no failed step
           + registry(n20, "am", "success")
           # the first and last slate of each window, and the slate before the first
           + [row for day in EDGES for row in registry(day, "am", "success")])
    cov = (coverage(d31, OLD, at(d31, 10), {"PLAYNOW": 999_999})
           + coverage(d31, "am", am31, {"PLAYNOW": 1000, "UNABATED": 2000})
           + coverage(d30, "am", at(d30, 15.5), {"PLAYNOW": 3000, "UNABATED": 1000,
                                                 "ODDSSHARK": 500})
           + coverage(d20, "am", at(d20, 15.5), {"PLAYNOW": 800})
           + coverage(n20, "am", at(n20, 15.5), {"PLAYNOW": 100}))
    mapq = [mapping(d31, OLD, at(d31, 10), "UNABATED", "player", 100, 10),
            mapping(d31, "am", am31, "UNABATED", "player", 100, 90),
            mapping(d31, "am", am31, "UNABATED", "event", 5, 5),
            mapping(d30, "am", at(d30, 15.5), "UNABATED", "player", 50, 45),
            mapping(d20, "am", at(d20, 15.5), "UNABATED", "player", 100, 80)]
    evs = [ev(d31, OLD, at(d31, 10), "PLAYNOW", "SOG", 1000, 500, 0.3),
           ev(d31, "am", am31, "PLAYNOW", "SOG", 100, 7, -0.05),
           ev(d31, "am", am31, "UNABATED", "GOALS", 50, 3, -0.02),
           ev(d30, "am", at(d30, 15.5), "PLAYNOW", "SOG", 200, 10, -0.04)]
    # forecast accuracy: the run of D grades D-1
    g31, g30, g22 = run_id(d31, "am"), run_id(d30, "am"), run_id(d21 + timedelta(1), "am")
    acc = [accuracy(d30, OLD, at(d31, 10), P10, "shared", "SOG", 2.5, 1000, 9.0, 0.9),
           accuracy(d30, g31, am31, P10, "shared", "SOG", 2.5, 10, 0.5, 0.20),
           accuracy(d30, g31, am31, P10, "shared", "SOG", 3.5, 30, 0.7, 0.25),
           accuracy(d30, g31, am31, MKT, "shared", "SOG", 2.5, 40, 0.6, 0.21),
           accuracy(d30, g31, am31, P10, "own", "SOG", 2.5, 500, 5.0, 0.5),
           accuracy(d30, g31, am31, "eb-season", "shared", "SOG", 2.5, 40, 7.0, 0.7),
           accuracy(d29, g30, at(d30, 15.5), P10, "shared", "SOG", 2.5, 20, 0.6, 0.22),
           accuracy(d29, g30, at(d30, 15.5), MKT, "shared", "SOG", 2.5, 20, 0.65, 0.23),
           accuracy(d21, g22, at(d21, 39.5), P10, "shared", "SOG", 2.5, 50, 0.4, 0.15),
           accuracy(d21, g22, at(d21, 39.5), P10, "shared", "GOALS", 0.5, 30, 0.3, 0.1)]
    cal = [calibration(d30, OLD, at(d31, 10), P10, "shared", "SOG", 9, 1000, 0.0, 1000.0),
           calibration(d30, g31, am31, P10, "shared", "SOG", 2, 10, 2.5, 4.0),
           calibration(d30, g31, am31, P10, "shared", "SOG", 7, 20, 15.0, 12.0),
           calibration(d30, g31, am31, P10, "own", "SOG", 0, 100, 0.0, 100.0),
           calibration(d30, g31, am31, MKT, "shared", "SOG", 2, 30, 7.5, 8.0),
           calibration(d29, g30, at(d30, 15.5), P10, "shared", "SOG", 2, 10, 2.4, 2.0),
           calibration(d29, g30, at(d30, 15.5), P10, "shared", "SOG", 5, 10, 5.5, 6.0)]
    bets = [bet(d30, 1, True, "WIN", 0.02), bet(d30, 2, True, "LOSS", -0.01),
            bet(d30, 3, True, "VOID", 0.5), bet(d30, 4, False, "WIN", 0.3),
            bet(d30, 5, True, "WIN", None), bet(d21, 6, True, "WIN", 0.04)]
    checks = [check(d31, OLD, at(d31, 10), "freshness", "PLAYNOW", False),
              check(d31, "am", am31, "freshness", "PLAYNOW", True),
              check(d28, OLD, at(d28, 10), "vanished", "PLAYNOW", False),
              check(d28, OLD, at(d28, 10), "vanished", "UNABATED", False),
              check(d28, OLD, at(d28, 10), "vanished", "ODDSSHARK", False),
              check(d28, "am", at(d28, 15.5), "row_count_z", "PLAYNOW/SOG", False),
              check(d28, "am", at(d28, 15.5), "freshness", "PLAYNOW", False),
              check(d28, "am", at(d28, 15.5), "freshness", "UNABATED", True),
              check(d15, "am", at(d15, 15.5), "vanished", "ODDSSHARK", False)]
    checks += [check(day, "am", at(day, 15.5), "freshness", "UNABATED", False)
               for day in NOV_CHECK_DAYS]
    rid31 = run_id(d31, "am")
    log = [fetch(rid31, "PLAYNOW", at(d31, 15.01), 200, 100.0),
           fetch(rid31, "PLAYNOW", at(d31, 15.02), 503, 200.0, "HTTP 503"),
           fetch(rid31, "PLAYNOW", at(d31, 15.03), 200, 300.0),
           fetch(rid31, "NHL_API", at(d31, 15.04), None, 5000.0, "ConnectionError: x"),
           fetch("not-a-run", "PLAYNOW", at(d31, 15.05), 500, 9999.0, "HTTP 500")]
    return {"fact_run_registry": reg, "fact_odds_coverage_daily": cov,
            "fact_mapping_quality_daily": mapq, "fact_ev_summary_daily": evs,
            "fact_forecast_accuracy_daily": acc, "fact_calibration_daily": cal,
            "fact_bet_results": bets, "fact_anomaly_checks": checks,
            "fact_vendor_fetch_log": log}


OTHER_KEYS = {
    "fact_run_registry": ("run_id", "step"),
    "fact_bet_results": ("slate_date", "player_id"),
    "fact_anomaly_checks": ("run_id", "slate_date", "check_name", "subject"),
    "fact_vendor_fetch_log": ("run_id", "vendor", "request_ts_utc", "attempt"),
}


@pytest.fixture(scope="module")
def rows() -> dict[str, list[dict]]:
    return history()


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory, rows: dict[str, list[dict]]):
    path = tmp_path_factory.mktemp("rolling") / "ops.duckdb"
    writer = db.connect(path)
    for table, records in rows.items():
        key = KEYS.get(table) or OTHER_KEYS[table]
        assert db.insert_new_rows(writer, table, pd.DataFrame(records), key) == len(records)
    writer.close()
    reader = db.connect(path, read_only=True)  # as the report notebook opens it
    yield reader
    reader.close()


@pytest.fixture(scope="module")
def empty_con(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("rolling-empty") / "ops.duckdb"
    db.connect(path).close()
    reader = db.connect(path, read_only=True)
    yield reader
    reader.close()


@pytest.fixture(scope="module")
def table(con) -> pd.DataFrame:
    return rolling.windows_table(con, D).set_index("metric")


def value(table: pd.DataFrame, metric: str, column: str) -> float:
    return float(table.loc[metric, column])


# --------------------------------------------------------------------------- windows table


def test_windows_table_shape_and_deltas(table: pd.DataFrame) -> None:
    assert list(table.reset_index().columns) == rolling.WINDOW_COLUMNS
    assert table.index.is_unique
    for n in (7, 30):
        expected = table[f"last_{n}"] - table[f"prev_{n}"]
        both = expected.notna()
        assert np.allclose(table.loc[both, f"delta_{n}"], expected[both])
        assert table.loc[~both, f"delta_{n}"].isna().all()
    assert value(table, "runs", "delta_7") == 1.0
    assert value(table, "runs", "delta_30") == 10.0
    assert value(table, "odds rows per slate (mean), PLAYNOW", "delta_7") == 1200.0
    assert math.isclose(value(table, "player mapping rate, UNABATED", "delta_7"), 0.1)
    assert math.isnan(value(table, "eligible bets (sum)", "delta_7"))  # no EV in prev_7


def test_runs_and_steps_by_hand(table: pd.DataFrame) -> None:
    # last_7: 12-31 (success, partial), 12-30 success, 12-28 failed, 12-25 success;
    # prev_7: 12-24 success, 12-20 (success, interrupted), 12-18 success (12-17 is out);
    # last_30 adds 12-17 success, 12-10 failed, 12-05 interrupted, 12-02 success;
    # prev_30: 12-01, 11-20, 11-02 success (11-01 is out)
    assert table.loc["runs", ["last_7", "prev_7", "last_30", "prev_30"]].tolist() == [
        5, 4, 13, 3]
    assert table.loc["run success rate", ["last_7", "prev_7", "last_30", "prev_30"]].tolist() \
        == [3 / 5, 3 / 4, 8 / 13, 1.0]
    # failed/timeout/interrupted step rows; 'partial' is not a failure
    assert table.loc["steps failed/timeout/interrupted",
                     ["last_7", "prev_7", "last_30", "prev_30"]].tolist() == [1, 1, 4, 0]


def test_odds_rows_use_the_newest_run_and_count_absent_vendors_as_zero(con,
                                                                       table) -> None:
    # the superseded run of 12-31 (999,999 PLAYNOW rows) is ignored
    assert value(table, "odds rows per slate (mean), PLAYNOW", "last_7") == (1000 + 3000) / 2
    assert value(table, "odds rows per slate (mean), UNABATED", "last_7") == (2000 + 1000) / 2
    assert value(table, "odds rows per slate (mean), ODDSSHARK", "last_7") == 500 / 2
    assert value(table, "odds rows per slate (mean), PLAYNOW", "prev_7") == 800
    assert value(table, "odds rows per slate (mean), UNABATED", "prev_7") == 0
    assert value(table, "odds rows per slate (mean), PLAYNOW", "last_30") == 4800 / 3
    assert value(table, "odds rows per slate (mean), PLAYNOW", "prev_30") == 100
    # independent SQL: newest run by a window function instead of arg_max
    expected = con.execute("""
        SELECT sum(n_rows) / count(DISTINCT slate_date) FROM (
            SELECT *, rank() OVER (PARTITION BY slate_date ORDER BY computed_ts_utc DESC) AS r
            FROM fact_odds_coverage_daily WHERE slate_date BETWEEN ? AND ?) WHERE r = 1
        """, [D - timedelta(29), D]).fetchall()[0][0]
    total = sum(value(table, f"odds rows per slate (mean), {v}", "last_30")
                for v in ("PLAYNOW", "UNABATED", "ODDSSHARK"))
    assert math.isclose(total, expected)


def test_mapping_rates_pool_counts(table: pd.DataFrame) -> None:
    assert math.isclose(value(table, "player mapping rate, UNABATED", "last_7"), 135 / 150)
    assert math.isclose(value(table, "player mapping rate, UNABATED", "prev_7"), 0.8)
    assert math.isclose(value(table, "player mapping rate, UNABATED", "last_30"), 215 / 250)
    assert value(table, "event mapping rate, UNABATED", "last_7") == 1.0
    assert math.isnan(value(table, "event mapping rate, UNABATED", "prev_7"))
    assert math.isnan(value(table, "player mapping rate, PLAYNOW", "last_7"))  # no evidence


def test_eligible_bets_and_clv(table: pd.DataFrame) -> None:
    assert value(table, "eligible bets (sum)", "last_7") == 7 + 3 + 10  # not the old 500
    assert math.isnan(value(table, "eligible bets (sum)", "prev_7"))
    clv = "mean CLV (clv_prob, eligible settled bets)"
    # eligible, settled (VOID out), with a close: 0.02 and -0.01 on 12-30; 0.04 on 12-21
    assert math.isclose(value(table, clv, "last_7"), 0.005)
    assert math.isclose(value(table, clv, "prev_7"), 0.04)
    assert math.isclose(value(table, clv, "delta_7"), -0.035)
    assert math.isclose(value(table, clv, "last_30"), 0.05 / 3)
    assert math.isnan(value(table, clv, "prev_30"))


def test_log_loss_and_brier_are_pooled_over_props(con, table, rows) -> None:
    ll = f"log loss SOG, {P10} (shared)"
    # 12-30: n 10 at 0.5 and n 30 at 0.7; 12-29: n 20 at 0.6 (old run, own, eb-season out)
    assert math.isclose(value(table, ll, "last_7"), (10 * 0.5 + 30 * 0.7 + 20 * 0.6) / 60)
    assert math.isclose(value(table, ll, "prev_7"), 0.4)
    assert math.isclose(value(table, f"Brier SOG, {P10} (shared)", "last_7"),
                        (10 * 0.20 + 30 * 0.25 + 20 * 0.22) / 60)
    assert math.isclose(value(table, "log loss SOG, market (shared)", "last_7"),
                        (40 * 0.6 + 20 * 0.65) / 60)
    assert math.isclose(value(table, f"log loss GOALS, {P10} (shared)", "prev_7"), 0.3)
    assert math.isnan(value(table, "log loss GOALS, market (shared)", "prev_7"))
    assert math.isnan(value(table, f"log loss BLOCKS, {P10} (shared)", "last_30"))
    # the same in pandas from the rows written, the superseded run dropped by hand
    acc = pd.DataFrame(rows["fact_forecast_accuracy_daily"])
    acc = acc[(acc["run_id"] != OLD) & (acc["scope"] == "shared")]
    for source in (P10, MKT):
        part = acc[(acc["source"] == source) & (acc["market_type"] == "SOG")
                   & (acc["slate_date"] >= D - timedelta(29))]
        expected = (part["n"] * part["log_loss"]).sum() / part["n"].sum()
        assert math.isclose(value(table, f"log loss SOG, {source} (shared)", "last_30"),
                            expected)


def test_ece_is_exact_from_the_pooled_bins(table: pd.DataFrame) -> None:
    ece = f"ECE SOG, {P10} (shared)"
    # bin 2: n 20, sum_p 4.9, sum_y 6; bin 5: n 10, 5.5, 6; bin 7: n 20, 15, 12; N = 50
    by_hand = (20 / 50 * abs(6 / 20 - 4.9 / 20) + 10 / 50 * abs(6 / 10 - 5.5 / 10)
               + 20 / 50 * abs(12 / 20 - 15 / 20))
    assert math.isclose(by_hand, 4.6 / 50)
    assert math.isclose(value(table, ece, "last_7"), by_hand)
    # not the mean of the daily ECEs (0.15 and 0.045), weighted or not
    assert not math.isclose(value(table, ece, "last_7"), (0.15 * 30 + 0.045 * 20) / 50)
    assert math.isnan(value(table, ece, "prev_7"))


def test_ece_from_bins_matches_grading_ece() -> None:
    from helpers.grading.accuracy import ece

    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(float)
    index = np.minimum((p * 10).astype(int), 9)
    bins = (pd.DataFrame({"bin": index, "n": 1.0, "sum_p": p, "sum_y": y})
            .groupby("bin", as_index=False).sum())
    halves = pd.concat([bins.assign(n=bins["n"] / 2, sum_p=bins["sum_p"] / 2,
                                    sum_y=bins["sum_y"] / 2)] * 2)  # two "days"
    assert math.isclose(rolling.ece_from_bins(halves), ece(p, y)[0])
    assert math.isnan(rolling.ece_from_bins(bins.iloc[:0]))


def test_windows_table_on_an_empty_database(empty_con) -> None:
    table = rolling.windows_table(empty_con, D).set_index("metric")
    assert table.loc["runs", "last_7"] == 0
    assert table.loc["steps failed/timeout/interrupted", "last_30"] == 0
    counts = ["runs", "steps failed/timeout/interrupted"]
    assert (table.loc[counts, "delta_7"] == 0).all()
    others = table.drop(index=counts)
    assert others[["last_7", "prev_7", "delta_7", "last_30"]].isna().all().all()
    shown = rolling.windows_display(table.reset_index())
    assert shown.loc[shown["metric"] == "run success rate", "last_7"].item() == ""


def test_windows_display_formats_by_kind(table: pd.DataFrame) -> None:
    shown = rolling.windows_display(table.reset_index()).set_index("metric")
    assert shown.loc["runs", "delta_7"] == "+1"
    assert shown.loc["player mapping rate, UNABATED", "last_7"] == "90.0 %"
    assert shown.loc["player mapping rate, UNABATED", "delta_7"] == "+10.0 pp"
    assert shown.loc["mean CLV (clv_prob, eligible settled bets)", "last_7"] == "+0.50 pp"
    assert shown.loc["eligible bets (sum)", "delta_7"] == ""


# --------------------------------------------------------------------------- series


def test_series_read_the_newest_run_and_link_the_fetch_log(con) -> None:
    odds = rolling.daily_odds_rows(con, d31, d31).set_index("source_vendor")["n_rows"]
    assert odds.to_dict() == {"PLAYNOW": 1000, "UNABATED": 2000}
    durations = rolling.daily_step_durations(con, d31, d31).set_index("step")["duration_s"]
    assert durations["odds_ingestion"] == 55.0  # the slowest of the two runs
    health = rolling.daily_vendor_health(con, d31, d31).set_index("vendor")
    assert health.loc["PLAYNOW", "attempts"] == 3  # the attempt of no known run is out
    assert math.isclose(health.loc["PLAYNOW", "error_rate"], 1 / 3)
    assert math.isclose(health.loc["PLAYNOW", "p95_ms"], 290.0)  # linear interpolation
    assert health.loc["NHL_API", "error_rate"] == 1.0
    curve = rolling.reliability(rolling.calibration_bins(con, d29, d31)).set_index(
        ["source", "bin"])
    assert curve.loc[(P10, 2), "n"] == 20
    assert math.isclose(curve.loc[(P10, 2), "mean_y"], 6 / 20)
    assert (P10, 9) not in curve.index  # the superseded run's bin
    # eligible settled bets with a close in the 30 days: -0.01, 0.02, 0.04; bins of 0.025
    hist = rolling.clv_histogram(con, D - timedelta(29), D, bins=4, limit=0.05)
    assert hist["n"].tolist() == [0, 1, 1, 1]
    assert np.allclose(hist["lower"], [-0.05, -0.025, 0.0, 0.025])
    tails = rolling.clv_histogram(con, D - timedelta(29), D, bins=2, limit=0.01)
    assert tails["n"].tolist() == [1, 2]  # beyond the limit: counted in the end bins


# --------------------------------------------------------------------------- worst days


def test_worst_days_picks_and_orders_the_bad_slates(con) -> None:
    worst = rolling.worst_days(con, D)
    assert list(worst.columns) == rolling.WORST_COLUMNS
    assert worst["slate_date"].tolist() == [d28, d10, d20, d15, d05]
    top = worst.iloc[0]
    assert top["failed_steps"] == "odds_ingestion failed"
    assert top["failed_checks"] == 2  # the newest checking run's, not the old run's 3
    assert top["failed_check_subjects"] == "freshness PLAYNOW; row_count_z PLAYNOW/SOG"
    assert top["report"] == "[daily_report_2025-12-28.md](daily_report_2025-12-28.md)"
    by_day = worst.set_index("slate_date")
    assert by_day.loc[d10, "failed_steps"] == "production timeout, ev failed"
    assert by_day.loc[d20, "failed_steps"] == "odds_ingestion interrupted"
    assert by_day.loc[d05, "failed_steps"] == "run interrupted"
    assert by_day.loc[d15, "failed_steps"] == ""
    assert by_day.loc[d15, "failed_checks"] == 1
    assert d31 not in by_day.index  # partial run; the failed check was superseded


def test_worst_days_keeps_at_most_ten_newest_first_on_ties(con, empty_con) -> None:
    worst = rolling.worst_days(con, date(2025, 11, 30))
    assert worst["slate_date"].tolist() == sorted(NOV_CHECK_DAYS, reverse=True)[:10]
    assert rolling.worst_days(con, D, days=3)["slate_date"].tolist() == []
    assert list(rolling.worst_days(empty_con, D).columns) == rolling.WORST_COLUMNS


# --------------------------------------------------------------------------- charts


def _texts(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_charts_are_declared_once() -> None:
    names = [name for name, _ in rolling.CHARTS]
    assert names == ["rows_per_vendor", "run_status", "mapping_rate", "ev_counts", "log_loss",
                     "calibration", "clv", "vendor_health"]
    assert all(caption and "\n" not in caption for _, caption in rolling.CHARTS)
    assert list(rolling.CHART_HEADINGS) == names  # every chart has its heading, in order
    with pytest.raises(KeyError):
        rolling.chart_data(None, D, "nope")


@pytest.mark.parametrize("name", [name for name, _ in rolling.CHARTS])
def test_every_chart_renders_on_the_history_and_on_an_empty_database(
        con, empty_con, name: str, tmp_path: Path) -> None:
    fig = rolling.chart(con, D, name)
    assert "no data" not in _texts(fig)  # every chart has something in the last 30 days
    png = figure_png(fig, dpi=50)  # a low resolution keeps the test fast
    assert png.startswith(b"\x89PNG") and len(png) > 3000
    empty = rolling.chart(empty_con, D, name)
    assert "no data" in _texts(empty)
    png = figure_png(empty, dpi=50)
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_charts_returns_every_figure_in_order(empty_con) -> None:
    figures = rolling.charts(empty_con, D, days=7)
    assert list(figures) == [name for name, _ in rolling.CHARTS]
