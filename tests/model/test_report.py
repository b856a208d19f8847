"""The production notebook's unmapped players: every one counted, per vendor and reason."""

from __future__ import annotations

import pandas as pd

from helpers.model.report import unmapped_players


def test_every_unmapped_player_is_counted_and_the_first_names_listed() -> None:
    keys = [f"k{i}" for i in range(8)]
    player_map = pd.DataFrame({
        "source_vendor": ["UNABATED"] * 8 + ["PLAYNOW"],
        "player_key_vendor": [*keys, "p1"],
        "player_id": [None] * 7 + [8478402, None],
        "reason": ["no_such_player"] * 6 + ["ambiguous", None, "team_mismatch"]})
    vendor_players = pd.DataFrame({
        "source_vendor": ["UNABATED"] * 8 + ["PLAYNOW"],
        "player_key_vendor": [*keys, "p1"],
        "player_name_raw": [f"Player {c}" for c in "GFEDCBAH"] + ["Travis O'Brien"],
        "player_team": ["TOR", None, None, None, None, None, "SEA", "EDM", None]})
    table = unmapped_players(player_map, vendor_players, examples=5)
    assert table.to_dict("records") == [
        {"source_vendor": "PLAYNOW", "reason": "team_mismatch", "players": 1,
         "names": "Travis O'Brien"},
        {"source_vendor": "UNABATED", "reason": "ambiguous", "players": 1,
         "names": "Player A (SEA)"},
        {"source_vendor": "UNABATED", "reason": "no_such_player", "players": 6,
         "names": "Player B, Player C, Player D, Player E, Player F and 1 more"}]


def test_no_unmapped_player_is_an_empty_table() -> None:
    player_map = pd.DataFrame({"source_vendor": ["PLAYNOW"], "player_key_vendor": ["p1"],
                               "player_id": [8478402], "reason": [None]})
    vendor_players = pd.DataFrame({"source_vendor": ["PLAYNOW"], "player_key_vendor": ["p1"],
                                   "player_name_raw": ["Connor McDavid"],
                                   "player_team": ["EDM"]})
    table = unmapped_players(player_map, vendor_players)
    assert table.empty and list(table.columns) == ["source_vendor", "reason", "players", "names"]
