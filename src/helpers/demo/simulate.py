"""Simulate every game of the schedule from the true rates, vectorised over all games.

Per team-game: 18 of 21 skaters dress, a starting goalie is picked, each skater's
expected counts come from rate x expected TOI x game multipliers (team offense, opponent
defense, opposing goalie, back-to-back, home ice). Goals are Poisson, saved shots and
blocks negative binomial; shots on goal = goals + saved shots. A regulation tie is broken
by one overtime goal. Assists are drawn per goal from the scorer's dressed teammates.
dists.with_overtime and roster.assist_probabilities give the exact distributions of
these draws, which is what the books price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.demo import dists, rand
from helpers.demo.roster import (
    F_SLOTS,
    LEAGUE_SAVE_PCT,
    P_PRIMARY,
    P_SECONDARY,
    SCRATCH_WEIGHT,
    SKATER_SLOTS,
)

HOME_EDGE = 1.02
BACK_TO_BACK = float(np.exp(-0.05))
# Share of non-overtime goals scored on the power play / short-handed.
PP_SHARE = 0.20
SH_SHARE = 0.03
# Goals happen in the first 95% of the wall-clock game window; the OT goal after that.
REGULATION_END_FRAC = 0.95

LATE_SCRATCH_SHARE = 0.3  # of scratches, announced too late for the books


@dataclass(frozen=True, eq=False)
class SkaterGames:
    """Arrays shaped (games, 2, 21): side 0 = away, 1 = home; slots in depth order."""

    player: np.ndarray
    dressed: np.ndarray
    late_scratch: np.ndarray
    toi_exp_min: np.ndarray
    mu_goals: np.ndarray
    mu_saved: np.ndarray
    alpha_saved: np.ndarray
    mu_blocks: np.ndarray
    assist_weight: np.ndarray
    base_mu_goals: np.ndarray  # without the game multipliers (what a stale book uses)
    base_mu_saved: np.ndarray
    base_mu_blocks: np.ndarray
    goals: np.ndarray
    assists: np.ndarray
    saved: np.ndarray
    blocks: np.ndarray
    hits: np.ndarray
    pim: np.ndarray
    ppg: np.ndarray
    plus_minus: np.ndarray
    toi_s: np.ndarray
    shifts: np.ndarray
    giveaways: np.ndarray
    takeaways: np.ndarray
    fo_won: np.ndarray
    fo_taken: np.ndarray

    @property
    def sog(self) -> np.ndarray:
        return self.goals + self.saved


@dataclass(frozen=True, eq=False)
class GoalieGames:
    """Arrays shaped (games, 2, 3)."""

    player: np.ndarray  # -1 = empty slot
    dressed: np.ndarray
    starter: np.ndarray
    toi_s: np.ndarray


@dataclass(frozen=True, eq=False)
class GoalEvents:
    """One row per goal, sorted by game then time."""

    game: np.ndarray
    side: np.ndarray
    t_frac: np.ndarray  # fraction of the wall-clock game window
    scorer: np.ndarray  # skater slot
    assist1: np.ndarray  # slot or -1
    assist2: np.ndarray
    strength: np.ndarray  # 0 even, 1 power play, 2 short-handed
    overtime: np.ndarray
    game_start: np.ndarray  # (games + 1,) offsets into the rows


def _invert(u: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    return rand.invert_pmf(u, pmf).astype(np.int16)


def simulate(seed: int, numbers: np.ndarray, roster: np.ndarray, goalie_roster: np.ndarray,
             teams: np.ndarray, back_to_back: np.ndarray, rates: dict[str, np.ndarray],
             offense: np.ndarray, defense: np.ndarray
             ) -> tuple[SkaterGames, GoalieGames, GoalEvents]:
    n_games = len(numbers)
    num = numbers[:, None, None]
    side_ix = np.arange(2)[None, :, None]
    slot_ix = np.arange(SKATER_SLOTS)[None, None, :]
    keys = (num, side_ix, slot_ix)

    # Lineups: one forward and two defensemen out per team-game.
    score = np.log(SCRATCH_WEIGHT) + rand.gumbel(seed, "scratch", *keys)
    out = np.zeros((n_games, 2, SKATER_SLOTS), dtype=bool)
    f_out = np.argmax(score[..., :F_SLOTS], axis=-1)
    d_out = F_SLOTS + np.argsort(-score[..., F_SLOTS:], axis=-1)[..., :2]
    np.put_along_axis(out, f_out[..., None], True, axis=-1)
    np.put_along_axis(out, d_out, True, axis=-1)
    dressed = ~out
    late = out & (rand.uniform(seed, "late_scratch", *keys) < LATE_SCRATCH_SHARE)

    # Goalies: the starter sits the second night of a back-to-back and ~22% otherwise.
    has_backup = goalie_roster[..., 1] >= 0
    backup_starts = back_to_back | (rand.uniform(seed, "goalie", numbers[:, None],
                                                 np.arange(2)[None, :]) < 0.22)
    starter_slot = np.where(backup_starts & has_backup, 1, 0)
    g_dressed = np.zeros(goalie_roster.shape, dtype=bool)
    g_dressed[..., :2] = goalie_roster[..., :2] >= 0
    g_starter = np.zeros(goalie_roster.shape, dtype=bool)
    np.put_along_axis(g_starter, starter_slot[..., None], True, axis=-1)
    starter = np.take_along_axis(goalie_roster, starter_slot[..., None], axis=-1)[..., 0]
    goalie_factor = (1 - rates["save_pct"][starter]) / (1 - LEAGUE_SAVE_PCT)

    # Expected counts.
    r = {k: v[roster] for k, v in rates.items() if k != "save_pct"}
    opp = teams[:, ::-1]
    shots_mult = (offense[teams] * defense[opp]
                  * np.where(back_to_back, BACK_TO_BACK, 1.0)
                  * np.array([1.0 / HOME_EDGE, HOME_EDGE])[None, :])[..., None]
    goals_mult = shots_mult * goalie_factor[:, ::-1, None]
    blocks_mult = offense[opp][..., None] * np.ones((1, 1, SKATER_SLOTS))
    toi = r["toi_min"]
    base_sog = r["sog60"] * toi / 60
    base_goals = base_sog * r["shooting_pct"]
    mu_goals = base_goals * goals_mult
    mu_saved = base_sog * shots_mult - mu_goals
    # The saved-shot dispersion that keeps SOG = goals + saved near NB(alpha=0.35).
    alpha_saved = dists.ALPHA_SOG * ((mu_goals + mu_saved) / mu_saved) ** 2
    base_blocks = r["blocks60"] * toi / 60
    mu_blocks = base_blocks * blocks_mult

    goals = _invert(rand.uniform(seed, "goals", *keys),
                    dists.poisson_pmf(mu_goals * dressed, 12))
    saved = _invert(rand.uniform(seed, "saved", *keys),
                    dists.nbinom_pmf(mu_saved * dressed, alpha_saved, 30))
    blocks = _invert(rand.uniform(seed, "blocks", *keys),
                     dists.nbinom_pmf(mu_blocks * dressed, dists.ALPHA_BLOCKS, 30))
    goals *= dressed
    saved *= dressed
    blocks *= dressed

    events = _goal_events(seed, numbers, goals, mu_goals * dressed,
                          r["assist_weight"] * dressed)
    # Overtime goals added to the scorer's count (they are also shots on goal).
    ot = events.overtime
    np.add.at(goals, (events.game[ot], events.side[ot], events.scorer[ot]), 1)
    assists = np.zeros_like(goals)
    for col in (events.assist1, events.assist2):
        has = col >= 0
        np.add.at(assists, (events.game[has], events.side[has], col[has]), 1)
    ppg = np.zeros_like(goals)
    pp = events.strength == 1
    np.add.at(ppg, (events.game[pp], events.side[pp], events.scorer[pp]), 1)

    had_ot = np.zeros(n_games, dtype=bool)
    had_ot[events.game[ot]] = True
    ot_minutes = np.zeros(n_games)
    ot_minutes[events.game[ot]] = (events.t_frac[ot] - REGULATION_END_FRAC) / 0.05 * 5
    toi_s = np.rint(toi * 60 * (1 + ot_minutes[:, None, None] / 60)
                    * np.exp(0.10 * rand.normal(seed, "toi", *keys))).astype(np.int32) * dressed
    shift_len = np.where(slot_ix >= F_SLOTS, 52.0, 45.0)
    shifts = np.rint(toi_s / shift_len * np.exp(0.08 * rand.normal(seed, "shifts", *keys)))

    def cosmetic(name: str, per60: np.ndarray, kmax: int = 20) -> np.ndarray:
        mu = per60 * toi_s / 3600
        return _invert(rand.uniform(seed, name, *keys), dists.poisson_pmf(mu, kmax))

    fo_taken = cosmetic("faceoffs", r["faceoffs60"], 45)
    fo_pct = np.clip(r["faceoff_pct"] + 0.08 * rand.normal(seed, "fo_pct", *keys), 0, 1)
    skaters = SkaterGames(
        player=roster, dressed=dressed, late_scratch=late, toi_exp_min=toi,
        mu_goals=mu_goals, mu_saved=mu_saved, alpha_saved=alpha_saved, mu_blocks=mu_blocks,
        assist_weight=r["assist_weight"], base_mu_goals=base_goals,
        base_mu_saved=base_sog - base_goals, base_mu_blocks=base_blocks,
        goals=goals, assists=assists, saved=saved, blocks=blocks,
        hits=cosmetic("hits", r["hits60"]), pim=2 * cosmetic("pim", r["pim60"] / 2, 6),
        ppg=ppg, plus_minus=_plus_minus(seed, events, toi_s), toi_s=toi_s,
        shifts=shifts.astype(np.int16),
        giveaways=cosmetic("giveaways", r["giveaways60"]),
        takeaways=cosmetic("takeaways", r["takeaways60"]),
        fo_won=np.rint(fo_taken * fo_pct).astype(np.int16), fo_taken=fo_taken)
    goalie_toi = np.where(g_starter, np.rint(3600 + ot_minutes[:, None, None] * 60), 0)
    goalies = GoalieGames(player=goalie_roster, dressed=g_dressed, starter=g_starter,
                          toi_s=goalie_toi.astype(np.int32))
    return skaters, goalies, events


def _goal_events(seed: int, numbers: np.ndarray, goals: np.ndarray, goal_mu: np.ndarray,
                 assist_weight: np.ndarray) -> GoalEvents:
    n_games = len(numbers)
    g_idx, s_idx, slot = np.nonzero(goals)
    counts = goals[g_idx, s_idx, slot]
    game = np.repeat(g_idx, counts)
    side = np.repeat(s_idx, counts)
    scorer = np.repeat(slot, counts)
    # j-th goal of that player in that game, for per-goal keys
    first = np.repeat(np.cumsum(counts) - counts, counts)
    nth = np.arange(len(game)) - first
    number = numbers[game]
    t = rand.uniform(seed, "goal_time", number, side, scorer, nth) * REGULATION_END_FRAC

    # Overtime: a regulation tie ends with one goal, by team and scorer in proportion to
    # their expected goals (what dists.with_overtime assumes).
    team_goals = goals.sum(-1)
    team_mu = goal_mu.sum(-1)
    tied = np.nonzero(team_goals[:, 0] == team_goals[:, 1])[0]
    home_share = team_mu[tied, 1] / (team_mu[tied, 0] + team_mu[tied, 1])
    ot_side = (rand.uniform(seed, "ot_team", numbers[tied]) < home_share).astype(np.intp)
    with np.errstate(divide="ignore"):
        ot_keys = (np.log(goal_mu[tied, ot_side])
                   + rand.gumbel(seed, "ot_scorer", numbers[tied][:, None],
                                 np.arange(SKATER_SLOTS)[None, :]))
    ot_scorer = np.argmax(ot_keys, axis=-1)
    ot_t = REGULATION_END_FRAC + 0.01 + 0.035 * rand.uniform(seed, "ot_time", numbers[tied])

    game = np.concatenate([game, tied])
    side = np.concatenate([side, ot_side])
    scorer = np.concatenate([scorer, ot_scorer])
    nth = np.concatenate([nth, np.full(len(tied), 99)])
    t = np.concatenate([t, ot_t])
    overtime = np.concatenate([np.zeros(len(t) - len(tied), bool), np.ones(len(tied), bool)])
    number = numbers[game]
    event_keys = (number, side, scorer, nth)

    # Assists: Gumbel top-2 = weighted sampling without replacement among teammates.
    weights = assist_weight[game, side].copy()
    weights[np.arange(len(game)), scorer] = 0.0
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rand.gumbel(seed, "assist", *(k[:, None] for k in event_keys),
                                             np.arange(SKATER_SLOTS)[None, :])
    top2 = np.argsort(-keys, axis=-1, kind="stable")[:, :2]
    has1 = rand.uniform(seed, "assist1", *event_keys) < P_PRIMARY
    has2 = has1 & (rand.uniform(seed, "assist2", *event_keys) < P_SECONDARY)
    assist1 = np.where(has1, top2[:, 0], -1)
    assist2 = np.where(has2, top2[:, 1], -1)

    u = rand.uniform(seed, "strength", *event_keys)
    strength = np.where(u < PP_SHARE, 1, np.where(u < PP_SHARE + SH_SHARE, 2, 0))
    strength[overtime] = 0

    order = np.lexsort((t, game))
    game = game[order]
    starts = np.searchsorted(game, np.arange(n_games + 1))
    return GoalEvents(game=game, side=side[order], t_frac=t[order], scorer=scorer[order],
                      assist1=assist1[order], assist2=assist2[order],
                      strength=strength[order], overtime=overtime[order], game_start=starts)


def _plus_minus(seed: int, events: GoalEvents, toi_s: np.ndarray) -> np.ndarray:
    """+1 / -1 for the five skaters on ice at each non-power-play goal (cosmetic: on-ice
    skaters drawn by ice time, the scorer and assisters always among them)."""
    pm = np.zeros(toi_s.shape, dtype=np.int16)
    keep = events.strength != 1
    game, side = events.game[keep], events.side[keep]
    slots = np.arange(SKATER_SLOTS)[None, :]
    eid = np.nonzero(keep)[0][:, None]
    with np.errstate(divide="ignore"):
        for sign, team_side, tag in ((1, side, "pm_for"), (-1, 1 - side, "pm_against")):
            keys = np.log(toi_s[game, team_side].astype(float)) + rand.gumbel(
                seed, tag, game[:, None], eid, slots)
            if sign == 1:
                for col in (events.scorer[keep], events.assist1[keep], events.assist2[keep]):
                    has = col >= 0
                    keys[np.nonzero(has)[0], col[has]] = np.inf
            on_ice = np.argsort(-keys, axis=-1, kind="stable")[:, :5]
            np.add.at(pm, (game[:, None], team_side[:, None], on_ice), sign)
    return pm
