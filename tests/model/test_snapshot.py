"""build_snapshot: standard plus priced lines, probabilities, skipped players kept apart."""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest

from helpers.core import db
from helpers.model.snapshot import SNAPSHOT_COLUMNS, SNAPSHOT_KEY, build_snapshot

MUS = pd.DataFrame({
    "game_id": [1, 1, 1],
    "player_id": [10, 10, 11],
    "market_type": ["SOG", "GOALS", "SOG"],
    "mu": [2.6, 0.31, float("nan")],
    "games_used": [20, 10, 3],
    "m_opponent": [1.02, 0.98, 1.0],
    "m_b2b": [1.0, 1.0, 1.0],
    "model_version": ["p10-nhlapi"] * 3,
    "reason": [None, None, "min_games"],
})
PRICED = pd.DataFrame({"game_id": [1, 1, 1], "player_id": [10, 10, 99],
                       "market_type": ["SOG", "SOG", "SOG"], "line": [3.0, 2.5, 2.5]})


def snapshot():
    return build_snapshot(MUS, PRICED, snapshot_id="s1", snapshot_ts_utc=datetime(2025, 12, 1, 15),
                          slate_date=date(2025, 12, 1), run_id="r1")


def test_standard_and_priced_lines_for_priced_players_only() -> None:
    snap = snapshot()
    rows = snap.rows
    assert list(rows.columns) == list(SNAPSHOT_COLUMNS)
    sog = rows[(rows.player_id == 10) & (rows.market_type == "SOG")]
    assert list(sog["line"]) == [1.5, 2.5, 3.0, 3.5, 4.5]  # standard + the priced 3.0, once
    assert list(rows[rows.market_type == "GOALS"]["line"]) == [0.5]
    assert 11 not in set(rows.player_id) and 99 not in set(rows.player_id)
    assert snap.skipped.to_dict("records") == [{"game_id": 1, "player_id": 11,
                                                "market_type": "SOG",
                                                "model_version": "p10-nhlapi",
                                                "reason": "min_games"}]
    assert not rows.duplicated(list(SNAPSHOT_KEY)).any()


def test_probabilities_pushes_and_multipliers() -> None:
    rows = snapshot().rows
    total = rows["p_over"] + rows["p_under"] + rows["p_push"]
    assert (total - 1).abs().max() < 1e-9
    three = rows[(rows.market_type == "SOG") & (rows.line == 3.0)].iloc[0]
    assert three["p_push"] > 0.1 and three["distribution"] == "negbin" and three["alpha"] == 0.35
    assert (rows.loc[rows.line % 1 == 0.5, "p_push"] == 0).all()
    over = rows[(rows.market_type == "SOG")].sort_values("line")["p_over"].tolist()
    assert over == sorted(over, reverse=True)  # a higher line is less likely to go over
    assert json.loads(three["multipliers_json"]) == {"m_b2b": 1.0, "m_opponent": 1.02}
    assert set(rows["games_used"]) == {20, 10}


def test_rows_insert_into_the_table_as_they_are(tmp_path) -> None:
    con = db.connect(tmp_path / "ops.duckdb")
    rows = snapshot().rows
    assert db.insert_new_rows(con, "fact_prob_snapshot", rows, SNAPSHOT_KEY) == len(rows)
    assert db.insert_new_rows(con, "fact_prob_snapshot", rows, SNAPSHOT_KEY) == 0
    con.close()


def test_missing_model_columns_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        build_snapshot(MUS.drop(columns="reason"), PRICED, snapshot_id="s",
                       snapshot_ts_utc=datetime(2025, 12, 1), slate_date=date(2025, 12, 1),
                       run_id=None)
