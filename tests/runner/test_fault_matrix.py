"""The fault matrix: every vendor route x every fault kind, and the NHL api-web failing
during production and during outcomes, followed through the work of the whole day.

Each case runs on a copy of the warm demo home with the emulator's fault on, calling the
functions the step notebooks call, in the driver's order (capture, production, EV, outcomes,
diagnostics). The driver itself (papermill, registry, exit codes, the rendered report) is
proven on a few of these cases in `test_faults_through_the_real_driver`; the notebooks only
pass these functions' status to it, so running 52 cases through kernels would prove the same
thing ten times slower.

For every case:
- the step's status is the right one (the driver turns partial into exit 3, failed into 1);
- the fetch log, the raw archive or the step's summary says what happened;
- the other sources' data lands;
- nothing already stored is lost or duplicated;
- with the fault gone, the next run is back to normal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import requests

from helpers.core import db
from helpers.core.errors import SchemaDriftError, VendorError
from helpers.core.settings import Settings, load_settings
from helpers.core.slate import Slate
from helpers.core.steps import run_step
from helpers.demo.server import Emulator
from helpers.ev.candidates import GATES
from helpers.evidence import daily as evidence_daily
from helpers.odds import report as odds_report
from helpers.odds.capture import capture
from helpers.odds.load import ODDS_KEY
from tests.conftest import WARM_MORNING, WARM_SLATE
from tests.runner.secret_markers import SECRET_MARKERS, assert_no_secret_anywhere

pytestmark = pytest.mark.slow

VENDOR_OF_ROUTE = {"unabated": "UNABATED", "playnow_event_list": "PLAYNOW",
                   "playnow_events": "PLAYNOW", "oddsshark": "ODDSSHARK"}
# The failing form of each kind: persistent (until cleared), past the read timeout the
# latency case runs with, and retried at once (Retry-After 0).
LATENCY_READ_TIMEOUT = "2"
FAILING = {
    "latency": {"latency_ms": 5000},
    "status": {"status": 503},
    "rate_limit": {"retry_after": 0},
    "drop": {},
    "malformed": {},
    "truncated": {},
    "empty": {},
    "schema_drift": {"drift": "renamed_key"},
    # the hostile kinds (demo/faults.py), against the default size caps
    "drip": {},
    "bomb": {},
    "redirect": {},
}
TRANSPORT_KINDS = {"latency", "status", "rate_limit", "drop", "drip"}  # retried: 3 attempts
REFUSED_KINDS = {"bomb", "redirect"}  # what the server sent is refused: 1 attempt, no retry
# Every kind on every route, and the page that wedges an HTML parser on the HTML route.
VENDOR_CASES = [(route, kind) for route in VENDOR_OF_ROUTE for kind in FAILING] + [
    ("oddsshark", "wedge")]
KIND_SETTINGS = {"latency": {"HTTP_READ_TIMEOUT_SECONDS": LATENCY_READ_TIMEOUT},
                 "drip": {"HTTP_TOTAL_DEADLINE_SECONDS": "1"}}
CASE_TIME = WARM_MORNING + timedelta(hours=1)
NEXT_TIME = WARM_MORNING + timedelta(hours=2)
NEXT_SLATE = WARM_SLATE + timedelta(days=1)
NEXT_MORNING = WARM_MORNING + timedelta(days=1)


def settings_for(emu: Emulator, home: Path, **env: str) -> Settings:
    return load_settings({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                          **{f"{v}_BASE_URL": emu.base_url
                             for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}, **env})


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    return rows(con, sql, params)[0][0]


def assert_no_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    keys = {"fact_prop_odds": ", ".join(ODDS_KEY),
            "fact_skater_games": "game_id, player_id",
            "fact_prob_snapshot": "snapshot_id, game_id, player_id, market_type, line",
            "fact_prop_outcomes": "game_id, player_id, market_type",
            "raw_payloads": "payload_hash"}
    for table, key in keys.items():
        dupes = scalar(con, f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL "
                            f"HAVING count(*) > 1)")
        assert dupes == 0, f"{table}: {dupes} duplicated keys"


def stored_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """What the warm home held before the case: none of it may go."""
    return {"odds": scalar(con, "SELECT count(*) FROM fact_prop_odds WHERE capture_ts_utc = ?",
                           [WARM_MORNING]),
            "skater_games": scalar(con, "SELECT count(*) FROM fact_skater_games"),
            "payloads": scalar(con, "SELECT count(*) FROM raw_payloads WHERE load_state = "
                                    "'loaded' AND capture_ts_utc = ?", [WARM_MORNING])}


@pytest.fixture(scope="module")
def warm_boards(warm_world: tuple[Emulator, Path], tmp_path_factory: pytest.TempPathFactory
                ) -> Emulator:
    """The emulator with the boards of the cases' times rendered once (it caches them), so
    that a case's time goes to its fault, not to rendering payloads."""
    emu, _ = warm_world
    emu.clear_faults()
    scratch = tmp_path_factory.mktemp("boards")
    con = db.connect(settings_for(emu, scratch).paths.db_path)
    for moment in (CASE_TIME, NEXT_TIME):
        emu.set_clock(moment)
        capture(con, settings_for(emu, scratch), moment, run_id="boards")
    con.close()
    return emu


@pytest.fixture
def faulty(warm_boards: Emulator) -> Iterator[Emulator]:
    warm_boards.clear_faults()
    yield warm_boards
    warm_boards.clear_faults()


def home_from(template: Path, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(template, home)
    return home


# ---- vendor routes -------------------------------------------------------------------------

@pytest.mark.parametrize(("route", "kind"), VENDOR_CASES)
def test_a_vendor_fault_costs_that_vendor_only_and_the_day_goes_on(
        faulty: Emulator, warm_world: tuple[Emulator, Path], tmp_path: Path,
        route: str, kind: str) -> None:
    vendor = VENDOR_OF_ROUTE[route]
    home = home_from(warm_world[1], tmp_path)
    settings = settings_for(faulty, home, **KIND_SETTINGS.get(kind, {}))
    con = db.connect(settings.paths.db_path)
    before = stored_counts(con)
    faulty.set_clock(CASE_TIME)
    faulty.set_fault(route, kind, count=None, **FAILING.get(kind, {}))

    # 1. ingestion: the vendor fails, the step is partial and names it, the others land
    reports = {r.vendor: r for r in capture(con, settings, CASE_TIME, run_id="case")}
    assert reports[vendor].status == "failed", reports[vendor]
    status, summary = odds_report.step_outcome(list(reports.values()))
    assert status == "partial" and vendor in summary
    for other, report in reports.items():
        if other != vendor:
            assert report.status == "success" and report.rows_inserted > 0, (other, report)
    assert scalar(con, "SELECT count(*) FROM fact_prop_odds WHERE source_vendor = ? AND "
                       "capture_ts_utc = ?", [vendor, CASE_TIME]) == 0
    if kind in TRANSPORT_KINDS:  # every attempt is in the fetch log with its failure
        failed = rows(con, "SELECT attempt FROM fact_vendor_fetch_log WHERE run_id = 'case' "
                           "AND vendor = ? AND (error IS NOT NULL OR status_code >= 400) "
                           "ORDER BY attempt", [vendor])
        assert [a for (a,) in failed] == [1, 2, 3]
    elif kind in REFUSED_KINDS:  # one attempt, its refusal in the fetch log, nothing saved
        (error,) = rows(con, "SELECT error FROM fact_vendor_fetch_log WHERE run_id = 'case' "
                             "AND vendor = ? AND error IS NOT NULL", [vendor])
        assert "refused" in error[0] and f"{vendor}_MAX_BODY_MB" in error[0] \
            if kind == "bomb" else "another host" in error[0], error
        # only accepted responses were saved (PlayNow's event list lands before its events)
        accepted = scalar(con, "SELECT count(*) FROM fact_vendor_fetch_log WHERE run_id = "
                               "'case' AND vendor = ? AND error IS NULL", [vendor])
        assert scalar(con, "SELECT count(*) FROM raw_payloads WHERE run_id = 'case' AND "
                           "vendor = ?", [vendor]) == accepted
    else:  # a 200 with a broken body: kept raw, registered with the parse error, no rows
        errors = rows(con, "SELECT parse_error FROM raw_payloads WHERE run_id = 'case' AND "
                           "vendor = ? AND parse_error IS NOT NULL", [vendor])
        assert len(errors) == 1 and "SchemaDriftError" in errors[0][0]

    # 2, 3, 5. the rest of the day works on what landed
    production = run_step("production", con, settings, Slate(WARM_SLATE, CASE_TIME), "case")
    assert len(production.snapshot.rows) > 0
    ev = run_step("ev", con, settings, Slate(WARM_SLATE, CASE_TIME), "case")
    assert len(ev.candidates) > 0
    priced_now = set(ev.candidates.loc[ev.candidates["capture_ts_utc"] == CASE_TIME,
                                       "source_vendor"])
    assert vendor not in priced_now and priced_now, priced_now
    # (outcomes grade earlier slates from boxscores: today's odds are not theirs)
    diagnostics = run_step("diagnostics", con, settings, Slate(WARM_SLATE, CASE_TIME), "case")
    assert diagnostics.added["fact_odds_coverage_daily"] > 0

    # nothing stored before is lost or duplicated
    assert stored_counts(con) == before
    assert_no_duplicates(con)

    # the next run, the fault gone, is back to normal
    faulty.clear_faults()
    faulty.set_clock(NEXT_TIME)
    (after,) = capture(con, settings_for(faulty, home), NEXT_TIME, run_id="next",
                       vendors=[vendor])
    assert after.status == "success" and after.rows_inserted > 0, after
    assert_no_duplicates(con)
    con.close()


# ---- the NHL api-web during production and outcomes ----------------------------------------
# The template: the warm home after a whole morning of 2025-12-01 (snapshot and EV price
# that slate's games), then the next morning's capture. The 2025-12-01 games are then final
# and not yet in the warehouse: production's stats refresh must load them and outcomes must
# grade them, both from the boxscores.

NHL_FAILING = {
    "status": {"status": 503},
    "drop": {},
    "malformed": {},
    "schema_drift": {},
    "live": {},
}


@pytest.fixture(scope="module")
def next_day_template(warm_world: tuple[Emulator, Path],
                      tmp_path_factory: pytest.TempPathFactory) -> Path:
    emu, warm = warm_world
    emu.clear_faults()
    template = tmp_path_factory.mktemp("next-day") / "home"
    shutil.copytree(warm, template)
    settings = settings_for(emu, template)
    con = db.connect(settings.paths.db_path)
    emu.set_clock(WARM_MORNING)
    run_step("production", con, settings, Slate(WARM_SLATE, WARM_MORNING), "day1")
    run_step("ev", con, settings, Slate(WARM_SLATE, WARM_MORNING), "day1")
    emu.set_clock(NEXT_MORNING)
    assert all(r.status == "success" for r in capture(con, settings, NEXT_MORNING, "day2"))
    con.close()
    return template


def slate_games(emu: Emulator, slate: date) -> set[int]:
    truth = requests.get(f"{emu.base_url}/v1/schedule/{slate.isoformat()}", timeout=10).json()
    return {g["id"] for day in truth["gameWeek"] if day["date"] == slate.isoformat()
            for g in day["games"]}


def nhl_case(emu: Emulator, template: Path, tmp_path: Path
             ) -> tuple[Settings, duckdb.DuckDBPyConnection, set[int]]:
    """A copy of the next-day template, open, the clock at that morning; and the games of
    the slate before, which the case's step must load or grade."""
    settings = settings_for(emu, home_from(template, tmp_path))
    con = db.connect(settings.paths.db_path)
    yesterday = slate_games(emu, WARM_SLATE)
    emu.set_clock(NEXT_MORNING)
    return settings, con, yesterday


@pytest.mark.parametrize("kind", list(NHL_FAILING))
@pytest.mark.parametrize("route", ["nhl_schedule", "nhl_boxscore"])
def test_the_nhl_api_failing_during_production(
        faulty: Emulator, next_day_template: Path, tmp_path: Path, route: str,
        kind: str) -> None:
    settings, con, yesterday = nhl_case(faulty, next_day_template, tmp_path)
    before = stored_counts(con)
    faulty.set_fault(route, kind, count=None, **NHL_FAILING[kind])

    if route == "nhl_schedule" and kind != "live":
        # Without the slate's schedule there is nothing to price: the step fails (exit 1),
        # naming the source, and writes no snapshot.
        with pytest.raises((VendorError, SchemaDriftError)) as caught:
            run_step("production", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "case")
        assert "NHL" in str(caught.value) or "schedule" in str(caught.value)
        assert scalar(con, "SELECT count(*) FROM fact_prob_snapshot WHERE run_id = 'case'") == 0
    else:
        result = run_step("production", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "case")
        # The snapshot is still made from the stats stored so far; the step is partial and
        # says why: the stats lag a day.
        assert result.status == "partial", result.summary()
        assert len(result.snapshot.rows) > 0
        summary = result.summary()
        if kind == "live":  # a mid-game boxscore, or a schedule still LIVE: both said
            assert ("not in their boxscore" if route == "nhl_boxscore"
                    else "still not final in the schedule") in summary, summary
        else:
            assert "stats source failed" in summary, summary
    # no game of yesterday's slate is stored from a failed or a mid-game boxscore
    stored = {g for (g,) in rows(con, "SELECT game_id FROM dim_games WHERE slate_date = ?",
                                  [WARM_SLATE])}
    assert stored.isdisjoint(yesterday), "a game was stored from a failing source"
    if kind in ("status", "drop"):
        assert scalar(con, "SELECT count(*) FROM fact_vendor_fetch_log WHERE run_id = 'case' "
                           "AND vendor = 'NHL_API' AND (error IS NOT NULL OR status_code >= 400)"
                      ) >= 3
    assert stored_counts(con) == before
    assert_no_duplicates(con)

    # the next run, the source healthy again, loads yesterday's games and is a clean success
    faulty.clear_faults()
    later = NEXT_MORNING + timedelta(hours=1)
    faulty.set_clock(later)
    result = run_step("production", con, settings, Slate(NEXT_SLATE, later), "next")
    assert result.status == "success", result.summary()
    assert set(result.refresh.loaded_game_ids) == yesterday
    assert_no_duplicates(con)
    con.close()


@pytest.mark.parametrize("kind", list(NHL_FAILING))
@pytest.mark.parametrize("route", ["nhl_schedule", "nhl_boxscore"])
def test_the_nhl_api_failing_during_outcomes(
        faulty: Emulator, next_day_template: Path, tmp_path: Path, route: str,
        kind: str) -> None:
    settings, con, yesterday = nhl_case(faulty, next_day_template, tmp_path)
    faulty.set_fault(route, kind, count=None, **NHL_FAILING[kind])
    result = run_step("outcomes", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "case")
    if route == "nhl_schedule":
        # grading reads boxscores only: a broken schedule costs it nothing
        assert result.status == "success", result.summary()
        assert set(result.games.loc[result.games["graded"], "game_id"]) == yesterday
    else:
        assert result.status == "partial", result.summary()
        assert not result.games["graded"].any()
        assert len(result.outcomes) == 0 and len(result.results) == 0
        assert scalar(con, "SELECT count(*) FROM fact_prop_outcomes") == 0
        if kind == "live":  # a mid-game boxscore is never graded, and it is said
            assert "still not final" in result.summary()
        else:
            assert "boxscores could not be read" in result.summary()
    assert_no_duplicates(con)

    # the next run grades everything, once
    faulty.clear_faults()
    later = NEXT_MORNING + timedelta(hours=1)
    faulty.set_clock(later)
    again = run_step("outcomes", con, settings, Slate(NEXT_SLATE, later), "next")
    assert again.status == "success", again.summary()
    assert set(again.games.loc[again.games["graded"], "game_id"]) == yesterday
    outcomes = scalar(con, "SELECT count(*) FROM fact_prop_outcomes")
    assert outcomes == len(again.outcomes) > 0
    assert_no_duplicates(con)
    con.close()


# ---- through the real driver ---------------------------------------------------------------

def driver_env(home: Path, emu: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env.update({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0", **SECRET_MARKERS,
                **{f"{v}_BASE_URL": emu.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})
    return env


def run_daily(env: dict[str, str], slate: date, at: datetime) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", "daily", "--all", "--date",
                           slate.isoformat(), "--as-of", at.strftime("%Y-%m-%dT%H:%M:%SZ")],
                          cwd=env["OPS_HOME"], env=env, capture_output=True, text=True,
                          timeout=900)


def registry(home: Path, slate: date) -> dict[str, tuple[str, str | None]]:
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        return {step: (status, summary) for step, status, summary in con.execute(
            "SELECT step, status, error_summary FROM fact_run_registry WHERE slate_date = ? "
            "AND step <> 'run' ORDER BY started_ts_utc", [slate]).fetchall()}
    finally:
        con.close()


def needs_attention(home: Path, slate: date) -> str:
    report = (home / "outputs" / "monitoring" / f"daily_report_{slate}.md").read_text()
    return report.split("\n## ", 2)[1]


@pytest.mark.timeout(900)  # three mornings of five steps and two reports
def test_faults_through_the_real_driver(faulty: Emulator, warm_world: tuple[Emulator, Path],
                                        tmp_path: Path) -> None:
    """Three mornings through `runner daily --all` (papermill kernels, registry, reports):
    day 1 Unabated truncated and PlayNow's event list rate limited once (a retry recovers
    it); day 2 the NHL boxscores LIVE for games long over; day 3 no fault. Every secret
    variable is set to a marker that must not appear anywhere the runs wrote."""
    home = home_from(warm_world[1], tmp_path)
    env = driver_env(home, faulty)
    third_slate, third_morning = NEXT_SLATE + timedelta(days=1), NEXT_MORNING + timedelta(days=1)
    consoles = []
    # half an hour after the warm home's capture: the same time would fetch the same bytes,
    # which are known and not loaded again
    first_morning = WARM_MORNING + timedelta(minutes=30)

    faulty.set_clock(first_morning)
    faulty.set_fault("unabated", "truncated", count=None)
    faulty.set_fault("playnow_event_list", "rate_limit", count=1, retry_after=0)
    day1 = run_daily(env, WARM_SLATE, first_morning)
    consoles += [day1.stdout, day1.stderr]
    assert day1.returncode == 3, day1.stdout[-3000:] + day1.stderr[-3000:]
    steps = registry(home, WARM_SLATE)
    assert steps["odds_ingestion"][0] == "partial" and "UNABATED" in steps["odds_ingestion"][1]
    assert all(status == "success" for step, (status, _) in steps.items()
               if step != "odds_ingestion"), steps
    attention = needs_attention(home, WARM_SLATE)
    assert "odds_ingestion partial" in attention and "UNABATED" in attention
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    landed = {v for (v,) in con.execute(
        "SELECT DISTINCT source_vendor FROM fact_prop_odds o JOIN raw_payloads p "
        "ON o.raw_payload_hash = p.payload_hash JOIN fact_run_registry r USING (run_id) "
        "WHERE r.slate_date = ?", [WARM_SLATE]).fetchall()}
    rate_limited = con.execute("SELECT count(*) FROM fact_vendor_fetch_log WHERE vendor = "
                               "'PLAYNOW' AND status_code = 429").fetchall()[0][0]
    con.close()
    # the others succeeded; what they sent that was new (an unchanged board is known by its
    # hash and not loaded twice) landed
    assert steps["odds_ingestion"][1].startswith("1 of 3 vendors failed - UNABATED")
    assert landed and landed <= {"PLAYNOW", "ODDSSHARK"}, landed
    assert rate_limited == 1

    faulty.clear_faults()
    faulty.set_clock(NEXT_MORNING)
    faulty.set_fault("nhl_boxscore", "live", count=None)
    day2 = run_daily(env, NEXT_SLATE, NEXT_MORNING)
    consoles += [day2.stdout, day2.stderr]
    assert day2.returncode == 3, day2.stdout[-3000:] + day2.stderr[-3000:]
    steps = registry(home, NEXT_SLATE)
    assert steps["odds_ingestion"][0] == "success"  # Unabated is back
    assert steps["production"][0] == "partial" and "boxscore" in steps["production"][1]
    assert steps["outcomes"][0] == "partial" and "still not final" in steps["outcomes"][1]
    attention = needs_attention(home, NEXT_SLATE)
    assert "production partial" in attention and "outcomes partial" in attention

    faulty.clear_faults()
    faulty.set_clock(third_morning)
    day3 = run_daily(env, third_slate, third_morning)
    consoles += [day3.stdout, day3.stderr]
    assert day3.returncode == 0, day3.stdout[-3000:] + day3.stderr[-3000:]
    assert all(status == "success" for status, _ in registry(home, third_slate).values())
    assert "Nothing needs attention" in needs_attention(home, third_slate)
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    graded = con.execute("SELECT count(DISTINCT g.slate_date) FROM fact_prop_outcomes o "
                         "JOIN dim_games g USING (game_id)").fetchall()[0][0]
    con.close()
    assert graded == 2  # both earlier slates, once the boxscores were final
    assert_no_secret_anywhere(home, consoles)


# ---- a postponed game ----------------------------------------------------------------------

def postpone(emu: Emulator, game_id: int) -> None:
    """api-web postpones the game: FUT / PPD in the schedule and in its boxscore."""
    for route in ("nhl_schedule", "nhl_boxscore"):
        emu.set_fault(route, "postponed", count=None, game_id=game_id)


def priced_rows(candidates) -> list[tuple]:  # type: ignore[no-untyped-def]
    columns = ["game_id", "player_id", "source_vendor", "book_id_vendor", "market_type", "line",
               "side", "odds_decimal", "p_price", "ev", "is_eligible", "exclusion_reason"]
    frame = candidates[columns].astype(object).where(candidates[columns].notna(), None)
    return sorted(map(tuple, frame.itertuples(index=False)), key=repr)


def truth_postponed(emu: Emulator, slate: date) -> set[int]:
    games = requests.get(f"{emu.base_url}/_emulator/truth/games?date={slate}",
                         timeout=10).json()["games"]
    return {g["game_id"] for g in games if g["postponed"]}


@pytest.mark.timeout(600)
def test_a_postponed_game_is_not_priced_and_its_bets_are_void(
        faulty: Emulator, next_day_template: Path, tmp_path: Path) -> None:
    """Game A of 2025-12-01 was priced that morning (bets made), then postponed; game B of
    2025-12-02 is postponed before its morning run. api-web says both FUT / PPD; the vendors
    still list B's props. Production and EV price every other game exactly as they would
    have, and say what they left out; outcomes grade A's bets VOID, so neither that morning
    nor the next reads partial or leaves a bet pending."""
    # the same morning without B's postponement: what the other games are priced at
    baseline_settings = settings_for(faulty, home_from(next_day_template, tmp_path / "base"))
    base = db.connect(baseline_settings.paths.db_path)
    by_game = rows(base, "SELECT game_id, count(*) FILTER (WHERE is_eligible), count(*) "
                         "FROM fact_ev_candidates WHERE run_id = 'day1' AND game_id IS NOT NULL "
                         "AND player_id IS NOT NULL GROUP BY ALL ORDER BY 2 DESC, 1")
    game_a, a_eligible, a_bets = by_game[0]
    assert a_eligible > 0, "the case needs bets made on the game before its postponement"
    today = sorted(slate_games(faulty, NEXT_SLATE))
    game_b = today[0]
    faulty.set_clock(NEXT_MORNING)
    postpone(faulty, game_a)
    run_step("production", base, baseline_settings, Slate(NEXT_SLATE, NEXT_MORNING), "base")
    baseline = run_step("ev", base, baseline_settings, Slate(NEXT_SLATE, NEXT_MORNING), "base")
    base.close()
    assert game_b in set(baseline.candidates["game_id"])

    settings, con, yesterday = nhl_case(faulty, next_day_template, tmp_path)
    postpone(faulty, game_b)
    assert truth_postponed(faulty, WARM_SLATE) == {game_a}
    assert truth_postponed(faulty, NEXT_SLATE) == {game_b}

    # production: B is on the schedule, mapped, and not priced; A is not waited for
    production = run_step("production", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "case")
    assert production.status == "success", production.summary()
    assert "1 game postponed: not priced" in production.summary()
    assert set(production.refresh.loaded_game_ids) == yesterday - {game_a}
    assert set(production.snapshot.rows["game_id"]) == set(today) - {game_b}
    assert rows(con, "SELECT state, schedule_state FROM dim_scheduled_games WHERE game_id = ?",
                [game_b]) == [("FUT", "PPD")]

    # EV: no row on B, every other row as without the postponement
    ev = run_step("ev", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "case")
    assert ev.status == "success", ev.summary()
    assert "1 game postponed: not priced" in ev.summary()
    assert game_b not in set(ev.candidates["game_id"])
    assert scalar(con, "SELECT count(*) FROM fact_ev_candidates WHERE run_id = 'case' AND "
                       "game_id = ?", [game_b]) == 0
    others = baseline.candidates[baseline.candidates["game_id"] != game_b]
    assert priced_rows(ev.candidates) == priced_rows(others)
    assert ev.eligible["game_id"].nunique() > 1

    # outcomes: A's bets VOID, the rest of the slate graded, nothing pending
    outcomes = run_step("outcomes", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "case")
    assert outcomes.status == "success", outcomes.summary()
    assert outcomes.pending_bets == 0 and "postponed" in outcomes.summary()
    assert rows(con, "SELECT result, count(*), sum(profit_units) FROM fact_bet_results "
                     "WHERE game_id = ? GROUP BY ALL", [game_a]) == [("VOID", a_bets, 0.0)]
    graded = rows(con, "SELECT DISTINCT result FROM fact_bet_results WHERE game_id <> ?",
                  [game_a])
    assert {"WIN", "LOSS"} <= {r for (r,) in graded}
    assert scalar(con, "SELECT count(*) FROM fact_prop_outcomes WHERE game_id = ?",
                  [game_a]) == 0
    diagnostics = run_step("diagnostics", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "case")
    assert diagnostics.added["fact_odds_coverage_daily"] > 0
    assert_no_duplicates(con)

    # the next morning, both games still postponed: nothing pending, no partial
    later = NEXT_MORNING + timedelta(days=1)
    faulty.set_clock(later)
    again = run_step("outcomes", con, settings, Slate(NEXT_SLATE + timedelta(days=1), later), "next")
    assert again.status == "success", again.summary()
    assert again.pending_bets == 0
    assert rows(con, "SELECT DISTINCT result FROM fact_bet_results WHERE game_id = ?",
                [game_a]) == [("VOID",)]
    assert_no_duplicates(con)
    con.close()


# ---- an absurd price (issue 24) -------------------------------------------------------------
# Ten Unabated GOALS overs served at americanPrice 100000 (DraftKings' main price of the
# first ten GOALS props). In the report six became bets and the one that won 1,000
# units turned the next day's ROI from about +16 % into +59.7 %; on this world, without the
# price gates, seven became bets.

def absurd_price_day(emu: Emulator, template: Path, home: Path, fault: bool
                     ) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame, pd.DataFrame]:
    """The 2025-12-01 morning on a copy of the warm home (capture, with the fault when
    `fault`, then production and EV) and the next morning's production, outcomes and
    diagnostics: the open database, that slate's EV candidates and the next day's graded-bets
    summary (daily report) of 2025-12-01."""
    shutil.copytree(template, home)
    settings = settings_for(emu, home)
    con = db.connect(settings.paths.db_path)
    emu.set_clock(CASE_TIME)
    if fault:
        emu.set_fault("unabated", "absurd_price", count=None)
    reports = capture(con, settings, CASE_TIME, run_id="day1")
    emu.clear_faults()
    assert all(r.status == "success" for r in reports), reports
    run_step("production", con, settings, Slate(WARM_SLATE, CASE_TIME), "day1")
    candidates = run_step("ev", con, settings, Slate(WARM_SLATE, CASE_TIME), "day1").candidates
    emu.set_clock(NEXT_MORNING)
    run_step("production", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "day2")
    assert run_step("outcomes", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "day2").status == "success"
    run_step("diagnostics", con, settings, Slate(NEXT_SLATE, NEXT_MORNING), "day2")
    assert evidence_daily.last_graded_slate(con, NEXT_SLATE) == WARM_SLATE
    return con, candidates, evidence_daily.graded_bets(con, WARM_SLATE).set_index("market")


@pytest.mark.timeout(600)
def test_an_absurd_price_is_gated_and_the_next_days_roi_does_not_move(
        faulty: Emulator, warm_world: tuple[Emulator, Path], tmp_path: Path) -> None:
    clean_con, clean, clean_roi = absurd_price_day(faulty, warm_world[1], tmp_path / "clean",
                                                   fault=False)
    con, absurd_day, roi = absurd_price_day(faulty, warm_world[1], tmp_path / "absurd",
                                            fault=True)

    # the ten prices landed as Unabated sent them (a quote, not a parse error)...
    assert scalar(con, "SELECT count(*) FROM fact_prop_odds WHERE source_vendor = 'UNABATED' "
                       "AND capture_ts_utc = ? AND odds_american = 100000", [CASE_TIME]) == 10
    # ... and none is a bet: each is gated, saying which price and why, unless it fails a
    # gate before the price gates (e.g. a player the snapshot does not price), as the clean
    # day's price of the same prop and book did
    key = ["source_vendor", "book_id_vendor", "book_name", "event_id_vendor",
           "player_key_vendor", "market_type", "line", "side"]
    absurd = absurd_day[absurd_day["odds_american"] == 100000].merge(
        clean[[*key, "exclusion_reason", "is_eligible"]], on=key, suffixes=("", "_clean"))
    assert len(absurd) == 10 and set(absurd["market_type"]) == {"GOALS"}
    assert not absurd["is_eligible"].any()
    gates = [code for code, _ in GATES]
    earlier = set(gates[:gates.index("absurd_price")])
    before_price_gates = absurd["exclusion_reason_clean"].isin(earlier)
    assert (absurd.loc[before_price_gates, "exclusion_reason"]
            == absurd.loc[before_price_gates, "exclusion_reason_clean"]).all()
    gated = absurd.loc[~before_price_gates, "exclusion_reason"]
    assert len(gated) >= 5 and all(
        reason.startswith("absurd_price: price +100000 ") and "cap +5000" in reason
        for reason in gated), set(absurd["exclusion_reason"])
    assert scalar(con, "SELECT count(*) FROM fact_bet_results WHERE is_eligible AND "
                       "odds_decimal > 1000") == 0

    # every other row, of the other vendors and of Unabated, is priced as on the clean day
    priced = ["odds_decimal", "p_consensus", "p_price", "ev", "is_eligible", "exclusion_reason"]
    both = absurd_day[absurd_day["odds_american"] != 100000].merge(
        clean, on=key, how="outer", suffixes=("", "_clean"), indicator=True)
    touched = both["_merge"] == "right_only"  # the clean day's own prices of those ten
    assert touched.sum() == 10 and (both["_merge"] != "left_only").all()
    same = both[~touched]
    for column in priced:
        mine, theirs = same[column], same[f"{column}_clean"]
        differ = ~((mine == theirs) | (mine.isna() & theirs.isna()))
        assert not differ.any(), (column, same.loc[differ, [*key, column]].head())

    # the next day's summary: the clean day's bets, so its ROI, in total and for GOALS (the
    # ten clean prices that were replaced were no bets on the clean day either); before the
    # gates, seven absurd bets joined them
    assert not absurd["is_eligible_clean"].any()
    assert len(roi) == len(clean_roi) > 1
    for market in ("all", "GOALS"):
        assert roi.at[market, "bets"] == clean_roi.at[market, "bets"] > 0, market
        assert roi.at[market, "roi"] == pytest.approx(clean_roi.at[market, "roi"],
                                                      rel=1e-12, abs=1e-12), market
    con.close()
    clean_con.close()
