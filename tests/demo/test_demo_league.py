"""The simulated league: determinism, speed, rosters, name hazards, schedule, results."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest

from helpers.core.teams import TEAM_CODES
from helpers.demo import build_league
from helpers.demo.names import fold_ascii
from helpers.demo.roster import F_SLOTS
from helpers.demo.schedule import EASTERN


def test_same_seed_same_league_and_different_seed_differs(league):
    again = build_league(league.seed)
    assert [p.full_name for p in again.players] == [p.full_name for p in league.players]
    assert [(g.game_id, g.away, g.home, g.away_score, g.home_score) for g in again.games] == \
        [(g.game_id, g.away, g.home, g.away_score, g.home_score) for g in league.games]
    assert np.array_equal(again.skaters.sog, league.skaters.sog)
    other = build_league(league.seed + 1)
    assert [p.full_name for p in other.players] != [p.full_name for p in league.players]
    assert [(g.away, g.home) for g in other.games[:20]] != [(g.away, g.home) for g in league.games[:20]]


def test_build_is_fast():
    start = time.perf_counter()
    build_league(11, days=120)
    assert time.perf_counter() - start < 3.0


def test_shorter_season_is_a_prefix_of_a_longer_one(league):
    short = build_league(league.seed, days=50)
    n = len(short.games)
    assert n > 300
    assert [(g.game_id, g.start_utc, g.home_score) for g in short.games] == \
        [(g.game_id, g.start_utc, g.home_score) for g in league.games[:n]]
    assert np.array_equal(short.skaters.goals, league.skaters.goals[:n])
    assert np.array_equal(short.skaters.plus_minus, league.skaters.plus_minus[:n])


def test_teams_and_rosters(league):
    assert {t.code for t in league.teams} == TEAM_CODES
    ids = [p.player_id for p in league.players]
    assert len(set(ids)) == len(ids)
    assert all(8470000 <= i <= 8489999 for i in ids)
    start = league.season_start
    for team in league.teams:
        roster = [p for p in league.players if p.team_on(start) == team.code]
        by_pos = Counter("G" if p.is_goalie else ("D" if p.position == "D" else "F")
                         for p in roster)
        assert by_pos["F"] == 13 and by_pos["D"] == 8 and by_pos["G"] in (2, 3)
        assert {p.position for p in roster if p.position != "D" and not p.is_goalie} <= set("CLR")
        sweaters = [p.sweater for p in roster]
        assert len(set(sweaters)) == len(sweaters)


@pytest.mark.parametrize("seed", [1, 2, 2025, 99991])
def test_name_hazards_exist_in_every_seed(seed):
    lg = build_league(seed, days=40)
    start = lg.season_start
    ahos = [p for p in lg.players if p.full_name == "Sebastian Aho"]
    assert sorted(p.team_on(start) for p in ahos) == ["CAR", "NYI"]
    assert len({p.player_id for p in ahos}) == 2
    accented = [p for p in lg.players if fold_ascii(p.full_name) != p.full_name]
    assert len(accented) >= 10
    assert any(p.full_name == "Tomáš Hertl" for p in lg.players)
    names = {p.full_name: p for p in lg.players}
    assert names["Alexander Kovalenko"].vendor_name("UNABATED") == "Alex Kovalenko"
    assert names["Matthew Beckett"].vendor_name("ODDSSHARK") == "Matt Beckett"
    assert names["Arseny Gritsenko"].vendor_name("PLAYNOW") == "Arseni Gritsenko"
    assert names["Tomáš Hertl"].vendor_name("UNABATED") == "Tomas Hertl"
    assert names["Tomáš Hertl"].boxscore_name == {"default": "T. Hertl"}
    # api-web: Czech names in ASCII by default, accented in the cs/sk variants
    assert names["Ondřej Kaše"].boxscore_name == {"default": "O. Kase", "cs": "O. Kaše",
                                                  "sk": "O. Kaše"}
    assert "Ã" in names["Jérémy Beaulieu"].vendor_name("PLAYNOW")  # mojibake hazard
    # Only the intended duplicate: no other full name appears twice.
    dupes = [n for n, c in Counter(fold_ascii(p.full_name) for p in lg.players).items() if c > 1]
    assert dupes == ["Sebastian Aho"]


def test_traded_player_changes_team_and_plays_for_both(league):
    trade = league.trade
    assert league.season_start < trade.date < league.season_start + timedelta(days=league.days)
    sk = league.skaters
    for pid, before in zip(trade.player_ids, trade.teams, strict=True):
        player = league.player_by_id[pid]
        assert player.team_on(trade.date - timedelta(days=1)) == before
        after = player.team_on(trade.date)
        assert after != before
        teams_played = set()
        for g in league.games:
            rows = np.argwhere((sk.player[g.index] == player.index) & sk.dressed[g.index])
            if len(rows):
                side = int(rows[0][0])
                teams_played.add((g.slate_date >= trade.date, (g.away, g.home)[side]))
        assert (False, before) in teams_played and (True, after) in teams_played
        assert (True, before) not in teams_played and (False, after) not in teams_played


def test_rates_have_realistic_spreads(league):
    sk = league.skaters
    fwd = sk.dressed & (np.arange(21) < F_SLOTS)
    dmen = sk.dressed & (np.arange(21) >= F_SLOTS)
    assert 1.8 <= sk.sog[fwd].mean() <= 2.6
    assert sk.sog[:, :, 0][sk.dressed[:, :, 0]].mean() >= 3.2  # first-line stars
    assert 0.35 <= sk.goals[:, :, 0][sk.dressed[:, :, 0]].mean() <= 0.6
    assert sk.blocks[dmen].mean() > 3 * sk.blocks[fwd].mean()
    toi_f = np.array([p.rates.toi_min for p in league.players if p.position in "CLR"])
    toi_d = np.array([p.rates.toi_min for p in league.players if p.position == "D"])
    assert toi_f.min() >= 9 and toi_f.max() <= 21.5 and toi_d.min() >= 15 and toi_d.max() <= 25
    saves = [p.rates.save_pct for p in league.players if p.is_goalie]
    assert min(saves) >= 0.89 and max(saves) <= 0.925
    assert 2.7 <= sk.goals.sum(-1).mean() <= 3.5  # goals per team-game


def test_schedule_shape(league):
    per_day = Counter(g.slate_date for g in league.games)
    assert min(per_day.values()) >= 4 and max(per_day.values()) <= 13
    assert len(per_day) == league.days
    ids = [g.game_id for g in league.games]
    assert ids == list(range(2025020001, 2025020001 + len(ids)))
    assert all(g.season == 20252026 for g in league.games)
    first_60 = [g for g in league.games if g.slate_date < league.season_start + timedelta(60)]
    per_team = Counter(c for g in first_60 for c in (g.away, g.home))
    assert min(per_team.values()) >= 24 and max(per_team.values()) <= 34
    b2b = sum(g.away_back_to_back or g.home_back_to_back for g in league.games)
    assert 0.03 < b2b / len(league.games) < 0.35
    for g in league.games:
        assert g.away != g.home
        assert g.start_utc.astimezone(EASTERN).date() == g.slate_date
        local = g.start_utc.astimezone(EASTERN)
        assert (local.hour, local.minute) in {(19, 0), (19, 30), (20, 0), (21, 0), (22, 0),
                                              (22, 30)}
    # no team plays twice on a day
    for day in per_day:
        teams = [c for g in league.games_on(day) for c in (g.away, g.home)]
        assert len(teams) == len(set(teams))


def test_evening_games_cross_midnight_utc_with_dst(league):
    crossing = [g for g in league.games if g.start_utc.date() != g.slate_date]
    assert len(crossing) > len(league.games) // 3
    # 7:00 PM ET is 23:00 UTC under EDT and 00:00 UTC (next day) under EST.
    seven = [g for g in league.games if g.start_utc.astimezone(EASTERN).hour == 19
             and g.start_utc.astimezone(EASTERN).minute == 0]
    edt = [g for g in seven if g.slate_date < date(2025, 11, 2)]
    est = [g for g in seven if g.slate_date > date(2025, 11, 2)]
    assert edt and est
    assert all(g.start_utc.hour == 23 and g.start_utc.date() == g.slate_date for g in edt)
    assert all(g.start_utc.hour == 0 and g.start_utc.date() == g.slate_date + timedelta(1)
               for g in est)


def test_results_are_consistent(league):
    sk, ev = league.skaters, league.goals
    team_goals = sk.goals.sum(-1)
    assert np.array_equal(team_goals[:, 0], [g.away_score for g in league.games])
    assert np.array_equal(team_goals[:, 1], [g.home_score for g in league.games])
    assert all(g.away_score != g.home_score for g in league.games)  # OT decides ties
    assert (sk.assists.sum(-1) <= 2 * team_goals).all()
    assert (sk.sog >= sk.goals).all() and (sk.ppg <= sk.goals).all()
    scratched = ~sk.dressed
    for arr in (sk.goals, sk.assists, sk.sog, sk.blocks, sk.toi_s, sk.hits):
        assert (arr[scratched] == 0).all()
    assert (sk.dressed.sum(-1) == 18).all()
    # events agree with the per-player counts
    counts = np.zeros_like(sk.goals)
    np.add.at(counts, (ev.game, ev.side, ev.scorer), 1)
    assert np.array_equal(counts, sk.goals)
    assert ((ev.assist1 != ev.scorer) | (ev.assist1 < 0)).all()
    assert ((ev.assist2 != ev.assist1) | (ev.assist2 < 0)).all()
    # starting goalie plays, one per team-game
    assert (league.goalies.starter.sum(-1) == 1).all()


def test_simulation_matches_the_true_distributions(league):
    """Realised counts agree with the exact distributions the books price (calibration)."""
    from helpers.demo.pricing import game_truth

    games = range(0, len(league.games), 3)
    predicted = Counter()
    observed = Counter()
    sk = league.skaters
    for g in games:
        truth = game_truth(league, g)
        keep = truth.dressed
        side, slot = truth.side[keep], truth.slot[keep]
        for market, actual, k in (("GOALS", sk.goals, 1), ("ASSISTS", sk.assists, 1),
                                  ("POINTS", sk.goals + sk.assists, 1), ("SOG", sk.sog, 3),
                                  ("BLOCKS", sk.blocks, 2)):
            predicted[market] += truth.at_least[market][keep, k].sum()
            observed[market] += (actual[g, side, slot] >= k).sum()
            predicted[market + "_mean"] += truth.mean[market][keep].sum()
            observed[market + "_mean"] += actual[g, side, slot].sum()
    for key in predicted:
        assert observed[key] == pytest.approx(predicted[key], rel=0.06), key
