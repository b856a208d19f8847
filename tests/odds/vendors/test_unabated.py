"""Unabated propodds.json parser (docs/domain.md): sides, books, alternates, rejections, drift."""

from __future__ import annotations

import copy
import gc
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest

from helpers.core.errors import SchemaDriftError
from helpers.odds.vendors import unabated
from helpers.odds.vendors.base import ODDS_COLUMNS, ODDS_KEY, RawPayload
from helpers.odds.vendors.parsing import ODDS_DTYPES, ParseResult

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "unabated" / "propodds_trimmed_DAL_at_CAR.json"
CAPTURE = datetime(2026, 1, 6, 18, 30)


def raw_of(body: bytes | dict, path: str = "outputs/odds/raw/UNABATED/x.json") -> RawPayload:
    if isinstance(body, dict):
        body = orjson.dumps(body)
    return RawPayload(vendor="UNABATED", kind="propodds", body=body, capture_ts_utc=CAPTURE,
                      sha256=hashlib.sha256(body).hexdigest(), path=path)


def count_items(doc: dict) -> int:
    """Priced items counted independently of the parser: every ms<id> entry of every side of
    every prop in every odds group, plus each of its alternate lines."""
    n = 0
    for props in doc["odds"].values():
        for prop in props:
            for books in prop["sides"].values():
                for price in books.values():
                    n += 1 + len(price.get("alternateLines") or [])
    return n


def price(points: Any = 1.5, american: Any = -110, **extra: Any) -> dict:
    p = {"points": points, "americanPrice": american, "marketLineId": 1, "isBlurred": False,
         "alternateLines": [], "price": american, "sourcePrice": american, "sourceFormat": 1}
    p.update(extra)
    return p


def prop(pid: int = 1, bet_type: int = 86, books: dict | None = None, under: dict | None = None,
         **extra: Any) -> dict:
    over_books = books if books is not None else {"ms1": price(1.5, -120), "ms2": price(1.5, -115)}
    under_books = under if under is not None else {"ms1": price(1.5, 100), "ms2": price(1.5, -105)}
    p = {
        "eventId": 777, "personId": pid, "teamId": 734, "betTypeId": bet_type,
        "betSubType": None, "statusId": 1, "eventStart": "2026-01-07T00:00:00Z",
        "eventName": "Stars Dallas DAL @ Hurricanes Carolina CAR",
        "eventTeams": {"0": {"id": 747}, "1": {"id": 734}}, "live": False,
        "sides": {f"si0:pid{pid}": over_books, f"si1:pid{pid}": under_books},
    }
    p.update(extra)
    return p


def payload(props: list[dict], **top: Any) -> dict:
    doc = {
        "people": {str(i): {"firstName": f"First{i}", "lastName": f"Last{i}"} for i in range(1, 10)},
        "marketSources": [
            {"id": 1, "name": "DraftKings", "statusId": 1},
            {"id": 2, "name": "FanDuel", "statusId": 1},
            {"id": 73, "name": "Underdog Fantasy", "statusId": 3},
            {"id": 89, "name": "Novig", "statusId": 1},
            {"id": 200, "name": "Unabated", "statusId": 1},
            {"id": 5, "name": "Closed Book", "statusId": 2},
        ],
        "teams": {"734": {"abbreviation": "CAR"}, "747": {"abbreviation": "DAL"},
                  "999": {"abbreviation": "XYZ"}},
        "odds": {"lg6:pt1:pregame": props},
    }
    doc.update(top)
    return doc


def parse_doc(doc: dict) -> ParseResult:
    result = unabated.parse(raw_of(doc))
    assert result.items == count_items(doc)
    assert result.accounted, (result.items, len(result.rows), result.rejections.counts)
    return result


def only(df: pd.DataFrame, **where: Any) -> pd.Series:
    sel = df
    for col, val in where.items():
        sel = sel[sel[col] == val]
    assert len(sel) == 1, (where, len(sel))
    return sel.iloc[0]


# ---------------------------------------------------------------- the real sample


def test_real_sample_si0_is_over_si1_is_under() -> None:
    body = FIXTURE.read_bytes()
    result = unabated.parse(raw_of(body, path="fixtures/propodds_trimmed_DAL_at_CAR.json"))
    rows = result.rows
    assert len(rows) == 2 and result.rejections.total() == 0 and result.accounted
    over = only(rows, side="OVER")
    under = only(rows, side="UNDER")
    # Wyatt Johnston SOG 1.5 at FanDuel: OVER -188 / UNDER +142
    assert over["odds_american"] == -188 and under["odds_american"] == 142
    assert over["odds_decimal"] == pytest.approx(1 + 100 / 188)
    assert under["odds_decimal"] == pytest.approx(2.42)
    for row in (over, under):
        assert row["player_name_raw"] == "Wyatt Johnston"
        assert row["player_id_vendor"] == "12345"
        assert row["market_type"] == "SOG" and row["line"] == 1.5
        assert row["book_name_raw"] == "FanDuel" and row["book_id_vendor"] == "2"
        assert row["book_type"] == "SPORTSBOOK"
        assert row["home_team"] == "CAR" and row["away_team"] == "DAL"
        assert row["player_team"] == "DAL"
        assert row["event_id_vendor"] == "999" and row["event_id_vendor_raw"] == "999"
        assert row["event_name_raw"] == "Stars Dallas DAL @ Hurricanes Carolina CAR"
        assert row["event_start_ts_utc"] == pd.Timestamp("2026-01-07 00:00:00")
        assert row["capture_ts_utc"] == pd.Timestamp(CAPTURE)
        assert row["odds_quoted_format"] == "AMERICAN"
        assert not row["odds_american_derived"] and row["odds_decimal_derived"]
        assert not row["is_live"]
        assert row["vendor_market_id"] == "86"
        assert row["parser_version"] == unabated.PARSER_VERSION == "unabated-1"
        assert row["raw_payload_path"] == "fixtures/propodds_trimmed_DAL_at_CAR.json"
        assert row["raw_payload_hash"] == hashlib.sha256(body).hexdigest()
    assert over["odds_quoted_raw"] == "-188" and under["odds_quoted_raw"] == "142"
    assert over["vendor_outcome_key"] == "e999:bt86:si0:pid12345:ms2"
    assert under["vendor_outcome_key"] == "e999:bt86:si1:pid12345:ms2"


def test_columns_and_dtypes_exact() -> None:
    rows = unabated.parse(raw_of(FIXTURE.read_bytes())).rows
    assert tuple(rows.columns) == ODDS_COLUMNS
    for col in ODDS_COLUMNS:
        assert rows[col].dtype == ODDS_DTYPES[col], col
    assert str(rows["capture_ts_utc"].dtype) == "datetime64[us]"
    assert rows["capture_ts_utc"].dt.tz is None
    assert str(rows["odds_american"].dtype) == "Int64"


def test_sides_follow_the_index_not_the_prices() -> None:
    # A heavy favourite UNDER: si1 holds the short price. The parser must not "fix" it.
    doc = payload([prop(books={"ms1": price(0.5, 400)}, under={"ms1": price(0.5, -600)})])
    rows = parse_doc(doc).rows
    assert only(rows, side="OVER")["odds_american"] == 400
    assert only(rows, side="UNDER")["odds_american"] == -600


def test_market_mapping_all_bet_types() -> None:
    props = [prop(pid=i + 1, bet_type=bt) for i, bt in enumerate((70, 73, 86, 88, 129))]
    rows = parse_doc(payload(props)).rows
    by_player = rows.groupby("player_id_vendor")["market_type"].first().to_dict()
    assert by_player == {"1": "POINTS", "2": "ASSISTS", "3": "SOG", "4": "BLOCKS", "5": "GOALS"}


# ---------------------------------------------------------------- books


def test_books_resolved_through_market_sources_only() -> None:
    books = {"ms1": price(), "ms2": price(), "ms73": price(), "ms89": price(), "ms200": price(),
             "ms5": price(), "ms4242": price()}
    doc = payload([prop(books=books, under={})])
    # rename a book in the registry: the row must follow the registry, not a built-in table
    doc["marketSources"][1]["name"] = "FanDuel Sportsbook"
    result = parse_doc(doc)
    rows = result.rows
    got = dict(zip(rows["book_id_vendor"], zip(rows["book_name_raw"], rows["book_type"], strict=True), strict=True))
    assert got == {
        "1": ("DraftKings", "SPORTSBOOK"),
        "2": ("FanDuel Sportsbook", "SPORTSBOOK"),
        "73": ("Underdog Fantasy", "DFS"),  # statusId 3 is usable
        "89": ("Novig", "SPORTSBOOK"),
        "200": ("Unabated", "DERIVED"),
    }
    assert result.rejections.counts == {"inactive_book": 1, "unknown_book": 1}
    assert "ms4242" in result.rejections.examples["unknown_book"]
    assert "ms5" in result.rejections.examples["inactive_book"]


def test_inactive_and_unknown_books_count_their_alternates_too() -> None:
    books = {"ms5": price(alternateLines=[{"points": 2.5, "americanPrice": 150}]),
             "ms77": price(alternateLines=[{"points": 2.5, "americanPrice": 150},
                                           {"points": 3.5, "americanPrice": 250}])}
    result = parse_doc(payload([prop(books=books, under={})]))
    assert len(result.rows) == 0
    assert result.rejections.counts == {"inactive_book": 2, "unknown_book": 3}


# ---------------------------------------------------------------- alternates


def test_alternate_lines_are_rows_with_distinct_keys() -> None:
    alts = [{"points": 2.5, "americanPrice": 160, "marketLineId": 11},
            {"points": 3.5, "americanPrice": 320, "marketLineId": 12},
            {"points": 1.5, "americanPrice": -300}]  # repeats the main line -> not a 2nd product
    books = {"ms1": price(1.5, -120, alternateLines=alts)}
    result = parse_doc(payload([prop(pid=3, books=books, under={})]))
    rows = result.rows
    assert sorted(rows["line"]) == [1.5, 2.5, 3.5]
    assert only(rows, line=2.5)["odds_american"] == 160
    assert only(rows, line=3.5)["odds_american"] == 320
    assert only(rows, line=1.5)["odds_american"] == -120  # the main line keeps its own price
    assert set(rows["vendor_outcome_key"]) == {
        "e777:bt86:si0:pid3:ms1",
        "e777:bt86:si0:pid3:ms1:alt:2.5",
        "e777:bt86:si0:pid3:ms1:alt:3.5",
    }
    assert result.rejections.counts == {"duplicate_outcome": 1}


def test_alternate_validation_and_blur_inheritance() -> None:
    alts = [{"points": 2.5, "americanPrice": 50}, {"points": None, "americanPrice": 200},
            {"points": 3.5}, {"points": 4.5, "americanPrice": 400, "isBlurred": True}]
    blurred_main = price(1.5, -110, isBlurred=True,
                         alternateLines=[{"points": 2.5, "americanPrice": 150},
                                         {"points": 3.5, "americanPrice": 250, "isBlurred": False}])
    books = {"ms1": price(1.5, -120, alternateLines=alts), "ms2": blurred_main}
    result = parse_doc(payload([prop(books=books, under={})]))
    assert result.rejections.counts == {"bad_price": 2, "missing_line": 1, "blurred_price": 3}
    # the unblurred main of ms1 and the explicitly unblurred alternate of ms2 survive
    assert sorted(zip(result.rows["book_id_vendor"], result.rows["line"], strict=False)) == [("1", 1.5), ("2", 3.5)]


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("bad_price", "reason"),
    [({"points": 1.5, "americanPrice": 0}, "bad_price"),
     ({"points": 1.5, "americanPrice": 50}, "bad_price"),
     ({"points": 1.5, "americanPrice": -99}, "bad_price"),
     ({"points": 1.5, "americanPrice": None}, "bad_price"),
     ({"points": 1.5}, "bad_price"),
     ({"points": 1.5, "americanPrice": "-110"}, "bad_price"),
     ({"points": 1.5, "americanPrice": True}, "bad_price"),
     ({"points": 1.5, "americanPrice": -110.5}, "bad_price"),
     ({"points": 1.5, "americanPrice": 9 * 10**18}, "bad_price"),  # would overflow int64 math
     ({"points": 1.5, "americanPrice": -2_000_000}, "bad_price"),
     ({"points": None, "americanPrice": -110}, "missing_line"),
     ({"americanPrice": -110}, "missing_line"),
     ({"points": "x", "americanPrice": -110}, "missing_line"),
     ({"points": -1.5, "americanPrice": -110}, "missing_line"),
     ({"points": 1.5, "americanPrice": -110, "isBlurred": True}, "blurred_price")],
)
def test_bad_price_objects_are_counted(bad_price: dict, reason: str) -> None:
    books = {"ms1": bad_price, "ms2": price(1.5, -115)}
    result = parse_doc(payload([prop(books=books, under={})]))
    assert result.rejections.counts == {reason: 1}
    assert list(result.rows["book_id_vendor"]) == ["2"]


def test_integral_float_american_is_accepted() -> None:
    result = parse_doc(payload([prop(books={"ms1": price(1.5, -110.0)}, under={})]))
    assert list(result.rows["odds_american"]) == [-110]


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"betTypeId": 999}, "unknown_market"),
     ({"betTypeId": None}, "unknown_market"),
     ({"betSubType": "alt"}, "bet_subtype_variant"),
     ({"statusId": 2}, "prop_inactive"),
     ({"personId": 12345678}, "missing_player"),
     ({"eventId": None}, "missing_event"),
     ({"eventStart": "soon"}, "missing_event"),
     ({"eventTeams": {"0": {"id": 747}, "1": {"id": 999}}}, "unknown_team"),
     ({"eventTeams": {"0": {"id": 747}}}, "unknown_team")],
)
def test_prop_level_rejections_count_every_price(change: dict, reason: str) -> None:
    alts = {"alternateLines": [{"points": 2.5, "americanPrice": 150}]}
    bad = prop(pid=2, books={"ms1": price(**alts), "ms2": price()}, **change)
    if "personId" in change:  # keep the side keys consistent with the person id
        bad["sides"] = {f"si{i}:pid12345678": v for i, v in enumerate(bad["sides"].values())}
    good = prop(pid=1, eventId=778)
    result = parse_doc(payload([bad, good]))
    assert result.rejections.counts == {reason: 5}  # 2 + 1 alternate over, 2 under
    assert set(result.rows["player_id_vendor"]) == {"1"}


def test_statusid_3_and_missing_prop_status_are_usable() -> None:
    p3 = prop(pid=1, statusId=3)
    pnone = prop(pid=2)
    del pnone["statusId"]
    result = parse_doc(payload([p3, pnone]))
    assert set(result.rows["player_id_vendor"]) == {"1", "2"}


def test_unknown_side_key_and_mismatched_person() -> None:
    p = prop(pid=4)
    p["sides"]["si2:pid4"] = {"ms1": price(), "ms2": price()}
    p["sides"]["si0:pid5"] = {"ms1": price()}  # a side of another person inside this prop
    result = parse_doc(payload([p]))
    assert result.rejections.counts == {"unknown_side": 3}
    assert len(result.rows) == 4


def test_one_sided_goals_prop() -> None:
    p = prop(pid=6, bet_type=129, books={"ms1": price(0.5, 250)})
    del p["sides"]["si1:pid6"]
    rows = parse_doc(payload([p])).rows
    assert list(zip(rows["market_type"], rows["side"], rows["line"], rows["odds_american"], strict=True)) == [
        ("GOALS", "OVER", 0.5, 250)]


def test_period_groups_are_ignored_and_unknown_groups_counted() -> None:
    doc = payload([prop(pid=1)])
    doc["odds"]["lg6:pt2:pregame"] = [prop(pid=2)]
    doc["odds"]["weird"] = [prop(pid=3)]
    result = parse_doc(doc)
    assert result.rejections.counts == {"ignored_market": 4, "unknown_market": 4}
    assert set(result.rows["player_id_vendor"]) == {"1"}


def test_duplicate_prop_counted_not_emitted_twice() -> None:
    result = parse_doc(payload([prop(pid=1), prop(pid=1)]))
    assert len(result.rows) == 4
    assert result.rejections.counts == {"duplicate_outcome": 4}


def test_live_flag_team_and_time_handling() -> None:
    p = prop(pid=1, live=True, eventStart="2026-01-06T19:00:00-05:00")
    del p["teamId"]
    rows = parse_doc(payload([p])).rows
    assert rows["is_live"].all()
    assert rows["player_team"].isna().all()
    assert (rows["event_start_ts_utc"] == pd.Timestamp("2026-01-07 00:00:00")).all()


def test_malformed_structures_are_counted_not_raised() -> None:
    doc = payload([prop(pid=1), "not a prop", {"eventId": 1, "sides": None}])
    doc["odds"]["lg6:pt1:pregame"][0]["sides"]["si0:pid1"]["ms1"] = "garbage"
    result = unabated.parse(raw_of(doc))
    assert result.rejections.counts == {"malformed": 3}
    assert len(result.rows) == 3 and result.accounted


# ---------------------------------------------------------------- keys, accounting, purity


def test_keys_unique_and_accounting_on_a_mixed_payload() -> None:
    alts = [{"points": 2.5, "americanPrice": 170}, {"points": 3.5, "americanPrice": 330}]
    props = []
    for pid in range(1, 7):
        for bt in (70, 73, 86, 88, 129):
            props.append(prop(pid=pid, bet_type=bt,
                              books={"ms1": price(1.5, -120, alternateLines=alts),
                                     "ms2": price(1.5, -110, isBlurred=pid == 2),
                                     "ms5": price(), "ms73": price(1.5, -137)},
                              eventId=700 + pid % 2))
    props.append(prop(pid=7, bet_type=5555))
    props.append(prop(pid=8, betSubType="x"))
    result = parse_doc(payload(props))
    rows = result.rows
    assert rows["vendor_outcome_key"].is_unique
    assert not rows.duplicated(list(ODDS_KEY)).any()
    assert set(result.rejections.counts) == {"blurred_price", "inactive_book", "unknown_market",
                                             "bet_subtype_variant"}


def test_parse_is_deterministic_and_restores_gc_state() -> None:
    doc = payload([prop(pid=1), prop(pid=2, bet_type=70)])
    assert gc.isenabled()
    a = unabated.parse(raw_of(doc)).rows
    b = unabated.parse(raw_of(copy.deepcopy(doc))).rows
    assert gc.isenabled()
    pd.testing.assert_frame_equal(a, b)


def test_unknown_top_level_keys_are_fine() -> None:
    doc = payload([prop(pid=1)], lastUpdated=123, somethingNew={"a": 1})
    assert len(parse_doc(doc).rows) == 4


# ---------------------------------------------------------------- schema drift


@pytest.mark.parametrize("body", [b"", b"   ", b"{", b'{"people": {}, "marketSources": [', b"not json",
                                  b"[]", b"null"])
def test_unparseable_bodies_raise_schema_drift(body: bytes) -> None:
    with pytest.raises(SchemaDriftError):
        unabated.parse(raw_of(body))


def test_truncated_real_sample_raises_schema_drift() -> None:
    body = FIXTURE.read_bytes()
    with pytest.raises(SchemaDriftError, match="not valid JSON"):
        unabated.parse(raw_of(body[: len(body) // 2]))


@pytest.mark.parametrize("key", ["people", "marketSources", "odds"])
def test_missing_or_renamed_required_key_raises_naming_it(key: str) -> None:
    doc = payload([prop()])
    doc[key + "V2"] = doc.pop(key)
    with pytest.raises(SchemaDriftError, match=key):
        unabated.parse(raw_of(doc))


@pytest.mark.parametrize(("key", "value"), [("people", []), ("marketSources", {}), ("odds", []),
                                            ("teams", [])])
def test_wrong_type_of_required_key_raises(key: str, value: Any) -> None:
    doc = payload([prop()])
    doc[key] = value
    with pytest.raises(SchemaDriftError, match=key):
        unabated.parse(raw_of(doc))


def test_empty_odds_is_an_empty_slate_not_an_error() -> None:
    result = parse_doc(payload([]))
    assert len(result.rows) == 0 and tuple(result.rows.columns) == ODDS_COLUMNS
    assert result.rejections.total() == 0


def test_price_beyond_int64_is_a_bad_price_not_a_failed_payload() -> None:
    body = orjson.dumps(payload([prop(pid=1)])).replace(
        b'"americanPrice":-120', b'"americanPrice":123456789012345678901234567890', 1)
    result = unabated.parse(raw_of(body))
    assert result.rejections.counts == {"bad_price": 1}
    assert len(result.rows) == 3 and result.accounted


def test_every_json_shape_decodes_and_is_counted() -> None:
    """The typed decoder accepts any JSON in any position: odd shapes are counted, never a
    decode error (one prop per kind of wrong value for the price / prop / alternates)."""
    odd: list[Any] = ["x", 1, 1.5, True, None, [1], {}]
    props = [prop(pid=1, books={f"ms{i + 1}": v for i, v in enumerate(odd[:2])}),
             prop(pid=2, books={"ms1": price(alternateLines=[1, "y", [2], None,
                                                              {"points": 2.5, "americanPrice": 150}])}),
             prop(pid=3, books={"ms1": price(alternateLines={"points": 2.5})}),
             *odd]
    result = unabated.parse(raw_of(payload(props)))
    assert result.accounted
    # 2 odd prices + 4 odd alternates + 1 alternates object + 7 odd props
    assert result.rejections.counts == {"malformed": 14}
    # pid 1: its two UNDER prices; pid 2: main + the good alternate + 2 UNDER; pid 3: main + 2
    assert len(result.rows) == 2 + 4 + 3
