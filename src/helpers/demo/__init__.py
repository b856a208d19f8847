"""The demo world: a seeded simulated NHL season and a local emulator of the vendors and
the NHL api-web (docs/architecture.md).

    from helpers.demo import Emulator, build_league
    league = build_league(seed=7, days=60)
    with Emulator(seed=7) as emu:
        ...  # point PLAYNOW/UNABATED/ODDSSHARK/NHL_API base URLs at emu.base_url
"""

from helpers.demo.league import (
    DEFAULT_DAYS,
    DEFAULT_SEASON_START,
    DEFAULT_SEED,
    GAME_LENGTH,
    Game,
    League,
    build_league,
)
from helpers.demo.server import Emulator, main

__all__ = ["DEFAULT_DAYS", "DEFAULT_SEASON_START", "DEFAULT_SEED", "GAME_LENGTH", "Emulator",
           "Game", "League", "build_league", "main"]
