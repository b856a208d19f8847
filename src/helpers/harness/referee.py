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

The market is scored the same way: the sportsbooks' consensus as the EV step builds it (the
median of the sportsbooks' de-vigged pairs, `consensus_p_over`) from the quotes the vendors
show at the morning run (`morning_quotes`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from helpers.demo.books import MARKETS, ODDSSHARK_BOOKS, PLAYNOW_BOOK, UNABATED_BOOKS, Book
from helpers.demo.league import League
from helpers.demo.pricing import american_to_decimal, game_truth, quotes_for
from helpers.demo.render_nhl import render_boxscore
from helpers.model.distributions import STANDARD_LINES, market_probabilities
from helpers.nhl.api import parse_boxscore

# The upper lines, reported apart: the tails are where a model's shape shows.
UPPER_LINES = {"SOG": 4.5, "BLOCKS": 2.5, "POINTS": 1.5}
P_CLIP = 1e-6
_STAT = {"GOALS": "goals", "ASSISTS": "assists", "POINTS": "points", "SOG": "sog",
         "BLOCKS": "blocked_shots"}

PROP = ["game_id", "player_id", "market_type", "line"]
MORNING_RUN_UTC = time(15, 0)  # the morning run, 10:00 ET (EST)

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


def served_books() -> tuple[Book, ...]:
    """Every book a vendor shows, once: DraftKings on Unabated and on OddsShark is one book
    with one set of prices."""
    books: dict[str, Book] = {}
    for book in (*UNABATED_BOOKS, *ODDSSHARK_BOOKS, PLAYNOW_BOOK):
        books.setdefault(book.key, book)
    return tuple(books.values())


def morning_quotes(league: League, slate: date,
                   books: tuple[Book, ...] | None = None) -> pd.DataFrame:
    """The books' quotes on the slate's games at the morning run, as the vendors show them:
    one row per (book, game, player, market, line) with its kind and decimal prices (from
    the American price; NaN for a side not offered). A blurred price and a line the vendor
    lost are not shown, so they are left out."""
    now = datetime.combine(slate, MORNING_RUN_UTC, tzinfo=UTC)
    rows = []
    for book in books or served_books():
        for game in league.games_on(slate):
            for q in quotes_for(league, game.index, book, now, MARKETS):
                if q.blurred or q.line_missing:
                    continue
                rows.append((book.key, book.kind, game.game_id, q.player_id, q.market, q.line,
                             american_to_decimal(q.over),
                             np.nan if q.under is None else american_to_decimal(q.under)))
    return pd.DataFrame(rows, columns=["book", "kind", *PROP, "over_decimal",
                                       "under_decimal"])


def consensus_p_over(quotes: pd.DataFrame) -> pd.DataFrame:
    """The sportsbooks' consensus P(over) per prop, as the EV step builds it: each
    SPORTSBOOK's pair de-vigged multiplicatively, (1/d_over) / (1/d_over + 1/d_under), then
    the median over the books. Pick'em (DFS) and derived prices are not a market's opinion
    and one-sided quotes have no fair price: both are left out. A book counts once per prop.
    `quotes`: book, kind, game_id, player_id, market_type, line, over_decimal, under_decimal.
    Returns PROP columns, p_consensus and n_books."""
    books = quotes.loc[(quotes["kind"] == "SPORTSBOOK") & quotes["over_decimal"].notna()
                       & quotes["under_decimal"].notna()]
    books = books.drop_duplicates(subset=["book", *PROP])
    over = 1.0 / books["over_decimal"]
    under = 1.0 / books["under_decimal"]
    fair = books[PROP].assign(p_fair=over / (over + under))
    return (fair.groupby(PROP, as_index=False)
            .agg(p_consensus=("p_fair", "median"), n_books=("p_fair", "size")))


def add_consensus(league: League, scored: pd.DataFrame) -> pd.DataFrame:
    """`scored` (score_slates) with a `consensus` column: the morning consensus of each
    prop, NaN where no sportsbook prices both sides of it."""
    slates = sorted(pd.unique(scored["slate_date"]))
    consensus = pd.concat([consensus_p_over(morning_quotes(league, slate))
                           for slate in slates], ignore_index=True)
    consensus = consensus[[*PROP, "p_consensus"]].rename(columns={"p_consensus": "consensus"})
    out = scored.merge(consensus, on=PROP, how="left")
    out.index = scored.index
    return out
