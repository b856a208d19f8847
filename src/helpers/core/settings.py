"""Every environment variable of the pipeline, parsed and validated in one place.

`load_settings()` reads the environment once and returns a frozen `Settings` made of
sections (paths, run, http, vendors, model, ev, outcomes). An invalid value raises `SettingsError`
naming the variable (a secret's value is never shown). Nothing else in the project reads
`os.environ` for configuration. Step and vendor names come from their registries
(`core.steps`, `core.vendors`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from helpers.core.errors import SettingsError
from helpers.core.markets import MARKETS
from helpers.core.models import CHALLENGER_MODELS, PRODUCTION_MODEL
from helpers.core.steps import STEPS
from helpers.core.vendors import (
    NHL_API,
    NHL_API_DEFAULT_BASE_URL,
    NHL_API_DEFAULT_MAX_BODY_MB,
    VENDOR_SPECS,
    VENDORS,
)

REPO_NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
TRUTHY = frozenset({"1", "true", "yes", "on"})
FALSY = frozenset({"0", "false", "no", "off"})
BOOK_TYPES = frozenset({"SPORTSBOOK", "DFS", "DERIVED"})
KERNEL_NAME = re.compile(r"[A-Za-z0-9._-]+")  # the names Jupyter accepts for a kernel
SECRET_VARS: tuple[str, ...] = tuple(var for spec in VENDOR_SPECS for var in spec.secret_vars)

# Every variable with its documented default, as the README's configuration table shows it
# (a test holds the two together). "" = empty; <...> = derived from other values.
DEFAULTS: dict[str, str] = {
    "OPS_HOME": ".",
    "OPS_DB_PATH": "<OPS_HOME>/data/ops.duckdb",
    "OPS_NOTEBOOK_DIR": "<repository>/notebooks",
    **{step.env_var: "" for step in STEPS},
    "FAIL_FAST": "off",
    "DAILY_STEP_TIMEOUT_SECONDS": "900",
    "DAILY_STEP_WALL_CLOCK_SECONDS": "<3 x step timeout + 60>",
    "RUN_LOCK_WAIT_SECONDS": "5",
    "OPS_KERNEL_NAME": "nhl-props-ops",
    "HTTP_CONNECT_TIMEOUT_SECONDS": "10",
    "HTTP_READ_TIMEOUT_SECONDS": "30",
    "HTTP_MAX_ATTEMPTS": "3",
    "HTTP_BACKOFF_SECONDS": "1",
    "HTTP_RETRY_AFTER_CAP_SECONDS": "30",
    "HTTP_TOTAL_DEADLINE_SECONDS": "120",
    "CAPTURE_MAX_CLOCK_SKEW_SECONDS": "900",
    "VENDORS": ",".join(VENDORS),
    "FORCE_VENDOR_FAILURE": "",
    **{spec.force_failure_var: "off" for spec in VENDOR_SPECS},
    **{spec.base_url_var: spec.default_base_url for spec in VENDOR_SPECS},
    f"{NHL_API}_BASE_URL": NHL_API_DEFAULT_BASE_URL,
    **{spec.max_body_var: str(spec.default_max_body_mb) for spec in VENDOR_SPECS},
    f"{NHL_API}_MAX_BODY_MB": str(NHL_API_DEFAULT_MAX_BODY_MB),
    **dict.fromkeys(SECRET_VARS, ""),
    "MODEL_CHALLENGERS": "",
    "EV_ODDS_FRESHNESS_MINUTES": "90",
    "EV_EVENT_START_GRACE_MINUTES": "0",
    "EV_MIN_EDGE": "0.02",
    "EV_MIN_MARKET_EDGE": "-1",
    "EV_EXCLUDE_BOOK_TYPES": "DERIVED,DFS",
    "EV_EXCLUDE_MARKETS": "",
    "EV_MODEL_VERSION": PRODUCTION_MODEL,
    "EV_BLEND_WINDOW_DAYS": "28",
    "EV_BLEND_MIN_PROPS": "2000",
    "EV_CONSENSUS_LEAVE_BOOK_OUT": "off",
    "EV_KELLY_FRACTION": "0.25",
    "OUTCOMES_LOOKBACK_DAYS": "3",
}


@dataclass(frozen=True)
class NumberRule:
    """What a numeric variable accepts: finite, within [minimum, maximum] (the minimum
    excluded unless `allow_minimum`), and a whole number when `integer`."""

    minimum: float
    maximum: float
    allow_minimum: bool = False
    integer: bool = False


# Upper bounds keep a typo ("9000000") or "inf" from reaching papermill, requests or a sleep
# as an absurd value (DAILY_STEP_TIMEOUT_SECONDS=inf used to fail inside the step with a
# TraitError).
DAY_SECONDS = 86_400
NUMBER_RULES: dict[str, NumberRule] = {
    "DAILY_STEP_TIMEOUT_SECONDS": NumberRule(0, DAY_SECONDS, integer=True),
    "DAILY_STEP_WALL_CLOCK_SECONDS": NumberRule(0, 4 * DAY_SECONDS, integer=True),
    "RUN_LOCK_WAIT_SECONDS": NumberRule(0, 3_600, allow_minimum=True),
    "HTTP_CONNECT_TIMEOUT_SECONDS": NumberRule(0, 600),
    "HTTP_READ_TIMEOUT_SECONDS": NumberRule(0, 600),
    # The anti-hang rule of the spec: at most 3 retries, so at most 4 attempts.
    "HTTP_MAX_ATTEMPTS": NumberRule(1, 4, allow_minimum=True, integer=True),
    "HTTP_BACKOFF_SECONDS": NumberRule(0, 300, allow_minimum=True),
    "HTTP_RETRY_AFTER_CAP_SECONDS": NumberRule(0, 3_600, allow_minimum=True),
    "HTTP_TOTAL_DEADLINE_SECONDS": NumberRule(0, 3_600),
    **{f"{name}_MAX_BODY_MB": NumberRule(1, 4_096, allow_minimum=True, integer=True)
       for name in (*VENDORS, NHL_API)},
    # A run's capture starts seconds to minutes after its as-of (kernel start-up, earlier
    # vendors), so under a minute would refuse honest runs; over a day would let a board be
    # filed under another slate.
    "CAPTURE_MAX_CLOCK_SKEW_SECONDS": NumberRule(60, DAY_SECONDS, allow_minimum=True),
    "EV_ODDS_FRESHNESS_MINUTES": NumberRule(0, 7 * 24 * 60),
    "EV_EVENT_START_GRACE_MINUTES": NumberRule(0, 24 * 60, allow_minimum=True),
    "EV_MIN_EDGE": NumberRule(-1, 10),
    "EV_MIN_MARKET_EDGE": NumberRule(-1, 10, allow_minimum=True),
    "EV_BLEND_WINDOW_DAYS": NumberRule(1, 366, allow_minimum=True, integer=True),
    "EV_BLEND_MIN_PROPS": NumberRule(10, 1_000_000, allow_minimum=True, integer=True),
    "EV_KELLY_FRACTION": NumberRule(0, 1, allow_minimum=True),
    "OUTCOMES_LOOKBACK_DAYS": NumberRule(1, 366, allow_minimum=True, integer=True),
}


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class PathSettings:
    ops_home: Path
    db_path: Path
    notebooks_dir: Path

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


@dataclass(frozen=True)
class RunSettings:
    fail_fast: bool
    step_timeout_seconds: int
    step_wall_clock_seconds: int
    lock_wait_seconds: float
    kernel_name: str
    step_flags: dict[str, bool]  # steps whose RUN_* variable is set; these beat CLI flags


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float
    read_timeout: float
    max_attempts: int
    backoff_seconds: float
    retry_after_cap_seconds: float
    total_deadline_seconds: float  # one attempt, from request to the body's last byte


@dataclass(frozen=True)
class VendorSettings:
    enabled: tuple[str, ...]
    forced_failures: frozenset[str]
    base_urls: dict[str, str]  # per vendor, and NHL_API
    max_body_mb: dict[str, int]  # per vendor, and NHL_API
    # how far an odds vendor's Date may be from the run's as-of before its payload is refused
    max_clock_skew_seconds: float
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def secret_values(self) -> tuple[str, ...]:
        return tuple(v for v in self.secrets.values() if v)


@dataclass(frozen=True)
class ModelSettings:
    challengers: tuple[str, ...]  # model versions written beside the production model


@dataclass(frozen=True)
class EvSettings:
    odds_freshness_minutes: float
    event_start_grace_minutes: float
    min_edge: float
    min_market_edge: float  # -1: off
    exclude_book_types: frozenset[str]
    exclude_markets: frozenset[str]
    model_version: str = PRODUCTION_MODEL  # the snapshot the pricing blend starts from
    blend_window_days: int = 28            # graded slates before the priced one, at most
    blend_min_props: int = 2000            # graded props a market's fit needs, else the prior
    consensus_leave_book_out: bool = False  # price each book against the others' consensus
    kelly_fraction: float = 0.25           # stake = this x full Kelly on p_price


@dataclass(frozen=True)
class OutcomesSettings:
    lookback_days: int


@dataclass(frozen=True)
class Settings:
    paths: PathSettings
    run: RunSettings
    http: HttpSettings
    vendors: VendorSettings
    model: ModelSettings
    ev: EvSettings
    outcomes: OutcomesSettings
    explicit: frozenset[str] = frozenset()  # variables set (non-empty) in the environment

    def secret_values(self) -> tuple[str, ...]:
        return self.vendors.secret_values()

    def effective(self) -> dict[str, str]:
        """Every variable's effective value, secrets shown as '***' when set: what a step's
        spec.json records so that the run can be reproduced from its folder."""
        values = {
            "OPS_HOME": str(self.paths.ops_home), "OPS_DB_PATH": str(self.paths.db_path),
            "OPS_NOTEBOOK_DIR": str(self.paths.notebooks_dir),
            **{step.env_var: _flag(self.run.step_flags.get(step.name)) for step in STEPS},
            "FAIL_FAST": _flag(self.run.fail_fast),
            "DAILY_STEP_TIMEOUT_SECONDS": f"{self.run.step_timeout_seconds:g}",
            "DAILY_STEP_WALL_CLOCK_SECONDS": f"{self.run.step_wall_clock_seconds:g}",
            "RUN_LOCK_WAIT_SECONDS": f"{self.run.lock_wait_seconds:g}",
            "OPS_KERNEL_NAME": self.run.kernel_name,
            "HTTP_CONNECT_TIMEOUT_SECONDS": f"{self.http.connect_timeout:g}",
            "HTTP_READ_TIMEOUT_SECONDS": f"{self.http.read_timeout:g}",
            "HTTP_MAX_ATTEMPTS": str(self.http.max_attempts),
            "HTTP_BACKOFF_SECONDS": f"{self.http.backoff_seconds:g}",
            "HTTP_RETRY_AFTER_CAP_SECONDS": f"{self.http.retry_after_cap_seconds:g}",
            "HTTP_TOTAL_DEADLINE_SECONDS": f"{self.http.total_deadline_seconds:g}",
            "CAPTURE_MAX_CLOCK_SKEW_SECONDS": f"{self.vendors.max_clock_skew_seconds:g}",
            "VENDORS": ",".join(self.vendors.enabled),
            "FORCE_VENDOR_FAILURE": ",".join(sorted(self.vendors.forced_failures)),
            **{spec.force_failure_var: _flag(spec.name in self.vendors.forced_failures)
               for spec in VENDOR_SPECS},
            **{f"{name}_BASE_URL": url for name, url in self.vendors.base_urls.items()},
            **{f"{name}_MAX_BODY_MB": str(mb) for name, mb in self.vendors.max_body_mb.items()},
            **{var: "***" if value else "" for var, value in self.vendors.secrets.items()},
            "MODEL_CHALLENGERS": ",".join(self.model.challengers),
            "EV_ODDS_FRESHNESS_MINUTES": f"{self.ev.odds_freshness_minutes:g}",
            "EV_EVENT_START_GRACE_MINUTES": f"{self.ev.event_start_grace_minutes:g}",
            "EV_MIN_EDGE": f"{self.ev.min_edge:g}",
            "EV_MIN_MARKET_EDGE": f"{self.ev.min_market_edge:g}",
            "EV_EXCLUDE_BOOK_TYPES": ",".join(sorted(self.ev.exclude_book_types)),
            "EV_EXCLUDE_MARKETS": ",".join(sorted(self.ev.exclude_markets)),
            "EV_MODEL_VERSION": self.ev.model_version,
            "EV_BLEND_WINDOW_DAYS": str(self.ev.blend_window_days),
            "EV_BLEND_MIN_PROPS": str(self.ev.blend_min_props),
            "EV_CONSENSUS_LEAVE_BOOK_OUT": _flag(self.ev.consensus_leave_book_out),
            "EV_KELLY_FRACTION": f"{self.ev.kelly_fraction:g}",
            "OUTCOMES_LOOKBACK_DAYS": str(self.outcomes.lookback_days),
        }
        return {name: values[name] for name in DEFAULTS}


def _flag(value: bool | None) -> str:
    return "" if value is None else ("on" if value else "off")


# --------------------------------------------------------------------------- parsing


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUTHY:
        return True
    if value in FALSY:
        return False
    raise SettingsError(name, raw, "one of 1/true/yes/on or 0/false/no/off")


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


def parse_name_list(name: str, raw: str, allowed: frozenset[str] | tuple[str, ...],
                    *, allow_all: bool = False, upper: bool = True) -> tuple[str, ...]:
    """Comma list of names (case-insensitive, compared upper-case unless `upper` is False),
    each checked against `allowed`; order kept, no repeats."""
    names: list[str] = []
    for part in raw.split(","):
        item = part.strip().upper() if upper else part.strip().lower()
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


def check_secret(name: str, value: str) -> str:
    """A secret goes into an HTTP header: a control character (a CR or LF left by a CRLF env
    file) would make requests raise an error that quotes the value, so refuse it here,
    without showing it."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise SettingsError(name, value, "no control characters (a trailing CR/LF from a CRLF "
                            "env file?)", secret=True)
    return value


def check_kernel_name(name: str, value: str) -> str:
    """A Jupyter kernel name; Jupyter itself only warns about an invalid one and then fails
    every notebook on it."""
    if not KERNEL_NAME.fullmatch(value):
        raise SettingsError(name, value, "a Jupyter kernel name: letters, digits, '-', '.' "
                            "and '_'")
    return value


def env_step_overrides(env: Mapping[str, str]) -> dict[str, bool]:
    """The step flags set in the environment; these beat CLI flags."""
    return {step.name: parse_bool(step.env_var, env[step.env_var]) for step in STEPS
            if env.get(step.env_var, "").strip() != ""}


class _Env:
    """The environment with documented defaults for empty or unset variables."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def raw(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def get(self, name: str) -> str:
        return self.raw(name) or DEFAULTS[name]

    def number(self, name: str) -> float:
        return parse_number(name, self.get(name))

    def flag(self, name: str) -> bool:
        return parse_bool(name, self.get(name))


def _paths(env: _Env) -> PathSettings:
    ops_home = Path(env.get("OPS_HOME")).expanduser().resolve()
    db_raw = env.raw("OPS_DB_PATH")
    db_path = Path(db_raw).expanduser().resolve() if db_raw else ops_home / "data" / "ops.duckdb"
    notebooks_raw = env.raw("OPS_NOTEBOOK_DIR")
    notebooks = Path(notebooks_raw).expanduser().resolve() if notebooks_raw else REPO_NOTEBOOKS
    if not notebooks.is_dir():
        raise SettingsError("OPS_NOTEBOOK_DIR", str(notebooks),
                            "an existing directory of notebooks")
    return PathSettings(ops_home=ops_home, db_path=db_path, notebooks_dir=notebooks)


def _run(env: _Env) -> RunSettings:
    step_timeout = int(env.number("DAILY_STEP_TIMEOUT_SECONDS"))
    wall_raw = env.raw("DAILY_STEP_WALL_CLOCK_SECONDS")
    wall_clock = (int(parse_number("DAILY_STEP_WALL_CLOCK_SECONDS", wall_raw)) if wall_raw
                  else 3 * step_timeout + 60)
    return RunSettings(fail_fast=env.flag("FAIL_FAST"), step_timeout_seconds=step_timeout,
                       step_wall_clock_seconds=wall_clock,
                       lock_wait_seconds=env.number("RUN_LOCK_WAIT_SECONDS"),
                       kernel_name=check_kernel_name("OPS_KERNEL_NAME",
                                                     env.get("OPS_KERNEL_NAME")),
                       step_flags=env_step_overrides(env.env))


def _http(env: _Env) -> HttpSettings:
    return HttpSettings(connect_timeout=env.number("HTTP_CONNECT_TIMEOUT_SECONDS"),
                        read_timeout=env.number("HTTP_READ_TIMEOUT_SECONDS"),
                        max_attempts=int(env.number("HTTP_MAX_ATTEMPTS")),
                        backoff_seconds=env.number("HTTP_BACKOFF_SECONDS"),
                        retry_after_cap_seconds=env.number("HTTP_RETRY_AFTER_CAP_SECONDS"),
                        total_deadline_seconds=env.number("HTTP_TOTAL_DEADLINE_SECONDS"))


def _vendors(env: _Env) -> VendorSettings:
    enabled = parse_name_list("VENDORS", env.get("VENDORS"), VENDORS)
    if not enabled:
        raise SettingsError("VENDORS", env.raw("VENDORS"), f"at least one of {', '.join(VENDORS)}")
    forced = set(parse_name_list("FORCE_VENDOR_FAILURE", env.get("FORCE_VENDOR_FAILURE"),
                                 VENDORS, allow_all=True))
    forced |= {spec.name for spec in VENDOR_SPECS if env.flag(spec.force_failure_var)}
    base_urls = {}
    for name in (*VENDORS, NHL_API):
        var = f"{name}_BASE_URL"
        url = env.get(var).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise SettingsError(var, url, "an http:// or https:// URL")
        base_urls[name] = url
    secrets = {var: check_secret(var, env.env.get(var, "")) for var in SECRET_VARS}
    return VendorSettings(enabled=enabled, forced_failures=frozenset(forced),
                          base_urls=base_urls,
                          max_body_mb={name: int(env.number(f"{name}_MAX_BODY_MB"))
                                       for name in (*VENDORS, NHL_API)},
                          max_clock_skew_seconds=env.number("CAPTURE_MAX_CLOCK_SKEW_SECONDS"),
                          secrets=secrets)


def _ev_model_version(env: _Env, challengers: tuple[str, ...]) -> str:
    """The snapshot EV prices from: production, or a challenger that is snapshotted."""
    raw = env.get("EV_MODEL_VERSION")
    known = (PRODUCTION_MODEL, *CHALLENGER_MODELS)
    version = raw.strip().lower()
    if version not in known:
        raise SettingsError("EV_MODEL_VERSION", raw, f"one of {', '.join(known)}")
    if version != PRODUCTION_MODEL and version not in challengers:
        raise SettingsError("EV_MODEL_VERSION", raw, f"{PRODUCTION_MODEL}, or a version "
                            "listed in MODEL_CHALLENGERS (only those are snapshotted)")
    return version


def _ev(env: _Env, challengers: tuple[str, ...]) -> EvSettings:
    return EvSettings(
        odds_freshness_minutes=env.number("EV_ODDS_FRESHNESS_MINUTES"),
        event_start_grace_minutes=env.number("EV_EVENT_START_GRACE_MINUTES"),
        min_edge=env.number("EV_MIN_EDGE"),
        min_market_edge=env.number("EV_MIN_MARKET_EDGE"),
        exclude_book_types=frozenset(parse_name_list(
            "EV_EXCLUDE_BOOK_TYPES", env.get("EV_EXCLUDE_BOOK_TYPES"), BOOK_TYPES)),
        exclude_markets=frozenset(parse_name_list(
            "EV_EXCLUDE_MARKETS", env.get("EV_EXCLUDE_MARKETS"), MARKETS)),
        model_version=_ev_model_version(env, challengers),
        blend_window_days=int(env.number("EV_BLEND_WINDOW_DAYS")),
        blend_min_props=int(env.number("EV_BLEND_MIN_PROPS")),
        consensus_leave_book_out=env.flag("EV_CONSENSUS_LEAVE_BOOK_OUT"),
        kelly_fraction=env.number("EV_KELLY_FRACTION"))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Parse the environment (default: os.environ). Raises SettingsError naming the variable."""
    source = _Env(os.environ if env is None else env)
    challengers = parse_name_list("MODEL_CHALLENGERS", source.get("MODEL_CHALLENGERS"),
                                  CHALLENGER_MODELS, upper=False)
    return Settings(
        paths=_paths(source), run=_run(source), http=_http(source), vendors=_vendors(source),
        model=ModelSettings(challengers=challengers),
        ev=_ev(source, challengers),
        outcomes=OutcomesSettings(lookback_days=int(source.number("OUTCOMES_LOOKBACK_DAYS"))),
        explicit=frozenset(name for name in DEFAULTS if source.raw(name)),
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
