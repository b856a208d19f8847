"""Fixtures for the demo-world tests: one league and one running emulator per session.
(tests/conftest.py already refuses any socket connection off the loopback interface.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers.demo import DEFAULT_SEED, Emulator, League, build_league
from helpers.demo.server import default_now


@pytest.fixture(scope="session")
def league() -> League:
    return build_league(DEFAULT_SEED)


@pytest.fixture(scope="session")
def _emulator() -> Iterator[Emulator]:
    with Emulator(seed=DEFAULT_SEED) as emu:
        yield emu


@pytest.fixture
def emu(_emulator: Emulator) -> Iterator[Emulator]:
    """The session emulator, with its clock reset and no faults, before and after a test."""
    _emulator.clear_faults()
    _emulator.set_clock(default_now(_emulator.league))
    yield _emulator
    _emulator.clear_faults()
    _emulator.set_clock(default_now(_emulator.league))
