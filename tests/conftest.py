"""Shared fixtures. Tests never leave the machine: any socket to a non-loopback address fails."""

from __future__ import annotations

import ipaddress
import shutil
import socket
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from helpers.demo.server import Emulator

_real_connect = socket.socket.connect


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):  # unix sockets (kernels use them or tcp loopback)
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> object:
    if not _is_loopback(address):
        raise OSError(f"tests may only connect to loopback, not {address!r}")
    return _real_connect(self, address)


def pytest_configure(config: pytest.Config) -> None:
    """Register the notebook kernel once, before any worker starts: two xdist workers
    installing it at the same moment could each see the other's half-copied spec."""
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        from runner.kernel import DEFAULT_KERNEL, ensure_kernel

        ensure_kernel(DEFAULT_KERNEL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `first` (the ten-day demo: minutes) first, so that under xdist one
    worker runs them while the other works through everything else."""
    items.sort(key=lambda item: item.get_closest_marker("first") is None)  # stable


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


# ---- a warm demo world, built once per session ---------------------------------------------
# A 40-day demo season from 2025-11-01, the emulator's clock at the morning of 2025-12-01,
# and a template OPS_HOME holding that morning's capture and the stats of the season so far.
# Tests copy the template (`warm_home`), so none of them pays for the season refresh again
# and none sees another's writes.

WARM_SEASON = (date(2025, 11, 1), 40)
WARM_SLATE = date(2025, 12, 1)
WARM_MORNING = datetime(2025, 12, 1, 15, 0)


@pytest.fixture(scope="session")
def warm_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, Path]]:
    from helpers.core import db
    from helpers.nhl.warehouse import refresh_stats
    from helpers.odds.capture import capture

    template = tmp_path_factory.mktemp("warm-template")
    with Emulator(season_start=WARM_SEASON[0], days=WARM_SEASON[1]) as emu:
        emu.set_clock(WARM_MORNING)
        settings = emu.settings(template)
        con = db.connect(settings.paths.db_path)
        capture(con, settings, WARM_MORNING, run_id="warm-capture")
        report = refresh_stats(con, settings, WARM_SLATE, WARM_MORNING, run_id="warm-stats")
        con.close()
        assert report.error is None and report.games_loaded > 100, report.summary()
        yield emu, template


@pytest.fixture
def warm_home(warm_world: tuple[Emulator, Path], tmp_path: Path) -> tuple[Emulator, Path]:
    """The emulator (clock reset to the morning) and a fresh copy of the template home."""
    emu, template = warm_world
    emu.set_clock(WARM_MORNING)
    home = tmp_path / "home"
    shutil.copytree(template, home)
    return emu, home


@pytest.fixture(scope="module")
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """One demo emulator on 127.0.0.1 per test module. A module chooses its world with
    `EMULATOR_WORLD` (keyword arguments of `Emulator`, e.g. season_start and days) and its
    starting clock with `EMULATOR_CLOCK`; without them, the default world at its own clock."""
    world = getattr(request.module, "EMULATOR_WORLD", {})
    with Emulator(**world) as emu:
        clock = getattr(request.module, "EMULATOR_CLOCK", None)
        if clock is not None:
            emu.set_clock(clock)
        yield emu
