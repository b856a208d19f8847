"""Anomaly checks: a run's evidence against the trailing days'. One row per check and
subject with the value, the threshold and whether it passed, for `fact_anomaly_checks`.

The trailing window is the TRAILING_DAYS slates before the run's, each represented by its
newest run's evidence. The checks:
- `row_count_z` (vendor/market): today's odds rows (per game, when every slate's games are
  known: `games_per_slate`) against the window's mean and standard deviation; fails when
  |z| > Z_THRESHOLD. Needs MIN_HISTORY days (a slate with no rows
  from the vendor counts as 0); with fewer it passes and says it was not checked.
- `vanished` (vendor, and vendor/book): seen on at least VANISH_MIN_DAYS of the last 7
  slates and absent today.
- `mapping_rate_drop` (vendor/entity): today's mapped rate minus the window's median; fails
  below -MAPPING_DROP. Needs 3 days.
- `step_failing` (step): how many slates in a row, ending today, the step's newest run failed,
  timed out or was interrupted; fails at FAILING_STREAK.
- `freshness` (vendor): minutes from the vendor's last capture of the slate to the run's
  `as_of`; fails above FRESHNESS_MINUTES, and for a configured vendor (VENDORS) with no
  capture of the slate at all.
On an off day (production found no games on the slate's schedule: `dim_slates`) the odds
checks (row counts, vanished, mapping, freshness) say "not checked": no odds are expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from helpers.core import db
from helpers.evidence.tables import newest_per_slate
from helpers.model import read as model_read
from helpers.nhl import read as nhl_read

TRAILING_DAYS = 14
MIN_HISTORY = 7
Z_THRESHOLD = 3.0
VANISH_MIN_DAYS = 3
MAPPING_DROP = 0.05
FAILING_STREAK = 2
FRESHNESS_MINUTES = 180.0
FAILED_STATUSES = ("failed", "timeout", "interrupted")
COLUMNS = ("check_name", "subject", "value", "threshold", "passed", "detail")


def _row(check: str, subject: str, value: float, threshold: float, passed: bool,
         detail: str) -> dict:
    return {"check_name": check, "subject": subject, "value": value, "threshold": threshold,
            "passed": bool(passed), "detail": detail}


def row_count_checks(today: pd.DataFrame, history: pd.DataFrame, history_days: list[date],
                     games: dict[date, int] | None = None,
                     today_date: date | None = None) -> list[dict]:
    """z-score of today's rows per vendor and market against the trailing days. With the
    games of today and of every trailing day known (`games`), rows per game are compared: a 3-game slate after a 12-game one is not an anomaly, and raw
    counts vary so much with slate size that a vendor falling to zero stays inside 3
    standard deviations."""
    rows = []
    now = today.groupby(["source_vendor", "market_type"])["n_rows"].sum()
    past = history.groupby(["slate_date", "source_vendor", "market_type"])["n_rows"].sum()
    subjects = set(now.index) | {k[1:] for k in past.index}
    games = games or {}
    per_game = today_date is not None and all(
        games.get(d, 0) > 0 for d in [*history_days, today_date])
    unit = "rows per game" if per_game else "rows"
    for vendor, market in sorted(subjects):
        series = np.array([past.get((d, vendor, market), 0) for d in history_days], dtype=float)
        value = float(now.get((vendor, market), 0))
        if per_game:
            series = series / np.array([games[d] for d in history_days], dtype=float)
            value = value / games[today_date]
        subject = f"{vendor}/{market}"
        if len(history_days) < MIN_HISTORY:
            rows.append(_row("row_count_z", subject, np.nan, Z_THRESHOLD, True,
                             f"not checked: {len(history_days)} days of history, "
                             f"{MIN_HISTORY} needed"))
            continue
        mean, std = series.mean(), series.std(ddof=1)
        z = (value - mean) / std if std > 0 else (0.0 if value == mean else np.inf)
        rows.append(_row("row_count_z", subject, z, Z_THRESHOLD, abs(z) <= Z_THRESHOLD,
                         f"{value:.0f} {unit} against {mean:.0f} +- {std:.0f} over "
                         f"{len(history_days)} days"))
    return rows


def games_per_slate(con: duckdb.DuckDBPyConnection, lo: date, today: date) -> dict[date, int]:
    """Games per slate: the warehouse's games for the trailing slates (it holds a slate's
    games once they are final) and, for today's slate, whose games are not final yet, the
    games its snapshots priced (none: production did not run, and rows are compared raw)."""
    games = nhl_read.games_per_slate(con, lo, today - timedelta(days=1))
    games[today] = model_read.games_priced(con, today)
    return games


def vanished_checks(today: pd.DataFrame, history: pd.DataFrame,
                    last_week: list[date]) -> list[dict]:
    rows = []
    recent = history[history["slate_date"].isin(last_week)]
    for level, columns in (("vendor", ["source_vendor"]),
                           ("book", ["source_vendor", "book_name"])):
        seen = recent.groupby(columns)["slate_date"].nunique()
        present = set(map(tuple, today[columns].astype(str).drop_duplicates().to_numpy()))
        for key, days in seen.items():
            key = key if isinstance(key, tuple) else (key,)
            if days < VANISH_MIN_DAYS:
                continue
            here = tuple(map(str, key)) in present
            rows.append(_row("vanished", "/".join(map(str, key)), float(days),
                             VANISH_MIN_DAYS, here,
                             f"{level} seen on {days} of the last {len(last_week)} slates, "
                             + ("present today" if here else "absent today")))
    return rows


def mapping_checks(today: pd.DataFrame, history: pd.DataFrame) -> list[dict]:
    rows = []
    for r in today.itertuples(index=False):
        past = history[(history["source_vendor"] == r.source_vendor)
                       & (history["entity"] == r.entity)]["mapped_rate"].dropna()
        subject = f"{r.source_vendor}/{r.entity}"
        if len(past) < 3:
            rows.append(_row("mapping_rate_drop", subject, np.nan, -MAPPING_DROP, True,
                             f"not checked: {len(past)} days of history, 3 needed"))
            continue
        delta = float(r.mapped_rate) - float(past.median())
        rows.append(_row("mapping_rate_drop", subject, delta, -MAPPING_DROP,
                         delta >= -MAPPING_DROP,
                         f"{r.mapped_rate:.3f} against a median of {past.median():.3f}"))
    return rows


def step_checks(con: duckdb.DuckDBPyConnection, slate_date: date) -> list[dict]:
    registry = con.execute(
        """
        SELECT slate_date, step, arg_max(status, started_ts_utc) AS status
        FROM fact_run_registry
        WHERE slate_date BETWEEN ? AND ? AND step NOT IN ('run', 'diagnostics')
          AND status <> 'skipped' AND status <> 'running'
        GROUP BY ALL
        """, [slate_date - timedelta(days=TRAILING_DAYS), slate_date]).df()
    rows = []
    for step, part in registry.groupby("step"):
        by_day = dict(zip(pd.to_datetime(part["slate_date"]).dt.date, part["status"],
                          strict=True))
        streak, day = 0, slate_date
        while by_day.get(day) in FAILED_STATUSES:
            streak += 1
            day -= timedelta(days=1)
        rows.append(_row("step_failing", str(step), float(streak), FAILING_STREAK,
                         streak < FAILING_STREAK,
                         f"failed {streak} slate(s) in a row up to {slate_date}"))
    return rows


def freshness_checks(today: pd.DataFrame, as_of: datetime,
                     vendors: Sequence[str]) -> list[dict]:
    """Per vendor configured (`vendors`) or captured: minutes from its last capture of the
    slate to `as_of`. A configured vendor that captured nothing fails: it is the vendor that
    is down, and without a row of its own an outage day would read "0 failed"."""
    rows = []
    last = today.groupby("source_vendor")["last_capture_ts_utc"].max()
    for vendor in sorted(set(vendors) - set(last.index)):
        rows.append(_row("freshness", vendor, np.nan, FRESHNESS_MINUTES, False,
                         f"no capture of the slate by {pd.Timestamp(as_of):%Y-%m-%d %H:%M} UTC"))
    for vendor, ts in last.items():
        age = (pd.Timestamp(as_of) - pd.Timestamp(ts)).total_seconds() / 60.0
        rows.append(_row("freshness", str(vendor), age, FRESHNESS_MINUTES,
                         age <= FRESHNESS_MINUTES,
                         f"last capture {pd.Timestamp(ts):%Y-%m-%d %H:%M} UTC, "
                         f"{age:.0f} min before the run"))
    return rows


def not_checked_on_an_off_day(rows: list[dict], slate_date: date) -> list[dict]:
    """The odds checks of a slate with no games: each subject stays listed (what would have
    been checked), passed, with why it was not."""
    return [{**r, "value": np.nan, "passed": True,
             "detail": f"not checked: no games on {slate_date}"} for r in rows]


def check_anomalies(con: duckdb.DuckDBPyConnection, slate_date: date, run_id: str,
                    as_of: datetime, vendors: Sequence[str]) -> pd.DataFrame:
    """Every check for the run (its evidence must be written first); `vendors`: the odds
    vendors the run is configured to capture."""
    lo = slate_date - timedelta(days=TRAILING_DAYS)
    yesterday = slate_date - timedelta(days=1)
    coverage_today = con.execute("SELECT * FROM fact_odds_coverage_daily WHERE run_id = ? "
                                 "AND slate_date = ?", [run_id, slate_date]).df()
    mapping_today = con.execute("SELECT * FROM fact_mapping_quality_daily WHERE run_id = ? "
                                "AND slate_date = ?", [run_id, slate_date]).df()
    coverage = newest_per_slate(con, "fact_odds_coverage_daily", lo, yesterday)
    mapping = newest_per_slate(con, "fact_mapping_quality_daily", lo, yesterday)
    history_days = sorted(set(coverage["slate_date"]))
    last_week = [slate_date - timedelta(days=k) for k in range(1, 8)]
    coverage["slate_date"] = pd.to_datetime(coverage["slate_date"]).dt.date
    odds = (row_count_checks(coverage_today, coverage,
                             [pd.Timestamp(d).date() for d in history_days],
                             games_per_slate(con, lo, slate_date), slate_date)
            + vanished_checks(coverage_today, coverage, last_week)
            + mapping_checks(mapping_today, mapping))
    freshness = freshness_checks(coverage_today, as_of, vendors)
    # An off day with odds of the slate anyway is checked as any day: something is wrong.
    if model_read.games_scheduled(con, slate_date) == 0 and coverage_today.empty:
        odds = not_checked_on_an_off_day(odds, slate_date)
        freshness = not_checked_on_an_off_day(freshness, slate_date)
    rows = odds + step_checks(con, slate_date) + freshness
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_anomalies(con: duckdb.DuckDBPyConnection, checks: pd.DataFrame, slate_date: date,
                    run_id: str, now: datetime) -> int:
    """Append the run's checks to fact_anomaly_checks (again for the same run: nothing)."""
    rows = checks.assign(run_id=run_id, slate_date=slate_date, computed_ts_utc=now)
    return db.insert_new_rows(con, "fact_anomaly_checks", rows,
                              ("run_id", "slate_date", "check_name", "subject"))
