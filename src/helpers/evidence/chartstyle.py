"""What every report chart shares, so each one reads the same way: matplotlib Figures (object
API, no pyplot state), a date axis that fits the slates with data, whole ticks on counts,
percentage ticks with the decimals their values need, one look per series and one panel per
series where series would hide each other.

- `figure(nrows, ncols, height, width, ...) -> (Figure, axes)`: a constrained-layout Figure
  and a 2-D array of its axes; `height` is per row.
- `grid(n, ncols, ...) -> (Figure, [axes])`: n panels in rows of `ncols` (small multiples).
- `fit_window(lo, hi, *frames) -> (lo, hi)`: [lo, hi] cut to start at the first slate with
  data in `frames` (a `slate_date` column), never before lo; an end left None is the last
  slate with data. Five days of data are not squeezed against the right edge of a 30-day
  axis.
- `last_slate(*frames)`: the newest slate with data (the last graded one, for graded data).
- `span(lo, hi, last=None)`: the title's " (lo to hi)", with "; graded to <last>" when the
  data ends before hi.
- `slates(lo, hi)`: every slate of [lo, hi], the index a series is drawn on (a slate
  without data is a gap).
- `date_axis(ax, lo, hi)`: x from lo to hi with half a day either side, ticks counted back
  from hi (the newest slate is always labelled), a tick a day up to 10 slates and never
  more than 10 ticks (`max_ticks`: fewer on a narrow panel), read "12-08".
- `day_list(days)`: "12-08, 12-09" for a panel's alert title (the first 3, then "+ n more").
- `count_axis(axis)`: whole ticks only (runs, rows, bets), with thousands separators.
- `percent_axis(axis)`: a share (0.0125) read as "1.25%", `StepPercent` deciding the
  decimals from the tick values (`percent_decimals`), so no two ticks read the same.
- `SERIES_STYLES`, `style(i)`: a marker and a line style per series; `ALERT`, the colour
  of a point that needs attention (a vendor at zero rows, failed attempts).
- `legend_right(ax)`: the legend outside the axes, where it covers no series.
- `no_data(ax, what)`: the text an empty chart shows.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, Formatter, MaxNLocator

HALF_DAY = pd.Timedelta(hours=12)
MAX_DATE_TICKS = 10
ALERT = "tab:red"  # a point that needs attention: a vendor at zero rows, failed attempts

# one look per series, so series that coincide stay visible (a line under another)
SERIES_STYLES = [{"marker": "o", "ls": "-"}, {"marker": "s", "ls": "--"},
                 {"marker": "^", "ls": ":"}, {"marker": "D", "ls": "-."},
                 {"marker": "v", "ls": "-"}, {"marker": "P", "ls": "--"}]


def style(i: int) -> dict[str, str]:
    """Series i's marker and line style (colour: `f"C{i}"`)."""
    return SERIES_STYLES[i % len(SERIES_STYLES)]


def figure(nrows: int = 1, ncols: int = 1, height: float = 3.0, width: float = 9.0,
           **subplots: object) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width, height * nrows), layout="constrained")
    return fig, fig.subplots(nrows, ncols, squeeze=False, **subplots)


def grid(n: int, ncols: int = 3, height: float = 2.4, width: float = 10.0,
         sharey: bool = False) -> tuple[Figure, list[Axes]]:
    """n panels in rows of `ncols` (only the n drawn: no hidden axes to lay out), in
    reading order; `sharey`: one y scale for all."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width, height * nrows), layout="constrained")
    spec = fig.add_gridspec(nrows, ncols)
    axes: list[Axes] = []
    for i in range(n):
        share = axes[0] if sharey and axes else None
        axes.append(fig.add_subplot(spec[i // ncols, i % ncols], sharey=share))
    return fig, axes


def no_data(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no data: {what} in the window", ha="center", va="center",
            transform=ax.transAxes, color="0.35", fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])


def _as_date(value: date | datetime | str | pd.Timestamp) -> date:
    return pd.Timestamp(value).date()


def fit_window(lo: date | None, hi: date | None,
               *frames: pd.DataFrame) -> tuple[date | None, date | None]:
    """[lo, hi] starting at the first slate with data in `frames` (not before lo); hi None:
    the last slate with data. No data: [lo, hi] as given."""
    days = [pd.to_datetime(f["slate_date"]).dropna() for f in frames
            if "slate_date" in f.columns and len(f)]
    days = [d for d in days if len(d)]
    if not days:
        return lo, hi
    first = _as_date(min(d.min() for d in days))
    last = _as_date(max(d.max() for d in days))
    lo = first if lo is None else max(_as_date(lo), first)
    hi = last if hi is None else _as_date(hi)
    return min(lo, hi), hi


def last_slate(*frames: pd.DataFrame) -> date | None:
    days = [pd.to_datetime(f["slate_date"]).dropna() for f in frames
            if "slate_date" in f.columns and len(f)]
    days = [d for d in days if len(d)]
    return _as_date(max(d.max() for d in days)) if days else None


def span(lo: date | None, hi: date | None, last: date | None = None) -> str:
    """" (lo to hi)", " (D)" for one slate, and "; graded to <last>" when the data (graded
    slates) ends before hi."""
    if lo is None or hi is None:
        return ""
    text = f"{lo}" if lo == hi else f"{lo} to {hi}"
    if last is not None and lo <= last < hi:
        text += f"; graded to {last}"
    return f" ({text})"


def date_axis(ax: Axes, lo: date | None, hi: date | None,
              max_ticks: int = MAX_DATE_TICKS) -> None:
    """Slates lo..hi with half a day either side; ticks every k days counted back from hi, k
    the smallest that keeps them to `max_ticks` (a tick a day on a short window), read
    "12-08" (the title gives the years)."""
    if lo is not None and hi is not None:
        lo, hi = _as_date(lo), _as_date(hi)
        ax.set_xlim(pd.Timestamp(lo) - HALF_DAY, pd.Timestamp(hi) + HALF_DAY)
        every = max(1, math.ceil(((hi - lo).days + 1) / max_ticks))
        ticks = pd.date_range(start=pd.Timestamp(lo), end=pd.Timestamp(hi), freq="D")[::-1]
        ax.xaxis.set_major_locator(FixedLocator(np.sort(mdates.date2num(ticks[::every]))))
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=max_ticks))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.grid(alpha=0.3)


def day_list(days: list[date] | pd.Series | pd.DatetimeIndex, most: int = 3) -> str:
    """Slates as "12-08, 12-09" (the first `most`, then "+ n more")."""
    names = [f"{pd.Timestamp(d):%m-%d}" for d in days]
    extra = f" + {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + extra


def slates(lo: date | None, hi: date | None) -> pd.DatetimeIndex | None:
    """Every slate of [lo, hi] (None without a window)."""
    if lo is None or hi is None:
        return None
    return pd.date_range(pd.Timestamp(lo), pd.Timestamp(hi), freq="D")


class StepPercent(Formatter):
    """A share (0.0125) as a percentage ("1.25%") with the fewest decimals (up to 4) that
    write every tick of the axis exactly: 0.25-point steps get two, 2.5-point steps one,
    whole points none, so neighbouring ticks never read the same."""

    decimals = 0

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        self.decimals = percent_decimals(locs)

    def __call__(self, value: float, pos: int | None = None) -> str:
        return f"{100 * value + 0.0:.{self.decimals}f}%"  # + 0.0: no "-0%"


def percent_decimals(shares: list[float] | np.ndarray, most: int = 4) -> int:
    """The fewest decimals that write each share as an exact percentage (at most `most`)."""
    values = 100 * np.asarray(shares, dtype=float)
    values = values[np.isfinite(values)]
    for decimals in range(most + 1):
        if np.allclose(np.round(values, decimals), values, rtol=0, atol=1e-6):
            return decimals
    return most


def percent_axis(axis: Axis, nbins: int | str = "auto") -> None:
    """Shares as percentages, ticks at 1, 2 or 5 times a power of ten (of a percent too)."""
    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(StepPercent())


def count_axis(axis: Axis, nbins: int | str = 5) -> None:
    """Whole ticks only: runs, rows and bets are counted (1, 2 or 5 times a power of ten)."""
    axis.set_major_locator(MaxNLocator(nbins=nbins, integer=True, steps=[1, 2, 5, 10],
                                       min_n_ticks=2))
    axis.set_major_formatter(lambda v, _: f"{v:,.0f}")


def legend_right(ax: Axes, **kwargs: object) -> None:
    """The legend outside the axes, on its right: it never covers a series."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0,
              **kwargs)
