"""The market comparison evidence: diagnostics computes it over the 14 slates before its
slate and writes it once per run; the reports read each slate's newest run, say one sentence
per market (daily) and show one row per market and pair (rolling)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core import db
from helpers.core.models import PRODUCTION_MODEL
from helpers.core.settings import load_settings
from helpers.core.slate import Slate
from helpers.evidence import comparison
from helpers.evidence import step as diagnostics
from helpers.evidence.tables import Evidence, newest_per_slate, write_evidence
from helpers.grading.compare import COLUMNS

D = date(2025, 12, 20)
EB = "eb-season"
EMPTY = pd.DataFrame()


def row(market: str, source: str, reference: str, diff: float, low: float, high: float,
        props: int = 3412) -> dict:
    return {"market_type": market, "source": source, "reference": reference, "n_slates": 14,
            "n_games": 101, "n_props": props, "first_slate": D - timedelta(14),
            "last_slate": D - timedelta(1), "log_loss": 0.5 + diff,
            "log_loss_reference": 0.5, "diff": diff, "ci_low": low, "ci_high": high,
            "n_resamples": 1000}


ROWS = [row("SOG", PRODUCTION_MODEL, "market", 0.012, 0.008, 0.016),
        row("SOG", EB, "market", -0.002, -0.005, 0.001),
        row("SOG", EB, PRODUCTION_MODEL, -0.014, -0.02, -0.009),
        row("GOALS", PRODUCTION_MODEL, "market", -0.004, -0.007, -0.001, props=900)]


def write(con, run_id: str, slate: date, rows: list[dict], computed: datetime) -> int:
    evidence = Evidence(EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, pd.DataFrame(rows, columns=COLUMNS))
    return write_evidence(con, evidence, slate, run_id, computed)[
        "fact_market_comparison_daily"]


@pytest.fixture
def con(tmp_path: Path):
    path = tmp_path / "ops.duckdb"
    writer = db.connect(path)
    # an older run of D with other figures (its id sorts after the newer one's)
    assert write(writer, "zz-old", D, [row("SOG", PRODUCTION_MODEL, "market", 0.5, 0.4, 0.6)],
                 datetime(2025, 12, 20, 14)) == 1
    assert write(writer, "r-new", D, ROWS, datetime(2025, 12, 20, 15)) == 4
    assert write(writer, "r-new", D, ROWS, datetime(2025, 12, 20, 15)) == 0  # once per run
    writer.close()
    reader = db.connect(path, read_only=True)
    yield reader
    reader.close()


def test_reports_read_the_newest_run_in_order(con) -> None:
    rows = comparison.comparison_rows(con, D)
    assert list(rows["run_id"].unique()) == ["r-new"]
    assert comparison.comparison_slate(rows) == D
    assert list(zip(rows["market_type"], rows["source"], rows["reference"], strict=True)) == [
        ("GOALS", PRODUCTION_MODEL, "market"), ("SOG", PRODUCTION_MODEL, "market"),
        ("SOG", EB, "market"), ("SOG", EB, PRODUCTION_MODEL)]


def test_one_sentence_per_market_with_the_winner_and_its_interval(con) -> None:
    text = comparison.comparison_markdown(comparison.comparison_rows(con, D), D, 14)
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[1] == (
        "- **SOG**: the market beats p10-nhlapi by 0.012 in log loss per prop (95 % interval "
        "0.008 to 0.016); eb-season is ahead of the market by 0.002 (95 % interval -0.001 "
        "to 0.005), not a clear difference; eb-season beats p10-nhlapi by 0.014 (95 % "
        "interval 0.009 to 0.020); over 14 graded slates, 3,412 props in 101 games.")
    assert lines[0].startswith("- **GOALS**: p10-nhlapi beats the market by 0.004")


def test_a_later_report_date_says_whose_comparison_it_shows(con) -> None:
    later = D + timedelta(days=2)
    text = comparison.comparison_markdown(comparison.comparison_rows(con, later), later, 14)
    assert text.startswith(f"_No comparison was stored for this slate: these figures are the "
                           f"one of slate {D}._")
    far = D + timedelta(days=40)  # outside the 30-slate window
    assert comparison.comparison_rows(con, far).empty
    assert comparison.comparison_markdown(comparison.comparison_rows(con, far), far, 14) == (
        "No graded props in the 14 slates before this one: the model versions cannot be "
        "compared with the market yet.")


def test_display_has_a_verdict_per_pair(con) -> None:
    shown = comparison.comparison_display(comparison.comparison_rows(con, D))
    assert list(shown.columns) == comparison.DISPLAY_COLUMNS
    assert list(shown["verdict"]) == ["source better", "reference better",
                                      "no clear difference", "source better"]
    assert shown["interval_95"].iloc[1] == "+0.0080 to +0.0160"
    assert shown["diff"].tolist() == pytest.approx([-0.004, 0.012, -0.002, -0.014])
    assert comparison.comparison_display(pd.DataFrame()).empty


def test_diagnostics_compares_the_14_slates_before_its_slate(tmp_path: Path, monkeypatch) -> None:
    """The step's wiring: the trailing window is the 14 slates before the run's slate, and
    what compare_sources makes of it lands in fact_market_comparison_daily under the run's
    slate (the grading window's read is separate)."""
    rng = np.random.default_rng(5)
    n = 400
    q = rng.uniform(0.2, 0.8, n)
    scored = pd.DataFrame({
        "slate_date": [D - timedelta(days=1 + i % 14) for i in range(n)],
        "game_id": np.arange(n) // 4, "player_id": np.arange(n), "market_type": "SOG",
        "line": 1.5, PRODUCTION_MODEL: q, "market": np.clip(q + rng.normal(0, 0.1, n), .01, .99),
        "y": (rng.uniform(size=n) < q).astype(int)})
    windows = []

    def fake_stored_scored(con, slates, as_of):
        windows.append(list(slates))
        keep = scored[scored["slate_date"].isin(slates)]
        return keep, [PRODUCTION_MODEL, "market"]

    monkeypatch.setattr(diagnostics, "stored_scored", fake_stored_scored)
    con = db.connect(tmp_path / "ops.duckdb")
    settings = load_settings({"OPS_HOME": str(tmp_path)})
    result = diagnostics.run_diagnostics(con, settings, Slate(D, datetime(2025, 12, 20, 15)), "r1")
    assert [D - timedelta(days=k) for k in range(14, 0, -1)] in windows
    stored = newest_per_slate(con, "fact_market_comparison_daily", D, D)
    assert len(stored) == 1 == len(result.evidence.comparison)
    assert stored["n_props"].iloc[0] == n and stored["n_slates"].iloc[0] == 14
    assert stored["diff"].iloc[0] < 0  # the truth beats a noisy market
    assert "1 model/market comparisons" in result.summary()
    again = diagnostics.run_diagnostics(con, settings, Slate(D, datetime(2025, 12, 20, 15)), "r1")
    assert again.added["fact_market_comparison_daily"] == 0
    con.close()
