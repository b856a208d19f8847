"""Unabated propodds.json: real-sample shape, side convention, books, hazards, large size."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from demo_shape import compare, normalize_keys, shape

from helpers.demo.render_unabated import (
    BET_TYPE_IDS,
    ODDS_KEY,
    render_unabated,
    render_unabated_large,
)
from helpers.demo.server import default_now

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "unabated" / \
    "propodds_trimmed_DAL_at_CAR.json"
ID_KEYS = [(r"^\d+$", "<id>"), (r"^(si[01]):pid\d+$", r"\1:pid<id>"), (r"^ms\d+$", "ms<id>")]
# Documented in docs/domain.md but absent from the trimmed sample.
DOCUMENTED_EXTRA = frozenset({"live", "marketLineId", "isBlurred", "alternateLines", "price",
                              "sourcePrice", "sourceFormat"})


@pytest.fixture(scope="module")
def payload(league) -> dict:
    return json.loads(render_unabated(league, default_now(league)))


def _prices(payload: dict):
    for prop in payload["odds"][ODDS_KEY]:
        for side_key, books in prop["sides"].items():
            for ms, price in books.items():
                yield prop, side_key, ms, price


def test_shape_matches_the_real_sample(payload):
    ref = shape(normalize_keys(json.loads(FIXTURE.read_text(encoding="utf-8")), ID_KEYS))
    # The sample's betSubType is null; variant props (a string there) are tested elsewhere.
    plain = {**payload, "odds": {ODDS_KEY: [p for p in payload["odds"][ODDS_KEY]
                                            if p["betSubType"] is None]}}
    ours = shape(normalize_keys(plain, ID_KEYS))
    problems = compare(ours, ref, allow_extra=DOCUMENTED_EXTRA,
                       allow_missing=frozenset({"teamId", "si1:pid<id>"}),
                       nullable=frozenset({"americanPrice", "points", "price", "sourcePrice"}))
    assert problems == []
    assert "teamId" in ours.keys["odds"][1].keys[ODDS_KEY][1].item.keys


def test_books_and_statuses(payload):
    sources = {s["id"]: s for s in payload["marketSources"]}
    for book_id, name in ((1, "DraftKings"), (2, "FanDuel"), (73, "Underdog Fantasy"),
                          (89, "Novig")):
        assert sources[book_id]["name"] == name
    names = {s["name"] for s in sources.values()}
    assert {"Pinnacle", "PrizePicks", "Sleeper", "Unabated", "BetMGM", "Caesars",
            "bet365"} <= names
    assert any(s["statusId"] not in (1, 3) for s in sources.values())
    used = {int(ms[2:]) for _, _, ms, _ in _prices(payload)}
    assert used <= set(sources)
    inactive = {i for i, s in sources.items() if s["statusId"] not in (1, 3)}
    assert used & inactive, "an inactive book still has prices (parsers must skip them)"


def test_ids_and_event_fields(payload, league):
    teams = payload["teams"]
    assert teams["734"]["abbreviation"] == "CAR" and teams["747"]["abbreviation"] == "DAL"
    assert len(teams) == 32
    nhl_ids = {p.player_id for p in league.players}
    props = payload["odds"][ODDS_KEY]
    assert props
    for prop in props[:200]:
        assert isinstance(prop["eventId"], str)
        assert prop["personId"] not in nhl_ids
        assert str(prop["personId"]) in payload["people"]
        assert set(prop["sides"]) <= {f"si0:pid{prop['personId']}", f"si1:pid{prop['personId']}"}
        away, home = prop["eventName"].split(" @ ")
        assert teams[str(prop["eventTeams"]["0"]["id"])]["abbreviation"] == away.split()[-1]
        assert teams[str(prop["eventTeams"]["1"]["id"])]["abbreviation"] == home.split()[-1]
        assert prop["eventStart"].endswith("Z")
    assert any("teamId" not in p for p in props) and any("teamId" in p for p in props)


def test_si0_is_over(payload, league):
    """For a two-sided price the si0 side is the over: it is the favourite exactly when the
    market's P(over) is above one half (sharp book, clear cases). The market maker's belief,
    not the truth: every book copies the maker's error (helpers.demo.pricing), and a clear
    case by the truth can be a coin flip to the market."""
    from helpers.demo.books import BOOK_BY_KEY, MARKETS
    from helpers.demo.pricing import quotes_for

    event_games = {str(1_600_000 + g.game_id % 10_000): g for g in league.games}
    person = {p.unabated_id: p for p in league.players}
    pinnacle = BOOK_BY_KEY["pinnacle"]
    assert pinnacle.unabated_id == 10
    now = default_now(league)
    checked = 0
    for prop in payload["odds"][ODDS_KEY]:
        if prop["betSubType"] is not None or prop["betTypeId"] not in BET_TYPE_IDS.values():
            continue
        market = {v: k for k, v in BET_TYPE_IDS.items()}[prop["betTypeId"]]
        pid = prop["personId"]
        over = prop["sides"][f"si0:pid{pid}"].get("ms10")
        under = prop["sides"].get(f"si1:pid{pid}", {}).get("ms10")
        if not over or not under or over["americanPrice"] is None:
            continue
        game = event_games[prop["eventId"]]
        p_over = next(q.p_over_market for q in quotes_for(league, game.index, pinnacle, now,
                                                          MARKETS)
                      if q.player_id == person[pid].player_id and q.market == market
                      and q.line == over["points"])
        if abs(p_over - 0.5) > 0.1:
            assert (over["americanPrice"] < under["americanPrice"]) == (p_over > 0.5)
            checked += 1
    assert checked > 50


def test_hazards_present(payload):
    prices = list(_prices(payload))
    goals = [p for p in payload["odds"][ODDS_KEY] if p["betTypeId"] == 129]
    # GOALS is often one-sided: most books quote only si0 (anytime scorer).
    over_only = both = 0
    for p in goals:
        overs = p["sides"][f"si0:pid{p['personId']}"]
        unders = p["sides"].get(f"si1:pid{p['personId']}", {})
        over_only += len(set(overs) - set(unders))
        both += len(set(overs) & set(unders))
        assert set(unders) <= set(overs)
    assert over_only > both
    assert any(len(p["sides"]) == 1 for p in goals)
    blurred = [pr for *_, pr in prices if pr["isBlurred"]]
    assert blurred and all(pr["americanPrice"] is None for pr in blurred)
    assert any(pr["points"] is None for *_, pr in prices)
    assert any(pr["alternateLines"] for *_, pr in prices)
    assert any(p["betSubType"] is not None for p in payload["odds"][ODDS_KEY])
    lines = Counter(pr["points"] for *_, pr in prices if pr["points"] is not None)
    assert sum(c for line, c in lines.items() if line % 1 == 0.5) > 0.95 * sum(lines.values())
    for *_, pr in prices:
        if pr["americanPrice"] is not None:
            assert abs(pr["americanPrice"]) >= 100


def test_window_drops_started_games(league):
    now = default_now(league)
    payload = json.loads(render_unabated(league, now))
    starts = sorted({p["eventStart"] for p in payload["odds"][ODDS_KEY]})
    first = min(g.start_utc for g in league.games if g.start_utc > now)
    later = json.loads(render_unabated(league, first + timedelta(minutes=1)))
    dropped = {p["eventId"] for p in payload["odds"][ODDS_KEY]
               if p["eventStart"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert dropped and not dropped & {p["eventId"] for p in later["odds"][ODDS_KEY]}
    assert all(s > now.strftime("%Y-%m-%dT%H:%M:%SZ") for s in starts)
    assert max(starts) <= (now + timedelta(hours=36)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(p["live"] is False for p in later["odds"][ODDS_KEY])


def test_drift_variants(league):
    now = default_now(league)
    renamed = json.loads(render_unabated(league, now, drift="renamed_key"))
    assert "marketSources" not in renamed and "bookSources" in renamed
    unknown = json.loads(render_unabated(league, now, drift="unknown_bet_type"))
    assert any(p["betTypeId"] == 999 for p in unknown["odds"][ODDS_KEY])


def test_large_snapshot_size():
    body = render_unabated_large()
    assert 18e6 < len(body) < 32e6
    data = json.loads(body)
    props = data["odds"][ODDS_KEY]
    objects = sum(len(books) for p in props for books in p["sides"].values())
    alternates = sum(len(pr["alternateLines"]) for p in props for books in p["sides"].values()
                     for pr in books.values())
    assert 2500 <= len(props) <= 3500
    assert 95_000 <= objects <= 145_000
    assert 130_000 <= objects + alternates <= 180_000
    assert body == render_unabated_large()
