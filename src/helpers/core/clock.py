"""Time: the run's "now" (wall clock or --as-of) and the ET slate date of an instant.

Every timestamp stored is naive UTC. The NHL slate date is the game's date in
America/New_York (with daylight saving), never UTC minus a fixed offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from helpers.core.errors import UsageError

ET = ZoneInfo("America/New_York")


def utcnow() -> datetime:
    """The wall clock as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(moment: datetime) -> datetime:
    """The same instant as a naive datetime in UTC, the form every stored timestamp takes.
    An aware datetime is converted; a naive one is taken to be UTC already, returned as is."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_iso_utc(text: object) -> datetime | None:
    """ISO-8601 text -> naive UTC datetime; 'Z' or an offset is honoured, no offset = UTC.
    Unparseable or not text -> None (a parser counts a rejection)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return to_naive_utc(moment)


def iso_z(moment: datetime) -> str:
    """'2026-01-07T00:00:00Z': an instant as ISO-8601 UTC to the second, as vendors send it.
    A naive datetime is taken to be UTC; `parse_iso_utc` reads it back."""
    return to_naive_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# The instants a run may be "as of". Far outside, dates overflow downstream (the ET date of
# year 1, a window after year 9999) and no vendor or NHL data exists anyway.
EARLIEST_AS_OF = datetime(2000, 1, 1)
LATEST_AS_OF = datetime(2100, 1, 1)


def parse_as_of(text: str) -> datetime:
    """ISO-8601 instant ('2026-01-04T15:00:00Z', with offset, or naive = UTC) -> naive UTC,
    from EARLIEST_AS_OF up to (not including) LATEST_AS_OF."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not an ISO-8601 time such as "
                         "2026-01-04T15:00:00Z") from None
    try:
        moment = to_naive_utc(moment)
    except OverflowError:  # an offset that carries it past year 1 or 9999
        moment = None
    if moment is None or not EARLIEST_AS_OF <= moment < LATEST_AS_OF:
        raise UsageError(f"--as-of {text!r} is out of range: give a time on or after "
                         f"{EARLIEST_AS_OF:%Y-%m-%d} and before {LATEST_AS_OF:%Y-%m-%d} (UTC)")
    return moment


def parse_slate_date(text: str, option: str = "--date") -> date:
    """A YYYY-MM-DD date within the as-of range; the error names `option`, the flag the user
    typed it into."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date in the form YYYY-MM-DD") from None
    if not EARLIEST_AS_OF.date() <= day < LATEST_AS_OF.date():
        raise UsageError(f"{option} {text!r} is out of range: give a date on or after "
                         f"{EARLIEST_AS_OF:%Y-%m-%d} and before {LATEST_AS_OF:%Y-%m-%d}")
    return day


def et_date(moment_utc: datetime) -> date:
    """The America/New_York calendar date of a naive-UTC instant."""
    return moment_utc.replace(tzinfo=UTC).astimezone(ET).date()
