"""NHL api-web payloads: `/v1/schedule/<date>` and `/v1/gamecenter/<id>/boxscore`.

Key names, nesting and value types mirror the real api-web samples in
tests/fixtures/nhl_api. Pure functions of
(league, now, args) -> bytes; identical inputs give identical bytes.

`postponed`: ids of games postponed (the emulator's "postponed" fault). Such a game is shown
as api-web shows one: gameState FUT, gameScheduleState PPD, on its original date, with no
score and no player statistics, whatever the clock.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from helpers.core.clock import iso_z
from helpers.demo import rand
from helpers.demo.league import Game, League
from helpers.demo.roster import F_SLOTS, Team
from helpers.demo.simulate import REGULATION_END_FRAC

_PLACE_FR = {"CAR": "Caroline", "FLA": "Floride", "PHI": "Philadelphie"}
_PREPOSITION_FR = {"CAR": "de la Caroline", "FLA": "de la Floride", "NJD": "du New Jersey",
                   "COL": "du Colorado", "MIN": "du Minnesota", "EDM": "d'Edmonton",
                   "OTT": "d'Ottawa", "ANA": "d'Anaheim"}
_CANADIAN = {"CGY", "EDM", "MTL", "OTT", "TOR", "VAN", "WPG"}
_ODDS_PARTNERS = [
    {"partnerId": 7, "country": "CA", "name": "FanDuel",
     "imageUrl": "https://assets.nhle.com/betting_partner/fanduel.svg",
     "siteUrl": "https://fanduel.com", "bgColor": "#0078ff", "textColor": "#FFFFFF",
     "accentColor": "#FFFFFF"},
    {"partnerId": 9, "country": "US", "name": "DraftKings",
     "imageUrl": "https://assets.nhle.com/betting_partner/draftkings.svg",
     "siteUrl": "https://sportsbook.draftkings.com", "bgColor": "#000000",
     "textColor": "#FFFFFF", "accentColor": "#FFFFFF"},
]


def dumps(obj: object) -> bytes:
    return orjson.dumps(obj)


def _offset(moment: datetime, tz: str) -> str:
    off = moment.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"



def _mmss(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _place(team: Team) -> dict:
    place = {"default": team.place}
    if team.code in _PLACE_FR:
        place["fr"] = _PLACE_FR[team.code]
    return place


def _place_with_preposition(team: Team) -> dict:
    return {"default": team.place, "fr": _PREPOSITION_FR.get(team.code, f"de {team.place}")}


def _logos(team: Team) -> tuple[str, str]:
    base = "https://assets.nhle.com/logos/nhl/svg/"
    return f"{base}{team.code}_light.svg", f"{base}{team.code}_dark.svg"


def _tv(game: Game, league: League) -> list[dict]:
    home = league.team_by_code[game.home]
    away = league.team_by_code[game.away]
    out = []
    for seq, (team, market) in enumerate(((home, "H"), (away, "A"))):
        out.append({"id": 100 + team.nhl_id, "market": market,
                    "countryCode": "CA" if team.code in _CANADIAN else "US",
                    "network": f"{team.code}-TV", "sequenceNumber": 300 + 7 * team.nhl_id + seq})
    return out


# ---- partial / final game state ----------------------------------------------------------

class GameView:
    """A game's statistics as of a clock fraction (1.0 = final)."""

    def __init__(self, league: League, game: Game, frac: float):
        sk = league.skaters
        g = game.index
        ev = league.goals
        lo, hi = ev.game_start[g], ev.game_start[g + 1]
        final = frac >= 1.0
        seen = slice(lo, hi) if final else slice(lo, lo + int(np.sum(ev.t_frac[lo:hi] < frac)))
        self.side = ev.side[seen]
        self.scorer = ev.scorer[seen]
        self.a1 = ev.assist1[seen]
        self.a2 = ev.assist2[seen]
        self.strength = ev.strength[seen]
        self.t = ev.t_frac[seen]
        self.overtime = ev.overtime[seen]
        shape = sk.goals[g].shape
        goals = np.zeros(shape, dtype=int)
        assists = np.zeros(shape, dtype=int)
        ppg = np.zeros(shape, dtype=int)
        np.add.at(goals, (self.side, self.scorer), 1)
        for col in (self.a1, self.a2):
            has = col >= 0
            np.add.at(assists, (self.side[has], col[has]), 1)
        pp = self.strength == 1
        np.add.at(ppg, (self.side[pp], self.scorer[pp]), 1)

        def part(x: np.ndarray) -> np.ndarray:
            return x.astype(int) if final else np.floor(x * frac).astype(int)

        self.goals, self.assists, self.ppg = goals, assists, ppg
        self.sog = goals + part(sk.saved[g])
        self.blocks = part(sk.blocks[g])
        self.hits = part(sk.hits[g])
        self.pim = part(sk.pim[g] // 2) * 2
        self.giveaways = part(sk.giveaways[g])
        self.takeaways = part(sk.takeaways[g])
        self.fo_taken = part(sk.fo_taken[g])
        self.fo_won = np.minimum(part(sk.fo_won[g]), self.fo_taken)
        self.shifts = part(sk.shifts[g])
        self.toi_s = part(sk.toi_s[g])
        self.plus_minus = sk.plus_minus[g].astype(int) if final else np.trunc(
            sk.plus_minus[g] * frac).astype(int)
        self.goalie_toi = part(league.goalies.toi_s[g])
        self.score = goals.sum(-1)
        self.team_sog = self.sog.sum(-1)
        self.frac = frac


def _period(game: Game, frac: float) -> tuple[int, str]:
    if frac >= 1.0:
        return (4, "OT") if game.overtime else (3, "REG")
    if frac >= REGULATION_END_FRAC:
        return (4, "OT") if game.overtime else (3, "REG")
    return 1 + int(frac / REGULATION_END_FRAC * 3), "REG"


def _clock(game: Game, frac: float, state: str) -> dict:
    if state == "FUT":
        return {"timeRemaining": "20:00", "secondsRemaining": 1200, "running": False,
                "inIntermission": False}
    if state == "OFF" or frac >= REGULATION_END_FRAC:
        return {"timeRemaining": "00:00", "secondsRemaining": 0, "running": False,
                "inIntermission": False}
    minute = frac / REGULATION_END_FRAC * 60
    left = round((20 - minute % 20) * 60)
    return {"timeRemaining": _mmss(left), "secondsRemaining": left, "running": True,
            "inIntermission": False}


def _period_descriptor(game: Game, frac: float, state: str) -> dict:
    number, kind = (1, "REG") if state == "FUT" else _period(game, frac)
    return {"number": number, "periodType": kind, "maxRegulationPeriods": 3}


def _winner_goal(league: League, game: Game, view: GameView) -> tuple[int, int] | None:
    """(winning goalie player index, winning goal scorer index) of a final game."""
    win_side = 1 if game.home_score > game.away_score else 0
    loser_goals = min(game.home_score, game.away_score)
    sk, gk = league.skaters, league.goalies
    ours = np.nonzero(view.side == win_side)[0]
    if len(ours) <= loser_goals:
        return None
    scorer = int(sk.player[game.index, win_side, view.scorer[ours[loser_goals]]])
    starter = gk.player[game.index, win_side][gk.starter[game.index, win_side]]
    return int(starter[0]), scorer


def _initial_name(league: League, index: int) -> tuple[dict, dict]:
    p = league.players[index]
    return {"default": f"{p.name.first[0]}."}, {"default": p.name.last}


# ---- schedule -----------------------------------------------------------------------------

def _game_state(game: Game, now: datetime, postponed: frozenset[int]) -> tuple[str, str]:
    """(gameState, gameScheduleState) at `now`."""
    if game.game_id in postponed:
        return "FUT", "PPD"
    return game.state(now), "OK"


def _schedule_team(league: League, game: Game, code: str, home: bool, state: str,
                   score: int | None, now: datetime, schedule_state: str = "OK") -> dict:
    team = league.team_by_code[code]
    logo, dark = _logos(team)
    out = {"id": team.nhl_id, "commonName": {"default": team.nickname},
           "placeName": _place(team), "placeNameWithPreposition": _place_with_preposition(team),
           "abbrev": team.code, "logo": logo, "darkLogo": dark,
           "homeSplitSquad" if home else "awaySplitSquad": False,
           "radioLink": f"https://d2igy0yla8zi0u.cloudfront.net/{team.code}/"
                        f"{game.season}/{team.code}-radio.m3u8"}
    if state == "FUT" and schedule_state == "OK" and game.start_utc - now <= timedelta(hours=24):
        # Moneyline odds appear for games about to start (as in the real payload).
        fav = (league.team_by_code[game.home].offense >= league.team_by_code[game.away].offense)
        american = -135 if fav == home else 115
        decimal = 1 + (100 / -american if american < 0 else american / 100)
        out["odds"] = [{"providerId": 9, "value": f"{american:+d}"},
                       {"providerId": 10, "value": f"{decimal:.2f}"}]
    if score is not None:
        out["score"] = score
    return out


def _schedule_game(league: League, game: Game, now: datetime,
                   postponed: frozenset[int] = frozenset()) -> dict:
    state, schedule_state = _game_state(game, now, postponed)
    frac = game.elapsed_fraction(now)  # not read for a FUT game
    home = league.team_by_code[game.home]
    view = GameView(league, game, frac) if state != "FUT" else None
    scores = (None, None) if view is None else (int(view.score[0]), int(view.score[1]))
    et_date = game.slate_date
    out = {
        "id": game.game_id, "season": game.season, "gameType": 2,
        "venue": {"default": f"{home.place} Arena"}, "neutralSite": False,
        "startTimeUTC": iso_z(game.start_utc),
        "easternUTCOffset": _offset(game.start_utc, "America/New_York"),
        "venueUTCOffset": _offset(game.start_utc, home.venue_tz),
        "venueTimezone": home.venue_tz, "gameState": state,
        "gameScheduleState": schedule_state, "tvBroadcasts": _tv(game, league),
        "awayTeam": _schedule_team(league, game, game.away, False, state, scores[0], now,
                                   schedule_state),
        "homeTeam": _schedule_team(league, game, game.home, True, state, scores[1], now,
                                   schedule_state),
        "periodDescriptor": _period_descriptor(game, frac, state),
    }
    if state == "OFF" and view is not None:
        out["gameOutcome"] = {"lastPeriodType": "OT" if game.overtime else "REG"}
        winners = _winner_goal(league, game, view)
        if winners is not None:
            for key, index in (("winningGoalie", winners[0]), ("winningGoalScorer", winners[1])):
                initial, last = _initial_name(league, index)
                out[key] = {"playerId": league.players[index].player_id,
                            "firstInitial": initial, "lastName": last}
    if state == "FUT":
        link = f"https://www.nhl.com/{home.nickname.lower().replace(' ', '')}/tickets/"
        out["ticketsLink"] = link
        out["ticketsLinkFr"] = link
    out["gameCenterLink"] = (f"/gamecenter/{game.away.lower()}-vs-{game.home.lower()}/"
                             f"{et_date:%Y/%m/%d}/{game.game_id}")
    return out


def render_schedule(league: League, now: datetime, start: date,
                    postponed: frozenset[int] = frozenset()) -> bytes:
    """`GET /v1/schedule/<start>`: the week of seven days starting at `start`."""
    week = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        games = [_schedule_game(league, g, now, postponed) for g in league.games_on(day)]
        week.append({"date": day.isoformat(), "dayAbbrev": day.strftime("%a").upper(),
                     "numberOfGames": len(games), "datePromo": [], "games": games})
    season_start = league.season_start
    payload = {
        "nextStartDate": (start + timedelta(days=7)).isoformat(),
        "previousStartDate": (start - timedelta(days=7)).isoformat(),
        "gameWeek": week,
        "oddsPartners": _ODDS_PARTNERS,
        "preSeasonStartDate": (season_start - timedelta(days=17)).isoformat(),
        "regularSeasonStartDate": season_start.isoformat(),
        "regularSeasonEndDate": (season_start + timedelta(days=193)).isoformat(),
        "playoffEndDate": (season_start + timedelta(days=251)).isoformat(),
        "numberOfGames": sum(day["numberOfGames"] for day in week),
    }
    return dumps(payload)


# ---- boxscore -----------------------------------------------------------------------------

def _skater(league: League, game: Game, view: GameView, side: int, slot: int) -> dict:
    p = league.players[int(league.skaters.player[game.index, side, slot])]
    taken = int(view.fo_taken[side, slot])
    pct = round(int(view.fo_won[side, slot]) / taken, 6) if taken else 0.0
    goals, assists = int(view.goals[side, slot]), int(view.assists[side, slot])
    return {
        "playerId": p.player_id, "sweaterNumber": p.sweater, "name": p.boxscore_name,
        "position": p.position, "goals": goals, "assists": assists, "points": goals + assists,
        "plusMinus": int(view.plus_minus[side, slot]), "pim": int(view.pim[side, slot]),
        "hits": int(view.hits[side, slot]), "powerPlayGoals": int(view.ppg[side, slot]),
        "sog": int(view.sog[side, slot]), "faceoffWinningPctg": float(pct),
        "toi": _mmss(view.toi_s[side, slot]), "blockedShots": int(view.blocks[side, slot]),
        "shifts": int(view.shifts[side, slot]), "giveaways": int(view.giveaways[side, slot]),
        "takeaways": int(view.takeaways[side, slot]),
    }


def _goalie(league: League, game: Game, view: GameView, side: int, gslot: int,
            final: bool) -> dict:
    gk = league.goalies
    p = league.players[int(gk.player[game.index, side, gslot])]
    starter = bool(gk.starter[game.index, side, gslot])
    opp = 1 - side
    shots = goals = 0
    by_strength = [0, 0, 0]  # goals against at ES, PP (opponent's), SH
    if starter:
        shots = int(view.team_sog[opp])
        goals = int(view.score[opp])
        for s in view.strength[view.side == opp]:
            by_strength[int(s)] += 1
    saves = shots - goals
    # Split the saves between strengths (cosmetic, fixed per game).
    u = rand.uniform(league.seed, "save_split", game.game_id, side, np.arange(2))
    pp_saves = math.floor(saves * (0.08 + 0.10 * float(u[0])))
    sh_saves = math.floor(saves * 0.04 * float(u[1]))
    es_saves = saves - pp_saves - sh_saves
    es_shots = es_saves + by_strength[0]
    pp_shots = pp_saves + by_strength[1]
    sh_shots = sh_saves + by_strength[2]
    out = {
        "playerId": p.player_id, "sweaterNumber": p.sweater, "name": p.boxscore_name,
        "position": "G",
        "evenStrengthShotsAgainst": f"{es_saves}/{es_shots}",
        "powerPlayShotsAgainst": f"{pp_saves}/{pp_shots}",
        "shorthandedShotsAgainst": f"{sh_saves}/{sh_shots}",
        "saveShotsAgainst": f"{saves}/{shots}",
    }
    if shots > 0:
        out["savePctg"] = round(saves / shots, 6)
    out.update({
        "evenStrengthGoalsAgainst": by_strength[0], "powerPlayGoalsAgainst": by_strength[1],
        "shorthandedGoalsAgainst": by_strength[2], "pim": 0, "goalsAgainst": goals,
        "toi": _mmss(view.goalie_toi[side, gslot]), "starter": starter,
    })
    if final and starter:
        won = view.score[side] > view.score[opp]
        out["decision"] = "W" if won else ("O" if game.overtime else "L")
    out.update({"shotsAgainst": shots, "saves": saves})
    return out


def _box_team(league: League, game: Game, code: str, view: GameView | None,
              side: int) -> dict:
    team = league.team_by_code[code]
    logo, dark = _logos(team)
    out: dict = {"id": team.nhl_id, "commonName": {"default": team.nickname},
                 "abbrev": team.code}
    if view is not None:
        out["score"] = int(view.score[side])
        out["sog"] = int(view.team_sog[side])
    out.update({"logo": logo, "darkLogo": dark, "placeName": _place(team),
                "placeNameWithPreposition": _place_with_preposition(team)})
    return out


def _player_stats(league: League, game: Game, view: GameView, final: bool) -> dict:
    sk, gk = league.skaters, league.goalies
    out = {}
    for side, key in ((0, "awayTeam"), (1, "homeTeam")):
        def sweater(slot: int, table=sk.player, side=side) -> int:
            return league.players[int(table[game.index, side, slot])].sweater

        dressed = [s for s in range(sk.player.shape[-1]) if sk.dressed[game.index, side, s]]
        forwards = sorted((s for s in dressed if s < F_SLOTS), key=sweater)
        defense = sorted((s for s in dressed if s >= F_SLOTS), key=sweater)
        goalies = sorted((s for s in range(gk.player.shape[-1]) if gk.dressed[game.index, side, s]),
                         key=lambda s, side=side: sweater(s, gk.player, side))
        out[key] = {
            "forwards": [_skater(league, game, view, side, s) for s in forwards],
            "defense": [_skater(league, game, view, side, s) for s in defense],
            "goalies": [_goalie(league, game, view, side, s, final) for s in goalies],
        }
    return out


def render_boxscore(league: League, now: datetime, game_id: int,
                    postponed: frozenset[int] = frozenset()) -> bytes | None:
    """`GET /v1/gamecenter/<id>/boxscore`; None for an unknown game id.

    FUT: no scores and no playerByGameStats (as api-web before puck drop). LIVE: stats so
    far (goals by their simulated times, other counts pro rata), never the final line.
    OFF: the final boxscore, independent of `now`.
    """
    game = league.game_by_id.get(game_id)
    if game is None:
        return None
    state, schedule_state = _game_state(game, now, postponed)
    frac = 1.0 if state == "OFF" else game.elapsed_fraction(now)  # FUT: frac is not read
    view = GameView(league, game, frac) if state != "FUT" else None
    home = league.team_by_code[game.home]
    out = {
        "id": game.game_id, "season": game.season, "gameType": 2, "limitedScoring": False,
        "gameDate": game.slate_date.isoformat(), "venue": {"default": f"{home.place} Arena"},
        "venueLocation": {"default": home.place}, "startTimeUTC": iso_z(game.start_utc),
        "easternUTCOffset": _offset(game.start_utc, "America/New_York"),
        "venueUTCOffset": _offset(game.start_utc, home.venue_tz),
        "tvBroadcasts": _tv(game, league), "gameState": state,
        "gameScheduleState": schedule_state, "periodDescriptor": _period_descriptor(game, frac, state), "regPeriods": 3,
        "awayTeam": _box_team(league, game, game.away, view, 0),
        "homeTeam": _box_team(league, game, game.home, view, 1),
        "clock": _clock(game, frac, state),
    }
    if view is not None:
        out["playerByGameStats"] = _player_stats(league, game, view, state == "OFF")
    out["summary"] = {}
    if state == "OFF":
        out["gameOutcome"] = {"lastPeriodType": "OT" if game.overtime else "REG"}
    return dumps(out)
