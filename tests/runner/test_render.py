"""The reports rendered for real: `runner daily` with diagnostics on the warm demo world, then
papermill and nbconvert. The Markdown holds no code and no HTML, its numbers are the
evidence tables', a failed render leaves the previous reports as they were, and a day whose
ingestion failed or whose other steps were all off still gets its report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import WARM_MORNING, WARM_SLATE

pytestmark = pytest.mark.slow

SECTIONS = ["## Needs attention", "## Runs", "## Vendor health", "## Coverage", "## Mapping",
            "## Snapshot", "## EV", "## Last graded slate", "## Anomaly checks",
            "## How this was made"]


def run_env(home: Path, emu, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RUN_", "FORCE_", "DAILY_", "OPS_"))}
    env.update({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                **{f"{v}_BASE_URL": emu.base_url
                   for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}, **extra})
    return env


def runner(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=home, env=env,
                          capture_output=True, text=True, timeout=600)


def daily(home: Path, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    return runner(home, env, "daily", *flags, "--date", WARM_SLATE.isoformat(),
                  "--as-of", WARM_MORNING.strftime("%Y-%m-%dT%H:%M:%SZ"))


def md_tables(text: str) -> list[pd.DataFrame]:
    """Every Markdown table of a report, as strings."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif block:
            tables.append(pd.DataFrame(block[2:], columns=block[0]))
            block = []
    return tables


def table_with(text: str, *columns: str) -> pd.DataFrame:
    return next(t for t in md_tables(text) if set(columns) <= set(t.columns))


def assert_clean_markdown(text: str, report: Path) -> None:
    for leak in ("```", "<style", "<table", "<div", "import ", "show_table(", "In ["):
        assert leak not in text, f"{leak!r} leaked into {report.name}"
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        image = report.parent / link
        assert image.exists() and image.stat().st_size > 1000, link
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", link


def test_a_run_renders_both_reports_whose_numbers_are_the_evidence(warm_home) -> None:
    emu, home = warm_home
    env = run_env(home, emu)
    proc = daily(home, env, "--run-production", "--run-ev", "--run-diagnostics")
    assert proc.returncode == 0, proc.stderr[-3000:]
    monitoring = home / "outputs" / "monitoring"
    report = monitoring / f"daily_report_{WARM_SLATE}.md"
    rolling = monitoring / "rolling_report.md"
    assert f"daily report: {report}" in proc.stderr
    text = report.read_text()
    assert_clean_markdown(text, report)
    assert_clean_markdown(rolling.read_text(), rolling)
    assert text.startswith(f"# Daily report {WARM_SLATE}")
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert (monitoring / "executed" / f"report_{WARM_SLATE}.ipynb").exists()

    con = duckdb.connect(str(home / "data" / "ops.duckdb"), read_only=True)
    run_id = con.execute("SELECT run_id FROM fact_run_registry WHERE step = 'diagnostics' "
                         "AND status = 'success'").fetchall()[0][0]
    coverage = con.execute(
        "SELECT source_vendor, market_type, sum(n_rows), count(DISTINCT book_name) "
        "FROM fact_odds_coverage_daily WHERE run_id = ? GROUP BY ALL", [run_id]).fetchall()
    shown = table_with(text, "source_vendor", "market_type", "books", "rows")
    shown = {(r.source_vendor, r.market_type): (int(r.rows), int(r.books))
             for r in shown.itertuples()}
    assert shown == {(v, m): (n, b) for v, m, n, b in coverage}
    mapping = dict(((v, e), f"{100 * rate:.1f} %") for v, e, rate in con.execute(
        "SELECT source_vendor, entity, mapped_rate FROM fact_mapping_quality_daily "
        "WHERE run_id = ?", [run_id]).fetchall())
    shown = table_with(text, "source_vendor", "entity", "mapped_rate")
    assert {(r.source_vendor, r.entity): r.mapped_rate for r in shown.itertuples()} == mapping
    eligible = con.execute("SELECT count(*) FROM fact_ev_candidates WHERE is_eligible"
                           ).fetchall()[0][0]
    funnel = table_with(text, "stage", "rows", "left")
    assert funnel.iloc[-1].tolist() == ["eligible", str(eligible), str(eligible)]
    assert int(funnel.iloc[0]["rows"]) == con.execute(
        "SELECT count(*) FROM fact_ev_candidates").fetchall()[0][0]
    checks = con.execute("SELECT count(*) FROM fact_anomaly_checks WHERE run_id = ?",
                         [run_id]).fetchall()[0][0]
    assert len(table_with(text, "check_name", "subject", "passed")) == min(checks, 50)
    con.close()

    # `runner report` renders again from the stored rows alone, to the same numbers
    before = text
    again = runner(home, env, "report", "--date", WARM_SLATE.isoformat())
    assert again.returncode == 0, again.stderr[-2000:]
    assert table_with(report.read_text(), "stage", "rows", "left").equals(funnel)
    assert report.read_text().split("## Runs")[1] == before.split("## Runs")[1]

    # a report notebook that fails leaves both reports exactly as they were
    broken = home / "broken-notebooks"
    broken.mkdir()
    nb = (Path(__file__).resolve().parents[2] / "notebooks" / "report.ipynb").read_text()
    (broken / "report.ipynb").write_text(nb.replace(
        "show_markdown(daily.title_markdown(day, runs))", "raise RuntimeError('broken')"))
    daily_before, rolling_before = report.read_bytes(), rolling.read_bytes()
    failed = runner(home, {**env, "OPS_NOTEBOOK_DIR": str(broken)}, "report")
    assert failed.returncode == 1 and "RuntimeError: broken" in failed.stderr
    assert report.read_bytes() == daily_before and rolling.read_bytes() == rolling_before
    assert not list(monitoring.glob("**/.*tmp")) and not list(monitoring.glob("executed/.render-*"))

    # a date without runs still renders, and says so
    empty = runner(home, env, "report", "--date", "2025-11-20")
    assert empty.returncode == 0, empty.stderr[-2000:]
    assert "No run is registered" in (monitoring / "daily_report_2025-11-20.md").read_text()


def test_failed_ingestion_tops_the_report_and_diagnostics_alone_still_renders(warm_home):
    emu, home = warm_home
    env = run_env(home, emu, FORCE_VENDOR_FAILURE="ALL")
    proc = daily(home, env, "--run-odds-ingestion", "--run-diagnostics")
    assert proc.returncode in (1, 3), proc.stderr[-3000:]
    report = home / "outputs" / "monitoring" / f"daily_report_{WARM_SLATE}.md"
    text = report.read_text()
    attention = text.split("## Needs attention")[1].split("## Runs")[0]
    assert "**odds_ingestion " in attention
    for vendor in ("PLAYNOW", "UNABATED", "ODDSSHARK"):
        assert f"**Vendor {vendor} failed**" in attention

    # every step but diagnostics off: the report renders and shows the day as it is
    env = run_env(home, emu)
    alone = daily(home, env, "--run-diagnostics")
    assert alone.returncode == 0, alone.stderr[-3000:]
    text = report.read_text()
    assert_clean_markdown(text, report)
    runs = table_with(text, "run", "step", "status")
    assert (runs["status"] == "· skipped").sum() == 3 + 4  # the two runs' steps left off
    assert "**odds_ingestion " in text.split("## Runs")[0]  # the failure is still there
