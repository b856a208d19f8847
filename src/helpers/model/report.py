"""What the production notebook shows: mapping rates and the players left unmapped, the mu
distribution, a walkthrough of the highest mus, and challengers beside production. Pure
functions of the step's frames."""

from __future__ import annotations

import pandas as pd

UNMAPPED_EXAMPLES = 5  # names listed per vendor and reason


def mapping_rates(event_map: pd.DataFrame, player_map: pd.DataFrame) -> pd.DataFrame:
    """Per vendor and entity: total, mapped, rate."""
    frames = []
    for entity, frame, target in (("event", event_map, "game_id"),
                                  ("player", player_map, "player_id")):
        if frame.empty:
            continue
        grouped = frame.assign(mapped=frame[target].notna()).groupby("source_vendor")
        stats = grouped["mapped"].agg(total="size", mapped="sum").reset_index()
        frames.append(stats.assign(entity=entity))
    if not frames:
        return pd.DataFrame(columns=["source_vendor", "entity", "total", "mapped", "rate"])
    out = pd.concat(frames, ignore_index=True)
    out["rate"] = (out["mapped"] / out["total"]).round(4)
    return out[["source_vendor", "entity", "total", "mapped", "rate"]]


def unmapped_players(player_map: pd.DataFrame, vendor_players: pd.DataFrame,
                     examples: int = UNMAPPED_EXAMPLES) -> pd.DataFrame:
    """Per vendor and reason, the players left unmapped: how many, and the first `examples`
    names (with the team when the vendor gives one) and how many more there are, so that
    every unmapped player is counted though not every name is listed."""
    columns = ["source_vendor", "reason", "players", "names"]
    unmapped = player_map[player_map["player_id"].isna()]
    if unmapped.empty:
        return pd.DataFrame(columns=columns)
    named = unmapped.merge(vendor_players[["source_vendor", "player_key_vendor",
                                           "player_name_raw", "player_team"]]
                           .drop_duplicates(["source_vendor", "player_key_vendor"]),
                           on=["source_vendor", "player_key_vendor"], how="left")
    named = named.assign(name=named["player_name_raw"].fillna(named["player_key_vendor"]),
                         reason=named["reason"].fillna("unknown"))
    rows = []
    for (vendor, reason), part in named.sort_values("name").groupby(
            ["source_vendor", "reason"], sort=True):
        names = [f"{name} ({team})" if isinstance(team, str) and team else str(name)
                 for name, team in zip(part["name"], part["player_team"], strict=True)]
        listed = ", ".join(names[:examples])
        if len(names) > examples:
            listed += f" and {len(names) - examples} more"
        rows.append({"source_vendor": vendor, "reason": reason, "players": len(names),
                     "names": listed})
    return pd.DataFrame(rows, columns=columns)


def mu_summary(mus: pd.DataFrame) -> pd.DataFrame:
    """Per market: players priced, mu quantiles, and players left unpriced."""
    priced = mus[mus["reason"].isna()]
    summary = priced.groupby("market_type")["mu"].describe(percentiles=[0.1, 0.5, 0.9])
    summary = summary.rename(columns={"count": "priced"})
    unpriced = mus[mus["reason"].notna()].groupby("market_type").size().rename("unpriced")
    return summary.join(unpriced).fillna({"unpriced": 0}).round(3).reset_index()


def walkthrough(mus: pd.DataFrame, snapshot_rows: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The `n` highest-mu players per market with every input of their number, and their
    probability at the market's first standard line, so an analyst can audit any mu."""
    priced = mus[mus["reason"].isna()]
    top = priced.sort_values("mu", ascending=False).groupby("market_type").head(n)
    first_line = (snapshot_rows.sort_values("line")
                  .groupby(["game_id", "player_id", "market_type"]).head(1)
                  [["game_id", "player_id", "market_type", "line", "p_over"]])
    columns = [c for c in top.columns if c not in ("model_version", "reason")]
    return (top[columns].merge(first_line, on=["game_id", "player_id", "market_type"],
                               how="left")
            .sort_values(["market_type", "mu"], ascending=[True, False])
            .reset_index(drop=True))


def versions_side_by_side(production: pd.DataFrame,
                          challengers: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per challenger and market, on the skaters both priced: how many, the mean mu of each,
    and the mean and largest relative difference (challenger / production - 1)."""
    base = production.loc[production["reason"].isna(),
                          ["game_id", "player_id", "market_type", "mu"]]
    rows = []
    for version, mus in challengers.items():
        other = mus.loc[mus["reason"].isna(), ["game_id", "player_id", "market_type", "mu"]]
        both = base.merge(other, on=["game_id", "player_id", "market_type"],
                          suffixes=("_production", "_challenger"))
        ratio = both["mu_challenger"] / both["mu_production"] - 1.0
        for market, part in both.assign(ratio=ratio).groupby("market_type"):
            rows.append({"challenger": version, "market_type": market, "skaters": len(part),
                         "mean_mu_production": part["mu_production"].mean(),
                         "mean_mu_challenger": part["mu_challenger"].mean(),
                         "mean_abs_rel_diff": part["ratio"].abs().mean(),
                         "max_abs_rel_diff": part["ratio"].abs().max()})
    columns = ["challenger", "market_type", "skaters", "mean_mu_production",
               "mean_mu_challenger", "mean_abs_rel_diff", "max_abs_rel_diff"]
    return pd.DataFrame(rows, columns=columns).round(4)
