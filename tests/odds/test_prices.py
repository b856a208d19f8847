"""helpers.odds.prices: conversions, validity, text parsing, de-vig, EV, Kelly (docs/domain.md)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import brentq

from helpers.odds.prices import (
    DEVIG_METHODS,
    american_to_decimal,
    decimal_to_american,
    devig,
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


def test_ev_per_unit_push_by_hand() -> None:
    # integer line: win 0.5, push 0.2, loss 0.3 at d = 2.1 -> 0.5*1.1 - 0.3
    assert ev_per_unit(0.5, 2.1, p_push=0.2) == pytest.approx(0.25, abs=1e-12)
    # the push refunds: the same p_win without a push loses 0.5 instead of 0.3
    assert ev_per_unit(0.5, 2.1) == pytest.approx(0.05, abs=1e-12)
    out = ev_per_unit(np.array([0.5, 0.5, 0.6]), np.array([2.1, 2.1, 2.1]),
                      p_push=np.array([0.2, 0.0, 0.5]))
    assert out[0] == pytest.approx(0.25) and out[1] == pytest.approx(0.05)
    assert math.isnan(out[2])  # p_win + p_push > 1


# ---------------------------------------------------------------- Kelly fraction


def test_fractional_kelly_by_hand() -> None:
    # p = .55, d = 2: f = (1*.55 - .45)/1 = .10; quarter Kelly .025
    assert kelly_fraction(0.55, 2.0) == pytest.approx(0.10, abs=1e-12)
    assert kelly_fraction(0.55, 2.0, fraction=1.0) == pytest.approx(0.10, abs=1e-12)
    assert kelly_fraction(0.55, 2.0, fraction=0.25) == pytest.approx(0.025, abs=1e-12)
    assert kelly_fraction(0.55, 2.0, fraction=0.5) == pytest.approx(0.05, abs=1e-12)
    # negative edge stays 0 whatever the fraction
    assert kelly_fraction(0.45, 2.0, fraction=0.25) == 0.0
    # push: b = 1.5, p = .4, q = .4 -> f = (.6 - .4)/(1.5*.8) = 1/6
    assert kelly_fraction(0.4, 2.5, p_push=0.2, fraction=0.5) == pytest.approx(1 / 12)
    out = kelly_fraction(np.array([0.55, 0.45, 0.55]), np.array([2.0, 2.0, 1.0]), fraction=0.25)
    assert out[0] == pytest.approx(0.025) and out[1] == 0.0 and math.isnan(out[2])


@pytest.mark.parametrize("bad", [0, 0.0, -0.25, 1.5, float("nan"), float("inf"), True, None, "0.25"])
def test_fractional_kelly_rejects_fraction_outside_0_1(bad: object) -> None:
    with pytest.raises(ValueError):
        kelly_fraction(0.55, 2.0, fraction=bad)
    with pytest.raises(ValueError):  # a parameter, not data: arrays raise too
        kelly_fraction(np.array([0.55]), np.array([2.0]), fraction=bad)


# ---------------------------------------------------------------- de-vig of n outcomes

# Published worked example (penaltyblog README, github.com/martineastwood/penaltyblog,
# "Implied Probabilities"): decimal odds 2.7 / 2.3 / 4.4.
PB_ODDS = [2.7, 2.3, 4.4]
PB_EXPECTED = {
    "multiplicative": [0.35873804, 0.42112726, 0.2201347],
    "additive": [0.3595618, 0.42397404, 0.21646416],
    "shin": [0.35934392, 0.42324385, 0.21741223],
    "power": [0.3591711, 0.42373075, 0.21709815],
}
PB_SHIN_Z = 0.016236442857291165
PB_POWER_K = 1.0309132393169356

MARKETS = [
    [2.7, 2.3, 4.4],
    [1.91, 1.91],
    [1.4, 3.0],
    american_to_decimal(np.array([-188, 142])).tolist(),
    [1.5, 4.2, 7.5],
    [1.25, 6.0, 12.0, 30.0],
    [2.0, 4.0, 4.0],  # no vig
    [2.2, 4.5, 4.5],  # underround (S < 1)
]


def _implied(decimals: list[float]) -> np.ndarray:
    return 1.0 / np.asarray(decimals, dtype="float64")


def _shin_z_of(p: np.ndarray, decimals: list[float]) -> np.ndarray:
    """z recovered from Shin probabilities: the formula solves q^2/S = z*p + (1-z)*p^2."""
    q = _implied(decimals)
    return (q * q / q.sum() - p * p) / (p - p * p)


def _shin_by_brentq(decimals: list[float]) -> tuple[float, np.ndarray]:
    """Independent scalar solve of sum p_i(z) = 1 with the textbook Shin formula."""
    q = _implied(decimals)
    s = q.sum()

    def probs(z: float) -> np.ndarray:
        return (np.sqrt(z * z + 4 * (1 - z) * q * q / s) - z) / (2 * (1 - z))

    z = brentq(lambda z: probs(z).sum() - 1.0, -0.9, 0.9, xtol=1e-15, rtol=1e-15)
    return z, probs(z)


def _power_by_brentq(decimals: list[float]) -> tuple[float, np.ndarray]:
    q = _implied(decimals)
    k = brentq(lambda k: (q**k).sum() - 1.0, 0.1, 10.0, xtol=1e-15, rtol=1e-15)
    return k, q**k


@pytest.mark.parametrize("method", DEVIG_METHODS)
def test_devig_matches_published_example(method: str) -> None:
    p = devig(PB_ODDS, method)
    np.testing.assert_allclose(p, PB_EXPECTED[method], rtol=0, atol=1e-8)


def test_devig_shin_z_and_power_k_match_published_example() -> None:
    p_shin = devig(PB_ODDS, "shin")
    np.testing.assert_allclose(_shin_z_of(p_shin, PB_ODDS), PB_SHIN_Z, rtol=1e-9)
    p_power = devig(PB_ODDS, "power")
    k = np.log(p_power) / np.log(_implied(PB_ODDS))
    np.testing.assert_allclose(k, PB_POWER_K, rtol=1e-9)


def test_devig_shin_matches_mberk_shin_readme() -> None:
    # README of the Python `shin` package (github.com/mberk/shin): [2.6, 2.4, 4.3], computed by
    # the Jullien-Salanie iteration, a different numerical scheme from the bisection here.
    p = devig([2.6, 2.4, 4.3], "shin")
    expected = [0.37299406033208965, 0.4047794109200184, 0.2222265287474275]
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(_shin_z_of(p, [2.6, 2.4, 4.3]), 0.01694251276407055, rtol=1e-8)


def test_devig_matches_r_implied_readme_matrix() -> None:
    # README of the R package `implied` (github.com/opisthokonta/implied), three football
    # matches. Its shin/power numbers come from R solvers with loose default tolerances (uniroot
    # tol ~1.2e-4 on the exponent), so they agree to ~3e-6 only; multiplicative is exact.
    odds = np.array([[4.20, 3.70, 1.95], [2.45, 3.70, 2.90], [2.05, 3.20, 3.80]])
    basic = [[0.2331556, 0.2646631, 0.5021813], [0.3988848, 0.2641264, 0.3369888],
             [0.4586948, 0.2938514, 0.2474538]]
    shin = [[0.2315716, 0.2635742, 0.5048542], [0.4000221, 0.2629271, 0.3370508],
            [0.4645882, 0.2919788, 0.2434331]]
    power = [[0.2311414, 0.2630644, 0.5057942], [0.4003156, 0.2627189, 0.3369655],
             [0.4667139, 0.2908985, 0.2423876]]
    np.testing.assert_allclose(devig(odds, "multiplicative"), basic, rtol=0, atol=1e-7)
    np.testing.assert_allclose(devig(odds, "shin"), shin, rtol=0, atol=5e-6)
    np.testing.assert_allclose(devig(odds, "power"), power, rtol=0, atol=5e-6)
    # the tolerance still separates the methods (they differ by > 1e-4 on these rows)
    assert np.abs(devig(odds, "shin") - np.array(basic)).max() > 1e-3


def test_devig_by_hand_multiplicative_and_additive() -> None:
    # q = .8, .25, .1; S = 1.15; additive removes (S - 1)/3 = .05 from each
    d = [1.25, 4.0, 10.0]
    np.testing.assert_allclose(devig(d, "additive"), [0.75, 0.2, 0.05], rtol=0, atol=1e-12)
    np.testing.assert_allclose(devig(d), np.array([0.8, 0.25, 0.1]) / 1.15, rtol=0, atol=1e-12)


@pytest.mark.parametrize("decimals", MARKETS)
def test_devig_shin_and_power_match_independent_brentq(decimals: list[float]) -> None:
    z, p_shin = _shin_by_brentq(decimals)
    np.testing.assert_allclose(devig(decimals, "shin"), p_shin, rtol=0, atol=1e-10)
    np.testing.assert_allclose(_shin_z_of(devig(decimals, "shin"), decimals), z, atol=1e-9)
    _, p_power = _power_by_brentq(decimals)
    np.testing.assert_allclose(devig(decimals, "power"), p_power, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", DEVIG_METHODS)
@pytest.mark.parametrize("decimals", MARKETS)
def test_devig_sums_to_one_and_stays_in_0_1(method: str, decimals: list[float]) -> None:
    p = devig(decimals, method)
    assert p.shape == (len(decimals),)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert ((p > 0) & (p < 1)).all()


@pytest.mark.parametrize("method", DEVIG_METHODS)
@pytest.mark.parametrize("decimals", [[2.0, 2.0], [2.0, 4.0, 4.0], [1.25, 5.0], [4.0, 4.0, 4.0, 4.0]])
def test_devig_without_vig_returns_implied_probabilities(method: str, decimals: list[float]) -> None:
    q = _implied(decimals)
    assert q.sum() == 1.0
    np.testing.assert_allclose(devig(decimals, method), q, rtol=0, atol=1e-12)


def test_devig_without_vig_has_shin_z_zero_and_power_k_one() -> None:
    for decimals in ([2.0, 4.0, 4.0], [1.25, 5.0]):
        assert np.abs(_shin_z_of(devig(decimals, "shin"), decimals)).max() < 1e-9
        q = _implied(decimals)
        k = np.log(devig(decimals, "power")) / np.log(q)
        np.testing.assert_allclose(k, 1.0, atol=1e-9)


def test_devig_parameters_have_the_sign_of_the_vig() -> None:
    over, under = [2.7, 2.3, 4.4], [2.2, 4.5, 4.5]
    assert _implied(over).sum() > 1 > _implied(under).sum()
    assert (_shin_z_of(devig(over, "shin"), over) > 0.01).all()
    assert (_shin_z_of(devig(under, "shin"), under) < -0.01).all()
    assert (np.log(devig(over, "power")) / np.log(_implied(over)) > 1.01).all()
    assert (np.log(devig(under, "power")) / np.log(_implied(under)) < 0.99).all()


@pytest.mark.parametrize("decimals", [[1.5, 4.2, 7.5], [1.4, 3.0], [1.25, 6.0, 12.0, 30.0]])
def test_devig_favourite_longshot_direction(decimals: list[float]) -> None:
    # with vig, Shin and power take more from the long shot (and give the favourite more)
    # than the proportional method does
    mult = devig(decimals, "multiplicative")
    for method in ("shin", "power"):
        p = devig(decimals, method)
        assert p[-1] < mult[-1] - 1e-4, method
        assert p[0] > mult[0] + 1e-4, method


@pytest.mark.parametrize("decimals", [[1.91, 1.91], [1.4, 3.0], [1.8, 2.3], [1.05, 11.0]])
def test_devig_two_way_shin_equals_additive_by_hand(decimals: list[float]) -> None:
    q = _implied(decimals)
    by_hand = q - (q.sum() - 1.0) / 2
    np.testing.assert_allclose(devig(decimals, "additive"), by_hand, rtol=0, atol=1e-12)
    np.testing.assert_allclose(devig(decimals, "shin"), by_hand, rtol=0, atol=1e-10)


def test_devig_additive_negative_probability_is_rejected() -> None:
    # q = .909, .333, .02; S - 1 = .262, so the long shot would get .02 - .0875 < 0
    bad = [1.1, 3.0, 50.0]
    with pytest.raises(ValueError, match="negative"):
        devig(bad, "additive")
    out = devig(np.array([bad, [1.25, 4.0, 10.0]]), "additive")
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1], [0.75, 0.2, 0.05], atol=1e-12)
    # the other methods handle that market
    for method in ("multiplicative", "shin", "power"):
        assert devig(bad, method).sum() == pytest.approx(1.0)


@pytest.mark.parametrize("method", DEVIG_METHODS)
def test_devig_rows_equal_single_markets(method: str) -> None:
    rows = np.array([[2.7, 2.3, 4.4], [1.5, 4.2, 7.5], [2.0, 4.0, 4.0], [2.2, 4.5, 4.5],
                     [1.9, 1.0, 3.0], [np.nan, 2.0, 2.0], [2.0, np.inf, 3.0], [3.0, 3.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # bad rows must not reach the arithmetic
        out = devig(rows, method)
    assert out.shape == rows.shape
    for row, p in zip(rows[:4], out[:4], strict=True):
        np.testing.assert_allclose(p, devig(row.tolist(), method), rtol=0, atol=1e-13)
    assert np.isnan(out[4:]).all()
    two_way = devig(np.array([[1.91, 1.91], [1.4, 3.0], [0.9, 2.0]]), method)
    np.testing.assert_allclose(two_way[1], devig([1.4, 3.0], method), rtol=0, atol=1e-13)
    assert np.isnan(two_way[2]).all() and not np.isnan(two_way[:2]).any()


def test_devig_vectorised_many_rows_sum_to_one() -> None:
    rng = np.random.default_rng(7)
    rows = 1.0 + rng.exponential(2.0, size=(2000, 3))
    for method in ("multiplicative", "shin", "power"):
        p = devig(rows, method)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-13)
    assert devig(np.empty((0, 3)), "shin").shape == (0, 3)


@pytest.mark.parametrize("method", DEVIG_METHODS)
@pytest.mark.parametrize("bad", [1.0, 0.5, -2.0, float("nan"), float("inf"), True, None, "2.0"])
def test_devig_invalid_price_raises_for_one_market(method: str, bad: object) -> None:
    with pytest.raises(ValueError):
        devig([2.0, bad, 3.0], method)


def test_devig_rejects_bad_shapes_and_methods() -> None:
    with pytest.raises(ValueError):
        devig([2.0])  # one outcome
    with pytest.raises(ValueError):
        devig(np.array([[2.0], [3.0]]))
    with pytest.raises(ValueError):
        devig(2.0)
    with pytest.raises(ValueError):
        devig(np.full((2, 2, 2), 2.0))
    with pytest.raises(ValueError, match="method"):
        devig([2.0, 2.0], "proportional")


def test_devig_pair_methods() -> None:
    # default stays multiplicative; the two-way Shin equals additive removal
    assert devig_pair(1.8, 2.3) == pytest.approx(tuple(devig([1.8, 2.3])), abs=1e-15)
    q_o, q_u = 1 / 1.8, 1 / 2.3
    half_vig = (q_o + q_u - 1) / 2
    for method in ("additive", "shin"):
        p_o, p_u = devig_pair(1.8, 2.3, method=method)
        assert isinstance(p_o, float)
        assert p_o == pytest.approx(q_o - half_vig, abs=1e-10)
        assert p_u == pytest.approx(q_u - half_vig, abs=1e-10)
    p_o, p_u = devig_pair(np.array([1.8, 1.4, 1.0]), 2.3, method="power")
    assert p_o[0] == pytest.approx(devig([1.8, 2.3], "power")[0], abs=1e-13)
    assert p_o[1] + p_u[1] == pytest.approx(1.0)
    assert math.isnan(p_o[2]) and math.isnan(p_u[2])
    with pytest.raises(ValueError):
        devig_pair(1.8, 2.3, method="nope")
