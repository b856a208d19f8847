"""`/_emulator/truth/players` rates agree with the per-game truth (pricing.game_truth and the
simulated boxscores), the usual scratches (slots 12, 19, 20) included."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.demo import truth
from helpers.demo.pricing import game_truth
from helpers.demo.roster import SKATER_SLOTS, assist_probabilities

SCRATCH_SLOTS = (12, 19, 20)
# The lineup each slot's published rates are for (roster.dressed_lineup): the usual 18;
# a usual scratch in place of the likeliest other scratch of his group.
OUT_OF_RATING_LINEUP = {12: (11, 19, 20), 19: (12, 18, 20), 20: (12, 18, 19)}


def _rating_lineup(slot: int) -> np.ndarray:
    dressed = np.ones(SKATER_SLOTS, dtype=bool)
    dressed[list(OUT_OF_RATING_LINEUP.get(slot, SCRATCH_SLOTS))] = False
    return dressed
# The payload's derived rates (goals60, assists60) are rounded to 4 decimals from the
# unrounded draws, while the games read the rounded inputs (sog60, shooting_pct, toi_min,
# assist_weight): recomputed from the game's inputs they agree to that rounding only
# (seed 2025: at most 3.2e-4 and 6.2e-4). The stale book reads assists60 itself: exact.
ASSISTS_TOL = 5e-4
GOALS_TOL = 1e-3


@pytest.fixture(scope="module")
def rates(league) -> dict[int, dict[str, float]]:
    payload = json.loads(truth.players_json(league))
    return {p["player_id"]: p["rates"] for p in payload["players"] if p["position"] != "G"}


@pytest.fixture(scope="module")
def season_start_roster(league) -> np.ndarray:
    """(games, 2): the side's 21 skaters are the roster the rates were built with (the
    traded pair changes his new team's lineup, and so his teammates' assist shares)."""
    return np.array([[all(league.players[int(i)].team_on(game.slate_date)
                          == league.players[int(i)].team_history[0][1]
                          for i in league.skaters.player[game.index, side])
                      for side in range(2)] for game in league.games])


def test_players_who_get_assists_in_game_truth_have_positive_assists60(league, rates):
    assisted: set[int] = set()
    sk = league.skaters
    for game in league.games:
        t = game_truth(league, game.index)
        assisted.update(int(pid) for pid, dressed, mean
                        in zip(t.player_id, t.dressed, t.mean["ASSISTS"], strict=True)
                        if dressed and mean > 0)
        got = np.nonzero(sk.dressed[game.index] & (sk.assists[game.index] > 0))
        assisted.update(league.players[int(i)].player_id
                        for i in sk.player[game.index][got])
    scratch_ids = {league.players[int(i)].player_id
                   for i in np.unique(sk.player[:, :, list(SCRATCH_SLOTS)])}
    assert scratch_ids & assisted == scratch_ids  # every usual scratch dresses and assists
    zero = sorted(pid for pid in assisted if not rates[pid]["assists60"] > 0)
    assert not zero, f"{len(zero)} players assist in the game truth with assists60 = 0"


def test_stale_book_reads_the_published_assists60(league, rates):
    """The only place the game truth reads assists60: the stale book's season-rate
    prior, assists60 x expected TOI. It must be the payload's number for every player."""
    sk = league.skaters
    seen_slots: set[int] = set()
    for game in league.games[::7]:
        t = game_truth(league, game.index)
        toi = sk.toi_exp_min[game.index][t.side, t.slot]
        stale_mean = t.stale_at_least["ASSISTS"][:, 1:].sum(-1)  # E[X] = sum P(X >= k)
        published = np.array([rates[int(pid)]["assists60"] for pid in t.player_id])
        np.testing.assert_allclose(stale_mean / toi * 60, published, rtol=1e-9, atol=1e-12)
        seen_slots.update(int(s) for s in t.slot[t.dressed])
    assert set(SCRATCH_SLOTS) <= seen_slots


@pytest.mark.parametrize("slot", [*SCRATCH_SLOTS, *(s for s in range(SKATER_SLOTS)
                                                     if s not in SCRATCH_SLOTS)])
def test_per60_rates_equal_the_rates_the_game_truth_uses(league, rates, season_start_roster,
                                                         slot):
    """In every game where the player dresses in his rating lineup, the
    game truth's own inputs give back the published per-60 rates."""
    sk = league.skaters
    lineup = _rating_lineup(slot)
    assert lineup[slot] and lineup.sum() == 18
    checked = 0
    for game in league.games:
        g = game.index
        for side in range(2):
            if not season_start_roster[g, side]:
                continue
            player = int(sk.player[g, side, slot])
            r = rates[league.players[player].player_id]
            toi = sk.toi_exp_min[g, side]
            base_goals = sk.base_mu_goals[g, side]
            # Rates every dressed skater carries into the game, whatever the lineup.
            assert toi[slot] == r["toi_min"]
            sog60 = (base_goals[slot] + sk.base_mu_saved[g, side, slot]) / toi[slot] * 60
            assert sog60 == pytest.approx(r["sog60"], rel=1e-9)
            assert base_goals[slot] / toi[slot] * 60 == pytest.approx(r["goals60"],
                                                                     abs=GOALS_TOL)
            assert sk.assist_weight[g, side, slot] == r["assist_weight"]
            if not np.array_equal(sk.dressed[g, side], lineup):
                continue
            # The assist rate the simulator and pricing.game_truth use in this lineup,
            # with neutral game factors (base_mu_goals has no multipliers).
            dressed = sk.dressed[g, side]
            share = assist_probabilities((sk.assist_weight[g, side] * dressed)[None],
                                         (base_goals * dressed)[None])[0]
            per60 = share[slot] * (base_goals * dressed).sum() / toi[slot] * 60
            assert per60 > 0
            assert per60 == pytest.approx(r["assists60"], abs=ASSISTS_TOL)
            checked += 1
    assert checked >= 5, f"only {checked} games in slot {slot}'s rating lineup"


def test_rating_lineups():
    """Regulars are rated with the usual 18; a usual scratch replaces the likeliest other
    scratch of his group."""
    from helpers.demo.roster import dressed_lineup

    for slot in range(SKATER_SLOTS):
        assert np.array_equal(dressed_lineup(slot), _rating_lineup(slot)), slot
