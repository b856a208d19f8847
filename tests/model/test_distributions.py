"""helpers.model.distributions: line probabilities, the per-market choice, the guardrails
(docs/domain.md section 5). Expected values come from closed forms or from summing pmfs written
out here, not from the module's own scipy calls."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.core.errors import DataCheckError
from helpers.core.markets import MARKETS
from helpers.model.distributions import (
    MARKET_DISTRIBUTIONS,
    MU_RANGES,
    P_MIN,
    PROBLEM_COLUMNS,
    STANDARD_LINES,
    line_probabilities,
    market_probabilities,
    mu_problems,
)


def poisson_pmf(k: int, mu: float) -> float:
    return math.exp(-mu) * mu**k / math.factorial(k)


def negbin_pmf(k: int, mu: float, alpha: float) -> float:
    """NB2 pmf from first principles: Gamma(k + r) / (k! Gamma(r)) p^r (1-p)^k, r = 1/alpha,
    p = r / (r + mu)."""
    r = 1.0 / alpha
    p = r / (r + mu)
    log = math.lgamma(k + r) - math.lgamma(k + 1) - math.lgamma(r)
    return math.exp(log + r * math.log(p) + k * math.log1p(-p))


# ---------------------------------------------------------------- constants


def test_tables_cover_every_market() -> None:
    assert set(MARKET_DISTRIBUTIONS) == set(MARKETS)
    assert set(STANDARD_LINES) == set(MARKETS)
    assert set(MU_RANGES) == set(MARKETS)


def test_market_distributions() -> None:
    assert MARKET_DISTRIBUTIONS["GOALS"] == ("poisson", None)
    assert MARKET_DISTRIBUTIONS["ASSISTS"] == ("poisson", None)
    assert MARKET_DISTRIBUTIONS["POINTS"] == ("poisson", None)
    assert MARKET_DISTRIBUTIONS["SOG"] == ("negbin", 0.35)
    assert MARKET_DISTRIBUTIONS["BLOCKS"] == ("negbin", 0.60)


def test_standard_lines() -> None:
    assert STANDARD_LINES == {
        "GOALS": (0.5,), "ASSISTS": (0.5,), "POINTS": (0.5, 1.5),
        "SOG": (1.5, 2.5, 3.5, 4.5), "BLOCKS": (0.5, 1.5, 2.5),
    }


def test_mu_ranges_are_ordered_and_positive() -> None:
    for low, high in MU_RANGES.values():
        assert 0 < low < high


# ---------------------------------------------------------------- line_probabilities


def test_poisson_half_line_closed_form() -> None:
    p_over, p_under, p_push = line_probabilities(0.3, 0.5, "poisson")
    assert p_over == pytest.approx(1 - math.exp(-0.3), abs=1e-12)
    assert p_under == pytest.approx(math.exp(-0.3), abs=1e-12)
    assert p_push == 0.0


def test_poisson_higher_half_line_sums_the_pmf() -> None:
    # SOG-like mean at 2.5: over = P(X >= 3)
    p_over, p_under, p_push = line_probabilities(2.8, 2.5, "poisson")
    below = sum(poisson_pmf(k, 2.8) for k in range(3))
    assert p_over == pytest.approx(1 - below, abs=1e-12)
    assert p_under == pytest.approx(below, abs=1e-12)
    assert p_push == 0.0


def test_poisson_integer_line_pushes_at_the_line() -> None:
    p_over, p_under, p_push = line_probabilities(1.7, 2.0, "poisson")
    assert p_push == pytest.approx(poisson_pmf(2, 1.7), abs=1e-12)
    assert p_under == pytest.approx(poisson_pmf(0, 1.7) + poisson_pmf(1, 1.7), abs=1e-12)
    assert p_over == pytest.approx(1 - sum(poisson_pmf(k, 1.7) for k in range(3)), abs=1e-12)


def test_negbin_integer_line_pushes_at_the_line() -> None:
    p_over, p_under, p_push = line_probabilities(2.6, 2, "negbin", 0.35)
    pmf = [negbin_pmf(k, 2.6, 0.35) for k in range(3)]
    assert p_push == pytest.approx(pmf[2], abs=1e-12)
    assert p_under == pytest.approx(pmf[0] + pmf[1], abs=1e-12)
    assert p_over == pytest.approx(1 - sum(pmf), abs=1e-12)


def test_negbin_zero_line_half() -> None:
    # P(X = 0) = (1 / (1 + alpha mu))^(1/alpha)
    mu, alpha = 1.2, 0.6
    p_over, p_under, _ = line_probabilities(mu, 0.5, "negbin", alpha)
    assert p_under == pytest.approx((1 / (1 + alpha * mu)) ** (1 / alpha), abs=1e-12)
    assert p_over == pytest.approx(1 - p_under, abs=1e-15)


@pytest.mark.parametrize(("mu", "alpha"), [(3.1, 0.35), (1.1, 0.60)])
def test_negbin_mean_and_variance_from_the_pmf(mu: float, alpha: float) -> None:
    """The parameterisation gives E = mu and Var = mu + alpha mu^2. The pmf of X at each k is
    read back from line_probabilities as the push at integer line k."""
    ks = np.arange(0, 200)
    _, _, pmf = line_probabilities(mu, ks.astype(float), "negbin", alpha)
    # pmf values below the push cap are exact; the sum must be a probability distribution
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    mean = float((ks * pmf).sum())
    var = float(((ks - mean) ** 2 * pmf).sum())
    assert mean == pytest.approx(mu, rel=1e-9)
    assert var == pytest.approx(mu + alpha * mu**2, rel=1e-9)
    # and agrees with the first-principles pmf
    assert pmf[:10] == pytest.approx([negbin_pmf(int(k), mu, alpha) for k in ks[:10]], rel=1e-9)


def test_negbin_has_fatter_tails_than_poisson() -> None:
    over_nb, _, _ = line_probabilities(2.5, 6.5, "negbin", 0.35)
    over_p, _, _ = line_probabilities(2.5, 6.5, "poisson")
    assert over_nb > over_p


@pytest.mark.parametrize(("distribution", "alpha"),
                         [("poisson", None), ("negbin", 0.35), ("negbin", 0.60)])
def test_three_outcomes_sum_to_one_everywhere(distribution: str, alpha: float | None) -> None:
    mu = np.geomspace(1e-9, 50, 400)[:, None]
    line = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.5, 7.0, 12.5, 30.0])[None, :]
    p_over, p_under, p_push = line_probabilities(mu, line, distribution, alpha)
    assert p_over.shape == p_under.shape == p_push.shape == (400, 11)
    assert np.max(np.abs(p_over + p_under + p_push - 1)) < 1e-9
    for p in (p_over, p_under):
        assert p.min() >= P_MIN
        assert p.max() <= 1 - P_MIN
    assert p_push.min() >= 0
    half = (line % 1 != 0).ravel()
    assert np.all(p_push[:, half] == 0)


@pytest.mark.parametrize(("distribution", "alpha"), [("poisson", None), ("negbin", 0.35)])
@pytest.mark.parametrize("line", [0.5, 1.5, 2.0, 3.5])
def test_p_over_increases_with_mu(distribution: str, alpha: float | None, line: float) -> None:
    mu = np.linspace(0.05, 10, 300)
    p_over, p_under, _ = line_probabilities(mu, line, distribution, alpha)
    assert np.all(np.diff(p_over) >= 0)
    interior = (p_over > 2 * P_MIN) & (p_over < 0.99)  # away from the clip and the top
    assert interior.sum() > 100
    assert np.all(np.diff(p_over[interior]) > 0)
    assert np.all(np.diff(p_under) <= 0)


def test_p_over_decreases_with_the_line() -> None:
    p_over, _, _ = line_probabilities(2.5, np.array([0.5, 1.5, 2.5, 3.5, 4.5]), "negbin", 0.35)
    assert np.all(np.diff(p_over) < 0)


def test_tiny_positive_mu_prices_at_the_floor() -> None:
    """mu > 0 however small is a probability (the guardrails flag it as out of range):
    P(over 0.5) = 1 - e^-1e-9 ~ 1e-9 is floored at 1e-6, the under is the remainder."""
    p_over, p_under, p_push = line_probabilities(1e-9, 0.5, "poisson")
    assert p_over == P_MIN
    assert p_under == 1 - P_MIN
    assert p_push == 0.0


def test_huge_mu_clips_the_under() -> None:
    p_over, p_under, p_push = line_probabilities(60.0, 0.5, "poisson")
    assert p_under == P_MIN  # e^-60 is far below the floor
    assert p_over == 1 - P_MIN
    assert p_push == 0.0


def test_clipping_floors_the_small_side_and_keeps_push_exact() -> None:
    """Integer line 0: the under, P(X < 0), is impossible. It is floored at 1e-6 and the over
    gives that mass up, so p_push = P(X = 0) stays exact."""
    mu = 0.2
    p_over, p_under, p_push = line_probabilities(mu, 0, "poisson")
    assert p_push == pytest.approx(math.exp(-mu), abs=1e-15)
    assert p_under == P_MIN
    assert p_over == pytest.approx(1 - math.exp(-mu) - P_MIN, abs=1e-15)


def test_clipping_at_an_integer_line_in_the_far_tail() -> None:
    # P(X > 20 | mu 1) ~ 1e-19 and P(X = 20) ~ 1.6e-19: the over is floored and taken from the
    # under; the push is exact
    p_over, p_under, p_push = line_probabilities(1.0, 20, "poisson")
    assert p_over == P_MIN
    assert p_push == pytest.approx(poisson_pmf(20, 1.0), rel=1e-9)
    assert p_over + p_under + p_push == pytest.approx(1.0, abs=1e-15)


def test_degenerate_certain_push_is_capped() -> None:
    # line 0 with mu 1e-9: P(X = 0) ~ 1 - 1e-9; both sides hold the floor, push gives 2e-6
    p_over, p_under, p_push = line_probabilities(1e-9, 0, "poisson")
    assert p_over == P_MIN
    assert p_under == P_MIN
    assert p_push == pytest.approx(1 - 2 * P_MIN, abs=1e-15)


def test_scalars_in_floats_out_and_arrays_broadcast() -> None:
    out = line_probabilities(1.0, 0.5, "poisson")
    assert all(isinstance(p, float) for p in out)
    p_over, _, _ = line_probabilities([0.5, 1.0, 2.0], 1.5, "negbin", 0.6)
    assert isinstance(p_over, np.ndarray)
    assert p_over.shape == (3,)


@pytest.mark.parametrize("bad_mu", [0.0, -0.4, float("nan"), float("inf"), -float("inf")])
def test_bad_mu_is_a_data_error(bad_mu: float) -> None:
    mu = np.array([0.4, 1.2, bad_mu, 0.8, bad_mu])
    with pytest.raises(DataCheckError, match=r"mu must be finite and > 0.*2 of 5 rows.*row 2"):
        line_probabilities(mu, 0.5, "poisson")


def test_mu_zero_scalar_is_a_data_error_not_a_probability() -> None:
    with pytest.raises(DataCheckError, match=r"mu=0\.0"):
        line_probabilities(0.0, 0.5, "negbin", 0.35)


@pytest.mark.parametrize("bad_line", [-0.5, float("nan"), float("inf")])
def test_bad_line_is_a_data_error(bad_line: float) -> None:
    with pytest.raises(DataCheckError, match=r"line must be finite and >= 0.*1 of 3 rows"):
        line_probabilities(1.0, [0.5, bad_line, 1.5], "poisson")


def test_non_numeric_mu_is_a_data_error() -> None:
    with pytest.raises(DataCheckError, match="not numeric"):
        line_probabilities(["a"], 0.5, "poisson")


@pytest.mark.parametrize(("distribution", "alpha"),
                         [("gamma", None), ("poisson", 0.3), ("negbin", None), ("negbin", 0.0),
                          ("negbin", -1.0), ("negbin", float("nan"))])
def test_bad_distribution_arguments(distribution: str, alpha: float | None) -> None:
    with pytest.raises(ValueError, match=r"distribution|alpha"):
        line_probabilities(1.0, 0.5, distribution, alpha)


# ---------------------------------------------------------------- market_probabilities


def slate(n_per_market: int = 1400, seed: int = 7) -> pd.DataFrame:
    """A realistic slate: every market at its standard lines, mu drawn in its usual range."""
    rng = np.random.default_rng(seed)
    typical = {"GOALS": (0.05, 0.6), "ASSISTS": (0.05, 0.9), "POINTS": (0.1, 1.4),
               "SOG": (0.6, 4.5), "BLOCKS": (0.2, 2.8)}
    parts = []
    for market, (low, high) in typical.items():
        lines = STANDARD_LINES[market]
        parts.append(pd.DataFrame({
            "market_type": market,
            "line": rng.choice(lines, n_per_market),
            "mu": rng.uniform(low, high, n_per_market),
        }))
    return pd.concat(parts, ignore_index=True).sample(frac=1, random_state=seed)


def test_market_probabilities_chooses_the_distribution_per_market() -> None:
    frame = pd.DataFrame({
        "market_type": ["GOALS", "SOG", "BLOCKS", "POINTS", "ASSISTS"],
        "line": [0.5, 2.5, 1.5, 1.5, 0.5],
        "mu": [0.3, 2.6, 1.1, 0.9, 0.4],
        "player_id": [1, 2, 3, 4, 5],
    }, index=[10, 11, 12, 13, 14])
    before = frame.copy()
    out = market_probabilities(frame)
    pd.testing.assert_frame_equal(frame, before)  # not modified
    assert out is not frame
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert list(out["player_id"]) == [1, 2, 3, 4, 5]
    assert list(out["distribution"]) == ["poisson", "negbin", "negbin", "poisson", "poisson"]
    assert out["alpha"].iloc[[1, 2]].tolist() == [0.35, 0.60]
    assert out["alpha"].iloc[[0, 3, 4]].isna().all()
    assert out.loc[10, "p_over"] == pytest.approx(1 - math.exp(-0.3), abs=1e-12)
    sog_under = sum(negbin_pmf(k, 2.6, 0.35) for k in range(3))
    assert out.loc[11, "p_under"] == pytest.approx(sog_under, abs=1e-12)
    blocks_over = 1 - negbin_pmf(0, 1.1, 0.6) - negbin_pmf(1, 1.1, 0.6)
    assert out.loc[12, "p_over"] == pytest.approx(blocks_over, abs=1e-12)
    points_over = 1 - poisson_pmf(0, 0.9) - poisson_pmf(1, 0.9)
    assert out.loc[13, "p_over"] == pytest.approx(points_over, abs=1e-12)
    assert (out["p_push"] == 0).all()


def test_market_probabilities_on_a_full_slate() -> None:
    frame = slate()  # 7,000 rows, one vectorised call per market
    out = market_probabilities(frame)
    assert len(out) == 7000
    total = out["p_over"] + out["p_under"] + out["p_push"]
    assert np.max(np.abs(total - 1)) < 1e-9
    assert out["p_over"].between(P_MIN, 1 - P_MIN).all()
    assert out.index.equals(frame.index)


def test_market_probabilities_integer_line_push() -> None:
    frame = pd.DataFrame({"market_type": ["SOG"], "line": [3.0], "mu": [3.0]})
    out = market_probabilities(frame)
    assert out["p_push"].iloc[0] == pytest.approx(negbin_pmf(3, 3.0, 0.35), abs=1e-12)


def test_market_probabilities_empty_frame() -> None:
    frame = pd.DataFrame({"market_type": pd.Series([], dtype=object),
                          "line": pd.Series([], dtype=float), "mu": pd.Series([], dtype=float)})
    out = market_probabilities(frame)
    assert out.empty
    assert {"p_over", "p_under", "p_push", "distribution", "alpha"} <= set(out.columns)


def test_market_probabilities_names_the_bad_row() -> None:
    frame = pd.DataFrame({"market_type": ["GOALS", "SOG", "SOG"], "line": [0.5, 2.5, 3.5],
                          "mu": [0.3, 0.0, 0.0]}, index=["a", "b", "c"])
    with pytest.raises(DataCheckError, match=r"2 of 3 rows.*index 'b' \(SOG\).*mu=0.0"):
        market_probabilities(frame)


def test_market_probabilities_rejects_an_unknown_market() -> None:
    frame = pd.DataFrame({"market_type": ["GOALS", "HITS"], "line": [0.5, 1.5],
                          "mu": [0.3, 1.0]})
    with pytest.raises(DataCheckError, match=r"market_type.*HITS"):
        market_probabilities(frame)


def test_market_probabilities_requires_its_columns() -> None:
    with pytest.raises(DataCheckError, match="mu"):
        market_probabilities(pd.DataFrame({"market_type": ["GOALS"], "line": [0.5]}))


# ---------------------------------------------------------------- guardrails


def checks(problems: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(problems["market"], problems["check"], strict=True))


def test_guardrails_are_silent_on_a_realistic_slate() -> None:
    problems = mu_problems(slate())
    assert list(problems.columns) == list(PROBLEM_COLUMNS)
    assert problems.empty


def test_guardrail_range() -> None:
    frame = slate(100)
    frame.loc[frame["market_type"].eq("SOG").idxmax(), "mu"] = 11.0
    frame.loc[frame["market_type"].eq("GOALS").idxmax(), "mu"] = 0.004
    problems = mu_problems(frame)
    assert checks(problems) == {("SOG", "range"), ("GOALS", "range")}
    detail = problems.set_index("market").loc["SOG", "detail"]
    assert "1 above 8.0" in detail
    assert "11" in detail


def test_guardrail_quantised() -> None:
    rng = np.random.default_rng(1)
    mu = np.round(rng.uniform(0.6, 4.5, 40), 1)  # values like 2.3, as a rounded input gives
    mu[:15] = rng.uniform(0.6, 4.5, 15)  # 25 of 40 quantised: more than half
    frame = pd.DataFrame({"market_type": "SOG", "mu": mu})
    assert checks(mu_problems(frame)) == {("SOG", "quantised")}


def test_guardrail_quantised_needs_more_than_half_and_enough_rows() -> None:
    rng = np.random.default_rng(2)
    half = np.round(rng.uniform(0.6, 4.5, 40), 1)
    half[:20] = rng.uniform(0.6, 4.5, 20)  # exactly half: not more than half
    assert mu_problems(pd.DataFrame({"market_type": "SOG", "mu": half})).empty
    few = np.round(rng.uniform(0.6, 4.5, 19), 1)  # all quantised but only 19 rows
    assert mu_problems(pd.DataFrame({"market_type": "SOG", "mu": few})).empty


def test_guardrail_order_of_magnitude() -> None:
    frame = slate(200)
    goals = frame["market_type"].eq("GOALS")
    frame.loc[goals, "mu"] = frame.loc[goals, "mu"] / 60  # a per-minute rate
    found = checks(mu_problems(frame))
    assert ("GOALS", "order of magnitude") in found
    assert ("GOALS", "range") in found  # most rows are also below 0.01
    assert {m for m, _ in found} == {"GOALS"}


def test_guardrail_order_of_magnitude_alone() -> None:
    """GOALS: a tenth of sqrt(0.01 * 1.5) is 0.0122, above the range's low 0.01, so a median
    of about 0.011 fires the check while no row is out of range."""
    mu = np.r_[np.linspace(0.0110, 0.0115, 30), np.linspace(0.5, 1.0, 10)]
    found = checks(mu_problems(pd.DataFrame({"market_type": "GOALS", "mu": mu})))
    assert found == {("GOALS", "order of magnitude")}


def test_guardrail_order_of_magnitude_too_large() -> None:
    # ten times the geometric middle: BLOCKS sqrt(0.02 * 5) * 10 = 3.16; all rows in range
    mu = np.linspace(3.3, 4.9, 40) + 1e-3
    found = checks(mu_problems(pd.DataFrame({"market_type": "BLOCKS", "mu": mu})))
    assert found == {("BLOCKS", "order of magnitude")}


def test_guardrail_invalid_and_unknown_rows_are_reported_not_raised() -> None:
    frame = pd.DataFrame({"market_type": ["GOALS", "GOALS", "HITS", None],
                          "mu": [0.0, float("nan"), 1.0, 0.5]})
    problems = mu_problems(frame)
    found = checks(problems)
    assert ("GOALS", "invalid") in found
    assert ("HITS", "unknown market") in found
    assert ("<missing>", "unknown market") in found
    assert "2 of 2 rows" in problems.set_index(["market", "check"]).loc[("GOALS", "invalid"),
                                                                       "detail"]


def test_guardrails_on_an_empty_frame() -> None:
    problems = mu_problems(pd.DataFrame({"market_type": [], "mu": []}))
    assert problems.empty
    assert list(problems.columns) == list(PROBLEM_COLUMNS)
