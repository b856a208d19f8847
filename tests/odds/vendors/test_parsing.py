"""helpers.odds.vendors.parsing: the shared frame builder, tally, name/team split and the registry view
of the three parsers."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from helpers.odds.vendors import oddsshark, playnow, unabated, vendor_module
from helpers.odds.vendors.base import ODDS_COLUMNS, Rejections
from helpers.odds.vendors.parsing import (
    ODDS_DTYPES,
    Indexed,
    ParseResult,
    Tally,
    as_line,
    build_odds_frame,
    datetime_to_us,
    empty_odds_frame,
    gc_paused,
    parse_iso_utc,
    split_player_team,
)


def _spec(n: int) -> dict:
    spec = {c: "x" for c in ODDS_COLUMNS if ODDS_DTYPES[c] is ODDS_DTYPES["source_vendor"]}
    spec.update({
        "capture_ts_utc": datetime(2026, 1, 1, 12),
        "event_start_ts_utc": [datetime_to_us(datetime(2026, 1, 2)), None][:n],
        "line": np.full(n, 1.5), "odds_american": np.array([-110, 120][:n]),
        "odds_decimal": np.full(n, 1.9), "odds_american_derived": False,
        "odds_decimal_derived": True, "is_live": Indexed([True, False], np.array([1, 0][:n])),
        "player_id_vendor": None, "side": Indexed(["OVER", "UNDER"], np.array([0, 1][:n])),
    })
    return spec


def test_build_odds_frame_dtypes_broadcast_and_indexed() -> None:
    df = build_odds_frame(2, _spec(2))
    assert tuple(df.columns) == ODDS_COLUMNS
    for col in ODDS_COLUMNS:
        assert df[col].dtype == ODDS_DTYPES[col], col
    assert list(df["side"]) == ["OVER", "UNDER"]
    assert list(df["is_live"]) == [False, True]
    assert df["player_id_vendor"].isna().all()
    assert df["event_start_ts_utc"].iloc[0] == pd.Timestamp("2026-01-02")
    assert pd.isna(df["event_start_ts_utc"].iloc[1])
    assert (df["capture_ts_utc"] == pd.Timestamp("2026-01-01 12:00")).all()
    assert df["odds_american"].tolist() == [-110, 120]


def test_build_odds_frame_rejects_missing_or_extra_columns() -> None:
    spec = _spec(2)
    del spec["line"]
    with pytest.raises(ValueError, match="line"):
        build_odds_frame(2, spec)
    with pytest.raises(ValueError, match="bogus"):
        build_odds_frame(2, {**_spec(2), "bogus": 1})


def test_empty_frame_has_every_column_and_dtype() -> None:
    df = empty_odds_frame()
    assert len(df) == 0 and tuple(df.columns) == ODDS_COLUMNS
    for col in ODDS_COLUMNS:
        assert df[col].dtype == ODDS_DTYPES[col], col


def test_datetime_helpers() -> None:
    assert datetime_to_us(datetime(1970, 1, 1, 0, 0, 1)) == 1_000_000
    assert datetime_to_us(datetime(2026, 1, 1, 5, tzinfo=UTC)) == datetime_to_us(datetime(2026, 1, 1, 5))
    assert parse_iso_utc("2026-01-07T00:00:00Z") == datetime(2026, 1, 7)
    assert parse_iso_utc("2026-01-06T19:00:00-05:00") == datetime(2026, 1, 7)
    assert parse_iso_utc("2026-01-07T00:00:00") == datetime(2026, 1, 7)  # no offset = UTC
    assert parse_iso_utc("nope") is None and parse_iso_utc(None) is None and parse_iso_utc(5) is None


@pytest.mark.parametrize(
    ("value", "line"),
    [(1.5, 1.5), (2, 2.0), ("2.5", 2.5), (" 0.5 ", 0.5), (None, None), ("", None), ("x", None),
     (True, None), (float("nan"), None), (-0.5, None), (float("inf"), None), ([1.5], None)],
)
def test_as_line(value: object, line: float | None) -> None:
    assert as_line(value) == line


@pytest.mark.parametrize(
    ("text", "name", "team"),
    [("Sebastian Aho (CAR)", "Sebastian Aho", "CAR"),
     ("Sebastian Aho (NYI)", "Sebastian Aho", "NYI"),
     ("Sebastian Aho ( car )", "Sebastian Aho", "CAR"),
     ("Elias Lindholm (TB)", "Elias Lindholm", "TBL"),  # vendor alias -> NHL code
     ("Sebastian Aho (XYZ)", "Sebastian Aho (XYZ)", None),
     ("John Smith (Jr)", "John Smith (Jr)", None),
     ("  Jack   Hughes ", "Jack Hughes", None),
     ("K'Andre Miller", "K'Andre Miller", None)],
)
def test_split_player_team(text: str, name: str, team: str | None) -> None:
    assert split_player_team(text) == (name, team)


def test_tally_keeps_first_example_and_converts() -> None:
    t = Tally()
    t.add("bad_price", ("a", 1))
    t.add("bad_price", ("b", 2), 3)
    t.add("not_offered", "x", 0)  # n = 0 is a no-op
    rej = t.to_rejections()
    assert isinstance(rej, Rejections)
    assert rej.counts == {"bad_price": 4} and rej.examples == {"bad_price": "('a', 1)"}
    assert t.total() == 4


def test_parse_result_accounted() -> None:
    rej = Rejections()
    rej.add("bad_price", "x", 2)
    assert ParseResult(rows=empty_odds_frame(), rejections=rej, items=2).accounted
    assert not ParseResult(rows=empty_odds_frame(), rejections=rej, items=3).accounted


def test_gc_paused_restores_state_even_on_error() -> None:
    @gc_paused
    def boom() -> None:
        assert not gc.isenabled()
        raise RuntimeError("x")

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        boom()
    assert gc.isenabled()


def test_registry_modules_expose_parser_version_and_parse() -> None:
    for vendor, module, version in (("PLAYNOW", playnow, "playnow-1"),
                                    ("UNABATED", unabated, "unabated-1"),
                                    ("ODDSSHARK", oddsshark, "oddsshark-1")):
        assert vendor_module(vendor) is module
        assert version == module.PARSER_VERSION
        assert vendor == module.VENDOR
        assert callable(module.parse)
