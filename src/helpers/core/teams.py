"""The 32 NHL team codes and the names vendors use for them (docs/domain.md)."""

from __future__ import annotations

import unicodedata

# code -> (place, nickname) as the NHL writes them.
TEAMS: dict[str, tuple[str, str]] = {
    "ANA": ("Anaheim", "Ducks"),
    "BOS": ("Boston", "Bruins"),
    "BUF": ("Buffalo", "Sabres"),
    "CAR": ("Carolina", "Hurricanes"),
    "CBJ": ("Columbus", "Blue Jackets"),
    "CGY": ("Calgary", "Flames"),
    "CHI": ("Chicago", "Blackhawks"),
    "COL": ("Colorado", "Avalanche"),
    "DAL": ("Dallas", "Stars"),
    "DET": ("Detroit", "Red Wings"),
    "EDM": ("Edmonton", "Oilers"),
    "FLA": ("Florida", "Panthers"),
    "LAK": ("Los Angeles", "Kings"),
    "MIN": ("Minnesota", "Wild"),
    "MTL": ("Montréal", "Canadiens"),
    "NJD": ("New Jersey", "Devils"),
    "NSH": ("Nashville", "Predators"),
    "NYI": ("New York", "Islanders"),
    "NYR": ("New York", "Rangers"),
    "OTT": ("Ottawa", "Senators"),
    "PHI": ("Philadelphia", "Flyers"),
    "PIT": ("Pittsburgh", "Penguins"),
    "SEA": ("Seattle", "Kraken"),
    "SJS": ("San Jose", "Sharks"),
    "STL": ("St. Louis", "Blues"),
    "TBL": ("Tampa Bay", "Lightning"),
    "TOR": ("Toronto", "Maple Leafs"),
    "UTA": ("Utah", "Mammoth"),
    "VAN": ("Vancouver", "Canucks"),
    "VGK": ("Vegas", "Golden Knights"),
    "WPG": ("Winnipeg", "Jets"),
    "WSH": ("Washington", "Capitals"),
}

TEAM_CODES: frozenset[str] = frozenset(TEAMS)

# Codes vendors use that are not the NHL's.
_CODE_ALIASES = {
    "LA": "LAK", "NJ": "NJD", "SJ": "SJS", "TB": "TBL", "WAS": "WSH", "VEG": "VGK",
    "MON": "MTL", "CLS": "CBJ", "CLB": "CBJ", "NAS": "NSH", "UTAH": "UTA", "ARI": "UTA",
    "WIN": "WPG", "CAL": "CGY",
}

# Full names that are not "<place> <nickname>" of the current team.
_NAME_ALIASES = {
    "utah hockey club": "UTA",
    "utah hc": "UTA",
    "montreal canadiens": "MTL",
    "st louis blues": "STL",
    "saint louis blues": "STL",
}


def full_name(code: str) -> str:
    place, nickname = TEAMS[code]
    return f"{place} {nickname}"


def _fold(text: str) -> str:
    """Lowercase, strip accents and punctuation so 'Montréal' == 'Montreal', 'St.' == 'St'."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in ascii_only.lower())
    return " ".join(cleaned.split())


_BY_FULL_NAME = {_fold(full_name(code)): code for code in TEAMS} | {
    _fold(name): code for name, code in _NAME_ALIASES.items()
}


def team_code(text: str | None) -> str | None:
    """Canonical 3-letter code for a code or a full team name; None when unknown."""
    if not text:
        return None
    stripped = text.strip()
    upper = stripped.upper()
    if upper in TEAM_CODES:
        return upper
    if upper in _CODE_ALIASES:
        return _CODE_ALIASES[upper]
    return _BY_FULL_NAME.get(_fold(stripped))
