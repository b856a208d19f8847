"""helpers.core.repairs: what a run left unfinished, and which rerun finished it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd

from helpers.core.repairs import run_repairs, step_repairs, unfinished_steps
from helpers.core.steps import readers_of

T0 = datetime(2025, 12, 4, 15, 0)
ALL = ("odds_ingestion", "production", "ev", "outcomes", "diagnostics")


def run(run_id: str, minutes: int, steps: dict[str, str], enabled=ALL,
        rerun_of: str | None = None, overall: str = "failed") -> list[dict]:
    start = T0 + timedelta(minutes=minutes)
    rows = [{"run_id": run_id, "step": "run", "status": overall, "started_ts_utc": start,
             "rerun_of": rerun_of,
             "parameters_json": json.dumps({"enabled": {s: s in enabled for s in ALL}})}]
    rows += [{"run_id": run_id, "step": step, "status": status, "started_ts_utc": start,
              "rerun_of": rerun_of, "parameters_json": None} for step, status in steps.items()]
    return rows


def frame(*runs: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([row for rows in runs for row in rows])


def test_never_started_steps_are_unfinished_and_steps_not_enabled_are_not() -> None:
    # Ctrl-C during production: no rows at all for the steps after it
    killed = frame(run("a", 0, {"odds_ingestion": "success", "production": "interrupted"}))
    assert unfinished_steps(killed) == ["production", "ev", "outcomes", "diagnostics"]
    # fail-fast: the later steps were skipped
    fast = frame(run("b", 0, {"odds_ingestion": "failed", "production": "skipped",
                              "ev": "skipped", "outcomes": "skipped", "diagnostics": "skipped"}))
    assert unfinished_steps(fast) == list(ALL)
    capture = frame(run("c", 0, {"odds_ingestion": "partial", "production": "skipped"},
                        enabled=("odds_ingestion",), overall="partial"))
    assert unfinished_steps(capture) == ["odds_ingestion"]
    render = frame(run("d", 0, {**{s: "success" for s in ALL}, "report": "failed"}))
    assert unfinished_steps(render) == ["report"]


def test_only_a_rerun_of_the_run_repairs_and_only_what_it_finished() -> None:
    morning = run("a", 0, {"odds_ingestion": "partial", **{s: "success" for s in ALL[1:]}},
                  overall="partial")
    pregame = run("b", 60, {"odds_ingestion": "success"}, enabled=("odds_ingestion",),
                  overall="success")
    assert run_repairs(frame(morning, pregame)) == {"a": None}
    still_partial = run("c", 90, {"odds_ingestion": "partial"}, rerun_of="a",
                        overall="partial")
    repairs = run_repairs(frame(morning, pregame, still_partial))
    assert repairs == {"a": None, "c": None}
    fixed = run("d", 120, {s: "success" for s in ALL}, rerun_of="c", overall="success")
    repairs = run_repairs(frame(morning, pregame, still_partial, fixed))
    assert repairs == {"a": "d", "c": "d"}  # through the chain a <- c <- d
    steps = step_repairs(frame(morning, pregame, still_partial, fixed))
    assert steps.set_index(["run_id", "step"]).loc[("a", "odds_ingestion"), "repaired_by"] == "d"


def test_a_run_is_repaired_only_when_every_unfinished_step_is() -> None:
    killed = run("a", 0, {"odds_ingestion": "success", "production": "interrupted"},
                 overall="interrupted")
    only_production = run("b", 30, {"production": "success"}, enabled=("production",),
                          rerun_of="a", overall="success")
    assert run_repairs(frame(killed, only_production)) == {"a": None}
    rest = run("c", 60, {s: "success" for s in ALL[1:]}, enabled=ALL[1:], rerun_of="a",
               overall="success")
    assert run_repairs(frame(killed, only_production, rest)) == {"a": "c"}
    # an earlier "rerun" cannot repair: it started before the failure
    before = run("z", -30, {"production": "success"}, enabled=("production",), rerun_of="a",
                 overall="success")
    assert run_repairs(frame(killed, before)) == {"a": None}


def test_a_step_is_followed_by_every_step_that_reads_what_it_writes() -> None:
    assert readers_of(["odds_ingestion"]) == ("production", "ev", "outcomes", "diagnostics")
    assert readers_of(["ev"]) == ("outcomes", "diagnostics")
    assert readers_of(["diagnostics"]) == ()
