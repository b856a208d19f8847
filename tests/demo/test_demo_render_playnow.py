"""PlayNow content-service JSON: market names as on the real page, events, prices."""

from __future__ import annotations

import csv
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from helpers.demo.render_playnow import event_id, render_event_list, render_events_by_ids
from helpers.demo.server import default_now

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "playnow" / \
    "playnow_CAR_at_NJD_2026-01-04_prices.csv"

# Market-name families of the real page (every CSV market matches one).
REAL_PATTERNS = {
    "anytime": r"Player 1\+ Goals",
    "multi_goals": r"Player [23]\+ Goals",
    "points": r".+ Total Points 0\.5",
    "assists": r".+ Total Assists 0\.5",
    "sog_ou": r".+ Total Shots On Goal \d+\.5",
    "sog_ladder": r".+ Total Shots on Goal",
    "ppp": r".+ Total Powerplay Points 0\.5",
    "saves": r".+ Total Saves",
    "first_last": r".+ (First|Last) Goalscorer",
    "period_last": r".+ 1st Period Last ?Goalscorer",
}
# Rendered but absent from that page: blocks props (docs/domain.md) and game lines.
OUR_EXTRA = {"blocks": r".+ Total Blocks \d+\.5",
             "game_lines": r"Money Line|Puck Line|Total Goals \d+\.5"}


def _family(name: str, patterns: dict[str, str]) -> str | None:
    return next((k for k, p in patterns.items() if re.fullmatch(p, name)), None)


def _real_markets() -> list[str]:
    with FIXTURE.open(encoding="utf-8") as fh:
        return [row["market"] for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def events(league) -> list[dict]:
    now = default_now(league)
    listing = json.loads(render_event_list(league, now))["data"]["events"]
    wanted = [e["id"] for e in listing if e["marketCount"] > 5]
    return json.loads(render_events_by_ids(league, now, wanted))["data"]["events"]


def test_patterns_cover_the_real_page():
    assert all(_family(name, REAL_PATTERNS) for name in _real_markets())


def test_market_names_follow_the_real_page(events):
    seen = set()
    for event in events:
        assert re.fullmatch(r".+ at .+", event["name"])
        assert event["marketCount"] == len(event["markets"])
        for market in event["markets"]:
            family = _family(market["name"], {**REAL_PATTERNS, **OUR_EXTRA})
            assert family, market["name"]
            seen.add(family)
    assert set(REAL_PATTERNS) - {"period_last"} <= seen
    assert "blocks" in seen


def test_outcomes_and_prices(events):
    for event in events:
        for market in event["markets"]:
            family = _family(market["name"], {**REAL_PATTERNS, **OUR_EXTRA})
            names = [o["name"] for o in market["outcomes"]]
            if family in ("points", "assists", "sog_ou", "blocks", "ppp"):
                assert names == ["Over", "Under"]
                assert market["name"].endswith(f" {market['handicapValue']:g}")
            if family == "sog_ladder":
                assert names == ["1+", "2+", "3+", "4+"] and market["handicapValue"] is None
            if family == "anytime":
                assert len(names) > 20 and market["handicapValue"] is None
            for outcome in market["outcomes"]:
                (price,) = outcome["prices"]
                assert price["decimal"] > 1
                assert price["decimal"] == round(1 + price["numerator"] / price["denominator"], 2)


def test_same_name_players_carry_their_team(league):
    game = next(g for g in league.games if {g.away, g.home} == {"CAR", "NYI"})
    now = game.start_utc - timedelta(hours=8)
    (event,) = json.loads(render_events_by_ids(league, now, [event_id(game)]))["data"]["events"]
    anytime = next(m for m in event["markets"] if m["name"] == "Player 1+ Goals")
    names = {o["name"] for o in anytime["outcomes"]}
    assert {"Sebastian Aho (CAR)", "Sebastian Aho (NYI)"} <= names
    assert "Sebastian Aho" not in names
    # The real page writes "(CAR)" even when only one of them plays.
    other = next(g for g in league.games if "CAR" in (g.away, g.home)
                 and "NYI" not in (g.away, g.home) and g.start_utc > now)
    (event,) = json.loads(render_events_by_ids(league, other.start_utc - timedelta(hours=8),
                                               [event_id(other)]))["data"]["events"]
    assert any(m["name"].startswith("Sebastian Aho (CAR) Total") for m in event["markets"])


def test_event_list_filters_and_windows(league):
    now = default_now(league)
    listing = json.loads(render_event_list(league, now))["data"]["events"]
    assert all(e["markets"] == [] for e in listing)
    small = [e for e in listing if e["marketCount"] <= 5]
    big = [e for e in listing if e["marketCount"] > 5]
    assert small and big
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(e["startTime"] > stamp for e in listing)
    horizon = (now + timedelta(hours=36)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(e["startTime"] <= horizon for e in big)
    # unknown ids are ignored; a started game is gone
    first = min((g for g in league.games if g.start_utc > now), key=lambda g: g.start_utc)
    later = json.loads(render_events_by_ids(league, first.start_utc + timedelta(minutes=1),
                                            [event_id(first), 123]))["data"]["events"]
    assert later == []


def test_drift_variants(league):
    now = default_now(league)
    assert "eventList" in json.loads(render_event_list(league, now, "renamed_key"))["data"]
    listing = json.loads(render_event_list(league, now))["data"]["events"]
    ids = [e["id"] for e in listing if e["marketCount"] > 5][:1]
    drifted = json.loads(render_events_by_ids(league, now, ids, "unknown_bet_type"))
    names = [m["name"] for e in drifted["data"]["events"] for m in e["markets"]]
    assert any(n.endswith("Total Hits 1.5") for n in names)
