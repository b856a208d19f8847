"""What the emulator knows and the vendors do not: `/_emulator/truth/...` payloads.

Players with every vendor's name and id, their true rates, each game's true result (the
same numbers as the final boxscore), the true distribution each book priced, and the
books' current quotes with the true probability next to each.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime

from helpers.core.clock import iso_z
from helpers.demo import render_oddsshark, render_playnow, render_unabated
from helpers.demo.books import (
    BOOK_BY_KEY,
    BOOKS,
    MARKETS,
    ODDSSHARK_BOOKS,
    PLAYNOW_BOOK,
    UNABATED_BOOKS,
)
from helpers.demo.league import Game, League
from helpers.demo.names import NAME_VENDORS
from helpers.demo.pricing import game_truth, quotes_for
from helpers.demo.render_nhl import dumps


def players_json(league: League) -> bytes:
    players = []
    for p in league.players:
        players.append({
            "player_id": p.player_id, "name": p.full_name, "first_name": p.name.first,
            "last_name": p.name.last, "position": p.position, "sweater": p.sweater,
            "depth": p.depth,
            "team_history": [{"from": d.isoformat(), "team": t} for d, t in p.team_history],
            "vendor_names": {v: p.vendor_name(v) for v in NAME_VENDORS},
            "unabated_person_id": p.unabated_id,
            "boxscore_name": p.boxscore_name,
            "rates": asdict(p.rates),
        })
    trade = league.trade
    return dumps({
        "seed": league.seed, "season": league.season,
        "season_start": league.season_start.isoformat(), "days": league.days,
        "trade": {"date": trade.date.isoformat(), "player_ids": list(trade.player_ids),
                  "teams_before": list(trade.teams)},
        "teams": [{"code": t.code, "nhl_id": t.nhl_id, "unabated_id": t.unabated_id,
                   "name": t.full_name, "offense": t.offense, "defense": t.defense}
                  for t in league.teams],
        "players": players,
    })


def _game_summary(game: Game, now: datetime, postponed: frozenset[int]) -> dict:
    """`postponed`: the games the emulator postpones. Their result is what the simulation
    drew, never played: api-web shows them FUT and PPD."""
    is_postponed = game.game_id in postponed
    return {
        "game_id": game.game_id, "slate_date": game.slate_date.isoformat(),
        "start_utc": iso_z(game.start_utc), "end_utc": iso_z(game.end_utc),
        "away": game.away, "home": game.home, "away_score": game.away_score,
        "home_score": game.home_score, "overtime": game.overtime,
        "away_back_to_back": game.away_back_to_back, "home_back_to_back": game.home_back_to_back,
        "state": "FUT" if is_postponed else game.state(now),
        "schedule_state": "PPD" if is_postponed else "OK", "postponed": is_postponed,
        "event_ids": {"UNABATED": render_unabated.event_id(game),
                      "PLAYNOW": render_playnow.event_id(game),
                      "ODDSSHARK": render_oddsshark.event_id(game)},
    }


def games_json(league: League, now: datetime, slate_date: date | None,
               postponed: frozenset[int] = frozenset()) -> bytes:
    games = league.games if slate_date is None else league.games_on(slate_date)
    return dumps({"games": [_game_summary(g, now, postponed) for g in games]})


def game_json(league: League, now: datetime, game: Game,
              postponed: frozenset[int] = frozenset()) -> bytes:
    """The final result: every rostered skater (scratches with dressed false)."""
    sk, gk = league.skaters, league.goalies
    g = game.index
    skaters = []
    for side, code in ((0, game.away), (1, game.home)):
        for slot in range(sk.player.shape[-1]):
            p = league.players[int(sk.player[g, side, slot])]
            goals, assists = int(sk.goals[g, side, slot]), int(sk.assists[g, side, slot])
            skaters.append({
                "player_id": p.player_id, "team": code, "slot": slot,
                "dressed": bool(sk.dressed[g, side, slot]),
                "late_scratch": bool(sk.late_scratch[g, side, slot]),
                "goals": goals, "assists": assists, "points": goals + assists,
                "sog": int(sk.sog[g, side, slot]), "blocks": int(sk.blocks[g, side, slot]),
                "toi_s": int(sk.toi_s[g, side, slot]),
            })
    goalies = [{"player_id": league.players[int(gk.player[g, s, k])].player_id, "team": code,
                "starter": bool(gk.starter[g, s, k]), "toi_s": int(gk.toi_s[g, s, k])}
               for s, code in ((0, game.away), (1, game.home))
               for k in range(gk.player.shape[-1]) if gk.dressed[g, s, k]]
    return dumps({**_game_summary(game, now, postponed), "skaters": skaters,
                  "goalies": goalies})


def probabilities_json(league: League, game: Game) -> bytes:
    """The true distribution of each priceable skater's count, per market:
    mean and p_at_least[k] = P(X >= k). P(over line L) = p_at_least[floor(L) + 1]."""
    truth = game_truth(league, game.index)
    players = []
    for i, pid in enumerate(truth.player_id):
        players.append({
            "player_id": int(pid), "side": "home" if truth.side[i] else "away",
            "dressed": bool(truth.dressed[i]),
            "markets": {m: {"mean": round(float(truth.mean[m][i]), 6),
                            "p_at_least": [round(float(x), 6) for x in truth.at_least[m][i]]}
                        for m in MARKETS},
        })
    return dumps({"game_id": game.game_id, "players": players})


def quotes_json(league: League, now: datetime, game: Game, book_keys: list[str]) -> bytes:
    """Current quotes of the given books (all served books when empty) with the true and
    the book's believed P(over | no push) at each line."""
    keys = book_keys or [b.key for b in BOOKS]
    quotes = []
    for key in keys:
        for q in quotes_for(league, game.index, BOOK_BY_KEY[key], now, MARKETS):
            quotes.append({"book": q.book, "player_id": q.player_id, "market": q.market,
                           "line": q.line, "over": q.over, "under": q.under,
                           "is_alt": q.is_alt, "p_over_true": round(q.p_over_true, 6),
                           "p_over_book": round(q.p_over_book, 6)})
    return dumps({"game_id": game.game_id, "now": iso_z(now), "quotes": quotes})


def books_json() -> bytes:
    """Every book model, and which vendor payloads show it ("LARGE": only the benchmark
    snapshot)."""
    def served_by(key: str) -> list[str]:
        out = [vendor for vendor, books in (("UNABATED", UNABATED_BOOKS),
                                           ("ODDSSHARK", ODDSSHARK_BOOKS),
                                           ("PLAYNOW", (PLAYNOW_BOOK,)))
               if any(b.key == key for b in books)]
        return out or ["LARGE"]

    return dumps({"books": [{**asdict(b), "served_by": served_by(b.key)}
                            for b in BOOK_BY_KEY.values()]})
