"""Grading from official boxscores: prop outcomes, bet results, closing line value. Pure.

- An outcome is the player's stat in a *final* game (OFF / FINAL): goals, assists, points,
  SOG, blocked shots. A player priced for a final game without a row in its boxscore did not
  dress: his outcome exists with `actual` NULL and his bets are VOID. A game not final
  (live, not played yet) grades nothing: its props stay pending.
- A game called off for the bet's slate (api-web says postponed or cancelled, or it moved to
  another date): every bet on it is VOID, whatever a boxscore of that game id says later. A
  rescheduled game is a new game for betting (docs/domain.md, section 7).
- A bet on line L: OVER wins if actual > L, UNDER if actual < L, equal is a PUSH. Profit per
  unit staked: d - 1 for a win, -1 for a loss, 0 for a push or a void.
- Closing line value: against the last price of the same vendor/book/player/market/line/side
  captured before puck drop. `clv` = decimal taken / closing decimal - 1 (positive: the bet
  was taken at a better price than the close); `clv_prob` = the side's no-vig probability at
  the close minus at the time taken (the book's own pair de-vigged both times; positive: the
  market moved toward the bet).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STAT_OF_MARKET = {"GOALS": "goals", "ASSISTS": "assists", "POINTS": "points", "SOG": "sog",
                  "BLOCKS": "blocked_shots"}
RESULTS = ("WIN", "LOSS", "PUSH", "VOID", "PENDING")
OUTCOME_COLUMNS = ("game_id", "player_id", "market_type", "actual")


def prop_outcomes(props: pd.DataFrame, skater_rows: pd.DataFrame,
                  final_game_ids: set[int]) -> pd.DataFrame:
    """One outcome per priced (game_id, player_id, market_type) of a final game.

    `props`: game_id, player_id, market_type (duplicates allowed); `skater_rows`: the
    boxscore rows of those games (fact_skater_games columns). `actual` is NULL (pandas NA)
    for a player without a boxscore row: he did not dress."""
    keys = (props[["game_id", "player_id", "market_type"]].dropna()
            .astype({"game_id": "int64", "player_id": "int64"}).drop_duplicates())
    keys = keys[keys["game_id"].isin(final_game_ids)]
    long = skater_rows.melt(id_vars=["game_id", "player_id"],
                            value_vars=list(STAT_OF_MARKET.values()),
                            var_name="stat", value_name="actual")
    long["market_type"] = long["stat"].map({v: k for k, v in STAT_OF_MARKET.items()})
    long = long.astype({"game_id": "int64", "player_id": "int64"})
    out = keys.merge(long[["game_id", "player_id", "market_type", "actual"]],
                     on=["game_id", "player_id", "market_type"], how="left")
    out["actual"] = out["actual"].astype("Int64")
    return out.sort_values(["game_id", "player_id", "market_type"],
                           kind="mergesort").reset_index(drop=True)


def grade(bets: pd.DataFrame, outcomes: pd.DataFrame,
          called_off: pd.Series | None = None) -> pd.DataFrame:
    """`bets` (game_id, player_id, market_type, line, side, odds_decimal) with `actual`,
    `result` and `profit_units` added. No outcome row (game not final): PENDING, profit NA.
    `called_off` (aligned with `bets`): True where the bet's game was called off for its
    slate: VOID, profit 0, no actual."""
    rows = bets.merge(outcomes.astype({"game_id": "int64", "player_id": "int64"}),
                      on=["game_id", "player_id", "market_type"], how="left",
                      indicator="_graded")
    graded = (rows["_graded"] == "both").to_numpy()
    actual = rows["actual"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    line = rows["line"].to_numpy(dtype=float)
    over = rows["side"].eq("OVER").to_numpy()
    won = np.where(over, actual > line, actual < line)
    push = actual == line
    void = np.zeros(len(rows), dtype=bool) if called_off is None \
        else called_off.to_numpy(dtype=bool)
    actual[void] = np.nan
    result = np.select([void, ~graded, np.isnan(actual), push, won],
                       ["VOID", "PENDING", "VOID", "PUSH", "WIN"], "LOSS")
    decimal = rows["odds_decimal"].to_numpy(dtype=float)
    profit = np.select([result == "WIN", result == "LOSS", result == "PENDING"],
                       [decimal - 1.0, -1.0, np.nan], 0.0)
    rows = rows.drop(columns="_graded")
    rows.loc[void, "actual"] = pd.NA
    rows["result"] = result
    rows["profit_units"] = profit
    return rows


def over_hit(actual: pd.Series, line: pd.Series) -> pd.Series:
    """y for forecast accuracy: 1 if actual >= floor(line) + 1 (the OVER won), else 0."""
    return (actual.astype(float) >= np.floor(line.astype(float)) + 1).astype("int64")


def clv(taken_decimal: pd.Series, closing_decimal: pd.Series) -> pd.Series:
    """Price CLV: taken / closing - 1 (NaN without a closing price)."""
    return taken_decimal.astype(float) / closing_decimal.astype(float) - 1.0
