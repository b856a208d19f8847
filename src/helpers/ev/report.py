"""What the EV step shows and writes: the ranked eligible bets (one row per book, prop and
side), the best bets (one row per prop and side: the best price and every book at it) in
Markdown, the EV distribution per market and book, and a walkthrough of the top bets.
Pure functions of the step's frames (the Markdown is text; `ev.step` writes it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from helpers.core.clock import ET

if TYPE_CHECKING:
    from helpers.ev.step import EvResult

TOP_PER_MARKET = 5
# The CSV's columns, in order: what a bettor needs, then what an auditor needs.
RANKED_COLUMNS = (
    "rank", "player_name", "team", "game_id", "player_id", "market_type", "line", "side",
    "source_vendor", "book_name", "book_type", "odds_decimal", "odds_american", "p_price",
    "p_model", "p_push", "p_implied", "p_fair", "p_consensus", "n_consensus_books", "ev",
    "ev_model", "ev_market", "kelly_fraction", "stake_fraction", "price_method",
    "odds_age_minutes", "minutes_to_start", "games_used",
    "mapping_confidence", "is_suspicious", "suspicious_reasons", "capture_ts_utc",
    "snapshot_id", "player_name_raw", "event_id_vendor", "book_id_vendor")


# best_bets_<date>.csv and the daily report's top bets: one row per prop and side.
BEST_COLUMNS = (
    "rank", "player_name", "team", "game", "start_et", "market_type", "line", "side",
    "odds_decimal", "odds_american", "books", "vendors", "n_books", "p_price", "p_model",
    "p_consensus", "ev", "ev_model", "ev_market", "stake_fraction", "flags", "game_id",
    "player_id")
_PROP_SIDE = ["game_id", "player_id", "market_type", "line", "side"]


def ranked_eligible(candidates: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """Eligible rows (one per bet), best EV first (ties: higher pricing p, then a stable
    key), with the NHL name beside the vendor's."""
    eligible = candidates[candidates["is_eligible"]].copy()
    eligible["player_id"] = eligible["player_id"].astype("Int64")
    named = eligible.merge(names.astype({"player_id": "Int64"}), on="player_id", how="left")
    named = named.sort_values(["ev", "p_price", "source_vendor", "book_name", "player_id",
                               "market_type", "line", "side"],
                              ascending=[False, False, True, True, True, True, True, True],
                              kind="mergesort").reset_index(drop=True)
    return _ranked(named, RANKED_COLUMNS)


def _ranked(ordered: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """`ordered` numbered from 1 in its order, cut to `columns` (missing ones empty)."""
    ordered = ordered.assign(rank=range(1, len(ordered) + 1))
    for col in columns:
        if col not in ordered.columns:
            ordered[col] = pd.Series(dtype=object)
    return ordered[list(columns)]


def game_labels(games: pd.DataFrame) -> pd.DataFrame:
    """game_id -> 'AWAY @ HOME' and the start in ET ('2025-12-01 19:00 ET')."""
    start = pd.to_datetime(games["start_ts_utc"]).dt.tz_localize("UTC").dt.tz_convert(ET)
    return pd.DataFrame({"game_id": games["game_id"].astype("Int64"),
                         "game": games["away_team"] + " @ " + games["home_team"],
                         "start_et": start.dt.strftime("%Y-%m-%d %H:%M ET")}
                        ).drop_duplicates("game_id")


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted({str(v) for v in values if pd.notna(v)}))


def best_by_prop(candidates: pd.DataFrame, games: pd.DataFrame,
                 names: pd.DataFrame) -> pd.DataFrame:
    """One row per prop and side with an eligible bet, best EV first: the best price, every
    book at that price and the vendors that showed it (a bet seen through two vendors counts
    once but names both), how many books are eligible on it, the game, the probabilities,
    EV and the fractional-Kelly stake at the best price, and its flags."""
    shown = candidates[candidates["is_eligible"]
                       | candidates["exclusion_reason"].eq("duplicate_bet")].copy()
    if not shown["is_eligible"].any():
        return pd.DataFrame(columns=list(BEST_COLUMNS))
    shown = shown.astype({"game_id": "Int64", "player_id": "Int64"})
    eligible = shown[shown["is_eligible"]]
    best = (eligible.sort_values(["ev", "odds_decimal", "book_name"],
                                 ascending=[False, False, True], kind="mergesort")
            .drop_duplicates(_PROP_SIDE, keep="first"))
    at_price = shown.merge(best[[*_PROP_SIDE, "odds_decimal"]].rename(
        columns={"odds_decimal": "_best"}), on=_PROP_SIDE)
    at_price = at_price[at_price["odds_decimal"] >= at_price["_best"] - 1e-9]
    books = at_price.groupby(_PROP_SIDE).agg(books=("book_name", _joined),
                                             vendors=("source_vendor", _joined))
    n_books = eligible.groupby(_PROP_SIDE).size().rename("n_books")
    out = (best.merge(books.reset_index(), on=_PROP_SIDE)
           .merge(n_books.reset_index(), on=_PROP_SIDE)
           .merge(game_labels(games), on="game_id", how="left")
           .merge(names.astype({"player_id": "Int64"}), on="player_id", how="left"))
    out["player_name"] = out["player_name"].fillna(out["player_name_raw"])
    out["flags"] = out["suspicious_reasons"]
    out = out.sort_values(["ev", "p_price", "player_id", "market_type", "line", "side"],
                          ascending=[False, False, True, True, True, True],
                          kind="mergesort").reset_index(drop=True)
    return _ranked(out, BEST_COLUMNS)


# Percentages as the reports write them (`evidence.markdown.pct` and `signed_pct`, which a
# stage before the evidence layer may not import): a probability or a stake `22.4 %`, an
# EV `+9.3 %`; blank when missing.
def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{100 * x:.1f} %"


def _signed_pct(x: float) -> str:
    return "" if pd.isna(x) else f"{100 * x:+.1f} %"


def _blend_sentence(result: EvResult) -> str:
    parts = []
    for market, blend in sorted(result.blends.items()):
        _, model, consensus = blend.coefficients
        how = (f"fitted on {blend.n_props} graded props" if blend.method == "fitted"
               else f"the prior, {blend.n_props} graded props so far")
        parts.append(f"{market} {model:.2f} x model + {consensus:.2f} x consensus ({how})")
    return "; ".join(parts)


def best_bets_markdown(result: EvResult, best: pd.DataFrame, why_empty: str,
                       per_market: int = TOP_PER_MARKET) -> str:
    """`best_bets_<date>.md`: the top `per_market` props of each market by EV, one row per
    prop and side, unflagged ones first (# is the rank among all of them, as in the CSV),
    and how many more the market has. Probabilities and stakes in percent, EVs signed, as
    the reports show them."""
    n_bets = int(result.candidates["is_eligible"].sum())
    lines = [f"# Best bets {result.slate_date}", "",
             f"Snapshot `{result.snapshot_id or 'none'}` ({result.model_version}); "
             f"{len(result.candidates)} priced rows, {n_bets} eligible bets on {len(best)} "
             "props and sides.", "",
             "EV per unit staked at the pricing p: a blend, per market, of the model's "
             "probability and the sportsbooks' de-vigged consensus, weighted by how each has "
             "done on earlier graded slates (logit scale; walk-forward). This run's blends: "
             f"{_blend_sentence(result)}. Model EV is the model's claim alone, market EV the "
             "consensus's. Stake: the share of a bankroll, fractional Kelly on the pricing p. "
             "Books: every book at the best price (vendors: where it was seen). Flags are "
             "reasons to check a bet before trusting it; in each market the unflagged bets "
             "come first.", ""]
    if best.empty:
        lines += [f"No eligible bets: {why_empty}.", ""]
        return "\n".join(lines)
    header = ("| # | player | game | start | line | side | odds | books (vendors) | p | "
              "model p | consensus p | EV | model EV | market EV | stake | flags |")
    for market, part in best.groupby("market_type", sort=True):
        lines += [f"## {market}", "", header, "|" + "---|" * 16]
        # unflagged bets first: a flagged one's EV is more often a data problem than an edge
        part = part.assign(_flagged=part["flags"].notna()).sort_values(
            ["_flagged", "rank"], kind="mergesort")
        for r in part.head(per_market).itertuples(index=False):
            odds = f"{r.odds_decimal:.2f}" + (f" ({int(r.odds_american):+d})"
                                               if pd.notna(r.odds_american) else "")
            lines.append(
                f"| {r.rank} | {r.player_name} | {r.game} | {r.start_et} | {r.line:g} | "
                f"{r.side} | {odds} | {r.books} ({r.vendors}) | {_pct(r.p_price)} | "
                f"{_pct(r.p_model)} | {_pct(r.p_consensus)} | {_signed_pct(r.ev)} | "
                f"{_signed_pct(r.ev_model)} | {_signed_pct(r.ev_market)} | "
                f"{_pct(r.stake_fraction)} | "
                f"{r.flags if isinstance(r.flags, str) else ''} |")
        if len(part) > per_market:
            lines += ["", f"_{len(part) - per_market} more {market} props and sides not "
                          f"shown: `best_bets_{result.slate_date}.csv` lists every one._"]
        lines.append("")
    return "\n".join(lines)


EV_DISTRIBUTION_COLUMNS = ["market_type", "book_name", "rows", "positive", "eligible",
                           "ev_mean", "ev_p50", "ev_p90", "ev_max"]


def ev_distribution(candidates: pd.DataFrame) -> pd.DataFrame:
    """Per market and book, over rows with an EV: count, positive, eligible, and the mean,
    median, p90 and max EV."""
    priced = candidates[candidates["ev"].notna()]
    if priced.empty:
        return pd.DataFrame(columns=EV_DISTRIBUTION_COLUMNS)
    grouped = priced.groupby(["market_type", "book_name"])
    out = grouped["ev"].agg(rows="size", ev_mean="mean", ev_p50="median",
                            ev_p90=lambda s: s.quantile(0.9), ev_max="max")
    out["positive"] = grouped["ev"].apply(lambda s: int((s > 0).sum()))
    out["eligible"] = grouped["is_eligible"].sum().astype(int)
    return out.reset_index()[EV_DISTRIBUTION_COLUMNS].round(4)


def recommended(ranked: pd.DataFrame, best: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The top `n` bets the step recommends, as the Top bets table lists them: the unflagged
    props and sides of `best` (`best_by_prop`) in its order, each as the ranked row at its
    best price (one row per prop and side, numbered by its place in `best`)."""
    top = best[best["flags"].isna()].head(n)[["rank", *_PROP_SIDE, "odds_decimal"]]
    if top.empty:
        return ranked.iloc[0:0]
    keys = [*_PROP_SIDE, "odds_decimal"]
    rows = top.astype({"game_id": "Int64", "player_id": "Int64"}).merge(
        ranked.drop(columns="rank").astype({"game_id": "Int64", "player_id": "Int64"}),
        on=keys, how="inner")
    return rows.drop_duplicates(_PROP_SIDE, keep="first").reset_index(drop=True)


# The snapshot columns `walkthrough` shows beside each bet.
WALKTHROUGH_COLUMNS = ("game_id", "player_id", "market_type", "line", "mu", "distribution",
                       "alpha")


def walkthrough(ranked: pd.DataFrame, snapshot: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The first `n` bets of `ranked` (the notebook passes `recommended()`) with every step
    of their number: mu and the distribution, the model's p of the side, the consensus, the
    pricing p the blend made of them, and the EV and stake arithmetic spelled out."""
    top = ranked.head(n)
    if top.empty:
        return pd.DataFrame()
    mus = snapshot[list(WALKTHROUGH_COLUMNS)].astype({"game_id": "Int64", "player_id": "Int64"})
    rows = top.merge(mus, on=["game_id", "player_id", "market_type", "line"], how="left")
    p_loss = 1 - rows["p_price"] - rows["p_push"].fillna(0)
    arithmetic = [
        f"{p:.4f} x ({d:.3f} - 1) - {q:.4f} = {ev:+.4f}"
        for p, d, q, ev in zip(rows["p_price"], rows["odds_decimal"], p_loss, rows["ev"],
                               strict=True)]
    return pd.DataFrame({
        "rank": rows["rank"], "player": rows["player_name"].fillna(rows["player_name_raw"]),
        "bet": rows["market_type"] + " " + rows["side"] + " " + rows["line"].map("{:g}".format),
        "book": rows["book_name"], "mu": rows["mu"].round(3),
        "distribution": rows["distribution"], "p_model": rows["p_model"].round(4),
        "p_consensus": rows["p_consensus"].round(4), "p_price": rows["p_price"].round(4),
        "p_push": rows["p_push"].round(4), "decimal": rows["odds_decimal"],
        "ev = p_price (d - 1) - p_loss": arithmetic, "ev_model": rows["ev_model"].round(4),
        "stake": rows["stake_fraction"].round(4)})
