"""Build PlayNow content-service JSON (``/events-by-ids`` shape, docs/domain.md) from the real
price list ``tests/fixtures/playnow/playnow_CAR_at_NJD_2026-01-04_prices.csv``.

The CSV holds every priced outcome of one real PlayNow event page (market, outcome, handicap,
price_decimal). This function turns it into the JSON the parser reads: one event, one market
per distinct market name (CSV order), one outcome per CSV row with a deterministic id, so a test
can map every CSV row to its outcome id. The generated file
``events_by_ids_CAR_at_NJD_2026-01-04.json`` is committed next to the CSV; a test regenerates it
and checks they are identical.

Regenerate:  .venv/bin/python -m tests.odds.vendors.playnow_fixture
"""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import orjson

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "playnow"
CSV_PATH = FIXTURES / "playnow_CAR_at_NJD_2026-01-04_prices.csv"
JSON_PATH = FIXTURES / "events_by_ids_CAR_at_NJD_2026-01-04.json"

EVENT_ID = 11234567  # PlayNow's id is not in the CSV; any stable number will do
EVENT_NAME = "Carolina Hurricanes at New Jersey Devils"
START_TIME = "2026-01-05T00:00:00Z"  # NHL 2025020660, 2026-01-04 7:00 PM ET (assumed)
MARKET_ID0 = 300_000_000
OUTCOME_ID0 = 900_000_000


def read_csv(path: Path = CSV_PATH) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def outcome_id(row_index: int) -> str:
    """The outcome id given to CSV row ``row_index`` (0-based, header excluded)."""
    return str(OUTCOME_ID0 + row_index)


def build_events_by_ids(rows: list[dict[str, str]] | None = None) -> dict:
    rows = read_csv() if rows is None else rows
    markets: dict[str, dict] = {}
    for i, row in enumerate(rows):
        name = row["market"]
        if name not in markets:
            market = {"id": str(MARKET_ID0 + len(markets)), "name": name, "outcomes": []}
            if row["handicap"]:
                market["handicapValue"] = float(row["handicap"])
            markets[name] = market
        price = Fraction(row["price_decimal"])
        frac = (price - 1).limit_denominator(1000)
        markets[name]["outcomes"].append({
            "id": outcome_id(i),
            "name": row["outcome"],
            "prices": [{
                "decimal": float(row["price_decimal"]),
                "numerator": frac.numerator,
                "denominator": frac.denominator,
            }],
        })
    event = {
        "id": EVENT_ID,
        "name": EVENT_NAME,
        "startTime": START_TIME,
        "marketCount": len(markets),
        "markets": list(markets.values()),
    }
    return {"data": {"events": [event]}}


def render(doc: dict) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


if __name__ == "__main__":
    JSON_PATH.write_bytes(render(build_events_by_ids()))
    print(f"wrote {JSON_PATH}")
