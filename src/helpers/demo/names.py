"""Generated player names, with the hazards the real vendors produce (docs/domain.md):
accents, two players with the same full name, nickname spellings that differ by vendor,
a mangled (double-encoded) accent, apostrophes and hyphens.

Vendor name styles:
- NHL (canonical): the full name with accents ("Tomáš Hertl").
- PLAYNOW: as canonical, except the per-player overrides below (one is mojibake).
- UNABATED, ODDSSHARK: accents folded to ASCII ("Tomas Hertl"), plus nickname overrides.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

NAME_VENDORS: tuple[str, ...] = ("NHL", "UNABATED", "PLAYNOW", "ODDSSHARK")

# (first names, last names, weight, style) per origin. "cz" style: the NHL writes the
# boxscore name in ASCII with Czech/Slovak spellings as localized variants ("L. Dostal",
# cs "L. Dostál"); other origins keep their accents.
_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], float]] = {
    "na": (
        ("Connor", "Ryan", "Tyler", "Jack", "Logan", "Mason", "Brady", "Cole", "Dylan",
         "Evan", "Nick", "Brandon", "Zach", "Jake", "Kyle", "Trevor", "Dawson", "Jordan",
         "Nathan", "Quinn", "Owen", "Carter", "Bryce", "Cody", "Drew", "Seth", "Brett",
         "Kirby", "Jason", "Mark", "Mike", "Adam", "Sam", "Ben", "Luke", "Noah", "Liam",
         "Chris", "Shane", "Brock", "Wyatt", "Colton", "Chase", "Austin", "Griffin",
         "Hunter", "Jamie", "Will", "Jackson", "Brayden", "Trent", "Derek", "Travis"),
        ("Smith", "Johnson", "Miller", "Anderson", "Thompson", "Walker", "Robinson",
         "Wright", "Hall", "Young", "King", "Scott", "Green", "Baker", "Nelson", "Mitchell",
         "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy",
         "Cook", "Rogers", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ward",
         "Brooks", "Bennett", "Wood", "Barnes", "Ross", "Henderson", "Coleman", "Jenkins",
         "Perry", "Powell", "Patterson", "Hughes", "Butler", "Simmons", "Foster", "Bryant",
         "Russell", "Hayes", "Myers", "Ford", "Hamilton", "Graham", "Sullivan", "Wallace",
         "West", "Gibson", "McDonald", "O'Connell", "O'Brien", "McKenzie", "Fitzgerald",
         "Donovan", "Gallagher", "Whitfield", "Crawford", "Sinclair", "Thornton"),
        0.52,
    ),
    "fr": (
        ("Jérôme", "Mathieu", "Olivier", "Félix", "Alexis", "Samuel", "Gabriel", "Antoine",
         "Maxime", "Étienne", "Benoît", "Louis", "Philippe", "Frédéric", "Zachary"),
        ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie",
         "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron",
         "Lafrenière", "Desrosiers", "Thériault", "Poirier", "Leblanc"),
        0.10,
    ),
    "se": (
        ("Erik", "Oskar", "Gustav", "Viktor", "Elias", "Hampus", "Jesper", "Lucas",
         "Rasmus", "Adrian", "Linus", "Isak", "Albin", "Ludvig"),
        ("Lindqvist", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson",
         "Larsson", "Bergström", "Sjöberg", "Lindholm", "Åberg", "Ekholm", "Dahlén",
         "Holmström", "Ekman-Larsson", "Söderberg"),
        0.10,
    ),
    "fi": (
        ("Aleksi", "Eetu", "Joonas", "Kasperi", "Mikko", "Sami", "Teemu", "Ville", "Juuso",
         "Olli", "Patrik", "Kaapo", "Urho", "Niko"),
        ("Lehtonen", "Mäkinen", "Virtanen", "Heikkinen", "Korhonen", "Nieminen",
         "Järvinen", "Salo", "Hämäläinen", "Laaksonen", "Koivisto", "Lundell", "Räty"),
        0.07,
    ),
    "cz": (
        ("Ondřej", "Jakub", "Lukáš", "Martin", "Jiří", "Radek", "Filip", "Matěj", "David",
         "Dominik", "Vojtěch", "Šimon"),
        ("Novák", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák", "Němec",
         "Pokorný", "Krejčí", "Šimek", "Hronek", "Pastrňák", "Zadina"),
        0.08,
    ),
    "ru": (
        ("Ivan", "Dmitri", "Nikita", "Kirill", "Artemi", "Yegor", "Andrei", "Pavel",
         "Vladislav", "Mikhail", "Ilya", "Evgeni", "Daniil", "Semyon"),
        ("Ivanov", "Smirnov", "Kuznetsov", "Popov", "Sokolov", "Lebedev", "Kozlov",
         "Novikov", "Morozov", "Volkov", "Orlov", "Zaitsev", "Fedorov", "Belov", "Sorokin"),
        0.09,
    ),
    "de": (
        ("Tim", "Leon", "Moritz", "Nico", "Kevin", "Janis", "Lukas", "Marco"),
        ("Müller", "Schmid", "Weber", "Fischer", "Meier", "Schneider", "Bauer", "Hofmann",
         "Zimmermann", "Stützle", "Kühnhackl", "Grüber"),
        0.04,
    ),
}


@dataclass(frozen=True)
class PersonName:
    first: str
    last: str
    origin: str  # a key of _POOLS ("cz" drives the NHL's ASCII default)
    vendor_overrides: tuple[tuple[str, str], ...] = ()  # (vendor, full name as shown there)

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class HazardSpec:
    """A player who must exist in every seed, with his team and role."""

    name: PersonName
    team: str | None  # None: any team, chosen from the seed
    position: str  # C L R D
    depth: int  # 0 = first line / pair


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as Latin-1: 'Jérémy' -> 'JÃ©rÃ©my'."""
    return text.encode("utf-8").decode("latin-1")


HAZARDS: tuple[HazardSpec, ...] = (
    # Two players with the same full name on different teams (docs/domain.md).
    HazardSpec(PersonName("Sebastian", "Aho", "fi"), "CAR", "C", 0),
    HazardSpec(PersonName("Sebastian", "Aho", "fi"), "NYI", "D", 1),
    HazardSpec(PersonName("Jesperi", "Kotkaniemi", "fi"), None, "C", 4),
    HazardSpec(PersonName("Tomáš", "Hertl", "cz"), None, "C", 1),
    HazardSpec(PersonName("Jérémy", "Beaulieu", "fr",
                          (("PLAYNOW", _mojibake("Jérémy Beaulieu")),)), None, "L", 3),
    HazardSpec(PersonName("Alexander", "Kovalenko", "ru",
                          (("UNABATED", "Alex Kovalenko"), ("ODDSSHARK", "Alex Kovalenko"))),
               None, "R", 2),
    HazardSpec(PersonName("Matthew", "Beckett", "na",
                          (("UNABATED", "Matt Beckett"), ("ODDSSHARK", "Matt Beckett"))),
               None, "C", 2),
    HazardSpec(PersonName("Arseny", "Gritsenko", "ru",
                          (("PLAYNOW", "Arseni Gritsenko"), ("ODDSSHARK", "Arseni Gritsenko"))),
               None, "L", 5),
    HazardSpec(PersonName("Ondřej", "Kaše", "cz"), None, "R", 3),
    HazardSpec(PersonName("Tim", "Stützle", "de"), None, "C", 0),
)

# Given names that only the hazards may use, so a nickname never collides with a real one.
_RESERVED_FIRST = {"Alexander", "Alex", "Matthew", "Matt", "Arseny", "Arseni", "Sebastian"}


def fold_ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def generate_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[PersonName]:
    """`count` distinct generic names whose full names (and ASCII folds) avoid `taken`."""
    origins = list(_POOLS)
    weights = np.array([_POOLS[o][2] for o in origins])
    weights = weights / weights.sum()
    seen = {fold_ascii(name).lower() for name in taken}
    names: list[PersonName] = []
    while len(names) < count:
        origin = origins[int(rng.choice(len(origins), p=weights))]
        firsts, lasts, _ = _POOLS[origin]
        first = firsts[int(rng.integers(len(firsts)))]
        last = lasts[int(rng.integers(len(lasts)))]
        key = fold_ascii(f"{first} {last}").lower()
        if first in _RESERVED_FIRST or key in seen:
            continue
        seen.add(key)
        names.append(PersonName(first, last, origin))
    return names


def vendor_names(name: PersonName) -> dict[str, str]:
    """The full name as each vendor writes it."""
    shown = {
        "NHL": name.full,
        "PLAYNOW": name.full,
        "UNABATED": fold_ascii(name.full),
        "ODDSSHARK": fold_ascii(name.full),
    }
    shown.update(dict(name.vendor_overrides))
    return shown


def boxscore_name(name: PersonName) -> dict[str, str]:
    """api-web `name` object: "F. Last"; Czech names ASCII by default with cs/sk variants."""
    short = f"{name.first[0]}. {name.last}"
    if name.origin == "cz" and fold_ascii(short) != short:
        return {"default": fold_ascii(short), "cs": short, "sk": short}
    return {"default": short}
