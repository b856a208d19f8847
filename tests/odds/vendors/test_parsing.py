"""helpers.odds.vendors.parsing: the shared frame builder, tally, name/team split and the registry view
of the three parsers."""

from __future__ import annotations

import dataclasses
import gc
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from helpers.core.clock import iso_z, parse_iso_utc, to_naive_utc
from helpers.odds.vendors import oddsshark, playnow, unabated, vendor_module
from helpers.odds.vendors.base import ODDS_COLUMNS, RawPayload, Rejections
from helpers.odds.vendors.parsing import (
    ODDS_DTYPES,
    Event,
    EventOrRejection,
    Indexed,
    ParseResult,
    Rejection,
    Tally,
    as_line,
    build_odds_frame,
    build_odds_table,
    datetime_to_us,
    dictionary_array,
    empty_odds_frame,
    first_occurrences,
    frame_from_table,
    gc_paused,
    odds_frame,
    odds_table,
    split_player_team,
    str_take,
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


EST = timezone(timedelta(hours=-5))


def test_naive_utc_converts_aware_and_keeps_naive() -> None:
    assert to_naive_utc(datetime(2026, 1, 6, 19, 0, tzinfo=EST)) == datetime(2026, 1, 7, 0, 0)
    assert to_naive_utc(datetime(2026, 1, 7, 0, 0, 0, 5, tzinfo=UTC)) == datetime(2026, 1, 7, 0, 0, 0, 5)
    naive = datetime(2026, 1, 7, 12, 30)
    assert to_naive_utc(naive) is naive  # naive is UTC already: returned as is
    assert to_naive_utc(datetime(2026, 1, 6, 19, tzinfo=EST)).tzinfo is None


def test_iso_z_formats_utc_to_the_second_and_round_trips() -> None:
    assert iso_z(datetime(2026, 1, 6, 19, 0, tzinfo=EST)) == "2026-01-07T00:00:00Z"
    assert iso_z(datetime(2026, 1, 7, 0, 0, 59, 999_999, tzinfo=UTC)) == "2026-01-07T00:00:59Z"
    assert iso_z(datetime(2026, 1, 7, 3, 4, 5)) == "2026-01-07T03:04:05Z"  # naive = UTC
    moment = datetime(2026, 3, 9, 2, 15, 30)
    assert parse_iso_utc(iso_z(moment)) == moment


def test_event_or_rejection_is_one_of_two_frozen_types() -> None:
    event: EventOrRejection = Event("777", "DAL @ CAR", 1_767_744_000_000_000, "CAR", "DAL")
    rejected: EventOrRejection = Rejection("unknown_team", "eventTeams home=999->None")
    assert event.__class__ is Event and rejected.__class__ is Rejection
    assert isinstance(event, EventOrRejection) and isinstance(rejected, EventOrRejection)
    assert (event.event_id, event.home, event.away) == ("777", "CAR", "DAL")
    assert (rejected.reason, rejected.example) == ("unknown_team", "eventTeams home=999->None")
    assert rejected == Rejection("unknown_team", "eventTeams home=999->None")  # cacheable value
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.home = "NYR"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rejected.reason = "x"  # type: ignore[misc]


def _vendor_spec(n: int) -> dict:
    """Only the columns a vendor passes to odds_frame."""
    spec = {c: "x" for c in ODDS_COLUMNS if ODDS_DTYPES[c] is ODDS_DTYPES["source_vendor"]}
    for shared in ("source_vendor", "odds_quoted_format", "raw_payload_path", "raw_payload_hash",
                   "parser_version"):
        del spec[shared]
    spec.update({"event_start_ts_utc": [datetime_to_us(datetime(2026, 1, 7))] * n,
                 "line": np.full(n, 1.5), "is_live": False, "player_id_vendor": None})
    return spec


RAW = RawPayload(vendor="TEST", kind="k", body=b"{}", sha256="ab" * 32, path="raw/x.json",
                 capture_ts_utc=datetime(2026, 1, 6, 13, 30, tzinfo=EST))


def test_odds_frame_american_quotes_derive_decimal_and_fill_provenance() -> None:
    df = odds_frame(RAW, "UNABATED", "unabated-1", 2, _vendor_spec(2),
                    quoted_format="AMERICAN", prices=np.array([-120, 150], dtype=np.int64))
    assert tuple(df.columns) == ODDS_COLUMNS
    for col in ODDS_COLUMNS:
        assert df[col].dtype == ODDS_DTYPES[col], col
    assert df["odds_american"].tolist() == [-120, 150]
    assert df["odds_decimal"].tolist() == pytest.approx([1 + 100 / 120, 2.5])
    assert (df["odds_quoted_format"] == "AMERICAN").all()
    assert not df["odds_american_derived"].any() and df["odds_decimal_derived"].all()
    assert (df["capture_ts_utc"] == pd.Timestamp("2026-01-06 18:30")).all()  # aware -> naive UTC
    assert (df["source_vendor"] == "UNABATED").all() and (df["parser_version"] == "unabated-1").all()
    assert (df["raw_payload_path"] == "raw/x.json").all()
    assert (df["raw_payload_hash"] == "ab" * 32).all()


def test_odds_frame_decimal_quotes_derive_american() -> None:
    df = odds_frame(RAW, "PLAYNOW", "playnow-1", 2, _vendor_spec(2),
                    quoted_format="DECIMAL", prices=np.array([1.04, 2.5]))
    assert df["odds_american"].tolist() == [-2500, 150]
    assert df["odds_decimal"].tolist() == [1.04, 2.5]
    assert df["odds_american_derived"].all() and not df["odds_decimal_derived"].any()
    assert df["odds_american"].dtype == "Int64"


@pytest.mark.parametrize("quoted", ["AMERICAN", "DECIMAL"])
def test_odds_frame_empty(quoted: str) -> None:
    prices = np.empty(0, dtype=np.int64 if quoted == "AMERICAN" else np.float64)
    df = odds_frame(RAW, "V", "v-1", 0, _vendor_spec(0), quoted_format=quoted, prices=prices)
    assert len(df) == 0 and tuple(df.columns) == ODDS_COLUMNS
    for col in ODDS_COLUMNS:
        assert df[col].dtype == ODDS_DTYPES[col], col


def test_odds_frame_refuses_shared_columns_and_unknown_formats() -> None:
    with pytest.raises(ValueError, match="source_vendor"):
        odds_frame(RAW, "V", "v-1", 1, {**_vendor_spec(1), "source_vendor": "OTHER"},
                   quoted_format="AMERICAN", prices=np.array([-110]))
    with pytest.raises(ValueError, match="FRACTIONAL"):
        odds_frame(RAW, "V", "v-1", 1, _vendor_spec(1), quoted_format="FRACTIONAL",
                   prices=np.array([-110]))
    spec = _vendor_spec(1)
    del spec["line"]
    with pytest.raises(ValueError, match="line"):  # build_odds_frame still checks completeness
        odds_frame(RAW, "V", "v-1", 1, spec, quoted_format="AMERICAN", prices=np.array([-110]))


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


# ---- the Arrow rows: the same values as the frame, column for column


def _table_spec(n: int) -> dict:
    spec = _spec(n)
    spec.update({
        "event_name_raw": Indexed(["A at B", None, "A at B"], np.array([2, 1, 0][:n])),
        "line": np.array([1.5, np.nan, 0.5][:n]),
        "odds_american": [-110, None, 120][:n],
        "vendor_outcome_key": ["k1", None, "k3"][:n],
    })
    return spec


@pytest.mark.parametrize("n", [0, 1, 2])
def test_build_odds_table_holds_what_the_frame_holds(n: int) -> None:
    spec = _table_spec(n)
    frame = build_odds_frame(n, spec)
    table = build_odds_table(n, spec)
    assert table.column_names == list(ODDS_COLUMNS) and table.num_rows == n
    # what DuckDB is given for the frame (Arrow from pandas) == the table, dictionaries decoded
    decoded = pa.table([c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c
                        for c in table.columns], names=table.column_names)
    assert decoded.equals(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata())
    # and the frame a ParseResult builds from the table is the frame
    pd.testing.assert_frame_equal(frame_from_table(table), frame, check_exact=True)


def test_odds_table_is_odds_frame_as_arrow() -> None:
    args = (RAW, "UNABATED", "unabated-1", 2, _vendor_spec(2))
    prices = np.array([-120, 150], dtype=np.int64)
    table = odds_table(*args, quoted_format="AMERICAN", prices=prices)
    frame = odds_frame(*args, quoted_format="AMERICAN", prices=prices)
    pd.testing.assert_frame_equal(frame_from_table(table), frame, check_exact=True)


def test_dictionary_array_gives_each_value_once_and_none_as_null() -> None:
    arr = dictionary_array(["b", "a", None, "b"], np.array([0, 3, 2, 1, 0]))
    assert arr.to_pylist() == ["b", "b", None, "a", "b"]
    assert arr.dictionary.to_pylist() == ["b", "a"]
    assert arr.type.index_type == pa.int32()
    assert arr.cast(pa.large_string()).equals(str_take(["b", "a", None, "b"], [0, 3, 2, 1, 0]))
    with pytest.raises(IndexError):
        dictionary_array(["a"], np.array([1]))
    assert dictionary_array([], np.array([], dtype=np.int64)).to_pylist() == []


def test_first_occurrences_matches_np_unique() -> None:
    values = np.array([-110, 120, -110, 5, 120, 7, 5], dtype=np.int64)
    first, codes = first_occurrences(values)
    assert first.tolist() == [0, 1, 3, 5]
    assert codes.tolist() == [0, 1, 0, 2, 1, 3, 2]
    assert (values[first][codes] == values).all()
    _, np_first = np.unique(values, return_index=True)
    assert sorted(first.tolist()) == sorted(np_first.tolist())
    empty_first, empty_codes = first_occurrences(np.array([], dtype=np.int64))
    assert len(empty_first) == 0 and len(empty_codes) == 0


def test_parse_result_from_a_table_builds_its_frame_on_demand() -> None:
    table = build_odds_table(2, _table_spec(2))
    result = ParseResult(table, Rejections(), items=2)
    assert result.table is table and result.n_rows == 2 and result.accounted
    pd.testing.assert_frame_equal(result.head(1), frame_from_table(table).head(1))
    assert len(result.rows) == 2 and result.rows is result.rows  # built once
    frame = build_odds_frame(2, _table_spec(2))
    from_frame = ParseResult(frame, Rejections(), items=2)
    assert from_frame.rows is frame and from_frame.n_rows == 2
    assert from_frame.table.num_rows == 2
