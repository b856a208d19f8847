"""helpers.evidence.claims on hand-built bet results: the claimed-against-realized tables
equal an independent SQL aggregate over fact_bet_results (window, eligibility, VOID and
bucket edges included), the clustered standard error matches a hand computation, the
sentences reject an overstated bucket and not a fair one, and the chart renders."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.core import db
from helpers.evidence import claims
from helpers.evidence.markdown import figure_png

D = date(2025, 12, 31)  # the window is 12-02 .. 12-31
MARKETS = ("SOG", "POINTS", "BLOCKS")


def bet(slate: date, i: int, ev: float | None, odds: float, result: str,
        eligible: bool = True, game: int | None = None, market: str | None = None,
        p_close: float | None = 0.5, ev_market: float | None = 0.01) -> dict:
    profit = {"WIN": odds - 1, "LOSS": -1.0, "PUSH": 0.0, "VOID": 0.0}[result]
    return {"slate_date": slate, "candidate_run_id": f"ev-{slate}", "game_id": game or i % 7,
            "player_id": i % 11, "source_vendor": "UNABATED", "player_key_vendor": str(i),
            "book_name": f"Book{i % 3}", "market_type": market or MARKETS[i % 3],
            "line": 0.5 + i % 3, "side": "OVER" if i % 2 else "UNDER",
            "capture_ts_utc": datetime(2025, 12, 1), "odds_decimal": odds, "p_model": 0.5,
            "ev": ev, "ev_market": ev_market, "is_eligible": eligible, "result": result,
            "profit_units": profit, "p_fair_close": p_close,
            "clv": None if p_close is None else 0.02 * (i % 5 - 2),
            "graded_ts_utc": datetime(2026, 1, 1), "run_id": "grader"}


def history() -> list[dict]:
    rng = np.random.default_rng(11)
    rows = []
    for i in range(240):
        slate = D - timedelta(days=int(rng.integers(0, 30)))
        ev = float(rng.choice([0.01, 0.02, 0.035, 0.05, 0.07, 0.1, 0.2, 0.25, 0.4, 0.5, 0.9]))
        odds = float(rng.choice([1.3, 1.5, 1.8, 2.0, 2.4, 2.5, 3.0, 3.5, 5.0, 6.0, 9.0]))
        result = str(rng.choice(["WIN", "LOSS", "LOSS", "PUSH"]))
        rows.append(bet(slate, i, ev, odds, result, p_close=None if i % 6 == 0 else
                        float(rng.uniform(0.2, 0.7)),
                        ev_market=None if i % 10 == 0 else float(rng.normal(0.02, 0.03))))
    rows += [  # none of these counts
        bet(D - timedelta(days=30), 900, 0.3, 2.0, "WIN"),       # before the window
        bet(D + timedelta(days=1), 901, 0.3, 2.0, "WIN"),        # after it
        bet(D, 902, 0.3, 2.0, "WIN", eligible=False),            # not recommended
        bet(D, 903, 0.3, 2.0, "VOID"),                           # never staked
        bet(D, 904, None, 2.0, "WIN"),                           # no claim
    ]
    return rows


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("claims") / "ops.duckdb"
    writer = db.connect(path)
    frame = pd.DataFrame(history())
    writer.register("_bets", frame)
    writer.execute(f"INSERT INTO fact_bet_results ({', '.join(frame.columns)}) "
                   f"SELECT * FROM _bets")
    writer.close()
    reader = db.connect(path, read_only=True)
    yield reader
    reader.close()


BUCKET_SQL = """CASE WHEN ev < 0.02 THEN '< 2 %' WHEN ev < 0.05 THEN '2-5 %'
    WHEN ev < 0.10 THEN '5-10 %' WHEN ev < 0.25 THEN '10-25 %' WHEN ev < 0.5 THEN '25-50 %'
    ELSE '>= 50 %' END"""
BAND_SQL = """CASE WHEN odds_decimal < 1.5 THEN '< 1.50' WHEN odds_decimal < 2 THEN '1.50-2.00'
    WHEN odds_decimal < 2.5 THEN '2.00-2.50' WHEN odds_decimal < 3.5 THEN '2.50-3.50'
    WHEN odds_decimal < 6 THEN '3.50-6.00' ELSE '>= 6.00' END"""


def independent(con, key: str) -> pd.DataFrame:
    return con.execute(f"""
        SELECT {key} AS grp, count(*) AS bets, avg(ev) AS claimed_ev,
               avg(ev_market) AS market_ev,
               avg(p_fair_close * (odds_decimal - 1) - (1 - p_fair_close)) AS close_ev,
               count(p_fair_close) AS bets_with_close, avg(clv) AS clv,
               avg(profit_units) AS roi
        FROM fact_bet_results
        WHERE slate_date BETWEEN DATE '2025-12-02' AND DATE '2025-12-31' AND is_eligible
          AND result IN ('WIN', 'LOSS', 'PUSH') AND ev IS NOT NULL
        GROUP BY ROLLUP (grp)
        """).df().assign(grp=lambda f: f["grp"].fillna("all")).set_index("grp")


@pytest.mark.parametrize(("by", "key"), [("claim", BUCKET_SQL), ("market", "market_type"),
                                         ("price", BAND_SQL)])
def test_tables_equal_an_independent_sql_aggregate(con, by: str, key: str) -> None:
    bets, lo, hi = claims.claims_window(con, D)
    assert (lo, hi) == (date(2025, 12, 2), D)
    table = claims.claims_table(bets, by).set_index(claims.GROUPS[by])
    expected = independent(con, key)
    assert sorted(table.index) == sorted(expected.index)
    assert table.loc["all", "bets"] == 240
    got = table.loc[expected.index]
    assert (got["bets"] == expected["bets"]).all()
    assert (got["bets_with_close"] == expected["bets_with_close"]).all()
    for column in ("claimed_ev", "market_ev", "close_ev", "clv", "roi"):
        assert np.allclose(got[column].astype(float), expected[column], equal_nan=True), column
    assert np.allclose(got["z"], (got["claimed_ev"] - got["roi"]) / got["roi_se"])


def test_bucket_order_and_edges(con) -> None:
    bets, _, _ = claims.claims_window(con, D)
    table = claims.claims_table(bets, "claim")
    assert list(table["claimed_ev_bucket"]) == [
        "< 2 %", "2-5 %", "5-10 %", "10-25 %", "25-50 %", ">= 50 %", "all"]
    # ev = 0.05, 0.25 and 0.5 open their bucket (lower bound included)
    at_edges = bets[bets["ev"].isin([0.05, 0.25, 0.5])]
    assert len(at_edges) > 0
    in_5_10 = table.set_index("claimed_ev_bucket").loc["5-10 %", "bets"]
    assert in_5_10 == bets["ev"].between(0.05, 0.0999).sum()


def test_clustered_se_by_hand() -> None:
    # mean 1/3; residuals 2/3, -4/3 (cluster A), 2/3 (B); cluster sums -2/3, 2/3;
    # sqrt(2/1) * sqrt(8/9) / 3 = 4/9
    x = np.array([1.0, -1.0, 1.0])
    assert claims.clustered_se(x, np.array(["A", "A", "B"])) == pytest.approx(4 / 9)
    # several key columns make one cluster per distinct tuple
    keys = pd.DataFrame({"game_id": [1, 1, 1], "player_id": [5, 5, 6]})
    assert claims.clustered_se(x, keys) == pytest.approx(4 / 9)
    # one prop per cluster: the usual standard error s / sqrt(n)
    y = np.array([2.0, -1.0, -1.0, 0.5, 3.0])
    assert claims.clustered_se(y, np.arange(5)) == pytest.approx(y.std(ddof=1) / math.sqrt(5))
    assert math.isnan(claims.clustered_se(x, np.zeros(3)))


def bucket_bets(ev: float, wins: int, n: int, start: int) -> list[dict]:
    """n bets at decimal 2.0 in n different props claiming `ev`, `wins` of them won."""
    return [bet(D, start + i, ev, 2.0, "WIN" if i < wins else "LOSS", game=start + i)
            for i in range(n)]


def test_sentences_reject_an_overstated_bucket_and_not_a_fair_one() -> None:
    fair = bucket_bets(0.07, 107, 200, 0)          # claims +7 %, returns +7 %
    overstated = bucket_bets(0.35, 100, 200, 1000)  # claims +35 %, returns 0 %
    bets = pd.DataFrame(fair + overstated)
    table = claims.claims_table(bets, "claim").set_index("claimed_ev_bucket")
    assert table.loc["5-10 %", "roi"] == pytest.approx(0.07)
    text = claims.claims_markdown(table.reset_index())
    assert "Bets claiming 25-50 % returned +0.0 % ± 7.1 % (claimed +35.0 %)" in text
    assert "4.9 standard errors above the result" in text
    assert "5-10 %" not in text
    assert text.count("\n") == 0  # one sentence: one rejected bucket

    only_fair = claims.claims_table(pd.DataFrame(fair), "claim")
    text = claims.claims_markdown(only_fair)
    assert text.startswith("No bucket's result rejects its claim")
    assert "largest gap is 0.0 standard errors, bets claiming 5-10 %" in text

    understated = claims.claims_table(pd.DataFrame(bucket_bets(0.03, 150, 200, 0)), "claim")
    assert "standard errors below the result" in claims.claims_markdown(understated)
    assert "no claim" in claims.claims_markdown(claims.claims_table(bets.iloc[:0], "claim"))


def test_chart_renders_with_bets_and_without(con, tmp_path: Path) -> None:
    bets, lo, hi = claims.claims_window(con, D)
    fig = claims.plot_claims(bets, lo, hi)
    lines = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    assert lines["cumulative claimed EV"][-1] == pytest.approx(bets["ev"].sum())
    assert lines["cumulative realized profit"][-1] == pytest.approx(bets["profit_units"].sum())
    assert figure_png(fig).startswith(b"\x89PNG")
    empty = claims.plot_claims(bets.iloc[:0], lo, hi)
    assert "no data" in " ".join(t.get_text() for t in empty.axes[0].texts)
    assert figure_png(empty).startswith(b"\x89PNG")
