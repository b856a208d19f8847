"""Every renderer is a pure function: same seed and clock -> the same bytes."""

from __future__ import annotations

from datetime import timedelta

from helpers.demo import build_league
from helpers.demo.render_nhl import render_boxscore, render_schedule
from helpers.demo.render_oddsshark import render_oddsshark
from helpers.demo.render_playnow import event_id, render_event_list, render_events_by_ids
from helpers.demo.render_unabated import render_unabated
from helpers.demo.server import default_now


def _payloads(seed: int) -> dict[str, bytes]:
    # A fresh league object each time, so no cache is shared between the two builds.
    league = build_league(seed, days=45)
    now = default_now(league)
    live = next(g for g in league.games if g.start_utc > now)
    during = live.start_utc + timedelta(minutes=75)
    final = league.games[50]
    upcoming = [event_id(g) for g in league.games_between(now, now + timedelta(hours=36))]
    return {
        "schedule": render_schedule(league, now, now.date() - timedelta(days=3)),
        "boxscore_final": render_boxscore(league, now, final.game_id),
        "boxscore_live": render_boxscore(league, during, live.game_id),
        "unabated": render_unabated(league, now),
        "playnow_list": render_event_list(league, now),
        "playnow_events": render_events_by_ids(league, now, upcoming),
        "oddsshark": render_oddsshark(league, now),
    }


def test_same_seed_same_bytes_and_other_seed_differs():
    first, second, other = _payloads(17), _payloads(17), _payloads(18)
    for name in first:
        assert first[name] == second[name], name
        assert first[name] != other[name], name
        assert len(first[name]) > 200, name
