"""The probability snapshot: a probability for every line the slate needs, from the mus.

Pure: `build_snapshot` takes one mu per (game, player, market) - the model's output - and
the lines vendors price (mapped to NHL ids), and returns the rows of `fact_prob_snapshot`:
for every priced skater and market, the union of the standard lines and every priced line,
each with its over / under / push probabilities, the mu, distribution, alpha, games used,
each multiplier (as JSON) and the model version. Players the model did not price (too few
games) are returned apart with their reason, never silently left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from helpers.model.distributions import STANDARD_LINES, market_probabilities

# fact_prob_snapshot, in table order.
SNAPSHOT_COLUMNS = ("snapshot_id", "snapshot_ts_utc", "slate_date", "game_id", "player_id",
                    "market_type", "line", "p_over", "p_under", "p_push", "mu", "distribution",
                    "alpha", "games_used", "multipliers_json", "model_version", "run_id")
SNAPSHOT_KEY = ("snapshot_id", "game_id", "player_id", "market_type", "line")
# Columns of the model output this module reads; m_* columns are the multipliers.
MU_COLUMNS = ("game_id", "player_id", "market_type", "mu", "games_used", "model_version",
              "reason")


@dataclass(frozen=True)
class Snapshot:
    rows: pd.DataFrame      # SNAPSHOT_COLUMNS
    skipped: pd.DataFrame   # game_id, player_id, market_type, model_version, reason


def _lines(mus: pd.DataFrame, priced_lines: pd.DataFrame) -> pd.DataFrame:
    """Every (game, player, market, line) to price: standard lines for each priced
    (game, player, market), plus the lines vendors priced for it."""
    keys = mus[["game_id", "player_id", "market_type"]].drop_duplicates()
    standard = pd.DataFrame([(m, line) for m, lines in STANDARD_LINES.items()
                             for line in lines], columns=["market_type", "line"])
    lines = keys.merge(standard, on="market_type")
    if not priced_lines.empty:
        priced = priced_lines[["game_id", "player_id", "market_type", "line"]]
        priced = priced.merge(keys, on=["game_id", "player_id", "market_type"])
        lines = pd.concat([lines, priced], ignore_index=True)
    return lines.drop_duplicates().reset_index(drop=True)


def _multipliers_json(mus: pd.DataFrame) -> pd.Series:
    names = sorted(c for c in mus.columns if c.startswith("m_"))
    if not names:
        return pd.Series(["{}"] * len(mus), index=mus.index)
    values = mus[names].astype(float).round(6)
    return pd.Series([json.dumps(dict(zip(names, row, strict=True)), sort_keys=True)
                      for row in values.itertuples(index=False, name=None)], index=mus.index)


def build_snapshot(mus: pd.DataFrame, priced_lines: pd.DataFrame, *, snapshot_id: str,
                   snapshot_ts_utc: datetime, slate_date: date,
                   run_id: str | None) -> Snapshot:
    """The snapshot rows of one model version's `mus` (see the module docstring)."""
    missing = [c for c in MU_COLUMNS if c not in mus.columns]
    if missing:
        raise ValueError(f"build_snapshot: model output lacks columns {missing}")
    priced_mask = mus["reason"].isna() & mus["mu"].notna()
    skipped = mus.loc[~priced_mask, ["game_id", "player_id", "market_type", "model_version",
                                      "reason"]].reset_index(drop=True)
    priced = mus.loc[priced_mask].copy()
    priced["multipliers_json"] = _multipliers_json(priced)
    lines = _lines(priced, priced_lines)
    rows = lines.merge(priced[["game_id", "player_id", "market_type", "mu", "games_used",
                               "multipliers_json", "model_version"]],
                       on=["game_id", "player_id", "market_type"])
    rows = market_probabilities(rows)
    rows = rows.assign(snapshot_id=snapshot_id, snapshot_ts_utc=snapshot_ts_utc,
                       slate_date=slate_date, run_id=run_id,
                       games_used=rows["games_used"].astype("int64"))
    rows = rows.sort_values(["game_id", "player_id", "market_type", "line"], kind="stable")
    return Snapshot(rows=rows[list(SNAPSHOT_COLUMNS)].reset_index(drop=True), skipped=skipped)
