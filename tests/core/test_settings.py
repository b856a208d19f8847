from pathlib import Path

import pytest

from helpers.core.errors import SettingsError
from helpers.core.settings import env_step_overrides, load_settings, redact


def test_defaults_are_documented_values(tmp_path: Path) -> None:
    settings = load_settings({"OPS_HOME": str(tmp_path)})
    assert settings.paths.db_path == tmp_path / "data" / "ops.duckdb"
    assert settings.vendors.enabled == ("PLAYNOW", "UNABATED", "ODDSSHARK")
    assert settings.run.step_timeout_seconds == 900
    assert settings.http.connect_timeout == 10 and settings.http.read_timeout == 30
    assert settings.http.max_attempts == 3
    assert settings.run.fail_fast is False
    assert settings.vendors.forced_failures == frozenset()
    assert settings.run.step_flags == {}
    assert settings.vendors.base_urls["UNABATED"] == "https://content.unabated.com"
    assert settings.vendors.max_clock_skew_seconds == 900


@pytest.mark.parametrize(("name", "value"), [
    ("RUN_EV", "maybe"),
    ("FAIL_FAST", "2"),
    ("DAILY_STEP_TIMEOUT_SECONDS", "-5"),
    ("DAILY_STEP_TIMEOUT_SECONDS", "soon"),
    ("HTTP_MAX_ATTEMPTS", "0"),
    ("VENDORS", "PLAYNOW,BETFAIR"),
    ("FORCE_VENDOR_FAILURE", "DRAFTKINGS"),
    ("UNABATED_BASE_URL", "ftp://x"),
    ("EV_EXCLUDE_BOOK_TYPES", "CASINO"),
    ("EV_MIN_MARKET_EDGE", "-1.5"),
    ("EV_MIN_EDGE", "lots"),
    ("EV_ODDS_FRESHNESS_MINUTES", "0"),
    ("EV_EXCLUDE_MARKETS", "PPP"),
    ("MODEL_CHALLENGERS", "p10-nhlapi"),  # production is not a challenger
    ("MODEL_CHALLENGERS", "eb-seasn"),
    ("EV_MODEL_VERSION", "eb-seasn"),
    ("EV_MODEL_VERSION", "eb-season"),  # a challenger EV prices from must be snapshotted
    ("EV_BLEND_WINDOW_DAYS", "0"),
    ("EV_BLEND_MIN_PROPS", "5"),
    ("EV_KELLY_FRACTION", "1.5"),
    ("EV_CONSENSUS_LEAVE_BOOK_OUT", "maybe"),
])
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({name: value})
    assert str(info.value).startswith(f"{name}=")


def test_ev_prices_from_a_snapshotted_challenger_when_asked() -> None:
    assert load_settings({}).ev.model_version == "p10-nhlapi"
    settings = load_settings({"MODEL_CHALLENGERS": "eb-season", "EV_MODEL_VERSION": "EB-Season"})
    assert settings.ev.model_version == "eb-season"
    assert settings.effective()["EV_MODEL_VERSION"] == "eb-season"


@pytest.mark.parametrize("truthy", ["1", "true", "YES", "On"])
def test_truthy_spellings(truthy: str) -> None:
    assert env_step_overrides({"RUN_EV": truthy}) == {"ev": True}


def test_falsy_and_unset_step_flags() -> None:
    assert env_step_overrides({"RUN_EV": "off", "RUN_OUTCOMES": ""}) == {"ev": False}


def test_forced_failures_combine_list_and_single_flags() -> None:
    settings = load_settings({"FORCE_VENDOR_FAILURE": "playnow", "FORCE_ODDSSHARK_FAILURE": "1"})
    assert settings.vendors.forced_failures == {"PLAYNOW", "ODDSSHARK"}
    assert load_settings({"FORCE_VENDOR_FAILURE": "ALL"}).vendors.forced_failures == {
        "PLAYNOW", "UNABATED", "ODDSSHARK"}


def test_model_challengers_are_optional_and_case_insensitive() -> None:
    assert load_settings({}).model.challengers == ()
    settings = load_settings({"MODEL_CHALLENGERS": " EB-Season, eb-season "})
    assert settings.model.challengers == ("eb-season",)
    assert settings.effective()["MODEL_CHALLENGERS"] == "eb-season"


def test_vendor_subset_and_secret_redaction() -> None:
    settings = load_settings({"VENDORS": "unabated", "PLAYNOW_COOKIE": "s3cr3t-cookie"})
    assert settings.vendors.enabled == ("UNABATED",)
    assert "s3cr3t-cookie" not in repr(settings)
    assert redact("GET /x?c=s3cr3t-cookie", settings.secret_values()) == "GET /x?c=***"


def test_explicit_records_only_set_variables() -> None:
    settings = load_settings({"FAIL_FAST": "0", "RUN_EV": ""})
    assert "FAIL_FAST" in settings.explicit
    assert "RUN_EV" not in settings.explicit


@pytest.mark.parametrize(("name", "value"), [
    ("DAILY_STEP_TIMEOUT_SECONDS", "inf"),
    ("DAILY_STEP_TIMEOUT_SECONDS", "nan"),
    ("DAILY_STEP_TIMEOUT_SECONDS", "1e300"),
    ("DAILY_STEP_TIMEOUT_SECONDS", "90.5"),
    ("DAILY_STEP_WALL_CLOCK_SECONDS", "-inf"),
    ("RUN_LOCK_WAIT_SECONDS", "NaN"),
    ("HTTP_READ_TIMEOUT_SECONDS", "inf"),
    ("HTTP_MAX_ATTEMPTS", "2.5"),
    ("HTTP_MAX_ATTEMPTS", "99"),
    ("HTTP_BACKOFF_SECONDS", "1e9"),
    ("EV_MIN_EDGE", "nan"),
    ("EV_ODDS_FRESHNESS_MINUTES", "infinity"),
    ("OUTCOMES_LOOKBACK_DAYS", "1e6"),
    ("CAPTURE_MAX_CLOCK_SKEW_SECONDS", "0"),  # would refuse every honest capture
    ("CAPTURE_MAX_CLOCK_SKEW_SECONDS", "59"),
    ("CAPTURE_MAX_CLOCK_SKEW_SECONDS", "inf"),  # would switch the check off
    ("CAPTURE_MAX_CLOCK_SKEW_SECONDS", "1e9"),
])
def test_every_number_must_be_finite_and_within_its_bounds(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({name: value})
    assert str(info.value).startswith(f"{name}=")


def test_every_numeric_default_obeys_its_own_rule(tmp_path: Path) -> None:
    from helpers.core.settings import DEFAULTS, NUMBER_RULES, parse_number

    # A derived default ("<3 x step timeout + 60>") has no number of its own: check the
    # value load_settings derives from the other defaults instead of skipping it.
    effective = load_settings({"OPS_HOME": str(tmp_path)}).effective()
    for name, rule in NUMBER_RULES.items():
        raw = effective[name] if DEFAULTS[name].startswith("<") else DEFAULTS[name]
        value = parse_number(name, raw, rule)  # raises SettingsError if raw breaks the rule
        assert value == float(raw), name
        # The rule restated, so that this fails even if parse_number stopped checking it.
        above_minimum = value >= rule.minimum if rule.allow_minimum else value > rule.minimum
        assert above_minimum and value <= rule.maximum, (name, value, rule)
        # An integer rule hands back an int (a whole default), any other a float.
        assert isinstance(value, int if rule.integer else float), (name, value, rule)


@pytest.mark.parametrize("value", [",", " , ,"])
def test_an_empty_vendor_list_is_refused(value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"VENDORS": value})
    assert str(info.value).startswith("VENDORS=")


@pytest.mark.parametrize("value", ["SECRETMARKER123\r", "SECRETMARKER123\n", "SECRET\tMARKER123"])
def test_a_secret_with_a_control_character_is_refused_without_showing_it(value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"PLAYNOW_COOKIE": value})
    message = str(info.value)
    assert message.startswith("PLAYNOW_COOKIE=") and "control character" in message
    assert "SECRET" not in message and "MARKER123" not in message


def test_redaction_covers_the_escaped_and_stripped_forms_of_a_secret() -> None:
    secrets = ("SECRETMARKER123\r",)
    assert redact("header value 'SECRETMARKER123\\r' invalid", secrets) == \
        "header value '***' invalid"
    assert redact("cookie SECRETMARKER123 seen", secrets) == "cookie *** seen"
