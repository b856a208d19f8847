"""OddsShark ``/nhl/odds/player-props`` HTML: fetch (network, at the end of the module) and a pure parser (docs/domain.md).

Page structure (selectors are the contract; lexbor via selectolax)
- Market tabs ``.tab-group.foil .button--tab-primary``; the i-th tab names the i-th
  ``.player-props--container.tab``. Tab text (case/space-folded): GOALS (or "ANYTIME GOAL
  SCORER"), ASSISTS, POINTS,
  "SHOTS ON GOAL" -> SOG, "BLOCKS" / "BLOCKED SHOTS" -> BLOCKS; "POWER PLAY ..." ->
  ``ignored_market``; anything else -> ``unknown_market`` for that container's prices.
- Tabs vs containers (``align_tabs``): equal counts map in order. With more tabs than
  containers, if dropping exactly the tabs whose text is not a known market (e.g. a new "HITS"
  button inserted at position 1 with no container) reconciles the counts, the rest map in
  order and each dropped tab counts once as ``extra_tab``. Otherwise (fewer tabs, or surplus
  tabs that are known markets) no container can be attributed safely — a missing or extra tab
  in the middle shifts every later market — so *every* price on the page is counted as
  ``tab_container_mismatch`` and no row is emitted: DOM drift shows up as zero coverage plus
  a counted reason, never as mislabelled markets. A row outside every container is counted
  the same way.
- Structure: a page with no tabs or no containers, an empty body, a body without a closing
  ``</html>`` (truncated), or price cells but no ``.player-props--row`` at all (row markup
  renamed) raises SchemaDriftError. Price cells outside any row, and rows without any price
  cell / odds div, are counted as ``malformed`` (one per price div, one per row).
- Book columns: ``.player-props--header .player-props--item img`` alt text, header of the row's
  container (else the page's first header), normalised through ``BOOK_ALIASES`` (drop the word
  "logo", case-fold). An alt text not in the table keeps its cleaned text as the name and is
  still classified (``base.classify_book``); an empty alt is ``unknown_book``.
- Rows ``.player-props--row`` (attribute ``data-event`` -> event_id_vendor_raw), player
  ``.player-name``. Price cells ``.book-row``: the FIRST cell is "Best Odds" and is skipped (not
  a priced item); cell i >= 1 belongs to header book i - 1 (a cell beyond the last book ->
  ``unknown_book``). In a cell each ``.player-props-odds > div`` is one priced item with
  ``.odds-info`` ("O 0.5" / "U 0.5") and ``.odds-detail`` ("+130", "EVEN" = +100).
  "-" (or an en/em dash) = the book offers no price -> ``not_offered`` (visible, not an error);
  other unparseable / invalid text -> ``bad_price``; label not O/U -> ``unknown_side``; no line
  -> ``missing_line``; empty player name -> ``missing_player``.
- Game header: the nearest preceding ``.props-game-info`` in document order, with
  ``.props-teams`` ("ANA @ WSH -") and ``.event-time`` ("7:00 PM ET"). No header ->
  ``missing_event``; teams not resolvable by teams.team_code -> ``unknown_team``; no readable
  time -> ``missing_event``.

Event date rule (the page shows a wall-clock time in ET, not a date)
The start is the first occurrence of that America/New_York wall-clock time (zoneinfo, so EST/EDT
follow the real DST calendar — never a fixed offset) that is no earlier than
``capture - EVENT_LOOKBACK`` (6 h): candidates are the ET dates capture-1, capture, capture+1
and the earliest one that qualifies wins. So a 7:00 PM game captured at 03:00 UTC (10 PM ET the
previous ET day) is that previous ET day's game; a 10:30 PM game still listed at 1 AM ET belongs
to the previous ET day; a 1:00 PM game seen at 11 PM ET (10 h ago) is tomorrow's. If the time
text carries a date ("Jan 8", "1/8"), that date is used instead (year nearest the capture).
event_id_vendor = ``ODDSSHARK_<YYYYMMDD of the ET date>_<AWAY>_<HOME>``; event_start_ts_utc
= that ET date + time converted to naive UTC.

vendor_market_id = the tab text; vendor_outcome_key =
``<event_id_vendor>:<market>:<player>:<book key>:<O|U><line>`` (a repeat in one page ->
``duplicate_outcome``). is_live is False: the page has no live marker. player_id_vendor and
player_team are NULL unless the name carries a "(TEAM)" suffix (same rule as PlayNow).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from selectolax.lexbor import LexborHTMLParser

from helpers.core.clock import to_naive_utc
from helpers.core.teams import team_code
from helpers.odds.prices import parse_american_text
from helpers.odds.vendors.base import Fetched, RawPayload, classify_book
from helpers.odds.vendors.parsing import (
    MAX_AMERICAN,
    MAX_HTML_DEPTH,
    Event,
    EventOrRejection,
    ParseResult,
    Rejection,
    Tally,
    datetime_to_us,
    drift,
    fmt_line,
    gc_paused,
    html_nesting_depth,
    odds_frame,
    require_body,
    split_player_team,
)

PARSER_VERSION = "oddsshark-1"
VENDOR = "ODDSSHARK"
ET = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
EVENT_LOOKBACK = timedelta(hours=6)

TAB_SELECTOR = ".tab-group.foil .button--tab-primary"
CONTAINER_SELECTOR = ".player-props--container.tab"
HEADER_SELECTOR = ".player-props--header"
BOOK_IMG_SELECTOR = ".player-props--item img"
ROW_SELECTOR = ".player-props--row"
GAME_SELECTOR = ".props-game-info"
CELL_SELECTOR = ".book-row"

# folded tab text -> market; None = known but out of scope (ignored_market)
TAB_MARKETS: dict[str, str | None] = {
    "GOALS": "GOALS",
    "ANYTIME GOAL SCORER": "GOALS",
    "ASSISTS": "ASSISTS",
    "POINTS": "POINTS",
    "SHOTS ON GOAL": "SOG",
    "BLOCKS": "BLOCKS",
    "BLOCKED SHOTS": "BLOCKS",
}
_IGNORED_TAB_RE = re.compile(r"^(POWER\s*PLAY|PP\b|SAVES|GOALIE)")

# cleaned alt text (lower-case, without "logo") -> canonical book name
BOOK_ALIASES: dict[str, str] = {
    "pinnacle": "Pinnacle",
    "betway": "Betway",
    "bet99": "BET99",
    "draftkings": "DraftKings",
    "draft kings": "DraftKings",
    "fanduel": "FanDuel",
    "fan duel": "FanDuel",
    "betmgm": "BetMGM",
    "mgm": "BetMGM",
    "caesars": "Caesars",
    "caesars sportsbook": "Caesars",
    "bet365": "bet365",
    "betrivers": "BetRivers",
    "pointsbet": "PointsBet",
    "espn bet": "ESPN BET",
    "espnbet": "ESPN BET",
    "thescore bet": "theScore Bet",
    "fanatics": "Fanatics",
    "hard rock bet": "Hard Rock Bet",
    "hard rock": "Hard Rock Bet",
    "bovada": "Bovada",
    "betonline": "BetOnline",
    "sports interaction": "Sports Interaction",
    "playnow": "PlayNow",
    "underdog": "Underdog Fantasy",
    "underdog fantasy": "Underdog Fantasy",
    "prizepicks": "PrizePicks",
}

_NOT_OFFERED = {"-", "\u2013", "\u2014", "\u2212", "--"}
_INFO_RE = re.compile(r"^(?P<side>O|U|OVER|UNDER)\s*(?P<line>\d+(?:\.\d+)?)?$", re.IGNORECASE)
_TIME_RE = re.compile(r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[AP])\.?\s*M\.?", re.IGNORECASE)
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_DATE_NAME_RE = re.compile(r"\b(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<d>\d{1,2})\b",
                           re.IGNORECASE)
_DATE_NUM_RE = re.compile(r"\b(?P<mo>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{2,4}))?\b")
_TEAMS_SPLIT_RE = re.compile(r"\s*(?:@|\bat\b)\s*", re.IGNORECASE)


# --------------------------------------------------------------------------- small pieces


def fold(text: str) -> str:
    return " ".join(text.upper().split())


def tab_market(text: str) -> tuple[str, str | None]:
    """('market', code) | ('ignored', None) | ('unknown', None) for a tab label."""
    key = fold(text)
    if key in TAB_MARKETS:
        return "market", TAB_MARKETS[key]
    if _IGNORED_TAB_RE.match(key):
        return "ignored", None
    return "unknown", None


def canonical_book(alt: str | None) -> tuple[str, str] | None:
    """(book key, canonical name) from an img alt text; None when empty."""
    if not alt:
        return None
    words = [w for w in alt.split() if w.lower() != "logo"]
    cleaned = " ".join(words).strip(" -_|")
    if not cleaned:
        return None
    key = cleaned.lower()
    return key, BOOK_ALIASES.get(key, cleaned)


def parse_teams(text: str) -> tuple[str | None, str | None]:
    """'ANA @ WSH -' -> ('ANA', 'WSH') as (away, home) codes; None for an unresolvable side."""
    cleaned = text.strip().strip("-\u2013\u2014 ").strip()
    parts = _TEAMS_SPLIT_RE.split(cleaned, maxsplit=1)
    if len(parts) != 2:
        return None, None
    return team_code(parts[0].strip()), team_code(parts[1].strip())


def parse_event_time(text: str) -> tuple[time, tuple[int, int] | None] | None:
    """'7:00 PM ET' -> (19:00, None); 'Jan 8 7:00 PM ET' -> (19:00, (1, 8)); None if no time."""
    m = _TIME_RE.search(text)
    if m is None:
        return None
    hour = int(m.group("h"))
    minute = int(m.group("m") or 0)
    if not (1 <= hour <= 12 and 0 <= minute < 60):
        return None
    hour = hour % 12 + (12 if m.group("ap").upper() == "P" else 0)
    month_day = None
    dm = _DATE_NAME_RE.search(text)
    if dm is not None:
        month_day = (_MONTHS[dm.group("mon").lower()[:3]], int(dm.group("d")))
    else:
        dn = _DATE_NUM_RE.search(text)
        if dn is not None:
            month_day = (int(dn.group("mo")), int(dn.group("d")))
    return time(hour, minute), month_day


def event_start(capture_utc: datetime, start_et: time,
                month_day: tuple[int, int] | None = None) -> tuple[date, datetime] | None:
    """(ET date, naive-UTC start) of a game shown at ``start_et`` on a page captured at
    ``capture_utc`` (naive UTC). See the module docstring for the rule."""
    cap = capture_utc.replace(tzinfo=UTC)
    cap_et = cap.astimezone(ET)
    if month_day is not None:
        month, day = month_day
        best = None
        for year in (cap_et.year - 1, cap_et.year, cap_et.year + 1):
            try:
                cand = date(year, month, day)
            except ValueError:
                return None
            if best is None or abs(cand - cap_et.date()) < abs(best - cap_et.date()):
                best = cand
        candidates = [best]
    else:
        base = cap_et.date()
        candidates = [base - timedelta(days=1), base, base + timedelta(days=1)]
    earliest_ok = cap - EVENT_LOOKBACK
    for d in candidates:
        start = datetime.combine(d, start_et, tzinfo=ET).astimezone(UTC)
        if month_day is not None or start >= earliest_ok:
            return d, to_naive_utc(start)
    return None  # pragma: no cover - capture+1 always qualifies


def _text(node: Any) -> str:
    return node.text(separator=" ", strip=True) if node is not None else ""


# --------------------------------------------------------------------------- games


def _resolve_game(teams_text: str, time_text: str, capture: datetime) -> EventOrRejection:
    """The event of a game header, or why the player rows under it cannot be placed."""
    away, home = parse_teams(teams_text)
    if away is None or home is None:
        return Rejection("unknown_team", f".props-teams {teams_text!r} -> away {away}, home {home}")
    parsed = parse_event_time(time_text)
    if parsed is None:
        return Rejection("missing_event", f".event-time {time_text!r} has no readable time")
    start_time, month_day = parsed
    resolved = event_start(capture, start_time, month_day)
    if resolved is None:
        return Rejection("missing_event", f".event-time {time_text!r} has an impossible date")
    et_date, start_utc = resolved
    event_id = f"ODDSSHARK_{et_date:%Y%m%d}_{away}_{home}"
    name = f"{teams_text.strip().rstrip('-').strip()} {time_text.strip()}".strip()
    return Event(event_id, name, datetime_to_us(start_utc), home, away)


# --------------------------------------------------------------------------- parse


def _price_divs(cell: Any) -> list:
    return cell.css(".player-props-odds > div")


def _row_items(row: Any) -> int:
    """Priced items of a row: price divs of every cell except the first (Best Odds); a row
    without any (renamed cell / odds markup) still counts as one item, so it cannot vanish."""
    cells = row.css(CELL_SELECTOR)
    return sum(len(_price_divs(c)) for c in cells[1:]) or 1


def align_tabs(tabs: list[str], n_containers: int) -> tuple[list[int] | None, list[int]]:
    """(tab index for each container, or None when no safe attribution; extra tab indexes).

    Equal counts: the i-th tab names the i-th container. More tabs than containers: if
    dropping exactly the tabs whose text is not a known market (nor a known ignored one)
    reconciles the counts, those are the extra tabs (a new tab without a container, e.g. "HITS"
    inserted at position 1) and the remaining tabs map in order. Anything else (fewer tabs,
    or extra tabs that are known markets) cannot be attributed without guessing -> None.
    """
    if len(tabs) == n_containers:
        return list(range(n_containers)), []
    if len(tabs) > n_containers:
        unknown = [i for i, t in enumerate(tabs) if tab_market(t)[0] == "unknown"]
        if len(tabs) - len(unknown) == n_containers:
            return [i for i in range(len(tabs)) if i not in unknown], unknown
    return None, []


def _read_html(raw: RawPayload) -> LexborHTMLParser:
    """The page's DOM. An empty body or one without its closing ``</html>`` -> SchemaDriftError:
    a page cut off in transfer would otherwise parse as a page with fewer markets."""
    html = require_body(raw, VENDOR).decode("utf-8", errors="replace")
    if "</html>" not in html[-4096:].lower():
        raise drift(VENDOR, "HTML has no closing </html> (truncated page?)")
    depth = html_nesting_depth(html)
    if depth > MAX_HTML_DEPTH:
        raise drift(VENDOR, f"HTML nests more than {MAX_HTML_DEPTH} elements deep (unclosed "
                            f"tags?): refused before parsing, as a page that would wedge the "
                            f"HTML parser")
    return LexborHTMLParser(html)


def _orphan_cells(tree: LexborHTMLParser, rows: list) -> list:
    """Price cells outside every player row. The row walk never reaches them, so they are
    counted on their own; cells without any row at all mean the row markup was renamed ->
    SchemaDriftError rather than a page of "malformed" cells."""
    in_rows = {cell.mem_id for r in rows for cell in r.css(CELL_SELECTOR)}
    orphans = [c for c in tree.css(CELL_SELECTOR) if c.mem_id not in in_rows]
    if orphans and not rows:
        raise drift(VENDOR, f"no element matches {ROW_SELECTOR!r} but {len(orphans)} "
                            f"{CELL_SELECTOR!r} price cells exist (row markup renamed?)")
    return orphans


# (book key, canonical name, book_type) of a book column; None when its logo names no book
_Book = tuple[str, str, str] | None


def _header_books(header: Any) -> list[_Book]:
    """The book of each price column, from the header's logo alt texts, in column order."""
    if header is None:
        return []
    books: list[_Book] = []
    for img in header.css(BOOK_IMG_SELECTOR):
        book = canonical_book(img.attributes.get("alt"))
        books.append(None if book is None else (*book, classify_book(book[1])))
    return books


class _Plan(NamedTuple):
    """What the rows of one container become, decided once per container from its tab."""

    market: str | None
    rejection: Rejection | None  # set: every price in the container counts under it
    tab: str  # the tab text, vendor_market_id
    books: list[_Book]


class _Row(NamedTuple):
    """A player row that passed the row-level checks: what all its prices share."""

    plan: _Plan
    event: Event
    event_raw: str | None  # the row's data-event attribute
    player: str
    team: str | None


class _Quote(NamedTuple):
    """One readable price div: side, line and price, with the price text as shown."""

    side: str
    line: float
    american: int
    text: str


def _read_quote(div: Any, where: str) -> _Quote | Rejection:
    """The price in one ``.player-props-odds > div`` ("O 0.5" / "+130"), or why it has none.
    ``where`` (player, tab, book) starts the rejection example."""
    info = _text(div.css_first(".odds-info"))
    detail = _text(div.css_first(".odds-detail"))
    if detail in _NOT_OFFERED:
        return Rejection("not_offered", f"{where} {info!r}: {detail!r}")
    im = _INFO_RE.match(info)
    if im is None:
        return Rejection("unknown_side", f"{where} odds-info {info!r}")
    if im.group("line") is None:
        return Rejection("missing_line", f"{where} odds-info {info!r}")
    american = parse_american_text(detail)
    if american is None or abs(american) > MAX_AMERICAN:
        return Rejection("bad_price", f"{where} odds-detail {detail!r}")
    side = "OVER" if im.group("side")[0].upper() == "O" else "UNDER"
    return _Quote(side, float(im.group("line")), american, detail)


# The values of one output row, in the order _Page.records holds them.
_RECORD = ("event_id", "event_raw", "event_name", "start", "home", "away", "player", "team",
           "market", "line", "side", "book_id", "book_name", "book_type", "american", "quoted",
           "market_id", "key")


class _Page:
    """One parse of a page: tabs paired with containers once, then a walk over game headers
    and player rows in document order, each row read cell by cell and price by price.

    Every priced item met is added to ``items`` exactly once, either as a row or through a
    tally of one rejection, so ``items == rows + rejections`` (parsing's accounting contract).
    """

    def __init__(self, tree: LexborHTMLParser, tabs: list[str], containers: list,
                 capture: datetime) -> None:
        self.tree = tree
        self.tabs = tabs
        self.containers = containers
        self.capture = capture
        self.tally = Tally()
        self.items = 0
        self.stats = {"tabs": len(tabs), "containers": len(containers), "games": 0,
                      "player_rows": 0}
        self.tab_of, self.extra_tabs = align_tabs(tabs, len(containers))
        # A row's container decides its market; rows are found by walking the whole page.
        self.container_of = {r.mem_id: i for i, c in enumerate(containers)
                             for r in c.css(ROW_SELECTOR)}
        self.plans: list[_Plan] = []
        self.games: dict[str, EventOrRejection] = {}  # header text -> its event, once per game
        self.seen: set[str] = set()
        self.records: list[tuple] = []  # one tuple per row, fields as in _RECORD

    # ---- page level

    def count_unread(self, orphans: list) -> None:
        """Count what the row walk cannot reach: tabs that name no container (one item each)
        and price cells outside every row (one per price div)."""
        tabs, n_containers = self.tabs, len(self.containers)
        for t in self.extra_tabs:
            self.items += 1
            self.tally.add("extra_tab", f"tab {tabs[t]!r} (#{t}) has no container: {len(tabs)} "
                                        f"tabs {tabs} vs {n_containers} containers")
        if orphans:
            n = sum(len(_price_divs(c)) or 1 for c in orphans)
            self.items += n
            self.tally.add("malformed",
                           f"{len(orphans)} {CELL_SELECTOR} cells outside {ROW_SELECTOR}", n)

    def plan_containers(self) -> None:
        """Decide each container's market, book columns and, when its rows cannot be used
        (tabs and containers not paired safely, a tab out of scope or unknown), the rejection."""
        page_header = self.tree.css_first(HEADER_SELECTOR)
        tabs, tab_of = self.tabs, self.tab_of
        for i, container in enumerate(self.containers):
            tab = tabs[tab_of[i]] if tab_of is not None else ""
            kind, market = tab_market(tab)
            books = _header_books(container.css_first(HEADER_SELECTOR) or page_header)
            rejection = None
            if tab_of is None:
                n_containers = len(self.containers)
                rejection = Rejection("tab_container_mismatch",
                                      f"{len(tabs)} tabs {tabs} vs {n_containers} containers")
            elif kind != "market":
                rejection = Rejection(f"{kind}_market", f"tab {tab!r}")
            self.plans.append(_Plan(market, rejection, tab, books))

    def read(self) -> None:
        """Walk game headers and player rows in document order: a header names the game of
        the rows after it (the page shows no game id on the rows themselves)."""
        game: EventOrRejection | None = None
        for node in self.tree.css(f"{GAME_SELECTOR}, {ROW_SELECTOR}"):
            if node.css_matches(GAME_SELECTOR):
                game = self._game(node)
            else:
                self.stats["player_rows"] += 1
                self._read_row(node, game)

    def _game(self, header: Any) -> EventOrRejection:
        teams_text = _text(header.css_first(".props-teams"))
        time_text = _text(header.css_first(".event-time"))
        cache_key = f"{teams_text}|{time_text}"
        if cache_key not in self.games:
            self.games[cache_key] = _resolve_game(teams_text, time_text, self.capture)
            self.stats["games"] += 1
        return self.games[cache_key]

    # ---- rows, cells, prices

    def _read_row(self, node: Any, game: EventOrRejection | None) -> None:
        """The rows of one player row; a row that fails a row-level check counts every price
        div it holds under that reason."""
        row = self._accept_row(node, game)
        if row.__class__ is Rejection:
            n = _row_items(node)
            self.items += n
            self.tally.add(row.reason, row.example, n)
            return
        cells = node.css(CELL_SELECTOR)
        if not any(_price_divs(c) for c in cells[1:]):
            self.items += 1
            self.tally.add("malformed", f"{row.player} ({row.plan.tab}): row without price cells "
                                        f"/ odds divs ({len(cells)} {CELL_SELECTOR})")
            return
        for column, cell in enumerate(cells[1:]):  # cells[0] is Best Odds: not a book's price
            self._read_cell(row, column, cell)

    def _accept_row(self, node: Any, game: EventOrRejection | None) -> _Row | Rejection:
        """The row's container plan, game and player, or the first reason it has none."""
        ci = self.container_of.get(node.mem_id)
        if ci is None:
            return Rejection("tab_container_mismatch",
                             "player row outside every .player-props--container.tab")
        plan = self.plans[ci]
        if plan.rejection is not None:
            return plan.rejection
        if game is None:
            return Rejection("missing_event", "player row before any .props-game-info")
        if game.__class__ is Rejection:
            return game
        event_raw = node.attributes.get("data-event")
        player_text = _text(node.css_first(".player-name"))
        player, team = split_player_team(player_text) if player_text else ("", None)
        if not player:
            return Rejection("missing_player", f"row data-event={event_raw!r} without .player-name")
        return _Row(plan, game, event_raw, player, team)

    def _read_cell(self, row: _Row, column: int, cell: Any) -> None:
        """The prices one book shows for the row's player (column i is header book i)."""
        divs = _price_divs(cell)
        if not divs:
            return
        self.items += len(divs)
        books = row.plan.books
        book = books[column] if column < len(books) else None
        if book is None:
            self.tally.add("unknown_book", f"{row.plan.tab} cell {column + 1} has no book header "
                                           f"({len(books)} books)", len(divs))
            return
        where = f"{row.player} {row.plan.tab} {book[1]}"
        for div in divs:
            quote = _read_quote(div, where)
            if quote.__class__ is Rejection:
                self.tally.add(quote.reason, quote.example)
            else:
                self._add_price(row, book, quote)

    def _add_price(self, row: _Row, book: tuple[str, str, str], quote: _Quote) -> None:
        """One output row, unless the page already showed this outcome (first one kept)."""
        event, market = row.event, row.plan.market
        book_key, book_name, book_type = book
        outcome = f"{quote.side[0]}{fmt_line(quote.line)}"  # "O0.5"
        key = f"{event.event_id}:{market}:{row.player}:{book_key}:{outcome}"
        if key in self.seen:
            self.tally.add("duplicate_outcome", key)
            return
        self.seen.add(key)
        self.records.append((
            event.event_id, row.event_raw, event.name, event.start_us, event.home, event.away,
            row.player, row.team, market, quote.line, quote.side, book_key, book_name, book_type,
            quote.american, quote.text, row.plan.tab, key,
        ))

    # ---- result

    def result(self, raw: RawPayload) -> ParseResult:
        n = len(self.records)
        values = [list(v) for v in zip(*self.records, strict=True)] or [[] for _ in _RECORD]
        col = dict(zip(_RECORD, values, strict=True))
        frame = odds_frame(
            raw, VENDOR, PARSER_VERSION, n,
            {
                "event_id_vendor": col["event_id"],
                "event_id_vendor_raw": col["event_raw"],
                "event_name_raw": col["event_name"],
                "event_start_ts_utc": col["start"],
                "home_team": col["home"],
                "away_team": col["away"],
                "player_id_vendor": None,
                "player_name_raw": col["player"],
                "player_team": col["team"],
                "market_type": col["market"],
                "line": np.asarray(col["line"], dtype=np.float64),
                "side": col["side"],
                "book_id_vendor": col["book_id"],
                "book_name_raw": col["book_name"],
                "book_type": col["book_type"],
                "odds_quoted_raw": col["quoted"],
                "is_live": False,  # the page has no live marker
                "vendor_market_id": col["market_id"],
                "vendor_outcome_key": col["key"],
            },
            quoted_format="AMERICAN",
            prices=np.asarray(col["american"], dtype=np.int64),
        )
        self.stats["rows"] = n
        return ParseResult(rows=frame, rejections=self.tally.to_rejections(), items=self.items,
                           parser_version=PARSER_VERSION, stats=self.stats)


@gc_paused
def parse(raw: RawPayload) -> ParseResult:
    """Canonical odds rows + counted rejections from one player-props HTML page."""
    tree = _read_html(raw)
    tabs = [_text(t) for t in tree.css(TAB_SELECTOR)]
    containers = tree.css(CONTAINER_SELECTOR)
    found = {TAB_SELECTOR: tabs, CONTAINER_SELECTOR: containers}
    missing = [selector for selector, matches in found.items() if not matches]
    if missing:
        raise drift(VENDOR, f"no elements match {missing}")
    page = _Page(tree, tabs, containers, to_naive_utc(raw.capture_ts_utc))
    orphans = _orphan_cells(tree, tree.css(ROW_SELECTOR))
    page.plan_containers()
    page.count_unread(orphans)
    page.read()
    return page.result(raw)


# --------------------------------------------------------------------------- network

PATH = "/nhl/odds/player-props"


def request_headers(settings: Any) -> dict[str, str]:
    return {}


def fetch(client: Any) -> Iterator[Fetched]:
    """One request; the body is yielded as received."""
    yield Fetched("player_props", client.get("player_props", PATH), "html")
