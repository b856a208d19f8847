"""The referee: how far a model's probabilities are from the demo world's truth.

The model learns only from boxscores. Here the demo league's final boxscores are rendered
by the emulator's own renderer and read by the production parser (`nhl.api.parse_boxscore`),
giving the same history frames the production step reads from the warehouse, without HTTP.
The truth is `pricing.game_truth`, the numbers `/_emulator/truth/probabilities/<game_id>`
serves: the distribution each dressed skater's count was drawn from. Comparing against it
involves no outcome noise, so a gap is the model's alone.

The measure, per market (and model), over the same props:
    gap = (sum cross_entropy(truth, model) - sum entropy(truth)) / sum entropy(truth)
i.e. the expected log loss the model adds, relative to the best possible. 0 is perfect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from helpers.demo.league import League
from helpers.demo.pricing import game_truth
from helpers.demo.render_nhl import render_boxscore
from helpers.model.distributions import STANDARD_LINES, market_probabilities
from helpers.nhl.api import parse_boxscore

# The upper lines, reported apart: the tails are where a model's shape shows.
UPPER_LINES = {"SOG": 4.5, "BLOCKS": 2.5, "POINTS": 1.5}
P_CLIP = 1e-6
_STAT = {"GOALS": "goals", "ASSISTS": "assists", "POINTS": "points", "SOG": "sog",
         "BLOCKS": "blocked_shots"}

MuModel = Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame, date], pd.DataFrame]


@dataclass(frozen=True)
class History:
    """What the warehouse would hold: skater and goalie rows with slate_date and
    start_ts_utc (as `production._history` selects them), and the games."""

    skaters: pd.DataFrame
    goalies: pd.DataFrame
    games: pd.DataFrame


def season_history(league: League, through: date) -> History:
    """Every final game with slate_date < `through`, through the production parser."""
    skaters, goalies, games = [], [], []
    for game in league.games:
        if game.slate_date >= through:
            continue
        body = render_boxscore(league, game.end_utc + timedelta(hours=1), game.game_id)
        box = parse_boxscore(body)
        extra = {"slate_date": box.game.slate_date, "start_ts_utc": box.game.start_ts_utc}
        skaters.append(box.skaters.assign(**extra))
        goalies.append(box.goalies.assign(**extra))
        games.append(vars(box.game))
    return History(pd.concat(skaters, ignore_index=True), pd.concat(goalies, ignore_index=True),
                   pd.DataFrame(games))


def slate_games(league: League, slate: date) -> pd.DataFrame:
    return pd.DataFrame([{"game_id": g.game_id, "slate_date": g.slate_date,
                          "home_team": g.home, "away_team": g.away}
                         for g in league.games_on(slate)],
                        columns=["game_id", "slate_date", "home_team", "away_team"])


def truth_props(league: League, slate: date) -> pd.DataFrame:
    """One row per (game, dressed skater, market, standard line) with p_true = P(over)."""
    rows = []
    for game in league.games_on(slate):
        truth = game_truth(league, game.index)
        dressed = truth.dressed
        for market, lines in STANDARD_LINES.items():
            at_least = truth.at_least[market][dressed]
            for line in lines:
                rows.append(pd.DataFrame({
                    "slate_date": slate, "game_id": game.game_id,
                    "player_id": truth.player_id[dressed], "market_type": market,
                    "line": line, "p_true": at_least[:, int(np.floor(line)) + 1]}))
    return pd.concat(rows, ignore_index=True)


def model_p_over(mus: pd.DataFrame, props: pd.DataFrame) -> pd.Series:
    """P(over) of each prop under a model's mus (NaN where the model did not price it)."""
    priced = mus.loc[mus["mu"].notna() & mus["reason"].isna(),
                     ["game_id", "player_id", "market_type", "mu"]]
    rows = props[["game_id", "player_id", "market_type", "line"]].merge(
        priced, on=["game_id", "player_id", "market_type"], how="left")
    out = pd.Series(np.nan, index=props.index)
    have = rows["mu"].notna().to_numpy()
    if have.any():
        out[have] = market_probabilities(rows.loc[have]).loc[:, "p_over"].to_numpy()
    return out


def constant_baseline(skaters: pd.DataFrame, slate: date) -> dict[tuple[str, float], float]:
    """Per (market, line): the share of all earlier skater-games over the line."""
    prior = skaters.loc[pd.to_datetime(skaters["slate_date"]) < pd.Timestamp(slate)]
    out = {}
    for market, lines in STANDARD_LINES.items():
        counts = prior[_STAT[market]].astype(float)
        for line in lines:
            out[(market, line)] = float((counts > line).mean())
    return out


def score_slates(league: League, slates: Iterable[date],
                 models: Mapping[str, MuModel]) -> pd.DataFrame:
    """Every dressed skater's standard-line props on the slates, with p_true, one column
    per model (its P(over)) and `baseline`. Only props every model priced are kept, so the
    versions are compared on the same props."""
    slates = sorted(slates)
    history = season_history(league, slates[-1])
    frames = []
    for slate in slates:
        props = truth_props(league, slate)
        games = slate_games(league, slate)
        for name, model in models.items():
            props[name] = model_p_over(model(history.skaters, history.goalies, games, slate),
                                       props)
        base = constant_baseline(history.skaters, slate)
        props["baseline"] = [base[(m, ln)] for m, ln in zip(props["market_type"],
                                                            props["line"], strict=True)]
        frames.append(props.dropna(subset=list(models)))
    return pd.concat(frames, ignore_index=True)


def _entropy_terms(p_true: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    q = np.clip(q, P_CLIP, 1 - P_CLIP)
    p = np.clip(p_true, P_CLIP, 1 - P_CLIP)
    cross = -(p_true * np.log(q) + (1 - p_true) * np.log(1 - q))
    entropy = -(p_true * np.log(p) + (1 - p_true) * np.log(1 - p))
    return float(cross.sum()), float(entropy.sum())


def log_loss_gaps(scored: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Per market and per column (model or baseline): the relative log-loss gap over all
    standard lines (`lines='all'`) and over the upper line alone (`lines='upper 4.5'`...).
    Columns: market_type, lines, n, and one gap column per model."""
    rows = []
    for market in STANDARD_LINES:
        subsets = [("all", scored["market_type"] == market)]
        if market in UPPER_LINES:
            upper = UPPER_LINES[market]
            subsets.append((f"{upper} only", (scored["market_type"] == market)
                            & (scored["line"] == upper)))
        for label, mask in subsets:
            part = scored.loc[mask]
            row = {"market_type": market, "lines": label, "n": len(part)}
            for col in columns:
                cross, entropy = _entropy_terms(part["p_true"].to_numpy(),
                                                part[col].to_numpy())
                row[col] = (cross - entropy) / entropy if entropy > 0 else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def true_ev(league: League, bets: pd.DataFrame) -> pd.Series:
    """The EV per unit each bet really had: p_win x (d - 1) - p_loss under the distribution
    the game was drawn from (a push on an integer line returns the stake). NaN for a player
    who did not dress (the bet is void) or who is not in the game's truth.
    `bets`: game_id, player_id, market_type, line, side, odds_decimal."""
    out = pd.Series(np.nan, index=bets.index)
    for game_id, part in bets.groupby("game_id"):
        truth = game_truth(league, league.game_by_id[int(game_id)].index)
        row_of = {int(p): i for i, p in enumerate(truth.player_id) if truth.dressed[i]}
        for idx, bet in part.iterrows():
            i = row_of.get(int(bet["player_id"]))
            if i is None:
                continue
            at_least = truth.at_least[bet["market_type"]][i]
            line = float(bet["line"])
            k = int(np.floor(line)) + 1
            p_over = at_least[k]
            p_push = at_least[int(line)] - at_least[k] if line == int(line) else 0.0
            p_win = p_over if bet["side"] == "OVER" else 1.0 - p_over - p_push
            out[idx] = p_win * (bet["odds_decimal"] - 1.0) - (1.0 - p_win - p_push)
    return out
