"""What every vendor module shares: the raw payload it parses, the canonical odds columns,
rejection counting and book classification (docs/domain.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SIDES: tuple[str, ...] = ("OVER", "UNDER")

# The columns of fact_prop_odds, in table order (docs/domain.md).
ODDS_COLUMNS: tuple[str, ...] = (
    "source_vendor",
    "capture_ts_utc",
    "event_id_vendor",
    "event_id_vendor_raw",
    "event_name_raw",
    "event_start_ts_utc",
    "home_team",
    "away_team",
    "player_id_vendor",
    "player_name_raw",
    "player_team",
    "market_type",
    "line",
    "side",
    "book_id_vendor",
    "book_name_raw",
    "book_type",
    "odds_american",
    "odds_decimal",
    "odds_quoted_raw",
    "odds_quoted_format",
    "odds_american_derived",
    "odds_decimal_derived",
    "is_live",
    "raw_payload_path",
    "raw_payload_hash",
    "vendor_market_id",
    "vendor_outcome_key",
    "parser_version",
)

# The NULL-safe dedup key of fact_prop_odds (docs/architecture.md).
ODDS_KEY: tuple[str, ...] = (
    "source_vendor",
    "capture_ts_utc",
    "event_id_vendor",
    "player_id_vendor",
    "player_name_raw",
    "market_type",
    "line",
    "side",
    "book_id_vendor",
    "vendor_outcome_key",
)


@dataclass(frozen=True)
class RawPayload:
    """One response body exactly as received, plus where and when it was captured."""

    vendor: str
    kind: str
    body: bytes
    capture_ts_utc: datetime  # naive UTC
    sha256: str
    path: str = ""


@dataclass(frozen=True)
class Fetched:
    """A response body as a vendor's fetch() yields it, before it is saved."""

    kind: str
    body: bytes
    ext: str  # file extension for the raw store: json, html


@dataclass
class Rejections:
    """Counted reasons for rows a parser did not emit, each with its first example."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, example: str, n: int = 1) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + n
        self.examples.setdefault(reason, example[:300])

    def total(self) -> int:
        return sum(self.counts.values())

    def merge(self, other: Rejections) -> None:
        for reason, n in other.counts.items():
            self.add(reason, other.examples.get(reason, ""), n)


# Pick'em / DFS books pay fixed multipliers; their "prices" are not sportsbook odds.
_DFS_BOOKS = {
    "underdog", "underdog fantasy", "prizepicks", "sleeper", "pick6", "draftkings pick6",
    "parlayplay", "chalkboard", "boom", "boom fantasy", "betr picks", "dabble",
}
# Lines computed by the vendor, not offered by anyone.
_DERIVED_BOOKS = {"unabated", "sharp book price", "unabated line", "consensus"}


def classify_book(name: str) -> str:
    """SPORTSBOOK, DFS or DERIVED for a canonical book name."""
    key = " ".join(name.lower().split())
    if key in _DFS_BOOKS:
        return "DFS"
    if key in _DERIVED_BOOKS:
        return "DERIVED"
    return "SPORTSBOOK"
