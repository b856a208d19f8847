"""Expected counts (mu) of the probability model p10-nhlapi (docs/domain.md section 5).

Pure functions on pandas frames: no IO, no clock, no environment. `skater_mu` takes the
warehouse's history and the slate's games and returns one row per (game, skater, market)
with the mean the distributions of `helpers.model.distributions` turn into probabilities.

No leakage: every input is cut to ``slate_date < slate`` *before* anything is computed
(league rates included), and every frame is sorted on a unique key before it is summed, so
appending later games, or shuffling the input rows, gives the same frame byte for byte.

Choices (each also noted where it is made)
- Windows: the player's last N games of any team (GOALS 10, SOG 20, ASSISTS 40, POINTS 40,
  BLOCKS 10; fewer if that is all there is); a rate is sum(stat) / sum(TOI) × 3600, so a
  short-TOI game weighs less than a full one. Projected TOI: mean of the last 10 games.
- Shrinkage: rate = (n·own + K·league) / (n + K), n = games in the window, K = 10 games;
  the league rate is the player's position group (forwards C/L/R, defense D) over all
  history before the slate.
- GOALS: shrunk SOG rate over the GOALS window (10) × shooting % over the same games shrunk
  toward the position group's shooting %: (goals + 50·lg%) / (shots + 50), K in shots.
- Opponent: the opponent's last 20 games (team totals from the skater rows, per 60 of
  goalie TOI, at least 60 min a game), shrunk toward the league with K = 10 games, ÷ league,
  ^0.15. SOG: opponent shots-against; BLOCKS: opponent shots-for (the shots the skater's
  team must block; shots on goal stand in for attempts, which the source lacks); GOALS,
  ASSISTS, POINTS: opponent goals-against.
- Goalie (GOALS, ASSISTS, POINTS): the opposing team's goalie with most TOI over its last 10
  games within 14 days; if he played yesterday, the next one (if any). His GSAA60 over his
  last 20 games, GSAA = SA·(1 - lgSV%) - GA, is shrunk toward 0 with n/(n + 10) games,
  then m = clamp(max(0.1, 1 - GSAA60/lgGA60)^0.2, 0.5, 1.5). No goalie known -> 1.0.
- Back-to-back (the skater's team played yesterday): e^-0.05 on every market.
- Roster: a skater belongs to the team of his most recent game before the slate (a traded
  player counts for his new team) if that game is within the last 14 days.
- Not priced (mu NaN, reason set, row still listed): "min_games" below MIN_GAMES games in
  total; "zero_toi" if his projected TOI is 0 (mu would be 0, a data error downstream).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

import numpy as np
import pandas as pd

from helpers.core.markets import MARKETS

__all__ = [
    "ACTIVE_DAYS",
    "B2B_MULTIPLIER",
    "K_GAMES",
    "K_SHOTS",
    "MARKETS",
    "MIN_GAMES",
    "MODEL_VERSION",
    "OUTPUT_COLUMNS",
    "TOI_WINDOW",
    "WINDOWS",
    "likely_goalie",
    "position_group",
    "prior_goalies",
    "prior_skaters",
    "skater_mu",
    "slate_day",
    "slate_roster",
    "slate_skaters",
    "slate_teams",
    "team_games",
    "teams_played_on",
]

MODEL_VERSION = "p10-nhlapi"
WINDOWS: Mapping[str, int] = MappingProxyType(
    {"GOALS": 10, "SOG": 20, "ASSISTS": 40, "POINTS": 40, "BLOCKS": 10})
TOI_WINDOW = 10           # games behind the projected TOI
MIN_GAMES = 5             # below this a skater is listed, not priced
ACTIVE_DAYS = 14          # roster: last game within this many days; goalie look-back too
K_GAMES = 10.0            # shrinkage weight n / (n + K_GAMES), n in games
K_SHOTS = 50.0            # shooting % shrinkage, in shots
TEAM_WINDOW = 20          # opponent rates: the opponent's last 20 games
GOALIE_TOI_WINDOW = 10    # likely goalie: most TOI over the team's last 10 games (in 14 days)
GOALIE_FORM_WINDOW = 20   # GSAA over the goalie's last 20 games
OPPONENT_EXPONENT = 0.15
GOALIE_EXPONENT = 0.2
B2B_MULTIPLIER = math.exp(-0.05)

# market -> the skater stat column it counts
_STAT = {"GOALS": "goals", "ASSISTS": "assists", "POINTS": "points", "SOG": "sog",
         "BLOCKS": "blocked_shots"}
_STATS = ("goals", "assists", "points", "sog", "blocked_shots")
_GOAL_MARKETS = ("GOALS", "ASSISTS", "POINTS")

OUTPUT_COLUMNS = ("game_id", "player_id", "team", "opponent", "position", "market_type", "mu",
                  "games_used", "toi_projected_min", "rate60", "m_opponent", "m_goalie",
                  "m_b2b", "model_version", "reason")


# ---- inputs -------------------------------------------------------------------------------

def _day(values: pd.Series) -> pd.Series:
    """A date column (date objects, strings or datetimes) as midnight timestamps."""
    return pd.to_datetime(values).dt.normalize()


def slate_day(slate_date: date | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(slate_date).normalize()


def position_group(position: pd.Series) -> pd.Series:
    """'D' for defense, 'F' for everything else (C, L, R, or an unknown position)."""
    return pd.Series(np.where(position.astype(str).str.upper() == "D", "D", "F"),
                     index=position.index)


def prior_skaters(skater_games: pd.DataFrame, slate: pd.Timestamp) -> pd.DataFrame:
    """Skater rows before the slate (filtered first), newest first per player, with `k`
    the recency rank (0 = his last game)."""
    day = _day(skater_games["slate_date"])
    sk = skater_games.loc[day < slate].copy()
    sk["day"] = _day(sk["slate_date"])
    sk["start"] = pd.to_datetime(sk["start_ts_utc"])
    sk["game_id"] = sk["game_id"].astype("int64")
    sk["player_id"] = sk["player_id"].astype("int64")
    for col in (*_STATS, "toi_seconds"):
        sk[col] = sk[col].astype("float64").fillna(0.0)
    sk["group"] = position_group(sk["position"])
    sk = sk.sort_values(["player_id", "day", "start", "game_id"],
                        ascending=[True, False, False, False], kind="mergesort")
    sk["k"] = sk.groupby("player_id").cumcount()
    return sk.reset_index(drop=True)


def prior_goalies(goalie_games: pd.DataFrame, slate: pd.Timestamp) -> pd.DataFrame:
    day = _day(goalie_games["slate_date"])
    gk = goalie_games.loc[day < slate].copy()
    gk["day"] = _day(gk["slate_date"])
    gk["game_id"] = gk["game_id"].astype("int64")
    gk["player_id"] = gk["player_id"].astype("int64")
    for col in ("toi_seconds", "shots_against", "saves", "goals_against"):
        gk[col] = gk[col].astype("float64")  # NA stays NaN: such rows skip the GSAA sums
    gk["toi_seconds"] = gk["toi_seconds"].fillna(0.0)
    return gk.sort_values(["player_id", "day", "game_id"], ascending=[True, False, False],
                          kind="mergesort").reset_index(drop=True)


def slate_teams(slate_games: pd.DataFrame, slate: pd.Timestamp) -> pd.DataFrame:
    """The slate's games only (a schedule week may be passed whole), one row per team."""
    games = slate_games.loc[_day(slate_games["slate_date"]) == slate]
    games = games.sort_values("game_id", kind="mergesort")
    home = pd.DataFrame({"game_id": games["game_id"].astype("int64"),
                         "team": games["home_team"].astype(str),
                         "opponent": games["away_team"].astype(str)})
    away = pd.DataFrame({"game_id": games["game_id"].astype("int64"),
                         "team": games["away_team"].astype(str),
                         "opponent": games["home_team"].astype(str)})
    return pd.concat([home, away], ignore_index=True).sort_values(
        ["game_id", "team"], kind="mergesort").reset_index(drop=True)


# ---- roster -------------------------------------------------------------------------------

def slate_roster(sk: pd.DataFrame, teams: pd.DataFrame, slate: pd.Timestamp) -> pd.DataFrame:
    # A skater's team is that of his most recent game (a trade moves him at once); he must
    # have played within ACTIVE_DAYS so a long-injured or demoted player is not priced.
    last = sk.loc[sk["k"] == 0, ["player_id", "team", "position", "group", "day"]]
    last = last.assign(team=last["team"].astype(str))
    last = last.loc[last["day"] >= slate - pd.Timedelta(days=ACTIVE_DAYS)]
    counts = sk.groupby("player_id").size().rename("n_total").reset_index()
    roster = teams.merge(last.drop(columns="day"), on="team", how="inner")
    roster = roster.merge(counts, on="player_id", how="left")
    return roster.sort_values(["game_id", "team", "player_id"], kind="mergesort"
                              ).reset_index(drop=True)


def slate_skaters(skater_games: pd.DataFrame, slate_games: pd.DataFrame,
                  slate_date: date | str | pd.Timestamp) -> pd.DataFrame:
    """The slate's skaters: game_id, team, opponent, player_id, position, group, n_total
    (his games before the slate). See the module docstring for the roster rule."""
    slate = slate_day(slate_date)
    return slate_roster(prior_skaters(skater_games, slate), slate_teams(slate_games, slate),
                   slate)


# ---- rates --------------------------------------------------------------------------------

def _league_rates(sk: pd.DataFrame) -> pd.DataFrame:
    """Per position group: each stat per 60 and the shooting %, over all prior games."""
    sums = sk.groupby("group")[[*_STATS, "toi_seconds"]].sum()
    out = pd.DataFrame(index=pd.Index(["D", "F"], name="group"))
    for stat in _STATS:
        out[stat] = (sums[stat] / sums["toi_seconds"] * 3600.0).reindex(out.index)
    out["shooting"] = (sums["goals"] / sums["sog"]).reindex(out.index)
    # A group with no history at all (tiny test frames) borrows the other group's rate.
    return out.fillna(out.mean()).fillna(0.0)


def _shrink(own_sum: pd.Series, toi_sum: pd.Series, n: pd.Series,
            league: pd.Series) -> pd.Series:
    """(n·own + K·league) / (n + K), own = sum / TOI × 3600 (the league rate if no TOI)."""
    own = (own_sum / toi_sum.where(toi_sum > 0) * 3600.0).fillna(league)
    return (n * own + K_GAMES * league) / (n + K_GAMES)


def _player_rates(sk: pd.DataFrame, roster: pd.DataFrame,
                  league: pd.DataFrame) -> pd.DataFrame:
    """One row per (player, market): games_used, rate60 (shrunk), toi_projected_min."""
    players = roster[["player_id", "group"]].drop_duplicates("player_id")
    mine = sk.loc[sk["player_id"].isin(players["player_id"])]
    toi = (mine.loc[mine["k"] < TOI_WINDOW].groupby("player_id")["toi_seconds"].mean()
           / 60.0).rename("toi_projected_min")
    frames = []
    for market in MARKETS:
        window = mine.loc[mine["k"] < WINDOWS[market]].groupby("player_id")[
            [*_STATS, "toi_seconds"]].sum()
        window["n"] = mine.loc[mine["k"] < WINDOWS[market]].groupby("player_id").size()
        w = players.set_index("player_id").join(window, how="inner")
        lg = league.reindex(w["group"])
        lg.index = w.index
        if market == "GOALS":
            # No xG: shot volume × finishing, both over the GOALS window; the shooting %
            # is shrunk in shots (K_SHOTS), the shot rate in games like every other rate.
            shots = _shrink(w["sog"], w["toi_seconds"], w["n"], lg["sog"])
            shooting = (w["goals"] + K_SHOTS * lg["shooting"]) / (w["sog"] + K_SHOTS)
            rate = shots * shooting
        else:
            stat = _STAT[market]
            rate = _shrink(w[stat], w["toi_seconds"], w["n"], lg[stat])
        frames.append(pd.DataFrame({"player_id": w.index, "market_type": market,
                                    "games_used": w["n"].astype("int64").to_numpy(),
                                    "rate60": rate.to_numpy(dtype="float64")}))
    rates = pd.concat(frames, ignore_index=True)
    return rates.merge(toi.reset_index(), on="player_id", how="left")


# ---- team multipliers ---------------------------------------------------------------------

def team_games(sk: pd.DataFrame, gk: pd.DataFrame) -> pd.DataFrame:
    """One row per (game, team): shots / goals for and against and the minutes played
    (the team's goalie TOI, at least 60: a pulled goalie does not shorten the game)."""
    tg = sk.sort_values(["game_id", "team", "player_id"], kind="mergesort").groupby(
        ["game_id", "team"], as_index=False).agg(
        opponent=("opponent", "first"), day=("day", "first"), sf=("sog", "sum"),
        gf=("goals", "sum"))
    tg["team"] = tg["team"].astype(str)
    tg["opponent"] = tg["opponent"].astype(str)
    minutes = gk.assign(team=gk["team"].astype(str)).groupby(["game_id", "team"])[
        "toi_seconds"].sum().div(60.0).rename("minutes").reset_index()
    tg = tg.merge(minutes, on=["game_id", "team"], how="left")
    tg["minutes"] = tg["minutes"].fillna(60.0).clip(lower=60.0)
    against = tg[["game_id", "team", "sf", "gf"]].rename(
        columns={"team": "opponent", "sf": "sa", "gf": "ga"})
    tg = tg.merge(against, on=["game_id", "opponent"], how="inner")  # both sides known
    return tg.sort_values(["team", "day", "game_id"], ascending=[True, False, False],
                          kind="mergesort").reset_index(drop=True)


def _opponent_multipliers(tg: pd.DataFrame) -> pd.DataFrame:
    """Per team T: the multipliers a skater facing T gets (index team)."""
    minutes = tg["minutes"].sum()
    lg_sf60 = tg["sf"].sum() / minutes * 60.0 if minutes > 0 else np.nan
    lg_gf60 = tg["gf"].sum() / minutes * 60.0 if minutes > 0 else np.nan
    recent = tg.loc[tg.groupby("team").cumcount() < TEAM_WINDOW]
    sums = recent.groupby("team")[["sf", "sa", "ga", "minutes"]].sum()
    n = recent.groupby("team").size()

    def ratio(col: str, league: float) -> pd.Series:
        own = sums[col] / sums["minutes"] * 60.0
        shrunk = (n * own + K_GAMES * league) / (n + K_GAMES)
        return (shrunk / league) ** OPPONENT_EXPONENT

    if not (lg_sf60 > 0 and lg_gf60 > 0):
        return pd.DataFrame(columns=["m_shots", "m_blocks", "m_goals"], dtype="float64")
    return pd.DataFrame({"m_shots": ratio("sa", lg_sf60),    # SOG: shots T allows
                         "m_blocks": ratio("sf", lg_sf60),   # BLOCKS: shots T takes
                         "m_goals": ratio("ga", lg_gf60)})   # GOALS/ASSISTS/POINTS


def teams_played_on(tg: pd.DataFrame, day: pd.Timestamp) -> set[str]:
    return set(tg.loc[tg["day"] == day, "team"])


# ---- goalies ------------------------------------------------------------------------------

def _likely_goalie(gk: pd.DataFrame, team: str, slate: pd.Timestamp) -> int | None:
    # Most TOI over the team's last GOALIE_TOI_WINDOW games within ACTIVE_DAYS; if he played
    # yesterday (a back-to-back), the team usually starts the other one: the next by TOI.
    rows = gk.loc[(gk["team"].astype(str) == team)
                  & (gk["day"] >= slate - pd.Timedelta(days=ACTIVE_DAYS))]
    if rows.empty:
        return None
    games = rows[["game_id", "day"]].drop_duplicates().sort_values(
        ["day", "game_id"], ascending=False, kind="mergesort").head(GOALIE_TOI_WINDOW)
    rows = rows.loc[rows["game_id"].isin(games["game_id"])]
    toi = rows.groupby("player_id")["toi_seconds"].sum()
    toi = toi.loc[toi > 0]
    if toi.empty:
        return None
    ranked = sorted(toi.items(), key=lambda item: (-item[1], item[0]))
    yesterday = slate - pd.Timedelta(days=1)
    played = set(gk.loc[(gk["day"] == yesterday) & (gk["toi_seconds"] > 0), "player_id"])
    if ranked[0][0] in played and len(ranked) > 1:
        return int(ranked[1][0])
    return int(ranked[0][0])


def likely_goalie(goalie_games: pd.DataFrame, team: str,
                  slate_date: date | str | pd.Timestamp) -> int | None:
    """The player_id of `team`'s likely starter on the slate (None if none is known)."""
    slate = slate_day(slate_date)
    return _likely_goalie(prior_goalies(goalie_games, slate), team, slate)


def _goalie_multiplier(gk: pd.DataFrame, goalie: int | None) -> float:
    if goalie is None:
        return 1.0
    known = gk.loc[gk["shots_against"].notna() & gk["goals_against"].notna()
                   & (gk["toi_seconds"] > 0)]
    sa, ga, toi = (known[c].sum() for c in ("shots_against", "goals_against", "toi_seconds"))
    if not (sa > 0 and ga > 0 and toi > 0):
        return 1.0
    lg_sv = 1.0 - ga / sa
    lg_ga60 = ga / toi * 3600.0
    mine = known.loc[known["player_id"] == goalie].head(GOALIE_FORM_WINDOW)  # newest first
    if mine.empty:
        return 1.0
    gsaa = (mine["shots_against"] * (1.0 - lg_sv) - mine["goals_against"]).sum()
    gsaa60 = gsaa / mine["toi_seconds"].sum() * 3600.0
    n = len(mine)
    gsaa60 *= n / (n + K_GAMES)  # a few good nights are not a Vezina: shrink toward average
    m = max(0.1, 1.0 - gsaa60 / lg_ga60) ** GOALIE_EXPONENT
    return float(min(max(m, 0.5), 1.5))


# ---- the model ----------------------------------------------------------------------------

def _empty() -> pd.DataFrame:
    return pd.DataFrame({
        "game_id": pd.Series(dtype="int64"), "player_id": pd.Series(dtype="int64"),
        "team": pd.Series(dtype=object), "opponent": pd.Series(dtype=object),
        "position": pd.Series(dtype=object), "market_type": pd.Series(dtype=object),
        "mu": pd.Series(dtype="float64"), "games_used": pd.Series(dtype="int64"),
        "toi_projected_min": pd.Series(dtype="float64"),
        "rate60": pd.Series(dtype="float64"), "m_opponent": pd.Series(dtype="float64"),
        "m_goalie": pd.Series(dtype="float64"), "m_b2b": pd.Series(dtype="float64"),
        "model_version": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})


def skater_mu(skater_games: pd.DataFrame, goalie_games: pd.DataFrame,
              slate_games: pd.DataFrame,
              slate_date: date | str | pd.Timestamp) -> pd.DataFrame:
    """One row per (game_id, player_id, market_type) of the slate's skaters with mu
    (NaN when not priced, `reason` says why) and its parts (OUTPUT_COLUMNS). Only games with
    slate_date before `slate_date` are used."""
    slate = slate_day(slate_date)
    sk = prior_skaters(skater_games, slate)        # filtered first: no leakage
    gk = prior_goalies(goalie_games, slate)
    teams = slate_teams(slate_games, slate)
    roster = slate_roster(sk, teams, slate)
    if roster.empty:
        return _empty()

    league = _league_rates(sk)
    rates = _player_rates(sk, roster, league)
    tg = team_games(sk, gk)
    opp = _opponent_multipliers(tg)
    b2b_teams = teams_played_on(tg, slate - pd.Timedelta(days=1))
    m_goalie = {t: _goalie_multiplier(gk, _likely_goalie(gk, t, slate))
                for t in sorted(set(teams["team"]))}

    out = roster.merge(pd.DataFrame({"market_type": list(MARKETS)}), how="cross")
    out = out.merge(rates, on=["player_id", "market_type"], how="left")
    out["position"] = out["position"].astype(object)

    opp_by = opp.reindex(out["opponent"])
    is_goal = out["market_type"].isin(_GOAL_MARKETS).to_numpy()
    m_opp = np.select([out["market_type"].eq("SOG").to_numpy(),
                       out["market_type"].eq("BLOCKS").to_numpy(), is_goal],
                      [opp_by["m_shots"].to_numpy(), opp_by["m_blocks"].to_numpy(),
                       opp_by["m_goals"].to_numpy()], 1.0)
    out["m_opponent"] = np.nan_to_num(m_opp.astype("float64"), nan=1.0)
    goalie = out["opponent"].map(m_goalie).astype("float64").to_numpy()
    out["m_goalie"] = np.where(is_goal, goalie, 1.0)
    out["m_b2b"] = np.where(out["team"].isin(b2b_teams), B2B_MULTIPLIER, 1.0)

    out["games_used"] = out["games_used"].fillna(0).astype("int64")
    mu = (out["rate60"] * out["toi_projected_min"] / 60.0 * out["m_opponent"]
          * out["m_goalie"] * out["m_b2b"])
    reason = np.where(out["n_total"] < MIN_GAMES, "min_games",
                      np.where(~(out["toi_projected_min"] > 0), "zero_toi", None))
    out["reason"] = pd.Series(reason, index=out.index, dtype=object)
    out["mu"] = mu.where(out["reason"].isna()).astype("float64")
    out["rate60"] = out["rate60"].where(out["reason"] != "min_games").astype("float64")
    out["model_version"] = MODEL_VERSION
    order = {m: i for i, m in enumerate(MARKETS)}
    out = out.assign(_m=out["market_type"].map(order)).sort_values(
        ["game_id", "team", "player_id", "_m"], kind="mergesort")
    return out[list(OUTPUT_COLUMNS)].reset_index(drop=True)
