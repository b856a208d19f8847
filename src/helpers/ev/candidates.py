"""EV of every priced prop of a slate against a snapshot, gated and explained.

Pure: frames in, one frame out (the rows of `fact_ev_candidates`). The step's IO edge is
`helpers.ev.step`. Join on NHL ids only (game_id, player_id): two players with one name
never share a probability.

Per priced row (the latest capture of a vendor/book/event/player/market/line/side):
- p_model: the snapshot's p_over or p_under at that line, p_push beside it;
- p_implied = 1 / decimal (vig included); p_fair: the same book's OVER/UNDER pair de-vigged
  (multiplicative), when both sides are priced;
- p_consensus: the median of the sportsbooks' fair p on the same prop and side (DFS and
  derived prices left out; a book shown by two vendors counts once; with
  `leave_book_out`, the row's own book left out too);
- p_price: the win probability the bet is priced at, the market's blend of the model and
  the consensus fitted on graded history (`helpers.ev.blend`);
- ev = p_price (d - 1) - p_loss, p_loss = 1 - p_price - p_push; ev_model: the same with
  p_model; kelly_fraction: full Kelly on p_price, floored at 0; stake_fraction: the
  fractional-Kelly stake (kelly_multiplier x kelly_fraction);
- ev_market: the same EV with the consensus p (on an integer line the consensus is
  P(win | no push), the push probability the model's);
- odds_age_minutes: snapshot time - capture time; minutes_to_start: start - as_of.

Gates, in funnel order; a row's reason is the first it fails (GATES). Two gates hold the
price itself to what books offer (docs/domain.md section 6): `absurd_price`, longer than
MAX_AMERICAN_PRICE, and `price_outlier`, a plus-money price paying more than MAX_PAYOUT_RATIO
times the median payout of at least MIN_OTHER_BOOKS other sportsbooks on the same prop, line
and side. Their reason carries the numbers after the code ("price_outlier: price +900 pays
4.1x ..."); `reason_code` reads the code back. A gated price does not vote in the consensus
either. A price that beats the blend must also beat the sportsbooks' consensus
(`market_disagrees`). The last gate makes one row per bet: the same book's price for the
same prop and side reached through a second vendor (FanDuel via Unabated and via OddsShark)
is one bet; the freshest capture (then the best price, then the vendor name) stays
eligible, the others are
`duplicate_bet`. Suspicion is not a gate: `is_suspicious` with `suspicious_reasons` says
why a claimed edge deserves a look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from helpers.core.settings import EvSettings
from helpers.ev.blend import Blend, price_probability
from helpers.odds.prices import (
    decimal_to_american,
    devig_pair,
    ev_per_unit,
    implied_probability,
    kelly_fraction,
)

# Price sanity (docs/domain.md section 6, "Prices no book offers"). The longest price a book
# offers on these props: anytime goal for a depth defenceman sits near +1500..+3000, a 2+
# goals rung for one up to about +5000. Longer is a typo or a feed error (americanPrice 100000
# is a cents value or a stray zero), and one such win would outweigh a slate of real bets.
MAX_AMERICAN_PRICE = 5000
MAX_DECIMAL_PRICE = 1 + MAX_AMERICAN_PRICE / 100
# Books disagree on plus-money props by up to ~1.5-2x in payout (d - 1): on the demo's five
# days no sportsbook price paid more than 2.0x the others' median. More than 3x is a wrong
# line or a broken quote, not an edge. Held on plus-money prices only: below even money a
# bet pays less than its stake, and near certainty small probability gaps are large payout
# ratios (-1200 against -6500 is 5.5x in payout, 6 points in probability).
MAX_PAYOUT_RATIO = 3.0
# With one other book, which of the two is wrong cannot be told (a broken short quote would
# hold a sound long one); two give a median to stand on. The cap holds either way.
MIN_OTHER_BOOKS = 2

# Funnel order: (reason, what a row that passes has).
GATES: tuple[tuple[str, str], ...] = (
    ("unmapped_event", "vendor event mapped to an NHL game"),
    ("unmapped_player", "vendor player mapped to an NHL player"),
    ("no_probability", "a snapshot probability at that line"),
    ("live", "not a live price, game not live"),
    ("started", "game not started (with the grace)"),
    ("stale_odds", "captured within the freshness window of the snapshot"),
    ("bad_price", "decimal odds above 1"),
    ("book_type_excluded", "book type not excluded"),
    ("market_excluded", "market not excluded"),
    ("absurd_price", f"price at most +{MAX_AMERICAN_PRICE}, the longest a book offers on "
                     "these props"),
    ("price_outlier", f"price pays at most {MAX_PAYOUT_RATIO:g}x the other sportsbooks' "
                      "median on the prop"),
    ("no_consensus", "a sportsbook consensus on the prop to price against"),
    ("below_min_edge", "EV at least the minimum edge"),
    ("market_disagrees", "the price also beats the sportsbooks' consensus"),
    ("duplicate_bet", "one row per bet: not the same book's price through another vendor"),
)
SUSPICIOUS_EV = 0.25            # an edge this big is usually a data problem
FAR_FROM_CONSENSUS = 0.10       # |fair p - consensus p| beyond this: an outlying price
THIN_HISTORY_GAMES = 10         # fewer games behind the model's mu
LOW_MAPPING_CONFIDENCE = 0.9
LIVE_STATES = frozenset({"LIVE", "CRIT"})

# Columns the odds frame must have (the step's query gives them).
ODDS_COLUMNS = ("source_vendor", "event_id_vendor", "player_key_vendor", "player_name_raw",
                "book_id_vendor", "book_name", "book_type", "market_type", "line", "side",
                "capture_ts_utc", "odds_decimal", "odds_american", "is_live",
                "vendor_outcome_key", "event_start_ts_utc", "game_id", "player_id",
                "mapping_confidence")
SNAPSHOT_COLUMNS = ("game_id", "player_id", "market_type", "line", "p_over", "p_under",
                    "p_push", "games_used")
GAME_COLUMNS = ("game_id", "start_ts_utc", "state")
_PROP = ["game_id", "player_id", "market_type", "line"]
_PAIR = ["source_vendor", "book_id_vendor", "book_name", "event_id_vendor",
         "player_key_vendor", "market_type", "line"]
# A bet: the book (by name, whichever vendor showed it), the prop and the side.
BET_KEY = ["_book", *_PROP, "side"]


@dataclass(frozen=True)
class Gates:
    freshness_minutes: float
    start_grace_minutes: float
    min_edge: float
    min_market_edge: float          # -1 switches the market gate off
    exclude_book_types: frozenset[str]
    exclude_markets: frozenset[str]
    leave_book_out: bool = False    # the consensus a row is priced against omits its book
    kelly_multiplier: float = 0.25  # stake_fraction = this x full Kelly

    @classmethod
    def from_settings(cls, ev: EvSettings) -> Gates:
        return cls(ev.odds_freshness_minutes, ev.event_start_grace_minutes, ev.min_edge,
                   ev.min_market_edge, ev.exclude_book_types, ev.exclude_markets,
                   ev.consensus_leave_book_out, ev.kelly_fraction)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"ev_candidates: {name} lacks columns {missing}")


def _fair(odds: pd.DataFrame) -> pd.Series:
    """The same book's pair de-vigged; NaN when the other side is not priced."""
    keyed = odds[[*_PAIR, "side", "odds_decimal"]].copy()
    keyed["book_id_vendor"] = keyed["book_id_vendor"].fillna("")
    keyed["book_name"] = keyed["book_name"].fillna("")
    wide = keyed.pivot_table(index=_PAIR, columns="side", values="odds_decimal",
                             aggfunc="first")
    for side in ("OVER", "UNDER"):
        if side not in wide.columns:
            wide[side] = np.nan
    p_over, p_under = devig_pair(wide["OVER"].to_numpy(), wide["UNDER"].to_numpy())
    fair = pd.DataFrame({"OVER": p_over, "UNDER": p_under}, index=wide.index).stack()
    fair.index = fair.index.set_names([*_PAIR, "side"])
    looked_up = keyed.set_index([*_PAIR, "side"]).index
    return pd.Series(fair.reindex(looked_up).to_numpy(), index=odds.index)


def _book_votes(rows: pd.DataFrame) -> pd.DataFrame:
    """The sportsbooks' fair p per (prop, side), one vote per book name (its newest)."""
    books = rows.loc[(rows["book_type"] == "SPORTSBOOK") & rows["p_fair"].notna()
                     & rows["game_id"].notna() & rows["player_id"].notna()]
    books = books.sort_values("capture_ts_utc", kind="mergesort").drop_duplicates(
        [*_PROP, "side", "_book"], keep="last")
    return books[[*_PROP, "side", "_book", "p_fair"]]


def _consensus(rows: pd.DataFrame, leave_book_out: bool) -> pd.DataFrame:
    """Per row: the median fair p of the sportsbooks on its prop and side (without the
    row's own book when `leave_book_out`) and how many books it took."""
    votes = _book_votes(rows)
    keys = [*_PROP, "side"]
    if not leave_book_out:
        out = votes.groupby(keys, as_index=False).agg(
            p_consensus=("p_fair", "median"), n_consensus_books=("p_fair", "size"))
        return rows[keys].merge(out, on=keys, how="left")[["p_consensus",
                                                           "n_consensus_books"]]
    mine = rows[[*keys, "_book"]].reset_index()
    pairs = mine.merge(votes.rename(columns={"_book": "_voter"}), on=keys, how="inner")
    pairs = pairs[pairs["_book"] != pairs["_voter"]]
    out = pairs.groupby("index").agg(p_consensus=("p_fair", "median"),
                                     n_consensus_books=("p_fair", "size"))
    return out.reindex(rows.index)


def _american(decimal: float) -> str:
    return f"{int(decimal_to_american(float(decimal))):+d}"


def _other_books_payout(rows: pd.DataFrame) -> pd.DataFrame:
    """Per row: the median payout (decimal - 1) of the other sportsbooks on its prop, line
    and side, and how many there are; NaN when none (or the row has no NHL ids). One price
    per book name (its newest capture, whichever vendor showed it); prices beyond the cap
    never count."""
    keys = [*_PROP, "side"]
    mapped = rows["game_id"].notna() & rows["player_id"].notna()
    books = rows.loc[mapped & (rows["book_type"] == "SPORTSBOOK") & (rows["odds_decimal"] > 1)
                     & (rows["odds_decimal"] <= MAX_DECIMAL_PRICE)]
    books = books.sort_values("capture_ts_utc", kind="mergesort").drop_duplicates(
        [*keys, "_book"], keep="last")
    others = books[[*keys, "_book", "odds_decimal"]].rename(columns={"_book": "_other"})
    pairs = rows.loc[mapped, [*keys, "_book"]].reset_index().merge(others, on=keys)
    pairs = pairs[pairs["_book"] != pairs["_other"]]
    out = (pairs.assign(payout=pairs["odds_decimal"] - 1.0).groupby("index")
           .agg(others_payout=("payout", "median"), n_other_books=("payout", "size")))
    return out.reindex(rows.index)


def _price_problems(rows: pd.DataFrame) -> pd.Series:
    """Per row, why its price is not one a book would offer (the reason of `absurd_price`
    or `price_outlier` with its numbers), or None. Only a plus-money price longer than the
    others is held: a shorter one is no bet anyway."""
    decimal = rows["odds_decimal"].astype(float)
    others = _other_books_payout(rows)
    ratio = (decimal - 1.0) / others["others_payout"]
    absurd = (decimal > MAX_DECIMAL_PRICE).fillna(False)
    outlier = (~absurd & (decimal >= 2.0) & (others["n_other_books"] >= MIN_OTHER_BOOKS)
               & (ratio > MAX_PAYOUT_RATIO)).fillna(False)
    text = pd.Series(None, index=rows.index, dtype=object)
    for i in rows.index[absurd.to_numpy()]:  # a handful of rows: plain Python is fine
        text[i] = (f"absurd_price: price {_american(decimal[i])} is longer than any book "
                   f"offers on a player prop (cap +{MAX_AMERICAN_PRICE})")
    for i in rows.index[outlier.to_numpy()]:
        n = int(others.at[i, "n_other_books"])
        text[i] = (f"price_outlier: price {_american(decimal[i])} pays {ratio[i]:.1f}x the "
                   f"median of the other {n} books "
                   f"({_american(1.0 + others.at[i, 'others_payout'])}; limit "
                   f"{MAX_PAYOUT_RATIO:g}x)")
    return text


def reason_code(reasons: pd.Series) -> pd.Series:
    """The gate of each exclusion reason: the text before a ':' (the price gates add their
    numbers after it); None stays None."""
    return reasons.str.split(":", n=1).str[0]


def _duplicates(rows: pd.DataFrame, still_eligible: pd.Series) -> pd.Series:
    """Among rows eligible so far, True for every row of a bet but the one kept: the
    freshest capture, then the best price, then the vendor's name."""
    live = rows[still_eligible.to_numpy()]
    order = live.sort_values(["capture_ts_utc", "odds_decimal", "source_vendor"],
                             ascending=[False, False, True], kind="mergesort")
    dup = order.duplicated(BET_KEY, keep="first")
    return dup.reindex(rows.index, fill_value=False)


def _reasons(rows: pd.DataFrame, gates: Gates, price_problems: pd.Series) -> pd.Series:
    problem_code = reason_code(price_problems)
    checks = {
        "unmapped_event": rows["game_id"].isna(),
        "unmapped_player": rows["player_id"].isna(),
        "no_probability": rows["p_model"].isna(),
        "no_consensus": rows["p_price"].isna(),
        "live": rows["is_live"].fillna(False).astype(bool)
                | rows["game_state"].isin(LIVE_STATES),
        "started": rows["minutes_to_start"] < -gates.start_grace_minutes,
        "stale_odds": rows["odds_age_minutes"].abs() > gates.freshness_minutes,
        "bad_price": ~(rows["odds_decimal"] > 1.0),
        "book_type_excluded": rows["book_type"].isin(gates.exclude_book_types),
        "market_excluded": rows["market_type"].isin(gates.exclude_markets),
        "absurd_price": problem_code.eq("absurd_price"),
        "price_outlier": problem_code.eq("price_outlier"),
        "below_min_edge": ~(rows["ev"] >= gates.min_edge),
        "market_disagrees": (~(rows["ev_market"] >= gates.min_market_edge)
                             if gates.min_market_edge > -1
                             else pd.Series(False, index=rows.index)),
    }
    reason = pd.Series(None, index=rows.index, dtype=object)
    for name, _ in reversed(GATES[:-1]):  # the first failing gate wins: apply it last
        reason = reason.mask(checks[name].fillna(False).to_numpy(), name)
    # A price gate's reason says which price and against what.
    reason = reason.mask(reason.isin(["absurd_price", "price_outlier"]).to_numpy(),
                         price_problems)
    # One row per bet, among the rows every other gate let through.
    reason = reason.mask(_duplicates(rows, reason.isna()).to_numpy(), GATES[-1][0])
    return reason.where(reason.notna(), None)  # None, not NaN, for an eligible row


def _suspicion(rows: pd.DataFrame) -> pd.Series:
    """Comma list of the flags a row raises (None when none), built column-wise: a
    Python call per row costs seconds on a full slate."""
    flags = {
        "ev_over_25pct": rows["ev"] > SUSPICIOUS_EV,
        "far_from_consensus": (rows["p_fair"].fillna(rows["p_implied"])
                               - rows["p_consensus"]).abs() > FAR_FROM_CONSENSUS,
        "thin_history": rows["games_used"] < THIN_HISTORY_GAMES,
        "low_confidence_mapping": rows["mapping_confidence"] < LOW_MAPPING_CONFIDENCE,
    }
    joined = pd.Series("", index=rows.index, dtype=object)
    for name, flag in flags.items():
        raised = flag.fillna(False).astype(bool).to_numpy()
        joined = joined.where(~raised, joined + np.where(joined == "", "", ",") + name)
    return joined.where(joined != "", None)


def ev_candidates(odds: pd.DataFrame, snapshot: pd.DataFrame, games: pd.DataFrame, *,
                  snapshot_ts_utc: datetime | None, as_of: datetime,
                  gates: Gates, blends: dict[str, Blend]) -> pd.DataFrame:
    """One row per priced odds row, with every probability, EV, Kelly, timing, the
    eligibility and its reason, and the suspicion flags (see the module docstring).
    `snapshot` is one model version's rows (empty when there is none: every row then fails
    `no_probability`); `blends` the pricing blend per market (a market without one is not
    priced: `no_consensus`)."""
    _require(odds, ODDS_COLUMNS, "odds")
    _require(snapshot, SNAPSHOT_COLUMNS, "snapshot")
    _require(games, GAME_COLUMNS, "games")
    rows = odds.reset_index(drop=True).copy()
    for col in ("game_id", "player_id"):
        rows[col] = rows[col].astype("Int64")
    snap = snapshot[list(SNAPSHOT_COLUMNS)].astype({"game_id": "Int64", "player_id": "Int64"})
    rows = rows.merge(snap, on=_PROP, how="left")
    is_over = rows["side"].eq("OVER")
    rows["p_model"] = np.where(is_over, rows["p_over"], rows["p_under"])
    rows["p_push"] = rows["p_push"].where(rows["p_model"].notna())
    decimal = rows["odds_decimal"].to_numpy(dtype=float)
    rows["p_implied"] = implied_probability(decimal)
    rows["_book"] = rows["book_name"].str.lower()
    price_problems = _price_problems(rows)
    # A price no book would offer says nothing about the prop: its pair is not de-vigged,
    # so it never votes in the consensus.
    rows["p_fair"] = _fair(rows.assign(
        odds_decimal=rows["odds_decimal"].where(price_problems.isna())))
    rows[["p_consensus", "n_consensus_books"]] = _consensus(rows, gates.leave_book_out)
    rows[["p_price", "price_method"]] = price_probability(rows, blends)
    p_price = rows["p_price"].to_numpy(dtype=float)
    p_push = rows["p_push"].fillna(0.0).to_numpy(dtype=float)
    rows["ev"] = ev_per_unit(p_price, decimal, p_push)
    rows["ev_model"] = ev_per_unit(rows["p_model"].to_numpy(dtype=float), decimal, p_push)
    rows["kelly_fraction"] = kelly_fraction(p_price, decimal, p_push)
    rows["stake_fraction"] = gates.kelly_multiplier * rows["kelly_fraction"]
    # A book's pair prices "no push": on an integer line the consensus is P(win | no push),
    # so it wins with p_consensus x (1 - p_push), the push probability being the model's.
    p_market = rows["p_consensus"].to_numpy(dtype=float) * (1.0 - p_push)
    rows["ev_market"] = ev_per_unit(p_market, decimal, p_push)

    g = games[list(GAME_COLUMNS)].astype({"game_id": "Int64"}).rename(
        columns={"start_ts_utc": "game_start_ts_utc", "state": "game_state"})
    rows = rows.merge(g, on="game_id", how="left")
    start = pd.to_datetime(rows["game_start_ts_utc"]).fillna(
        pd.to_datetime(rows["event_start_ts_utc"]))
    rows["minutes_to_start"] = (start - pd.Timestamp(as_of)).dt.total_seconds() / 60.0
    capture = pd.to_datetime(rows["capture_ts_utc"])
    anchor = pd.Timestamp(snapshot_ts_utc) if snapshot_ts_utc is not None else pd.NaT
    rows["odds_age_minutes"] = (anchor - capture).dt.total_seconds() / 60.0

    rows["exclusion_reason"] = _reasons(rows, gates, price_problems)
    rows["is_eligible"] = rows["exclusion_reason"].isna()
    rows["suspicious_reasons"] = _suspicion(rows)
    rows["is_suspicious"] = rows["suspicious_reasons"].notna()
    rows["games_used"] = rows["games_used"].astype("Int64")
    rows["n_consensus_books"] = rows["n_consensus_books"].astype("Int64")
    return rows.drop(columns=["p_over", "p_under", "game_start_ts_utc", "game_state", "_book"])


def funnel(candidates: pd.DataFrame) -> pd.DataFrame:
    """Rows left after each gate, in order, and how many each gate removed."""
    left = len(candidates)
    out = [{"gate": "priced rows", "removed": 0, "left": left}]
    counts = reason_code(candidates["exclusion_reason"]).value_counts()
    for reason, passing in GATES:
        removed = int(counts.get(reason, 0))
        left -= removed
        out.append({"gate": passing, "removed": removed, "left": left})
    return pd.DataFrame(out)
