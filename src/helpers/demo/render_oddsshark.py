"""OddsShark `GET /nhl/odds/player-props` HTML (docs/domain.md).

The page shows today's (ET) games that have not started. The i-th tab button names the
i-th `.player-props--container.tab`; in each row the first `.book-row` cell is "Best
Odds", cell i >= 1 belongs to header book i-1. Team codes are OddsShark's ("LA", "NJ",
"SJ", "TB"); some books write +100 as "EVEN"; "-" marks a book without the prop.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from html import escape

from helpers.demo.books import ODDSSHARK_BOOKS, Book
from helpers.demo.league import Game, League
from helpers.demo.pricing import Quote, quotes_for
from helpers.demo.schedule import EASTERN

TABS: tuple[tuple[str, str], ...] = (
    ("GOALS", "GOALS"), ("ASSISTS", "ASSISTS"), ("POINTS", "POINTS"),
    ("SHOTS ON GOAL", "SOG"), ("BLOCKED SHOTS", "BLOCKS"), ("POWER PLAY POINTS", "PPP"),
)
_LOGO_ALT = {"pinnacle": "pinnacle logo", "betway": "Betway Logo", "bet99": "bet99",
             "draftkings": "DraftKings logo", "fanduel": "FanDuel logo", "betmgm": "BetMGM"}
_EVEN_BOOKS = {"betway", "bet99"}
_CODES = {"LAK": "LA", "NJD": "NJ", "SJS": "SJ", "TBL": "TB"}


def event_id(game: Game) -> str:
    return str(5_000_000 + game.game_id % 10_000)


def _american(book: Book | None, price: int | None) -> str:
    if price is None:
        return "-"
    if price == 100 and book is not None and book.key in _EVEN_BOOKS:
        return "EVEN"
    return f"{price:+d}"


def _odds_div(info: str, detail: str) -> str:
    return (f'<div><span class="odds-info">{escape(info)}</span>'
            f'<span class="odds-detail">{escape(detail)}</span></div>')


def _cell(book: Book | None, quote: Quote | None, best: tuple[Quote, Quote | None] | None,
          line: float) -> str:
    parts = []
    if book is None:  # the Best Odds column
        if best is not None:
            over_q, under_q = best
            parts.append(_odds_div(f"O {over_q.line:g}", _american(None, over_q.over)))
            if under_q is not None:
                parts.append(_odds_div(f"U {under_q.line:g}", _american(None, under_q.under)))
    elif quote is not None:
        parts.append(_odds_div(f"O {quote.line:g}", _american(book, quote.over)))
        if quote.under is not None:
            parts.append(_odds_div(f"U {quote.line:g}", _american(book, quote.under)))
    if not parts:  # the book does not offer this prop
        parts.append(_odds_div(f"O {line:g}", "-"))
    css = "book-row best-odds" if book is None else "book-row"
    return f'<div class="{css}"><div class="player-props-odds">{"".join(parts)}</div></div>'


def _rows(league: League, game: Game, market: str, quotes: dict[str, dict]) -> list[str]:
    pids = sorted({pid for by_pid in quotes.values() for pid in by_pid},
                  key=lambda pid: (league.player_by_id[pid].team_on(game.slate_date) != game.away,
                                   league.player_by_id[pid].depth, pid))
    out = []
    for pid in pids:
        player = league.player_by_id[pid]
        offered = [quotes[b.key].get(pid) for b in ODDSSHARK_BOOKS]
        present = [q for q in offered if q is not None]
        # Best Odds: the best price on each side at the most common line.
        common_line = Counter(q.line for q in present).most_common(1)[0][0]
        common = [q for q in present if q.line == common_line]
        best_over = max(common, key=lambda q: q.over or -10**6)
        unders = [q for q in common if q.under is not None]
        best_under = max(unders, key=lambda q: q.under or -10**6) if unders else None
        cells = [_cell(None, None, (best_over, best_under), common_line)]
        cells += [_cell(b, q, None, common_line)
                  for b, q in zip(ODDSSHARK_BOOKS, offered, strict=True)]
        out.append(f'<div class="player-props--row" data-event="{event_id(game)}">'
                   f'<div class="player-name">{escape(player.vendor_name("ODDSSHARK"))}</div>'
                   f'{"".join(cells)}</div>')
    return out


def _game_header(game: Game) -> str:
    start = game.start_utc.astimezone(EASTERN)
    clock = start.strftime("%I:%M %p").lstrip("0")
    away, home = _CODES.get(game.away, game.away), _CODES.get(game.home, game.home)
    return (f'<div class="props-game-info"><span class="props-teams">{away} @ {home} -</span> '
            f'<span class="event-time">{clock} ET</span></div>')


def _container(league: League, games: list[Game], market: str, now: datetime,
               active: bool) -> str:
    header = ['<div class="player-props--header">',
              '<div class="player-props--item player-props--label">Player</div>',
              '<div class="player-props--item best-odds">Best Odds</div>']
    for book in ODDSSHARK_BOOKS:
        header.append(f'<div class="player-props--item"><img src="/images/books/{book.key}.png"'
                      f' alt="{escape(_LOGO_ALT[book.key])}"></div>')
    header.append("</div>")
    body = []
    for game in games:
        quotes = {b.key: {q.player_id: q for q in quotes_for(league, game.index, b, now,
                                                             (market,))
                          if not q.is_alt}
                  for b in ODDSSHARK_BOOKS}
        rows = _rows(league, game, market, quotes)
        if rows:
            body.append(_game_header(game))
            body += rows
    css = "player-props--container tab" + (" active" if active else "")
    return f'<div class="{css}">{"".join(header)}{"".join(body)}</div>'


def render_oddsshark(league: League, now: datetime, drift: str | None = None) -> bytes:
    """Today's (ET) games not yet started, one tab per market."""
    today = now.astimezone(EASTERN).date()
    games = [g for g in league.games_on(today) if g.start_utc > now]
    tabs = list(TABS)
    buttons = [f'<button class="button--tab-primary{" active" if i == 0 else ""}" '
               f'data-index="{i}">{label}</button>' for i, (label, _) in enumerate(tabs)]
    containers = [_container(league, games, market, now, i == 0)
                  for i, (_, market) in enumerate(tabs)]
    if drift == "extra_tab":
        # A new tab without its container: every later tab now names the wrong container.
        buttons.insert(1, '<button class="button--tab-primary" data-index="99">HITS</button>')
    elif drift == "renamed_key":
        containers = [c.replace("player-props--row", "player-props__row") for c in containers]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>NHL Player Props Odds | OddsShark</title></head><body>"
        '<main class="page player-props">'
        "<h1>NHL Player Props</h1>"
        f'<div class="tab-group foil">{"".join(buttons)}</div>'
        f'{"".join(containers)}'
        "</main></body></html>\n")
    return page.encode("utf-8")
