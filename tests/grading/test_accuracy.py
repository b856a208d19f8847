"""helpers.grading.accuracy: log loss, baseline, Brier, ECE with its bin table, ROC AUC, top-K,
and the per-group table (docs/domain.md section 8). Expected values are worked out by hand in
the comments (natural logs to 16 digits), or by brute force over pairs, never by the module."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from helpers.grading.accuracy import (
    BIN_COLUMNS,
    METRIC_COLUMNS,
    accuracy_table,
    baseline_log_loss,
    brier,
    ece,
    log_loss,
    roc_auc,
    same_props,
    top_k_hit_rate,
)

LN = {0.9: 0.10536051565782628, 0.8: 0.2231435513142097, 0.6: 0.5108256237659907,
      0.5: 0.6931471805599453, 0.4: 0.916290731874155, 0.3: 1.2039728043259361,
      0.25: 1.3862943611198906, 0.75: 0.2876820724517809}  # -ln(x)

# ---------------------------------------------------------------- log loss and Brier


def test_log_loss_and_brier_by_hand() -> None:
    p, y = [0.9, 0.2, 0.6, 0.5], [1, 0, 0, 1]
    # -ln 0.9 - ln 0.8 - ln 0.4 - ln 0.5
    # = 0.10536051565782628 + 0.2231435513142097 + 0.916290731874155 + 0.6931471805599453
    # = 1.9379419794061363; / 4 = 0.48448549485153408
    assert LN[0.9] + LN[0.8] + LN[0.4] + LN[0.5] == pytest.approx(1.9379419794061363, abs=1e-15)
    assert log_loss(p, y) == pytest.approx(0.48448549485153408, rel=1e-14)
    # (0.1² + 0.2² + 0.6² + 0.5²) / 4 = (0.01 + 0.04 + 0.36 + 0.25) / 4 = 0.66 / 4 = 0.165
    assert brier(p, y) == pytest.approx(0.165, rel=1e-14)


def test_log_loss_clips_at_1e_minus_15() -> None:
    # p = 0 with y = 1 costs -ln(1e-15) = 15 ln 10 = 34.538776394910684, not infinity
    assert log_loss([0.0], [1]) == pytest.approx(34.538776394910684, rel=1e-14)
    # and symmetrically p = 1 with y = 0 (clipping p itself would give 34.5396 here, because
    # the float 1 - 1e-15 is 1 - 0.9992e-15)
    assert log_loss([1.0], [0]) == log_loss([0.0], [1])
    # the right certainty costs -ln(1 - 1e-15), about 1e-15
    assert log_loss([1.0, 0.0], [1, 0]) == pytest.approx(1e-15, abs=1e-16)


# ---------------------------------------------------------------- baseline


def test_baseline_at_hit_rate_one_quarter() -> None:
    y = [1, 0, 0, 0]
    # p = 0.25 everywhere: -(0.25 ln 0.25 + 0.75 ln 0.75)
    # = 0.25 * 1.3862943611198906 + 0.75 * 0.2876820724517809 = 0.5623351446188083
    expected = 0.25 * LN[0.25] + 0.75 * LN[0.75]
    assert expected == pytest.approx(0.5623351446188083, abs=1e-15)
    assert baseline_log_loss(y) == pytest.approx(0.5623351446188083, rel=1e-14)
    # a sharper right model: (-ln 0.7 - 2 ln 0.9 - ln 0.8) / 4
    # = (0.35667494393873245 + 0.21072103131565256 + 0.2231435513142097) / 4 = 0.1976348816
    good = log_loss([0.7, 0.1, 0.2, 0.1], y)
    assert good == pytest.approx(0.19763488164214868, rel=1e-12)
    assert baseline_log_loss(y) - good > 0  # improvement positive: better than the baseline
    bad = log_loss([0.1, 0.9, 0.9, 0.9], y)  # -ln 0.1 - 3 ln 0.1 all / 4 = ln 10 = 2.302585
    assert bad == pytest.approx(2.302585092994046, rel=1e-12)
    assert baseline_log_loss(y) - bad < 0


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1, 1]])
def test_baseline_is_zero_when_the_hit_rate_is_0_or_1(y: list[int]) -> None:
    # the clipped constant 1e-15 (or 1 - 1e-15) is right on every row: -ln(1 - 1e-15) ~ 1e-15
    assert baseline_log_loss(y) == pytest.approx(0.0, abs=1e-14)
    assert baseline_log_loss(y) - log_loss([0.5, 0.6, 0.7], y) < 0  # nothing beats it


# ---------------------------------------------------------------- ECE


def test_ece_and_its_bin_table_by_hand() -> None:
    p = [0.0, 0.05, 0.95, 1.0, 0.5, 0.55]
    y = [0, 1, 1, 1, 0, 1]
    # bin 0 [0, 0.1): p 0.0, 0.05 -> n 2, mean_p 0.025, mean_y 0.5, gap 0.475
    # bin 5 [0.5, 0.6): p 0.5, 0.55 -> n 2, mean_p 0.525, mean_y 0.5, gap 0.025
    # bin 9 [0.9, 1.0] (1.0 goes here): p 0.95, 1.0 -> n 2, mean_p 0.975, mean_y 1, gap 0.025
    # ECE = 2/6 * (0.475 + 0.025 + 0.025) = 0.525 / 3 = 0.175
    value, table = ece(p, y)
    assert value == pytest.approx(0.175, rel=1e-12)
    assert tuple(table.columns) == BIN_COLUMNS
    assert table["bin"].tolist() == list(range(10))
    assert table["lower"].tolist() == pytest.approx([i / 10 for i in range(10)])
    assert table["upper"].tolist() == pytest.approx([i / 10 for i in range(1, 11)])
    expected = {0: (2, 0.025, 0.5), 5: (2, 0.525, 0.5), 9: (2, 0.975, 1.0)}
    for _, row in table.iterrows():
        b = int(row["bin"])
        if b in expected:
            n, mean_p, mean_y = expected[b]
            assert (row["n"], row["mean_p"], row["mean_y"]) == pytest.approx(
                (n, mean_p, mean_y), rel=1e-12), b
        else:  # empty bins stay in the table for the reliability chart
            assert row["n"] == 0 and math.isnan(row["mean_p"]) and math.isnan(row["mean_y"]), b


def test_ece_bin_edges_are_lower_inclusive() -> None:
    # 0.1 -> bin 1, 0.3 -> bin 3 (not 2 by float noise), 0.7 -> 7, 0.9999 -> 9, 0.0999 -> 0
    _, table = ece([0.1, 0.3, 0.7, 0.9999, 0.0999], [0, 0, 0, 0, 0])
    assert table.loc[table["n"] > 0, "bin"].tolist() == [0, 1, 3, 7, 9]


def test_ece_is_zero_when_calibrated_and_respects_bins() -> None:
    # p 0.2 five times with one hit, p 0.8 five times with four: each bin's mean_y = mean_p
    p = [*[0.2] * 5, *[0.8] * 5]
    y = [*(1, 0, 0, 0, 0), *(1, 1, 1, 1, 0)]
    assert ece(p, y)[0] == pytest.approx(0.0, abs=1e-15)
    # with 1 bin everything pools: mean_p 0.5, mean_y 0.5 -> 0 as well; 2 bins split at 0.5
    value, table = ece(p, y, bins=2)
    assert value == pytest.approx(0.0, abs=1e-15)
    assert table["n"].tolist() == [5, 5]
    # a miscalibrated one: p 0.9 twice, y 0 and 1 -> |0.5 - 0.9| = 0.4
    assert ece([0.9, 0.9], [0, 1])[0] == pytest.approx(0.4, rel=1e-12)


# ---------------------------------------------------------------- AUC


def test_auc_by_hand() -> None:
    # positives 0.35, 0.8; negatives 0.1, 0.4: 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 -> 3/4
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75, abs=1e-15)
    # with a tie: positives 0.5, 0.9; negatives 0.2, 0.5: 1 + 1/2 + 1 + 1 = 3.5 -> 3.5/4
    assert roc_auc([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1]) == pytest.approx(0.875, abs=1e-15)
    # every p equal: every pair a tie -> 1/2
    assert roc_auc([0.3] * 4, [0, 1, 0, 1]) == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1, 1], []])
def test_auc_is_nan_with_one_class(y: list[int]) -> None:
    assert math.isnan(roc_auc([0.2, 0.5, 0.7][: len(y)], y))


def test_auc_matches_a_brute_force_pair_count() -> None:
    rng = np.random.default_rng(20251201)
    p = np.round(rng.random(300), 2)  # two decimals: plenty of ties
    y = (rng.random(300) < p).astype(int)
    pos, neg = p[y == 1], p[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert (pos[:, None] == neg[None, :]).sum() > 0
    assert roc_auc(p, y) == pytest.approx(wins / (pos.size * neg.size), abs=1e-12)


# ---------------------------------------------------------------- top-K


def test_top_k_by_hand_with_ties() -> None:
    p = [0.3, 0.9, 0.5, 0.9, 0.1, 0.7]
    y = [1, 0, 1, 1, 0, 0]
    # p descending, equal p in row order: row1 (0.9, y0), row3 (0.9, y1), row5 (0.7, y0),
    # row2 (0.5, y1), row0 (0.3, y1), row4 (0.1, y0)
    assert top_k_hit_rate(p, y, 1) == 0.0  # the tie goes to row 1, not row 3
    assert top_k_hit_rate(p, y, 2) == pytest.approx(0.5)
    assert top_k_hit_rate(p, y, 3) == pytest.approx(1 / 3)
    assert top_k_hit_rate(p, y, 5) == pytest.approx(3 / 5)
    assert top_k_hit_rate(p, y, 6) == pytest.approx(0.5)
    # swapping the tied rows' order changes the answer: ties follow row order
    assert top_k_hit_rate([0.9, 0.9], [1, 0], 1) == 1.0


def test_top_k_ties_follow_row_order_on_a_long_array() -> None:
    # 200 rows, p on a 0.1 grid (many ties): the top k are the first k rows of a brute-force
    # ranking by (p descending, row ascending); an unstable sort fails this
    rng = np.random.default_rng(7)
    p = np.round(rng.random(200), 1)
    y = rng.integers(0, 2, 200)
    ranked = sorted(range(200), key=lambda i: (-p[i], i))
    for k in (5, 10, 20, 37):
        assert top_k_hit_rate(p, y, k) == pytest.approx(y[ranked[:k]].mean(), abs=1e-15), k


def test_top_k_with_fewer_rows_than_k_is_nan() -> None:
    assert math.isnan(top_k_hit_rate([0.3, 0.9, 0.5], [1, 1, 1], 5))
    assert math.isnan(top_k_hit_rate([], [], 5))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        top_k_hit_rate([0.5], [1], 0)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("p", "y", "message"),
    [([0.5, 1.2], [0, 1], r"p must be in \[0, 1\] and not NaN: 1 of 2 rows fail, e.g. row 1"),
     ([-0.1, 0.5], [0, 1], r"p must be in \[0, 1\].*row 0 has p=-0.1"),
     ([0.5, float("nan")], [0, 1], r"p must be in \[0, 1\] and not NaN.*row 1"),
     ([0.5, 0.5], [0, 2], r"y must be 0 or 1: 1 of 2 rows fail.*row 1 has y=2"),
     ([0.5, 0.5], [0.5, 1], r"y must be 0 or 1"),
     ([0.5, 0.5], [float("nan"), 1], r"y must be 0 or 1"),
     ([0.5, 0.5], [0, 1, 1], r"p and y differ in length: 2 != 3"),
     ([[0.5]], [[1]], r"p must be 1-D")],
)
def test_bad_input_raises_one_line(p: list, y: list, message: str) -> None:
    for call in (log_loss, brier, roc_auc, lambda a, b: ece(a, b),
                 lambda a, b: top_k_hit_rate(a, b, 1)):
        with pytest.raises(ValueError, match=message) as info:
            call(p, y)
        assert "\n" not in str(info.value)


def test_empty_input_is_nan_not_an_error() -> None:
    assert math.isnan(log_loss([], []))
    assert math.isnan(brier([], []))
    assert math.isnan(baseline_log_loss([]))
    value, table = ece([], [])
    assert math.isnan(value) and table["n"].sum() == 0 and len(table) == 10


def test_y_may_be_bool_or_float() -> None:
    assert log_loss([0.9], [True]) == log_loss([0.9], [1.0]) == pytest.approx(LN[0.9])


# ---------------------------------------------------------------- accuracy_table


A, B = date(2025, 12, 1), date(2025, 12, 2)


def two_slates() -> pd.DataFrame:
    """Slate A: high model probabilities; slate B: low ones. Pooled, slate A would fill every
    top-5 place; per slate, B's top 5 is its own."""
    return pd.DataFrame({
        "slate_date": [A] * 6 + [B] * 6,
        "market_type": ["SOG"] * 12,
        "line": [2.5] * 12,
        "y": [*(1, 1, 0, 1, 0, 0), *(1, 1, 1, 0, 1, 0)],
        "model": [*(0.9, 0.8, 0.7, 0.6, 0.5, 0.4), *(0.35, 0.3, 0.25, 0.2, 0.15, 0.1)],
        "market": [*(0.85, np.nan, 0.65, 0.6, 0.55, 0.45), *(0.4, 0.35, 0.3, 0.25, 0.2, 0.15)],
    })


def test_accuracy_table_one_row_by_hand() -> None:
    table = accuracy_table(two_slates(), ["model", "market"])
    assert list(table.columns) == ["slate_date", "market_type", "line", "source",
                                   *METRIC_COLUMNS]
    assert list(zip(table["slate_date"], table["source"], strict=True)) == [
        (A, "model"), (A, "market"), (B, "model"), (B, "market")]
    row = table.iloc[0]  # slate A, model
    assert row["n"] == 6
    assert row["hit_rate"] == pytest.approx(0.5)
    # y=1 at p 0.9, 0.8, 0.6; y=0 at p 0.7, 0.5, 0.4:
    # (-ln 0.9 - ln 0.8 - ln 0.6 - ln 0.3 - ln 0.5 - ln 0.6) / 6
    # = (0.10536051565782628 + 0.2231435513142097 + 0.5108256237659907 + 1.2039728043259361
    #    + 0.6931471805599453 + 0.5108256237659907) / 6 = 3.247275299389899 / 6
    expected_ll = (LN[0.9] + LN[0.8] + LN[0.6] + LN[0.3] + LN[0.5] + LN[0.6]) / 6
    assert expected_ll == pytest.approx(0.5412125498983165, rel=1e-14)
    assert row["log_loss"] == pytest.approx(0.5412125498983165, rel=1e-12)
    # hit rate 0.5 -> baseline ln 2 = 0.6931471805599453; improvement 0.1519346306616288
    assert row["baseline_log_loss"] == pytest.approx(0.6931471805599453, rel=1e-12)
    assert row["improvement"] == pytest.approx(0.1519346306616288, rel=1e-12)
    # (0.01 + 0.04 + 0.49 + 0.16 + 0.25 + 0.16) / 6 = 1.11 / 6 = 0.185
    assert row["brier"] == pytest.approx(0.185, rel=1e-12)
    # one row in each of bins 9, 8, 7, 6, 5, 4: (0.1 + 0.2 + 0.7 + 0.4 + 0.5 + 0.4) / 6 = 2.3/6
    assert row["ece"] == pytest.approx(2.3 / 6, rel=1e-12)
    # positives 0.9, 0.8, 0.6 vs negatives 0.7, 0.5, 0.4: 3 + 3 + 2 = 8 of 9 pairs
    assert row["auc"] == pytest.approx(8 / 9, rel=1e-12)
    # top 5: 0.9 (1), 0.8 (1), 0.7 (0), 0.6 (1), 0.5 (0) -> 3/5; 6 rows: top 10, 20 are NaN
    assert row["top5"] == pytest.approx(0.6)
    assert math.isnan(row["top10"]) and math.isnan(row["top20"])


def test_accuracy_table_ranks_top_k_within_each_slate() -> None:
    table = accuracy_table(two_slates(), ["model", "market"]).set_index(["slate_date", "source"])
    # slate B's own top 5 by model: y 1, 1, 1, 0, 1 -> 0.8 (pooled, it would hold none of B)
    assert table.loc[(B, "model"), "top5"] == pytest.approx(0.8)
    assert table.loc[(A, "model"), "top5"] == pytest.approx(0.6)
    pooled = accuracy_table(two_slates(), ["model"], keys=("market_type", "line"))
    assert pooled["top5"].iloc[0] == pytest.approx(0.6)  # slate A's five: a different number
    assert pooled["n"].iloc[0] == 12


def test_a_nan_probability_leaves_only_that_source() -> None:
    table = accuracy_table(two_slates(), ["model", "market"]).set_index(["slate_date", "source"])
    assert table.loc[(A, "model"), "n"] == 6
    assert table.loc[(A, "market"), "n"] == 5
    # market's slate-A rows are 0, 2, 3, 4, 5: y 1, 0, 1, 0, 0 -> hit rate 0.4, and its top 5
    # is all five of them
    assert table.loc[(A, "market"), "hit_rate"] == pytest.approx(0.4)
    assert table.loc[(A, "market"), "top5"] == pytest.approx(0.4)
    # its baseline is over its own rows: -(0.4 ln 0.4 + 0.6 ln 0.6)
    assert table.loc[(A, "market"), "baseline_log_loss"] == pytest.approx(
        0.4 * LN[0.4] + 0.6 * LN[0.6], rel=1e-12)


def test_a_source_that_priced_nothing_gets_n_zero() -> None:
    frame = two_slates()
    frame.loc[frame["slate_date"] == B, "market"] = np.nan
    row = accuracy_table(frame, ["market"]).iloc[1]
    assert row["slate_date"] == B and row["n"] == 0
    assert all(math.isnan(row[c]) for c in METRIC_COLUMNS if c != "n")


def test_same_props_keeps_rows_every_source_priced() -> None:
    frame = two_slates()
    frame.loc[8, "model"] = np.nan
    kept = same_props(frame, ["model", "market"])
    assert kept.index.tolist() == [0, 2, 3, 4, 5, 6, 7, 9, 10, 11]  # rows 1 and 8 dropped
    assert same_props(frame, ["model"]).index.tolist() == [i for i in range(12) if i != 8]
    table = accuracy_table(kept, ["model", "market"])
    assert table["n"].tolist() == [5, 5, 5, 5]


@pytest.mark.parametrize(
    ("change", "message"),
    [(lambda f: f.assign(y=f["y"].where(f.index != 3)), r"y must be 0 or 1.*row 3"),
     (lambda f: f.assign(market=f["market"].where(f.index != 4, 1.5)),
      r"market must be in \[0, 1\] or NaN: 1 of 12 rows fail, e.g. row 4 has market=1.5"),
     (lambda f: f.drop(columns="line"), r"frame lacks column\(s\) \['line'\]")],
)
def test_accuracy_table_rejects_bad_frames(change, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        accuracy_table(change(two_slates()), ["model", "market"])


def test_sources_must_be_a_list_of_columns() -> None:
    with pytest.raises(ValueError, match="not the string"):
        accuracy_table(two_slates(), "model")
    with pytest.raises(ValueError, match="sources is empty"):
        same_props(two_slates(), [])
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['eb-season'\]"):
        same_props(two_slates(), ["model", "eb-season"])


def test_an_empty_frame_gives_an_empty_table() -> None:
    table = accuracy_table(two_slates().iloc[:0], ["model"])
    assert table.empty
    assert list(table.columns) == ["slate_date", "market_type", "line", "source",
                                   *METRIC_COLUMNS]
