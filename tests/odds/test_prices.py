"""helpers.odds.prices: conversions, validity, text parsing, de-vig, EV, Kelly (docs/domain.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers.odds.prices import (
    american_to_decimal,
    decimal_to_american,
    devig_pair,
    ev_per_unit,
    implied_probability,
    is_valid_american,
    is_valid_decimal,
    kelly_fraction,
    parse_american_text,
)

# ---------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("american", "decimal"),
    [(100, 2.0), (150, 2.5), (-110, 1 + 100 / 110), (-200, 1.5), (-188, 1 + 100 / 188),
     (142, 2.42), (-2500, 1.04), (10000, 101.0)],
)
def test_american_to_decimal(american: int, decimal: float) -> None:
    assert american_to_decimal(american) == pytest.approx(decimal, rel=1e-12)


@pytest.mark.parametrize(
    ("decimal", "american"),
    [(2.0, 100), (2.5, 150), (1.5, -200), (1.04, -2500), (1.01, -10000), (1.03, -3333),
     (1.98, -102), (1.91, -110), (101.0, 10000), (26.0, 2500), (1.57, -175), (2.15, 115),
     (1.999, -100), (2.125, 113), (1.995, -101)],
)
def test_decimal_to_american(decimal: float, american: int) -> None:
    result = decimal_to_american(decimal)
    assert result == american
    assert isinstance(result, int)


def test_derived_american_always_valid_for_valid_decimals() -> None:
    decimals = np.concatenate([np.linspace(1.0001, 3.0, 20001), np.linspace(3.0, 1001.0, 5001)])
    american = decimal_to_american(decimals)
    assert not np.isnan(american).any()
    assert (np.abs(american) >= 100).all()
    for d in (1.0001, 1.5, 1.9999, 2.0, 2.0001, 37.5):
        assert abs(decimal_to_american(d)) >= 100


def test_round_trip_american_decimal_american() -> None:
    for a in [*range(100, 3001), *range(-3000, -100)]:
        assert decimal_to_american(american_to_decimal(a)) == a, a
    # -100 and +100 are the same price (EVEN); the canonical form is +100
    assert decimal_to_american(american_to_decimal(-100)) == 100


def test_round_trip_decimal_american_decimal_close() -> None:
    for d in np.round(np.arange(1.01, 10.0, 0.01), 2):
        back = american_to_decimal(decimal_to_american(float(d)))
        assert back == pytest.approx(d, rel=5e-3), d


def test_vectorised_conversions_match_scalars_and_mark_invalid_nan() -> None:
    american = np.array([-188, 142, 100, -100, 0, 50, -99, 250])
    dec = american_to_decimal(american)
    for a, d in zip(american, dec, strict=True):
        if abs(a) >= 100:
            assert d == pytest.approx(american_to_decimal(int(a)))
        else:
            assert math.isnan(d)
    decimals = np.array([1.04, 2.5, 1.0, 0.5, np.nan, 1.98])
    am = decimal_to_american(decimals)
    assert am[0] == -2500 and am[1] == 150 and am[5] == -102
    assert np.isnan(am[2:5]).all()


@pytest.mark.parametrize("bad", [0, 50, -99, 99, -50, float("nan"), float("inf"), True, None, "130"])
def test_invalid_american_rejected(bad: object) -> None:
    assert not is_valid_american(bad)
    with pytest.raises(ValueError):
        american_to_decimal(bad)


@pytest.mark.parametrize("bad", [1.0, 0.99, 0, -2.0, float("nan"), float("inf"), False, None, "2.0"])
def test_invalid_decimal_rejected(bad: object) -> None:
    assert not is_valid_decimal(bad)
    with pytest.raises(ValueError):
        decimal_to_american(bad)
    with pytest.raises(ValueError):
        implied_probability(bad)


def test_validity_boundaries() -> None:
    assert is_valid_american(100) and is_valid_american(-100) and is_valid_american(-101)
    assert is_valid_decimal(1.0000001) and not is_valid_decimal(1.0)
    assert list(is_valid_american(np.array([100, 99, -100, 0]))) == [True, False, True, False]


# ---------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+130", 130), ("-115", -115), ("130", 130), ("EVEN", 100), ("even", 100), ("Even", 100),
     (" +130 ", 130), ("\u2212115", -115), ("+100", 100), ("-100", -100), ("+130.0", 130),
     ("-", None), ("", None), ("N/A", None), (None, None), ("abc", None), ("+1.5", None),
     ("0", None), ("+50", None), ("-99", None), ("1 30", None), ("+ 130", 130)],
)
def test_parse_american_text(text: str | None, expected: int | None) -> None:
    assert parse_american_text(text) == expected


# ---------------------------------------------------------------- pricing


def test_implied_probability() -> None:
    assert implied_probability(2.0) == 0.5
    assert implied_probability(1.25) == pytest.approx(0.8)
    arr = implied_probability(np.array([2.0, 4.0, 1.0]))
    assert arr[0] == 0.5 and arr[1] == 0.25 and math.isnan(arr[2])


def test_devig_pair_multiplicative() -> None:
    # Johnston SOG 1.5 at FanDuel: OVER -188 / UNDER +142
    d_over, d_under = american_to_decimal(-188), american_to_decimal(142)
    p_over, p_under = devig_pair(d_over, d_under)
    io, iu = 1 / d_over, 1 / d_under
    assert io + iu > 1  # the pair carries vig
    assert p_over + p_under == pytest.approx(1.0)
    assert p_over == pytest.approx(io / (io + iu))
    assert p_over > p_under
    # a fair pair stays where it is
    assert devig_pair(2.0, 2.0) == (0.5, 0.5)


def test_devig_pair_vectorised() -> None:
    p_o, p_u = devig_pair(np.array([1.91, 2.0, 1.0]), np.array([1.91, 2.0, 2.0]))
    assert p_o[0] == pytest.approx(0.5) and p_u[1] == pytest.approx(0.5)
    assert math.isnan(p_o[2]) and math.isnan(p_u[2])
    with pytest.raises(ValueError):
        devig_pair(1.0, 2.0)


def test_ev_per_unit() -> None:
    assert ev_per_unit(0.5, 2.2) == pytest.approx(0.1)
    assert ev_per_unit(0.4, 2.0) == pytest.approx(-0.2)
    # push: EV = p_win*(d-1) - p_loss
    assert ev_per_unit(0.4, 2.5, p_push=0.2) == pytest.approx(0.4 * 1.5 - 0.4)
    assert ev_per_unit(0.5, 2.2, 0.0) == pytest.approx(0.5 * 2.2 - 1)
    out = ev_per_unit(np.array([0.5, 0.5, 1.2]), np.array([2.2, 1.0, 2.0]))
    assert out[0] == pytest.approx(0.1) and math.isnan(out[1]) and math.isnan(out[2])
    with pytest.raises(ValueError):
        ev_per_unit(1.5, 2.0)
    with pytest.raises(ValueError):
        ev_per_unit(0.5, 1.0)
    with pytest.raises(ValueError):
        ev_per_unit(0.7, 2.0, p_push=0.5)


def test_kelly_fraction() -> None:
    # b = 1.2, p = .5: f = (1.2*.5 - .5)/1.2
    assert kelly_fraction(0.5, 2.2) == pytest.approx((1.2 * 0.5 - 0.5) / 1.2)
    assert kelly_fraction(0.4, 2.0) == 0.0  # negative edge floored at 0
    assert kelly_fraction(1.0, 1.5) == pytest.approx(1.0)
    # push version reduces to the classic one with p_push = 0 and shrinks q otherwise
    assert kelly_fraction(0.5, 2.2, p_push=0.0) == pytest.approx(kelly_fraction(0.5, 2.2))
    b, p, q = 1.5, 0.4, 0.4
    assert kelly_fraction(p, 2.5, p_push=0.2) == pytest.approx((b * p - q) / (b * (p + q)))
    assert kelly_fraction(0.0, 2.0, p_push=1.0) == 0.0
    out = kelly_fraction(np.array([0.5, 0.4, 0.5]), np.array([2.2, 2.0, 0.9]))
    assert out[0] == pytest.approx(1 / 12) and out[1] == 0.0 and math.isnan(out[2])
    with pytest.raises(ValueError):
        kelly_fraction(-0.1, 2.0)
