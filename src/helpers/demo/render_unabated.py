"""Unabated `GET /markets/v2/league/6/propodds.json` (docs/domain.md).

si0 = OVER, si1 = UNDER. personId is Unabated's own id space (Player.unabated_id), not
the NHL id. GOALS is mostly one-sided (si0 only). Some prices are blurred
(isBlurred, americanPrice null), a few lack points, some props carry a non-null
betSubType (a variant market to skip), and a book with statusId 2 still has prices.

Fields the real sample does not pin down are filled as follows: `price` repeats
americanPrice; `sourcePrice` is the book's native quote (decimal for decimal-native books,
sourceFormat 2; American otherwise, sourceFormat 1); marketLineId is a stable id per
(book, event, player, market, line).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np

from helpers.core.clock import iso_z
from helpers.demo import rand
from helpers.demo.books import EXTRA_UNABATED_BOOKS, MARKETS, UNABATED_BOOKS, Book
from helpers.demo.league import DEFAULT_SEED, Game, League, build_league
from helpers.demo.names import fold_ascii
from helpers.demo.pricing import Quote, game_truth, quotes_for
from helpers.demo.render_nhl import dumps

BET_TYPE_IDS = {"POINTS": 70, "ASSISTS": 73, "SOG": 86, "BLOCKS": 88, "GOALS": 129}
UNKNOWN_BET_TYPE_ID = 999
ODDS_KEY = "lg6:pt1:pregame"
WINDOW = timedelta(hours=36)
TEAM_ID_MISSING_SHARE = 0.15


def event_id(game: Game) -> str:
    return str(1_600_000 + game.game_id % 10_000)


def event_name(league: League, game: Game) -> str:
    def part(code: str) -> str:
        team = league.team_by_code[code]
        return f"{team.nickname} {fold_ascii(team.place)} {team.code}"

    return f"{part(game.away)} @ {part(game.home)}"



def _price(book: Book, q: Quote, american: int, decimal: float, alternates: list | None
           ) -> dict:
    blurred = q.blurred
    out = {"points": None if q.line_missing else q.line,
           "americanPrice": None if blurred else american,
           "marketLineId": q.line_id, "isBlurred": blurred}
    if alternates is not None:
        out["alternateLines"] = alternates
    out["price"] = None if blurred else american
    if blurred:
        out["sourcePrice"] = None
    elif book.decimal_native:
        out["sourcePrice"] = round(decimal, 2)
    else:
        out["sourcePrice"] = american
    out["sourceFormat"] = 2 if book.decimal_native else 1
    return out


def _sides(books: dict[str, Book], quotes: list[Quote]) -> dict:
    over: dict[str, dict] = {}
    under: dict[str, dict] = {}
    for book_key in sorted({q.book for q in quotes}, key=lambda k: books[k].unabated_id or 0):
        book = books[book_key]
        mine = [q for q in quotes if q.book == book_key]
        main = next((q for q in mine if not q.is_alt), None)
        if main is None:
            continue
        alts = sorted((q for q in mine if q.is_alt), key=lambda q: q.line)
        ms = f"ms{book.unabated_id}"
        alt_over = [_price(book, q, q.over, q.over_decimal, None) for q in alts]
        over[ms] = _price(book, main, main.over, main.over_decimal, alt_over)
        if main.under is not None:
            alt_under = [_price(book, q, q.under, q.under_decimal, None)
                         for q in alts if q.under is not None]
            under[ms] = _price(book, main, main.under, main.under_decimal, alt_under)
    return {"over": over, "under": under}


def _prop(league: League, game: Game, person: int, team_id: int | None, bet_type: int,
          sub_type: str | None, sides: dict) -> dict:
    home = league.team_by_code[game.home]
    away = league.team_by_code[game.away]
    out = {"eventId": event_id(game), "personId": person, "betTypeId": bet_type,
           "eventStart": iso_z(game.start_utc), "eventName": event_name(league, game),
           "eventTeams": {"1": {"id": home.unabated_id}, "0": {"id": away.unabated_id}}}
    if team_id is not None:
        out["teamId"] = team_id
    out.update({"statusId": 1, "betSubType": sub_type, "live": False})
    key_over, key_under = f"si0:pid{person}", f"si1:pid{person}"
    out["sides"] = {key_over: sides["over"]}
    if sides["under"]:
        out["sides"][key_under] = sides["under"]
    return out


def _first_period_sides(player_index: int, sog_mean: float) -> dict:
    """A '1st period' SOG 0.5 variant (betSubType set): priced by two books, crudely."""
    p = 1 - np.exp(-sog_mean / 3)
    over, under = {}, {}
    for ms, vig in (("ms1", 0.08), ("ms2", 0.085)):
        for side, prob in ((over, p), (under, 1 - p)):
            dec = 1 / min(prob * (1 + vig), 0.985)
            american = round((dec - 1) * 100) if dec >= 2 else round(-100 / (dec - 1))
            side[ms] = {"points": 0.5, "americanPrice": american,
                        "marketLineId": 900_000_000 + player_index, "isBlurred": False,
                        "alternateLines": [], "price": american, "sourcePrice": american,
                        "sourceFormat": 1}
    return {"over": over, "under": under}


def render_games(league: League, now: datetime, games: list[Game], books: tuple[Book, ...],
                 drift: str | None = None) -> bytes:
    book_by_key = {b.key: b for b in books}
    people: dict[str, dict] = {}
    props: list[dict] = []
    for game in sorted(games, key=lambda g: (g.start_utc, g.game_id)):
        quotes = [q for b in books for q in quotes_for(league, game.index, b, now, MARKETS)]
        truth = game_truth(league, game.index)
        # Per-player flags, drawn once per game (vectorised).
        no_team = dict(zip(truth.player_id.tolist(), (rand.uniform(
            league.seed, "no_team", truth.player_id) < TEAM_ID_MISSING_SHARE).tolist(),
            strict=True))
        variant = dict(zip(truth.player_id.tolist(), (rand.uniform(
            league.seed, "period_variant", truth.player_id) < 0.05).tolist(), strict=True))
        by_prop: dict[tuple[int, str], list[Quote]] = {}
        for q in quotes:
            by_prop.setdefault((q.player_id, q.market), []).append(q)
        for (pid, market), group in sorted(by_prop.items(),
                                           key=lambda kv: (BET_TYPE_IDS[kv[0][1]], kv[0][0])):
            player = league.player_by_id[pid]
            team_code = player.team_on(game.slate_date)
            team_id = league.team_by_code[team_code].unabated_id
            if no_team[pid]:
                team_id = None
            sides = _sides(book_by_key, group)
            if not sides["over"]:
                continue
            first, _, last = player.vendor_name("UNABATED").partition(" ")
            people[str(player.unabated_id)] = {"firstName": first, "lastName": last}
            props.append(_prop(league, game, player.unabated_id, team_id, BET_TYPE_IDS[market],
                               None, sides))
            if market == "SOG" and variant[pid]:
                sog_mean = float(truth.mean["SOG"][truth.player_id == pid][0])
                props.append(_prop(league, game, player.unabated_id, team_id, 86,
                                   "1st period", _first_period_sides(player.index, sog_mean)))
            if drift == "unknown_bet_type" and market == "SOG":
                props.append(_prop(league, game, player.unabated_id, team_id,
                                   UNKNOWN_BET_TYPE_ID, None, sides))
    sources = sorted((b for b in books if b.unabated_id is not None),
                     key=lambda b: b.unabated_id or 0)
    payload = {
        "people": people,
        "marketSources" if drift != "renamed_key" else "bookSources": [
            {"id": b.unabated_id, "name": b.name, "statusId": b.unabated_status} for b in sources],
        "teams": {str(t.unabated_id): {"abbreviation": t.code}
                  for t in sorted(league.teams, key=lambda t: t.unabated_id)},
        "odds": {ODDS_KEY: props},
    }
    return dumps(payload)


def render_unabated(league: League, now: datetime, drift: str | None = None,
                    books: tuple[Book, ...] = UNABATED_BOOKS) -> bytes:
    """Props for the games starting in (now, now + 36 h]; started games are gone."""
    return render_games(league, now, league.games_between(now, now + WINDOW), books, drift)


LARGE_GAMES = 18


@lru_cache(maxsize=2)
def render_unabated_large(seed: int = DEFAULT_SEED) -> bytes:
    """A ~24 MB snapshot for benchmarks: the next 18 games, 26 books, alternate lines."""
    league = build_league(seed, days=30)
    now = datetime.combine(league.season_start + timedelta(days=10), datetime.min.time(),
                           tzinfo=UTC) + timedelta(hours=15)
    games = [g for g in league.games if g.start_utc > now][:LARGE_GAMES]
    return render_games(league, now, games, UNABATED_BOOKS + EXTRA_UNABATED_BOOKS)
