"""Seeded mutation tests: whatever happens to a payload, parse() either raises SchemaDriftError
or returns a canonical frame whose priced items are all accounted for, with known reasons."""

from __future__ import annotations

import copy
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from helpers.core.errors import SchemaDriftError
from helpers.odds.vendors import oddsshark, playnow, unabated
from helpers.odds.vendors.base import ODDS_COLUMNS, RawPayload
from helpers.odds.vendors.parsing import REJECTION_REASONS
from tests.odds.vendors import playnow_fixture as fx
from tests.odds.vendors.test_unabated import payload, price, prop

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
JUNK: list[Any] = [None, 0, -1, 1.5, "", "x", "-110", True, [], {}, [1, 2], {"a": 1}, float("nan")]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(JUNK))
    return doc


def _check(module: Any, raw: RawPayload) -> None:
    try:
        result = module.parse(raw)
    except SchemaDriftError:
        return
    assert tuple(result.rows.columns) == ODDS_COLUMNS
    assert result.accounted, (result.items, len(result.rows), result.rejections.counts)
    assert set(result.rejections.counts) <= set(REJECTION_REASONS), result.rejections.counts
    rows = result.rows
    assert rows["side"].isin(["OVER", "UNDER"]).all()
    assert rows["market_type"].isin(["GOALS", "ASSISTS", "POINTS", "SOG", "BLOCKS"]).all()
    assert (rows["odds_decimal"] > 1).all() and (rows["odds_american"].abs() >= 100).all()
    assert rows["vendor_outcome_key"].is_unique


def _raw(vendor: str, kind: str, body: bytes) -> RawPayload:
    return RawPayload(vendor, kind, body, datetime(2026, 1, 6, 18), "0" * 64, "p")


@pytest.mark.parametrize("seed", range(100))
def test_unabated_mutations(seed: int) -> None:
    rng = random.Random(seed)
    alts = {"alternateLines": [{"points": 2.5, "americanPrice": 150}, {"points": 3.5, "americanPrice": 300}]}
    base = payload([prop(pid=1, books={"ms1": price(**alts), "ms5": price()}),
                    prop(pid=2, bet_type=129), prop(pid=3, bet_type=70, eventId=778)])
    _check(unabated, _raw("UNABATED", "propodds", orjson.dumps(_mutate(base, rng))))


@pytest.mark.parametrize("seed", range(150))
def test_playnow_mutations(seed: int) -> None:
    rng = random.Random(seed)
    doc = fx.build_events_by_ids()
    ev = doc["data"]["events"][0]
    ev["markets"] = rng.sample(ev["markets"], 12)
    _check(playnow, _raw("PLAYNOW", "events_by_ids", orjson.dumps(_mutate(doc, rng))))


@pytest.mark.parametrize("seed", range(100))
def test_oddsshark_mutations(seed: int) -> None:
    rng = random.Random(seed)
    html = (FIXTURES / "oddsshark" / "nhl_player_props_captured_2026-03-09T0215Z.html").read_text()
    for _ in range(rng.randint(1, 6)):
        a = rng.randrange(len(html))
        b = min(len(html), a + rng.randint(1, 400))
        html = html[:a] + rng.choice(["", "-", "<div>", "</div>", "EVEN", "O 9.5", "x"]) + html[b:]
    _check(oddsshark, _raw("ODDSSHARK", "player_props", html.encode()))
