"""The simulated bookmakers: how sharp, how much vig, which markets, where they appear.

A book is one pricing model; when two vendors show the same book (DraftKings on Unabated
and on OddsShark) they show the same prices. Unabated ids 1 DraftKings, 2 FanDuel, 73
Underdog Fantasy and 89 Novig are the real ones (docs/domain.md); the others are invented.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKETS: tuple[str, ...] = ("GOALS", "ASSISTS", "POINTS", "SOG", "BLOCKS")
# Power-play points: priced on PlayNow / OddsShark only, so parsers can prove they skip it.
EXTRA_MARKETS: tuple[str, ...] = ("PPP",)


@dataclass(frozen=True)
class Book:
    key: str
    name: str
    kind: str  # SPORTSBOOK | DFS | DERIVED (helpers.odds.vendors.base.classify_book)
    vig: float  # two-way overround: implied(over) + implied(under) = 1 + vig
    sigma: float  # sd of the book's own error on top of the market maker's, logit scale
    unabated_id: int | None = None
    unabated_status: int = 1
    stale: bool = False  # reprices once a day, from season rates (ignores matchups)
    dfs_price: int | None = None  # pick'em books pay a fixed price on both sides
    round_to: int = 1  # American prices rounded to this step
    alternates: str = ""  # "" none, "over" over-only ladders, "both" two-sided (+ integers)
    two_sided_goals: bool = False
    blocks: bool = True
    coverage: float = 0.9  # share of eligible props offered
    depth: int = 9  # forwards ranked deeper than this are not offered (defense: depth - 3)
    blur_rate: float = 0.0  # Unabated hides these prices (isBlurred)
    decimal_native: bool = False  # quotes decimal; Unabated shows sourceFormat 2


BOOKS: tuple[Book, ...] = (
    Book("pinnacle", "Pinnacle", "SPORTSBOOK", 0.035, 0.05, 10, alternates="both",
         two_sided_goals=True, coverage=0.92, decimal_native=True),
    Book("novig", "Novig", "SPORTSBOOK", 0.025, 0.07, 89, coverage=0.7,
         blocks=False),
    Book("draftkings", "DraftKings", "SPORTSBOOK", 0.08, 0.16, 1, alternates="over",
         coverage=0.98, depth=11),
    Book("fanduel", "FanDuel", "SPORTSBOOK", 0.085, 0.17, 2, alternates="over",
         coverage=0.98, depth=11),
    Book("betmgm", "BetMGM", "SPORTSBOOK", 0.09, 0.20, 3, round_to=5, coverage=0.9),
    Book("caesars", "Caesars", "SPORTSBOOK", 0.095, 0.20, 4, round_to=5, coverage=0.85,
         blur_rate=0.15),
    Book("bet365", "bet365", "SPORTSBOOK", 0.07, 0.15, 7, coverage=0.9, blur_rate=0.10),
    Book("betrivers", "BetRivers", "SPORTSBOOK", 0.09, 0.12, 8, stale=True, coverage=0.85,
         blocks=False),
    Book("pointsbet", "PointsBet", "SPORTSBOOK", 0.09, 0.20, 5, unabated_status=2,
         coverage=0.6, blocks=False),
    Book("underdog", "Underdog Fantasy", "DFS", 0.0, 0.0, 73, dfs_price=-122, coverage=0.8,
         depth=8),
    Book("prizepicks", "PrizePicks", "DFS", 0.0, 0.0, 74, dfs_price=-119, coverage=0.8,
         depth=8),
    Book("sleeper", "Sleeper", "DFS", 0.0, 0.0, 75, dfs_price=-120, coverage=0.6, depth=7,
         blocks=False),
    Book("unabated", "Unabated", "DERIVED", 0.0, 0.03, 99, coverage=1.0,
         depth=11),
    # Only on OddsShark / PlayNow.
    Book("betway", "Betway", "SPORTSBOOK", 0.09, 0.20, coverage=0.85),
    Book("bet99", "bet99", "SPORTSBOOK", 0.10, 0.22, coverage=0.8, round_to=5),
    Book("playnow", "PlayNow", "SPORTSBOOK", 0.085, 0.18, coverage=1.0, depth=11,
         decimal_native=True),
)

# Extra books for the large benchmark snapshot (same vendor format, more columns).
EXTRA_UNABATED_BOOKS: tuple[Book, ...] = (
    Book("espnbet", "ESPN BET", "SPORTSBOOK", 0.085, 0.14, 11, alternates="over", coverage=0.95,
         depth=11),
    Book("fanatics", "Fanatics", "SPORTSBOOK", 0.09, 0.15, 12, alternates="over", coverage=0.95,
         depth=11),
    Book("hardrock", "Hard Rock", "SPORTSBOOK", 0.09, 0.15, 13, coverage=0.95, depth=11),
    Book("betonline", "BetOnline", "SPORTSBOOK", 0.06, 0.09, 14, alternates="both",
         coverage=0.95, depth=11),
    Book("circa", "Circa", "SPORTSBOOK", 0.05, 0.07, 15, unabated_status=3, coverage=0.9,
         depth=11),
    Book("prophetx", "ProphetX", "SPORTSBOOK", 0.03, 0.08, 16, coverage=0.9, depth=11),
    Book("pick6", "DraftKings Pick6", "DFS", 0.0, 0.0, 17, dfs_price=-119, coverage=0.95,
         depth=11),
    Book("parlayplay", "ParlayPlay", "DFS", 0.0, 0.0, 18, dfs_price=-125, coverage=0.95,
         depth=11),
    Book("bovada", "Bovada", "SPORTSBOOK", 0.10, 0.18, 19, round_to=5, coverage=0.95, depth=11),
    Book("betparx", "BetParx", "SPORTSBOOK", 0.10, 0.18, 20, coverage=0.9, depth=11),
    Book("sporttrade", "Sporttrade", "SPORTSBOOK", 0.03, 0.07, 21, coverage=0.9, depth=11),
    Book("betr", "Betr Picks", "DFS", 0.0, 0.0, 22, dfs_price=-122, coverage=0.9, depth=11),
    Book("ballybet", "Bally Bet", "SPORTSBOOK", 0.095, 0.17, 23, alternates="over",
         coverage=0.9, depth=11),
)

BOOK_BY_KEY: dict[str, Book] = {b.key: b for b in BOOKS + EXTRA_UNABATED_BOOKS}

UNABATED_BOOKS: tuple[Book, ...] = tuple(b for b in BOOKS if b.unabated_id is not None)
ODDSSHARK_BOOKS: tuple[Book, ...] = tuple(
    BOOK_BY_KEY[k] for k in ("pinnacle", "betway", "bet99", "draftkings", "fanduel", "betmgm"))
PLAYNOW_BOOK: Book = BOOK_BY_KEY["playnow"]
