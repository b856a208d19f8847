"""Backfill of saved Unabated snapshots: bounded, resumable, idempotent.

Unabated has no history endpoint, so a backfill never fetches today's board and files it
under a past date. It reads snapshots that were saved when they were current, each with the
capture time in its name, from one of two sources laid out like the raw store:
- a directory, e.g. another machine's `outputs/odds/raw/UNABATED/`:
  `<dir>/YYYY/MM/DD/HHMMSS_unabated_propodds[_N].json` (+ `.sha256`, checked when present);
- an archive URL serving `<base>/YYYY/MM/DD/index.json` (`{"files": [...]}`) and
  `<base>/YYYY/MM/DD/<file>`.

Each snapshot goes through the ingestion path (`capture.load_payload`) with its original
capture time: raw first, registered before it is written, loaded in one transaction, a
payload whose hash is known not loaded again. `backfill_checkpoints` records every snapshot
loaded and every day completed (a day is complete when every snapshot in it loaded), so a rerun - or a run after kill -9 - starts where the last
one stopped; what the checkpoint missed (killed between the load and its checkpoint) is
recognised by its hash.

Bounds: every read counts as a request - an index, a file, a file already loaded -
and the run stops before the request that would pass `max_requests`, or once
`max_elapsed_seconds` have passed, saying how far it got.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import requests

from helpers.core import db, rawstore
from helpers.core.clock import utcnow
from helpers.core.errors import UsageError, VendorError
from helpers.core.http import MIB, RefusedResponse, read_body
from helpers.core.settings import Settings
from helpers.odds.capture import load_payload
from helpers.odds.vendors import unabated
from helpers.odds.vendors.base import Fetched

log = logging.getLogger(__name__)

KIND = "propodds"
SNAPSHOT_NAME = re.compile(r"(\d{2})(\d{2})(\d{2})_unabated_propodds(?:_\d+)?\.json")
DAY_DONE = "day"  # a checkpoint row whose snapshot is the day folder itself


@dataclass(frozen=True)
class Snapshot:
    day: date
    name: str
    capture_ts_utc: datetime  # naive UTC, from the name

    @property
    def key(self) -> str:
        return f"{self.day:%Y/%m/%d}/{self.name}"


def parse_snapshot(day: date, name: str) -> Snapshot | None:
    """The snapshot a raw-store file name stands for; None for anything else."""
    match = SNAPSHOT_NAME.fullmatch(name)
    if match is None:
        return None
    hour, minute, second = (int(g) for g in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        return None
    return Snapshot(day, name, datetime(day.year, day.month, day.day, hour, minute, second))


class CapReached(Exception):
    """The request or time cap is reached: stop before the next request."""


@dataclass
class Budget:
    max_requests: int | None
    max_elapsed_seconds: float | None
    requests: int = 0
    started: float = field(default_factory=time.monotonic)

    def spend(self) -> None:
        """Count one request, or raise CapReached if it may not be made."""
        if self.max_requests is not None and self.requests >= self.max_requests:
            raise CapReached(f"request cap reached ({self.max_requests} requests)")
        elapsed = time.monotonic() - self.started
        if self.max_elapsed_seconds is not None and elapsed >= self.max_elapsed_seconds:
            raise CapReached(f"time cap reached ({elapsed:.0f} s of "
                             f"{self.max_elapsed_seconds:g} s)")
        self.requests += 1


class DirSource:
    def __init__(self, root: Path):
        if not root.is_dir():
            raise UsageError(f"--source-dir {root} is not a directory")
        self.root = root
        self.label = f"dir:{root.resolve()}"

    def list_day(self, day: date, budget: Budget) -> list[Snapshot]:
        folder = self.root / f"{day:%Y/%m/%d}"
        if not folder.is_dir():
            return []
        return sorted((s for p in folder.iterdir() if (s := parse_snapshot(day, p.name))),
                      key=lambda s: s.name)

    def read(self, snapshot: Snapshot, budget: Budget) -> bytes:
        budget.spend()
        path = self.root / snapshot.key
        body = path.read_bytes()
        sidecar = path.with_name(path.name + ".sha256")
        if sidecar.exists():
            expected = sidecar.read_text().split()[0].strip()
            if expected != rawstore.sha256_hex(body):
                raise VendorError(f"{path} does not match its .sha256")
        return body


class UrlSource:
    """An archive over HTTP, each response bounded like a vendor's: within
    HTTP_TOTAL_DEADLINE_SECONDS and UNABATED_MAX_BODY_MB (core.http.read_body)."""

    def __init__(self, base: str, session: requests.Session, settings: Settings):
        if not base.startswith(("http://", "https://")):
            raise UsageError(f"--source-url {base!r} is not an http(s) URL")
        self.base = base.rstrip("/")
        self.label = f"url:{self.base}"
        self.session = session
        self.timeout = (settings.http.connect_timeout, settings.http.read_timeout)
        self.deadline_seconds = settings.http.total_deadline_seconds
        self.max_bytes = settings.vendors.max_body_mb[unabated.VENDOR] * MIB

    def _get(self, url: str, budget: Budget) -> tuple[requests.Response, bytes]:
        budget.spend()
        try:
            response = self.session.get(url, timeout=self.timeout, stream=True)
            body = read_body(response, self.max_bytes, time.monotonic() + self.deadline_seconds,
                             unabated.VENDOR)
        except (requests.RequestException, RefusedResponse) as exc:
            raise VendorError(f"GET {url}: {type(exc).__name__}: {exc}") from exc
        return response, body

    def list_day(self, day: date, budget: Budget) -> list[Snapshot]:
        response, body = self._get(f"{self.base}/{day:%Y/%m/%d}/index.json", budget)
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise VendorError(f"archive index of {day}: HTTP {response.status_code}")
        try:
            names = json.loads(body)["files"]
        except (ValueError, KeyError, TypeError) as exc:
            raise VendorError(f"archive index of {day} is not {{'files': [...]}}") from exc
        return sorted((s for n in names if (s := parse_snapshot(day, str(n)))),
                      key=lambda s: s.name)

    def read(self, snapshot: Snapshot, budget: Budget) -> bytes:
        response, body = self._get(f"{self.base}/{snapshot.key}", budget)
        if response.status_code != 200:
            raise VendorError(f"archive {snapshot.key}: HTTP {response.status_code}")
        return body


@dataclass
class DayPlan:
    day: date
    found: int
    done: int
    to_fetch: list[Snapshot]


@dataclass
class BackfillResult:
    days: list[DayPlan] = field(default_factory=list)
    loaded: int = 0
    already: int = 0       # known by hash: loaded before, by a capture or another backfill
    failed: list[str] = field(default_factory=list)
    rows_inserted: int = 0
    requests: int = 0
    stopped: str | None = None  # why it stopped early (a cap), None when complete
    last_done: str | None = None

    @property
    def status(self) -> str:
        if self.failed:
            return "partial"
        return "partial" if self.stopped else "success"

    def summary(self) -> str:
        text = (f"{self.loaded} snapshots loaded ({self.rows_inserted} rows), {self.already} "
                f"already loaded, {len(self.failed)} failed, {self.requests} requests")
        if self.stopped:
            text += f"; stopped: {self.stopped}, after {self.last_done or 'nothing'}"
        return text


def days_between(start: date, end: date) -> list[date]:
    if end < start:
        raise UsageError(f"--end-date {end} is before --start-date {start}")
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]


def checkpoints(con: duckdb.DuckDBPyConnection | None, source: str) -> set[str]:
    if con is None:
        return set()
    return {k for (k,) in con.execute("SELECT snapshot FROM backfill_checkpoints "
                                      "WHERE source = ?", [source]).fetchall()}


def plan_day(source: DirSource | UrlSource, day: date, done: set[str],
             budget: Budget) -> DayPlan | None:
    """The day's snapshots and those left to fetch; None when the day was completed."""
    if f"{day:%Y/%m/%d}/" in done:
        return None
    snapshots = source.list_day(day, budget)
    left = [s for s in snapshots if s.key not in done]
    return DayPlan(day, len(snapshots), len(snapshots) - len(left), left)


def _checkpoint(con: duckdb.DuckDBPyConnection, source: str, key: str, digest: str | None,
                outcome: str, rows: int, run_id: str) -> None:
    frame = pd.DataFrame([{"source": source, "snapshot": key, "payload_hash": digest,
                           "outcome": outcome, "rows_inserted": rows, "run_id": run_id,
                           "done_ts_utc": utcnow()}])
    db.insert_new_rows(con, "backfill_checkpoints", frame, ("source", "snapshot"))


def backfill(con: duckdb.DuckDBPyConnection, settings: Settings,
             source: DirSource | UrlSource, days: list[date], budget: Budget, run_id: str,
             progress: Callable[[str], None] = log.info) -> BackfillResult:
    """Load every saved snapshot of `days` not loaded yet, within the budget."""
    result = BackfillResult()
    done = checkpoints(con, source.label)
    try:
        for day in days:
            plan = plan_day(source, day, done, budget)
            if plan is None:
                continue
            result.days.append(plan)
            failed_before = len(result.failed)
            for snapshot in plan.to_fetch:
                _load_one(con, settings, source, snapshot, budget, run_id, result)
            failed = len(result.failed) - failed_before
            # A day is complete only when every snapshot in it loaded: a day with a failed
            # snapshot is listed again by the next run, which retries just that snapshot.
            if not failed:
                _checkpoint(con, source.label, f"{day:%Y/%m/%d}/", None, DAY_DONE, 0, run_id)
            progress(f"backfill {day}: {plan.found} snapshots, {plan.done} done before, "
                     f"{len(plan.to_fetch)} fetched"
                     f"{f', {failed} failed (day left open)' if failed else ''} "
                     f"({budget.requests} requests so far)")
    except CapReached as exc:
        result.stopped = str(exc)
    result.requests = budget.requests
    return result


def _load_one(con: duckdb.DuckDBPyConnection, settings: Settings,
              source: DirSource | UrlSource, snapshot: Snapshot, budget: Budget, run_id: str,
              result: BackfillResult) -> None:
    try:
        body = source.read(snapshot, budget)
    except VendorError as exc:
        result.failed.append(f"{snapshot.key}: {exc}")
        log.warning("backfill %s: %s", snapshot.key, exc)
        return
    outcome = load_payload(con, settings, unabated, Fetched(KIND, body, "json"),
                           snapshot.capture_ts_utc, run_id)
    if outcome.status in ("parse_failed", "quarantined"):
        # no snapshot checkpoint: the next run reads it again, and once `renormalize` has
        # parsed it with a fixed parser it counts as already loaded and the day completes
        result.failed.append(f"{snapshot.key}: {outcome.error}")
        result.last_done = snapshot.key
        return
    if outcome.status == "duplicate":
        result.already += 1
    else:
        result.loaded += 1
        result.rows_inserted += int(outcome.rows_inserted or 0)
    _checkpoint(con, source.label, snapshot.key, outcome.sha256, outcome.status,
                int(outcome.rows_inserted or 0), run_id)
    result.last_done = snapshot.key


def dry_run_plan(con: duckdb.DuckDBPyConnection | None, source: DirSource | UrlSource,
                 days: list[date], budget: Budget) -> Iterator[tuple[date, int, int, int]]:
    """(day, snapshots found, already done, to fetch) per day; reads only listings."""
    done = checkpoints(con, source.label)
    for day in days:
        plan = plan_day(source, day, done, budget)
        if plan is None:
            yield day, -1, -1, 0  # completed by an earlier backfill
        else:
            yield day, plan.found, plan.done, len(plan.to_fetch)


def to_json(result: BackfillResult) -> str:
    return json.dumps({"loaded": result.loaded, "already": result.already,
                       "failed": result.failed, "rows_inserted": result.rows_inserted,
                       "requests": result.requests, "stopped": result.stopped})

