"""OddsShark player-props HTML: the DOM contract of docs/domain.md"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from selectolax.lexbor import LexborHTMLParser

from helpers.core.teams import team_code
from helpers.demo.render_oddsshark import render_oddsshark
from helpers.demo.schedule import EASTERN
from helpers.demo.server import default_now

TABS = ["GOALS", "ASSISTS", "POINTS", "SHOTS ON GOAL", "BLOCKED SHOTS", "POWER PLAY POINTS"]


@pytest.fixture(scope="module")
def page(league):
    return LexborHTMLParser(render_oddsshark(league, default_now(league)).decode("utf-8"))


def test_tabs_name_containers(page):
    tabs = [t.text(strip=True) for t in page.css(".tab-group.foil .button--tab-primary")]
    assert tabs == TABS
    assert len(page.css(".player-props--container.tab")) == len(tabs)


def test_header_books_and_cells(page):
    for container in page.css(".player-props--container.tab"):
        alts = [img.attributes["alt"]
                for img in container.css(".player-props--header .player-props--item img")]
        assert alts[:3] == ["pinnacle logo", "Betway Logo", "bet99"]
        assert "DraftKings logo" in alts
        rows = container.css(".player-props--row")
        assert rows
        for row in rows[:80]:
            assert row.attributes["data-event"].isdigit()
            assert row.css_first(".player-name").text(strip=True)
            cells = row.css(".book-row")
            assert len(cells) == 1 + len(alts)  # Best Odds first, then one per book
            assert "best-odds" in cells[0].attributes["class"]
            for cell in cells:
                for div in cell.css(".player-props-odds > div"):
                    info = div.css_first(".odds-info").text(strip=True)
                    detail = div.css_first(".odds-detail").text(strip=True)
                    assert re.fullmatch(r"[OU] \d+(\.\d+)?", info)
                    assert re.fullmatch(r"[+-]\d{3,5}|EVEN|-", detail)


def test_game_headers_are_todays_unstarted_games(league, page):
    now = default_now(league)
    today = now.astimezone(EASTERN).date()
    expected = {(g.away, g.home) for g in league.games_on(today) if g.start_utc > now}
    seen = set()
    for info in page.css(".props-game-info"):
        away, home = info.css_first(".props-teams").text(strip=True).rstrip(" -").split(" @ ")
        seen.add((team_code(away), team_code(home)))
        assert re.fullmatch(r"\d{1,2}:\d{2} [AP]M ET", info.css_first(".event-time").text())
    assert seen == expected and seen


def test_some_books_write_even_and_some_do_not_offer(league):
    html = b"".join(render_oddsshark(league, default_now(league) + timedelta(days=d))
                    for d in range(3)).decode()
    assert ">EVEN<" in html
    assert '<span class="odds-detail">-</span>' in html


def test_extra_tab_drift(league):
    drifted = LexborHTMLParser(render_oddsshark(league, default_now(league), "extra_tab").decode())
    tabs = drifted.css(".tab-group.foil .button--tab-primary")
    assert len(tabs) == len(drifted.css(".player-props--container.tab")) + 1
