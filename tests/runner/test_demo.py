"""`runner demo` and `runner emulator` as a user runs them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest
import requests

from helpers.evidence import glossary
from helpers.evidence.claims import CHART as CLAIMS_CHART
from helpers.evidence.pricing import CHART as BLEND_CHART
from helpers.evidence.rolling import CHARTS
from tests.runner.report_tables import md_tables, table_with
from tests.runner.secret_markers import SECRET_MARKERS, assert_no_secret_anywhere

# The ten-day demo takes minutes: its file runs on one xdist worker, handed out first.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500), pytest.mark.first]


START = date(2025, 10, 28)  # three weeks into the season: a short first stats refresh
DAYS = 10
OUTAGE = START + timedelta(days=7)    # PLAYNOW forced down in the morning run: 7 days of history
NORMAL = OUTAGE + timedelta(days=1)   # the day after: back to normal
ALL_DOWN = START + timedelta(days=9)  # every vendor forced down: ingestion fails completely
SLATES = [START + timedelta(days=k) for k in range(DAYS)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """One ten-day demo with two forced outages, shared by the tests of this module. Every
    secret variable is set to a marker (`test_no_secret_anywhere`)."""
    home = tmp_path_factory.mktemp("demo") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUN_", "FORCE_"))}
    env.update(SECRET_MARKERS)
    proc = subprocess.run([sys.executable, "-m", "runner", "demo", "--days", str(DAYS),
                           "--start-date", START.isoformat(), "--home", str(home),
                           "--fail-vendor", f"{OUTAGE}=PLAYNOW",
                           "--fail-vendor", f"{ALL_DOWN}=ALL"],
                          cwd=home.parent, env=env, capture_output=True, text=True,
                          timeout=1500)
    return home, proc


def test_demo_runs_the_daily_driver_day_by_day(demo) -> None:
    home, proc = demo
    # the forced total outage fails one run, so the demo says so with its exit code
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert f"Database {home / 'data' / 'ops.duckdb'}" in proc.stderr
    assert "vendor failure forced: PLAYNOW" in proc.stderr
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        runs = con.execute(
            "SELECT slate_date, as_of_ts_utc, status FROM fact_run_registry "
            "WHERE step = 'odds_ingestion' ORDER BY as_of_ts_utc").fetchall()
        expected = []
        for day in SLATES:
            morning = "partial" if day == OUTAGE else "failed" if day == ALL_DOWN else "success"
            expected += [(day, morning), (day, "success")]  # morning, then pre-game capture
        assert [(d, s) for d, _, s in runs] == expected
        edt = [(str(t)) for d, t, _ in runs[:2]]
        assert edt == ["2025-10-28 14:00:00", "2025-10-28 21:30:00"]  # 10:00 and 17:30 EDT
        for step in ("production", "ev", "outcomes", "diagnostics"):
            rows = con.execute("SELECT slate_date, status FROM fact_run_registry WHERE step = ? "
                               "ORDER BY as_of_ts_utc", [step]).fetchall()
            # the morning runs do the work; the pre-game captures skip the step
            assert rows == [r for day in SLATES for r in ((day, "success"), (day, "skipped"))], \
                step
        snapshots = con.execute("SELECT slate_date, count(*) FROM fact_prob_snapshot "
                                "GROUP BY 1 ORDER BY 1").fetchall()
        assert [d for d, _ in snapshots] == SLATES and all(n > 1000 for _, n in snapshots)
        # the demo runs the challenger beside production
        versions = {v for (v,) in con.execute(
            "SELECT DISTINCT model_version FROM fact_prob_snapshot").fetchall()}
        assert versions == {"p10-nhlapi", "eb-season"}
        # EV in the morning runs, against production only, with eligible bets
        ev = con.execute(
            "SELECT r.slate_date, count(c.run_id), sum(c.is_eligible::INT), "
            "count(DISTINCT c.snapshot_id) FROM fact_run_registry r JOIN "
            "fact_ev_candidates c USING (run_id) WHERE r.step = 'ev' GROUP BY ALL "
            "ORDER BY 1").fetchall()
        assert [d for d, *_ in ev] == SLATES
        for day, rows, eligible, ids in ev:
            # with every vendor down, the slate's lines are yesterday's: stale, none eligible
            assert rows > 1000 and ids == 1 and (eligible == 0 if day == ALL_DOWN
                                                 else eligible > 10), day
        assert {s for (s,) in con.execute("SELECT DISTINCT snapshot_id FROM "
                                          "fact_ev_candidates").fetchall()} <= {
            s for (s,) in con.execute("SELECT DISTINCT snapshot_id FROM fact_prob_snapshot "
                                      "WHERE model_version = 'p10-nhlapi'").fetchall()}
        # each morning grades the slates before it; the pre-game capture is the close
        graded = con.execute(
            "SELECT slate_date, count(*), count(closing_odds_decimal), "
            "count(*) FILTER (WHERE closing_capture_ts_utc::DATE = slate_date) "
            "FROM fact_bet_results GROUP BY 1 ORDER BY 1").fetchall()
        assert [d for d, *_ in graded] == SLATES[:-1]
        for _, n, closed, at_pregame in graded:
            assert n > 1000 and at_pregame > 0.9 * closed > 0
        per_vendor = dict(con.execute(
            "SELECT source_vendor, count(DISTINCT capture_ts_utc) FROM fact_prop_odds "
            "GROUP BY 1").fetchall())
        assert per_vendor == {"PLAYNOW": 2 * DAYS - 2, "UNABATED": 2 * DAYS - 1,
                              "ODDSSHARK": 2 * DAYS - 1}
    finally:
        con.close()
    runs_dir = home / "outputs" / "runs"
    assert len(list(runs_dir.glob("*/*/01_odds_ingest.ipynb"))) == 2 * DAYS
    production = sorted(runs_dir.glob("*/*/02_production_snapshot.ipynb"))
    assert len(production) == DAYS
    text = "\n".join(p.read_text() for p in production[:2])
    for needle in ("p10-nhlapi", "rate60", "m_goalie", "ODDSSHARK", "eb-season",
                   "mean_abs_rel_diff", "stats through 2025-10-2"):
        assert needle in text, needle
    for day in SLATES:
        assert (home / "outputs" / "ev" / f"best_bets_{day}.md").exists()
        assert (home / "outputs" / "ev" / f"ev_candidates_{day}.csv").exists()
        assert (runs_dir / str(day)).is_dir()


SECTIONS = ["## Needs attention", "## Runs", "## Vendor health", "## Coverage", "## Mapping",
            "## Snapshot", "## EV", "## Last graded slate", "## Anomaly checks",
            "## How this was made"]


def attention(text: str) -> str:
    return text.split("## Needs attention")[1].split("## Runs")[0]


def assert_clean_markdown(report: Path) -> list[str]:
    """No code, no HTML; every chart it links is a real PNG. Returns the links."""
    text = report.read_text()
    for leak in ("```", "<style", "<table", "<div", "<span", "import ", "show_table(", "In ["):
        assert leak not in text, f"{leak!r} leaked into {report.name}"
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    for link in links:
        image = report.parent / link
        assert image.exists() and image.stat().st_size > 1000, link
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", link
    return links


def test_ten_daily_reports_and_a_rolling_report_in_clean_markdown(demo) -> None:
    home, proc = demo
    monitoring = home / "outputs" / "monitoring"
    assert sorted(p.name for p in monitoring.glob("daily_report_*.md")) == [
        f"daily_report_{day}.md" for day in SLATES]
    assert f"rolling report {monitoring / 'rolling_report.md'}" in proc.stderr
    for day in SLATES:
        report = monitoring / f"daily_report_{day}.md"
        assert_clean_markdown(report)
        assert not (monitoring / f"daily_report_{day}_files").exists()  # it has no charts
        text = report.read_text()
        assert text.startswith(f"# Daily report {day}")
        positions = [text.index(s) for s in SECTIONS]
        assert positions == sorted(positions)
    links = assert_clean_markdown(monitoring / "rolling_report.md")
    assert sorted(Path(link).name for link in links) == sorted(
        f"{name}.png" for name, _ in [*CHARTS, CLAIMS_CHART, BLEND_CHART])
    assert all(link.startswith("rolling_report_files/") for link in links)
    rolling = (monitoring / "rolling_report.md").read_text()
    assert rolling.startswith(f"# Rolling report to {ALL_DOWN}")
    # the worst days link to their daily reports
    worst = table_with(rolling, "slate_date", "report")
    assert set(worst["slate_date"]) >= {str(ALL_DOWN)}
    for link in worst["report"]:
        target = re.search(r"\(([^)]+)\)", link).group(1)
        assert (monitoring / target).exists()


def test_every_column_of_every_rendered_report_table_is_defined_in_that_report(demo) -> None:
    home, _ = demo
    monitoring = home / "outputs" / "monitoring"
    reports = [*sorted(monitoring.glob("daily_report_*.md")), monitoring / "rolling_report.md"]
    assert len(reports) == DAYS + 1
    seen: set[str] = set()
    for report in reports:
        text = report.read_text()
        body, columns = text.split("\n## Columns\n")
        defined = dict(re.findall(r"^- \*\*([^*]+)\*\*: (.+)$", columns, flags=re.M))
        shown = {str(c) for table in md_tables(body) for c in table.columns}
        assert shown, report.name
        assert shown <= set(defined), f"{report.name}: {sorted(shown - set(defined))} undefined"
        assert glossary.UNDEFINED not in columns
        assert all(defined[c] == glossary.COLUMNS[c] for c in shown)
        seen |= shown
    # and no definition that no report shows (a renamed column leaves none behind)
    assert set(glossary.COLUMNS) == seen


def test_report_numbers_are_sql_over_the_evidence_tables(demo) -> None:
    home, _ = demo
    monitoring = home / "outputs" / "monitoring"
    text = (monitoring / f"daily_report_{NORMAL}.md").read_text()
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        run_id = con.execute(
            "SELECT arg_max(run_id, computed_ts_utc) FROM fact_odds_coverage_daily "
            "WHERE slate_date = ?", [NORMAL]).fetchall()[0][0]
        coverage = con.execute(
            "SELECT source_vendor, market_type, sum(n_rows), count(DISTINCT book_name), "
            "max(n_events) FROM fact_odds_coverage_daily WHERE run_id = ? GROUP BY ALL",
            [run_id]).fetchall()
        shown = table_with(text, "source_vendor", "market_type", "books", "rows")
        assert {(r.source_vendor, r.market_type): (int(r.rows), int(r.books), int(r.events))
                for r in shown.itertuples()} == {(v, m): (n, b, e) for v, m, n, b, e in coverage}
        mapping = {(v, e): f"{100 * rate:.1f} %" for v, e, rate in con.execute(
            "SELECT source_vendor, entity, mapped_rate FROM fact_mapping_quality_daily "
            "WHERE run_id = ?", [run_id]).fetchall()}
        shown = table_with(text, "source_vendor", "entity", "mapped_rate")
        assert {(r.source_vendor, r.entity): r.mapped_rate for r in shown.itertuples()} == mapping
        ev_run = con.execute("SELECT arg_max(run_id, as_of_ts_utc) FROM fact_ev_candidates "
                             "WHERE slate_date = ?", [NORMAL]).fetchall()[0][0]
        priced, eligible = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_eligible) FROM fact_ev_candidates "
            "WHERE run_id = ?", [ev_run]).fetchall()[0]
        funnel = table_with(text, "stage", "removed", "left")
        assert funnel.iloc[0].tolist() == ["priced rows", "", str(priced)]
        assert funnel.iloc[-1].tolist() == ["eligible", "", str(eligible)]
        assert priced - funnel["removed"].iloc[1:-1].astype(int).sum() == eligible
        checks = con.execute("SELECT count(*) FROM fact_anomaly_checks WHERE run_id = ?",
                             [run_id]).fetchall()[0][0]
        assert len(table_with(text, "check_name", "subject", "passed")) == min(checks, 50)
        # the last graded slate: production's pooled log loss per market, on shared props
        graded = NORMAL - timedelta(days=1)
        pooled = dict(con.execute(
            """
            WITH newest AS (SELECT arg_max(run_id, computed_ts_utc) AS rid
                            FROM fact_forecast_accuracy_daily WHERE slate_date = ?)
            SELECT market_type, sum(n * log_loss) / sum(n) FROM fact_forecast_accuracy_daily
            JOIN newest ON run_id = rid
            WHERE slate_date = ? AND source = 'p10-nhlapi' AND scope = 'shared' GROUP BY ALL
            """, [graded, graded]).fetchall())
        shown = table_with(text, "market_type", "source", "log_loss", "ece")
        shown = shown[shown["source"] == "p10-nhlapi"]
        assert {r.market_type: float(r.log_loss) for r in shown.itertuples()} == pytest.approx(
            pooled, abs=5e-4)
        # the rolling report's windows: runs and eligible bets over the last 7 slates
        rolling = (monitoring / "rolling_report.md").read_text()
        windows = table_with(rolling, "metric", "last_7", "prev_7").set_index("metric")
        lo = ALL_DOWN - timedelta(days=6)
        # rendered by the last morning run: its own run counts, the pre-game after it not
        runs = con.execute("SELECT count(*) FROM fact_run_registry WHERE step = 'run' AND "
                           "slate_date BETWEEN ? AND ? AND as_of_ts_utc <= ?",
                           [lo, ALL_DOWN, f"{ALL_DOWN} 15:00:00"]).fetchall()[0][0]
        assert windows.loc["runs", "last_7"] == str(runs)
        eligible_7 = con.execute(
            """
            WITH newest AS (SELECT slate_date, arg_max(run_id, computed_ts_utc) AS rid
                            FROM fact_ev_summary_daily WHERE slate_date BETWEEN ? AND ?
                            GROUP BY slate_date)
            SELECT sum(n_eligible) FROM fact_ev_summary_daily e JOIN newest n
              ON e.slate_date = n.slate_date AND e.run_id = n.rid
            """, [lo, ALL_DOWN]).fetchall()[0][0]
        assert windows.loc["eligible bets (sum)", "last_7"].replace(",", "") == str(eligible_7)
    finally:
        con.close()


# The same numbers from the database and from its Parquet copies ({src} is the table).
HISTORY_QUERIES = {
    "fact_ev_candidates": "SELECT slate_date, count(*), count(DISTINCT run_id), round(sum(ev), 6), "
                          "count(*) FILTER (WHERE is_eligible) FROM {src} GROUP BY ALL",
    "fact_bet_results": "SELECT slate_date, result, count(*), round(sum(profit_units), 6), "
                        "round(sum(stake_fraction), 6) FROM {src} GROUP BY ALL",
    "fact_odds_coverage_daily": "SELECT slate_date, source_vendor, sum(n_rows) FROM {src} "
                                "GROUP BY ALL",
    "fact_forecast_accuracy_daily": "SELECT slate_date, source, sum(n), round(sum(log_loss), 6) "
                                    "FROM {src} GROUP BY ALL",
    "fact_run_registry": "SELECT slate_date, step, status, count(*) FROM {src} GROUP BY ALL",
    "fact_anomaly_checks": "SELECT slate_date, passed, count(*) FROM {src} GROUP BY ALL",
}
# Every row of every exported table, per slate: a hash of all its columns but the slate
# (a value or a type that differs changes it).
FINGERPRINT = ("SELECT slate_date, count(*), sum(hash(*COLUMNS(* EXCLUDE (slate_date))))::HUGEINT "
               "FROM {src} GROUP BY ALL")
LARGE = ("fact_ev_candidates", "fact_bet_results")  # ~44,000 rows a slate: compared by sums


def rows_in_order(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(slate_date=frame["slate_date"].astype(str))  # the path's text
    return frame.sort_values(list(frame.columns), ignore_index=True)


def per_slate_sums(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.assign(slate_date=frame["slate_date"].astype(str))
    return (frame.groupby("slate_date")[columns].agg(["size", "sum"]).round(6)
            .sort_index())


SUMMED = {"fact_ev_candidates": ["ev", "stake_fraction", "kelly_fraction"],
          "fact_bet_results": ["ev", "stake_fraction", "profit_units", "clv"]}


def test_the_history_reads_from_parquet_while_a_run_holds_the_database(demo) -> None:
    """Every run wrote its slates' Parquet copies: DuckDB and pandas read the ten days from
    them, while another process holds the database read-write, and get what SQL over the
    database gives: every row of every table (DuckDB), whole tables or per-slate sums of the
    bets (pandas)."""
    from runner.export import EXPORTED

    home, _ = demo
    database = home / "data" / "ops.duckdb"
    root = home / "outputs" / "parquet"
    con = duckdb.connect(str(database), read_only=True)
    try:
        expected = {table: sorted(con.execute(sql.format(src=table)).fetchall(), key=str)
                    for table, sql in HISTORY_QUERIES.items()}
        fingerprints = {table: sorted(con.execute(FINGERPRINT.format(src=table)).fetchall())
                        for table in EXPORTED}
        # pandas from the database the way pandas reads the copies (through Arrow)
        frames = {table: con.sql(f"SELECT * EXCLUDE (slate_date), slate_date FROM {table}")
                  .to_arrow_table().to_pandas() for table in EXPORTED}
    finally:
        con.close()
    frames = {table: per_slate_sums(frame, SUMMED[table]) if table in LARGE
              else rows_in_order(frame) for table, frame in frames.items()}
    # every slate was priced, perhaps but the one whose morning ingestion failed completely
    assert set(SLATES) - {ALL_DOWN} <= {row[0] for row in expected["fact_ev_candidates"]}
    assert {d for d, *_ in fingerprints["fact_bet_results"]} == set(SLATES[:-1])
    assert all(len(frames[table]) for table in EXPORTED)

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); sys.stdin.read()", str(database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        blocked = subprocess.run(
            [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1], "
             "read_only=True)", str(database)], capture_output=True, text=True, timeout=60)
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()  # really held

        memory = duckdb.connect()
        for table in EXPORTED:
            copies = (f"read_parquet('{root / table}/*/*.parquet', hive_partitioning = true)")
            assert sorted(memory.execute(FINGERPRINT.format(src=copies)).fetchall()) == \
                fingerprints[table], table
            if table in HISTORY_QUERIES:
                assert sorted(memory.execute(HISTORY_QUERIES[table].format(src=copies))
                              .fetchall(), key=str) == expected[table], table
            frame = pd.read_parquet(root / table)  # slate_date: text from the path
            frame = (per_slate_sums(frame, SUMMED[table]) if table in LARGE
                     else rows_in_order(frame))
            pd.testing.assert_frame_equal(frame, frames[table], obj=table)
        memory.close()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_a_vendor_outage_tops_its_report_and_the_next_day_is_normal(demo) -> None:
    home, _ = demo
    monitoring = home / "outputs" / "monitoring"
    text = (monitoring / f"daily_report_{OUTAGE}.md").read_text()
    top = attention(text)
    assert "**odds_ingestion partial**" in top and "FORCE_VENDOR_FAILURE includes PLAYNOW" in top
    assert "01_odds_ingest.ipynb" in top  # the path of the executed notebook
    assert "**Vendor PLAYNOW failed**" in top
    # the coverage drop is flagged: PLAYNOW vanished, and its row counts are far off
    assert "Anomaly **vanished** on PLAYNOW:" in top
    assert re.search(r"Anomaly \*\*row_count_z\*\* on PLAYNOW/SOG: 0 rows per game against",
                     top)
    coverage = table_with(text, "source_vendor", "market_type", "books", "rows")
    assert "PLAYNOW" not in set(coverage["source_vendor"])

    normal = attention((monitoring / f"daily_report_{NORMAL}.md").read_text())
    assert "PLAYNOW" not in normal and "odds_ingestion" not in normal


def test_a_day_whose_ingestion_failed_completely_still_has_its_report(demo) -> None:
    home, _ = demo
    text = (home / "outputs" / "monitoring" / f"daily_report_{ALL_DOWN}.md").read_text()
    top = attention(text)
    assert "**odds_ingestion failed**" in top and "every vendor failed" in top
    for vendor in ("PLAYNOW", "UNABATED", "ODDSSHARK"):
        assert f"**Vendor {vendor} failed**" in top
    assert "**failed**" in text.split("## Needs attention")[0]  # the title line's run status


def test_every_executed_notebook_has_bounded_outputs(demo) -> None:
    """The anti-hang rules on what the demo's notebooks show: no table over 50 rows, no
    text output over 100 KB (a payload printed would be), charts under 200 KB each."""
    home, _ = demo
    notebooks = [*(home / "outputs" / "runs").glob("*/*/*.ipynb"),
                 *(home / "outputs" / "monitoring" / "executed").glob("*.ipynb")]
    assert len(notebooks) > 6 * DAYS
    for path in notebooks:
        nb = nbformat.read(str(path), as_version=4)
        for index, cell in enumerate(nb.cells):
            for output in cell.get("outputs", []):
                data = dict(output.get("data", {}))
                where = f"{path.relative_to(home)} cell {index}"
                for value in [output.get("text", ""), *(v for k, v in data.items()
                                                       if k.startswith("text/"))]:
                    text = "".join(value) if isinstance(value, list) else str(value)
                    assert len(text.encode()) <= 100_000, where
                    assert text.count("<tr") <= 52, where  # a header (two rows at most) + 50
                    # a Markdown table: header, separator and 50 rows
                    assert sum(line.startswith("|") for line in text.splitlines()) <= 52, where
                assert len(str(data.get("image/png", ""))) <= 200_000, where


# Lines the kernels' start and shutdown used to leave in every step's log: a kernel on TCP
# (ipykernel warns of plain text), a client left polling a warm kernel (its zmq context
# collected with channels running), a kernel that lost a port it was handed (it died
# before it answered).
KERNEL_NOISE = ("without encryption", "Could not destroy zmq context",
                "Kernel died before replying", "warm standby failed")


def test_worker_logs_hold_the_steps_own_messages(demo) -> None:
    """Every step's log (and every report render's) is free of the kernels' noise, a
    successful step's holds no traceback, and what the steps log lands there: the first
    morning's season load with a progress line every 25 games, the outage day's vendor
    failure."""
    home, _ = demo
    logs = [*(home / "outputs" / "runs").glob("*/*/*.log"),
            *(home / "outputs" / "monitoring" / "executed").glob("*.log")]
    assert len(logs) > 6 * DAYS
    for log in logs:
        text = log.read_text()
        assert not [n for n in KERNEL_NOISE if n in text], (log.name, text[:3000])
    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT slate_date, as_of_ts_utc, step, status, notebook_path "
                           "FROM fact_run_registry WHERE step <> 'run' ORDER BY as_of_ts_utc"
                           ).fetchall()
    finally:
        con.close()
    succeeded = [home / path for *_, status, path in rows if status == "success"]
    for notebook in succeeded:
        log = notebook.with_suffix(".log")
        assert "Traceback" not in (log.read_text() if log.exists() else ""), log
    first_production = next(home / path for day, _, step, _, path in rows
                            if day == START and step == "production")
    season = first_production.with_suffix(".log").read_text()
    assert "empty warehouse: loading the season" in season
    progress = re.findall(r"stats: (\d+) of (\d+) games loaded", season)
    total = int(progress[-1][1])
    assert total > 50
    assert [int(n) for n, _ in progress] == [*range(25, total, 25), total]
    outage = next(home / path for day, _, step, status, path in rows
                  if day == OUTAGE and step == "odds_ingestion" and status == "partial")
    failed = [line for line in outage.with_suffix(".log").read_text().splitlines()
              if "PLAYNOW" in line and "WARNING" in line]
    assert failed, outage


def test_no_secret_anywhere(demo) -> None:
    """With every secret variable set, ten days with two outages leave the secret in no file
    (database, raw payloads and their paths, executed notebooks, spec.json, worker logs,
    reports, charts), no database row and no console line."""
    home, proc = demo
    assert proc.returncode in (0, 1, 3), proc.stderr[-2000:]
    assert_no_secret_anywhere(home, [proc.stdout, proc.stderr])


def test_report_renders_again_and_a_failed_render_keeps_the_reports(demo) -> None:
    """Last in the module: it adds a run to the demo's database."""
    home, _ = demo
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUN_", "FORCE_", "OPS_"))}
    env["OPS_HOME"] = str(home)
    monitoring = home / "outputs" / "monitoring"
    report = monitoring / f"daily_report_{NORMAL}.md"
    funnel = table_with(report.read_text(), "stage", "removed", "left")

    def runner(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "runner", *args], cwd=home,
                              env={**env, **extra}, capture_output=True, text=True, timeout=300)

    again = runner("report", "--date", NORMAL.isoformat())
    assert again.returncode == 0, again.stderr[-2000:]
    assert table_with(report.read_text(), "stage", "removed", "left").equals(funnel)

    broken = home / "broken-notebooks"
    broken.mkdir()
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "report.ipynb"
    (broken / "report.ipynb").write_text(notebook.read_text().replace(
        "show_markdown(daily.title_markdown(day, runs))", "raise RuntimeError('broken')"))
    before = {p: p.read_bytes() for p in monitoring.rglob("*") if p.is_file()
              and "executed" not in p.parts}
    failed = runner("report", "--date", NORMAL.isoformat(), OPS_NOTEBOOK_DIR=str(broken))
    assert failed.returncode == 1 and "RuntimeError: broken" in failed.stderr
    after = {p: p.read_bytes() for p in monitoring.rglob("*") if p.is_file()
             and "executed" not in p.parts}
    assert after == before  # nothing replaced, nothing half written left behind
    assert not list((monitoring / "executed").glob(".render-*"))

    # a run with every step but diagnostics off still renders, and shows the day as it is
    alone = runner("daily", "--run-diagnostics", "--date", ALL_DOWN.isoformat(),
                   "--as-of", f"{ALL_DOWN}T23:30:00Z")
    assert alone.returncode == 0, alone.stderr[-3000:]
    text = (monitoring / f"daily_report_{ALL_DOWN}.md").read_text()
    runs = table_with(text, "run", "step", "status")
    last = runs[runs["run"] == runs["run"].iloc[-1]]
    assert last["status"].tolist() == ["· skipped"] * 4 + ["✓ success"]
    assert "**odds_ingestion failed**" in attention(text)  # the morning's failure stays


def test_demo_rejects_a_start_before_the_season(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "runner", "demo", "--start-date", "2025-01-01",
                           "--home", str(tmp_path / "d")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "--start-date" in proc.stderr
    assert not (tmp_path / "d").exists()


def test_emulator_command_serves_on_loopback_until_stopped() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "runner", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/_emulator/clock", timeout=10).json()["now"]
        assert requests.get(f"{url}/nhl/odds/player-props", timeout=30).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0

