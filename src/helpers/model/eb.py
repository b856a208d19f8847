"""Challenger model `eb-season`: whole-season history with empirical-Bayes shrinkage.

Same inputs, output columns and distributions as `p10-nhlapi` (`features.skater_mu`), so
the snapshot, EV and grading treat both alike; it differs in how mu is estimated. Pure: no
IO, no clock; every input is cut to games before the slate first (no leakage).

How mu is built, per (game, skater, market):
- Context first. Every past team-game gets the multiplier the market's mean had in it:
  home ice (estimated from home vs away shots), the back-to-back (e^-0.05, as p10), the
  opponent's shot suppression (SOG, GOALS, ASSISTS, POINTS) or shot generation (BLOCKS),
  and for the goal markets the opposing starter's goals-allowed factor. Team offense and
  defense are solved from shots for and against (a few alternating passes so a soft
  schedule is not read as a strong team), then shrunk toward 1 on the log scale by how
  noisy each team's average is (empirical Bayes across teams).
- A skater's rate is his season count over his *exposure*, the sum of those multipliers
  over his games (a neutral per-game rate), shrunk toward a prior that depends on his ice
  time: a weighted quadratic fit of the rate on season TOI within his position group. The
  shrinkage weight tau2 / (tau2 + s2) takes s2 from the market's count noise
  (mu + alpha*mu^2 per game) and tau2, the spread of true rates around the prior, from the
  data (method of moments, proportional to the prior squared).
- GOALS = shrunk shots rate x shrunk shooting % (beta-binomial toward the group's rate);
  ASSISTS: the prior also uses his shots rate (playmakers shoot); POINTS = GOALS + ASSISTS.
- Goalies: save % shrunk the same way across goalies. The opposing starter is unknown
  before the game: his factor is the mix over the team's goalies by their share of starts
  on normal nights, without the goalie who started yesterday if the team played.
- mu = neutral rate x the slate game's multipliers. Roster and minimum games as p10.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from helpers.model.features import (
    B2B_MULTIPLIER,
    MARKETS,
    MIN_GAMES,
    OUTPUT_COLUMNS,
    prior_goalies,
    prior_skaters,
    slate_day,
    slate_roster,
    slate_teams,
)

MODEL_VERSION = "eb-season"
# Per-game count noise beyond Poisson (Var = mu + alpha*mu^2), as the distributions use.
_ALPHA = {"SOG": 0.35, "BLOCKS": 0.60, "GOALS": 0.0, "ASSISTS": 0.0}
_STAT = {"GOALS": "goals", "ASSISTS": "assists", "SOG": "sog", "BLOCKS": "blocked_shots"}
# Which context multiplier each market's mean carries.
_CONTEXT = {"SOG": "m_shots", "GOALS": "m_goals", "ASSISTS": "m_goals", "POINTS": "m_goals",
            "BLOCKS": "m_blocks"}
_TEAM_PASSES = 3
_MIN_TAU2 = 1e-6


# ---- empirical Bayes pieces (pure numpy) --------------------------------------------------

def shrink_rates(count: np.ndarray, exposure: np.ndarray, prior: np.ndarray,
                 alpha: float) -> np.ndarray:
    """Posterior-mean rates: rate = count / exposure pulled toward `prior` with weight
    tau2 / (tau2 + s2); s2 = (prior + alpha*prior^2) / exposure, tau2 = cv2 * prior^2 with
    cv2 from the players' spread (method of moments, weighted by exposure)."""
    rate = count / np.maximum(exposure, 1e-9)
    s2 = (prior + alpha * prior**2) / np.maximum(exposure, 1e-9)
    excess = exposure * ((rate - prior) ** 2 - s2)
    cv2 = max(float(excess.sum() / max((exposure * prior**2).sum(), 1e-12)), _MIN_TAU2)
    tau2 = cv2 * prior**2
    weight = tau2 / (tau2 + s2)
    return prior + weight * (rate - prior)


def shrink_proportions(hits: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Beta-binomial posterior means toward the pooled proportion (method of moments)."""
    total = trials.sum()
    if total <= 0:
        return np.full(len(hits), np.nan)
    p0 = hits.sum() / total
    seen = trials > 0
    own = np.where(seen, hits / np.maximum(trials, 1), p0)
    spread = (trials[seen] * (own[seen] - p0) ** 2).sum() - seen.sum() * p0 * (1 - p0)
    tau2 = max(spread / total, _MIN_TAU2)
    prior_n = max(p0 * (1 - p0) / tau2 - 1.0, 0.0)
    return (hits + prior_n * p0) / (trials + prior_n)


def toi_prior(rate: np.ndarray, toi: np.ndarray, weight: np.ndarray,
              extra: np.ndarray | None = None) -> np.ndarray:
    """The rate expected from ice time (and `extra`, if given): weighted least squares on
    [1, toi, toi^2, extra], floored at a tenth of the weighted mean rate. Too few players
    for a fit: the weighted mean."""
    mean = float((rate * weight).sum() / max(weight.sum(), 1e-12))
    columns = [np.ones_like(toi), toi, toi**2] + ([extra] if extra is not None else [])
    design = np.column_stack(columns)
    if len(rate) < 3 * design.shape[1]:
        return np.full(len(rate), mean)
    root = np.sqrt(weight)
    coef, *_ = np.linalg.lstsq(design * root[:, None], rate * root, rcond=None)
    return np.maximum(design @ coef, 0.1 * mean)


# ---- context: home ice, back-to-backs, teams, goalies -------------------------------------

def _team_games(sk: pd.DataFrame, gk: pd.DataFrame) -> pd.DataFrame:
    """One row per past (game, team): shots for / against, home, back-to-back, and the
    opposing starter."""
    tg = sk.groupby(["game_id", "team"], as_index=False, observed=True).agg(
        opponent=("opponent", "first"), day=("day", "first"), is_home=("is_home", "first"),
        sf=("sog", "sum"))
    tg["team"] = tg["team"].astype(str)
    tg["opponent"] = tg["opponent"].astype(str)
    against = tg[["game_id", "team", "sf"]].rename(columns={"team": "opponent", "sf": "sa"})
    tg = tg.merge(against, on=["game_id", "opponent"], how="inner")
    played = set(zip(tg["team"], tg["day"], strict=True))
    tg["b2b"] = [(t, d - pd.Timedelta(days=1)) in played
                 for t, d in zip(tg["team"], tg["day"], strict=True)]
    starters = _starters(gk)
    tg = tg.merge(starters.rename(columns={"team": "opponent", "player_id": "opp_goalie"}),
                  on=["game_id", "opponent"], how="left")
    return tg.sort_values(["game_id", "team"], kind="mergesort").reset_index(drop=True)


def _starters(gk: pd.DataFrame) -> pd.DataFrame:
    """game_id, team, player_id of each team-game's goalie with the most ice time."""
    played = gk.loc[gk["toi_seconds"] > 0, ["game_id", "team", "player_id", "toi_seconds"]]
    played = played.assign(team=played["team"].astype(str)).sort_values(
        ["game_id", "team", "toi_seconds", "player_id"], ascending=[True, True, False, True],
        kind="mergesort")
    return played.drop_duplicates(["game_id", "team"])[["game_id", "team", "player_id"]]


def _shrink_log_effects(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Per group: the mean of log(values) shrunk toward 0 by its noise (EB across groups),
    returned as a multiplier."""
    logs = np.log(values.clip(lower=1e-3))
    stats = logs.groupby(groups).agg(["mean", "count"])
    within = float(logs.groupby(groups).var(ddof=1).mean())
    s2 = within / stats["count"]
    tau2 = max(float(stats["mean"].var(ddof=1)) - float(s2.mean()), _MIN_TAU2) \
        if len(stats) > 1 else _MIN_TAU2
    return np.exp(stats["mean"] * tau2 / (tau2 + s2))


def _team_effects(tg: pd.DataFrame, home: float) -> pd.DataFrame:
    """Per team: `offense` (its shots for) and `defense` (shots it allows), league = 1."""
    teams = sorted(set(tg["team"]))
    offense = pd.Series(1.0, index=teams)
    defense = pd.Series(1.0, index=teams)
    side = np.where(tg["is_home"].astype(bool), home, 1.0 / home)
    b2b = np.where(tg["b2b"], B2B_MULTIPLIER, 1.0)
    neutral = tg["sf"] / (side * b2b)       # this team's shots, venue and fatigue removed
    league = float(neutral.mean())
    for _ in range(_TEAM_PASSES):
        offense = _shrink_log_effects(
            neutral / (league * defense.reindex(tg["opponent"]).to_numpy()), tg["team"])
        defense = _shrink_log_effects(
            neutral / (league * offense.reindex(tg["team"]).to_numpy()), tg["opponent"])
    return pd.DataFrame({"offense": offense, "defense": defense.reindex(offense.index)})


def _goalie_factors(gk: pd.DataFrame) -> pd.Series:
    """Per goalie: shrunk goals-allowed per shot over the league's (1 = average)."""
    known = gk.loc[gk["shots_against"].notna() & gk["goals_against"].notna()]
    per = known.groupby("player_id")[["shots_against", "goals_against"]].sum()
    if per.empty or per["shots_against"].sum() <= 0:
        return pd.Series(dtype="float64")
    league = per["goals_against"].sum() / per["shots_against"].sum()
    shrunk = shrink_proportions(per["goals_against"].to_numpy(),
                                per["shots_against"].to_numpy())
    return pd.Series(shrunk / league, index=per.index)


def _expected_goalie(tg: pd.DataFrame, factors: pd.Series, team: str,
                     played_yesterday: bool) -> float:
    """The team's goalie factor for a game it has not started: starts on normal nights by
    goalie, weighting each goalie's factor; yesterday's starter sits a back-to-back."""
    games = tg.loc[(tg["opponent"] == team) & tg["opp_goalie"].notna()]
    if games.empty:
        return 1.0
    normal = games.loc[~games["opp_b2b"]] if (~games["opp_b2b"]).any() else games
    recent_team = games.sort_values("day").iloc[-1]
    # Goalies seen with the team in its last 20 games (a traded or demoted one drops out).
    current = set(games.sort_values("day").tail(20)["opp_goalie"])
    shares = normal.loc[normal["opp_goalie"].isin(current), "opp_goalie"].value_counts()
    if played_yesterday and len(shares) > 1:
        shares = shares.drop(recent_team["opp_goalie"], errors="ignore")
    if shares.empty:
        return 1.0
    f = factors.reindex(shares.index).fillna(1.0)
    return float((f * shares).sum() / shares.sum())


# ---- the model ----------------------------------------------------------------------------

def _exposures(sk: pd.DataFrame, tg: pd.DataFrame) -> pd.DataFrame:
    """Per player: games, season TOI (min/game) and the exposure of each context kind."""
    ctx = tg[["game_id", "team", "m_shots", "m_goals", "m_blocks"]]
    rows = sk.merge(ctx, on=["game_id", "team"], how="left")
    for col in ("m_shots", "m_goals", "m_blocks"):
        rows[col] = rows[col].fillna(1.0)
    per = rows.groupby("player_id").agg(
        n=("game_id", "size"), toi=("toi_seconds", "mean"), group=("group", "first"),
        goals=("goals", "sum"), assists=("assists", "sum"), sog=("sog", "sum"),
        blocked_shots=("blocked_shots", "sum"), e_shots=("m_shots", "sum"),
        e_goals=("m_goals", "sum"), e_blocks=("m_blocks", "sum"))
    per["toi"] = per["toi"] / 60.0
    return per


def _group_rate(p: pd.DataFrame, stat: str, exposure: str, market: str,
                extra: np.ndarray | None = None) -> np.ndarray:
    """One position group's shrunk per-game rates of `stat` over `exposure`."""
    count = p[stat].to_numpy(dtype=float)
    e = p[exposure].to_numpy(dtype=float)
    prior = toi_prior(count / np.maximum(e, 1e-9), p["toi"].to_numpy(),
                      p["n"].to_numpy(dtype=float), extra)
    return shrink_rates(count, e, prior, _ALPHA[market])


def _neutral_rates(per: pd.DataFrame) -> pd.DataFrame:
    """Per player: shrunk per-game rates in a neutral game, per market."""
    out = pd.DataFrame(index=per.index)
    for _, p in per.groupby("group"):
        idx = p.index
        shots = _group_rate(p, "sog", "e_shots", "SOG")
        out.loc[idx, "SOG"] = shots
        shooting = shrink_proportions(p["goals"].to_numpy(dtype=float),
                                      p["sog"].to_numpy(dtype=float))
        # His shooting % was earned against the goalies he faced: G/S estimates
        # shooting x e_goals / e_shots, so the neutral shooting % scales it back.
        faced = (p["e_goals"] / p["e_shots"]).to_numpy(dtype=float)
        out.loc[idx, "GOALS"] = shots * shooting / faced
        out.loc[idx, "ASSISTS"] = _group_rate(p, "assists", "e_goals", "ASSISTS", extra=shots)
        out.loc[idx, "BLOCKS"] = _group_rate(p, "blocked_shots", "e_blocks", "BLOCKS")
    out["POINTS"] = out["GOALS"] + out["ASSISTS"]
    return out


def skater_mu(skater_games: pd.DataFrame, goalie_games: pd.DataFrame,
              slate_games: pd.DataFrame,
              slate_date: date | str | pd.Timestamp) -> pd.DataFrame:
    """One row per (game_id, player_id, market_type) of the slate's skaters, with mu and
    its parts (features.OUTPUT_COLUMNS plus m_home); see the module docstring."""
    slate = slate_day(slate_date)
    sk = prior_skaters(skater_games, slate)         # filtered first: no leakage
    gk = prior_goalies(goalie_games, slate)
    teams = slate_teams(slate_games, slate)
    roster = slate_roster(sk, teams, slate)
    columns = [*OUTPUT_COLUMNS, "m_home"]
    if roster.empty or sk.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})

    tg = _team_games(sk, gk)
    home = float(np.sqrt(tg.loc[tg["is_home"].astype(bool), "sf"].mean()
                         / tg.loc[~tg["is_home"].astype(bool), "sf"].mean()))
    effects = _team_effects(tg, home)
    factors = _goalie_factors(gk)
    side = np.where(tg["is_home"].astype(bool), home, 1.0 / home)
    fatigue = np.where(tg["b2b"], B2B_MULTIPLIER, 1.0)
    tg["m_shots"] = side * fatigue * effects["defense"].reindex(tg["opponent"]).to_numpy()
    tg["m_goals"] = tg["m_shots"] * factors.reindex(tg["opp_goalie"]).fillna(1.0).to_numpy()
    tg["m_blocks"] = effects["offense"].reindex(tg["opponent"]).to_numpy()
    tg["opp_b2b"] = tg.merge(tg[["game_id", "team", "b2b"]].rename(
        columns={"team": "opponent", "b2b": "_ob"}), on=["game_id", "opponent"],
        how="left")["_ob"].fillna(False).astype(bool).to_numpy()

    per = _exposures(sk, tg)
    rates = _neutral_rates(per)

    yesterday = slate - pd.Timedelta(days=1)
    played_yesterday = set(tg.loc[tg["day"] == yesterday, "team"])
    home_teams = set(slate_games.loc[pd.to_datetime(slate_games["slate_date"]).dt.normalize()
                                     == slate, "home_team"].astype(str))
    goalie = {t: _expected_goalie(tg, factors, t, t in played_yesterday)
              for t in sorted(set(teams["team"]))}

    out = roster.merge(pd.DataFrame({"market_type": list(MARKETS)}), how="cross")
    out["position"] = out["position"].astype(object)
    m_home = np.where(out["team"].isin(home_teams), home, 1.0 / home)
    m_b2b = np.where(out["team"].isin(played_yesterday), B2B_MULTIPLIER, 1.0)
    market = out["market_type"]
    opp_def = effects["defense"].reindex(out["opponent"]).fillna(1.0).to_numpy()
    opp_off = effects["offense"].reindex(out["opponent"]).fillna(1.0).to_numpy()
    is_blocks = market.eq("BLOCKS").to_numpy()
    is_goal = market.isin(["GOALS", "ASSISTS", "POINTS"]).to_numpy()
    out["m_home"] = np.where(is_blocks, 1.0, m_home)
    out["m_b2b"] = np.where(is_blocks, 1.0, m_b2b)
    out["m_opponent"] = np.where(is_blocks, opp_off, opp_def)
    out["m_goalie"] = np.where(is_goal, out["opponent"].map(goalie).astype(float), 1.0)

    stacked = rates.stack().rename("per_game").reset_index().rename(
        columns={"level_1": "market_type"})
    out = out.merge(stacked, on=["player_id", "market_type"], how="left")
    out = out.merge(per[["n", "toi"]].rename(columns={"toi": "toi_projected_min"}),
                    left_on="player_id", right_index=True, how="left")
    out["games_used"] = out["n"].fillna(0).astype("int64")
    out["rate60"] = out["per_game"] / out["toi_projected_min"] * 60.0
    mu = out["per_game"] * out["m_home"] * out["m_b2b"] * out["m_opponent"] * out["m_goalie"]
    reason = np.where(out["n_total"] < MIN_GAMES, "min_games",
                      np.where(~(out["toi_projected_min"] > 0), "zero_toi", None))
    out["reason"] = pd.Series(reason, index=out.index, dtype=object)
    out["mu"] = mu.where(out["reason"].isna()).astype("float64")
    out["model_version"] = MODEL_VERSION
    order = {m: i for i, m in enumerate(MARKETS)}
    out = out.assign(_m=out["market_type"].map(order)).sort_values(
        ["game_id", "team", "player_id", "_m"], kind="mergesort")
    return out[columns].reset_index(drop=True)
