"""Forecast accuracy of over-probabilities against graded outcomes (docs/domain.md section 8).
Pure functions, no IO, no clock; numpy / pandas, vectorised over the props of a group.

Inputs
- ``p``: the probability that the OVER wins, in [0, 1].
- ``y``: 1 if the stat >= k with k = floor(line) + 1 (the OVER won), else 0. The caller
  derives y; on an integer line a push is y = 0, not 1.
The single-array functions take 1-D ``p`` and ``y`` of one length and raise ``ValueError`` (one
line, naming the problem, how many rows fail and the first) when p is NaN or outside [0, 1],
y is not 0/1 (NaN included) or the lengths differ. Empty input is not an error: every metric
of zero props is NaN (a group nobody priced is a fact, not a bug).

Metrics
- Log loss: mean of -(y·ln p + (1 - y)·ln(1 - p)) with p clipped to [1e-15, 1 - 1e-15]
  (``P_CLIP``), so p = 0 with y = 1 costs -ln(1e-15) ≈ 34.54 instead of infinity. The clip
  is applied to the probability given to what happened (p if y = 1, 1 - p if y = 0), which is
  the same clip written so that it is symmetric in floats: 1 - 1e-15 is not representable
  (the float is 1 - 0.99920e-15), and clipping p itself would make p = 1 with y = 0 cost
  34.5396 but p = 0 with y = 1 cost 34.5388. Here both cost -ln(1e-15).
- Baseline log loss: the same with every p = the group's hit rate (mean y).
  improvement = baseline - model; positive means better than the baseline. When the hit rate
  is 0 or 1 the clipped constant is right on every row and the baseline is
  -ln(1 - 1e-15) ≈ 1e-15, i.e. 0 to float precision; the improvement is then minus the model's
  log loss (plus that 1e-15), never meaningfully positive: no model beats a constant that was
  never wrong.
- Brier: mean (p - y)² (unclipped).
- ECE over ``bins`` (10) equal-width bins on [0, 1]: bin i = [i/bins, (i+1)/bins), and p = 1.0
  goes in the last bin. The edges are i/bins computed by division (so 0.3 is the float
  nearest 0.3 and p = 0.3 falls in bin 3, not 2). ECE = Σ over non-empty bins of
  (n_b / N)·|mean y_b - mean p_b|. ``ece`` also returns the bin table for a reliability chart:
  one row per bin, empty bins included (n = 0, mean_p and mean_y NaN).
- ROC AUC: the probability that a random positive has a higher p than a random negative,
  ties counting 1/2 — the Mann-Whitney U from average ranks,
  (Σ ranks of positives - n1(n1 + 1)/2) / (n1·n0). NaN when only one class is present.
- Top-K hit rate: the share of y = 1 among the K props with the highest p. Ties are broken
  deterministically by a stable sort on p descending, so among equal p the earlier row wins.
  **Fewer than K props gives NaN**, not the rate over all of them: a "top 20" of 12 props is
  just the group's hit rate, and mixing the two would make slates incomparable. The ``n``
  column of ``accuracy_table`` shows why a top-K is missing.

Tables
``accuracy_table`` gives one row per (keys..., source). A row whose probability for a source
is NaN is left out of that source's metrics only, so each source's n, hit rate and baseline are
over its own props; use ``same_props`` first to compare sources on identical props ("does the
model beat the market?"). Every (group, source) pair appears, with n = 0 and NaN metrics when
the source priced none of the group. Top-K is ranked within each group: with the default keys
(slate_date, market_type, line) a group is one slate's market and line, which is the spec's
"per slate"; keys without slate_date rank props pooled across slates, a different number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BIN_COLUMNS",
    "METRIC_COLUMNS",
    "P_CLIP",
    "TOP_K",
    "accuracy_table",
    "baseline_log_loss",
    "brier",
    "ece",
    "log_loss",
    "roc_auc",
    "same_props",
    "top_k_hit_rate",
]

P_CLIP = 1e-15
TOP_K: tuple[int, ...] = (5, 10, 20)
BIN_COLUMNS: tuple[str, ...] = ("bin", "lower", "upper", "n", "mean_p", "mean_y")
METRIC_COLUMNS: tuple[str, ...] = (
    "n", "hit_rate", "log_loss", "baseline_log_loss", "improvement", "brier", "ece", "auc",
    *(f"top{k}" for k in TOP_K),
)

# --------------------------------------------------------------------------- validation


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _raise_if_any(bad: np.ndarray, values: np.ndarray, name: str, rule: str) -> None:
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    raise ValueError(f"{name} must be {rule}: {int(bad.sum())} of {bad.size} rows fail, e.g. "
                     f"row {first} has {name}={_plain(values[first])!r}")


def _as_1d(x: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not numeric: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def _check_y(y: Any) -> np.ndarray:
    arr = _as_1d(y, "y")
    _raise_if_any(~((arr == 0) | (arr == 1)), arr, "y", "0 or 1")
    return arr


def _check_p(p: Any) -> np.ndarray:
    arr = _as_1d(p, "p")
    with np.errstate(invalid="ignore"):
        _raise_if_any(~((arr >= 0) & (arr <= 1)), arr, "p", "in [0, 1] and not NaN")
    return arr


def _check(p: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    p_arr, y_arr = _check_p(p), _check_y(y)
    if p_arr.size != y_arr.size:
        raise ValueError(f"p and y differ in length: {p_arr.size} != {y_arr.size}")
    return p_arr, y_arr


def _check_bins(bins: Any) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    return int(bins)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return int(k)


# --------------------------------------------------------------------------- kernels
# On validated arrays; the public functions and accuracy_table share them.


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    if p.size == 0:
        return float("nan")
    # the probability given to what happened, clipped (module docstring: float symmetry)
    won = np.clip(np.where(y == 1, p, 1.0 - p), P_CLIP, 1.0 - P_CLIP)
    return float(np.mean(-np.log(won)))


def _baseline_log_loss(y: np.ndarray) -> float:
    if y.size == 0:
        return float("nan")
    return _log_loss(np.full(y.size, y.mean()), y)


def _brier(p: np.ndarray, y: np.ndarray) -> float:
    if p.size == 0:
        return float("nan")
    return float(np.mean((p - y) ** 2))


def _ece(p: np.ndarray, y: np.ndarray, bins: int) -> tuple[float, pd.DataFrame]:
    edges = np.arange(bins + 1) / bins
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    n = np.bincount(index, minlength=bins)
    sum_p = np.bincount(index, weights=p, minlength=bins)
    sum_y = np.bincount(index, weights=y, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(n > 0, sum_p / n, np.nan)
        mean_y = np.where(n > 0, sum_y / n, np.nan)
    table = pd.DataFrame({
        "bin": np.arange(bins, dtype="int64"), "lower": edges[:-1], "upper": edges[1:],
        "n": n.astype("int64"), "mean_p": mean_p, "mean_y": mean_y,
    })
    if p.size == 0:
        return float("nan"), table
    filled = n > 0
    value = np.sum(n[filled] / p.size * np.abs(mean_y[filled] - mean_p[filled]))
    return float(value), table


def _roc_auc(p: np.ndarray, y: np.ndarray) -> float:
    n_pos = int(np.count_nonzero(y == 1))
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    # average ranks of ties, as scipy.stats.rankdata: pandas has it without scipy's import
    # (~0.7 s in every kernel that reads accuracy: diagnostics and the report)
    ranks = pd.Series(p).rank(method="average").to_numpy()
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _top_k(p: np.ndarray, y: np.ndarray, k: int) -> float:
    if p.size < k:
        return float("nan")
    order = np.argsort(-p, kind="stable")  # p descending; equal p keep their row order
    return float(y[order[:k]].mean())


# --------------------------------------------------------------------------- single metrics


def log_loss(p: Any, y: Any) -> float:
    """Mean -(y·ln p + (1 - y)·ln(1 - p)), p clipped to [1e-15, 1 - 1e-15]. NaN if empty."""
    return _log_loss(*_check(p, y))


def baseline_log_loss(y: Any) -> float:
    """Log loss of the constant p = mean(y) (the group's hit rate), clipped like ``log_loss``.
    About 1e-15 (0 to float precision) when every y is 0 or every y is 1. NaN if empty."""
    return _baseline_log_loss(_check_y(y))


def brier(p: Any, y: Any) -> float:
    """Mean (p - y)². NaN if empty."""
    return _brier(*_check(p, y))


def ece(p: Any, y: Any, bins: int = 10) -> tuple[float, pd.DataFrame]:
    """(ECE, bin table) over ``bins`` equal-width bins on [0, 1] (module docstring).

    The table has one row per bin, empty ones included: bin (0-based), lower, upper (the bin
    is [lower, upper), the last one also holds p = 1.0), n, mean_p, mean_y (NaN when n = 0).
    Empty input gives NaN and a table of empty bins."""
    p_arr, y_arr = _check(p, y)
    return _ece(p_arr, y_arr, _check_bins(bins))


def roc_auc(p: Any, y: Any) -> float:
    """P(p of a random positive > p of a random negative), ties 1/2 (Mann-Whitney U with
    average ranks). NaN when y has one class only (or is empty)."""
    return _roc_auc(*_check(p, y))


def top_k_hit_rate(p: Any, y: Any, k: int) -> float:
    """Share of y = 1 among the ``k`` rows with the highest p; among equal p the earlier row
    is taken. NaN when there are fewer than ``k`` rows."""
    p_arr, y_arr = _check(p, y)
    return _top_k(p_arr, y_arr, _check_k(k))


def _metrics(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Every METRIC_COLUMNS value for validated arrays of one group and source."""
    model = _log_loss(p, y)
    base = _baseline_log_loss(y)
    row: dict[str, Any] = {
        "n": int(p.size),
        "hit_rate": float(y.mean()) if y.size else float("nan"),
        "log_loss": model,
        "baseline_log_loss": base,
        "improvement": base - model,
        "brier": _brier(p, y),
        "ece": _ece(p, y, 10)[0],
        "auc": _roc_auc(p, y),
    }
    for k in TOP_K:
        row[f"top{k}"] = _top_k(p, y, k)
    return row


# --------------------------------------------------------------------------- tables


def _check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}; it has {list(frame.columns)}")


def _check_sources(sources: Sequence[str]) -> list[str]:
    if isinstance(sources, str):
        raise ValueError(f"sources must be a sequence of column names, not the string "
                         f"{sources!r}")
    names = list(sources)
    if not names:
        raise ValueError("sources is empty: name at least one probability column")
    if len(set(names)) != len(names):
        raise ValueError(f"sources has duplicates: {names}")
    return names


def same_props(frame: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    """The rows of ``frame`` where every source column has a probability (no NaN), so that
    sources are compared on identical props. The index is kept (a filter, not a rebuild)."""
    names = _check_sources(sources)
    _check_columns(frame, names)
    return frame.loc[frame[names].notna().all(axis=1)]


def accuracy_table(frame: pd.DataFrame, sources: Sequence[str],
                   keys: Sequence[str] = ("slate_date", "market_type", "line")) -> pd.DataFrame:
    """One row per (keys..., source) with METRIC_COLUMNS.

    ``frame`` has the ``keys`` columns, ``y`` (0/1, no NaN) and one probability column per
    name in ``sources``. A NaN probability leaves that row out of that source only; a
    non-NaN probability outside [0, 1] raises ValueError, as do a missing column and a bad y.
    Groups are sorted by the keys (NaN keys kept, last); sources keep the given order. Top-K
    is ranked within each group, ties by frame order (module docstring)."""
    names = _check_sources(sources)
    key_list = list(keys)
    _check_columns(frame, [*key_list, "y", *names])
    clash = set(key_list) & ({"source", "y", *names} | set(METRIC_COLUMNS))
    if clash:
        raise ValueError(f"keys {sorted(clash)} clash with the y, source or metric columns")
    y_all = _check_y(frame["y"].to_numpy(dtype="float64", na_value=np.nan))
    probs = {}
    for name in names:
        values = _as_1d(frame[name].to_numpy(dtype="float64", na_value=np.nan), name)
        with np.errstate(invalid="ignore"):
            _raise_if_any(~np.isnan(values) & ~((values >= 0) & (values <= 1)), values, name,
                          "in [0, 1] or NaN")
        probs[name] = values

    positional = frame[key_list].reset_index(drop=True)
    if key_list:
        grouped = positional.groupby(key_list, sort=True, dropna=False)
        items = [(g if isinstance(g, tuple) else (g,), part.index.to_numpy())
                 for g, part in grouped]
    else:
        items = [((), np.arange(len(frame)))] if len(frame) else []
    records = []
    for group, rows in items:
        y = y_all[rows]  # rows ascending: frame order, which breaks top-K ties
        for name in names:
            p = probs[name][rows]
            priced = ~np.isnan(p)
            record = dict(zip(key_list, group, strict=True))
            record["source"] = name
            record.update(_metrics(p[priced], y[priced]))
            records.append(record)
    columns = [*key_list, "source", *METRIC_COLUMNS]
    out = pd.DataFrame.from_records(records, columns=columns)
    out["n"] = out["n"].astype("int64")
    return out
