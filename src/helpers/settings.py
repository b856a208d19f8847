"""Every environment variable and path of the pipeline, parsed and validated in one place.

`load_settings()` reads the environment once and returns a frozen `Settings`; an invalid value
raises `SettingsError` naming the variable. Nothing else in the project reads `os.environ`
for configuration (DESIGN.md §3-5).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helpers.errors import SettingsError
from helpers.vendors.base import VENDORS

REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TRUTHY = frozenset({"1", "true", "yes", "on"})
FALSY = frozenset({"0", "false", "no", "off"})

# The steps of the daily driver, in their fixed order, with the env var that gates each.
STEP_FLAGS: tuple[tuple[str, str], ...] = (
    ("odds_ingestion", "RUN_ODDS_INGESTION"),
    ("production", "RUN_PRODUCTION"),
    ("ev", "RUN_EV"),
    ("outcomes", "RUN_OUTCOMES"),
    ("diagnostics", "RUN_DIAGNOSTICS"),
)

# Documented defaults; the README's configuration table is generated from the same names.
DEFAULTS: dict[str, str] = {
    "OPS_HOME": ".",
    "OPS_DB_PATH": "<OPS_HOME>/data/ops.duckdb",
    "RUN_ODDS_INGESTION": "off",
    "RUN_PRODUCTION": "off",
    "RUN_EV": "off",
    "RUN_OUTCOMES": "off",
    "RUN_DIAGNOSTICS": "off",
    "FAIL_FAST": "off",
    "DAILY_STEP_TIMEOUT_SECONDS": "900",
    "DAILY_STEP_WALL_CLOCK_SECONDS": "<3 x step timeout>",
    "RUN_LOCK_WAIT_SECONDS": "5",
    "OPS_KERNEL_NAME": "nhl-props-ops",
    "OPS_NOTEBOOK_DIR": "<repository>/notebooks",
    "VENDORS": "PLAYNOW,UNABATED,ODDSSHARK",
    "FORCE_VENDOR_FAILURE": "",
    "FORCE_PLAYNOW_FAILURE": "off",
    "FORCE_UNABATED_FAILURE": "off",
    "FORCE_ODDSSHARK_FAILURE": "off",
    "PLAYNOW_BASE_URL": "https://content.sb.playnow.com",
    "UNABATED_BASE_URL": "https://content.unabated.com",
    "ODDSSHARK_BASE_URL": "https://www.oddsshark.com",
    "NHL_API_BASE_URL": "https://api-web.nhle.com",
    "HTTP_CONNECT_TIMEOUT_SECONDS": "10",
    "HTTP_READ_TIMEOUT_SECONDS": "30",
    "HTTP_MAX_ATTEMPTS": "3",
    "HTTP_BACKOFF_SECONDS": "1",
    "HTTP_RETRY_AFTER_CAP_SECONDS": "30",
    "PLAYNOW_COOKIE": "",
    "EV_ODDS_FRESHNESS_MINUTES": "90",
    "EV_EVENT_START_GRACE_MINUTES": "0",
    "EV_MIN_EDGE": "0.02",
    "EV_EXCLUDE_BOOK_TYPES": "",
    "OUTCOMES_LOOKBACK_DAYS": "3",
}

# Values that must never reach a log, the registry, a notebook or a report.
SECRET_VARS: tuple[str, ...] = ("PLAYNOW_COOKIE", "UNABATED_API_KEY")
BOOK_TYPES = frozenset({"SPORTSBOOK", "DFS", "DERIVED"})


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUTHY:
        return True
    if value in FALSY:
        return False
    raise SettingsError(name, raw, "one of 1/true/yes/on or 0/false/no/off")


@dataclass(frozen=True)
class NumberRule:
    """What a numeric variable accepts: finite, within [minimum, maximum] (the minimum
    excluded unless `allow_minimum`), and a whole number when `integer`."""

    minimum: float
    maximum: float
    allow_minimum: bool = False
    integer: bool = False


# Every numeric variable and its bounds. Upper bounds keep a typo ("9000000") or "inf" from
# reaching papermill, requests or a sleep as an absurd value (DAILY_STEP_TIMEOUT_SECONDS=inf
# used to fail inside the step with a TraitError).
DAY_SECONDS = 86_400
NUMBER_RULES: dict[str, NumberRule] = {
    "DAILY_STEP_TIMEOUT_SECONDS": NumberRule(0, DAY_SECONDS, integer=True),
    "DAILY_STEP_WALL_CLOCK_SECONDS": NumberRule(0, 4 * DAY_SECONDS, integer=True),
    "RUN_LOCK_WAIT_SECONDS": NumberRule(0, 3_600, allow_minimum=True),
    "HTTP_CONNECT_TIMEOUT_SECONDS": NumberRule(0, 600),
    "HTTP_READ_TIMEOUT_SECONDS": NumberRule(0, 600),
    # The spec's anti-hang rule: at most 3 retries, so at most 4 attempts.
    "HTTP_MAX_ATTEMPTS": NumberRule(1, 4, allow_minimum=True, integer=True),
    "HTTP_BACKOFF_SECONDS": NumberRule(0, 300, allow_minimum=True),
    "HTTP_RETRY_AFTER_CAP_SECONDS": NumberRule(0, 3_600, allow_minimum=True),
    "EV_ODDS_FRESHNESS_MINUTES": NumberRule(0, 7 * 24 * 60),
    "EV_EVENT_START_GRACE_MINUTES": NumberRule(0, 24 * 60, allow_minimum=True),
    "EV_MIN_EDGE": NumberRule(-1, 10),
    "OUTCOMES_LOOKBACK_DAYS": NumberRule(1, 366, allow_minimum=True, integer=True),
}


def parse_number(name: str, raw: str, rule: NumberRule | None = None) -> float:
    """`raw` as a number obeying `rule` (default: the rule of variable `name`)."""
    rule = rule or NUMBER_RULES[name]
    low = ">=" if rule.allow_minimum else ">"
    expected = (f"{'a whole number' if rule.integer else 'a finite number'} "
                f"{low} {rule.minimum:g} and <= {rule.maximum:g}")
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, raw, expected) from None
    too_low = value < rule.minimum or (value == rule.minimum and not rule.allow_minimum)
    # NaN fails every comparison, so test it explicitly; inf fails the maximum.
    if math.isnan(value) or too_low or value > rule.maximum or \
            (rule.integer and not value.is_integer()):
        raise SettingsError(name, raw, expected)
    return int(value) if rule.integer else value


def check_secret(name: str, value: str) -> str:
    """A secret goes into an HTTP header: a control character (a CR or LF left by a CRLF env
    file) would make requests raise an error that quotes the value, so refuse it here,
    without showing it."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise SettingsError(name, value, "no control characters (a trailing CR/LF from a CRLF "
                            "env file?)", secret=True)
    return value


def parse_name_list(name: str, raw: str, allowed: frozenset[str] | tuple[str, ...],
                    *, allow_all: bool = False) -> tuple[str, ...]:
    """Comma list of upper-case names, each checked against `allowed`; order kept, no repeats."""
    names: list[str] = []
    for part in raw.split(","):
        item = part.strip().upper()
        if not item:
            continue
        if item == "ALL" and allow_all:
            return tuple(allowed)
        if item not in allowed:
            choices = ", ".join(sorted(allowed)) + (", ALL" if allow_all else "")
            raise SettingsError(name, raw, f"a comma list of {choices}")
        if item not in names:
            names.append(item)
    return tuple(names)


def env_step_overrides(env: Mapping[str, str]) -> dict[str, bool]:
    """The step flags set in the environment; these beat CLI flags (DESIGN.md §4)."""
    return {step: parse_bool(var, env[var]) for step, var in STEP_FLAGS
            if env.get(var, "").strip() != ""}


@dataclass(frozen=True)
class Settings:
    ops_home: Path
    db_path: Path
    fail_fast: bool
    step_timeout_seconds: float
    step_wall_clock_seconds: float
    run_lock_wait_seconds: float
    kernel_name: str
    notebooks_dir: Path
    vendors: tuple[str, ...]
    forced_vendor_failures: frozenset[str]
    base_urls: dict[str, str]
    http_connect_timeout: float
    http_read_timeout: float
    http_max_attempts: int
    http_backoff_seconds: float
    http_retry_after_cap_seconds: float
    ev_odds_freshness_minutes: float
    ev_event_start_grace_minutes: float
    ev_min_edge: float
    ev_exclude_book_types: frozenset[str]
    outcomes_lookback_days: int
    step_flags: dict[str, bool] = field(default_factory=dict)
    explicit: frozenset[str] = frozenset()  # variables set (non-empty) in the environment
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def outputs_dir(self) -> Path:
        return self.ops_home / "outputs"

    @property
    def raw_dir(self) -> Path:
        return self.outputs_dir / "odds" / "raw"

    @property
    def runs_dir(self) -> Path:
        return self.outputs_dir / "runs"

    @property
    def monitoring_dir(self) -> Path:
        return self.outputs_dir / "monitoring"

    def secret_values(self) -> tuple[str, ...]:
        return tuple(v for v in self.secrets.values() if v)


def _vendor_list(raw: str) -> tuple[str, ...]:
    vendors = parse_name_list("VENDORS", raw, VENDORS)
    if not vendors:
        raise SettingsError("VENDORS", raw, f"at least one of {', '.join(VENDORS)}")
    return vendors


def _notebooks_dir(env: Mapping[str, str]) -> Path:
    raw = env.get("OPS_NOTEBOOK_DIR", "").strip()
    path = Path(raw).expanduser().resolve() if raw else REPO_NOTEBOOKS
    if not path.is_dir():
        raise SettingsError("OPS_NOTEBOOK_DIR", str(path), "an existing directory of notebooks")
    return path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Parse the environment (default: os.environ). Raises SettingsError naming the variable."""
    env = os.environ if env is None else env

    def get(name: str) -> str:
        raw = env.get(name, "")
        return raw if raw.strip() != "" else DEFAULTS[name]

    ops_home = Path(get("OPS_HOME")).expanduser().resolve()
    db_raw = env.get("OPS_DB_PATH", "").strip()
    db_path = Path(db_raw).expanduser().resolve() if db_raw else ops_home / "data" / "ops.duckdb"

    def number(name: str) -> float:
        return parse_number(name, get(name))

    step_timeout = number("DAILY_STEP_TIMEOUT_SECONDS")
    wall_raw = env.get("DAILY_STEP_WALL_CLOCK_SECONDS", "").strip()
    wall_clock = (parse_number("DAILY_STEP_WALL_CLOCK_SECONDS", wall_raw) if wall_raw
                  else 3 * step_timeout + 60)

    forced = set(parse_name_list("FORCE_VENDOR_FAILURE", get("FORCE_VENDOR_FAILURE"), VENDORS,
                                 allow_all=True))
    for vendor in VENDORS:
        var = f"FORCE_{vendor}_FAILURE"
        if parse_bool(var, get(var)):
            forced.add(vendor)

    base_urls = {}
    for vendor in (*VENDORS, "NHL_API"):
        var = f"{vendor}_BASE_URL"
        url = get(var).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SettingsError(var, url, "an http:// or https:// URL")
        base_urls[vendor] = url

    exclude = frozenset(parse_name_list("EV_EXCLUDE_BOOK_TYPES", get("EV_EXCLUDE_BOOK_TYPES"),
                                        BOOK_TYPES))
    return Settings(
        ops_home=ops_home,
        db_path=db_path,
        fail_fast=parse_bool("FAIL_FAST", get("FAIL_FAST")),
        step_timeout_seconds=step_timeout,
        step_wall_clock_seconds=wall_clock,
        run_lock_wait_seconds=number("RUN_LOCK_WAIT_SECONDS"),
        kernel_name=get("OPS_KERNEL_NAME").strip(),
        notebooks_dir=_notebooks_dir(env),
        vendors=_vendor_list(get("VENDORS")),
        forced_vendor_failures=frozenset(forced),
        base_urls=base_urls,
        http_connect_timeout=number("HTTP_CONNECT_TIMEOUT_SECONDS"),
        http_read_timeout=number("HTTP_READ_TIMEOUT_SECONDS"),
        http_max_attempts=int(number("HTTP_MAX_ATTEMPTS")),
        http_backoff_seconds=number("HTTP_BACKOFF_SECONDS"),
        http_retry_after_cap_seconds=number("HTTP_RETRY_AFTER_CAP_SECONDS"),
        ev_odds_freshness_minutes=number("EV_ODDS_FRESHNESS_MINUTES"),
        ev_event_start_grace_minutes=number("EV_EVENT_START_GRACE_MINUTES"),
        ev_min_edge=number("EV_MIN_EDGE"),
        ev_exclude_book_types=exclude,
        outcomes_lookback_days=int(number("OUTCOMES_LOOKBACK_DAYS")),
        step_flags=env_step_overrides(env),
        explicit=frozenset(name for name in (*DEFAULTS, "DAILY_STEP_WALL_CLOCK_SECONDS")
                           if env.get(name, "").strip()),
        secrets={name: check_secret(name, env.get(name, "")) for name in SECRET_VARS},
    )


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every secret value in `text` with '***': as it is, stripped of surrounding
    whitespace, and in the escaped form an exception's repr() gives it ('a\\r')."""
    for secret in secrets:
        forms = {secret, secret.strip(), repr(secret)[1:-1]}
        for form in sorted(forms, key=len, reverse=True):
            if form:
                text = text.replace(form, "***")
    return text
