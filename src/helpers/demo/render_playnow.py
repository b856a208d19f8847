"""PlayNow (BCLC) content-service JSON (docs/domain.md): event-list and events-by-ids.

Market names follow the real event page (tests/fixtures/playnow/*.csv): "<Player> Total
Points 0.5", "<Player> Total Shots On Goal 2.5" (O/U) next to "<Player> Total Shots on
Goal" (ladder 1+..4+), "Player 1+ Goals", and markets a parser must ignore (2+/3+ goals,
first/last goalscorer, power-play points, goalie saves, game lines). Players whose name
is shared in the league carry their team: "Sebastian Aho (CAR)". Decimal odds with a
fractional twin.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import lru_cache

import numpy as np

from helpers.core.clock import iso_z
from helpers.demo import rand
from helpers.demo.books import MARKETS, PLAYNOW_BOOK
from helpers.demo.league import Game, League
from helpers.demo.pricing import Quote, book_beliefs, game_truth, one_sided_decimal, quotes_for
from helpers.demo.render_nhl import dumps
from helpers.demo.roster import F_SLOTS

PROPS_WINDOW = timedelta(hours=36)
LISTING_WINDOW = timedelta(days=4)  # later games are listed with game lines only
OUTRIGHT_EVENT_ID = 9_000_001
# Players offered the O/U and ladder products: top forwards and the top defensemen.
_F_DEPTH, _D_DEPTH = 8, 3


def event_id(game: Game) -> int:
    return 4_000_000 + game.game_id % 10_000



# Price steps by decimal range, like a sportsbook's odds ladder (5.75, 11.00, 61, 126).
_LADDER = ((4.0, 0.05), (10.0, 0.25), (20.0, 0.5), (50.0, 1.0), (100.0, 5.0), (1e9, 25.0))


def playnow_price(decimal: float) -> dict:
    """PlayNow quotes a fraction; the decimal is its 2-dp rendering ("4/7" -> 1.57)."""
    decimal = float(min(max(decimal, 1.01), 501.0))
    if decimal >= 2.0:
        step = next(step for limit, step in _LADDER if decimal < limit)
        decimal = 1 + max(round((decimal - 1) / step) * step, 1.0)
        frac = Fraction(decimal - 1).limit_denominator(100)
    elif decimal < 1.05:
        den = min((100, 50, 33, 25, 20), key=lambda d: abs(1 / d - (decimal - 1)))
        frac = Fraction(1, den)
    else:
        frac = Fraction(decimal - 1).limit_denominator(20)
        if frac <= 0 or abs(float(frac) - (decimal - 1)) > 0.05 * (decimal - 1):
            frac = Fraction(decimal - 1).limit_denominator(100)
    return {"decimal": round(1 + frac.numerator / frac.denominator, 2),
            "numerator": frac.numerator, "denominator": frac.denominator}


class _Ids:
    """Sequential market / outcome ids inside an event (stable: the order is fixed)."""

    def __init__(self, event: int):
        self.event = event
        self.n = 0

    def market(self, name: str, handicap: float | None, outcomes: list[tuple[str, float]]
               ) -> dict:
        self.n += 1
        market_id = self.event * 1000 + self.n
        return {"id": market_id, "name": name, "handicapValue": handicap,
                "outcomes": [{"id": market_id * 10 + i, "name": label,
                              "prices": [playnow_price(dec)]}
                             for i, (label, dec) in enumerate(outcomes)]}


@lru_cache(maxsize=8)
def _name_table(league: League) -> tuple[dict[int, str], Counter]:
    names = {p.player_id: p.vendor_name("PLAYNOW") for p in league.players}
    return names, Counter(names.values())


def _display_names(league: League, game: Game) -> dict[int, str]:
    """PlayNow's name for each player of the game; shared names get "(TEAM)"."""
    names, counts = _name_table(league)
    out = {}
    for p in league.players:
        team = p.team_on(game.slate_date)
        if team in (game.away, game.home):
            name = names[p.player_id]
            out[p.player_id] = f"{name} ({team})" if counts[name] > 1 else name
    return out


def _game_lines(league: League, game: Game, ids: _Ids) -> list[dict]:
    home = league.team_by_code[game.home]
    away = league.team_by_code[game.away]
    return [
        ids.market("Money Line", None, [(away.full_name, 2.15), (home.full_name, 1.71)]),
        ids.market("Puck Line", -1.5, [(away.full_name, 1.50), (home.full_name, 2.55)]),
        ids.market("Total Goals 6.5", 6.5, [("Over", 2.05), ("Under", 1.77)]),
    ]


def _prop_markets(league: League, game: Game, now: datetime, ids: _Ids,
                  drift: str | None) -> list[dict]:
    book = PLAYNOW_BOOK
    names = _display_names(league, game)
    quotes = quotes_for(league, game.index, book, now, (*MARKETS, "PPP"))
    main = {(q.player_id, q.market): q for q in quotes if not q.is_alt}
    truth = game_truth(league, game.index)
    rank = {int(pid): (int(side), int(slot))
            for pid, side, slot in zip(truth.player_id, truth.side, truth.slot, strict=True)}

    def featured(pid: int) -> bool:
        slot = rank[pid][1]
        return slot < _F_DEPTH or F_SLOTS <= slot < F_SLOTS + _D_DEPTH

    markets: list[dict] = []
    # Goalscorer products (one outcome per player).
    goal_pids, goal_p = book_beliefs(league, game.index, book, now, "GOALS", (0.5, 1.5, 2.5))
    order = np.argsort(-goal_p[:, 0], kind="stable")
    anytime = [(names[int(goal_pids[i])], main[(int(goal_pids[i]), "GOALS")].over_decimal)
               for i in order if (int(goal_pids[i]), "GOALS") in main]
    markets.append(ids.market("Player 1+ Goals", None, anytime))
    for label, col, top in (("Player 2+ Goals", 1, 20), ("Player 3+ Goals", 2, 5)):
        picked = order[:top]
        dec = one_sided_decimal(book, goal_p[picked, col])
        markets.append(ids.market(label, None, [(names[int(goal_pids[i])], float(d))
                                                for i, d in zip(picked, dec, strict=True)]))
    lam = np.array([truth.mean["GOALS"][truth.side == s].sum() for s in (0, 1)])
    for side, code in ((0, game.away), (1, game.home)):
        team = league.team_by_code[code]
        mine = order[truth.side[order] == side]
        share = truth.mean["GOALS"][mine] / lam.sum() * (1 - np.exp(-lam.sum()))
        dec = 1 / np.clip(share * 1.25, 0.005, 0.9)
        outcomes = [(names[int(truth.player_id[i])], float(d))
                    for i, d in zip(mine, dec, strict=True)]
        markets.append(ids.market(f"{team.full_name} First Goalscorer", None, outcomes))
        markets.append(ids.market(f"{team.full_name} Last Goalscorer", None, outcomes))

    # Per-player O/U products and the SOG ladder, in the page's order.
    sog_pids, sog_p = book_beliefs(league, game.index, book, now, "SOG", (0.5, 1.5, 2.5, 3.5))
    sog_row = {int(pid): i for i, pid in enumerate(sog_pids)}
    for pid in (int(p) for p in truth.player_id if featured(int(p))):
        name = names[pid]
        for market, title in (("POINTS", "Total Points"), ("ASSISTS", "Total Assists"),
                              ("SOG", "Total Shots On Goal"), ("BLOCKS", "Total Blocks")):
            q = main.get((pid, market))
            if q is None or q.under_decimal is None:
                continue
            markets.append(_over_under(ids, f"{name} {title} {q.line:g}", q))
            if market == "SOG":
                rungs = one_sided_decimal(book, sog_p[sog_row[pid]])
                markets.append(ids.market(f"{name} Total Shots on Goal", None,
                                          [(f"{k}+", float(d)) for k, d in
                                           enumerate(rungs, start=1)]))
        q = main.get((pid, "PPP"))
        if q is not None and q.under_decimal is not None and rank[pid][1] < 6:
            markets.append(_over_under(ids, f"{name} Total Powerplay Points 0.5", q))
        if drift == "unknown_bet_type":
            markets.append(ids.market(f"{name} Total Hits 1.5", 1.5,
                                      [("Over", 1.87), ("Under", 1.87)]))
    markets += _saves_markets(league, game, ids)
    return markets


def _over_under(ids: _Ids, name: str, q: Quote) -> dict:
    return ids.market(name, q.line, [("Over", q.over_decimal), ("Under", q.under_decimal)])


def _saves_markets(league: League, game: Game, ids: _Ids) -> list[dict]:
    sk, gk = league.skaters, league.goalies
    out = []
    for side in (0, 1):
        starter = gk.player[game.index, side][gk.starter[game.index, side]][0]
        expected = float((sk.mu_saved[game.index, 1 - side] * sk.dressed[game.index, 1 - side])
                         .sum())
        line = np.floor(expected) + 0.5
        tilt = 0.06 * float(rand.normal(league.seed, "saves", game.game_id, side)[0])
        name = league.players[int(starter)].vendor_name("PLAYNOW")
        out.append(ids.market(f"{name} Total Saves", float(line),
                              [("Over", 1.83 + tilt), ("Under", 1.87 - tilt)]))
    return out


def _event(league: League, game: Game, now: datetime, with_markets: bool,
           drift: str | None) -> dict:
    home = league.team_by_code[game.home]
    away = league.team_by_code[game.away]
    ids = _Ids(event_id(game))
    markets = _game_lines(league, game, ids)
    if game.start_utc <= now + PROPS_WINDOW:
        markets += _prop_markets(league, game, now, ids, drift)
    return {"id": event_id(game), "name": f"{away.full_name} at {home.full_name}",
            "startTime": iso_z(game.start_utc), "marketCount": len(markets),
            "markets": markets if with_markets else []}


def _outright(league: League, with_markets: bool) -> dict:
    season = league.season
    ids = _Ids(OUTRIGHT_EVENT_ID)
    market = ids.market("Stanley Cup Winner", None,
                        [(t.full_name, 10.0 + i) for i, t in enumerate(league.teams)])
    end = datetime.combine(league.season_start + timedelta(days=251), datetime.min.time(),
                           tzinfo=UTC)
    return {"id": OUTRIGHT_EVENT_ID,
            "name": f"NHL {season // 10000}/{season % 100:02d} - Stanley Cup Winner",
            "startTime": iso_z(end), "marketCount": 1,
            "markets": [market] if with_markets else []}


def _listed_games(league: League, now: datetime) -> list[Game]:
    return league.games_between(now, now + LISTING_WINDOW)


def _wrap(events: list[dict], drift: str | None) -> bytes:
    key = "eventList" if drift == "renamed_key" else "events"
    return dumps({"data": {key: events}})


def render_event_list(league: League, now: datetime, drift: str | None = None) -> bytes:
    """`GET .../event-list?...drilldownTagIds=220`: upcoming NHL events, markets empty.
    Games within 36 h carry props (marketCount > 5); later ones only game lines (3)."""
    events = [_event(league, g, now, False, drift) for g in _listed_games(league, now)]
    events.append(_outright(league, False))
    return _wrap(events, drift)


def render_events_by_ids(league: League, now: datetime, event_ids: list[int],
                         drift: str | None = None) -> bytes:
    """`GET .../events-by-ids?eventIds=...`: the requested events with their markets;
    unknown or started events are left out."""
    wanted = set(event_ids)
    events = [_event(league, g, now, True, drift) for g in _listed_games(league, now)
              if event_id(g) in wanted]
    if OUTRIGHT_EVENT_ID in wanted:
        events.append(_outright(league, True))
    return _wrap(events, drift)
