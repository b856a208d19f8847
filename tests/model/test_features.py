"""helpers.model.features: windows, the min-games rule, shrinkage, no leakage, the
back-to-back and goalie multipliers, the roster rule (docs/domain.md section 5). Small
hand-built leagues; one slow test on a warehouse filled from the demo emulator."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from helpers.model.features import (
    B2B_MULTIPLIER,
    K_GAMES,
    K_SHOTS,
    MARKETS,
    MIN_GAMES,
    MODEL_VERSION,
    OUTPUT_COLUMNS,
    WINDOWS,
    likely_goalie,
    skater_mu,
    slate_skaters,
)

SLATE = date(2025, 12, 1)
TEAMS = ("BOS", "NYR", "TOR", "MTL")
POSITIONS = ("C", "L", "R", "D")
STARTER, BACKUP = 50, 51


def pid(team: str, i: int) -> int:
    return (TEAMS.index(team) + 1) * 100 + i


def pairings(days_before: int) -> list[tuple[str, str]]:
    """(home, away) pairs; every team plays every listed day."""
    if days_before % 2 == 0:
        return [("BOS", "NYR"), ("TOR", "MTL")]
    return [("BOS", "TOR"), ("NYR", "MTL")]


def game_id(days_before: int, j: int) -> int:
    return 2025020000 + (100 - days_before) * 10 + j


def league(days: range | list[int] = range(1, 26)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Skater and goalie rows of a 4-team league playing on `days` (days before SLATE)."""
    skaters, goalies = [], []
    for d in days:
        day = SLATE - timedelta(days=d)
        start = datetime(day.year, day.month, day.day, 23, 0)
        for j, (home, away) in enumerate(pairings(d)):
            gid = game_id(d, j)
            for team, opp in ((home, away), (away, home)):
                for i, pos in enumerate(POSITIONS):
                    p = pid(team, i)
                    goals = int((p + d) % 7 == 0)
                    assists = int((p + d) % 5 == 0)
                    skaters.append({
                        "game_id": gid, "player_id": p, "team": team, "opponent": opp,
                        "is_home": team == home, "position": pos, "goals": goals,
                        "assists": assists, "points": goals + assists,
                        "sog": 1 + (p + d) % 4, "blocked_shots": 2 if pos == "D" else d % 2,
                        "toi_seconds": 1300 if pos == "D" else 1000, "slate_date": day,
                        "start_ts_utc": start})
                starter = d % 4 != 0
                for k, toi in ((STARTER, 3600 if starter else 0),
                               (BACKUP, 0 if starter else 3600)):
                    goalies.append({
                        "game_id": gid, "player_id": pid(team, k), "team": team,
                        "opponent": opp, "toi_seconds": toi,
                        "shots_against": 30 if toi else 0,
                        "saves": (27 if k == STARTER else 26) if toi else 0,
                        "goals_against": (3 if k == STARTER else 4) if toi else 0,
                        "slate_date": day})
    return pd.DataFrame(skaters), pd.DataFrame(goalies)


def slate_games(day: date = SLATE) -> pd.DataFrame:
    return pd.DataFrame({"game_id": [2025029001, 2025029002], "slate_date": [day, day],
                         "start_ts_utc": [datetime(day.year, day.month, day.day, 23)] * 2,
                         "home_team": ["BOS", "TOR"], "away_team": ["NYR", "MTL"]})


def row(out: pd.DataFrame, player: int, market: str) -> pd.Series:
    hit = out[(out["player_id"] == player) & (out["market_type"] == market)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_shape_columns_and_every_priced_mu_is_finite_and_positive() -> None:
    sk, gk = league()
    out = skater_mu(sk, gk, slate_games(), SLATE)
    assert tuple(out.columns) == OUTPUT_COLUMNS
    assert len(out) == 16 * len(MARKETS)
    assert not out.duplicated(["game_id", "player_id", "market_type"]).any()
    assert set(out["market_type"]) == set(MARKETS)
    assert (out["model_version"] == MODEL_VERSION).all()
    assert out["reason"].isna().all()
    assert np.isfinite(out["mu"]).all() and (out["mu"] > 0).all()
    assert out["games_used"].dtype == "int64"
    for col in ("m_opponent", "m_goalie", "m_b2b"):
        assert np.isfinite(out[col]).all()
    # the goalie applies to the scoring markets only, within its clamp
    assert (out.loc[out["market_type"].isin(["SOG", "BLOCKS"]), "m_goalie"] == 1.0).all()
    assert out["m_goalie"].between(0.5, 1.5).all()
    bos = out[out["team"] == "BOS"]
    assert set(bos["opponent"]) == {"NYR"} and set(bos["game_id"]) == {2025029001}
    # mu is rate60 × projected TOI / 60 × the multipliers
    expected = (out["rate60"] * out["toi_projected_min"] / 60 * out["m_opponent"]
                * out["m_goalie"] * out["m_b2b"])
    np.testing.assert_allclose(out["mu"], expected, rtol=1e-12)


def test_windows_projected_toi_and_the_min_games_rule() -> None:
    sk, gk = league()  # 25 games each
    # the newest 10 games of BOS's centre at 1200 s, the older ones at 1000 s
    p = pid("BOS", 0)
    newest = sk[sk["player_id"] == p].sort_values("slate_date").tail(10).index
    sk.loc[newest, "toi_seconds"] = 1200
    # a call-up with 3 games: listed, not priced
    rookie = sk[sk["player_id"] == pid("BOS", 1)].sort_values("slate_date").tail(3).copy()
    rookie["player_id"] = 199
    sk = pd.concat([sk, rookie], ignore_index=True)
    out = skater_mu(sk, gk, slate_games(), SLATE)
    for market in MARKETS:
        assert row(out, p, market)["games_used"] == min(WINDOWS[market], 25)
        assert row(out, p, market)["toi_projected_min"] == pytest.approx(20.0)
        r = row(out, 199, market)
        assert r["reason"] == "min_games" and math.isnan(r["mu"]) and math.isnan(r["rate60"])
        assert r["games_used"] == 3 and r["team"] == "BOS"
    assert MIN_GAMES == 5
    # exactly MIN_GAMES games prices
    five = sk[sk["player_id"] == pid("BOS", 1)].sort_values("slate_date").tail(5).copy()
    five["player_id"] = 198
    out = skater_mu(pd.concat([sk, five], ignore_index=True), gk, slate_games(), SLATE)
    assert row(out, 198, "SOG")["reason"] is None and row(out, 198, "SOG")["mu"] > 0


def league_rate(sk: pd.DataFrame, stat: str, defense: bool) -> float:
    rows = sk[(sk["position"] == "D") == defense]
    return rows[stat].sum() / rows["toi_seconds"].sum() * 3600


def test_thin_histories_shrink_toward_their_position_rate() -> None:
    sk, gk = league()
    # a sniper with 6 games: 8 shots and 2 goals a night in 1000 s
    games = sk[sk["player_id"] == pid("BOS", 1)].sort_values("slate_date").tail(6).copy()
    sniper = games.assign(player_id=901, position="R", sog=8, goals=2, points=2, assists=0)
    # a defenseman with 6 games who blocks nothing
    dman = games.assign(player_id=902, position="D", blocked_shots=0)
    sk = pd.concat([sk, sniper, dman], ignore_index=True)
    out = skater_mu(sk, gk, slate_games(), SLATE)
    w = 6 / (6 + K_GAMES)
    own_sog = 8 / 1000 * 3600
    lg_f_sog = league_rate(sk, "sog", defense=False)
    shrunk_sog = w * own_sog + (1 - w) * lg_f_sog
    assert row(out, 901, "SOG")["rate60"] == pytest.approx(shrunk_sog)
    assert lg_f_sog < row(out, 901, "SOG")["rate60"] < own_sog
    # GOALS = shrunk shot rate × shooting % shrunk in shots toward the forwards' %
    fwd = sk[sk["position"] != "D"]
    lg_pct = fwd["goals"].sum() / fwd["sog"].sum()
    pct = (12 + K_SHOTS * lg_pct) / (48 + K_SHOTS)
    assert row(out, 901, "GOALS")["rate60"] == pytest.approx(shrunk_sog * pct)
    # the defenseman is pulled toward the defense block rate, not the forwards'
    lg_d_blk = league_rate(sk, "blocked_shots", defense=True)
    assert row(out, 902, "BLOCKS")["rate60"] == pytest.approx((1 - w) * lg_d_blk)
    assert lg_d_blk != pytest.approx(league_rate(sk, "blocked_shots", defense=False))
    assert row(out, 902, "BLOCKS")["mu"] > 0


def test_no_leakage_later_games_and_row_order_change_nothing() -> None:
    sk, gk = league(range(1, 26))
    before = skater_mu(sk, gk, slate_games(), SLATE)
    later_sk, later_gk = league(range(-5, 1))  # the slate day itself and five days after
    later_sk = later_sk.assign(sog=40, goals=9, points=9, blocked_shots=30, toi_seconds=3000,
                               team=later_sk["team"].replace({"BOS": "TOR", "TOR": "BOS"}))
    later_gk = later_gk.assign(goals_against=12, toi_seconds=3600)
    more_sk = pd.concat([sk, later_sk], ignore_index=True).sample(frac=1.0, random_state=3)
    more_gk = pd.concat([gk, later_gk], ignore_index=True).sample(frac=1.0, random_state=4)
    after = skater_mu(more_sk, more_gk, slate_games(), SLATE)
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    # a whole schedule week as slate_games: only the slate's day is used
    week = pd.concat([slate_games(), slate_games(SLATE + timedelta(days=1)).assign(
        game_id=[2025029003, 2025029004])], ignore_index=True)
    pd.testing.assert_frame_equal(before, skater_mu(sk, gk, week, SLATE), check_exact=True)


def test_back_to_back_is_exp_minus_005_on_every_market() -> None:
    sk, gk = league(range(2, 27))  # nobody played yesterday
    rested = skater_mu(sk, gk, slate_games(), SLATE)
    assert (rested["m_b2b"] == 1.0).all()
    # BOS (and its opponent that night, TOR) played yesterday
    y_sk, y_gk = league([1])
    y_sk = y_sk[y_sk["team"].isin(["BOS", "TOR"])]
    y_gk = y_gk[y_gk["team"].isin(["BOS", "TOR"])]
    tired = skater_mu(pd.concat([sk, y_sk]), pd.concat([gk, y_gk]), slate_games(), SLATE)
    tired_teams = tired["team"].isin(["BOS", "TOR"])
    assert (tired.loc[tired_teams, "m_b2b"] == B2B_MULTIPLIER).all()
    assert (tired.loc[~tired_teams, "m_b2b"] == 1.0).all()
    assert pytest.approx(math.exp(-0.05)) == B2B_MULTIPLIER
    r = row(tired, pid("BOS", 0), "SOG")
    assert r["mu"] == pytest.approx(r["rate60"] * r["toi_projected_min"] / 60
                                    * r["m_opponent"] * math.exp(-0.05))


def goalie_rows(team: str, nights: list[tuple[int, int, int]]) -> pd.DataFrame:
    """(days before the slate, player_id, toi seconds) rows for `team`."""
    return pd.DataFrame([{"game_id": game_id(d, 0), "player_id": p, "team": team,
                          "opponent": "XXX", "toi_seconds": toi, "shots_against": 30,
                          "saves": 27, "goals_against": 3, "slate_date": SLATE - timedelta(d)}
                         for d, p, toi in nights])


def test_likely_goalie_is_the_most_toi_and_switches_after_playing_yesterday() -> None:
    # 1 plays four of the last six nights; 2 played three days ago; 3 played long ago
    nights = [(2, 1, 3600), (3, 2, 3600), (4, 1, 3600), (5, 1, 3600), (6, 1, 3600),
              (7, 2, 3600), (30, 3, 3600), (31, 3, 3600), (32, 3, 3600), (33, 3, 3600),
              (34, 3, 3600), (35, 3, 3600)]
    gk = goalie_rows("BOS", nights)
    assert likely_goalie(gk, "BOS", SLATE) == 1
    # 1 also played yesterday: the team starts 2
    yesterday = pd.concat([gk, goalie_rows("BOS", [(1, 1, 3600)])], ignore_index=True)
    assert likely_goalie(yesterday, "BOS", SLATE) == 2
    # a goalie alone in the window keeps the net even on a back-to-back
    alone = goalie_rows("BOS", [(1, 1, 3600), (2, 1, 3600)])
    assert likely_goalie(alone, "BOS", SLATE) == 1
    # nothing within 14 days: unknown
    assert likely_goalie(goalie_rows("BOS", [(20, 1, 3600)]), "BOS", SLATE) is None
    # only games before the slate count
    future = pd.concat([gk, goalie_rows("BOS", [(0, 2, 3600), (-1, 2, 3600)] * 3)])
    assert likely_goalie(future, "BOS", SLATE) == 1


def test_the_opposing_goalie_multiplier_follows_his_form() -> None:
    sk, gk = league(range(2, 27))
    out = skater_mu(sk, gk, slate_games(), SLATE)
    # NYR's starter (3 GA on 30) is better than the league's blend with the backup (4 on 30)
    r = row(out, pid("BOS", 0), "GOALS")
    assert r["m_goalie"] < 1.0
    # make NYR's starter a sieve: BOS skaters' scoring mu rises, their SOG does not move
    worse = gk.copy()
    sieve = (worse["player_id"] == pid("NYR", STARTER)) & (worse["toi_seconds"] > 0)
    worse.loc[sieve, ["saves", "goals_against"]] = [22, 8]
    out2 = skater_mu(sk, worse, slate_games(), SLATE)
    assert row(out2, pid("BOS", 0), "GOALS")["m_goalie"] > 1.0
    assert row(out2, pid("BOS", 0), "POINTS")["mu"] > row(out, pid("BOS", 0), "POINTS")["mu"]
    assert row(out2, pid("BOS", 0), "SOG")["mu"] == row(out, pid("BOS", 0), "SOG")["mu"]


def test_a_traded_player_counts_for_his_new_team_and_a_long_absence_drops_him() -> None:
    sk, gk = league()
    p = pid("TOR", 0)
    recent = sk["player_id"].eq(p) & (pd.to_datetime(sk["slate_date"])
                                      >= pd.Timestamp(SLATE - timedelta(days=2)))
    traded = sk.loc[recent].copy()
    sk = sk.loc[~recent]
    # his last two games were for BOS (against BOS's opponents those nights)
    bos = sk[sk["player_id"] == pid("BOS", 0)]
    bos = bos[pd.to_datetime(bos["slate_date"]) >= pd.Timestamp(SLATE - timedelta(days=2))]
    sk = pd.concat([sk, bos.assign(player_id=p, position="C")], ignore_index=True)
    assert len(traded) == 2
    roster = slate_skaters(sk, slate_games(), SLATE)
    assert roster.loc[roster["player_id"] == p, "team"].tolist() == ["BOS"]
    out = skater_mu(sk, gk, slate_games(), SLATE)
    mine = out[out["player_id"] == p]
    assert set(mine["team"]) == {"BOS"} and set(mine["opponent"]) == {"NYR"}
    assert len(mine) == len(MARKETS) and (mine["games_used"] > 2).all()  # history kept
    # a skater whose last game is more than 14 days old is not on the slate
    gone = sk["player_id"].eq(pid("MTL", 3)) & (pd.to_datetime(sk["slate_date"])
                                                 > pd.Timestamp(SLATE - timedelta(days=15)))
    out = skater_mu(sk.loc[~gone], gk, slate_games(), SLATE)
    assert pid("MTL", 3) not in set(out["player_id"])


def test_no_history_or_no_slate_gives_an_empty_frame_with_the_columns() -> None:
    sk, gk = league()
    empty = skater_mu(sk, gk, slate_games().iloc[0:0], SLATE)
    assert empty.empty and tuple(empty.columns) == OUTPUT_COLUMNS
    none = skater_mu(sk.iloc[0:0], gk.iloc[0:0], slate_games(), SLATE)
    assert none.empty and tuple(none.columns) == OUTPUT_COLUMNS


@pytest.mark.slow
def test_the_demo_warehouse_prices_every_established_skater_plausibly(warm_home) -> None:
    import time

    from helpers.core import db
    from helpers.nhl.api import parse_schedule
    from helpers.nhl.warehouse import refresh_stats

    slate = date(2025, 12, 1)
    as_of = datetime(2025, 12, 1, 15, 0)
    emu, home = warm_home  # the season's stats through 2025-11-30 (tests/conftest.py)
    settings = emu.settings(home)
    con = db.connect(settings.paths.db_path)
    report = refresh_stats(con, settings, slate, as_of, run_id="r1")
    assert report.error is None, report.summary()
    assert str(report.stats_through) == "2025-11-30"
    body = requests_get(f"{emu.base_url}/v1/schedule/{slate.isoformat()}")
    trade = emu.league.trade
    sk = con.execute("SELECT s.*, g.slate_date, g.start_ts_utc FROM fact_skater_games s "
                     "JOIN dim_games g USING (game_id)").fetchdf()
    gk = con.execute("SELECT s.*, g.slate_date FROM fact_goalie_games s "
                     "JOIN dim_games g USING (game_id)").fetchdf()
    con.close()
    games = parse_schedule(body)
    games = games[games["slate_date"] == slate]
    assert len(games) > 0

    began = time.perf_counter()
    out = skater_mu(sk, gk, games, slate)
    elapsed = time.perf_counter() - began
    print(f"skater_mu on the demo slate: {elapsed:.3f}s, {len(out)} rows")
    assert elapsed < 10

    priced = out[out["reason"].isna()]
    roster = slate_skaters(sk, games, slate)
    established = roster.loc[roster["n_total"] >= MIN_GAMES, "player_id"]
    assert len(established) >= 20 * len(games)
    counts = priced.groupby("player_id")["mu"].count()
    assert set(counts.index) == set(established) and (counts == len(MARKETS)).all()
    assert np.isfinite(priced["mu"]).all() and (priced["mu"] > 0).all()
    means = priced.groupby("market_type")["mu"].mean()
    assert 1.0 < means["SOG"] < 4.0
    assert 0.05 < means["GOALS"] < 0.6
    assert 0.1 < means["ASSISTS"] < 0.9
    assert 0.2 < means["POINTS"] < 1.4
    assert means["GOALS"] < means["POINTS"] and means["ASSISTS"] < means["POINTS"]
    assert 0.3 < means["BLOCKS"] < 2.5
    for col in ("m_opponent", "m_goalie", "m_b2b"):
        assert priced[col].between(0.5, 1.5).all()

    # the emulator's trade: each player is listed for his new team only
    (a, b), (team_a, team_b) = trade.player_ids, trade.teams
    swap = pd.DataFrame({"game_id": [1], "slate_date": [slate], "start_ts_utc": [as_of],
                         "home_team": [team_a], "away_team": [team_b]})
    teams = slate_skaters(sk, swap, slate).set_index("player_id")["team"]
    assert teams.get(a) == team_b and teams.get(b) == team_a


def requests_get(url: str) -> bytes:
    import requests

    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.content
