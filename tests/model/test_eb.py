"""helpers.model.eb (challenger `eb-season`): the empirical-Bayes pieces by hand, and the
model on the demo world's boxscores: its output shape, no leakage, its reasons."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from helpers.demo.league import build_league
from helpers.harness.referee import season_history, slate_games
from helpers.model import eb
from helpers.model.features import MARKETS, MIN_GAMES, OUTPUT_COLUMNS

SLATE = date(2025, 11, 3)


# ---- the pieces ---------------------------------------------------------------------------

def test_shrink_rates_pulls_a_short_record_more_than_a_long_one() -> None:
    # four players with the same prior 1.0; true spread exists (rates 0.5..2.0)
    count = np.array([20.0, 40.0, 2.0, 4.0])
    exposure = np.array([40.0, 20.0, 4.0, 2.0])
    prior = np.ones(4)
    out = eb.shrink_rates(count, exposure, prior, alpha=0.0)
    raw = count / exposure
    # every estimate lies between its own rate and the prior
    assert np.all((out - prior) * (raw - prior) >= 0)
    assert np.all(np.abs(out - prior) <= np.abs(raw - prior))
    # same raw distance from the prior, less exposure -> pulled harder
    assert abs(out[0] - 1.0) > abs(out[2] - 1.0)
    assert abs(out[1] - 1.0) > abs(out[3] - 1.0)


def test_shrink_rates_by_hand() -> None:
    count = np.array([30.0, 10.0])
    exposure = np.array([10.0, 10.0])
    prior = np.array([2.0, 2.0])
    # rates 3 and 1; s2 = 2/10 = 0.2; cv2 = sum(10*((1)^2 - 0.2)) / sum(10*4) = 16/80 = 0.2
    # tau2 = 0.2*4 = 0.8; weight = 0.8 / 1.0 = 0.8
    out = eb.shrink_rates(count, exposure, prior, alpha=0.0)
    assert out == pytest.approx([2.8, 1.2])


def test_shrink_rates_with_no_spread_returns_the_prior() -> None:
    # the same rate for all: any difference is noise, so the weight is ~0
    out = eb.shrink_rates(np.array([10.0, 10.0]), np.array([10.0, 10.0]), np.array([1.0, 1.0]),
                          alpha=0.0)
    assert out == pytest.approx([1.0, 1.0], abs=1e-4)


def test_shrink_proportions_by_hand() -> None:
    hits = np.array([30.0, 10.0])
    trials = np.array([100.0, 100.0])
    # p0 = 0.2; spread = 100*0.01 + 100*0.01 - 2*0.16 = 1.68; tau2 = 1.68/200 = 0.0084
    # prior_n = 0.16/0.0084 - 1 = 18.047...; (30 + 18.047*0.2) / 118.047
    prior_n = 0.16 / 0.0084 - 1
    out = eb.shrink_proportions(hits, trials)
    assert out == pytest.approx([(30 + prior_n * 0.2) / (100 + prior_n),
                                 (10 + prior_n * 0.2) / (100 + prior_n)])
    # a shooter without shots gets the pooled rate
    assert eb.shrink_proportions(np.array([5.0, 0.0]), np.array([50.0, 0.0]))[1] == \
        pytest.approx(0.1)


def test_toi_prior_follows_ice_time_and_falls_back_to_the_mean() -> None:
    toi = np.linspace(10, 22, 30)
    rate = 0.1 * toi
    prior = eb.toi_prior(rate, toi, np.ones(30))
    assert prior == pytest.approx(rate, rel=1e-6)
    few = eb.toi_prior(rate[:5], toi[:5], np.ones(5))
    assert few == pytest.approx(np.full(5, rate[:5].mean()))


# ---- the model on the demo world ----------------------------------------------------------

@pytest.fixture(scope="module")
def world():
    league = build_league()
    return league, season_history(league, date(2025, 11, 10))


def test_output_has_the_production_columns_and_prices_the_slate(world) -> None:
    league, history = world
    mus = eb.skater_mu(history.skaters, history.goalies, slate_games(league, SLATE), SLATE)
    assert list(mus.columns) == [*OUTPUT_COLUMNS, "m_home"]
    assert set(mus["model_version"]) == {eb.MODEL_VERSION}
    assert set(mus["market_type"]) == set(MARKETS)
    priced = mus[mus["reason"].isna()]
    assert len(priced) > 0.9 * len(mus)
    assert (priced["mu"] > 0).all() and np.isfinite(priced["mu"]).all()
    # POINTS is GOALS + ASSISTS for every skater
    wide = priced.pivot_table(index=["game_id", "player_id"], columns="market_type",
                              values="mu")
    assert np.allclose(wide["POINTS"], wide["GOALS"] + wide["ASSISTS"])
    # games on the slate: one team per side, every game present
    assert set(mus["game_id"]) == set(slate_games(league, SLATE)["game_id"])


def test_a_skater_below_the_minimum_games_is_listed_with_the_reason(world) -> None:
    league, history = world
    before = history.skaters[pd.to_datetime(history.skaters["slate_date"])
                             < pd.Timestamp(SLATE)]
    # a regular of a team playing on the slate keeps only his last 3 games
    home = slate_games(league, SLATE)["home_team"].iloc[0]
    pid = int(before.loc[before["team"] == home, "player_id"].value_counts().index[0])
    mine = before.loc[before["player_id"] == pid].sort_values("slate_date").index
    dropped = before.drop(mine[:-3])
    assert len(dropped) == len(before) - len(mine) + 3 and MIN_GAMES > 3
    mus = eb.skater_mu(dropped, history.goalies, slate_games(league, SLATE), SLATE)
    rows = mus[mus["player_id"] == pid]
    assert len(rows) == len(MARKETS)
    assert set(rows["reason"]) == {"min_games"}
    assert rows["mu"].isna().all()


def test_later_games_do_not_change_a_past_snapshot(world) -> None:
    league, history = world
    games = slate_games(league, SLATE)
    before = history.skaters[pd.to_datetime(history.skaters["slate_date"])
                             < pd.Timestamp(SLATE)]
    goalies_before = history.goalies[pd.to_datetime(history.goalies["slate_date"])
                                     < pd.Timestamp(SLATE)]
    early = eb.skater_mu(before, goalies_before, games, SLATE)
    late = eb.skater_mu(history.skaters, history.goalies, games, SLATE)
    assert len(history.skaters) > len(before)  # the later games are really there
    assert early.to_csv(index=False).encode() == late.to_csv(index=False).encode()


def test_row_order_of_the_history_does_not_matter(world) -> None:
    league, history = world
    games = slate_games(league, SLATE)
    shuffled = history.skaters.sample(frac=1.0, random_state=7)
    goalies = history.goalies.sample(frac=1.0, random_state=8)
    a = eb.skater_mu(history.skaters, history.goalies, games, SLATE)
    b = eb.skater_mu(shuffled, goalies, games, SLATE)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
