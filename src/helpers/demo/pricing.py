"""True prop probabilities per game, and each book's quotes of them.

Books copy a market maker. The market maker is not the truth: it anchors on season rates
and prices each game's circumstances (opponent, goalie, back-to-back, home ice, overtime,
tonight's lineup, a traded player's new linemates) only part of the way -- its belief at
every line comes from a mixture of the game's true distribution and the stale one
(`GameTruth.stale_at_least`: season rates x expected TOI, nothing game-specific), with
weight MAKER_MATCHUP_LAG on the stale one. On top it carries a logit-scale error of its own:
a persistent part per (player, market), a projection that is off for the season, and a part
per game that nobody can see. A model fitted on recent boxscores with opponent and goalie
multipliers can partly see both the lag and the persistent error; the game part it cannot.
Sized so that the sportsbooks' consensus misses the truth by about 1 % of the entropy in
every market (benchmarks/bench_accuracy.py), like the models do.

A book's belief is the market maker's, shifted on the logit scale by the book's own error
(one shift per book, player and market, so its lines stay coherent); its price adds its
vig. The book's error has a persistent part and a part redrawn every hour (daily for the
stale book), and shrinks as the game approaches, so morning and pre-game captures differ
and closing lines are sharper (closer to the market maker; the maker itself does not move).

- The stale book (BetRivers) copies the market maker's error but none of its game
  adjustments: its belief is the stale view alone (lag 1), repriced daily.
- The derived "Unabated" line is computed from the market, so it is the market maker's
  belief plus a little noise: it cannot know more than the books it derives from.
- Pick'em books pay a fixed price at the line the market makes: the half line the market
  maker believes closest to a coin flip (they copy the sportsbooks' line, not the truth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
from scipy import special

from helpers.demo import dists, rand
from helpers.demo.books import Book
from helpers.demo.league import League
from helpers.demo.roster import F_SLOTS, SKATER_SLOTS, assist_probabilities

KMAX = 15
PPP_SHARE = 0.28  # share of a player's points that come on the power play (PPP market)
HALF_LINES: dict[str, tuple[float, ...]] = {
    "GOALS": (0.5,), "ASSISTS": (0.5,), "POINTS": (0.5,), "PPP": (0.5,),
    "SOG": (0.5, 1.5, 2.5, 3.5, 4.5, 5.5), "BLOCKS": (0.5, 1.5, 2.5, 3.5),
}
ALT_LINES: dict[str, tuple[float, ...]] = {
    "GOALS": (1.5, 2.5), "ASSISTS": (1.5, 2.5), "POINTS": (1.5, 2.5, 3.5), "PPP": (),
    "SOG": (0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5), "BLOCKS": (0.5, 1.5, 2.5, 3.5, 4.5),
}
INTEGER_ALT_LINES: dict[str, tuple[float, ...]] = {"SOG": (2.0, 3.0, 4.0)}
ONE_SIDED_VIG_FACTOR = 1.6
# The market maker every book copies (see the module docstring).
MAKER_MATCHUP_LAG = 0.5  # share of the stale (season-rate) view in its belief
MAKER_SIGMA_PLAYER = 0.2  # logit sd, per (player, market), the whole season
MAKER_SIGMA_GAME = 0.1  # logit sd, per (game, player, market)
MIN_IMPLIED, MAX_IMPLIED = 0.01, 0.985


@dataclass(frozen=True)
class GameTruth:
    """True distributions for the priceable skaters of one game (dressed + late scratches)."""

    game_index: int
    side: np.ndarray  # (n,)
    slot: np.ndarray
    player_id: np.ndarray
    dressed: np.ndarray
    mean: dict[str, np.ndarray]  # market -> (n,)
    at_least: dict[str, np.ndarray]  # market -> (n, KMAX+1): P(X >= k)
    stale_at_least: dict[str, np.ndarray]  # what the stale book believes (season rates)


@dataclass(frozen=True, slots=True)
class Quote:
    book: str
    game_index: int
    player_id: int
    side: int  # 0 away, 1 home
    slot: int
    market: str
    line: float
    over: int | None  # American; None = side not offered
    under: int | None
    over_decimal: float | None  # the book's decimal price before American rounding
    under_decimal: float | None
    is_alt: bool
    p_over_true: float  # P(over | no push), truth
    p_over_book: float  # the book's belief
    p_over_market: float  # the market maker's belief, every book's starting point
    blurred: bool
    line_id: int  # stable id per (book, game, player, market, line)
    line_missing: bool  # the vendor lost the line (a data hazard; bet365 only)


def hour_bucket(now: datetime) -> int:
    return int(now.astimezone(UTC).timestamp() // 3600)


@lru_cache(maxsize=512)
def game_truth(league: League, game_index: int) -> GameTruth:
    sk = league.skaters
    g = game_index
    dressed = sk.dressed[g]
    eligible = dressed | sk.late_scratch[g]
    mu_goals = sk.mu_goals[g]
    lam = (mu_goals * dressed).sum(-1)  # team expected goals, (2,)
    lam_own = np.repeat(lam[:, None], SKATER_SLOTS, axis=1)
    lam_opp = lam_own[::-1]
    # Assist share of a team goal: real lineup for dressed players; a late scratch is
    # priced as the books saw him, in the lineup.
    share = assist_probabilities(sk.assist_weight[g] * dressed, mu_goals * dressed)
    share_if_in = assist_probabilities(sk.assist_weight[g] * eligible, mu_goals * eligible)
    lam_if_in = (mu_goals * eligible).sum(-1)[:, None]
    mu_assists = np.where(dressed, share * lam_own, share_if_in * lam_if_in)

    goals = dists.with_overtime(mu_goals, lam_own, lam_opp, KMAX)
    assists = dists.with_overtime(mu_assists, lam_own, lam_opp, KMAX)
    points = dists.with_overtime(mu_goals + mu_assists, lam_own, lam_opp, KMAX)
    sog = dists.convolve_rows(goals, dists.nbinom_pmf(sk.mu_saved[g], sk.alpha_saved[g], KMAX))
    blocks = dists.nbinom_pmf(sk.mu_blocks[g], dists.ALPHA_BLOCKS, KMAX)
    ppp = dists.poisson_pmf(PPP_SHARE * dists.pmf_mean(points), KMAX)
    pmfs = {"GOALS": goals, "ASSISTS": assists, "POINTS": points, "SOG": sog,
            "BLOCKS": blocks, "PPP": ppp}

    # The stale book: season rates x expected TOI, no matchup, no overtime.
    players = sk.player[g]
    toi = sk.toi_exp_min[g]
    base_assists = np.array([[league.players[p].rates.assists60 for p in row]
                             for row in players]) * toi / 60
    base_goals = sk.base_mu_goals[g]
    stale = {
        "GOALS": dists.poisson_pmf(base_goals, KMAX),
        "ASSISTS": dists.poisson_pmf(base_assists, KMAX),
        "POINTS": dists.poisson_pmf(base_goals + base_assists, KMAX),
        "SOG": dists.nbinom_pmf(base_goals + sk.base_mu_saved[g], dists.ALPHA_SOG, KMAX),
        "BLOCKS": dists.nbinom_pmf(sk.base_mu_blocks[g], dists.ALPHA_BLOCKS, KMAX),
        "PPP": ppp,
    }
    side, slot = np.nonzero(eligible)
    pid = np.array([league.players[i].player_id for i in players[side, slot]], dtype=np.int64)
    return GameTruth(
        game_index=g, side=side, slot=slot, player_id=pid, dressed=dressed[side, slot],
        mean={m: dists.pmf_mean(p[side, slot]) for m, p in pmfs.items()},
        at_least={m: dists.at_least(p[side, slot]) for m, p in pmfs.items()},
        stale_at_least={m: dists.at_least(p[side, slot]) for m, p in stale.items()})


def over_probability(at_least: np.ndarray, line: float) -> np.ndarray:
    """P(over | no push) at `line` from P(X >= k) rows."""
    if line != math.floor(line):
        return at_least[..., math.floor(line) + 1]
    k = int(line)
    push = at_least[..., k] - at_least[..., k + 1]
    return at_least[..., k + 1] / np.maximum(1.0 - push, 1e-12)


def decimal_to_american(decimal: np.ndarray, step: int = 1) -> np.ndarray:
    d = np.asarray(decimal, dtype=float)
    with np.errstate(divide="ignore"):
        american = np.where(d >= 2.0, (d - 1.0) * 100.0, -100.0 / (d - 1.0))
    american = np.rint(american / step) * step
    # -100 and +100 are the same price; anything in between is not a valid American price.
    american = np.where(np.abs(american) < 100, 100, american)
    return american.astype(np.int64)


def american_to_decimal(american: int) -> float:
    return 1 + american / 100 if american > 0 else 1 + 100 / -american


def _logit(p: np.ndarray) -> np.ndarray:
    return special.logit(np.clip(p, 1e-4, 1 - 1e-4))


def _shifted_p_over(at_least: np.ndarray, shift: np.ndarray, line: float) -> np.ndarray:
    """P(over | no push) at `line` from P(X >= k) rows, moved by `shift` on the logit scale."""
    return special.expit(_logit(over_probability(at_least, line)) + shift)


def market_maker(league: League, truth: GameTruth, market: str, number: int,
                 stale: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """What the market maker believes about each priceable skater of the game in `market`:
    (P(X >= k) rows it prices from, its logit-scale error). `stale`: the view of a book that
    copies the maker's opinion of the player but not its game adjustments."""
    lag = 1.0 if stale else MAKER_MATCHUP_LAG
    # A mixture of two distributions is a distribution: the lines stay coherent.
    at_least = (1 - lag) * truth.at_least[market] + lag * truth.stale_at_least[market]
    pid = truth.player_id
    error = (MAKER_SIGMA_PLAYER * rand.normal(league.seed, "maker", pid, market, "season")
             + MAKER_SIGMA_GAME * rand.normal(league.seed, "maker", number, pid, market))
    return at_least, error


def _book_error(league: League, book: Book, number: int, pid: np.ndarray, market: str,
                now: datetime, start: datetime) -> np.ndarray:
    """The book's logit-scale error for each player's prop in this market at `now`."""
    if book.sigma == 0:
        return np.zeros(len(pid))
    bucket = hour_bucket(now) // 24 if book.stale else hour_bucket(now)
    z = (0.8 * rand.normal(league.seed, book.key, number, pid, market, "persistent")
         + 0.6 * rand.normal(league.seed, book.key, number, pid, market, bucket))
    if book.stale:
        return book.sigma * z
    hours_left = max((start - now).total_seconds() / 3600, 0.0)
    return book.sigma * (0.6 + 0.4 * min(1.0, hours_left / 24)) * z


def _prices(book: Book, p_over: np.ndarray, two_sided: bool
            ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """(over american, under american, over decimal, under decimal) for the book's belief."""
    if book.dfs_price is not None:
        fixed = np.full(len(p_over), book.dfs_price, dtype=np.int64)
        dec = np.full(len(p_over), american_to_decimal(book.dfs_price))
        return fixed, fixed, dec, dec
    margin = 1 + book.vig if two_sided else 1 + book.vig * ONE_SIDED_VIG_FACTOR
    over_dec = 1 / np.clip(p_over * margin, MIN_IMPLIED, MAX_IMPLIED)
    over = decimal_to_american(over_dec, book.round_to)
    if not two_sided:
        return over, None, over_dec, None
    under_dec = 1 / np.clip((1 - p_over) * margin, MIN_IMPLIED, MAX_IMPLIED)
    return over, decimal_to_american(under_dec, book.round_to), over_dec, under_dec


def _eligible(book: Book, truth: GameTruth, market: str, league: League, number: int
              ) -> np.ndarray:
    is_d = truth.slot >= F_SLOTS
    deep = np.where(is_d, truth.slot - F_SLOTS >= book.depth - 3, truth.slot >= book.depth)
    ok = ~deep
    if market == "BLOCKS":
        ok &= book.blocks & (is_d | (truth.slot < 6))
    cover = rand.uniform(league.seed, book.key, number, truth.player_id, market, "cover")
    return ok & (cover < book.coverage)


def quote_book(league: League, game_index: int, book: Book, now: datetime,
               markets: tuple[str, ...]) -> list[Quote]:
    game = league.games[game_index]
    number = game.game_id % 10_000
    truth = game_truth(league, game_index)
    quotes: list[Quote] = []
    for market in markets:
        keep = np.nonzero(_eligible(book, truth, market, league, number))[0]
        if len(keep) == 0:
            continue
        pid = truth.player_id[keep]
        at_least = truth.at_least[market][keep]
        maker = tuple(a[keep] for a in market_maker(league, truth, market, number))
        believed, maker_error = maker
        if book.stale:
            believed, maker_error = (a[keep] for a in market_maker(league, truth, market,
                                                                   number, stale=True))
        shift = maker_error + _book_error(league, book, number, pid, market, now,
                                          game.start_utc)

        def belief(line: float, believed=believed, shift=shift) -> np.ndarray:
            return _shifted_p_over(believed, shift, line)

        # Main line: the half line the book believes closest to a coin flip (a pick'em
        # book, sigma 0: the market maker's); soft books shade some props one line up or
        # down (persistent per player).
        candidates = HALF_LINES[market]
        beliefs = np.stack([belief(line) for line in candidates], axis=-1)
        pick = np.argmin(np.abs(beliefs - 0.5), axis=-1)
        if book.sigma >= 0.1 and len(candidates) > 1:
            shade = rand.normal(league.seed, book.key, pid, market, "shade")
            pick = np.clip(pick + (shade > 1.4) - (shade < -1.4), 0, len(candidates) - 1)
        two_sided = market != "GOALS" or book.two_sided_goals or book.dfs_price is not None
        blurred = rand.uniform(league.seed, book.key, number, pid, market,
                               hour_bucket(now), "blur") < book.blur_rate
        for c, line in enumerate(candidates):
            rows = np.nonzero(pick == c)[0]
            if len(rows):
                quotes += _make_quotes(league, book, game_index, truth, keep[rows], market,
                                       line, beliefs[rows, c], at_least[rows],
                                       tuple(a[rows] for a in maker), two_sided, False,
                                       blurred[rows])
        if not book.alternates:
            continue
        alt_lines = ALT_LINES[market]
        if book.alternates == "both":
            alt_lines = alt_lines + INTEGER_ALT_LINES.get(market, ())
        main_line = np.array(candidates)[pick]
        for line in alt_lines:
            p = belief(line)
            rows = np.nonzero((main_line != line) & (p > 0.04) & (p < 0.96))[0]
            if len(rows):
                quotes += _make_quotes(league, book, game_index, truth, keep[rows], market,
                                       line, p[rows], at_least[rows],
                                       tuple(a[rows] for a in maker),
                                       book.alternates == "both", True, blurred[rows])
    return quotes


LINE_MISSING_SHARE = 0.01


def _make_quotes(league: League, book: Book, game_index: int, truth: GameTruth,
                 rows: np.ndarray, market: str, line: float, p_book: np.ndarray,
                 at_least: np.ndarray, maker: tuple[np.ndarray, np.ndarray], two_sided: bool,
                 is_alt: bool, blurred: np.ndarray) -> list[Quote]:
    """`at_least`: the truth's rows; `maker`: the market maker's (P(X >= k) rows, error)."""
    over, under, over_dec, under_dec = _prices(book, p_book, two_sided)
    p_true = over_probability(at_least, line)
    p_market = _shifted_p_over(*maker, line)
    pid = truth.player_id[rows]
    number = league.games[game_index].game_id
    line_id = rand.hash64(league.seed, "line", book.key, number, pid, market, line)
    line_id = line_id % np.uint64(900_000_000) + np.uint64(100_000_000)
    missing = np.zeros(len(rows), dtype=bool)
    if book.key == "bet365":
        missing = rand.uniform(league.seed, "line_missing", number, pid, market,
                               line) < LINE_MISSING_SHARE
    out = []
    for i, r in enumerate(rows):
        out.append(Quote(
            book=book.key, game_index=game_index, player_id=int(truth.player_id[r]),
            side=int(truth.side[r]), slot=int(truth.slot[r]), market=market, line=line,
            over=int(over[i]), under=None if under is None else int(under[i]),
            over_decimal=float(over_dec[i]),
            under_decimal=None if under_dec is None else float(under_dec[i]),
            is_alt=is_alt, p_over_true=float(p_true[i]), p_over_book=float(p_book[i]),
            p_over_market=float(p_market[i]),
            blurred=bool(blurred[i]), line_id=int(line_id[i]), line_missing=bool(missing[i])))
    return out


def book_beliefs(league: League, game_index: int, book: Book, now: datetime, market: str,
                 lines: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(player ids, P(over) the book believes at each line) for every priceable skater of
    the game -- for ladders and other one-off products priced outside quote_book."""
    game = league.games[game_index]
    number = game.game_id % 10_000
    truth = game_truth(league, game_index)
    hour_start = datetime.fromtimestamp(hour_bucket(now) * 3600, tz=UTC)
    believed, maker_error = market_maker(league, truth, market, number, book.stale)
    shift = maker_error + _book_error(league, book, number, truth.player_id, market,
                                      hour_start, game.start_utc)
    p = np.stack([_shifted_p_over(believed, shift, line) for line in lines], axis=-1)
    return truth.player_id, p


def one_sided_decimal(book: Book, p: np.ndarray) -> np.ndarray:
    """Decimal price of a one-outcome product (ladder rung, anytime scorer)."""
    margin = 1 + book.vig * ONE_SIDED_VIG_FACTOR
    return 1 / np.clip(p * margin, MIN_IMPLIED, MAX_IMPLIED)


# ~16 books x ~16 games per capture: room for a few captures without unbounded growth.
@lru_cache(maxsize=1024)
def _quote_book_cached(league: League, game_index: int, book: Book, bucket: int,
                       markets: tuple[str, ...]) -> tuple[Quote, ...]:
    now = datetime.fromtimestamp(bucket * 3600, tz=UTC)
    return tuple(quote_book(league, game_index, book, now, markets))


def quotes_for(league: League, game_index: int, book: Book, now: datetime,
               markets: tuple[str, ...]) -> tuple[Quote, ...]:
    """Quotes as of the start of `now`'s hour: prices move by the hour, not the second."""
    return _quote_book_cached(league, game_index, book, hour_bucket(now), markets)
