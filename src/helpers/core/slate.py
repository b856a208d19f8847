"""The slate a run works on, made once and passed to every step.

A slate is an NHL date (the games' calendar day in America/New_York) seen at one moment,
the run's `as_of`. Every stage needs the same three facts about it: the date, the instant
before which nothing may be known, and which vendor events belong to it (those starting on
that Eastern day). They used to be re-derived in each stage from a date (a two-day window
around it, then a cut to the ET date, written three times); here they are computed once.

How a slate travels: the CLI parses `--date` and `--as-of` into a `Slate`; the driver passes
it to each notebook as the two text parameters of `parameters()`; the notebook's
`step_context` parses them back with `Slate.from_parameters`, and the step's SQL binds
`sql_params()`. Text in, text across the process boundary, one parse on either side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from helpers.core.clock import ET, et_date, parse_as_of, parse_slate_date, to_naive_utc

AS_OF_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Slate:
    date: date        # the NHL slate: a calendar day in America/New_York
    as_of: datetime   # naive UTC: the run's "now"; nothing later may be read

    @classmethod
    def at(cls, as_of: datetime) -> Slate:
        """The slate of the ET day `as_of` falls on (the default of a run)."""
        return cls(et_date(as_of), as_of)

    @classmethod
    def from_parameters(cls, slate_date: str, as_of: str) -> Slate:
        """The slate from a notebook's text parameters (or the CLI's options)."""
        return cls(parse_slate_date(slate_date), parse_as_of(as_of))

    def parameters(self) -> dict[str, str]:
        """The slate as the notebook parameters the driver passes (`from_parameters` reads
        them back)."""
        return {"slate_date": self.date.isoformat(), "as_of": self.as_of.strftime(AS_OF_FORMAT)}

    @property
    def starts_from_utc(self) -> datetime:
        """The slate's first instant, midnight Eastern, as naive UTC."""
        return _et_midnight_utc(self.date)

    @property
    def starts_before_utc(self) -> datetime:
        """The next slate's first instant (exclusive bound), as naive UTC: 23 to 25 hours
        after `starts_from_utc` (daylight saving)."""
        return _et_midnight_utc(self.date + timedelta(days=1))

    def sql_params(self, sql: str) -> dict[str, object]:
        """The named parameters `sql` uses of: `$slate` (the date), `$as_of`, and
        `$starts_from` / `$starts_before`, the bounds of an event that belongs to the slate
        (`event_start_ts_utc >= $starts_from AND event_start_ts_utc < $starts_before`).
        DuckDB refuses a parameter the statement does not use, hence the filter."""
        every = {"slate": self.date, "as_of": self.as_of,
                 "starts_from": self.starts_from_utc, "starts_before": self.starts_before_utc}
        return {name: value for name, value in every.items()
                if re.search(rf"\${name}\b", sql)}


def _et_midnight_utc(day: date) -> datetime:
    return to_naive_utc(datetime.combine(day, time.min, tzinfo=ET))
