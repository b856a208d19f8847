"""Teams, players and their true per-60 rates.

Each team has 13 forwards, 8 defensemen (18 of those 21 dress) and 2-3 goalies, in depth
order: slot 0 is the first-line center, slot 13 the top defenseman.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from helpers.core.teams import TEAMS
from helpers.demo.names import HAZARDS, PersonName, boxscore_name, generate_names, vendor_names
from helpers.demo.schedule import VENUE_TZ

F_SLOTS = 13
D_SLOTS = 8
SKATER_SLOTS = F_SLOTS + D_SLOTS
G_SLOTS = 3

# Share of team goals with a primary assist, and of those with a secondary one (~1.7 a goal).
P_PRIMARY = 0.92
P_SECONDARY = 0.75
LEAGUE_SAVE_PCT = 0.906
# Scratch weights by slot: the 13th forward and the 7th/8th defensemen sit most nights,
# anybody else occasionally (injuries). simulate.py draws each game's lineup from these.
SCRATCH_WEIGHT = np.array([0.15] * 10 + [1.0, 2.0, 8.0] + [0.2] * 6 + [6.0, 8.0])

# NHL team ids as api-web uses them.
NHL_TEAM_IDS: dict[str, int] = {
    "NJD": 1, "NYI": 2, "NYR": 3, "PHI": 4, "PIT": 5, "BOS": 6, "BUF": 7, "MTL": 8, "OTT": 9,
    "TOR": 10, "CAR": 12, "FLA": 13, "TBL": 14, "WSH": 15, "CHI": 16, "DET": 17, "NSH": 18,
    "STL": 19, "CGY": 20, "COL": 21, "EDM": 22, "VAN": 23, "ANA": 24, "DAL": 25, "LAK": 26,
    "SJS": 28, "CBJ": 29, "MIN": 30, "WPG": 52, "VGK": 54, "SEA": 55, "UTA": 68,
}


def _unabated_team_ids() -> dict[str, int]:
    """734 CAR and 747 DAL are Unabated's real ids; the rest are stable inventions."""
    fixed = {"CAR": 734, "DAL": 747}
    free = (n for n in range(721, 800) if n not in fixed.values())
    return {code: fixed.get(code) or next(free) for code in sorted(TEAMS)}


UNABATED_TEAM_IDS = _unabated_team_ids()


@dataclass(frozen=True)
class Team:
    code: str
    nhl_id: int
    place: str
    nickname: str
    unabated_id: int
    venue_tz: str
    offense: float  # multiplier on the team's own shots
    defense: float  # multiplier on the opponents' shots (> 1 leaks more)

    @property
    def full_name(self) -> str:
        return f"{self.place} {self.nickname}"


@dataclass(frozen=True)
class SkaterRates:
    toi_min: float
    sog60: float
    shooting_pct: float
    goals60: float
    assists60: float  # expected with the team's usual lineup, league-average opponent
    assist_weight: float  # share of a teammate's goal he assists, before normalising
    blocks60: float
    hits60: float
    pim60: float
    giveaways60: float
    takeaways60: float
    faceoffs60: float
    faceoff_pct: float


@dataclass(frozen=True)
class GoalieRates:
    save_pct: float


@dataclass(frozen=True)
class Player:
    index: int
    player_id: int
    name: PersonName
    position: str  # C L R D G
    sweater: int
    depth: int  # rank within forwards / defense / goalies, 0 = top
    team_history: tuple[tuple[date, str], ...]  # (from date, team code), ascending
    unabated_id: int
    rates: SkaterRates | GoalieRates

    @property
    def full_name(self) -> str:
        return self.name.full

    @property
    def is_goalie(self) -> bool:
        return self.position == "G"

    def team_on(self, day: date) -> str:
        team = self.team_history[0][1]
        for start, code in self.team_history:
            if day >= start:
                team = code
        return team

    def vendor_name(self, vendor: str) -> str:
        return vendor_names(self.name)[vendor]

    @property
    def boxscore_name(self) -> dict[str, str]:
        return boxscore_name(self.name)


@dataclass(frozen=True)
class Trade:
    date: date  # first day with the new teams
    player_ids: tuple[int, int]
    teams: tuple[str, str]  # before the trade: player_ids[0] on teams[0], [1] on teams[1]


def assist_probabilities(weight: np.ndarray, goal_mu: np.ndarray) -> np.ndarray:
    """P(player j gets an assist on a team goal), rows = team lineups (B, n).

    The scorer is drawn with probability goal_mu / sum(goal_mu); a primary assister
    (P_PRIMARY) is drawn from the others with probability proportional to weight, then a
    secondary one (P_SECONDARY) from the rest -- the simulator's exact procedure.
    """
    w = np.asarray(weight, dtype=float)
    g = np.asarray(goal_mu, dtype=float)
    total = w.sum(-1, keepdims=True)  # (B, 1)
    n = w.shape[-1]
    eye = np.eye(n, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = w[:, None, :] / (total - w)[:, :, None]  # [b, scorer, k]
        first = np.where(eye, 0.0, np.nan_to_num(first))
        rest = total[:, :, None] - w[:, :, None] - w[:, None, :]
        second_norm = np.where(eye | (rest <= 0), 0.0, 1.0 / np.where(rest > 0, rest, 1.0))
    pair = first * second_norm  # P(primary = k | s) / (remaining weight after k)
    summed = pair.sum(-1, keepdims=True)
    secondary = w[:, None, :] * (summed - pair)  # excludes k == j
    given_scorer = P_PRIMARY * first + P_PRIMARY * P_SECONDARY * secondary
    given_scorer = np.where(eye, 0.0, given_scorer)
    goal_total = g.sum(-1, keepdims=True)
    scorer_share = np.where(goal_total > 0, g / np.maximum(goal_total, 1e-12), 0.0)
    return (scorer_share[:, :, None] * given_scorer).sum(axis=1)


def _slot_positions(rng: np.random.Generator) -> list[str]:
    forwards = ["C", "L", "R"] * 4 + [str(rng.choice(["C", "L", "R"]))]
    return forwards + ["D"] * D_SLOTS


def _skater_rates(rng: np.random.Generator, n_teams: int) -> dict[str, np.ndarray]:
    """Rates per (team, slot), vectorised. Spreads follow the NHL: first-line forwards
    ~20 min and 3+ shots, fourth line ~11 min and ~1 shot, defense 16-25 min."""
    shape = (n_teams, SKATER_SLOTS)
    line = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 5, 5, 6, 6, 7, 7, 8, 8])
    is_d = line >= 5
    toi_lo = np.array([18.5, 15.5, 13.0, 10.5, 9.5, 22.0, 19.0, 16.0, 15.0])[line]
    toi_hi = np.array([21.0, 18.0, 15.5, 13.0, 11.5, 25.0, 21.5, 18.5, 17.0])[line]
    toi = rng.uniform(toi_lo, toi_hi, shape)
    sog_base = np.array([9.5, 7.8, 6.5, 5.5, 5.3, 4.3, 4.0, 3.6, 3.4])[line]
    sog60 = sog_base * np.exp(rng.normal(0, 0.2, shape))
    sog60[:, 0] *= 1.2  # each team's star
    shooting = np.where(is_d, 0.05 * np.exp(rng.normal(0, 0.3, shape)),
                        0.108 * np.exp(rng.normal(0, 0.22, shape)) * np.where(line == 0, 1.1, 1.0))
    shooting = np.clip(shooting, np.where(is_d, 0.015, 0.05), np.where(is_d, 0.10, 0.20))
    assist_talent = np.where(is_d, 0.8 * np.exp(rng.normal(0, 0.3, shape)),
                             (sog60 / 7.5) ** 0.8 * np.exp(rng.normal(0, 0.25, shape)))
    blocks60 = np.where(is_d, 4.3 * np.exp(rng.normal(0, 0.25, shape)),
                        1.3 * np.exp(rng.normal(0, 0.35, shape)))
    return {
        "toi_min": toi,
        "sog60": sog60,
        "shooting_pct": shooting,
        "assist_weight": assist_talent * toi,
        "blocks60": blocks60,
        "hits60": 3.0 * np.exp(rng.normal(0, 0.5, shape)),
        "pim60": 0.9 * np.exp(rng.normal(0, 0.5, shape)),
        "giveaways60": 1.3 * np.exp(rng.normal(0, 0.4, shape)),
        "takeaways60": 1.0 * np.exp(rng.normal(0, 0.4, shape)),
        "faceoff_pct": rng.uniform(0.42, 0.58, shape),
    }


def dressed_lineup(slot: int) -> np.ndarray:
    """The lineup (a mask over the 21 skater slots) a player in `slot` is rated with: the
    most likely 18 with him dressed. For a regular that is the usual lineup (slots 12, 19
    and 20 out); a usual scratch takes the place of the most likely scratch among the
    others of his group (ties: the deepest slot), e.g. slot 12 in means slot 11 out."""
    dressed = np.ones(SKATER_SLOTS, dtype=bool)
    for lo, hi, n_out in ((0, F_SLOTS, 1), (F_SLOTS, SKATER_SLOTS, 2)):
        others = [s for s in range(lo, hi) if s != slot]
        # Stable sort on (-weight, -slot): heaviest scratch weight first, deepest on ties.
        out = sorted(others, key=lambda s: (-SCRATCH_WEIGHT[s], -s))[:n_out]
        dressed[out] = False
    return dressed


def _typical_assists60(rates: dict[str, np.ndarray]) -> np.ndarray:
    """Assists per 60 in each player's `dressed_lineup`, neutral factors -- what the game
    truth gives him in that lineup (before overtime and the game multipliers)."""
    out = np.zeros(rates["toi_min"].shape)
    lineups = [dressed_lineup(slot) for slot in range(SKATER_SLOTS)]
    for dressed in {tuple(d) for d in lineups}:
        mask = np.array(dressed)
        goal_mu = rates["sog60"] * rates["shooting_pct"] * rates["toi_min"] / 60 * mask
        share = assist_probabilities(rates["assist_weight"] * mask, goal_mu)
        team_goals = goal_mu.sum(-1, keepdims=True)
        per60 = share * team_goals / rates["toi_min"] * 60
        cols = [s for s in range(SKATER_SLOTS) if tuple(lineups[s]) == dressed]
        out[:, cols] = per60[:, cols]
    return out


def build_teams(rng: np.random.Generator) -> tuple[Team, ...]:
    codes = sorted(TEAMS)
    offense = np.exp(rng.normal(0, 0.07, len(codes)))
    defense = np.exp(rng.normal(0, 0.07, len(codes)))
    return tuple(
        Team(code, NHL_TEAM_IDS[code], TEAMS[code][0], TEAMS[code][1], UNABATED_TEAM_IDS[code],
             VENUE_TZ[code], round(float(offense[i]), 4), round(float(defense[i]), 4))
        for i, code in enumerate(codes))


def _place_hazards(rng: np.random.Generator, codes: list[str]) -> dict[tuple[int, int], int]:
    """(team index, slot) -> hazard index; teams drawn from the seed when not fixed."""
    placed: dict[tuple[int, int], int] = {}
    for h, spec in enumerate(HAZARDS):
        slot = spec.depth if spec.position != "D" else F_SLOTS + spec.depth
        team = codes.index(spec.team) if spec.team else int(rng.integers(len(codes)))
        while (team, slot) in placed:
            team = (team + 1) % len(codes)
        placed[(team, slot)] = h
    return placed


def build_players(rng: np.random.Generator, teams: tuple[Team, ...], season_start: date,
                  trade_date: date) -> tuple[tuple[Player, ...], np.ndarray, np.ndarray, Trade]:
    """Players plus rosters: skaters (teams, 21) and goalies (teams, 3) as player indices
    (-1 = empty goalie slot), as they stand before the trade."""
    codes = [t.code for t in teams]
    n_teams = len(codes)
    hazards = _place_hazards(rng, codes)
    n_goalies = np.where(rng.random(n_teams) < 0.25, 3, 2)
    n_players = n_teams * SKATER_SLOTS + int(n_goalies.sum())
    taken = {spec.name.full for spec in HAZARDS}
    generic = iter(generate_names(rng, n_players - len(HAZARDS), taken))
    ids = 8470000 + rng.choice(20000, n_players, replace=False)
    unabated_ids = 10000 + rng.choice(90000, n_players, replace=False)
    rates = _skater_rates(rng, n_teams)
    rates["assists60"] = _typical_assists60(rates)
    fo60 = rng.uniform(40, 62, (n_teams, SKATER_SLOTS))

    skaters = np.zeros((n_teams, SKATER_SLOTS), dtype=np.int32)
    goalies = np.full((n_teams, G_SLOTS), -1, dtype=np.int32)
    pending: list[dict] = []
    for t, code in enumerate(codes):
        positions = _slot_positions(rng)
        sweaters = rng.choice(np.arange(2, 99), SKATER_SLOTS, replace=False)
        free_numbers = [n for n in (1, 29, 30, 31, 32, 33, 34, 35, 39, 40, 41, 50, 70, 80)
                        if n not in sweaters]
        goalie_numbers = rng.choice(free_numbers, G_SLOTS, replace=False)
        for slot in range(SKATER_SLOTS):
            hazard = hazards.get((t, slot))
            name = HAZARDS[hazard].name if hazard is not None else next(generic)
            position = HAZARDS[hazard].position if hazard is not None else positions[slot]
            r = {k: float(v[t, slot]) for k, v in rates.items()}
            is_center = position == "C"
            skater_rates = SkaterRates(
                toi_min=round(r["toi_min"], 3), sog60=round(r["sog60"], 4),
                shooting_pct=round(r["shooting_pct"], 4),
                goals60=round(r["sog60"] * r["shooting_pct"], 4),
                assists60=round(r["assists60"], 4), assist_weight=round(r["assist_weight"], 4),
                blocks60=round(r["blocks60"], 4), hits60=round(r["hits60"], 4),
                pim60=round(r["pim60"], 4), giveaways60=round(r["giveaways60"], 4),
                takeaways60=round(r["takeaways60"], 4),
                faceoffs60=round(float(fo60[t, slot]), 2) if is_center else
                (1.5 if position in "LR" else 0.0),
                faceoff_pct=round(r["faceoff_pct"], 4) if is_center else 0.45)
            skaters[t, slot] = len(pending)
            pending.append(dict(name=name, position=position, sweater=int(sweaters[slot]),
                                depth=slot if slot < F_SLOTS else slot - F_SLOTS, team=code,
                                rates=skater_rates))
        saves = sorted(rng.uniform(0.890, 0.925, n_goalies[t]), reverse=True)
        for g in range(n_goalies[t]):
            goalies[t, g] = len(pending)
            pending.append(dict(name=next(generic), position="G", sweater=int(goalie_numbers[g]),
                                depth=g, team=code, rates=GoalieRates(round(float(saves[g]), 4))))

    # The mid-season trade: two second/third-line forwards of different teams swap clubs.
    t1, t2 = rng.choice([t for t in range(n_teams) if codes[t] not in ("CAR", "NYI")], 2,
                        replace=False)
    slot = int(rng.integers(3, 9))
    while (t1, slot) in hazards or (t2, slot) in hazards:
        slot = 3 + (slot - 2) % 6
    a, b = int(skaters[t1, slot]), int(skaters[t2, slot])
    pending[a]["moved_to"], pending[b]["moved_to"] = codes[t2], codes[t1]

    players = []
    for i, p in enumerate(pending):
        history = ((season_start, p["team"]),)
        if "moved_to" in p:
            history += ((trade_date, p["moved_to"]),)
        players.append(Player(i, int(ids[i]), p["name"], p["position"], p["sweater"],
                              p["depth"], history, int(unabated_ids[i]), p["rates"]))
    trade = Trade(trade_date, (players[a].player_id, players[b].player_id),
                  (codes[t1], codes[t2]))
    return tuple(players), skaters, goalies, trade


def skater_rate_arrays(players: tuple[Player, ...]) -> dict[str, np.ndarray]:
    """Per-player rate columns indexed by Player.index (zeros for goalies)."""
    fields = SkaterRates.__dataclass_fields__
    out = {k: np.zeros(len(players)) for k in fields}
    out["save_pct"] = np.zeros(len(players))
    for p in players:
        if isinstance(p.rates, SkaterRates):
            for k in fields:
                out[k][p.index] = getattr(p.rates, k)
        else:
            out["save_pct"][p.index] = p.rates.save_pct
    return out

