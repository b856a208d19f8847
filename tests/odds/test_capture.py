"""Odds ingestion end to end against the demo emulator over loopback: fetch, raw store,
parse, DuckDB, fault isolation. Real HTTP, real files, a real DuckDB file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import requests

from helpers.core import db, rawstore
from helpers.core.errors import VendorError
from helpers.core.settings import Settings, load_settings
from helpers.demo.server import Emulator
from helpers.odds import capture as ingest
from helpers.odds import report as odds_report

pytestmark = pytest.mark.slow  # the loopback emulator, real HTTP

MORNING = datetime(2025, 12, 1, 15, 0)  # 10:00 ET: the day's games are all pre-game
UNABATED_FIXTURE = (Path(__file__).parents[1] / "fixtures" / "unabated"
                    / "propodds_trimmed_DAL_at_CAR.json")


EMULATOR_CLOCK = MORNING  # conftest's `emulator` starts at it


@pytest.fixture
def clean_faults(emulator: Emulator) -> Iterator[Emulator]:
    requests.delete(f"{emulator.base_url}/_emulator/faults", timeout=5)
    emulator.set_clock(MORNING)
    yield emulator
    requests.delete(f"{emulator.base_url}/_emulator/faults", timeout=5)


def settings_for(emulator: Emulator, home: Path, **env: str) -> Settings:
    base = {"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0", "HTTP_READ_TIMEOUT_SECONDS": "5",
            **{f"{v}_BASE_URL": emulator.base_url
               for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}}
    base.update(env)
    return load_settings(base)


def set_fault(emulator: Emulator, **fault: object) -> None:
    response = requests.post(f"{emulator.base_url}/_emulator/faults", json=fault, timeout=5)
    response.raise_for_status()


def run_capture(settings: Settings, at: datetime = MORNING,
                run_id: str = "test-run") -> tuple[list[ingest.VendorReport], duckdb.DuckDBPyConnection]:
    con = db.connect(settings.paths.db_path)
    reports = ingest.capture(con, settings, at, run_id=run_id)
    return reports, con


def by_vendor(reports: list[ingest.VendorReport]) -> dict[str, ingest.VendorReport]:
    return {r.vendor: r for r in reports}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> object:
    return con.execute(sql, params or []).fetchall()[0][0]


def test_full_capture_lands_for_all_vendors_and_rerun_adds_nothing(
        clean_faults: Emulator, tmp_path: Path) -> None:
    settings = settings_for(clean_faults, tmp_path)
    reports, con = run_capture(settings)
    got = by_vendor(reports)
    assert set(got) == {"PLAYNOW", "UNABATED", "ODDSSHARK"}
    for vendor, report in got.items():
        assert report.status == "success", (vendor, report.error)
        assert report.rows_inserted > 0, vendor
        stored = scalar(con, "SELECT count(*) FROM fact_prop_odds WHERE source_vendor = ?",
                        [vendor])
        assert stored == report.rows_inserted
    # Every stored row traces back to a saved raw payload whose bytes match its hash.
    paths = con.execute("SELECT DISTINCT raw_payload_path, raw_payload_hash "
                        "FROM fact_prop_odds").fetchall()
    for path, digest in paths:
        assert rawstore.sha256_hex((tmp_path / path).read_bytes()) == digest
        assert rawstore.verify_payload(tmp_path / path)
    # The canonical columns hold canonical values.
    assert {r[0] for r in con.execute("SELECT DISTINCT side FROM fact_prop_odds").fetchall()} \
        == {"OVER", "UNDER"}
    assert scalar(con, "SELECT count(*) FROM fact_prop_odds WHERE odds_decimal <= 1") == 0
    assert scalar(con, "SELECT count(*) FROM dim_books WHERE source_vendor = 'UNABATED'") > 3
    total = scalar(con, "SELECT count(*) FROM fact_prop_odds")

    again = by_vendor(ingest.capture(con, settings, MORNING, run_id="rerun"))
    assert all(r.rows_inserted == 0 for r in again.values())
    assert all(p.status == "duplicate" for r in again.values() for p in r.payloads)
    assert scalar(con, "SELECT count(*) FROM fact_prop_odds") == total
    assert scalar(con, "SELECT min(times_seen) FROM raw_payloads") == 2
    con.close()


def test_lines_move_between_captures(clean_faults: Emulator, tmp_path: Path) -> None:
    settings = settings_for(clean_faults, tmp_path)
    _, con = run_capture(settings)
    later = datetime(2025, 12, 1, 21, 0)
    clean_faults.set_clock(later)
    reports = ingest.capture(con, settings, later, run_id="pregame")
    assert all(r.status == "success" for r in reports)
    captures = scalar(con, "SELECT count(DISTINCT capture_ts_utc) FROM fact_prop_odds "
                           "WHERE source_vendor = 'UNABATED'")
    assert captures == 2
    # dim_markets holds each vendor's market kinds once, however many captures: PlayNow's
    # per-event market ids stay on the rows and do not leak into the dimension.
    kinds = dict(con.execute("SELECT vendor_market_id, market_type FROM dim_markets "
                             "WHERE source_vendor = 'PLAYNOW'").fetchall())
    assert kinds == {"total points": "POINTS", "total assists": "ASSISTS",
                     "total shots on goal": "SOG", "total blocks": "BLOCKS",
                     "player 1+ goals": "GOALS"}
    assert scalar(con, "SELECT count(DISTINCT vendor_market_id) FROM fact_prop_odds "
                       "WHERE source_vendor = 'PLAYNOW'") > 2 * len(kinds)
    assert scalar(con, "SELECT count(*) FROM dim_markets WHERE source_vendor = 'UNABATED'") \
        == scalar(con, "SELECT count(DISTINCT vendor_market_id) FROM fact_prop_odds "
                       "WHERE source_vendor = 'UNABATED'") == 5
    assert scalar(con, "SELECT min(last_seen_ts_utc) FROM dim_markets") == later
    con.close()


def test_forced_failure_isolates_one_vendor(clean_faults: Emulator, tmp_path: Path) -> None:
    settings = settings_for(clean_faults, tmp_path, FORCE_VENDOR_FAILURE="ODDSSHARK")
    reports, con = run_capture(settings)
    got = by_vendor(reports)
    assert got["ODDSSHARK"].status == "failed" and "forced failure" in got["ODDSSHARK"].error
    assert got["PLAYNOW"].status == got["UNABATED"].status == "success"
    log = con.execute("SELECT attempt, status_code, error FROM fact_vendor_fetch_log "
                      "WHERE vendor = 'ODDSSHARK' ORDER BY attempt").fetchall()
    assert [r[0] for r in log] == [1, 2, 3]
    assert all(r[1] is None and "forced failure" in r[2] for r in log)
    assert scalar(con, "SELECT count(*) FROM fact_prop_odds WHERE source_vendor='ODDSSHARK'") == 0
    assert odds_report.step_outcome(reports)[0] == "partial"
    con.close()


ROUTES = {"UNABATED": ["unabated"], "PLAYNOW": ["playnow_event_list", "playnow_events"],
          "ODDSSHARK": ["oddsshark"]}
FAILING_FAULTS = {
    "status": {"kind": "status", "status": 503},
    "drop": {"kind": "drop"},
    "malformed": {"kind": "malformed"},
    "truncated": {"kind": "truncated"},
    "empty": {"kind": "empty"},
    "latency_past_timeout": {"kind": "latency", "latency_ms": 2500},
}


@pytest.mark.parametrize("fault", sorted(FAILING_FAULTS))
@pytest.mark.parametrize("route", [r for routes in ROUTES.values() for r in routes])
def test_each_fault_fails_only_its_vendor(clean_faults: Emulator, tmp_path: Path,
                                          route: str, fault: str) -> None:
    vendor = next(v for v, routes in ROUTES.items() if route in routes)
    set_fault(clean_faults, route=route, count=None, **FAILING_FAULTS[fault])
    settings = settings_for(clean_faults, tmp_path, HTTP_READ_TIMEOUT_SECONDS="1")
    reports, con = run_capture(settings)
    got = by_vendor(reports)
    assert got[vendor].status == "failed", got[vendor]
    for other, report in got.items():
        if other != vendor:
            assert report.status == "success", (other, report.error)
            assert report.rows_inserted > 0
    attempts = con.execute("SELECT attempt, status_code, error FROM fact_vendor_fetch_log "
                           "WHERE vendor = ? ORDER BY request_ts_utc", [vendor]).fetchall()
    if fault in ("status", "drop", "latency_past_timeout"):
        # Transport-level failures are retried up to 3 attempts and each is logged.
        failing = [a for a in attempts if a[2] is not None]
        assert len(failing) == 3
        if fault == "status":
            assert all(a[1] == 503 for a in failing)
    else:
        # A 200 with a broken body: saved raw, registered with its parse error, no rows.
        errors = con.execute("SELECT parse_error FROM raw_payloads WHERE vendor = ? "
                             "AND parse_error IS NOT NULL", [vendor]).fetchall()
        assert len(errors) == 1 and "SchemaDriftError" in errors[0][0]
    assert odds_report.step_outcome(reports)[0] == "partial"
    con.close()


def test_rate_limit_is_retried_after_retry_after(clean_faults: Emulator, tmp_path: Path) -> None:
    set_fault(clean_faults, route="unabated", kind="rate_limit", retry_after=1, count=1)
    reports, con = run_capture(settings_for(clean_faults, tmp_path))
    assert by_vendor(reports)["UNABATED"].status == "success"
    log = con.execute("SELECT attempt, status_code FROM fact_vendor_fetch_log "
                      "WHERE vendor = 'UNABATED' ORDER BY attempt").fetchall()
    assert log == [(1, 429), (2, 200)]
    assert by_vendor(reports)["UNABATED"].retries == 1
    con.close()


def test_renamed_key_drift_fails_the_vendor(clean_faults: Emulator, tmp_path: Path) -> None:
    set_fault(clean_faults, route="unabated", kind="schema_drift", drift="renamed_key")
    reports, con = run_capture(settings_for(clean_faults, tmp_path))
    report = by_vendor(reports)["UNABATED"]
    assert report.status == "failed" and "SchemaDriftError" in report.error
    con.close()


@pytest.mark.parametrize(("route", "drift", "reason"), [
    ("unabated", "unknown_bet_type", "unknown_market"),
    ("oddsshark", "extra_tab", None),
])
def test_tolerated_drift_is_counted_not_silent(clean_faults: Emulator, tmp_path: Path,
                                               route: str, drift: str, reason: str | None) -> None:
    set_fault(clean_faults, route=route, kind="schema_drift", drift=drift)
    reports, con = run_capture(settings_for(clean_faults, tmp_path))
    vendor = "UNABATED" if route == "unabated" else "ODDSSHARK"
    report = by_vendor(reports)[vendor]
    stored = dict(con.execute("SELECT reason, sum(n_rejected) FROM fact_rejected_odds "
                              "WHERE source_vendor = ? GROUP BY reason", [vendor]).fetchall())
    if reason is not None:
        assert stored.get(reason, 0) > 0, stored
    else:
        drift_reasons = {"extra_tab", "tab_container_mismatch", "unknown_market"}
        assert drift_reasons & set(stored), stored
    assert report.rows_inserted > 0  # the rest of the page still landed
    con.close()


def test_driver_records_partial_when_one_vendor_fails(clean_faults: Emulator, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    set_fault(clean_faults, route="unabated", kind="status", status=503)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUN_", "FORCE_"))}
    env.update({"OPS_HOME": str(tmp_path), "HTTP_BACKOFF_SECONDS": "0",
                **{f"{v}_BASE_URL": clean_faults.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})
    proc = subprocess.run([sys.executable, "-m", "runner", "daily", "--run-odds-ingestion",
                           "--as-of", "2025-12-01T15:00:00Z"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 3, proc.stderr
    con = duckdb.connect(str(tmp_path / "data" / "ops.duckdb"), read_only=True)
    status, summary = con.execute("SELECT status, error_summary FROM fact_run_registry "
                                  "WHERE step = 'odds_ingestion'").fetchall()[0]
    assert status == "partial" and "UNABATED" in summary and "503" in summary
    assert scalar(con, "SELECT count(DISTINCT source_vendor) FROM fact_prop_odds") == 2
    con.close()



# ---- the vendor's clock against the run's as-of ---------------------------------------------

def raw_files(home: Path) -> list[str]:
    raw = home / "outputs" / "odds" / "raw"
    return sorted(str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file())


def test_a_capture_under_a_past_as_of_is_refused_and_files_nothing(
        clean_faults: Emulator, tmp_path: Path) -> None:
    """The vendors serve their present board; a run whose as-of is a year earlier must not
    file it under that past time: nothing saved, parsed or inserted, and the error says
    where past boards come from."""
    settings = settings_for(clean_faults, tmp_path)
    first, con = run_capture(settings)
    assert all(r.status == "success" for r in first)
    files = raw_files(tmp_path)
    odds = con.execute("SELECT count(*), max(capture_ts_utc) FROM fact_prop_odds").fetchall()
    payloads = scalar(con, "SELECT count(*) FROM raw_payloads")

    present = datetime(2025, 12, 1, 21, 0)  # a later board than the morning's: new bytes
    clean_faults.set_clock(present)
    past = present - timedelta(days=366)
    reports = by_vendor(ingest.capture(con, settings, past, run_id="past"))
    for vendor, report in reports.items():
        assert report.status == "failed" and report.payloads == [], vendor
        assert report.error.startswith(f"{vendor} "), report.error
        assert ("the vendor's clock (Date 2025-12-01 21:00:00Z) is 366 days after this run's "
                "as-of 2024-11-30T21:00:00Z") in report.error
        assert report.error.endswith("python -m runner backfill-unabated"), report.error
        assert "CAPTURE_MAX_CLOCK_SKEW_SECONDS" not in report.error  # no tolerance to tune
        assert "\n" not in report.error
    with pytest.raises(VendorError, match=r"every vendor failed.*backfill-unabated"):
        odds_report.step_outcome(list(reports.values()))
    assert raw_files(tmp_path) == files
    assert scalar(con, "SELECT count(*) FROM raw_payloads") == payloads
    assert con.execute("SELECT count(*), max(capture_ts_utc) FROM fact_prop_odds"
                       ).fetchall() == odds
    assert scalar(con, "SELECT count(*) FROM fact_rejected_odds WHERE run_id = 'past'") == 0
    # One request per vendor, logged with its refusal: not retried, and PlayNow asks for no
    # events once its listing is refused.
    log = con.execute("SELECT vendor, endpoint, status_code, error FROM fact_vendor_fetch_log "
                      "WHERE run_id = 'past' ORDER BY vendor").fetchall()
    assert [(v, e, c) for v, e, c, _ in log] == [
        ("ODDSSHARK", "player_props", 200), ("PLAYNOW", "event_list", 200),
        ("UNABATED", "propodds", 200)]
    assert all("backfill-unabated" in error for *_, error in log)
    con.close()


def test_one_vendor_with_a_far_clock_fails_alone_and_a_near_clock_captures(
        clean_faults: Emulator, tmp_path: Path) -> None:
    """UNABATED is served by a second emulator whose clock is a year ahead; the others'
    clock is 10 minutes before the as-of: within the default tolerance, beyond 300 s."""
    as_of = MORNING + timedelta(minutes=10)
    with Emulator(now=(as_of + timedelta(days=366)).replace(tzinfo=UTC)) as ahead:
        strict = settings_for(clean_faults, tmp_path, UNABATED_BASE_URL=ahead.base_url,
                              CAPTURE_MAX_CLOCK_SKEW_SECONDS="300")
        refused, con = run_capture(strict, at=as_of, run_id="strict")
        assert all(r.status == "failed" for r in refused)
        near = by_vendor(refused)["PLAYNOW"].error
        assert "is 10 minutes before this run's as-of 2025-12-01T15:10:00Z" in near
        assert "(more than CAPTURE_MAX_CLOCK_SKEW_SECONDS=300)" in near and "future time" in near
        assert near.endswith("capture now: run without --as-of"), near
        assert raw_files(tmp_path) == []

        default = settings_for(clean_faults, tmp_path, UNABATED_BASE_URL=ahead.base_url)
        reports = by_vendor(ingest.capture(con, default, as_of, run_id="default"))
    assert reports["PLAYNOW"].status == reports["ODDSSHARK"].status == "success"
    assert reports["PLAYNOW"].rows_inserted > 0 and reports["ODDSSHARK"].rows_inserted > 0
    assert "366 days after" in reports["UNABATED"].error
    status, summary = odds_report.step_outcome(list(reports.values()))
    assert status == "partial" and "UNABATED" in summary and "backfill-unabated" in summary
    assert {r[0] for r in con.execute("SELECT DISTINCT capture_ts_utc FROM fact_prop_odds"
                                      ).fetchall()} == {as_of}
    assert not any(name.startswith("UNABATED") for name in raw_files(tmp_path))
    assert scalar(con, "SELECT count(*) FROM raw_payloads WHERE vendor = 'UNABATED'") == 0
    con.close()


def test_the_tolerance_is_inclusive_and_the_span_is_in_whole_units() -> None:
    as_of = datetime(2025, 12, 2, 15, 0)
    assert ingest.clock_refusal("U p", as_of + timedelta(seconds=900), as_of, 900) is None
    assert ingest.clock_refusal("U p", as_of - timedelta(seconds=900), as_of, 900) is None
    late = ingest.clock_refusal("U p", as_of + timedelta(seconds=901), as_of, 900)
    assert late is not None and "is 15 minutes after this run's as-of 2025-12-02T15:00:00Z" \
        in late
    early = ingest.clock_refusal("U p", as_of - timedelta(hours=1, minutes=59), as_of, 900)
    assert early is not None and "is 1 hour before" in early
    year = ingest.clock_refusal("U p", datetime(2026, 12, 4, 16, 20, 5), as_of, 900)
    assert year == ("U p: the vendor's clock (Date 2026-12-04 16:20:05Z) is 367 days after "
                    "this run's as-of 2025-12-02T15:00:00Z: a capture is always of the present "
                    "board, never of a past time; past boards: python -m runner "
                    "backfill-unabated")


class _UndatedHandler(BaseHTTPRequestHandler):
    """A server that sends no Date header (some do): Unabated's fixture board."""

    def do_GET(self) -> None:
        body = UNABATED_FIXTURE.read_bytes()
        self.send_response_only(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        pass


def test_a_response_without_a_date_is_captured_with_a_note(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _UndatedHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        settings = load_settings({"OPS_HOME": str(tmp_path), "VENDORS": "UNABATED",
                                  "UNABATED_BASE_URL": f"http://127.0.0.1:{server.server_port}"})
        (report,), con = run_capture(settings, at=datetime(2020, 1, 1, 12, 0))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert report.status == "success" and report.rows_inserted > 0, report.error
    assert report.note is not None and "no readable Date header on propodds" in report.note
    assert odds_report.summarize([report])["note"].tolist() == [report.note]
    assert con.execute("SELECT status_code, error FROM fact_vendor_fetch_log").fetchall() == [
        (200, None)]  # an accepted response is not an error the reports would count
    con.close()


def test_the_driver_fails_a_past_as_of_ingestion_and_names_the_backfill(
        clean_faults: Emulator, tmp_path: Path) -> None:
    """The reported defect: vendors serving the present, `daily --date D --as-of <D 15:00>`
    a year back stored today's prices as a capture of D."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUN_", "FORCE_", "OPS_", "CAPTURE_"))}
    env.update({"OPS_HOME": str(tmp_path), "HTTP_BACKOFF_SECONDS": "0",
                **{f"{v}_BASE_URL": clean_faults.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})
    proc = subprocess.run([sys.executable, "-m", "runner", "daily", "--run-odds-ingestion",
                           "--date", "2024-11-30", "--as-of", "2024-11-30T15:00:00Z"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, proc.stderr
    con = duckdb.connect(str(tmp_path / "data" / "ops.duckdb"), read_only=True)
    status, summary = con.execute("SELECT status, error_summary FROM fact_run_registry "
                                  "WHERE step = 'odds_ingestion'").fetchall()[0]
    assert status == "failed" and "every vendor failed" in summary
    assert "366 days after this run's as-of 2024-11-30T15:00:00Z" in summary
    assert "backfill-unabated" in summary
    assert scalar(con, "SELECT count(*) FROM fact_prop_odds") == 0
    assert scalar(con, "SELECT count(*) FROM raw_payloads") == 0
    con.close()
    assert raw_files(tmp_path) == []


def test_raw_write_failure_lands_nothing(tmp_path: Path) -> None:
    """The raw file is written while the parser runs; when the write fails, nothing of the
    payload reaches the database (raw first) and the error propagates."""
    from helpers.odds.vendors import unabated
    from helpers.odds.vendors.base import Fetched

    settings = load_settings({"OPS_HOME": str(tmp_path)})
    body = (Path(__file__).parents[1] / "fixtures/unabated/propodds_trimmed_DAL_at_CAR.json"
            ).read_bytes()
    settings.paths.raw_dir.mkdir(parents=True)
    (settings.paths.raw_dir / "UNABATED").write_text("a file where the vendor folder should be")
    con = db.connect(settings.paths.db_path)
    with pytest.raises(OSError):
        ingest.load_payload(con, settings, unabated, Fetched("propodds", body, "json"),
                            MORNING, "run")
    for table in ("fact_prop_odds", "raw_payloads", "fact_rejected_odds", "dim_books"):
        assert scalar(con, f"SELECT count(*) FROM {table}") == 0, table
    # With the folder fixed, the same payload loads.
    (settings.paths.raw_dir / "UNABATED").unlink()
    outcome = ingest.load_payload(con, settings, unabated, Fetched("propodds", body, "json"),
                                  MORNING, "run")
    assert outcome.status == "loaded" and outcome.rows_inserted > 0
    assert rawstore.verify_payload(tmp_path / outcome.path)
    con.close()


@pytest.mark.parametrize("kind", ["empty", "malformed"])
def test_a_bad_payload_seen_again_fails_its_vendor_again(clean_faults: Emulator, tmp_path: Path,
                                                          kind: str) -> None:
    set_fault(clean_faults, route="unabated", kind=kind)
    settings = settings_for(clean_faults, tmp_path)
    first, con = run_capture(settings)
    assert by_vendor(first)["UNABATED"].status == "failed"
    later = datetime(2025, 12, 1, 23, 30)
    clean_faults.set_clock(later)
    again = by_vendor(ingest.capture(con, settings, later, run_id="second"))
    assert again["UNABATED"].status == "failed", again["UNABATED"]
    assert "failed to parse before" in again["UNABATED"].error
    assert "renormalize" in again["UNABATED"].error
    assert odds_report.step_outcome(list(again.values()))[0] == "partial"
    seen = con.execute("SELECT times_seen, load_state FROM raw_payloads "
                       "WHERE vendor = 'UNABATED'").fetchall()
    assert seen == [(2, "parse_failed")]
    con.close()


def test_identical_empty_bodies_from_every_vendor_fail_every_vendor(
        clean_faults: Emulator, tmp_path: Path) -> None:
    set_fault(clean_faults, route="*", kind="empty")
    reports, con = run_capture(settings_for(clean_faults, tmp_path))
    assert all(r.status == "failed" for r in reports), odds_report.summarize(reports)
    with pytest.raises(VendorError, match="every vendor failed"):
        odds_report.step_outcome(reports)
    # one payload per vendor: the hash dedup is per vendor and kind
    per_vendor = dict(con.execute("SELECT vendor, count(*) FROM raw_payloads "
                                  "GROUP BY vendor").fetchall())
    assert per_vendor == {"PLAYNOW": 1, "UNABATED": 1, "ODDSSHARK": 1}
    assert scalar(con, "SELECT count(DISTINCT payload_hash) FROM raw_payloads") == 1
    con.close()


_DIE_DURING_CAPTURE = """
import os, sys, time
from datetime import datetime
from pathlib import Path
from helpers.core import db, rawstore
from helpers.odds import capture as ingest
from helpers.odds import report as odds_report
from helpers.core.settings import load_settings
from helpers.odds.vendors import unabated

moment = sys.argv[1]
if moment == "before_raw_write":
    rawstore.write_planned = lambda planned, body: os._exit(9)
else:  # after the raw file is complete, while the parser runs
    def parse(raw):
        path = Path(os.environ["OPS_HOME"]) / raw.path
        sidecar = path.with_name(path.name + ".sha256")  # written last, atomically
        while not (sidecar.exists() and rawstore.verify_payload(path)):
            time.sleep(0.01)
        os._exit(9)
    unabated.parse = parse
settings = load_settings()
con = db.connect(settings.paths.db_path)
ingest.capture(con, settings, datetime(2025, 12, 1, 15, 0), run_id="killed",
               vendors=["UNABATED"])
"""


@pytest.mark.parametrize("moment", ["before_raw_write", "after_raw_write"])
def test_a_capture_killed_mid_payload_loses_no_request_and_is_finished_next_time(
        clean_faults: Emulator, tmp_path: Path, moment: str) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUN_", "FORCE_"))}
    env.update({"OPS_HOME": str(tmp_path), "UNABATED_BASE_URL": clean_faults.base_url})
    proc = subprocess.run([sys.executable, "-c", _DIE_DURING_CAPTURE, moment], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    con = db.connect(tmp_path / "data" / "ops.duckdb")
    # The request made just before the process died is in the fetch log.
    assert con.execute("SELECT run_id, status_code FROM fact_vendor_fetch_log").fetchall() == [
        ("killed", 200)]
    assert con.execute("SELECT load_state FROM raw_payloads").fetchall() == [("pending",)]
    assert scalar(con, "SELECT count(*) FROM fact_prop_odds") == 0
    con.close()

    # Next capture: the new board lands first; then the pending payload is finished (file
    # complete) or its registration is dropped and reported (file never written).
    settings = settings_for(clean_faults, tmp_path, VENDORS="UNABATED")
    clean_faults.set_clock(datetime(2025, 12, 1, 16, 0))
    reports, con = run_capture(settings, at=datetime(2025, 12, 1, 16, 0), run_id="next")
    report = reports[0]
    assert report.status == "success", report.error
    statuses = [p.status for p in report.payloads]
    if moment == "after_raw_write":
        assert statuses[-1] == "resumed" and report.payloads[-1].rows_inserted > 0
        assert scalar(con, "SELECT count(DISTINCT capture_ts_utc) FROM fact_prop_odds") == 2
    else:
        assert statuses[-1] == "abandoned" and "never completely written" in \
            report.payloads[-1].error
        assert scalar(con, "SELECT count(DISTINCT capture_ts_utc) FROM fact_prop_odds") == 1
    assert statuses[0] == "loaded"
    assert scalar(con, "SELECT count(*) FROM raw_payloads WHERE load_state = 'pending'") == 0
    con.close()


def test_a_payload_whose_parse_never_finishes_twice_is_quarantined_not_retried_forever(
        clean_faults: Emulator, tmp_path: Path) -> None:
    """The process dies inside the parser twice on the same board (what a page that wedges
    the parser in C code does, at the step's hard limit). The next capture lands the fresh
    board first, then sets the payload aside instead of parsing it a third time; the step
    reads partial and names it; renormalize parses it once the parser is fixed."""
    import os
    import subprocess
    import sys

    from helpers.odds import report as odds_report
    from helpers.odds.renormalize import renormalize

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUN_", "FORCE_"))}
    env.update({"OPS_HOME": str(tmp_path), "UNABATED_BASE_URL": clean_faults.base_url})
    clean_faults.set_clock(datetime(2025, 12, 1, 15, 0))
    for _ in range(2):  # the same board both times: the second run resumes the first's
        proc = subprocess.run([sys.executable, "-c", _DIE_DURING_CAPTURE, "after_raw_write"],
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 9, proc.stderr
    con = db.connect(tmp_path / "data" / "ops.duckdb")
    assert con.execute("SELECT load_state, parse_attempts FROM raw_payloads").fetchall() == [
        ("pending", 2)]
    con.close()

    settings = settings_for(clean_faults, tmp_path, VENDORS="UNABATED")
    clean_faults.set_clock(datetime(2025, 12, 1, 16, 0))
    reports, con = run_capture(settings, at=datetime(2025, 12, 1, 16, 0), run_id="next")
    (report,) = reports
    assert [p.status for p in report.payloads] == ["loaded", "quarantined"]
    assert report.status == "success" and report.payloads[0].rows_inserted > 0
    status, summary = odds_report.step_outcome(reports)
    assert status == "partial" and "quarantined" in summary
    assert report.quarantined[0].path in summary
    state = con.execute("SELECT load_state, parse_attempts, quarantined_ts_utc IS NOT NULL "
                        "FROM raw_payloads WHERE capture_ts_utc = '2025-12-01 15:00:00'"
                        ).fetchall()
    assert state == [("quarantined", 2, True)]
    assert (tmp_path / report.quarantined[0].path).exists()  # kept raw
    # the daily report names it under "Needs attention", with the command that repairs it
    from helpers.evidence import daily
    health = daily.vendor_health(con, date(2025, 12, 1))
    attention = daily.attention_markdown(
        pd.DataFrame(columns=["status"]), pd.DataFrame(), health, pd.DataFrame(),
        pd.DataFrame(columns=["error_type", "status"]))
    assert "1 UNABATED payload(s) quarantined" in attention
    assert report.quarantined[0].path in attention and "renormalize --vendor UNABATED" in attention

    # the next capture does not touch it again, and a re-sent copy is refused, not parsed
    clean_faults.set_clock(datetime(2025, 12, 1, 15, 0))
    reports = ingest.capture(con, settings, datetime(2025, 12, 1, 15, 0), run_id="again")
    assert reports[0].status == "failed" and "is quarantined" in reports[0].error
    assert con.execute("SELECT parse_attempts FROM raw_payloads WHERE load_state = "
                       "'quarantined'").fetchall() == [(2,)]

    # the parser (here never broken) parses it on request
    result = renormalize(con, settings, "UNABATED")
    assert result.parse_failures == 0
    assert con.execute("SELECT DISTINCT load_state FROM raw_payloads").fetchall() == [
        ("loaded",)]
    assert scalar(con, "SELECT count(DISTINCT capture_ts_utc) FROM fact_prop_odds") == 2
    con.close()
