"""The demo world: a seeded simulated league and a local emulator of the vendors and NHL api-web."""
