"""Vendor players -> NHL player_id: folded names, aliases, boxscore initials, the team rules,
and never a merge of two same-named players."""

from __future__ import annotations

import pandas as pd

from helpers.nhl.identity import (
    ALIAS_NAME,
    AMBIGUOUS,
    EXACT_NAME,
    INITIAL_NAME,
    NO_GAME,
    NO_SUCH_PLAYER,
    PLAYER_MAP_COLUMNS,
    TEAM_MISMATCH,
    UNMAPPED,
    VENDOR_ID,
    fold_name,
    map_players,
    split_team_hint,
)

GAMES = pd.DataFrame({
    "game_id": [1, 2, 3],
    "home_team": ["CAR", "NJD", "SJS"],
    "away_team": ["NYI", "CAR", "BOS"],
})
EVENT_MAP = pd.DataFrame({
    "source_vendor": ["PLAYNOW", "PLAYNOW", "PLAYNOW", "PLAYNOW"],
    "event_id_vendor": ["car-nyi", "car-njd", "sjs-bos", "lost"],
    "game_id": pd.array([1, 2, 3, None], dtype="Int64"),
})
ROSTER = pd.DataFrame([
    (10, "S. Aho", "CAR"), (11, "S. Aho", "NYI"),          # boxscore names, as in dim_players
    (20, "Tomáš Hertl", "SJS"), (21, "Jérémy Beaulieu", "SJS"),
    (22, "Matthew Beckett", "BOS"), (23, "Arseny Gritsenko", "BOS"),
    (30, "J. Staal", "CAR"), (31, "J. Hughes", "NJD"),
    (40, "Nick Smith", "NJD"),                              # full name known
    (50, "O. Kase", "SJS"), (51, "O. Ekman-Larsson", "BOS"),
    (60, "D. Pastrnak", "BOS"),
], columns=["player_id", "name", "team"])


def vendor(*rows: tuple) -> pd.DataFrame:
    """(name, player_team, event) rows of one vendor; the key is the row's index."""
    return pd.DataFrame([("PLAYNOW", f"k{i}", name, team, None, event)
                         for i, (name, team, event) in enumerate(rows)],
                        columns=["source_vendor", "player_key_vendor", "player_name_raw",
                                 "player_team", "player_id_vendor", "event_id_vendor"])


def run(*rows: tuple) -> pd.DataFrame:
    return map_players(vendor(*rows), ROSTER, EVENT_MAP, GAMES)


def values(column: pd.Series) -> list:
    """The column as plain values, NULL (NaN, NA, None) as None."""
    return [None if pd.isna(x) else x for x in column]


def test_output_shape_one_row_per_input_in_order() -> None:
    got = run(("Tomas Hertl", None, "sjs-bos"), ("Nobody Here", None, "sjs-bos"))
    assert tuple(got.columns) == PLAYER_MAP_COLUMNS
    assert list(got["player_key_vendor"]) == ["k0", "k1"]
    assert str(got["player_id"].dtype) == "Int64"
    assert got["player_id"].iloc[0] == 20 and pd.isna(got["player_id"].iloc[1])


def test_accents_case_and_mangled_accents_match_exactly() -> None:
    got = run(("TOMAS HERTL", None, "sjs-bos"),
              ("Tomáš Hertl", None, "sjs-bos"),
              ("JÃ©rÃ©my Beaulieu", None, "sjs-bos"),           # UTF-8 read as Latin-1
              ("jeremy beaulieu", None, "sjs-bos"))
    assert list(got["player_id"]) == [20, 20, 21, 21]
    assert set(got["method"]) == {EXACT_NAME} and got["confidence"].eq(1.0).all()
    assert got["reason"].isna().all()


def test_nicknames_and_spelling_pairs_match_by_alias() -> None:
    got = run(("Matt Beckett", None, "sjs-bos"), ("Arseni Gritsenko", None, "sjs-bos"))
    assert list(got["player_id"]) == [22, 23]
    assert set(got["method"]) == {ALIAS_NAME} and got["confidence"].eq(0.95).all()


def test_boxscore_names_match_on_initial_and_last_name() -> None:
    got = run(("Ondřej Kaše", None, "sjs-bos"),              # roster 'O. Kase' (ASCII)
              ("Oliver Ekman-Larsson", None, "sjs-bos"),
              ("David Pastrňák", None, "sjs-bos"),
              ("Jordan Staal", None, "car-njd"))
    assert list(got["player_id"]) == [50, 51, 60, 30]
    assert set(got["method"]) == {INITIAL_NAME} and got["confidence"].eq(0.9).all()


def test_a_full_name_known_player_is_not_matched_by_initial() -> None:
    got = run(("Noah Smith", None, "car-njd"), ("Nicholas Smith", None, "car-njd"))
    assert values(got["reason"]) == [NO_SUCH_PLAYER, None]
    assert got["player_id"].iloc[1] == 40 and got["method"].iloc[1] == ALIAS_NAME


def test_two_sebastian_ahos_are_separated_by_team_never_merged() -> None:
    got = run(("Sebastian Aho (CAR)", None, "car-nyi"),      # suffix hint
              ("Sebastian Aho (NYI)", None, "car-nyi"),
              ("Sebastian Aho", "NYI", "car-nyi"),             # vendor team column
              ("Sebastian Aho", None, "car-nyi"),              # both in the game: no guess
              ("Sebastian Aho", None, "car-njd"))              # only CAR's Aho plays here
    assert values(got["player_id"]) == [10, 11, 11, None, 10]
    assert values(got["reason"]) == [None, None, None, AMBIGUOUS, None]
    assert got["method"].iloc[3] == UNMAPPED and pd.isna(got["confidence"].iloc[3])


def test_team_mismatch_when_the_player_or_the_hint_is_outside_the_game() -> None:
    got = run(("Jack Hughes", None, "sjs-bos"),               # NJD player, SJS-BOS game
              ("Sebastian Aho (TOR)", None, "car-nyi"),        # hint outside the game
              ("Jordan Staal", "NJD", "car-njd"),              # hint in game, player is CAR
              ("Jordan Staal (NJ)", None, "car-njd"))          # vendor code alias -> NJD
    assert list(got["reason"]) == [TEAM_MISMATCH] * 4
    assert got["player_id"].isna().all() and set(got["method"]) == {UNMAPPED}


def test_no_such_player_and_no_game() -> None:
    got = run(("Wayne Gretzky", None, "car-nyi"),
              ("Cher", None, "car-nyi"),                       # one token: no match
              ("Sebastian Aho (CAR)", None, "lost"),           # event unmapped
              ("Sebastian Aho (CAR)", None, "never-seen"),     # event not in the map
              (None, None, "car-nyi"))
    assert list(got["reason"]) == [NO_SUCH_PLAYER, NO_SUCH_PLAYER, NO_GAME, NO_GAME,
                                   NO_SUCH_PLAYER]
    assert got["player_id"].isna().all()


def test_name_helpers() -> None:
    assert split_team_hint("Sebastian Aho (CAR)") == ("Sebastian Aho", "CAR")
    assert split_team_hint("Adam Fox (NYR) ") == ("Adam Fox", "NYR")
    assert split_team_hint("John Doe (Jr)") == ("John Doe (Jr)", None)  # unknown suffix
    assert fold_name("JÃ©rÃ©my  O'Brien") == "jeremy o brien"
    assert fold_name("Åberg") == "aberg"                        # a real Å is not mojibake


# ---- known vendor ids first (Unabated personId -> player_id mapped on earlier days) --------

# The first day after a trade: Andrei Morozov (71) moved LAK -> DET but has not played for
# DET yet, so the roster (team of his latest game) still says LAK; DET's Artemi Morozov (70)
# has the same boxscore name.
TRADE_ROSTER = pd.concat([ROSTER, pd.DataFrame(
    [(70, "A. Morozov", "DET"), (71, "A. Morozov", "LAK"), (72, "M. Suzuki", "MTL")],
    columns=["player_id", "name", "team"])], ignore_index=True)
TRADE_GAMES = pd.concat([GAMES, pd.DataFrame({"game_id": [4], "home_team": ["DET"],
                                              "away_team": ["MTL"]})], ignore_index=True)
VENDOR_EVENTS = pd.concat(
    [EVENT_MAP.assign(source_vendor=v) for v in ("PLAYNOW", "UNABATED")]
    + [pd.DataFrame({"source_vendor": ["PLAYNOW", "UNABATED"],
                     "event_id_vendor": ["mtl-det", "mtl-det"],
                     "game_id": pd.array([4, 4], dtype="Int64")})], ignore_index=True)


def unabated(*rows: tuple) -> pd.DataFrame:
    """(person id, name, player_team, event) rows of Unabated: keyed by the person id."""
    return pd.DataFrame([("UNABATED", pid, name, team, pid, event)
                         for pid, name, team, event in rows],
                        columns=["source_vendor", "player_key_vendor", "player_name_raw",
                                 "player_team", "player_id_vendor", "event_id_vendor"])


def known(*pairs: tuple) -> pd.DataFrame:
    """(source_vendor, player_key_vendor, player_id) rows of map_players."""
    return pd.DataFrame(pairs, columns=["source_vendor", "player_key_vendor", "player_id"])


def run_known(players: pd.DataFrame, known_rows: pd.DataFrame | None) -> pd.DataFrame:
    return map_players(players, TRADE_ROSTER, VENDOR_EVENTS, TRADE_GAMES, known=known_rows)


def test_a_known_vendor_id_settles_what_the_name_cannot() -> None:
    rows = unabated(("u11", "Sebastian Aho", None, "car-nyi"),   # both Ahos play: ambiguous
                    ("u20", "Tommy Hertl", None, "sjs-bos"),     # a spelling no rule knows
                    ("u31", "Jack Hughes", None, "car-njd"))     # the name agrees
    assert values(run_known(rows, None)["reason"]) == [AMBIGUOUS, NO_SUCH_PLAYER, None]
    got = run_known(rows, known(("UNABATED", "u11", 11), ("UNABATED", "u20", 20),
                                ("UNABATED", "u31", 31)))
    assert list(got["player_id"]) == [11, 20, 31]
    assert set(got["method"]) == {VENDOR_ID} and got["confidence"].eq(1.0).all()
    assert got["reason"].isna().all()


def test_a_known_vendor_id_must_pass_the_team_rules() -> None:
    ids = known(("UNABATED", "u31", 31), ("UNABATED", "u11", 11), ("UNABATED", "u10", 10),
                ("UNABATED", "u99", 99))                        # 99: not on the roster
    got = run_known(unabated(("u31", "Jack Hughes", None, "sjs-bos"),  # NJD, SJS-BOS game
                             ("u11", "Sebastian Aho", "CAR", "car-nyi"),  # hint says CAR
                             ("u10", "Sebastian Aho", None, "car-nyi"),   # namesake plays: ok
                             ("u99", "Jordan Staal", None, "car-njd")), ids)
    assert values(got["player_id"]) == [None, None, 10, 30]
    # u11's id fails the team rules (the hint is CAR, 11 is NYI's Aho): the name rules
    # would pick CAR's Aho, a namesake of the player the id names - no guess either way
    assert values(got["reason"]) == [TEAM_MISMATCH, TEAM_MISMATCH, None, None]
    assert list(got["method"]) == [UNMAPPED, UNMAPPED, VENDOR_ID, INITIAL_NAME]


def test_a_known_vendor_id_contradicted_by_the_name_is_not_used() -> None:
    got = run_known(unabated(("u20", "Jeremy Beaulieu", None, "sjs-bos")),
                    known(("UNABATED", "u20", 20)))     # 20: Tomas Hertl, also in the game
    assert values(got["player_id"]) == [21] and got["method"].iloc[0] == EXACT_NAME


def test_first_day_after_a_trade_a_known_id_vetoes_the_namesake() -> None:
    """The name rules alone map Andrei to his new teammate Artemi (same 'A. Morozov'); his
    known Unabated id says he is 71, whom the stale roster keeps on LAK: unmapped."""
    andrei = unabated(("u71", "Andrei Morozov", None, "mtl-det"))
    assert values(run_known(andrei, None)["player_id"]) == [70]  # the wrong map
    got = run_known(andrei, known(("UNABATED", "u71", 71)))
    assert values(got["player_id"]) == [None] and values(got["reason"]) == [TEAM_MISMATCH]


def test_namesakes_on_one_team_stay_ambiguous_even_with_a_known_id() -> None:
    """Once both Morozovs are DET's, a known id cannot tell them apart: it was learned when
    only the roster team could, which the trade made stale (it may be the wrong map)."""
    roster = TRADE_ROSTER.assign(team=TRADE_ROSTER["team"].replace({"LAK": "DET"}))
    got = map_players(unabated(("u71", "Andrei Morozov", None, "mtl-det")), roster,
                      VENDOR_EVENTS, TRADE_GAMES, known=known(("UNABATED", "u71", 70)))
    assert values(got["player_id"]) == [None] and values(got["reason"]) == [AMBIGUOUS]


def test_name_keyed_rows_never_use_known() -> None:
    named = vendor(("Sebastian Aho", None, "car-nyi"))            # key 'k0', no vendor id
    named_unabated = unabated(("Sebastian Aho|", "Sebastian Aho", None, "car-nyi")).assign(
        player_id_vendor=None)
    got = run_known(pd.concat([named, named_unabated], ignore_index=True),
                    known(("PLAYNOW", "k0", 10), ("UNABATED", "Sebastian Aho|", 10)))
    assert got["player_id"].isna().all() and list(got["reason"]) == [AMBIGUOUS] * 2


def test_known_ids_that_disagree_are_not_trusted() -> None:
    rows = unabated(("u1", "Sebastian Aho", None, "car-nyi"),
                    ("u2", "Sebastian Aho", None, "car-nyi"))
    # two person ids -> one player (one is wrong), or one id -> two players
    for ids in (known(("UNABATED", "u1", 11), ("UNABATED", "u2", 11)),
                known(("UNABATED", "u1", 10), ("UNABATED", "u1", 11))):
        got = run_known(rows, ids)
        assert got["player_id"].isna().all() and set(got["reason"]) == {AMBIGUOUS}
    got = run_known(rows, known(("UNABATED", "u1", 10), ("UNABATED", "u1", 10),
                                ("UNABATED", "u2", 11)))          # one id in two events
    assert list(got["player_id"]) == [10, 11]


def test_two_vendor_players_of_one_game_never_map_to_one_player() -> None:
    """Name rules map both Morozovs of the vendor to Artemi (Andrei's roster team is stale):
    a merge, so neither maps. The same name twice (with and without a team) is one vendor
    player and maps."""
    got = run_known(vendor(("Andrei Morozov", None, "mtl-det"),
                           ("Artemi Morozov", None, "mtl-det"),
                           ("Mike Suzuki", None, "mtl-det"),
                           ("Michael Suzuki (MTL)", None, "mtl-det")), None)
    assert values(got["player_id"]) == [None, None, 72, 72]
    assert values(got["reason"]) == [AMBIGUOUS, AMBIGUOUS, None, None]
    got = run_known(unabated(("u1", "Sebastian Aho", "CAR", "car-nyi"),
                             ("u2", "Sebastian Aho", "CAR", "car-nyi")), None)
    assert got["player_id"].isna().all() and set(got["reason"]) == {AMBIGUOUS}
