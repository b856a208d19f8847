"""helpers.evidence.pricing: the blends a report shows are the newest EV run's of each slate."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd

from helpers.core import db
from helpers.evidence.pricing import blend_fits, blend_sentence, blend_table, plot_blend_weights

SLATE = date(2025, 12, 5)


def _fit(run_id: str, slate: date, market: str, coef_model: float, method: str = "fitted",
         as_of_hour: int = 15) -> tuple[dict, dict]:
    fit = {"run_id": run_id, "slate_date": slate, "model_version": "p10-nhlapi",
           "market_type": market, "method": method, "intercept": 0.0,
           "coef_model": coef_model, "coef_consensus": 1 - coef_model, "n_props": 900,
           "n_slates": 10, "computed_ts_utc": datetime(2025, 12, 5)}
    candidate = {"run_id": run_id, "slate_date": slate,
                 "as_of_ts_utc": datetime(slate.year, slate.month, slate.day, as_of_hour),
                 "source_vendor": "UNABATED", "player_key_vendor": "1", "market_type": market,
                 "line": 2.5, "side": "OVER", "capture_ts_utc": datetime(2025, 12, 5),
                 "odds_decimal": 1.9, "is_eligible": True, "is_suspicious": False}
    return fit, candidate


def test_the_newest_ev_run_of_each_slate_is_shown(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    rows = [_fit("a", SLATE, "SOG", 0.1), _fit("a", SLATE, "GOALS", 0.0, "prior"),
            _fit("b", SLATE, "SOG", 0.3, as_of_hour=18),          # a later run of the slate
            _fit("b", SLATE, "GOALS", 0.0, "prior", as_of_hour=18),
            _fit("c", date(2025, 12, 4), "SOG", 0.2)]
    for table, frame in (("fact_price_blend_fits", pd.DataFrame([f for f, _ in rows])),
                         ("fact_ev_candidates", pd.DataFrame([c for _, c in rows]))):
        con.register("_rows", frame)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")
    fits = blend_fits(con, date(2025, 12, 1), SLATE)
    con.close()
    assert sorted(zip(fits["run_id"], fits["market_type"], strict=True)) == [
        ("b", "GOALS"), ("b", "SOG"), ("c", "SOG")]
    table = blend_table(fits, SLATE)
    assert list(table["market_type"]) == ["GOALS", "SOG"]        # market order
    text = blend_sentence(fits, SLATE)
    assert "SOG 0.30" in text and "GOALS: priced at the consensus alone" in text
    assert "p10-nhlapi" in text
    assert blend_sentence(fits, date(2025, 12, 1)).startswith("No EV run")
    assert plot_blend_weights(fits, date(2025, 12, 1), SLATE).axes[0].get_lines()
