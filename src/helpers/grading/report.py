"""What the outcomes notebook shows: graded and pending games, bet results, forecast accuracy
model vs market, the reliability chart, and observational ROI and CLV. Pure functions of the
step's frames (the charts draw on a matplotlib Axes the caller gives)."""

from __future__ import annotations

import pandas as pd

from helpers.grading.accuracy import accuracy_table, ece, same_props
from helpers.grading.read import settled as settled_bets


def games_table(games: pd.DataFrame) -> pd.DataFrame:
    """Per slate: games priced, final and graded, pending (with their states), unreadable."""
    if games.empty:
        return pd.DataFrame(columns=["slate_date", "games", "graded", "pending",
                                     "pending_states", "unreadable"])
    rows = []
    for slate, part in games.groupby("slate_date"):
        pending = part[~part["graded"] & part["error"].isna()]
        rows.append({"slate_date": slate, "games": len(part), "graded": int(part["graded"].sum()),
                     "pending": len(pending),
                     "pending_states": ", ".join(f"{g} {s}" for g, s in
                                                 zip(pending["game_id"], pending["state"],
                                                     strict=True)),
                     "unreadable": int(part["error"].notna().sum())})
    return pd.DataFrame(rows)


def results_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per slate: bets graded by result, eligible ones apart."""
    if results.empty:
        return pd.DataFrame(columns=["slate_date", "bets", "eligible", "WIN", "LOSS", "PUSH",
                                     "VOID"])
    counts = results.pivot_table(index="slate_date", columns="result", values="line",
                                 aggfunc="size", fill_value=0)
    for result in ("WIN", "LOSS", "PUSH", "VOID"):
        if result not in counts.columns:
            counts[result] = 0
    out = counts[["WIN", "LOSS", "PUSH", "VOID"]]
    out.insert(0, "eligible", results.groupby("slate_date")["is_eligible"].sum().astype(int))
    out.insert(0, "bets", results.groupby("slate_date").size())
    return out.reset_index()


def model_vs_market(scored: pd.DataFrame, sources: list[str]) -> pd.DataFrame:
    """Per market over the whole window, every source on the same props (those every source
    priced: the market prices fewer, so this is where model meets market). Diagnostics keeps
    the per-slate, per-line table."""
    both = same_props(scored, sources)
    if both.empty:
        return pd.DataFrame()
    table = accuracy_table(both.assign(window="all"), sources, keys=("window", "market_type"))
    return table.drop(columns=["window"]).round(4)


def accuracy_per_version(scored: pd.DataFrame, versions: list[str]) -> pd.DataFrame:
    """Per market over the window, each model version on every prop it priced."""
    rows = scored.assign(window="all")
    table = accuracy_table(rows, versions, keys=("window", "market_type"))
    return table.drop(columns=["window"]).round(4)


def reliability(scored: pd.DataFrame, sources: list[str]) -> dict[str, pd.DataFrame]:
    """Per source, the 10-bin reliability table on the same props."""
    both = same_props(scored, sources)
    return {s: ece(both[s].to_numpy(), both["y"].to_numpy())[1] for s in sources}


def plot_reliability(ax, tables: dict[str, pd.DataFrame]) -> None:
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for source, table in tables.items():
        filled = table[table["n"] > 0]
        ax.plot(filled["mean_p"], filled["mean_y"], marker="o", label=source)
    ax.set_xlabel("predicted P(over)")
    ax.set_ylabel("observed share over")
    ax.set_title("Reliability, graded props (same props for every source)")
    ax.legend()


def roi_and_clv(results: pd.DataFrame) -> pd.DataFrame:
    """Eligible bets per market and book: count, ROI (mean profit per unit), mean price CLV
    and mean no-vig-probability CLV. Observational: never used to gate or tune anything."""
    settled = settled_bets(results)
    if settled.empty:
        return pd.DataFrame(columns=["market_type", "book_name", "bets", "roi", "clv",
                                     "clv_prob"])
    grouped = settled.groupby(["market_type", "book_name"])
    out = grouped.agg(bets=("profit_units", "size"), roi=("profit_units", "mean"),
                      clv=("clv", "mean"), clv_prob=("clv_prob", "mean")).reset_index()
    return out.round(4)


MIN_UNMOVED_BETS = 20  # a book is called unmoved only on enough bets to mean it


def clv_notes(results: pd.DataFrame) -> str:
    """Why a CLV figure of the eligible bets is blank or exactly zero, from the bets
    themselves (Markdown lines, empty when nothing needs saying): a market none of whose
    bets with a close has a no-vig closing probability (its books quote one side only, so
    no pair removes the vig; its CLV on the price still stands), and a book whose price did
    not move from any of its bets to the close (CLV 0 by construction, not the bets' skill)."""
    eligible = results[results["is_eligible"].astype(bool)
                       & results["closing_odds_decimal"].notna()]
    notes = []
    for market, part in eligible.groupby("market_type", sort=True):
        if part["clv_prob"].isna().all():
            notes.append(f"- **{market}**: none of its {len(part):,} bets has a no-vig closing "
                         "probability: its books quote one side only (e.g. an anytime "
                         "scorer), so the vig cannot be removed and the no-vig CLV is blank; "
                         "the CLV on the price compares the price taken with the same book's "
                         "closing price.")
    for book, part in eligible.groupby("book_name", sort=True):
        if len(part) >= MIN_UNMOVED_BETS and (part["closing_odds_decimal"]
                                               == part["odds_decimal"]).all():
            notes.append(f"- **{book}**: its price did not move from any of its {len(part):,} "
                         "bets to the close, so their CLV is exactly 0: the book reprices "
                         "rarely, which says nothing about the bets.")
    return "\n".join(notes)


def plot_clv(ax, results: pd.DataFrame) -> None:
    eligible = results[results["is_eligible"] & results["clv"].notna()]
    ax.hist(eligible["clv"].clip(-0.3, 0.3), bins=30)
    ax.set_xlabel("price CLV of eligible bets (taken / closing - 1, clipped to +-0.3)")
    ax.set_ylabel("bets")
    ax.set_title("Closing line value")
