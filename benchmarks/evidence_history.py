"""Synthetic evidence history for the rolling-report benchmark.

`generate_history(db_path, end_date, days, seed=0)` writes `days` slates ending at
`end_date` into a fresh DuckDB at the current schema (helpers.core.db.connect) and returns
the rows written per table. Per slate D:

- fact_run_registry: a morning run (15:00 UTC: 'run' + odds_ingestion, production, ev,
  outcomes, diagnostics) and a pre-game run (22:30 UTC: 'run' + odds_ingestion, the other
  four skipped). About 5 % of slates have a failed, timed-out or partial morning step; the
  run's status follows its steps as in runner.daily.
- fact_vendor_fetch_log: ~60 attempts per run over PLAYNOW, UNABATED, ODDSSHARK, NHL_API,
  with retries after 429/5xx/connection errors and the odd vendor outage day.
- Evidence of the morning run (the pre-game run skips diagnostics): coverage for 3 vendors x
  ~25 books x 5 markets; mapping quality for 3 vendors x (event, player); the EV summary per
  vendor/book/market; ~16 anomaly checks (step_failing, freshness, mapping_rate_drop,
  vanished) consistent with the rows above. No evidence on a slate whose diagnostics failed.
- The morning run of D grades slate D-1: forecast accuracy for p10-nhlapi, eb-season and
  market x own/shared x 5 markets x 3-5 lines, the calibration bins of the same props (the
  bins and the lines of a source/scope/market add up to the same n), and ~2,000 graded bets
  in fact_bet_results (none when the outcomes step failed).

Everything is drawn with numpy, vectorised per table; each table is one bulk insert (the
bet results one per chunk of slates), in slate order. The database is new, so the rows are
appended as they are (no dedup join).

    python benchmarks/evidence_history.py --days 365 --out /tmp/history.duckdb
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from helpers.core import db

VENDORS = ("PLAYNOW", "UNABATED", "ODDSSHARK")
FETCH_VENDORS = (*VENDORS, "NHL_API")
MARKETS = ("GOALS", "ASSISTS", "POINTS", "SOG", "BLOCKS")
STEPS = ("odds_ingestion", "production", "ev", "outcomes", "diagnostics")
NOTEBOOKS = ("01_odds_ingest.ipynb", "02_production_snapshot.ipynb", "03_ev_report.ipynb",
             "04_outcomes.ipynb", "05_diagnostics.ipynb")
STEP_SECONDS = (45.0, 120.0, 35.0, 70.0, 25.0)  # median durations
STEP_TIMEOUT_S = 900.0
SOURCES = ("p10-nhlapi", "eb-season", "market")
SCOPES = ("own", "shared")
# (line, base over-rate) per market: ~4 lines each
LINES: dict[str, tuple[tuple[float, float], ...]] = {
    "GOALS": ((0.5, 0.30), (1.5, 0.05), (2.5, 0.008)),
    "ASSISTS": ((0.5, 0.38), (1.5, 0.09), (2.5, 0.015)),
    "POINTS": ((0.5, 0.52), (1.5, 0.18), (2.5, 0.05), (3.5, 0.012)),
    "SOG": ((1.5, 0.62), (2.5, 0.42), (3.5, 0.25), (4.5, 0.13), (5.5, 0.06)),
    "BLOCKS": ((0.5, 0.62), (1.5, 0.35), (2.5, 0.16), (3.5, 0.07)),
}
MARKET_ROWS_PER_GAME = {"GOALS": 18, "ASSISTS": 14, "POINTS": 22, "SOG": 40, "BLOCKS": 12}
BOOKS = ("DraftKings", "FanDuel", "BetMGM", "Caesars", "bet365", "PointsBet", "BetRivers",
         "Unibet", "Pinnacle", "Circa", "ESPN BET", "Fanatics", "Hard Rock", "Bovada",
         "BetOnline", "PrizePicks", "Underdog", "Sleeper", "PlayNow", "Sports Interaction",
         "Betway", "TonyBet", "bwin", "888sport", "Betano", "Proline", "theScore Bet",
         "BetVictor", "LeoVegas", "Betsson")
DFS_BOOKS = {"PrizePicks", "Underdog", "Sleeper"}
# fetch attempts per run (first attempts; retries come on top)
MORNING_FETCHES = {"PLAYNOW": 14, "UNABATED": 6, "ODDSSHARK": 14, "NHL_API": 24}
PREGAME_FETCHES = {"PLAYNOW": 16, "UNABATED": 6, "ODDSSHARK": 16, "NHL_API": 20}
LATENCY_MS = {"PLAYNOW": 350.0, "UNABATED": 1800.0, "ODDSSHARK": 700.0, "NHL_API": 120.0}
ENDPOINTS = {"PLAYNOW": "event_props", "UNABATED": "props_snapshot",
             "ODDSSHARK": "props_page", "NHL_API": "boxscore"}
BASE_URLS = {"PLAYNOW": "https://content.sb.playnow.com", "UNABATED":
             "https://content.unabated.com", "ODDSSHARK": "https://www.oddsshark.com",
             "NHL_API": "https://api-web.nhle.com"}
BETS_PER_SLATE = 2000
BET_CHUNK_SLATES = 120
CODE_VERSION = "0.1.0+synthetic"
P_CLIP = 1e-15


def _cat(codes: np.ndarray, categories: list[str] | tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype="int64"), categories=categories)


def _ts(days: np.ndarray, seconds: np.ndarray | float) -> np.ndarray:
    """Timestamps: the slates' midnight (datetime64[D]) plus `seconds`."""
    return (days.astype("datetime64[us]")
            + (np.asarray(seconds, dtype=float) * 1e6).astype("timedelta64[us]"))


def _append(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    con.register("_generated", pa.Table.from_pandas(frame, preserve_index=False))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _generated")
    finally:
        con.unregister("_generated")
    return len(frame)


class _World:
    """The slates and the run-level facts every table hangs on."""

    def __init__(self, end_date: date, days: int, rng: np.random.Generator):
        self.rng = rng
        self.n = days
        start = np.datetime64(end_date - timedelta(days=days - 1), "D")
        self.days = start + np.arange(days)
        self.games = rng.integers(2, 15, days)
        hexes = [f"{v:06x}" for v in rng.integers(0, 16 ** 6, 2 * days)]
        stamps = pd.DatetimeIndex(self.days)
        self.morning_id = np.array([f"{d:%Y%m%d}T150000Z-{h}"
                                    for d, h in zip(stamps, hexes[:days], strict=True)])
        self.pregame_id = np.array([f"{d:%Y%m%d}T223000Z-{h}"
                                    for d, h in zip(stamps, hexes[days:], strict=True)])
        # morning step statuses: ~5 % of slates have one bad step
        self.status = np.full((days, len(STEPS)), "success", dtype=object)
        bad = np.flatnonzero(rng.random(days) < 0.05)
        which = rng.choice(len(STEPS), size=bad.size, p=[0.35, 0.2, 0.15, 0.2, 0.1])
        self.status[bad, which] = rng.choice(["failed", "timeout", "partial"], size=bad.size,
                                             p=[0.45, 0.15, 0.4])
        self.pregame_status = np.where(rng.random(days) < 0.01, "partial", "success")
        drift = 1.0 + 0.0003 * np.arange(days)[:, None]  # steps slow down as history grows
        self.durations = (np.array(STEP_SECONDS)[None, :] * drift
                          * rng.lognormal(0.0, 0.25, (days, len(STEPS))))
        self.durations[self.status == "timeout"] = STEP_TIMEOUT_S
        self.pregame_duration = STEP_SECONDS[0] * rng.lognormal(0.0, 0.25, days)
        failed = np.isin(self.status, ["failed", "timeout"])
        self.has_evidence = ~failed[:, STEPS.index("diagnostics")]
        self.has_grading = ~failed[:, STEPS.index("outcomes")]
        # seconds after midnight when the morning's diagnostics computed its evidence
        self.computed_s = 15 * 3600 + self.durations[:, :4].sum(axis=1) + 30.0
        # ~25 books per vendor, and vendor outages (no rows that slate)
        self.books = {v: sorted(rng.choice(len(BOOKS), size=int(rng.integers(23, 28)),
                                           replace=False).tolist()) for v in VENDORS}
        self.vendor_down = rng.random((days, len(VENDORS))) < 0.008


def _registry(w: _World) -> pd.DataFrame:
    n, k = w.n, len(STEPS)
    rng = w.rng
    run_start = 15 * 3600 + rng.uniform(0, 20, n)
    step_start = run_start[:, None] + np.concatenate(
        [np.zeros((n, 1)), np.cumsum(w.durations + 2.0, axis=1)[:, :-1]], axis=1)
    bad = np.isin(w.status, ["failed", "timeout"]).any(axis=1)
    partial = (w.status == "partial").any(axis=1)
    run_status = np.where(bad, "failed", np.where(partial, "partial", "success"))
    run_duration = w.durations.sum(axis=1) + 2.0 * k

    day = np.repeat(w.days, 1 + k)
    morning = pd.DataFrame({
        "run_id": np.repeat(w.morning_id, 1 + k),
        "slate_date": day,
        "as_of_ts_utc": _ts(day, 15 * 3600),
        "step": np.tile(["run", *STEPS], n),
        "step_order": np.tile(np.arange(k + 1), n),
        "status": np.column_stack([run_status, w.status]).ravel(),
        "started_ts_utc": _ts(day, np.column_stack([run_start, step_start]).ravel()),
        "duration_s": np.column_stack([run_duration, w.durations]).ravel().round(3),
        "notebook": np.tile(["", *NOTEBOOKS], n),
    })
    pre_start = 22.5 * 3600 + rng.uniform(0, 20, n)
    pre_status = np.full((n, k + 1), "skipped", dtype=object)
    pre_status[:, 0] = w.pregame_status
    pre_status[:, 1] = w.pregame_status
    pre_duration = np.full((n, k + 1), np.nan)
    pre_duration[:, 0] = w.pregame_duration + 2.0
    pre_duration[:, 1] = w.pregame_duration
    pregame = pd.DataFrame({
        "run_id": np.repeat(w.pregame_id, 1 + k),
        "slate_date": day,
        "as_of_ts_utc": _ts(day, 22.5 * 3600),
        "step": np.tile(["run", *STEPS], n),
        "step_order": np.tile(np.arange(k + 1), n),
        "status": pre_status.ravel(),
        "started_ts_utc": _ts(day, np.repeat(pre_start, 1 + k)),
        "duration_s": pre_duration.ravel().round(3),
        "notebook": np.tile(["", *NOTEBOOKS], n),
    })
    out = pd.concat([morning, pregame], ignore_index=True)
    skipped = out["status"] == "skipped"
    out.loc[skipped, "started_ts_utc"] = pd.NaT
    out["finished_ts_utc"] = out["started_ts_utc"] + pd.to_timedelta(
        out["duration_s"].fillna(0), unit="s")
    out.loc[skipped, "finished_ts_utc"] = pd.NaT
    status = out["status"]
    out["error_type"] = np.select([status == "failed", status == "timeout"],
                                  ["VendorError", "WallClockTimeout"], None)
    out["error_summary"] = np.select(
        [status == "failed", status == "timeout", status == "partial", skipped],
        ["PLAYNOW event_props: HTTP 503 after 3 attempt(s)", "step exceeded 900 s",
         "1 vendor(s) returned no rows", "not enabled"], None)
    run_dir = ("runs/" + pd.to_datetime(out["slate_date"]).dt.strftime("%Y-%m-%d") + "/"
               + out["run_id"])
    out["notebook_path"] = np.where(out["step"] == "run", run_dir,
                                    run_dir + "/" + out["notebook"])
    out["parameters_json"] = None
    out["code_version"] = CODE_VERSION
    return (out.drop(columns="notebook")
            .sort_values(["slate_date", "run_id", "step_order"], kind="stable"))


def _fetch_log(w: _World) -> pd.DataFrame:
    rng = w.rng
    frames = []
    for run_ids, base_s, counts in ((w.morning_id, 15 * 3600 + 10, MORNING_FETCHES),
                                    (w.pregame_id, 22.5 * 3600 + 10, PREGAME_FETCHES)):
        per_run = np.array([counts[v] for v in FETCH_VENDORS])
        vendor = np.tile(np.repeat(np.arange(len(FETCH_VENDORS)), per_run), w.n)
        day_ix = np.repeat(np.arange(w.n), per_run.sum())
        frames.append(pd.DataFrame({"day": day_ix, "vendor": vendor,
                                    "run_id": run_ids[day_ix],
                                    "offset": base_s + rng.uniform(0, 240, day_ix.size)}))
    first = pd.concat(frames, ignore_index=True)
    # error probability per vendor and slate: 1 % usually, an outage day now and then
    p_error = np.where(rng.random((w.n, len(FETCH_VENDORS))) < 0.01,
                       rng.uniform(0.3, 0.9, (w.n, len(FETCH_VENDORS))), 0.01)
    rows = [first.assign(attempt=1)]
    retry = first[rng.random(len(first)) < p_error[first["day"], first["vendor"]]]
    retry = retry.assign(attempt=2, offset=retry["offset"] + 2.0)
    rows.append(retry)
    log = pd.concat(rows, ignore_index=True)
    failed = np.zeros(len(log), dtype=bool)
    failed[: len(first)] = log.index[: len(first)].isin(retry.index)
    failed[len(first):] = rng.random(len(retry)) < p_error[retry["day"], retry["vendor"]]
    kind = rng.choice(4, size=len(log), p=[0.45, 0.25, 0.15, 0.15])  # 503, 429, 500, conn
    status = np.where(failed, np.array([503, 429, 500, 0])[kind], 200)
    vendor_names = np.array(FETCH_VENDORS)[log["vendor"]]
    median = np.array([LATENCY_MS[v] for v in FETCH_VENDORS])[log["vendor"]]
    elapsed = median * rng.lognormal(0.0, 0.45, len(log))
    connection = failed & (kind == 3)
    elapsed[connection] = rng.uniform(10_000, 30_000, connection.sum())
    error = np.where(connection, "ConnectionError: read timed out",
                     np.where(failed, "HTTP " + status.astype(str), None))
    endpoint = np.array([ENDPOINTS[v] for v in FETCH_VENDORS])[log["vendor"]]
    url = np.array([f"{BASE_URLS[v]}/{ENDPOINTS[v]}" for v in FETCH_VENDORS])[log["vendor"]]
    out = pd.DataFrame({
        "run_id": log["run_id"].to_numpy(),
        "vendor": vendor_names,
        "endpoint": endpoint,
        "url_redacted": url,
        "request_ts_utc": _ts(w.days[log["day"]], log["offset"].to_numpy()),
        "attempt": log["attempt"].to_numpy(dtype="int32"),
        "status_code": pd.array(np.where(connection, np.nan, status), dtype="Int32"),
        "elapsed_ms": elapsed.round(2),
        "bytes": pd.array(np.where(failed, np.nan,
                                   rng.lognormal(11.0, 1.0, len(log)).round()), dtype="Int64"),
        "error": error,
    })
    return out.sort_values(["request_ts_utc"], kind="stable")


def _coverage(w: _World) -> pd.DataFrame:
    rng = w.rng
    keys = [(v, b, m) for v in VENDORS for b in w.books[v]
            for m in range(len(MARKETS))]
    vendor_ix = np.array([VENDORS.index(v) for v, _, _ in keys])
    book_ix = np.array([b for _, b, _ in keys])
    market_ix = np.array([m for _, _, m in keys])
    days = np.flatnonzero(w.has_evidence)
    day = np.repeat(days, len(keys))
    v = np.tile(vendor_ix, days.size)
    keep = ~w.vendor_down[day, v] & (rng.random(day.size) > 0.01)  # the odd book missing
    day, v = day[keep], v[keep]
    b = np.tile(book_ix, days.size)[keep]
    m = np.tile(market_ix, days.size)[keep]
    per_game = np.array([MARKET_ROWS_PER_GAME[x] for x in MARKETS])[m]
    games = w.games[day]
    n_rows = rng.poisson(per_game * games * rng.uniform(0.6, 1.2, day.size))
    last_s = 15 * 3600 - rng.uniform(60, 1800, day.size)
    return pd.DataFrame({
        "run_id": w.morning_id[day],
        "slate_date": w.days[day],
        "source_vendor": _cat(v, VENDORS),
        "book_name": _cat(b, BOOKS),
        "market_type": _cat(m, MARKETS),
        "n_rows": n_rows.astype("int64"),
        "n_events": games.astype("int64"),
        "n_players": np.minimum(n_rows, games * rng.integers(8, 20, day.size)).astype("int64"),
        "n_captures": np.ones(day.size, dtype="int64"),
        "first_capture_ts_utc": _ts(w.days[day], last_s - 120),
        "last_capture_ts_utc": _ts(w.days[day], last_s),
        "computed_ts_utc": _ts(w.days[day], w.computed_s[day]),
    })


def _ev_summary(w: _World, coverage: pd.DataFrame) -> pd.DataFrame:
    rng = w.rng
    k = len(coverage)
    candidates = rng.binomial(coverage["n_rows"].to_numpy(), 0.9)
    eligible = rng.binomial(candidates, 0.002)
    ev_mean = rng.normal(-0.045, 0.012, k)
    out = coverage[["run_id", "slate_date", "source_vendor", "book_name", "market_type",
                    "computed_ts_utc"]].copy()
    out["n_candidates"] = candidates
    out["n_eligible"] = eligible
    out["n_positive_ev"] = rng.binomial(candidates, 0.3)
    has = candidates > 0
    out["ev_mean"] = np.where(has, ev_mean, np.nan)
    out["ev_p50"] = np.where(has, ev_mean + rng.normal(0.005, 0.004, k), np.nan)
    out["ev_p90"] = np.where(has, rng.normal(0.03, 0.01, k), np.nan)
    out["ev_max"] = np.where(has, 0.08 + rng.exponential(0.06, k), np.nan)
    out["n_suspicious"] = rng.binomial(eligible, 0.05)
    return out


def _mapping(w: _World) -> pd.DataFrame:
    rng = w.rng
    days = np.flatnonzero(w.has_evidence)
    combos = [(v, e) for v in range(len(VENDORS)) for e in ("event", "player")]
    day = np.repeat(days, len(combos))
    v = np.tile([c[0] for c in combos], days.size)
    entity = np.tile([c[1] for c in combos], days.size)
    keep = ~w.vendor_down[day, v]
    day, v, entity = day[keep], v[keep], entity[keep]
    games = w.games[day]
    is_player = entity == "player"
    n_total = np.where(is_player, games * rng.integers(30, 40, day.size), games)
    usual = np.array([0.965, 0.99, 0.955])[v]  # PLAYNOW, UNABATED, ODDSSHARK players
    rate = usual + rng.normal(0, 0.006, day.size)
    rate = np.where(rng.random(day.size) < 0.01, rate - 0.1, rate)  # a bad day now and then
    # events: all mapped but for the odd one
    n_mapped = np.where(is_player, rng.binomial(n_total, np.clip(rate, 0, 1)),
                        n_total - (rng.random(day.size) < 0.005))
    return pd.DataFrame({
        "run_id": w.morning_id[day],
        "slate_date": w.days[day],
        "source_vendor": _cat(v, VENDORS),
        "entity": entity,
        "n_total": n_total.astype("int64"),
        "n_mapped": n_mapped.astype("int64"),
        "mapped_rate": n_mapped / np.maximum(n_total, 1),
        "top_unmapped": np.where(n_mapped < n_total, "J. Smith (no_such_player)", None),
        "computed_ts_utc": _ts(w.days[day], w.computed_s[day]),
    })


def _streaks(failing: np.ndarray) -> np.ndarray:
    """Per slate, how many slates in a row up to it `failing` holds (per column)."""
    out = np.zeros(failing.shape, dtype=float)
    for i in range(failing.shape[0]):
        out[i] = np.where(failing[i], (out[i - 1] if i else 0) + 1, 0)
    return out


def _anomalies(w: _World, mapping: pd.DataFrame) -> pd.DataFrame:
    """~16 checks per morning run with evidence, each consistent with the rows above."""
    rng = w.rng
    days = np.flatnonzero(w.has_evidence)
    frames = []
    # step_failing: streak of failed/timeout morning steps (diagnostics is not checked)
    streak = _streaks(np.isin(w.status[:, :4], ["failed", "timeout"]))
    for s, step in enumerate(STEPS[:4]):
        value = streak[days, s]
        frames.append(pd.DataFrame({"day": days, "check_name": "step_failing",
                                    "subject": step, "value": value, "threshold": 2.0,
                                    "passed": value < 2,
                                    "detail": "failed slate(s) in a row"}))
    # freshness per vendor present
    present = ~w.vendor_down[days]
    for vi, vendor in enumerate(VENDORS):
        d = days[present[:, vi]]
        minutes = np.where(rng.random(d.size) < 0.01, rng.uniform(200, 600, d.size),
                           rng.uniform(5, 60, d.size))
        frames.append(pd.DataFrame({"day": d, "check_name": "freshness", "subject": vendor,
                                    "value": minutes, "threshold": 180.0,
                                    "passed": minutes <= 180.0,
                                    "detail": "minutes from the last capture to the run"}))
    # mapping_rate_drop: today's rate against the median of the 14 slates before
    start = pd.Timestamp(w.days[0])
    m = mapping.assign(day=(pd.to_datetime(mapping["slate_date"]) - start).dt.days,
                       subject=mapping["source_vendor"].astype(str) + "/" + mapping["entity"])
    m = m.sort_values(["subject", "day"])
    median = m.groupby("subject")["mapped_rate"].transform(
        lambda s: s.shift(1).rolling(14, min_periods=3).median())
    delta = m["mapped_rate"] - median
    frames.append(pd.DataFrame({"day": m["day"].to_numpy(), "check_name": "mapping_rate_drop",
                                "subject": m["subject"].to_numpy(), "value": delta.to_numpy(),
                                "threshold": -0.05,
                                "passed": (delta.isna() | (delta >= -0.05)).to_numpy(),
                                "detail": "mapped rate minus the trailing median"}))
    # vanished: a vendor seen on >= 3 of the last 7 slates and absent today
    seen = pd.DataFrame(~w.vendor_down).rolling(7, min_periods=1).sum().shift(1).fillna(0)
    for vi, vendor in enumerate(VENDORS):
        value = seen[vi].to_numpy()[days]
        checked = value >= 3
        frames.append(pd.DataFrame({"day": days[checked], "check_name": "vanished",
                                    "subject": vendor, "value": value[checked],
                                    "threshold": 3.0, "passed": present[checked, vi],
                                    "detail": "vendor seen on the last 7 slates"}))
    out = pd.concat(frames, ignore_index=True).sort_values(["day", "check_name", "subject"])
    day = out.pop("day").to_numpy()
    out.insert(0, "run_id", w.morning_id[day])
    out.insert(1, "slate_date", w.days[day])
    out["computed_ts_utc"] = _ts(w.days[day], w.computed_s[day] + 5)
    return out


def _entropy(h: np.ndarray) -> np.ndarray:
    h = np.clip(h, P_CLIP, 1 - P_CLIP)
    return -(h * np.log(h) + (1 - h) * np.log(1 - h))


def _accuracy_and_calibration(w: _World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Slate D's morning run grades D-1: per graded slate, source, scope and market a number
    of props N, split into lines (accuracy) and into 10 P(over) bins (calibration)."""
    rng = w.rng
    grader = np.flatnonzero(w.has_evidence & w.has_grading)
    grader = grader[grader > 0]  # the first slate has no day before it in the history
    graded = grader - 1
    combos = [(s, c) for s in range(len(SOURCES)) for c in range(len(SCOPES))]
    improvement = np.array([0.010, 0.006, 0.014])  # p10, eb-season, market
    calibration_slope = np.array([0.90, 0.85, 0.97])  # observed = .5 + slope (p - .5)
    acc_frames, cal_frames = [], []
    centers = (np.arange(10) + 0.5) / 10
    shared = [i for i, (_, c) in enumerate(combos) if SCOPES[c] == "shared"]

    def same(values: np.ndarray) -> np.ndarray:
        """Rows ordered (slate, combo): every source's shared row copies the first's."""
        out = values.reshape(graded.size, len(combos), *values.shape[1:]).copy()
        out[:, shared[1:]] = out[:, shared[:1]]
        return out.reshape(values.shape)

    for market in MARKETS:
        lines = np.array([x for x, _ in LINES[market]])
        base = np.array([h for _, h in LINES[market]])
        line_weight = np.linspace(1.0, 0.4, lines.size)
        line_weight /= line_weight.sum()
        # P(over) of the props: near each line's base rate
        pdf = np.exp(-0.5 * ((centers[None, :] - base[:, None]) / 0.08) ** 2)
        bin_weight = (line_weight[:, None] * pdf / pdf.sum(axis=1, keepdims=True)).sum(axis=0)
        g = np.repeat(graded, len(combos))
        src = np.tile([c[0] for c in combos], graded.size)
        scope = np.tile([c[1] for c in combos], graded.size)
        props = w.games[g] * MARKET_ROWS_PER_GAME[market] * 0.6
        total = same(rng.poisson(np.where(scope == 0, np.where(src == 2, 0.8, 1.0), 0.7)
                                 * props))
        # accuracy: lines; the shared props (and their outcomes) are the same for every source
        n_line = same(rng.multinomial(total, line_weight))  # (k, lines)
        k = total.size
        row = np.repeat(np.arange(k), lines.size)
        n = n_line.ravel()
        h_true = same(base[None, :] * rng.lognormal(0, 0.05, (k, lines.size))).ravel()
        hits = same(rng.binomial(n_line, np.clip(h_true.reshape(k, -1), 0, 1))).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            hit_rate = np.where(n > 0, hits / np.maximum(n, 1), np.nan)
        baseline = _entropy(hit_rate)
        gain = (improvement[src[row]] * (baseline / 0.69)
                + rng.normal(0, 0.12, n.size) / np.sqrt(np.maximum(n, 1)) * baseline)
        log_loss = np.maximum(baseline - gain, 0.001)
        brier = np.maximum(hit_rate * (1 - hit_rate) - 0.4 * gain, 0.0)
        one_class = (hits == 0) | (hits == n)
        top = {kk: np.where(n >= kk, rng.binomial(kk, np.clip(1.8 * h_true, 0, 1)) / kk,
                            np.nan) for kk in (5, 10, 20)}
        acc = pd.DataFrame({
            "day": g[row] + 1, "slate_date": w.days[g[row]], "source": src[row],
            "scope": scope[row], "market_type": market, "line": np.tile(lines, k),
            "n": n, "hit_rate": hit_rate, "log_loss": log_loss,
            "log_loss_baseline": baseline, "log_loss_improvement": baseline - log_loss,
            "brier": brier, "ece": np.abs(rng.normal(0.02, 0.01, n.size)) + 0.3 / np.sqrt(
                np.maximum(n, 1)),
            "auc": np.where(one_class, np.nan, rng.normal(0.63, 0.04, n.size)),
            "top5_hit_rate": top[5], "top10_hit_rate": top[10], "top20_hit_rate": top[20]})
        acc_frames.append(acc[acc["n"] > 0])
        # calibration: bins
        n_bin = rng.multinomial(total, bin_weight)  # (k, 10)
        row = np.repeat(np.arange(k), 10)
        nb = n_bin.ravel()
        mean_p = np.tile(centers, k) + rng.uniform(-0.03, 0.03, nb.size)
        observed = np.clip(0.5 + calibration_slope[src[row]] * (mean_p - 0.5), 0, 1)
        cal = pd.DataFrame({
            "day": g[row] + 1, "slate_date": w.days[g[row]], "source": src[row],
            "scope": scope[row], "market_type": market, "bin": np.tile(np.arange(10), k),
            "n": nb, "sum_p": nb * mean_p, "sum_y": rng.binomial(nb, observed).astype(float)})
        cal_frames.append(cal[cal["n"] > 0])
    out = []
    for frames, keys in ((acc_frames, ["slate_date", "source", "scope", "market_type", "line"]),
                         (cal_frames, ["slate_date", "source", "scope", "market_type", "bin"])):
        frame = pd.concat(frames, ignore_index=True)
        frame["market_type"] = pd.Categorical(frame["market_type"], categories=MARKETS)
        frame = frame.sort_values(keys, kind="stable")
        day = frame.pop("day").to_numpy()
        frame["source"] = _cat(frame["source"].to_numpy(), SOURCES)
        frame["scope"] = _cat(frame["scope"].to_numpy(), SCOPES)
        frame.insert(0, "run_id", w.morning_id[day])
        frame["computed_ts_utc"] = _ts(w.days[day], w.computed_s[day])
        out.append(frame)
    return out[0], out[1]


def _bet_results(w: _World, graded: np.ndarray) -> pd.DataFrame:
    """~2,000 graded bets per slate in `graded` (day indices), by the run of the day after."""
    rng = w.rng
    count = rng.poisson(BETS_PER_SLATE, graded.size)
    day = np.repeat(graded, count)
    k = day.size
    vendor = rng.integers(0, len(VENDORS), k)
    book_choice = rng.integers(0, 1000, k)
    book = np.empty(k, dtype="int64")
    for vi, v in enumerate(VENDORS):
        mask = vendor == vi
        books = np.array(w.books[v])
        book[mask] = books[book_choice[mask] % books.size]
    market = rng.integers(0, len(MARKETS), k)
    line_pick = rng.random(k)
    line = np.empty(k)
    base = np.empty(k)
    for mi, m in enumerate(MARKETS):
        mask = market == mi
        options = LINES[m]
        pick = np.minimum((line_pick[mask] * len(options)).astype(int), len(options) - 1)
        line[mask] = np.array([x for x, _ in options])[pick]
        base[mask] = np.array([h for _, h in options])[pick]
    over = rng.random(k) < 0.5
    p_side_true = np.clip(np.where(over, base, 1 - base) * rng.lognormal(0, 0.15, k),
                          0.03, 0.92)
    p_fair = np.clip(p_side_true + rng.normal(0, 0.02, k), 0.01, 0.99)
    odds = np.maximum(np.round(1 / (p_fair * 1.045), 2), 1.01)
    p_model = np.clip(p_fair + rng.normal(0, 0.04, k), 0.005, 0.995)
    ev = p_model * odds - 1
    eligible = (ev > 0.04) & (rng.random(k) < 0.5)
    won = rng.random(k) < p_side_true
    void = rng.random(k) < 0.02
    over_hit = np.where(over, won, ~won)
    actual = np.where(over_hit, np.floor(line) + 1 + rng.poisson(0.3, k),
                      np.maximum(np.floor(line) - rng.poisson(0.3, k), 0))
    result = np.where(void, "VOID", np.where(won, "WIN", "LOSS"))
    profit = np.where(void, 0.0, np.where(won, odds - 1, -1.0))
    has_close = rng.random(k) < 0.9
    drift = np.where(eligible, 0.003, 0.0)
    p_close = np.clip(p_fair + drift + rng.normal(0, 0.015, k), 0.01, 0.99)
    closing = np.maximum(np.round(1 / (p_close * 1.045), 2), 1.01)
    game = 2_024_020_000 + day * 16 + rng.integers(0, 16, k) % w.games[day]
    player = 8_470_000 + rng.integers(0, 900, k)
    grader = day + 1
    books = np.array(BOOKS)
    return pd.DataFrame({
        "slate_date": w.days[day],
        "candidate_run_id": w.morning_id[day],
        "snapshot_id": "snap-" + w.morning_id[day],
        "game_id": game.astype("int64"),
        "player_id": player.astype("int64"),
        "source_vendor": _cat(vendor, VENDORS),
        "event_id_vendor": (pd.Series(_cat(vendor, VENDORS)).astype(str) + "-"
                            + pd.Series(game).astype(str)).to_numpy(),
        "player_key_vendor": player.astype(str),
        "book_id_vendor": _cat(book, [f"b{i}" for i in range(len(BOOKS))]),
        "book_name": _cat(book, BOOKS),
        "book_type": np.where(np.isin(books[book], list(DFS_BOOKS)), "DFS", "SPORTSBOOK"),
        "market_type": _cat(market, MARKETS),
        "line": line,
        "side": np.where(over, "OVER", "UNDER"),
        "capture_ts_utc": _ts(w.days[day], 14.75 * 3600),
        "odds_decimal": odds,
        "p_model": p_model,
        "ev": ev,
        "is_eligible": eligible,
        "actual": pd.array(np.where(void, np.nan, actual), dtype="Int32"),
        "result": result,
        "profit_units": profit,
        "closing_capture_ts_utc": np.where(has_close, _ts(w.days[day], 23.8 * 3600),
                                           np.datetime64("NaT")).astype("datetime64[us]"),
        "closing_odds_decimal": np.where(has_close, closing, np.nan),
        "clv": np.where(has_close, odds / closing - 1, np.nan),
        "p_fair_taken": p_fair,
        "p_fair_close": np.where(has_close, p_close, np.nan),
        "clv_prob": np.where(has_close, p_close - p_fair, np.nan),
        "graded_ts_utc": _ts(w.days[grader], w.computed_s[grader] - 60),
        "run_id": w.morning_id[grader],
    })


def generate_history(db_path: str | Path, end_date: date, days: int,
                     seed: int = 0) -> dict[str, int]:
    """Write `days` slates of synthetic history ending at `end_date` into a new database at
    `db_path`; return the rows written per table."""
    db_path = Path(db_path)
    if db_path.exists():
        raise FileExistsError(f"{db_path} exists: generate_history writes a fresh database")
    if days < 1:
        raise ValueError("days must be >= 1")
    w = _World(pd.Timestamp(end_date).date(), days, np.random.default_rng(seed))
    con = db.connect(db_path)
    written: dict[str, int] = {}
    try:
        coverage = _coverage(w)
        mapping = _mapping(w)
        accuracy, calibration = _accuracy_and_calibration(w)
        tables = {
            "fact_run_registry": _registry(w),
            "fact_vendor_fetch_log": _fetch_log(w),
            "fact_odds_coverage_daily": coverage,
            "fact_mapping_quality_daily": mapping,
            "fact_ev_summary_daily": _ev_summary(w, coverage),
            "fact_forecast_accuracy_daily": accuracy,
            "fact_calibration_daily": calibration,
            "fact_anomaly_checks": _anomalies(w, mapping),
        }
        for table, frame in tables.items():
            written[table] = _append(con, table, frame)
        # graded slate D-1 by the morning run of D, when D's outcomes step did not fail
        graders = np.flatnonzero(w.has_grading)
        graded = graders[graders > 0] - 1
        written["fact_bet_results"] = 0
        for start in range(0, graded.size, BET_CHUNK_SLATES):
            chunk = _bet_results(w, graded[start:start + BET_CHUNK_SLATES])
            written["fact_bet_results"] += _append(con, "fact_bet_results", chunk)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 4, 15))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    counts = generate_history(args.out, args.end, args.days, args.seed)
    elapsed = time.perf_counter() - t0
    for table, rows in counts.items():
        print(f"{table:<32} {rows:>12,}")
    print(f"{'total':<32} {sum(counts.values()):>12,}  in {elapsed:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
