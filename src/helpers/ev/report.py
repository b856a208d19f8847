"""What the EV step shows and writes: the ranked eligible bets, the best bets per market in
Markdown, the EV distribution per book and market, and a walkthrough of the top bets.
Pure functions of the step's frames (the Markdown is text; `ev.step` writes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from helpers.ev.step import EvResult

TOP_PER_MARKET = 5
# The CSV's columns, in order: what a bettor needs, then what an auditor needs.
RANKED_COLUMNS = (
    "rank", "player_name", "team", "game_id", "player_id", "market_type", "line", "side",
    "source_vendor", "book_name", "book_type", "odds_decimal", "odds_american", "p_model",
    "p_push", "p_implied", "p_fair", "p_consensus", "n_consensus_books", "ev", "ev_market",
    "kelly_fraction", "odds_age_minutes", "minutes_to_start", "games_used",
    "mapping_confidence", "is_suspicious", "suspicious_reasons", "capture_ts_utc",
    "snapshot_id", "player_name_raw", "event_id_vendor", "book_id_vendor")


def ranked_eligible(candidates: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Eligible rows, best EV first (ties: higher model p, then a stable key), with the NHL
    name beside the vendor's."""
    eligible = candidates[candidates["is_eligible"]].copy()
    eligible["player_id"] = eligible["player_id"].astype("Int64")
    named = eligible.merge(names.astype({"player_id": "Int64"}), on="player_id", how="left")
    named = named.sort_values(["ev", "p_model", "source_vendor", "book_name", "player_id",
                               "market_type", "line", "side"],
                              ascending=[False, False, True, True, True, True, True, True],
                              kind="mergesort").reset_index(drop=True)
    named["rank"] = range(1, len(named) + 1)
    for col in RANKED_COLUMNS:
        if col not in named.columns:
            named[col] = pd.Series(dtype=object)
    return named[list(RANKED_COLUMNS)]


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{100 * x:.1f}%"


def _prob(x: float) -> str:
    return "" if pd.isna(x) else f"{x:.3f}"


def best_bets_markdown(result: EvResult, ranked: pd.DataFrame, why_empty: str,
                       per_market: int = TOP_PER_MARKET) -> str:
    """`best_bets_<date>.md`: the top `per_market` bets of each market by EV, unflagged
    ones first (# is the rank among all eligible bets, as in the CSV)."""
    lines = [f"# Best bets {result.slate_date}", "",
             f"Snapshot `{result.snapshot_id or 'none'}`; {len(result.candidates)} priced "
             f"rows, {len(ranked)} eligible. EV per unit staked against the production model; "
             "fair p de-vigs the same book's pair, consensus p is the sportsbooks' median and "
             "market EV prices the bet at it. Measured on the demo world, the model's EV claims "
             "ran several times the EV the bets really had and the market EV close to it "
             "(benchmarks/README.md): read EV as a ranking, market EV as the size. Flags are "
             "reasons to check a bet before trusting it; in each market the unflagged bets "
             "come first.", ""]
    if ranked.empty:
        lines += [f"No eligible bets: {why_empty}.", ""]
        return "\n".join(lines)
    header = ("| # | player | game | book | line | side | odds | model p | fair p | "
              "consensus p | EV | market EV | Kelly | odds age (min) | flags |")
    for market, part in ranked.groupby("market_type", sort=True):
        lines += [f"## {market}", "", header, "|" + "---|" * 15]
        # unflagged bets first: a flagged one's EV is more often a data problem than an edge
        part = part.sort_values(["is_suspicious", "rank"], kind="mergesort")
        for r in part.head(per_market).itertuples(index=False):
            name = r.player_name if isinstance(r.player_name, str) else r.player_name_raw
            odds = f"{r.odds_decimal:.2f}" + (f" ({int(r.odds_american):+d})"
                                               if pd.notna(r.odds_american) else "")
            lines.append(
                f"| {r.rank} | {name} | {r.game_id} | {r.book_name} ({r.source_vendor}) | "
                f"{r.line:g} | {r.side} | {odds} | {_prob(r.p_model)} | {_prob(r.p_fair)} | "
                f"{_prob(r.p_consensus)} | {_pct(r.ev)} | {_pct(r.ev_market)} | "
                f"{_pct(r.kelly_fraction)} | "
                f"{r.odds_age_minutes:.0f} | {r.suspicious_reasons or ''} |")
        lines.append("")
    return "\n".join(lines)


def ev_distribution(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per book and market, over rows with an EV: count, positive, eligible, and the mean,
    median, p90 and max EV."""
    priced = candidates[candidates["ev"].notna()]
    if priced.empty:
        return pd.DataFrame(columns=["book_name", "market_type", "rows", "positive",
                                     "eligible", "mean", "median", "p90", "max"])
    grouped = priced.groupby(["book_name", "market_type"])
    out = grouped["ev"].agg(rows="size", mean="mean", median="median",
                            p90=lambda s: s.quantile(0.9), max="max")
    out["positive"] = grouped["ev"].apply(lambda s: int((s > 0).sum()))
    out["eligible"] = grouped["is_eligible"].sum().astype(int)
    out = out.reset_index()[["book_name", "market_type", "rows", "positive", "eligible", "mean",
                             "median", "p90", "max"]]
    return out.round(4)


def walkthrough(ranked: pd.DataFrame, snapshot: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The top `n` bets with every step of their number: mu and the distribution, the model
    p of the side, implied and fair p, and the EV arithmetic spelled out."""
    top = ranked.head(n)
    if top.empty:
        return pd.DataFrame()
    mus = snapshot[["game_id", "player_id", "market_type", "line", "mu", "distribution",
                    "alpha"]].astype({"game_id": "Int64", "player_id": "Int64"})
    rows = top.merge(mus, on=["game_id", "player_id", "market_type", "line"], how="left")
    p_loss = 1 - rows["p_model"] - rows["p_push"].fillna(0)
    arithmetic = [
        f"{p:.4f} x ({d:.3f} - 1) - {q:.4f} = {ev:+.4f}"
        for p, d, q, ev in zip(rows["p_model"], rows["odds_decimal"], p_loss, rows["ev"],
                               strict=True)]
    return pd.DataFrame({
        "rank": rows["rank"], "player": rows["player_name"].fillna(rows["player_name_raw"]),
        "bet": rows["market_type"] + " " + rows["side"] + " " + rows["line"].map("{:g}".format),
        "book": rows["book_name"], "mu": rows["mu"].round(3),
        "distribution": rows["distribution"], "p_model": rows["p_model"].round(4),
        "p_push": rows["p_push"].round(4), "decimal": rows["odds_decimal"],
        "p_implied": rows["p_implied"].round(4), "p_fair": rows["p_fair"].round(4),
        "p_consensus": rows["p_consensus"].round(4),
        "ev = p_win (d - 1) - p_loss": arithmetic, "kelly": rows["kelly_fraction"].round(4)})
