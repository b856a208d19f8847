"""helpers.notebook.step_context: the driver's paths, or an offline home seeded by the
earlier steps; never demo data in a real database."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from helpers.core.errors import UsageError
from helpers.core.steps import STEPS
from helpers.notebook import step_context

PARAMS = {"slate_date": "2025-12-01", "as_of": "2025-12-01T15:00:00", "run_id": "r1"}


def test_the_driver_context_uses_the_given_paths(tmp_path: Path) -> None:
    ctx = step_context("odds_ingestion", **PARAMS, db_path=str(tmp_path / "x.duckdb"),
                       ops_home=str(tmp_path), offline_demo=False)
    assert ctx.slate_date == date(2025, 12, 1) and ctx.as_of == datetime(2025, 12, 1, 15)
    assert ctx.run_id == "r1" and ctx.settings.paths.ops_home == tmp_path
    con = ctx.connect()
    con.close()
    assert (tmp_path / "x.duckdb").exists()


@pytest.mark.parametrize("field", ["db_path", "ops_home"])
def test_offline_demo_refuses_a_real_path(tmp_path: Path, field: str) -> None:
    paths = {"db_path": "", "ops_home": "", field: str(tmp_path / "real")}
    with pytest.raises(UsageError, match="offline_demo=True"):
        step_context("odds_ingestion", **PARAMS, **paths, offline_demo=True)
    assert not (tmp_path / "real").exists()


def test_an_unknown_step_is_refused() -> None:
    with pytest.raises(KeyError, match="no step 'odds'"):
        step_context("odds", **PARAMS, db_path="", ops_home="", offline_demo=False)


@pytest.mark.slow
def test_a_later_step_offline_is_seeded_by_the_earlier_steps() -> None:
    ctx = step_context("production", **PARAMS, db_path="", ops_home="", offline_demo=True)
    assert ctx.db_path.name == "ops.duckdb" and "ops-offline-" in str(ctx.db_path)
    con = ctx.connect(read_only=True)
    try:
        vendors = dict(con.execute("SELECT source_vendor, count(*) FROM fact_prop_odds "
                                   "GROUP BY 1").fetchall())
        captured = con.execute("SELECT DISTINCT capture_ts_utc FROM fact_prop_odds").fetchall()
    finally:
        con.close()
    assert set(vendors) == {"PLAYNOW", "UNABATED", "ODDSSHARK"}
    assert captured == [(datetime(2025, 12, 1, 15),)]  # seeded at the notebook's as_of


def test_an_offline_step_is_seeded_by_the_registrys_functions_of_the_steps_before_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.harness import offline

    seeded = []
    monkeypatch.setattr(offline, "seed",
                        lambda settings, step, at: seeded.append((step.function, at)))
    step_context("diagnostics", **PARAMS, db_path="", ops_home="", offline_demo=True)
    at = datetime(2025, 12, 1, 15)
    assert seeded == [("helpers.odds.capture:run_odds_ingestion", at),
                      ("helpers.model.production:run_production", at),
                      ("helpers.ev.step:run_ev", at),
                      ("helpers.grading.step:run_outcomes", at)]  # in order, not diagnostics'
    assert all(callable(step.load()) for step in STEPS)
