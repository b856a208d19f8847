"""helpers.evidence.tables: every evidence figure equals the same count done independently
in pandas over the pipeline's tables, and writing a run's evidence twice adds nothing."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from helpers.core import db
from helpers.core.clock import ET
from helpers.core.slate import Slate
from helpers.ev.step import run_ev
from helpers.evidence.tables import collect, forecast_accuracy, write_evidence
from helpers.grading.accuracy import log_loss
from helpers.model.production import run_production

SLATE = date(2025, 12, 1)
MORNING = datetime(2025, 12, 1, 15, 0)


@pytest.mark.slow
def test_evidence_equals_independent_counts_and_is_written_once(warm_home) -> None:
    emu, home = warm_home  # the morning's capture and the season's stats
    settings = emu.settings(home)
    con = db.connect(settings.paths.db_path)
    run_production(con, settings, Slate(SLATE, MORNING), "r1")
    run_ev(con, settings, Slate(SLATE, MORNING), "r1")
    evidence = collect(con, Slate(SLATE, MORNING))

    odds = con.execute("SELECT * FROM fact_prop_odds").df()
    start_day = (pd.to_datetime(odds["event_start_ts_utc"]).dt.tz_localize("UTC")
                 .dt.tz_convert(ET).dt.date)
    capture_day = (pd.to_datetime(odds["capture_ts_utc"]).dt.tz_localize("UTC")
                   .dt.tz_convert(ET).dt.date)
    odds = odds[(start_day == SLATE) & (odds["capture_ts_utc"] <= MORNING)]
    today = odds[capture_day.loc[odds.index] == SLATE]
    expected = today.groupby(["source_vendor", "book_name_raw", "market_type"]).agg(
        n_rows=("line", "size"), n_events=("event_id_vendor", "nunique")).reset_index()
    got = evidence.coverage.rename(columns={"book_name": "book_name_raw"})
    merged = expected.merge(got, on=["source_vendor", "book_name_raw", "market_type"],
                            suffixes=("", "_got"))
    assert len(merged) == len(expected) == len(got) > 20
    assert (merged["n_rows"] == merged["n_rows_got"]).all()
    assert (merged["n_events"] == merged["n_events_got"]).all()

    # mapping: the share of the slate's vendor players mapped, per vendor
    odds["player_key_vendor"] = odds["player_id_vendor"].fillna(
        odds["player_name_raw"] + "|" + odds["player_team"].fillna(""))
    players = odds[["source_vendor", "event_id_vendor", "player_key_vendor"]].drop_duplicates()
    maps = con.execute("SELECT source_vendor, event_id_vendor, player_key_vendor, player_id "
                       "FROM map_players").df()
    joined = players.merge(maps, how="left")
    rate = joined.groupby("source_vendor")["player_id"].apply(lambda s: s.notna().mean())
    mapping = evidence.mapping[evidence.mapping["entity"] == "player"].set_index("source_vendor")
    assert np.allclose(mapping.loc[rate.index, "mapped_rate"], rate.to_numpy())
    assert (mapping["n_total"] == players.groupby("source_vendor").size()).all()

    # EV summary: the run's candidates, counted in pandas
    cands = con.execute("SELECT * FROM fact_ev_candidates WHERE run_id = 'r1'").df()
    by = cands.groupby(["source_vendor", "book_name", "market_type"])
    summary = evidence.ev_summary.set_index(["source_vendor", "book_name", "market_type"])
    assert (summary["n_candidates"] == by.size().loc[summary.index]).all()
    assert (summary["n_eligible"] == by["is_eligible"].sum().loc[summary.index]).all()
    assert np.allclose(summary["ev_max"], by["ev"].max().loc[summary.index])
    assert int(summary["n_eligible"].sum()) == int(cands["is_eligible"].sum()) > 0

    added = write_evidence(con, evidence, SLATE, "r1", MORNING)
    assert added["fact_odds_coverage_daily"] == len(evidence.coverage)
    again = write_evidence(con, evidence, SLATE, "r1", MORNING)
    assert set(again.values()) == {0}
    con.close()


def test_forecast_accuracy_rows_by_hand() -> None:
    scored = pd.DataFrame({
        "slate_date": [SLATE] * 4, "game_id": [1, 1, 1, 1], "player_id": [1, 2, 3, 4],
        "market_type": ["SOG"] * 4, "line": [2.5] * 4, "y": [1, 0, 1, 0],
        "p10-nhlapi": [0.8, 0.3, 0.6, 0.4], "market": [0.7, 0.4, np.nan, 0.5]})
    table = forecast_accuracy(scored, ["p10-nhlapi", "market"])
    own = table[table["scope"] == "own"].set_index("source")
    shared = table[table["scope"] == "shared"].set_index("source")
    assert own.loc["p10-nhlapi", "n"] == 4 and own.loc["market", "n"] == 3
    assert shared.loc["p10-nhlapi", "n"] == 3 and shared.loc["market", "n"] == 3
    assert own.loc["p10-nhlapi", "log_loss"] == pytest.approx(
        log_loss(np.array([0.8, 0.3, 0.6, 0.4]), np.array([1, 0, 1, 0])))
    assert shared.loc["p10-nhlapi", "log_loss"] == pytest.approx(
        log_loss(np.array([0.8, 0.3, 0.4]), np.array([1, 0, 0])))
    assert forecast_accuracy(scored.iloc[0:0], ["p10-nhlapi"]).empty
