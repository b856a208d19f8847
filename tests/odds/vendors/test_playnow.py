"""PlayNow content-service parser (docs/domain.md): contract test on every priced outcome of a real
event page, name hazards, ladders vs O/U, event selection, bad values and drift."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from fractions import Fraction
from typing import Any

import orjson
import pandas as pd
import pytest

from helpers.core.errors import SchemaDriftError
from helpers.odds.vendors import playnow
from helpers.odds.vendors.base import ODDS_COLUMNS, ODDS_KEY, RawPayload
from helpers.odds.vendors.parsing import ODDS_DTYPES, ParseResult
from tests.odds.vendors import playnow_fixture as fx

CAPTURE = datetime(2026, 1, 4, 20, 0)


def raw_of(body: bytes | dict, kind: str = "events_by_ids") -> RawPayload:
    if isinstance(body, dict):
        body = orjson.dumps(body)
    return RawPayload(vendor="PLAYNOW", kind=kind, body=body, capture_ts_utc=CAPTURE,
                      sha256=hashlib.sha256(body).hexdigest(), path=f"raw/PLAYNOW/{kind}.json")


def count_outcomes(doc: dict) -> int:
    return sum(len(m["outcomes"]) for ev in doc["data"]["events"] for m in ev.get("markets", []))


def parse_doc(doc: dict) -> ParseResult:
    result = playnow.parse(raw_of(doc))
    assert result.items == count_outcomes(doc)
    assert result.accounted, (result.items, len(result.rows), result.rejections.counts)
    return result


def exact_american(text: str) -> int:
    """docs/domain.md decimal -> American in exact rational arithmetic, rounding half away from 0."""
    d = Fraction(text)
    x = (d - 1) * 100 if d >= 2 else Fraction(-100) / (d - 1)
    mag = abs(x)
    r = int(mag) + (1 if mag - int(mag) >= Fraction(1, 2) else 0)
    return r if x > 0 else -r


def expected_for(market: str, outcome: str, handicap: str) -> dict[str, Any]:
    """What the parser must make of one CSV row, written from docs/domain.md (independently of the
    parser's regexes): either {'reason': ...} or the row's market/line/side/player/team."""
    if re.fullmatch(r"Player [23]\+ Goals", market) or "Goalscorer" in market \
            or "Powerplay" in market or market.endswith("Total Saves"):
        return {"reason": "ignored_market"}
    if market == "Player 1+ Goals":
        player_text, out = outcome, {"market_type": "GOALS", "side": "OVER", "line": 0.5,
                                     "prefix": "anytime"}
    else:
        player_text, stat = market.split(" Total ", 1)
        stat = re.sub(r" \d+(\.\d+)?$", "", stat)
        market_type = {"Points": "POINTS", "Assists": "ASSISTS", "Shots On Goal": "SOG",
                       "Shots on Goal": "SOG"}[stat]
        if outcome in ("Over", "Under"):
            out = {"market_type": market_type, "side": outcome.upper(), "line": float(handicap),
                   "prefix": "ou"}
        else:
            n = int(outcome.rstrip("+"))
            out = {"market_type": market_type, "side": "OVER", "line": n - 0.5, "prefix": "ladder"}
    if player_text == "Sebastian Aho (CAR)":
        out.update(player="Sebastian Aho", team="CAR")
    else:
        out.update(player=player_text, team=None)
    return out


# ---------------------------------------------------------------- the real event page


@pytest.fixture(scope="module")
def contract() -> tuple[list[dict[str, str]], ParseResult]:
    body = fx.JSON_PATH.read_bytes()
    return fx.read_csv(), playnow.parse(raw_of(body))


def test_committed_json_fixture_matches_its_generator() -> None:
    assert fx.JSON_PATH.read_bytes() == fx.render(fx.build_events_by_ids())


def test_every_priced_outcome_of_the_real_page(contract: tuple[list[dict[str, str]], ParseResult]) -> None:
    rows_csv, result = contract
    rows = result.rows.set_index("vendor_outcome_key", drop=False)
    assert result.items == len(rows_csv) == 355
    assert result.accounted
    expected_ignored = 0
    emitted = 0
    for i, r in enumerate(rows_csv):
        exp = expected_for(r["market"], r["outcome"], r["handicap"])
        key = f"{exp.get('prefix')}:{fx.outcome_id(i)}"
        if "reason" in exp:
            expected_ignored += 1
            assert not rows["vendor_outcome_key"].str.endswith(f":{fx.outcome_id(i)}").any(), r
            continue
        emitted += 1
        assert key in rows.index, (r, key)
        got = rows.loc[key]
        ctx = (r, got.to_dict())
        assert got["market_type"] == exp["market_type"], ctx
        assert got["side"] == exp["side"], ctx
        assert got["line"] == exp["line"], ctx
        assert got["player_name_raw"] == exp["player"], ctx
        if exp["team"] is None:
            assert pd.isna(got["player_team"]), ctx
        else:
            assert got["player_team"] == exp["team"], ctx
        assert got["odds_decimal"] == float(r["price_decimal"]), ctx
        assert got["odds_american"] == exact_american(r["price_decimal"]), ctx
        assert abs(got["odds_american"]) >= 100, ctx
        assert float(got["odds_quoted_raw"]) == float(r["price_decimal"]), ctx
        assert got["vendor_market_id"].isdigit(), ctx
    assert len(rows) == emitted == 192
    assert result.rejections.counts == {"ignored_market": expected_ignored}
    assert expected_ignored == 163


def test_event_and_constant_columns(contract: tuple[list[dict[str, str]], ParseResult]) -> None:
    rows = contract[1].rows
    assert tuple(rows.columns) == ODDS_COLUMNS
    for col in ODDS_COLUMNS:
        assert rows[col].dtype == ODDS_DTYPES[col], col
    assert (rows["source_vendor"] == "PLAYNOW").all()
    assert (rows["event_id_vendor"] == str(fx.EVENT_ID)).all()
    assert (rows["event_id_vendor_raw"] == str(fx.EVENT_ID)).all()
    assert (rows["home_team"] == "NJD").all() and (rows["away_team"] == "CAR").all()
    assert (rows["event_name_raw"] == fx.EVENT_NAME).all()
    assert (rows["event_start_ts_utc"] == pd.Timestamp("2026-01-05 00:00:00")).all()
    assert rows["player_id_vendor"].isna().all()
    assert (rows["odds_quoted_format"] == "DECIMAL").all()
    assert rows["odds_american_derived"].all() and not rows["odds_decimal_derived"].any()
    assert (rows["book_name_raw"] == "PlayNow").all() and (rows["book_type"] == "SPORTSBOOK").all()
    assert not rows["is_live"].any()
    assert playnow.PARSER_VERSION == "playnow-1"
    assert (rows["parser_version"] == "playnow-1").all()
    assert rows["vendor_outcome_key"].is_unique
    assert not rows.duplicated(list(ODDS_KEY)).any()


def test_sebastian_aho_keeps_team_car(contract: tuple[list[dict[str, str]], ParseResult]) -> None:
    rows = contract[1].rows
    aho = rows[rows["player_name_raw"].str.contains("Aho")]
    assert len(aho) == 11
    assert set(aho["player_name_raw"]) == {"Sebastian Aho"}
    assert set(aho["player_team"]) == {"CAR"}
    assert set(aho["market_type"]) == {"GOALS", "POINTS", "SOG", "ASSISTS"}


def test_both_shots_on_goal_casings_map_to_sog(contract: tuple[list[dict[str, str]], ParseResult]) -> None:
    rows = contract[1].rows
    ehlers = rows[(rows["player_name_raw"] == "Nikolaj Ehlers") & (rows["market_type"] == "SOG")]
    ladder = ehlers[ehlers["vendor_outcome_key"].str.startswith("ladder:")]
    ou = ehlers[ehlers["vendor_outcome_key"].str.startswith("ou:")]
    assert sorted(ladder["line"]) == [0.5, 1.5, 2.5, 3.5]  # "Total Shots on Goal" 1+..4+
    assert sorted(zip(ou["side"], ou["line"], strict=False)) == [("OVER", 2.5), ("UNDER", 2.5)]  # "Shots On Goal 2.5"
    # the ladder 3+ and the O/U 2.5 OVER are different products with different prices and keys
    l3 = ladder[ladder["line"] == 2.5].iloc[0]
    o25 = ou[ou["side"] == "OVER"].iloc[0]
    assert (l3["odds_decimal"], o25["odds_decimal"]) == (2.15, 2.10)
    assert l3["vendor_outcome_key"] != o25["vendor_outcome_key"]


def test_ladder_1_plus_at_1_04_derives_minus_2500(contract: tuple[list[dict[str, str]], ParseResult]) -> None:
    rows = contract[1].rows
    r = rows[(rows["player_name_raw"] == "Nikolaj Ehlers") & (rows["line"] == 0.5)
             & (rows["market_type"] == "SOG")].iloc[0]
    assert r["odds_decimal"] == 1.04 and r["odds_american"] == -2500 and r["side"] == "OVER"


# ---------------------------------------------------------------- synthetic payloads


def outcome(oid: Any, name: str, decimal: Any = 1.9, **extra: Any) -> dict:
    o = {"id": oid, "name": name, "prices": [{"decimal": decimal, "numerator": 9, "denominator": 10}]}
    o.update(extra)
    return o


def market(mid: Any, name: str, outcomes: list[dict], handicap: Any = None) -> dict:
    m = {"id": mid, "name": name, "outcomes": outcomes}
    if handicap is not None:
        m["handicapValue"] = handicap
    return m


def event(markets: list[dict], eid: Any = 55, name: str = "Boston Bruins @ Toronto Maple Leafs",
          start: Any = "2026-01-10T00:00:00Z", **extra: Any) -> dict:
    e = {"id": eid, "name": name, "startTime": start, "marketCount": len(markets), "markets": markets}
    e.update(extra)
    return e


def doc_of(*events: dict) -> dict:
    return {"data": {"events": list(events)}}


def test_at_sign_event_name_blocks_and_line_from_name() -> None:
    ms = [
        market(1, "David Pastrnak Total Blocks 0.5", [outcome("a", "Over", 3.2), outcome("b", "Under", 1.3)]),
        market(2, "Auston Matthews Total Points 1.5", [outcome("c", "Over", 2.4), outcome("d", "Under", 1.55)]),
        market(3, "Brad Marchand Total Blocked Shots", [outcome("e", "Over", 2.0), outcome("f", "Under", 1.8)],
               handicap="1.5"),
    ]
    rows = parse_doc(doc_of(event(ms))).rows
    assert set(rows["home_team"]) == {"TOR"} and set(rows["away_team"]) == {"BOS"}
    pasta = rows[rows["player_name_raw"] == "David Pastrnak"]
    assert set(pasta["market_type"]) == {"BLOCKS"} and set(pasta["line"]) == {0.5}
    am = rows[rows["player_name_raw"] == "Auston Matthews"]
    assert set(am["line"]) == {1.5}  # no handicapValue: the number in the name
    bm = rows[rows["player_name_raw"] == "Brad Marchand"]
    assert set(bm["market_type"]) == {"BLOCKS"} and set(bm["line"]) == {1.5}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [(outcome("x", "Over", 1.0), "bad_price"),
     (outcome("x", "Over", 0.5), "bad_price"),
     (outcome("x", "Over", "-"), "bad_price"),
     (outcome("x", "Over", ""), "bad_price"),
     (outcome("x", "Over", None), "bad_price"),
     (outcome("x", "Over", 1e300), "bad_price"),
     (outcome("x", "Over", "nan"), "bad_price"),
     ({"id": "x", "name": "Over", "prices": []}, "bad_price"),
     ({"id": "x", "name": "Over"}, "bad_price"),
     (outcome("x", "Yes", 1.9), "unknown_side"),
     (outcome("x", "Draw", 1.9), "unknown_side"),
     (outcome("x", "0+", 1.9), "missing_line")],
)
def test_bad_outcomes_counted(bad: dict, reason: str) -> None:
    ms = [market(1, "Jack Hughes Total Points 0.5", [bad, outcome("ok", "Under", 1.8)], 0.5)]
    result = parse_doc(doc_of(event(ms)))
    assert result.rejections.counts == {reason: 1}
    assert list(result.rows["vendor_outcome_key"]) == ["ou:ok"]


def test_decimal_given_as_text_is_quoted_verbatim() -> None:
    ms = [market(1, "Jack Hughes Total Points 0.5", [outcome("a", "Over", "2.50")], 0.5)]
    row = parse_doc(doc_of(event(ms))).rows.iloc[0]
    assert row["odds_quoted_raw"] == "2.50" and row["odds_decimal"] == 2.5 and row["odds_american"] == 150


def test_missing_line_without_handicap_or_number() -> None:
    ms = [market(1, "Jack Hughes Total Points", [outcome("a", "Over"), outcome("b", "Under")])]
    result = parse_doc(doc_of(event(ms)))
    assert result.rejections.counts == {"missing_line": 2} and len(result.rows) == 0


def test_market_classification() -> None:
    ms = [
        market(1, "Moneyline", [outcome("a", "Boston Bruins"), outcome("b", "Toronto Maple Leafs")]),
        market(2, "Toronto Maple Leafs Total Goals 3.5", [outcome("c", "Over"), outcome("d", "Under")], 3.5),
        market(3, "Player 2+ Goals", [outcome("e", "Auston Matthews", 9.0)]),
        market(4, "Boston Bruins 1st Period LastGoalscorer", [outcome("f", "David Pastrnak", 9.0)]),
        market(5, "Joseph Woll Total Saves", [outcome("g", "Over"), outcome("h", "Under")], 25.5),
        market(6, "Auston Matthews Total Hits 2.5", [outcome("i", "Over"), outcome("j", "Under")], 2.5),
        market(7, "Auston Matthews Total Goals 0.5", [outcome("k", "Over", 2.2), outcome("l", "Under", 1.6)], 0.5),
        market(8, "Player 1+ Goals", [outcome("m", "Auston Matthews", 2.2), outcome("n", "", 3.0)]),
        market(9, "Puck Line", [outcome("o", "Boston Bruins"), outcome("p", "Toronto Maple Leafs")], -1.5),
        market(10, "Total Goals 6.5", [outcome("q", "Over"), outcome("r", "Under")], 6.5),
        market(11, "Player Shots Combo", [outcome("s", "Auston Matthews")]),
    ]
    result = parse_doc(doc_of(event(ms)))
    assert result.rejections.counts == {"unknown_market": 3, "ignored_market": 12, "missing_player": 1}
    assert "Total Hits" in result.rejections.examples["unknown_market"]
    rows = result.rows
    assert sorted(rows["vendor_outcome_key"]) == ["anytime:m", "ou:k", "ou:l"]
    assert set(rows["market_type"]) == {"GOALS"}


def test_unknown_team_suffix_keeps_raw_name() -> None:
    ms = [market(1, "Player 1+ Goals", [outcome("a", "Sebastian Aho (NYI)", 9.0),
                                        outcome("b", "Elias Pettersson (XYZ)", 5.0),
                                        outcome("c", "Jake  Allen ", 5.0)])]
    rows = parse_doc(doc_of(event(ms))).rows.set_index("vendor_outcome_key")
    assert rows.loc["anytime:a", "player_name_raw"] == "Sebastian Aho"
    assert rows.loc["anytime:a", "player_team"] == "NYI"
    assert rows.loc["anytime:b", "player_name_raw"] == "Elias Pettersson (XYZ)"
    assert pd.isna(rows.loc["anytime:b", "player_team"])
    assert rows.loc["anytime:c", "player_name_raw"] == "Jake Allen"


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"name": "Boston Bruins vs Toronto Maple Leafs"}, "unknown_team"),
     ({"name": "Boston Bruins at Springfield Isotopes"}, "unknown_team"),
     ({"startTime": None}, "missing_event"),
     ({"startTime": "tomorrow"}, "missing_event"),
     ({"eid": None}, "missing_event")],
)
def test_event_level_rejections_count_every_outcome(change: dict, reason: str) -> None:
    ms = [market(1, "Jack Hughes Total Points 0.5", [outcome("a", "Over"), outcome("b", "Under")], 0.5),
          market(2, "Player 1+ Goals", [outcome("c", "Jack Hughes", 2.5)])]
    kw = {"start" if k == "startTime" else k: v for k, v in change.items()}
    good = event([market(3, "Player 1+ Goals", [outcome("z", "Nico Hischier", 3.0)])], eid=99)
    result = parse_doc(doc_of(event(ms, **kw), good))
    assert result.rejections.counts == {reason: 3}
    assert list(result.rows["vendor_outcome_key"]) == ["anytime:z"]


def test_outright_event_is_ignored_but_renamed_game_format_is_not() -> None:
    outright = event([market(1, "Stanley Cup Winner", [outcome(f"t{i}", f"Team {i}", 10.0) for i in range(32)])],
                     eid=9000001, name="NHL 2025/26 - Stanley Cup Winner", start="2026-06-20T00:00:00Z")
    renamed = event([market(2, "Money Line", [outcome("a", "Boston Bruins"), outcome("b", "Toronto Maple Leafs")]),
                     market(3, "Player 1+ Goals", [outcome("c", "David Pastrnak", 3.0)]),
                     market(4, "David Pastrnak Total Points 0.5", [outcome("d", "Over"), outcome("e", "Under")], 0.5)],
                    name="Boston Bruins v Toronto Maple Leafs")
    result = parse_doc(doc_of(outright, renamed))
    assert result.rejections.counts == {"ignored_market": 34, "unknown_team": 3}
    assert len(result.rows) == 0


def test_duplicate_outcome_ids_counted() -> None:
    ms = [market(1, "Jack Hughes Total Points 0.5", [outcome("a", "Over"), outcome("a", "Over")], 0.5)]
    result = parse_doc(doc_of(event(ms)))
    assert result.rejections.counts == {"duplicate_outcome": 1} and len(result.rows) == 1


def test_live_flag() -> None:
    ms = [market(1, "Player 1+ Goals", [outcome("a", "Jack Hughes", 2.5)])]
    assert parse_doc(doc_of(event(ms, liveNow=True))).rows["is_live"].all()
    assert not parse_doc(doc_of(event(ms))).rows["is_live"].any()


# ---------------------------------------------------------------- event list


def test_select_event_ids_keeps_market_count_above_five() -> None:
    events = [{"id": 1, "marketCount": 6}, {"id": "2", "marketCount": 5}, {"id": 3, "marketCount": 40},
              {"id": 4}, {"id": 5, "marketCount": "12"}, {"id": 3, "marketCount": 40}, "junk"]
    raw = raw_of(doc_of(*events), kind="event_list")
    assert playnow.select_event_ids(raw) == ["1", "3", "5"]
    assert playnow.select_event_ids(raw, min_market_count=10) == ["3", "5"]


def test_event_list_payload_yields_no_rows() -> None:
    doc = doc_of(event([market(1, "Player 1+ Goals", [outcome("a", "Jack Hughes", 2.5)])]))
    result = playnow.parse(raw_of(doc, kind="event_list"))
    assert len(result.rows) == 0 and result.items == 0 and result.accounted
    assert tuple(result.rows.columns) == ODDS_COLUMNS


# ---------------------------------------------------------------- drift


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'{"data": {"events": [', b"[]", b'{"events": []}', b'{"data": {}}',
     b'{"data": {"eventz": []}}', b'{"data": {"events": {}}}', b'{"data": []}'],
)
def test_drift_raises(body: bytes) -> None:
    with pytest.raises(SchemaDriftError):
        playnow.parse(raw_of(body))
    with pytest.raises(SchemaDriftError):
        playnow.select_event_ids(raw_of(body, kind="event_list"))


def test_drift_message_names_the_missing_key() -> None:
    with pytest.raises(SchemaDriftError, match=r"data\.events"):
        playnow.parse(raw_of(b'{"data": {"eventz": []}}'))
    with pytest.raises(SchemaDriftError, match="'data'"):
        playnow.parse(raw_of(b'{"dat": {}}'))


def test_no_events_is_empty_not_error() -> None:
    result = parse_doc(doc_of())
    assert len(result.rows) == 0 and result.rejections.total() == 0
