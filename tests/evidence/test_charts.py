"""The report's charts answer their caption at a glance, on frames built here like the ten-day
demo (slates 12-01..12-10 of a 30-day window, three odds vendors, a PlayNow outage on 12-08,
graded slates to 12-09): the date axis fits the slates with data, every series is visible
(one panel per vendor where scales differ, a distinct marker and line style where series
share an axis), counts have whole ticks, shares read as percentages with the decimals of
their step, and every chart still draws its "no data" figure on empty frames."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers.core.models import PRODUCTION_MODEL
from helpers.evidence import chartstyle, claims, pricing, rolling
from helpers.evidence.markdown import figure_png

D = date(2025, 12, 10)
LO, _ = rolling.window(D, 30)  # 2025-11-11: the 30-day window starts 20 days before the data
DAYS = [date(2025, 12, 1) + timedelta(days=k) for k in range(10)]
GRADED = DAYS[:-1]  # the newest slate is not graded yet
FIRST = DAYS[0]
OUTAGE = date(2025, 12, 8)
VENDORS = ["ODDSSHARK", "PLAYNOW", "UNABATED"]
MARKETS = ["GOALS", "ASSISTS", "POINTS", "SOG", "BLOCKS"]
MKT = "market"


def _frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["slate_date"] = pd.to_datetime(frame["slate_date"])
    return frame


# --------------------------------------------------------------------------- the demo's frames


def odds_rows() -> pd.DataFrame:
    """PlayNow has no coverage row on the outage day (the vendor fell to zero), on a scale
    twenty times smaller than Unabated's."""
    scale = {"ODDSSHARK": 9000, "PLAYNOW": 1800, "UNABATED": 36000}
    return _frame([(day, v, float(scale[v] * (1 + (i % 3) / 2)))
                   for i, day in enumerate(DAYS) for v in VENDORS
                   if not (v == "PLAYNOW" and day == OUTAGE)],
                  ["slate_date", "source_vendor", "n_rows"])


def registry() -> pd.DataFrame:
    """Two runs a slate (one partial on the outage day): whole runs only."""
    rows = [(day, 2, 1 if day == OUTAGE else 2, 1 if day == OUTAGE else 0, 0, 0, 0,
             1 if day == OUTAGE else 0) for day in DAYS]
    return _frame(rows, ["slate_date", "runs", "runs_success", "runs_partial", "runs_failed",
                         "runs_interrupted", "runs_running", "steps_failed"])


def durations() -> pd.DataFrame:
    steps = ["odds_ingestion", "production", "ev", "outcomes", "diagnostics", "report"]
    return _frame([(day, step, order, 2.0 + (order + i) % 3) for i, day in enumerate(DAYS)
                   for order, step in enumerate(steps, start=1)],
                  ["slate_date", "step", "step_order", "duration_s"])


def mapping() -> pd.DataFrame:
    """Every vendor maps the same players on most slates: the rates coincide (at 100 %)."""
    rows = []
    for i, day in enumerate(DAYS):
        for v in VENDORS:
            mapped = 200 if i % 2 else 198 - 2 * (v == "UNABATED" and i == 6)
            for entity, total, n in (("player", 200, mapped), ("event", 6, 6)):
                rows.append((day, v, entity, float(total), float(n), n / total))
    return _frame(rows, ["slate_date", "source_vendor", "entity", "n_total", "n_mapped",
                         "mapped_rate"])


def ev() -> pd.DataFrame:
    """Few eligible bets (1 to 3): a default locator would tick at half bets."""
    return _frame([(day, 300.0, float(1 + i % 3), 40.0, 0.0, -0.06 - 0.0025 * (i % 4))
                   for i, day in enumerate(DAYS)],
                  ["slate_date", "n_candidates", "n_eligible", "n_positive_ev", "n_suspicious",
                   "ev_mean"])


def accuracy() -> pd.DataFrame:
    rows = []
    for i, day in enumerate(GRADED):
        for m in MARKETS:
            for source, shift in ((PRODUCTION_MODEL, 0.01 * (i % 2)), (MKT, 0.0)):
                loss = 0.45 + 0.01 * (i % 3) + shift
                rows.append((day, source, m, 100.0, 100 * loss, 100.0, 20.0, 100.0, loss,
                             0.2))
    return _frame(rows, ["slate_date", "source", "market_type", "n", "sum_log_loss",
                         "n_log_loss", "sum_brier", "n_brier", "log_loss", "brier"])


def calibration() -> pd.DataFrame:
    rows = [(day, source, m, b, 10.0, 10 * (b + 0.5) / 10, 10 * (b + 0.4) / 10)
            for day in GRADED for source in (PRODUCTION_MODEL, MKT) for m in MARKETS
            for b in range(10)]
    return _frame(rows, ["slate_date", "source", "market_type", "bin", "n", "sum_p", "sum_y"])


def clv_daily(means: list[float] | None = None) -> pd.DataFrame:
    means = means or [0.0175, 0.015, 0.0145, 0.0075, 0.009, 0.008, 0.007, 0.0055, 0.0065]
    days = GRADED[: len(means)]
    return _frame([(day, 100.0, 100 * m, m) for day, m in zip(days, means, strict=True)],
                  ["slate_date", "n", "clv_prob_sum", "clv_prob_mean"])


def clv_histogram() -> pd.DataFrame:
    lower = -0.1 + 0.005 * np.arange(40)
    n = np.where(np.abs(lower) < 0.03, 3, 0)  # a few bets: whole ticks matter
    return pd.DataFrame({"lower": lower, "upper": lower + 0.005, "n": n})


def health() -> pd.DataFrame:
    """PlayNow failed 3 of its 5 attempts on the outage day, every other attempt is fine."""
    rows = []
    for i, day in enumerate(DAYS):
        for v in ["NHL_API", *VENDORS]:
            attempts, errors = (5.0, 3.0) if (v == "PLAYNOW" and day == OUTAGE) else (4.0, 0.0)
            rows.append((day, v, attempts, errors, errors / attempts, 10.0 + i))
    return _frame(rows, ["slate_date", "vendor", "attempts", "errors", "error_rate", "p95_ms"])


def bets() -> pd.DataFrame:
    rows = [(day, f"g{k % 3}", f"p{k}", "SOG", 2.5, "OVER", "BookA", 2.0, 0.05, 0.05,
             0.5, 0.01, "WIN" if k % 2 else "LOSS", 1.0 if k % 2 else -1.0)
            for day in GRADED for k in range(4)]
    frame = pd.DataFrame(rows, columns=["slate_date", "game_id", "player_id", "market_type",
                                        "line", "side", "book_name", "odds_decimal", "ev",
                                        "ev_market", "p_fair_close", "clv", "result",
                                        "profit_units"])
    frame["slate_date"] = pd.to_datetime(frame["slate_date"]).dt.date  # as the SQL gives them
    return frame


def fits() -> pd.DataFrame:
    """Every market at the prior (weight 0) until its fitted weight departs: the weights
    coincide at 0 on the first slates."""
    rows = [(day, "p10-nhlapi", m, "prior" if i < 3 + j else "fitted",
             0.0 if i < 3 + j else 0.1 * (j + 1)) for i, day in enumerate(DAYS)
            for j, m in enumerate(MARKETS)]
    return pd.DataFrame(rows, columns=["slate_date", "model_version", "market_type", "method",
                                       "coef_model"])


# chart -> (draw it over the 30-day window, the frames as they come from the database)
CHARTS: dict[str, Callable[..., Figure]] = {
    "rows_per_vendor": lambda lo, hi: rolling.plot_rows_per_vendor(odds_rows(), lo, hi),
    "run_status": lambda lo, hi: rolling.plot_run_status(registry(), durations(), lo, hi),
    "mapping_rate": lambda lo, hi: rolling.plot_mapping_rate(mapping(), lo, hi),
    "ev_counts": lambda lo, hi: rolling.plot_ev_counts(ev(), lo, hi),
    "log_loss": lambda lo, hi: rolling.plot_log_loss(accuracy(), lo, hi),
    "calibration": lambda lo, hi: rolling.plot_calibration(calibration(), lo, hi),
    "clv": lambda lo, hi: rolling.plot_clv(clv_histogram(), clv_daily(), lo, hi),
    "vendor_health": lambda lo, hi: rolling.plot_vendor_health(health(), lo, hi),
    "claims": lambda lo, hi: claims.plot_claims(bets(), lo, hi),
    "blend_weights": lambda lo, hi: pricing.plot_blend_weights(fits(), lo, hi),
}
FRAMES = {"rows_per_vendor": lambda: (odds_rows(),),
          "run_status": lambda: (registry(), durations()), "mapping_rate": lambda: (mapping(),),
          "ev_counts": lambda: (ev(),), "log_loss": lambda: (accuracy(),),
          "calibration": lambda: (calibration(),),
          "clv": lambda: (clv_histogram(), clv_daily()), "vendor_health": lambda: (health(),)}


# --------------------------------------------------------------------------- reading a figure


def drawn(fig: Figure) -> Figure:
    FigureCanvasAgg(fig).draw()  # tick locations and labels exist once the figure is drawn
    return fig


def titles(fig: Figure) -> str:
    parts = [fig._suptitle.get_text() if fig._suptitle is not None else ""]
    parts += [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center")]
    return " | ".join(parts)


def texts(fig: Figure) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


DATE_FORMATTERS = (mdates.DateFormatter, mdates.ConciseDateFormatter, mdates.AutoDateFormatter)


def date_axes(fig: Figure) -> list:
    """The visible axes with dates along x."""
    return [ax for ax in fig.axes if ax.get_visible()
            and isinstance(ax.xaxis.get_major_formatter(), DATE_FORMATTERS)]


def day(x: float) -> pd.Timestamp:
    return pd.Timestamp(mdates.num2date(x)).tz_localize(None)


def data_lines(ax) -> list[Line2D]:
    """The lines drawn in data coordinates (not a reference line across the axes)."""
    return [line for line in ax.get_lines() if line.get_transform() is ax.transData]


def series(ax) -> list[Line2D]:
    """The lines that draw a series: more than one point."""
    return [line for line in data_lines(ax) if len(line.get_xdata()) > 1]


def look(line: Line2D) -> tuple:
    """What tells a series from another beside colour: its marker and line style."""
    return line.get_marker(), line.get_linestyle()


def visible_ticks(axis, lo: float, hi: float) -> np.ndarray:
    ticks = np.asarray(axis.get_majorticklocs(), dtype=float)
    return ticks[(ticks >= min(lo, hi) - 1e-12) & (ticks <= max(lo, hi) + 1e-12)]


def assert_whole_ticks(ax, which: str = "y") -> None:
    axis = ax.yaxis if which == "y" else ax.xaxis
    lim = ax.get_ylim() if which == "y" else ax.get_xlim()
    ticks = visible_ticks(axis, *lim)
    assert len(ticks) >= 2, ticks
    assert np.allclose(ticks, np.round(ticks)), f"{ax.get_title()}: ticks {ticks}"


def decimals_of(ticks: np.ndarray) -> int:
    """The fewest decimals that write every tick, in percent, exactly."""
    return next(d for d in range(6) if all(abs(float(f"{100 * t:.{d}f}") - 100 * t) < 1e-6
                                           for t in ticks))


def assert_percent_ticks(ax, which: str = "y") -> None:
    """Every label ends in %, no two read the same, with the decimals of the step."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    lim = ax.get_ylim() if which == "y" else ax.get_xlim()
    ticks = visible_ticks(axis, *lim)
    labels = [t.get_text().replace("\u2212", "-") for t in
              (ax.get_yticklabels() if which == "y" else ax.get_xticklabels())]
    labels = [label for label in labels if label]
    where = f"{ax.get_title(loc='left') or ax.get_title()}: {labels}"
    assert len(labels) >= 2 and all(label.endswith("%") for label in labels), where
    assert len(set(labels)) == len(labels), where  # e.g. "0.2%" twice
    written = {len(label[:-1].split(".")[1]) if "." in label else 0 for label in labels}
    assert written == {decimals_of(ticks)}, where  # 0.25 steps: two decimals, 5: none


# --------------------------------------------------------------------------- (a) the window


@pytest.mark.parametrize("name", list(CHARTS))
def test_the_date_axis_fits_the_slates_with_data(name: str) -> None:
    fig = drawn(CHARTS[name](LO, D))
    first, last = pd.Timestamp(FIRST), pd.Timestamp(D)
    shown = f"{FIRST} to {GRADED[-1] if name == 'calibration' else D}"
    assert shown in titles(fig)  # the title says what is shown, not the 30-day window
    axes = date_axes(fig)
    if name in ("calibration", "claims"):  # no date axis: graded slates pooled / bets in order
        assert not axes
        return
    assert axes
    for ax in axes:
        left, right = (day(x) for x in ax.get_xlim())
        assert first - pd.Timedelta(days=1) <= left < first, (name, left)
        assert last < right <= last + pd.Timedelta(days=1), (name, right)
        for line in data_lines(ax):  # every point of every series is inside the axis
            y = np.asarray(line.get_ydata(), dtype=float)
            x = mdates.date2num(line.get_xdata())[np.isfinite(y)]
            assert all(left < day(v) < right for v in x), name
        for patch in (p for c in ax.containers for p in c):
            assert left <= day(patch.get_x()) and day(patch.get_x() + patch.get_width()) <= right


def test_graded_charts_say_where_the_grading_ends() -> None:
    for name in ("log_loss", "clv"):
        assert f"graded to {GRADED[-1]}" in titles(CHARTS[name](LO, D))
    assert f"graded slates ({FIRST} to {GRADED[-1]})" in titles(CHARTS["calibration"](LO, D))


def test_claims_axis_runs_from_the_first_bet_to_the_last() -> None:
    fig = drawn(CHARTS["claims"](LO, D))
    left, right = fig.axes[0].get_xlim()
    assert 0 <= left < 1 and len(bets()) < right <= len(bets()) + 1


@pytest.mark.parametrize("name", list(FRAMES))
def test_chart_fits_the_window_to_the_data(monkeypatch, name: str) -> None:
    """rolling.chart reads the 30-day window and the plot starts at the first slate with
    data."""
    monkeypatch.setitem(rolling._CHART_DATA, name, lambda con, lo, hi: FRAMES[name]())
    fig = drawn(rolling.chart(None, D, name))
    axes = date_axes(fig)
    assert axes or name == "calibration"
    for ax in axes:
        left, right = (day(x) for x in ax.get_xlim())
        assert pd.Timestamp(FIRST) - pd.Timedelta(days=1) <= left < pd.Timestamp(FIRST)
        assert pd.Timestamp(D) < right <= pd.Timestamp(D) + pd.Timedelta(days=1)


def test_fit_window_and_span() -> None:
    assert chartstyle.fit_window(LO, D, odds_rows()) == (FIRST, D)
    assert chartstyle.fit_window(LO, D, odds_rows().iloc[:0]) == (LO, D)  # no data
    assert chartstyle.fit_window(None, None, clv_daily()) == (FIRST, GRADED[-1])
    assert chartstyle.fit_window(date(2025, 12, 5), D, odds_rows()) == (date(2025, 12, 5), D)
    assert chartstyle.span(FIRST, D) == f" ({FIRST} to {D})"
    assert chartstyle.span(D, D) == f" ({D})"
    assert chartstyle.span(FIRST, D, GRADED[-1]) == f" ({FIRST} to {D}; graded to {GRADED[-1]})"
    assert chartstyle.span(None, D) == ""


@pytest.mark.parametrize(("first", "most"), [(D, 1), (D - timedelta(days=1), 2),
                                              (FIRST, 10), (LO, 10)])
def test_date_ticks_end_at_the_newest_slate(first: date, most: int) -> None:
    fig, axes = chartstyle.figure()
    chartstyle.date_axis(axes[0, 0], first, D)
    drawn(fig)
    ax = axes[0, 0]
    left, right = ax.get_xlim()
    ticks = visible_ticks(ax.xaxis, left, right)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 1 <= len(ticks) <= most
    assert labels[-1] == f"{D:%m-%d}"  # the newest slate is always labelled
    assert all(re.fullmatch(r"\d\d-\d\d", label) for label in labels)  # never "00:00"


# --------------------------------------------------------------------------- (b) every series


def test_rows_per_vendor_has_a_panel_per_vendor_and_the_outage_jumps_out() -> None:
    fig = drawn(CHARTS["rows_per_vendor"](LO, D))
    panels = date_axes(fig)
    assert [ax.get_title("left").split(":")[0] for ax in panels] == VENDORS
    for ax in panels:
        assert len(series(ax)) == 1  # its vendor's line
        assert ax.get_ylim()[0] == 0  # from zero: a fall to zero is a fall to the axis
    playnow = panels[VENDORS.index("PLAYNOW")]
    rows = series(playnow)[0].get_ydata()
    assert np.nanmin(rows) == 0 and playnow.get_ylim()[1] < 3 * np.nanmax(rows)  # own scale
    crosses = [line for line in playnow.get_lines() if line.get_color() == chartstyle.ALERT]
    assert crosses and list(crosses[0].get_ydata()) == [0.0]
    assert f"{OUTAGE:%m-%d}" in playnow.get_title("left")
    assert all(f"{OUTAGE:%m-%d}" not in ax.get_title("left") for ax in panels if ax is not playnow)


def test_mapping_rates_that_coincide_are_each_visible() -> None:
    fig = drawn(CHARTS["mapping_rate"](LO, D))
    panels = date_axes(fig)
    assert [ax.get_title("left").split(":")[0] for ax in panels] == VENDORS
    lines = [series(ax) for ax in panels]
    assert all(len(found) == 1 for found in lines)  # one vendor, one panel, one line
    assert len({look(found[0]) for found in lines}) == len(VENDORS)  # and each its own look
    assert len({ax.get_ylim() for ax in panels}) == 1  # one scale: levels compare
    assert panels[0].get_ylim()[0] <= 0.9  # a 1 % wobble is not drawn as a cliff


def test_failed_http_share_has_a_panel_per_vendor_and_the_outage_jumps_out() -> None:
    fig = drawn(CHARTS["vendor_health"](LO, D))
    panels, latency = fig.axes[:-1], fig.axes[-1]
    names = [ax.get_title("left").split(":")[0] for ax in panels]
    assert names == sorted(["NHL_API", *VENDORS])
    assert all(len(series(ax)) == 1 for ax in panels)
    for ax in panels:
        assert ax.get_ylim()[0] < 0 < 1 <= ax.get_ylim()[1]  # one fixed 0-100 % scale
    playnow = panels[names.index("PLAYNOW")]
    assert np.nanmax(series(playnow)[0].get_ydata()) == pytest.approx(0.6)
    assert "60% (3 of 5)" in playnow.get_title("left")
    assert [line for line in playnow.get_lines() if line.get_color() == chartstyle.ALERT]
    lines = series(latency)
    assert len(lines) == 4 and len({look(line) for line in lines}) == 4


def test_run_status_steps_and_model_against_market_are_distinguishable() -> None:
    fig = drawn(CHARTS["run_status"](LO, D))
    top, bottom = fig.axes[:2]
    assert len([c for c in top.containers if isinstance(c, BarContainer)]) == 2  # statuses
    steps = series(bottom)
    assert len(steps) == 6 and len({look(line) for line in steps}) == 6
    fig = drawn(CHARTS["log_loss"](LO, D))
    for ax in date_axes(fig):
        lines = series(ax)
        assert len(lines) == 2 and look(lines[0]) != look(lines[1])
        assert ax.collections  # shaded where the model is above the market
    fig = drawn(CHARTS["ev_counts"](LO, D))
    top, bottom = fig.axes
    assert len(top.containers) == 1 and len(series(bottom)) == 1
    assert top.get_position().y0 > bottom.get_position().y1  # bars and line apart, no twin


def test_blend_weights_that_coincide_are_each_visible() -> None:
    fig = drawn(CHARTS["blend_weights"](LO, D))
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == MARKETS  # a panel per market
    assert all(len([line for line in series(ax) if line.get_linestyle() != "None"]) == 1
               for ax in panels)
    assert len({ax.get_ylim() for ax in panels}) == 1  # one scale
    fig = drawn(CHARTS["claims"](LO, D))
    lines = series(fig.axes[0])
    assert len(lines) == 3
    assert len({(line.get_color(), line.get_linestyle(), line.get_linewidth())
                for line in lines}) == 3


# --------------------------------------------------------------------------- (c) ticks


def test_count_axes_have_whole_ticks() -> None:
    fig = drawn(CHARTS["rows_per_vendor"](LO, D))
    for ax in date_axes(fig):
        assert_whole_ticks(ax)
    assert_whole_ticks(drawn(CHARTS["run_status"](LO, D)).axes[0])  # runs
    assert_whole_ticks(drawn(CHARTS["ev_counts"](LO, D)).axes[0])  # eligible bets
    assert_whole_ticks(drawn(CHARTS["clv"](LO, D)).axes[0])  # bets in the histogram
    one_run = registry().assign(runs=1, runs_success=1, runs_partial=0)
    assert_whole_ticks(drawn(rolling.plot_run_status(one_run, durations(), LO, D)).axes[0])


@pytest.mark.parametrize("means", [
    [0.0175, 0.015, 0.0145, 0.0075, 0.009, 0.008, 0.007, 0.0055, 0.0065],  # the demo's
    [0.005, 0.0075, 0.0125, 0.0175], [0.0, 0.3, 0.6], [-0.004, 0.0, 0.003], [0.001, 0.0012]])
def test_clv_percent_ticks_have_the_decimals_of_their_step(means: list[float]) -> None:
    fig = drawn(rolling.plot_clv(clv_histogram(), clv_daily(means), LO, D))
    assert_percent_ticks(fig.axes[0], "x")  # the distribution
    assert_percent_ticks(fig.axes[1])  # the daily mean


def test_every_share_axis_reads_in_percent() -> None:
    for ax in date_axes(drawn(CHARTS["mapping_rate"](LO, D))):
        assert_percent_ticks(ax)
    assert_percent_ticks(drawn(CHARTS["ev_counts"](LO, D)).axes[1])  # mean EV
    for ax in drawn(CHARTS["vendor_health"](LO, D)).axes[:-1]:
        assert_percent_ticks(ax)
    calibration_ax = drawn(CHARTS["calibration"](LO, D)).axes[0]
    assert_percent_ticks(calibration_ax, "x")  # probabilities as %
    assert_percent_ticks(calibration_ax)


@pytest.mark.parametrize(("ticks", "labels"), [
    ([0.0, 0.0025, 0.005, 0.0075], ["0.00%", "0.25%", "0.50%", "0.75%"]),
    ([-0.05, -0.025, 0.0, 0.025], ["-5.0%", "-2.5%", "0.0%", "2.5%"]),
    ([0.0, 0.5, 1.0], ["0%", "50%", "100%"]),
    ([-0.0, 0.01], ["0%", "1%"]),  # no "-0%"
])
def test_step_percent(ticks: list[float], labels: list[str]) -> None:
    formatter = chartstyle.StepPercent()
    formatter.set_locs(ticks)
    assert [formatter(t) for t in ticks] == labels


# --------------------------------------------------------------------------- (d) no data


EMPTY: dict[str, Callable[[], Figure]] = {
    "rows_per_vendor": lambda: rolling.plot_rows_per_vendor(odds_rows().iloc[:0], LO, D),
    "run_status": lambda: rolling.plot_run_status(registry().iloc[:0], durations().iloc[:0],
                                                  LO, D),
    "mapping_rate": lambda: rolling.plot_mapping_rate(mapping().iloc[:0], LO, D),
    "ev_counts": lambda: rolling.plot_ev_counts(ev().iloc[:0], LO, D),
    "log_loss": lambda: rolling.plot_log_loss(accuracy().iloc[:0], LO, D),
    "calibration": lambda: rolling.plot_calibration(calibration().iloc[:0], LO, D),
    "clv": lambda: rolling.plot_clv(clv_histogram().iloc[:0], clv_daily().iloc[:0], LO, D),
    "vendor_health": lambda: rolling.plot_vendor_health(health().iloc[:0], LO, D),
    "claims": lambda: claims.plot_claims(bets().iloc[:0], LO, D),
    "blend_weights": lambda: pricing.plot_blend_weights(fits().iloc[:0], LO, D),
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_every_chart_draws_no_data_on_empty_frames(name: str) -> None:
    fig = EMPTY[name]()
    assert "no data" in texts(fig)
    assert f"{LO} to {D}" in titles(fig)  # nothing to fit: the window asked
    png = figure_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG")


def only(frame: pd.DataFrame, slate: date) -> pd.DataFrame:
    if "slate_date" not in frame.columns:
        return frame
    return frame[pd.to_datetime(frame["slate_date"]) == pd.Timestamp(slate)]


@pytest.mark.parametrize("name", [*FRAMES, "claims", "blend_weights"])
def test_a_window_of_one_slate_draws_around_that_day(name: str) -> None:
    """One slate of data (a new install, graded once): the axis is that day, its tick reads
    the date."""
    slate = GRADED[-1]
    if name == "claims":
        fig = claims.plot_claims(only(bets(), slate), slate, slate)
    elif name == "blend_weights":
        fig = pricing.plot_blend_weights(only(fits(), slate), slate, slate)
    else:
        frames = [only(frame, slate) for frame in FRAMES[name]()]
        fig = rolling._CHART_PLOT[name](*frames, slate, slate)
    drawn(fig)
    assert "no data" not in texts(fig)
    assert f"({slate})" in titles(fig)
    for ax in date_axes(fig):
        left, right = (day(x) for x in ax.get_xlim())
        assert left < pd.Timestamp(slate) < right and right - left <= pd.Timedelta(days=1)
        assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()] in (
            [f"{slate:%m-%d}"], [])  # [] : a panel above shares the axis
