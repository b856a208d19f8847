"""helpers.ev.blend (the fit and the pricing probability) and helpers.ev.read.graded_props
(the evidence it learns from: earlier slates only, each by its newest EV run)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from helpers.core import db
from helpers.ev.blend import (
    PRIOR,
    Blend,
    fit_blends,
    fit_coefficients,
    fit_market,
    log_loss,
    predict,
    price_probability,
)
from helpers.ev.read import graded_props


def synthetic(n: int, truth: tuple[float, float, float], seed: int = 1,
              slate: date = date(2025, 11, 1)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p_model = rng.uniform(0.1, 0.9, n)
    p_consensus = special.expit(special.logit(p_model) + rng.normal(0, 0.5, n))
    a, b, c = truth
    p = special.expit(a + b * special.logit(p_model) + c * special.logit(p_consensus))
    return pd.DataFrame({"slate_date": slate, "market_type": "SOG", "p_model": p_model,
                         "p_consensus": p_consensus, "y": (rng.uniform(size=n) < p).astype(int)})


def test_the_fit_recovers_the_weights_the_outcomes_were_drawn_with() -> None:
    data = synthetic(40_000, (0.1, 0.3, 0.7))
    beta = fit_coefficients(data["p_model"], data["p_consensus"], data["y"])
    assert beta == pytest.approx([0.1, 0.3, 0.7], abs=0.06)
    # and a world where the model knows nothing beyond the market: weight near 0
    beta = fit_coefficients(*synthetic(40_000, (0.0, 0.0, 1.0), seed=2)[
        ["p_model", "p_consensus", "y"]].T.to_numpy())
    assert abs(beta[1]) < 0.06 and beta[2] == pytest.approx(1.0, abs=0.06)


def test_thin_evidence_falls_back_to_the_prior() -> None:
    data = synthetic(299, (0.0, 1.0, 0.0))
    blend = fit_market("SOG", data, min_props=300)
    assert blend.method == "prior" and list(blend.coefficients) == list(PRIOR)
    assert blend.n_props == 299
    assert fit_market("SOG", data.assign(y=1), min_props=10).method == "prior"  # one class
    empty = fit_blends(data.iloc[:0], ("GOALS",), min_props=10)["GOALS"]
    assert empty.method == "prior" and empty.n_props == 0


def test_the_previous_slate_is_scored_by_a_fit_that_never_saw_it() -> None:
    older = synthetic(3000, (0.0, 0.5, 0.5), seed=3, slate=date(2025, 11, 1))
    newest = synthetic(800, (0.0, 0.5, 0.5), seed=4, slate=date(2025, 11, 2))
    blend = fit_market("SOG", pd.concat([older, newest]), min_props=500)
    before = fit_coefficients(older["p_model"], older["p_consensus"], older["y"])
    expected = log_loss(predict(before, newest["p_model"], newest["p_consensus"]),
                        newest["y"].to_numpy())
    assert blend.n_prev_slate == 800 and blend.log_loss_prev_slate == pytest.approx(expected)
    assert blend.log_loss_consensus_prev_slate == pytest.approx(
        log_loss(newest["p_consensus"].to_numpy(), newest["y"].to_numpy()))
    assert (blend.n_slates, blend.first_slate, blend.last_slate) == (
        2, date(2025, 11, 1), date(2025, 11, 2))


def test_the_pricing_p_is_the_sides_win_probability() -> None:
    half = Blend("SOG", "fitted", np.array([0.0, 0.5, 0.5]), 0, 0)
    rows = pd.DataFrame({
        "market_type": ["SOG", "SOG", "SOG", "GOALS"], "side": ["OVER", "UNDER", "OVER", "OVER"],
        "p_over": [0.6, 0.6, 0.40, 0.3], "p_under": [0.4, 0.4, 0.45, 0.7],
        "p_push": [0.0, 0.0, 0.15, 0.0], "p_consensus": [0.5, 0.5, 0.5, 0.3]})
    out = price_probability(rows, {"SOG": half})
    over = special.expit(0.5 * special.logit(0.6))          # consensus at 0.5: logit 0
    assert out["p_price"].iloc[0] == pytest.approx(over)
    assert out["p_price"].iloc[1] == pytest.approx(1 - over)  # the under's consensus is 0.5
    # integer line: the blend on P(over | no push) = 0.40 / 0.85, times 1 - push
    cond = special.expit(0.5 * special.logit(0.40 / 0.85))
    assert out["p_price"].iloc[2] == pytest.approx(cond * 0.85)
    # a market without a blend is not priced
    assert np.isnan(out["p_price"].iloc[3]) and pd.isna(out["price_method"].iloc[3])


# ---- graded_props: the walk-forward evidence ------------------------------------------------

SLATE = date(2025, 12, 10)


def _insert(con, table: str, rows: list[dict]) -> None:
    con.register("_rows", pd.DataFrame(rows))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def _plant_slate(con, slate: date, consensus: float, run_id: str,
                 as_of_hour: int = 15) -> None:
    """One graded prop (game = day number, player 7, SOG 2.5) priced by one EV run."""
    game = slate.toordinal()
    as_of = datetime(slate.year, slate.month, slate.day, as_of_hour)
    snapshot = f"snap-{run_id}"
    _insert(con, "fact_prob_snapshot", [{
        "snapshot_id": snapshot, "snapshot_ts_utc": as_of - timedelta(minutes=5),
        "slate_date": slate, "game_id": game, "player_id": 7, "market_type": "SOG",
        "line": line, "p_over": 0.55, "p_under": 0.45, "p_push": 0.0, "mu": 2.6,
        "distribution": "nbinom", "games_used": 20, "model_version": "p10-nhlapi"}
        for line in (2.5, 3.0)])
    _insert(con, "fact_ev_candidates", [{
        "run_id": run_id, "snapshot_id": snapshot, "slate_date": slate, "as_of_ts_utc": as_of,
        "game_id": game, "player_id": 7, "source_vendor": "UNABATED",
        "player_key_vendor": "7", "book_name": "DraftKings", "market_type": "SOG",
        "line": line, "side": side, "capture_ts_utc": as_of, "odds_decimal": 1.9,
        "p_consensus": consensus if side == "OVER" else 1 - consensus,
        "is_eligible": False, "exclusion_reason": "below_min_edge", "is_suspicious": False}
        for line in (2.5, 3.0) for side in ("OVER", "UNDER")])
    con.execute("INSERT OR REPLACE INTO fact_prop_outcomes VALUES (?, 7, 'SOG', 3, ?)",
                [game, as_of])


def test_graded_props_see_only_earlier_slates_each_by_its_newest_ev_run(tmp_path: Path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    for days_before in (30, 2, 1):
        _plant_slate(con, SLATE - timedelta(days=days_before), 0.5, f"r{days_before}")
    # the slate priced and a later one are graded too (a backfill, a rerun of an old
    # day): neither may reach the fit
    _plant_slate(con, SLATE, 0.5, "r0")
    _plant_slate(con, SLATE + timedelta(days=1), 0.5, "r-1")
    # the day before was priced again later: its newest run is the one that counts
    _plant_slate(con, SLATE - timedelta(days=1), 0.6, "r1-rerun", as_of_hour=18)
    props = graded_props(con, SLATE, window_days=28, model_version="p10-nhlapi")
    assert sorted(set(props["slate_date"].dt.date)) == [SLATE - timedelta(days=2),
                                                        SLATE - timedelta(days=1)]
    assert (props["line"] == 2.5).all()            # half lines only: no push in y
    assert list(props["y"]) == [1, 1]               # 3 shots over 2.5
    day_before = props[props["slate_date"].dt.date == SLATE - timedelta(days=1)]
    assert day_before["p_consensus"].tolist() == [0.6]
    assert graded_props(con, SLATE, window_days=28, model_version="eb-season").empty
    con.close()
