"""A week of the demo world through capture + production: the vendor players map to the
emulator's truth - at least 98% of them, and none to the wrong NHL player.

Seven consecutive slates from 2025-10-25 in a 40-day demo season (seed 2025, from
2025-10-07), whose mid-season trade is on 2025-10-27: the week spans it. The traded forward
Andrei Morozov joins DET, which already has Artemi Morozov - both "A. Morozov" in the
boxscores - and the first days after the trade the warehouse still has Andrei on his old
team. Each morning (15:00 UTC) a capture of
every vendor, then `run_production`, on one database. Each slate's vendor players - one per
(vendor, player key, event), as production maps them - are compared with
`/_emulator/truth/players`: Unabated rows by person id, the others by the vendor's name for
the player plus his team on the slate date (one of the game's teams, and the vendor's team
hint when it gives one).

Speed: the emulator's rendering of the vendor payloads is most of a capture, so two
emulators of the same world run as subprocesses (the module's own CLI) and take turns: while
one serves day i, the other already renders day i + 1 (fetched once and discarded; the
emulator caches a response per clock), on the second core.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import requests

from helpers.core import db
from helpers.core.errors import VendorError
from helpers.core.http import VendorClient
from helpers.core.settings import Settings, load_settings
from helpers.core.slate import Slate
from helpers.model.production import run_production
from helpers.odds.capture import capture
from helpers.odds.vendors import vendor_module

pytestmark = pytest.mark.slow  # two loopback emulators, real HTTP, ~45 s

FIRST_SLATE = date(2025, 10, 25)
DAYS = 7
SEASON_DAYS = 40  # moves the trade to 2025-10-27, inside the week
MORNING_UTC_HOUR = 15
MIN_MAPPED_SHARE = 0.98
MIN_CHECKED = 3000  # ~5,450 vendor players a week; an empty or truncated week fails


def morning(slate: date) -> datetime:
    return datetime(slate.year, slate.month, slate.day, MORNING_UTC_HOUR)


class EmulatorProcess:
    """`python -m helpers.demo.server` (seed 2025, SEASON_DAYS, 127.0.0.1, ephemeral port)."""

    def __init__(self, now: datetime):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "helpers.demo.server", "--days", str(SEASON_DAYS),
             "--now", now.isoformat()],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.base_url = (self.proc.stdout.readline() if self.proc.stdout else "").strip()
        if not self.base_url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"emulator did not start: {self.base_url!r}")
        self.warming: threading.Thread | None = None

    def set_clock(self, now: datetime) -> None:
        requests.post(f"{self.base_url}/_emulator/clock", json={"now": now.isoformat()},
                      timeout=10).raise_for_status()

    def settings(self, home: Path) -> Settings:
        return load_settings({"OPS_HOME": str(home), "HTTP_BACKOFF_SECONDS": "0",
                              **{f"{v}_BASE_URL": self.base_url
                                 for v in ("PLAYNOW", "UNABATED", "ODDSSHARK", "NHL_API")}})

    def warm(self, now: datetime, home: Path) -> None:
        """Set the clock and, in the background, make every vendor request a capture at
        `now` will make (same requests, so the capture hits the emulator's cache)."""
        self.wait()
        self.set_clock(now)
        settings = self.settings(home)

        def fetch_all() -> None:
            for vendor in settings.vendors.enabled:
                module = vendor_module(vendor)
                client = VendorClient(settings, vendor, headers=module.request_headers(settings))
                # a failure here is the capture's to meet and report
                with contextlib.suppress(VendorError, OSError), client:
                    for _ in module.fetch(client):
                        pass

        self.warming = threading.Thread(target=fetch_all, daemon=True)
        self.warming.start()

    def wait(self) -> None:
        if self.warming is not None:
            self.warming.join()
            self.warming = None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


def run_week(tmp_path: Path) -> tuple[list[tuple[date, object]], dict]:
    """(slate, ProductionResult) per day, and the truth players payload."""
    slates = [FIRST_SLATE + timedelta(days=i) for i in range(DAYS)]
    emulators: list[EmulatorProcess] = []
    try:
        emulators = [EmulatorProcess(morning(slates[0])), EmulatorProcess(morning(slates[1]))]
        for i in range(2):
            emulators[i].warm(morning(slates[i]), tmp_path / f"warm{i}")
        con = db.connect(emulators[0].settings(tmp_path).paths.db_path)
        results = []
        for i, slate in enumerate(slates):
            emu = emulators[i % 2]
            emu.wait()
            settings = emu.settings(tmp_path)
            reports = capture(con, settings, morning(slate), run_id=f"capture-{i}")
            assert all(r.status == "success" for r in reports), [
                (r.vendor, r.status, r.error) for r in reports]
            result = run_production(con, settings, Slate(slate, morning(slate)), f"production-{i}")
            assert result.refresh.error is None, result.summary()
            results.append((slate, result))
            if i + 2 < len(slates):
                emu.warm(morning(slates[i + 2]), tmp_path / f"warm{i % 2}")
        con.close()
        truth = requests.get(f"{emulators[0].base_url}/_emulator/truth/players",
                             timeout=30).json()
    finally:
        for emu in emulators:
            emu.wait()
            emu.stop()
    return results, truth


def true_player_ids(results: list, truth: dict) -> pd.DataFrame:
    """Every vendor player of every slate with its mapping and the truth: true_id (NA when
    the vendor's own row is ambiguous: one name for two players of the game) and
    n_true (how many players the vendor row can be)."""
    by_person = {str(p["unabated_person_id"]): p for p in truth["players"]}
    by_name: dict[tuple[str, str], list[dict]] = {}
    for p in truth["players"]:
        for vendor, shown in p["vendor_names"].items():
            by_name.setdefault((vendor, shown), []).append(p)

    def team_on(player: dict, slate: date) -> str:
        return [h["team"] for h in player["team_history"]
                if h["from"] <= slate.isoformat()][-1]

    frames = []
    for slate, result in results:
        players = result.vendor_players.reset_index(drop=True)
        mapped = result.player_map.reset_index(drop=True)
        assert (players[["source_vendor", "player_key_vendor", "event_id_vendor"]]
                .equals(mapped[["source_vendor", "player_key_vendor", "event_id_vendor"]]))
        game_of = {(v, str(e)): g for v, e, g in result.event_map[
            ["source_vendor", "event_id_vendor", "game_id"]].itertuples(index=False)}
        teams_of = {int(g.game_id): {g.home_team, g.away_team}
                    for g in result.slate_games.itertuples(index=False)}
        true_ids, counts = [], []
        for row in players.itertuples(index=False):
            if row.source_vendor == "UNABATED" and isinstance(row.player_id_vendor, str):
                people = [by_person[row.player_id_vendor]]
            else:
                game_id = game_of.get((row.source_vendor, str(row.event_id_vendor)))
                teams = teams_of.get(int(game_id)) if not pd.isna(game_id) else None
                hint = row.player_team if isinstance(row.player_team, str) else None
                people = [p for p in by_name.get((row.source_vendor, row.player_name_raw), [])
                          if (teams is None or team_on(p, slate) in teams)
                          and hint in (None, team_on(p, slate))]
            true_ids.append(people[0]["player_id"] if len(people) == 1 else None)
            counts.append(len(people))
        frames.append(players.assign(slate=slate, player_id=mapped["player_id"],
                                     method=mapped["method"], reason=mapped["reason"],
                                     true_id=pd.array(true_ids, dtype="Int64"),
                                     n_true=counts))
    return pd.concat(frames, ignore_index=True)


def test_a_week_of_vendor_players_maps_to_the_truth(tmp_path: Path) -> None:
    started = time.perf_counter()
    results, truth = run_week(tmp_path)
    rows = true_player_ids(results, truth)
    elapsed = time.perf_counter() - started

    assert len(results) == DAYS and all(len(r.slate_games) > 0 for _, r in results)
    assert not (rows["n_true"] == 0).any(), rows[rows["n_true"] == 0].to_string()
    vendor_ambiguous = rows[rows["n_true"] > 1]  # e.g. OddsShark's one 'Sebastian Aho' row
    checked = rows[rows["n_true"] == 1]
    is_mapped = checked["player_id"].notna()
    wrong = checked[is_mapped & (checked["player_id"] != checked["true_id"])]
    share = is_mapped.mean()
    per_key = checked.assign(mapped=is_mapped).groupby(["source_vendor", "player_key_vendor"])
    print(f"\nweek {FIRST_SLATE}..{results[-1][0]}: {len(checked)} vendor players on "
          f"{DAYS} slates, {int(is_mapped.sum())} mapped ({share:.4%}), {len(wrong)} wrong; "
          f"{len(vendor_ambiguous)} vendor rows naming two players left out; "
          f"{per_key.ngroups} distinct (vendor, key), {per_key['mapped'].all().mean():.2%} "
          f"mapped on every slate; {elapsed:.1f} s")
    print("mapped share per vendor:",
          checked.assign(mapped=is_mapped).groupby("source_vendor")["mapped"].mean()
          .round(4).to_dict())
    print("unmapped reasons:", dict(Counter(checked.loc[~is_mapped, "reason"])))
    print("methods:", dict(Counter(checked.loc[is_mapped, "method"])))

    assert set(checked["source_vendor"]) == {"PLAYNOW", "UNABATED", "ODDSSHARK"}
    assert len(checked) >= MIN_CHECKED, len(checked)
    assert len(vendor_ambiguous) <= 0.001 * len(rows), vendor_ambiguous.to_string()
    assert wrong.empty, wrong[["slate", "source_vendor", "player_name_raw", "player_team",
                               "player_id", "true_id", "method"]].to_string()
    assert share >= MIN_MAPPED_SHARE, (share, dict(Counter(checked.loc[~is_mapped, "reason"])))
    # the week spans the trade, and the traded player was priced after it
    trade = truth["trade"]
    assert FIRST_SLATE.isoformat() < trade["date"] <= results[-1][0].isoformat()
    traded = checked[checked["true_id"].isin(trade["player_ids"])
                     & (checked["slate"] >= date.fromisoformat(trade["date"]))]
    assert len(traded) > 0
