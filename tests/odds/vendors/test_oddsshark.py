"""OddsShark player-props HTML parser (docs/domain.md): golden rows of a hand-built page, Best Odds
column, EVEN / "-", tabs vs containers, book aliases, ET dates across DST and midnight UTC."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pytest

from helpers.core.errors import SchemaDriftError
from helpers.odds.vendors import oddsshark
from helpers.odds.vendors.base import ODDS_COLUMNS, ODDS_KEY, RawPayload
from helpers.odds.vendors.parsing import ODDS_DTYPES, ParseResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "oddsshark"
PAGE = FIXTURES / "nhl_player_props_captured_2026-03-09T0215Z.html"
EXPECTED = FIXTURES / "nhl_player_props_captured_2026-03-09T0215Z.expected.csv"
CAPTURE = datetime(2026, 3, 9, 2, 15)  # 2026-03-08 22:15 EDT (DST began that morning)


def raw_of(body: bytes | str, capture: datetime = CAPTURE) -> RawPayload:
    if isinstance(body, str):
        body = body.encode()
    return RawPayload(vendor="ODDSSHARK", kind="player_props", body=body, capture_ts_utc=capture,
                      sha256=hashlib.sha256(body).hexdigest(), path="raw/ODDSSHARK/page.html")


def parse_ok(body: bytes | str, capture: datetime = CAPTURE) -> ParseResult:
    result = oddsshark.parse(raw_of(body, capture))
    assert result.accounted, (result.items, len(result.rows), result.rejections.counts)
    return result


# ---------------------------------------------------------------- golden page


def test_golden_rows_of_the_fixture_page() -> None:
    result = parse_ok(PAGE.read_bytes())
    expected = pd.read_csv(EXPECTED)
    got = result.rows[list(expected.columns)].astype(object)
    got["line"] = got["line"].astype(float)
    got["odds_american"] = got["odds_american"].astype(int)
    key = list(expected.columns)
    merged = expected.astype(object).merge(got, how="outer", on=key, indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert len(result.rows) == len(expected) == 55
    # 71 priced items (Best Odds cells excluded) = 55 rows + 8 "-" + 8 power-play prices
    assert result.items == 71
    assert result.rejections.counts == {"not_offered": 8, "ignored_market": 8}


def test_fixture_page_columns_and_constants() -> None:
    rows = parse_ok(PAGE.read_bytes()).rows
    assert tuple(rows.columns) == ODDS_COLUMNS
    for col in ODDS_COLUMNS:
        assert rows[col].dtype == ODDS_DTYPES[col], col
    assert (rows["source_vendor"] == "ODDSSHARK").all()
    assert rows["player_id_vendor"].isna().all()
    assert (rows["odds_quoted_format"] == "AMERICAN").all()
    assert not rows["odds_american_derived"].any() and rows["odds_decimal_derived"].all()
    assert not rows["is_live"].any()
    assert set(rows["book_type"]) == {"SPORTSBOOK"}
    assert set(rows["vendor_market_id"]) == {"GOALS", "ASSISTS", "POINTS", "SHOTS ON GOAL", "BLOCKED SHOTS"}
    assert (rows["parser_version"] == "oddsshark-1").all()
    assert rows["vendor_outcome_key"].is_unique
    assert not rows.duplicated(list(ODDS_KEY)).any()
    assert set(rows["event_id_vendor_raw"]) == {"5043621", "5043630"}
    assert set(rows["event_name_raw"]) == {"ANA @ WSH 7:00 PM ET", "UTA @ VGK 10:00 PM ET"}


def test_even_is_plus_100_and_quoted_raw_kept() -> None:
    rows = parse_ok(PAGE.read_bytes()).rows
    even = rows[rows["odds_quoted_raw"] == "EVEN"]
    assert len(even) == 2
    assert (even["odds_american"] == 100).all() and (even["odds_decimal"] == 2.0).all()


def test_best_odds_column_is_skipped() -> None:
    rows = parse_ok(PAGE.read_bytes()).rows
    # Ovechkin GOALS: Best Odds shows +150 (Betway's). Were the first cell read as a book, the
    # books would shift: Pinnacle would get +150 and DraftKings would not appear at +140.
    ovi = rows[(rows["player_name_raw"] == "Alex Ovechkin") & (rows["market_type"] == "GOALS")]
    prices = dict(zip(zip(ovi["book_name_raw"], ovi["side"], strict=False), ovi["odds_american"], strict=True))
    assert prices == {("Pinnacle", "OVER"): 145, ("Pinnacle", "UNDER"): -175,
                      ("Betway", "OVER"): 150, ("DraftKings", "OVER"): 140}


def test_dst_event_ids_and_starts_after_midnight_utc() -> None:
    rows = parse_ok(PAGE.read_bytes()).rows
    starts = rows.groupby("event_id_vendor")["event_start_ts_utc"].unique().to_dict()
    # ET date 2026-03-08 although the capture's UTC date is 2026-03-09; EDT = UTC-4
    assert {k: list(v) for k, v in starts.items()} == {
        "ODDSSHARK_20260308_ANA_WSH": [pd.Timestamp("2026-03-08 23:00:00")],
        "ODDSSHARK_20260308_UTA_VGK": [pd.Timestamp("2026-03-09 02:00:00")],
    }
    teams = rows.groupby("event_id_vendor")[["away_team", "home_team"]].first()
    assert teams.loc["ODDSSHARK_20260308_ANA_WSH"].tolist() == ["ANA", "WSH"]
    assert teams.loc["ODDSSHARK_20260308_UTA_VGK"].tolist() == ["UTA", "VGK"]


def test_same_page_in_winter_uses_est() -> None:
    # captured 2026-01-08 03:30 UTC = 2026-01-07 22:30 EST
    rows = parse_ok(PAGE.read_bytes(), datetime(2026, 1, 8, 3, 30)).rows
    starts = rows.groupby("event_id_vendor")["event_start_ts_utc"].first().to_dict()
    assert starts == {"ODDSSHARK_20260107_ANA_WSH": pd.Timestamp("2026-01-08 00:00:00"),
                      "ODDSSHARK_20260107_UTA_VGK": pd.Timestamp("2026-01-08 03:00:00")}


@pytest.mark.parametrize(
    ("capture", "shown", "et_date", "start_utc"),
    [
        # morning capture: tonight's game
        (datetime(2026, 1, 7, 15, 0), time(19, 0), date(2026, 1, 7), datetime(2026, 1, 8, 0, 0)),
        # 10 PM ET capture (03:00 UTC next day) of a 7 PM game: still the previous ET day
        (datetime(2026, 1, 8, 3, 0), time(19, 0), date(2026, 1, 7), datetime(2026, 1, 8, 0, 0)),
        # 1:00 AM ET, a 10:30 PM game still listed: yesterday's (ET) game, in progress
        (datetime(2026, 1, 8, 6, 0), time(22, 30), date(2026, 1, 7), datetime(2026, 1, 8, 3, 30)),
        # 1:30 AM ET, a 7 PM game (6.5 h ago): that is the coming evening's game
        (datetime(2026, 1, 8, 6, 30), time(19, 0), date(2026, 1, 8), datetime(2026, 1, 9, 0, 0)),
        # 11 PM ET, a 1 PM game (10 h ago): tomorrow's matinee
        (datetime(2026, 1, 11, 4, 0), time(13, 0), date(2026, 1, 11), datetime(2026, 1, 11, 18, 0)),
        # spring forward day (2026-03-08): 08:00 EDT capture, 1 PM game -> 17:00 UTC, not 18:00
        (datetime(2026, 3, 8, 12, 0), time(13, 0), date(2026, 3, 8), datetime(2026, 3, 8, 17, 0)),
        # the evening before spring forward: 7 PM EST -> 00:00 UTC
        (datetime(2026, 3, 7, 20, 0), time(19, 0), date(2026, 3, 7), datetime(2026, 3, 8, 0, 0)),
        # fall back (2026-11-01): a 7 PM game that day is EST -> 00:00 UTC Nov 2
        (datetime(2026, 11, 1, 14, 0), time(19, 0), date(2026, 11, 1), datetime(2026, 11, 2, 0, 0)),
        # ... captured after midnight UTC (20:30 EST), still Nov 1
        (datetime(2026, 11, 2, 1, 30), time(19, 0), date(2026, 11, 1), datetime(2026, 11, 2, 0, 0)),
        # the day before fall back is still EDT: 7 PM -> 23:00 UTC
        (datetime(2026, 10, 31, 14, 0), time(19, 0), date(2026, 10, 31), datetime(2026, 10, 31, 23, 0)),
    ],
)
def test_event_date_rule(capture: datetime, shown: time, et_date: date, start_utc: datetime) -> None:
    assert oddsshark.event_start(capture, shown) == (et_date, start_utc)


def test_explicit_date_in_event_time_wins() -> None:
    parsed = oddsshark.parse_event_time("Thu, Jan 8 7:00 PM ET")
    assert parsed == (time(19, 0), (1, 8))
    assert oddsshark.event_start(datetime(2026, 1, 7, 15), *parsed) == (date(2026, 1, 8), datetime(2026, 1, 9, 0, 0))
    # year nearest the capture: a Dec 31 capture listing "1/2"
    assert oddsshark.event_start(datetime(2026, 12, 31, 15), time(19, 0), (1, 2))[0] == date(2027, 1, 2)
    assert oddsshark.parse_event_time("12:30 PM ET") == (time(12, 30), None)
    assert oddsshark.parse_event_time("12:05 AM ET") == (time(0, 5), None)
    assert oddsshark.parse_event_time("7 PM") == (time(19, 0), None)
    assert oddsshark.parse_event_time("TBD") is None


# ---------------------------------------------------------------- synthetic pages


BOOKS = ["pinnacle logo", "Betway Logo", "bet99", "DraftKings logo"]


def cell(*prices: tuple[str, str]) -> str:
    divs = "".join(f'<div><span class="odds-info">{i}</span><span class="odds-detail">{d}</span></div>'
                   for i, d in prices)
    return f'<div class="book-row"><div class="player-props-odds">{divs}</div></div>'


def row(player: str | None, cells: list[str], event: str = "77") -> str:
    name = f'<div class="player-name">{player}</div>' if player is not None else ""
    best = cell(("O 0.5", "+999"))
    return f'<div class="player-props--row" data-event="{event}">{name}{best}{"".join(cells)}</div>'


def game(teams: str = "BOS @ TOR -", when: str = "7:00 PM ET") -> str:
    return (f'<div class="props-game-info"><span class="props-teams">{teams}</span>'
            f'<span class="event-time">{when}</span></div>')


def container(body: str, books: list[str] | None = None) -> str:
    imgs = "".join(f'<div class="player-props--item"><img alt="{b}" src="x.png"></div>'
                   for b in (BOOKS if books is None else books))
    header = (f'<div class="player-props--header"><div class="player-props--item">Player</div>'
              f'<div class="player-props--item">Best Odds</div>{imgs}</div>')
    return f'<div class="player-props--container tab">{header}{body}</div>'


def page(tabs: list[str], containers: list[str]) -> str:
    buttons = "".join(f'<button class="button--tab-primary">{t}</button>' for t in tabs)
    return (f'<!DOCTYPE html><html><head><title>x</title></head><body>'
            f'<div class="tab-group foil">{buttons}</div>{"".join(containers)}</body></html>')


TWO = cell(("O 0.5", "+120"), ("U 0.5", "-140"))


def test_tab_aliases_and_unknown_tab() -> None:
    html = page(["BLOCKS", "Blocked  Shots", "HITS", "POWER PLAY GOALS", "shots on goal"],
                [container(game() + row(f"Player {i}", [TWO])) for i in range(5)])
    result = parse_ok(html)
    assert sorted(result.rows["market_type"]) == ["BLOCKS", "BLOCKS", "BLOCKS", "BLOCKS", "SOG", "SOG"]
    assert result.rejections.counts == {"unknown_market": 2, "ignored_market": 2}
    assert "HITS" in result.rejections.examples["unknown_market"]


def _insert_tab(html: str, label: str, position: int) -> str:
    marker = f'data-tab="{position}">'
    at = html.index(marker)
    at = html.rindex("<button", 0, at)
    return html[:at] + f'<button class="button--tab-primary">{label}</button>' + html[at:]


def test_missing_tab_rejects_every_price() -> None:
    html = PAGE.read_text()
    start = html.index('<button class="button button--tab-primary" data-tab="1">')
    end = html.index("</button>", start) + len("</button>")
    result = parse_ok(html[:start] + html[end:])  # 5 tabs for 6 containers
    assert len(result.rows) == 0
    assert result.rejections.counts == {"tab_container_mismatch": 71}
    assert "containers" in result.rejections.examples["tab_container_mismatch"]


@pytest.mark.parametrize("label", ["GOALS", "POINTS", "POWER PLAY GOALS"])
def test_extra_known_tab_cannot_be_placed(label: str) -> None:
    result = parse_ok(_insert_tab(PAGE.read_text(), label, 1))
    assert len(result.rows) == 0
    assert result.rejections.counts == {"tab_container_mismatch": 71}


def test_extra_unknown_tab_without_container_is_dropped_and_counted() -> None:
    # the emulator's "extra_tab" drift: a HITS button at position 1 with no container. Naively
    # every later tab would name the wrong container (ASSISTS prices labelled POINTS, ...).
    result = parse_ok(_insert_tab(PAGE.read_text(), "HITS", 1))
    expected = pd.read_csv(EXPECTED)
    got = result.rows[list(expected.columns)].astype(object)
    merged = expected.astype(object).merge(got.astype({"line": float, "odds_american": int}),
                                           how="outer", on=list(expected.columns), indicator=True)
    assert (merged["_merge"] == "both").all() and len(result.rows) == 55
    assert result.rejections.counts == {"not_offered": 8, "ignored_market": 8, "extra_tab": 1}
    assert "HITS" in result.rejections.examples["extra_tab"]


def test_two_unknown_tabs_for_one_missing_container_is_ambiguous() -> None:
    html = _insert_tab(PAGE.read_text(), "HITS", 1).replace(">ASSISTS</button>", ">ASSISTS PLUS</button>")
    result = parse_ok(html)
    assert len(result.rows) == 0 and result.rejections.counts == {"tab_container_mismatch": 71}


def test_align_tabs() -> None:
    assert oddsshark.align_tabs(["GOALS", "POINTS"], 2) == ([0, 1], [])
    assert oddsshark.align_tabs(["GOALS", "HITS", "POINTS"], 2) == ([0, 2], [1])
    assert oddsshark.align_tabs(["GOALS", "POINTS"], 3) == (None, [])
    assert oddsshark.align_tabs(["GOALS", "GOALS", "POINTS"], 2) == (None, [])


def test_renamed_row_markup_raises_schema_drift() -> None:
    html = PAGE.read_text().replace("player-props--row", "player-props__row")
    with pytest.raises(SchemaDriftError, match="player-props--row"):
        oddsshark.parse(raw_of(html))


def test_price_cells_outside_rows_and_rows_without_cells_are_counted() -> None:
    body = (game() + row("A B", [TWO]) + '<div class="player-props__row">' + TWO + TWO + "</div>"
            + '<div class="player-props--row" data-event="1"><div class="player-name">C D</div>'
            + '<div class="book-cell">+120</div></div>')
    result = parse_ok(page(["POINTS"], [container(body)]))
    assert len(result.rows) == 2
    # 2 orphan cells x 2 prices, plus the row whose cells were renamed
    assert result.rejections.counts == {"malformed": 5}


def test_row_outside_any_container_is_counted() -> None:
    html = page(["POINTS"], [container(game() + row("A B", [TWO]))]).replace(
        "</body>", game() + row("C D", [TWO, TWO]) + "</body>")
    result = parse_ok(html)
    assert len(result.rows) == 2
    assert result.rejections.counts == {"tab_container_mismatch": 4}


def test_book_alias_table_and_unknown_books() -> None:
    books = ["PINNACLE LOGO", "Sports Interaction logo", "FooBook Logo", "", "Underdog logo"]
    body = game() + row("Auston Matthews", [TWO, TWO, TWO, TWO, TWO, TWO])
    result = parse_ok(page(["POINTS"], [container(body, books)]))
    rows = result.rows
    got = sorted(set(zip(rows["book_id_vendor"], rows["book_name_raw"], rows["book_type"], strict=False)))
    assert got == [("foobook", "FooBook", "SPORTSBOOK"), ("pinnacle", "Pinnacle", "SPORTSBOOK"),
                   ("sports interaction", "Sports Interaction", "SPORTSBOOK"),
                   ("underdog", "Underdog Fantasy", "DFS")]
    # the empty alt and the sixth cell (no 6th header book) are unattributable
    assert result.rejections.counts == {"unknown_book": 4}


@pytest.mark.parametrize(
    ("price", "reason"),
    [(("O 0.5", "+50"), "bad_price"), (("O 0.5", "0"), "bad_price"), (("O 0.5", "-99"), "bad_price"),
     (("O 0.5", "abc"), "bad_price"), (("O 0.5", "+99999999999999999999"), "bad_price"), (("O 0.5", ""), "bad_price"), (("O 0.5", "1.95"), "bad_price"),
     (("O 0.5", "-"), "not_offered"), (("O 0.5", "\u2013"), "not_offered"),
     (("X 0.5", "+120"), "unknown_side"), (("", "+120"), "unknown_side"),
     (("O", "+120"), "missing_line"), (("Over", "+120"), "missing_line")],
)
def test_bad_prices_counted(price: tuple[str, str], reason: str) -> None:
    body = game() + row("Auston Matthews", [cell(price, ("U 0.5", "-140"))])
    result = parse_ok(page(["POINTS"], [container(body)]))
    assert result.rejections.counts == {reason: 1}
    assert list(result.rows["side"]) == ["UNDER"]


def test_over_under_words_and_unicode_minus() -> None:
    body = game() + row("Auston Matthews", [cell(("Over 2.5", "\u2212120"), ("Under 2.5", "+100"))])
    rows = parse_ok(page(["SHOTS ON GOAL"], [container(body)])).rows
    assert sorted(zip(rows["side"], rows["line"], rows["odds_american"], strict=False)) == [
        ("OVER", 2.5, -120), ("UNDER", 2.5, 100)]


@pytest.mark.parametrize(
    ("teams", "when", "reason"),
    [("XXX @ WSH -", "7:00 PM ET", "unknown_team"), ("Boston", "7:00 PM ET", "unknown_team"),
     ("BOS @ TOR -", "TBD", "missing_event")],
)
def test_bad_game_headers(teams: str, when: str, reason: str) -> None:
    body = game(teams, when) + row("A B", [TWO]) + game() + row("C D", [TWO])
    result = parse_ok(page(["POINTS"], [container(body)]))
    assert result.rejections.counts == {reason: 2}
    assert set(result.rows["player_name_raw"]) == {"C D"}


def test_full_team_names_and_at_in_header() -> None:
    body = game("Boston Bruins at Toronto Maple Leafs", "7:30 PM ET") + row("A B", [TWO])
    rows = parse_ok(page(["POINTS"], [container(body)]), datetime(2026, 1, 10, 15)).rows
    assert set(rows["event_id_vendor"]) == {"ODDSSHARK_20260110_BOS_TOR"}
    assert set(rows["event_start_ts_utc"]) == {pd.Timestamp("2026-01-11 00:30:00")}


def test_row_without_game_header_or_player() -> None:
    body = row("Early Bird", [TWO]) + game() + row(None, [TWO]) + row("  ", [TWO]) + row("Ok Guy", [TWO])
    result = parse_ok(page(["POINTS"], [container(body)]))
    assert result.rejections.counts == {"missing_event": 2, "missing_player": 4}
    assert set(result.rows["player_name_raw"]) == {"Ok Guy"}


def test_player_team_suffix_and_duplicate_rows() -> None:
    body = game("CAR @ NYI -") + row("Sebastian Aho (CAR)", [TWO]) + row("Sebastian Aho (CAR)", [TWO])
    result = parse_ok(page(["POINTS"], [container(body)]))
    rows = result.rows
    assert set(rows["player_name_raw"]) == {"Sebastian Aho"} and set(rows["player_team"]) == {"CAR"}
    assert result.rejections.counts == {"duplicate_outcome": 2}


# ---------------------------------------------------------------- drift


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", b"<html><body><p>Access denied</p></body></html>",
     b"<html><body><div class='tab-group foil'><button class='button--tab-primary'>GOALS</button></div></body></html>",
     b'{"json": "instead of html"}'],
)
def test_unusable_pages_raise_schema_drift(body: bytes) -> None:
    with pytest.raises(SchemaDriftError):
        oddsshark.parse(raw_of(body))


def test_truncated_page_raises_schema_drift() -> None:
    body = PAGE.read_bytes()
    with pytest.raises(SchemaDriftError, match="truncated"):
        oddsshark.parse(raw_of(body[: len(body) // 2]))


def test_drift_message_names_missing_selector() -> None:
    with pytest.raises(SchemaDriftError, match=r"player-props--container"):
        oddsshark.parse(raw_of(page(["GOALS"], [])))


def test_a_page_that_would_wedge_the_html_parser_is_refused_before_the_tree_is_built() -> None:
    """200,000 unclosed <div> keep the tree builder busy in C code for many minutes; the
    nesting guard refuses the page in one quick pass, naming why."""
    import time

    from helpers.demo.faults import wedged_page
    from helpers.odds.vendors.parsing import MAX_HTML_DEPTH, html_nesting_depth

    clean = PAGE.read_bytes()
    wedged = wedged_page(clean)
    assert len(wedged) - len(clean) == 1_000_000  # the reported page: 1 MB more than usual
    started = time.perf_counter()
    with pytest.raises(SchemaDriftError, match=f"nests more than {MAX_HTML_DEPTH} elements"):
        oddsshark.parse(raw_of(wedged))
    assert time.perf_counter() - started < 5  # a bound, not a benchmark: unguarded, minutes
    assert html_nesting_depth(clean.decode()) < 20  # real pages nest a few levels deep
    # what is not markup does not count: script text, comments, void and self-closed tags
    assert html_nesting_depth("<script>" + "<div>" * 999 + "</script><!--" + "<div>" * 999 +
                              "--><br><img/><p><li>" * 999 + "<div><span></span></div>") == 2
    assert html_nesting_depth("<div>" * 1000, stop_above=10) == 11  # stops early
