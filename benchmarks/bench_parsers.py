"""Parser throughput: Unabated (large synthetic propodds.json), PlayNow, OddsShark.

Run:  .venv/bin/python benchmarks/bench_parsers.py [--props 3000] [--repeat 5]

The Unabated payload is generated in the real propodds.json format (people, marketSources,
teams, odds{"lg6:pt1:pregame": [prop...]}, sides si0/si1 -> ms<id> -> price objects with
alternateLines) at the bar's size: ~3,000 props, ~120k price objects, ~150k rows after
alternates, ~24 MB. The parse is timed end to end (bytes -> DataFrame), median of N runs,
and compared with a naive baseline in the same run (json.loads + one dict per row +
DataFrame.from_records). PlayNow and OddsShark are timed on synthetic pages in their formats.
Figures are printed; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
from datetime import datetime

import orjson
import pandas as pd
from result_line import emit, figure

from helpers.core.teams import TEAMS, full_name
from helpers.odds.vendors import oddsshark, playnow, unabated
from helpers.odds.vendors.base import RawPayload

CAPTURE = datetime(2026, 1, 7, 15, 0, 0)
CODES = sorted(TEAMS)
FIRST = ["Alex", "Sebastian", "Matt", "Nikolaj", "Jack", "Luke", "Timo", "Jesper", "Dawson",
         "Logan", "Andrei", "Nico", "Taylor", "Jordan", "Sean", "Brett", "Cody", "Joel", "Eric"]
LAST = ["Aho", "Hughes", "Ehlers", "Meier", "Bratt", "Mercer", "Stankoven", "Svechnikov",
        "Hischier", "Hall", "Staal", "Walker", "Pesce", "Glass", "Nyström", "Robinson", "Brown"]


# --------------------------------------------------------------------------- Unabated


def make_unabated(n_props: int = 3000, n_books: int = 20, alt_share: float = 0.25,
                  seed: int = 7) -> bytes:
    rng = random.Random(seed)
    books = [{"id": i, "name": f"Book {i}", "statusId": 1} for i in range(1, n_books + 1)]
    books[0]["name"], books[1]["name"] = "DraftKings", "FanDuel"
    books[2]["name"], books[3]["name"] = "Underdog Fantasy", "Unabated"
    books.append({"id": 999, "name": "Dead Book", "statusId": 2})
    teams = {str(700 + i): {"abbreviation": c, "name": full_name(c)} for i, c in enumerate(CODES)}
    bet_types = [70, 73, 86, 88, 129]
    players_per_game = 40
    n_games = max(1, n_props // (players_per_game * len(bet_types)) + 1)
    people: dict[str, dict] = {}
    props = []
    pid = 10_000
    line_id = 1
    for g in range(n_games):
        home, away = rng.sample(range(len(CODES)), 2)
        start = f"2026-01-08T{(23 + g % 4) % 24:02d}:{(g * 7) % 60:02d}:00Z"
        for _ in range(players_per_game):
            pid += 1
            people[str(pid)] = {"firstName": rng.choice(FIRST), "lastName": rng.choice(LAST)}
            team = 700 + rng.choice((home, away))
            for bt in bet_types:
                if len(props) >= n_props:
                    break
                base_pts = {70: 0.5, 73: 0.5, 86: 2.5, 88: 1.5, 129: 0.5}[bt]
                sides = {}
                for si in (0, 1):
                    side = {}
                    for b in books[:n_books]:
                        over = rng.randint(-250, 200)
                        over = over if abs(over) >= 100 else 100 + abs(over)
                        price = {
                            "points": base_pts,
                            "americanPrice": over if si == 0 else -over + rng.randint(-30, 0),
                            "marketLineId": line_id,
                            "isBlurred": rng.random() < 0.02,
                            "alternateLines": [],
                            "price": over,
                            "sourcePrice": over,
                            "sourceFormat": 1,
                            "modifiedOn": f"2026-01-07T14:{line_id % 60:02d}:12.{line_id % 1000:03d}Z",
                        }
                        if abs(price["americanPrice"]) < 100:
                            price["americanPrice"] = -110
                        line_id += 1
                        if rng.random() < alt_share:
                            price["alternateLines"].append({
                                "points": base_pts + 1.0,
                                "americanPrice": rng.choice([150, 175, 210, -120]),
                                "marketLineId": line_id,
                            })
                            line_id += 1
                        side[f"ms{b['id']}"] = price
                    sides[f"si{si}:pid{pid}"] = side
                props.append({
                    "eventId": 50_000 + g,
                    "personId": pid,
                    "teamId": team,
                    "betTypeId": bt,
                    "betSubType": None,
                    "statusId": 1,
                    "eventStart": start,
                    "eventName": f"{CODES[away]} @ {CODES[home]}",
                    "eventTeams": {"0": {"id": 700 + away}, "1": {"id": 700 + home}},
                    "live": False,
                    "sides": sides,
                })
    doc = {"people": people, "marketSources": books, "teams": teams,
           "odds": {"lg6:pt1:pregame": props}, "lastUpdated": 1767800000}
    return orjson.dumps(doc)


def naive_unabated(body: bytes) -> pd.DataFrame:
    """The obvious implementation: json.loads, one dict per row, DataFrame.from_records."""
    doc = json.loads(body)
    books = {f"ms{b['id']}": b for b in doc["marketSources"] if b["statusId"] in (1, 3)}
    records = []
    for prop in doc["odds"]["lg6:pt1:pregame"]:
        person = doc["people"][str(prop["personId"])]
        for side_key, side in prop["sides"].items():
            for ms, price in side.items():
                if ms not in books or price.get("isBlurred"):
                    continue
                for p in [price, *(price.get("alternateLines") or [])]:
                    a = p.get("americanPrice")
                    if a is None or p.get("points") is None or p.get("isBlurred"):
                        continue
                    records.append({
                        "player": f"{person['firstName']} {person['lastName']}",
                        "market": prop["betTypeId"], "side": side_key[:3], "line": p["points"],
                        "book": books[ms]["name"], "odds_american": a,
                        "odds_decimal": 1 + a / 100 if a > 0 else 1 + 100 / -a,
                        "event": str(prop["eventId"]),
                    })
    return pd.DataFrame.from_records(records)


# --------------------------------------------------------------------------- PlayNow


def make_playnow(n_events: int = 12, players: int = 30, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    events = []
    oid = 1
    for e in range(n_events):
        home, away = rng.sample(CODES, 2)
        markets = []
        for p in range(players):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}{p}"
            for stat, line in (("Points", 0.5), ("Assists", 0.5), ("Shots On Goal", 2.5),
                               ("Blocks", 1.5), ("Powerplay Points", 0.5)):
                outs = []
                for side in ("Over", "Under"):
                    d = round(rng.uniform(1.3, 3.5), 2)
                    outs.append({"id": str(oid), "name": side,
                                 "prices": [{"decimal": d, "numerator": 1, "denominator": 1}]})
                    oid += 1
                markets.append({"id": f"m{oid}", "name": f"{name} Total {stat} {line}",
                                "handicapValue": line, "outcomes": outs})
            ladder = [{"id": str(oid + k), "name": f"{k + 1}+",
                       "prices": [{"decimal": round(1.05 + k * 0.9, 2)}]} for k in range(4)]
            oid += 4
            markets.append({"id": f"m{oid}", "name": f"{name} Total Shots on Goal", "outcomes": ladder})
        markets.append({"id": f"g{e}", "name": "Player 1+ Goals", "outcomes": [
            {"id": str(oid + k), "name": f"Player {k}", "prices": [{"decimal": 3.0 + k / 10}]}
            for k in range(players)]})
        oid += players
        events.append({"id": 1000 + e, "name": f"{full_name(away)} at {full_name(home)}",
                       "startTime": "2026-01-08T00:00:00Z", "marketCount": len(markets),
                       "markets": markets})
    return orjson.dumps({"data": {"events": events}})


# --------------------------------------------------------------------------- OddsShark


def make_oddsshark(n_games: int = 12, players: int = 20, seed: int = 5) -> bytes:
    rng = random.Random(seed)
    tabs = ["GOALS", "ASSISTS", "POINTS", "SHOTS ON GOAL", "BLOCKED SHOTS", "POWER PLAY POINTS"]
    books = ["pinnacle logo", "Betway Logo", "bet99", "DraftKings logo", "FanDuel logo", "BetMGM logo"]
    header = ('<div class="player-props--header"><div class="player-props--item">Player</div>'
              '<div class="player-props--item">Best Odds</div>'
              + "".join(f'<div class="player-props--item"><img alt="{b}" src="x.png"></div>' for b in books)
              + "</div>")
    games = [(rng.sample(CODES, 2), f"{rng.choice([7, 8, 9, 10])}:{rng.choice(['00', '30'])} PM ET")
             for _ in range(n_games)]
    out = ['<html><body><div class="tab-group foil">']
    out += [f'<button class="button--tab-primary">{t}</button>' for t in tabs]
    out.append("</div>")
    for t in tabs:
        out.append(f'<div class="player-props--container tab">{header}')
        for g, ((away, home), et) in enumerate(games):
            out.append(f'<div class="props-game-info"><span class="props-teams">{away} @ {home} -</span>'
                       f'<span class="event-time">{et}</span></div>')
            for p in range(players):
                out.append(f'<div class="player-props--row" data-event="{9000 + g}">'
                           f'<div class="player-name">{rng.choice(FIRST)} {rng.choice(LAST)} {p}</div>')
                for _ in range(len(books) + 1):
                    o = rng.choice(["+130", "-115", "EVEN", "+210", "-"])
                    u = rng.choice(["-150", "+105", "-110"])
                    line = "0.5" if t != "SHOTS ON GOAL" else "2.5"
                    out.append('<div class="book-row"><div class="player-props-odds">'
                               f'<div><span class="odds-info">O {line}</span><span class="odds-detail">{o}</span></div>'
                               f'<div><span class="odds-info">U {line}</span><span class="odds-detail">{u}</span></div>'
                               "</div></div>")
                out.append("</div>")
        out.append("</div>")
    out.append("</body></html>")
    return "".join(out).encode()


# --------------------------------------------------------------------------- timing


def timed(fn, repeat: int) -> tuple[float, object, list[float]]:
    """(median seconds, last result, every run's seconds; the first run is the cold one)."""
    times = []
    result = None
    for _ in range(repeat):
        result = None  # do not keep the previous result alive while timing the next run
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result, times


def raw(vendor: str, kind: str, body: bytes) -> RawPayload:
    return RawPayload(vendor=vendor, kind=kind, body=body, capture_ts_utc=CAPTURE,
                      sha256="0" * 64, path=f"bench/{vendor.lower()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--props", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--source", choices=("synthetic", "emulator"), default="synthetic",
                    help="Unabated payload: this file's generator (default) or the demo "
                         "emulator's render_unabated_large() when it is available")
    args = ap.parse_args(argv)

    if args.source == "emulator":
        from helpers.demo.render_unabated import render_unabated_large

        body = render_unabated_large()
    else:
        body = make_unabated(args.props)
    doc = orjson.loads(body)
    props = [p for group in doc["odds"].values() for p in group]
    n_price = sum(len(s) for p in props for s in p["sides"].values())
    n_alt = sum(len(x.get("alternateLines") or []) for p in props for s in p["sides"].values()
                for x in s.values())
    del doc
    print(f"Unabated {args.source} payload: {len(body) / 1e6:.1f} MB, {len(props)} props, "
          f"{n_price} price objects, {n_alt} alternate lines")

    payload = raw("UNABATED", "propodds", body)
    t_fast, res, runs = timed(lambda: unabated.parse(payload), args.repeat)
    rows = len(res.rows)
    tracemalloc.start()
    unabated.parse(payload)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t_naive, naive_df, _ = timed(lambda: naive_unabated(body), max(1, min(3, args.repeat)))
    print(f"  unabated.parse: median {t_fast:.3f} s over {args.repeat} runs -> {rows} rows, "
          f"{rows / t_fast:,.0f} rows/s (bar >= 300,000); runs "
          f"{', '.join(f'{t:.3f}' for t in runs)} s (first = cold: {rows / runs[0]:,.0f} rows/s); "
          f"peak traced {peak / 1e6:.0f} MB")
    print(f"  rejections {dict(res.rejections.counts)}; accounted={res.accounted}")
    print(f"  naive baseline (json.loads + dict per row + from_records, fewer checks): median "
          f"{t_naive:.3f} s -> {len(naive_df)} rows, {len(naive_df) / t_naive:,.0f} rows/s; "
          f"speed-up x{t_naive / t_fast:.1f}")

    pn = raw("PLAYNOW", "events_by_ids", make_playnow())
    t_pn, res_pn, _ = timed(lambda: playnow.parse(pn), args.repeat)
    print(f"PlayNow synthetic: {len(pn.body) / 1e6:.2f} MB, {res_pn.items} outcomes -> "
          f"{len(res_pn.rows)} rows in {t_pn * 1000:.1f} ms, {len(res_pn.rows) / t_pn:,.0f} rows/s; "
          f"rejections {dict(res_pn.rejections.counts)}")

    os_raw = raw("ODDSSHARK", "player_props", make_oddsshark())
    t_os, res_os, _ = timed(lambda: oddsshark.parse(os_raw), args.repeat)
    print(f"OddsShark synthetic: {len(os_raw.body) / 1e6:.2f} MB, {res_os.items} prices -> "
          f"{len(res_os.rows)} rows in {t_os * 1000:.1f} ms, {len(res_os.rows) / t_os:,.0f} rows/s; "
          f"rejections {dict(res_os.rejections.counts)}")
    emit([figure("Unabated parse", rows / t_fast, "rows/s", (">=", 300_000)),
          figure("Unabated naive parse (json + dict per row)", len(naive_df) / t_naive,
                 "rows/s", baseline=True),
          figure("PlayNow parse", len(res_pn.rows) / t_pn, "rows/s"),
          figure("OddsShark parse", len(res_os.rows) / t_os, "rows/s")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
