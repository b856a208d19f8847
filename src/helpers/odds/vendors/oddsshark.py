"""OddsShark ``/nhl/odds/player-props`` HTML: fetch (network, at the end of the module) and a pure parser (DOMAIN.md §1.3).

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
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from selectolax.lexbor import LexborHTMLParser

from helpers.core.teams import team_code
from helpers.odds.prices import american_to_decimal, parse_american_text
from helpers.odds.vendors.base import Fetched, RawPayload, classify_book
from helpers.odds.vendors.parsing import (
    MAX_AMERICAN,
    ParseResult,
    Tally,
    build_odds_frame,
    capture_naive_utc,
    datetime_to_us,
    drift,
    fmt_line,
    gc_paused,
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
            return d, start.replace(tzinfo=None)
    return None  # pragma: no cover - capture+1 always qualifies


def _text(node: Any) -> str:
    return node.text(separator=" ", strip=True) if node is not None else ""


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


@gc_paused
def parse(raw: RawPayload) -> ParseResult:
    """Canonical odds rows + counted rejections from one player-props HTML page."""
    body = raw.body
    if body is None or not body.strip():
        raise drift(VENDOR, f"empty body ({raw.kind}, {raw.path or 'no path'})")
    html = body.decode("utf-8", errors="replace")
    if "</html>" not in html[-4096:].lower():
        raise drift(VENDOR, "HTML has no closing </html> (truncated page?)")
    tree = LexborHTMLParser(html)
    tabs = [_text(t) for t in tree.css(TAB_SELECTOR)]
    containers = tree.css(CONTAINER_SELECTOR)
    missing = [s for s, found in ((TAB_SELECTOR, tabs), (CONTAINER_SELECTOR, containers)) if not found]
    if missing:
        raise drift(VENDOR, f"no elements match {missing}")

    capture = capture_naive_utc(raw)
    tally = Tally()
    stats = {"tabs": len(tabs), "containers": len(containers), "games": 0, "player_rows": 0}
    tab_of, extra_tabs = align_tabs(tabs, len(containers))
    mismatch = tab_of is None

    container_of: dict[int, int] = {}
    for i, c in enumerate(containers):
        for r in c.css(ROW_SELECTOR):
            container_of[r.mem_id] = i
    all_rows = tree.css(ROW_SELECTOR)
    in_rows = {cell.mem_id for r in all_rows for cell in r.css(CELL_SELECTOR)}
    orphans = [c for c in tree.css(CELL_SELECTOR) if c.mem_id not in in_rows]
    if orphans and not all_rows:
        raise drift(VENDOR, f"no element matches {ROW_SELECTOR!r} but {len(orphans)} "
                            f"{CELL_SELECTOR!r} price cells exist (row markup renamed?)")
    page_header = tree.css_first(HEADER_SELECTOR)

    # per-container: (market or None, reason or None, tab text, books list)
    plans: list[tuple[str | None, str | None, str, list]] = []
    for i, c in enumerate(containers):
        tab = tabs[tab_of[i]] if tab_of is not None else ""
        kind, market = tab_market(tab)
        header = c.css_first(HEADER_SELECTOR) or page_header
        books = []
        if header is not None:
            for img in header.css(BOOK_IMG_SELECTOR):
                book = canonical_book(img.attributes.get("alt"))
                books.append(None if book is None else (*book, classify_book(book[1])))
        reason = None
        if mismatch:
            reason = "tab_container_mismatch"
        elif kind != "market":
            reason = f"{kind}_market"
        plans.append((market, reason, tab, books))

    cols: dict[str, list] = {k: [] for k in (
        "event_id", "event_raw", "event_name", "start", "home", "away", "player", "team",
        "market", "line", "side", "book_id", "book_name", "book_type", "amer", "quoted",
        "market_id", "key")}
    seen: set[str] = set()
    items = 0
    game: tuple | None = None  # (reason, example) or (event_id, name, start_us, home, away)
    game_cache: dict[str, tuple] = {}
    for t in extra_tabs:  # structural: one counted item per tab that names no container
        items += 1
        tally.add("extra_tab", f"tab {tabs[t]!r} (#{t}) has no container: {len(tabs)} tabs "
                               f"{tabs} vs {len(containers)} containers")
    if orphans:  # price cells outside any player row (never reached by the row loop)
        n = sum(len(_price_divs(c)) or 1 for c in orphans)
        items += n
        tally.add("malformed", f"{len(orphans)} {CELL_SELECTOR} cells outside {ROW_SELECTOR}", n)

    for node in tree.css(f"{GAME_SELECTOR}, {ROW_SELECTOR}"):
        if node.css_matches(GAME_SELECTOR):
            teams_text = _text(node.css_first(".props-teams"))
            time_text = _text(node.css_first(".event-time"))
            cache_key = f"{teams_text}|{time_text}"
            if cache_key not in game_cache:
                game_cache[cache_key] = _resolve_game(teams_text, time_text, capture)
                stats["games"] += 1
            game = game_cache[cache_key]
            continue

        stats["player_rows"] += 1
        ci = container_of.get(node.mem_id)
        if ci is None:
            n = _row_items(node)
            items += n
            tally.add("tab_container_mismatch", "player row outside every .player-props--container.tab", n)
            continue
        market, reason, tab, books = plans[ci]
        if reason is not None:
            n = _row_items(node)
            items += n
            ex = (f"{len(tabs)} tabs {tabs} vs {len(containers)} containers"
                  if reason == "tab_container_mismatch" else f"tab {tab!r}")
            tally.add(reason, ex, n)
            continue
        if game is None or len(game) == 2:
            n = _row_items(node)
            items += n
            if game is None:
                tally.add("missing_event", "player row before any .props-game-info", n)
            else:
                tally.add(game[0], game[1], n)
            continue
        player_text = _text(node.css_first(".player-name"))
        player, team = split_player_team(player_text) if player_text else ("", None)
        if not player:
            n = _row_items(node)
            items += n
            tally.add("missing_player", f"row data-event={node.attributes.get('data-event')!r} without .player-name", n)
            continue
        event_id, event_name, start_us, home, away = game
        event_raw = node.attributes.get("data-event")
        cells = node.css(CELL_SELECTOR)
        if not any(_price_divs(c) for c in cells[1:]):
            items += 1
            tally.add("malformed", f"{player} ({tab}): row without price cells / odds divs "
                                   f"({len(cells)} {CELL_SELECTOR})")
            continue
        for ci_cell, cell in enumerate(cells[1:]):
            divs = _price_divs(cell)
            if not divs:
                continue
            items += len(divs)
            book = books[ci_cell] if ci_cell < len(books) else None
            if book is None:
                tally.add("unknown_book", f"{tab} cell {ci_cell + 1} has no book header "
                          f"({len(books)} books)", len(divs))
                continue
            book_key, book_name, book_type = book
            for div in divs:
                info = _text(div.css_first(".odds-info"))
                detail = _text(div.css_first(".odds-detail"))
                if detail in _NOT_OFFERED:
                    tally.add("not_offered", f"{player} {tab} {book_name} {info!r}: {detail!r}")
                    continue
                im = _INFO_RE.match(info)
                if im is None:
                    tally.add("unknown_side", f"{player} {tab} {book_name} odds-info {info!r}")
                    continue
                if im.group("line") is None:
                    tally.add("missing_line", f"{player} {tab} {book_name} odds-info {info!r}")
                    continue
                american = parse_american_text(detail)
                if american is None or abs(american) > MAX_AMERICAN:
                    tally.add("bad_price", f"{player} {tab} {book_name} odds-detail {detail!r}")
                    continue
                side = "OVER" if im.group("side")[0].upper() == "O" else "UNDER"
                line = float(im.group("line"))
                key = f"{event_id}:{market}:{player}:{book_key}:{side[0]}{fmt_line(line)}"
                if key in seen:
                    tally.add("duplicate_outcome", key)
                    continue
                seen.add(key)
                for col, val in (("event_id", event_id), ("event_raw", event_raw),
                                 ("event_name", event_name), ("start", start_us), ("home", home),
                                 ("away", away), ("player", player), ("team", team),
                                 ("market", market), ("line", line), ("side", side),
                                 ("book_id", book_key), ("book_name", book_name),
                                 ("book_type", book_type), ("amer", american),
                                 ("quoted", detail), ("market_id", tab), ("key", key)):
                    cols[col].append(val)

    n = len(cols["key"])
    amer = np.asarray(cols["amer"], dtype=np.int64)
    frame = build_odds_frame(
        n,
        {
            "source_vendor": VENDOR,
            "capture_ts_utc": capture,
            "event_id_vendor": cols["event_id"],
            "event_id_vendor_raw": cols["event_raw"],
            "event_name_raw": cols["event_name"],
            "event_start_ts_utc": cols["start"],
            "home_team": cols["home"],
            "away_team": cols["away"],
            "player_id_vendor": None,
            "player_name_raw": cols["player"],
            "player_team": cols["team"],
            "market_type": cols["market"],
            "line": np.asarray(cols["line"], dtype=np.float64),
            "side": cols["side"],
            "book_id_vendor": cols["book_id"],
            "book_name_raw": cols["book_name"],
            "book_type": cols["book_type"],
            "odds_american": amer,
            "odds_decimal": american_to_decimal(amer) if n else np.empty(0),
            "odds_quoted_raw": cols["quoted"],
            "odds_quoted_format": "AMERICAN",
            "odds_american_derived": False,
            "odds_decimal_derived": True,
            "is_live": False,
            "raw_payload_path": raw.path,
            "raw_payload_hash": raw.sha256,
            "vendor_market_id": cols["market_id"],
            "vendor_outcome_key": cols["key"],
            "parser_version": PARSER_VERSION,
        },
    )
    stats["rows"] = n
    return ParseResult(rows=frame, rejections=tally.to_rejections(), items=items,
                       parser_version=PARSER_VERSION, stats=stats)


def _resolve_game(teams_text: str, time_text: str, capture: datetime) -> tuple:
    away, home = parse_teams(teams_text)
    if away is None or home is None:
        return ("unknown_team", f".props-teams {teams_text!r} -> away {away}, home {home}")
    parsed = parse_event_time(time_text)
    if parsed is None:
        return ("missing_event", f".event-time {time_text!r} has no readable time")
    start_time, month_day = parsed
    resolved = event_start(capture, start_time, month_day)
    if resolved is None:
        return ("missing_event", f".event-time {time_text!r} has an impossible date")
    et_date, start_utc = resolved
    event_id = f"ODDSSHARK_{et_date:%Y%m%d}_{away}_{home}"
    name = f"{teams_text.strip().rstrip('-').strip()} {time_text.strip()}".strip()
    return (event_id, name, datetime_to_us(start_utc), home, away)


# --------------------------------------------------------------------------- network

PATH = "/nhl/odds/player-props"


def request_headers(settings: Any) -> dict[str, str]:
    return {}


def fetch(client: Any) -> Iterator[Fetched]:
    """One request; the body is yielded as received."""
    yield Fetched("player_props", client.get("player_props", PATH), "html")
