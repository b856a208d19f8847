"""The rolling report's charts answer their caption at a glance: the window fits the data,
every series is visible, counts have whole ticks and shares read as percentages."""

from __future__ import annotations

from datetime import date, timedelta

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from helpers.evidence import rolling

D = date(2025, 12, 10)
DAYS = [D - timedelta(days=k) for k in range(4, -1, -1)]  # five slates of a 30-day window
OUTAGE = DAYS[2]
VENDORS = ["ODDSSHARK", "PLAYNOW", "UNABATED"]


def _slates(days: list[date]) -> pd.Series:
    return pd.to_datetime(pd.Series(days))


def odds_rows() -> pd.DataFrame:
    scale = {"ODDSSHARK": 9000, "PLAYNOW": 1800, "UNABATED": 40000}
    rows = [(day, v, 0 if (v == "PLAYNOW" and day == OUTAGE) else scale[v] + 10 * i)
            for i, day in enumerate(DAYS) for v in VENDORS]
    frame = pd.DataFrame(rows, columns=["slate_date", "source_vendor", "n_rows"])
    frame["slate_date"] = pd.to_datetime(frame["slate_date"])
    return frame


def drawn(fig) -> None:
    FigureCanvasAgg(fig).draw()  # tick labels exist once the figure is drawn


def data_lines(ax) -> list:
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


def test_the_window_starts_at_the_first_slate_with_data() -> None:
    lo, hi = rolling.window(D, 30)
    assert rolling._data_window(lo, hi, (odds_rows(),)) == (DAYS[0], D)
    assert rolling._data_window(lo, hi, (odds_rows().iloc[0:0],)) == (lo, hi)  # no data
    fitted = rolling._data_window(lo, hi, (odds_rows(),))
    fig = rolling.plot_rows_per_vendor(odds_rows(), *fitted)
    for ax in fig.axes:
        left, right = (pd.Timestamp(mdates.num2date(x)).tz_localize(None)
                       for x in ax.get_xlim())
        first, last = pd.Timestamp(DAYS[0]), pd.Timestamp(D)
        assert first - pd.Timedelta(days=1) <= left < first  # covers the first point ...
        assert last < right <= last + pd.Timedelta(days=1)  # ... and the last, a margin only


def test_rows_per_vendor_has_a_panel_per_vendor_from_zero_with_whole_ticks() -> None:
    fig = rolling.plot_rows_per_vendor(odds_rows(), DAYS[0], D)
    drawn(fig)
    assert [ax.get_ylabel() for ax in fig.axes] == VENDORS
    for ax in fig.axes:
        assert len(data_lines(ax)) == 1  # one visible series per panel
        assert ax.get_ylim()[0] == 0
        ticks = ax.get_yticks()
        assert np.allclose(ticks, np.round(ticks))
    playnow = data_lines(fig.axes[1])[0].get_ydata()
    # the outage is a point at 0 on PLAYNOW's own scale, not a flat line under UNABATED
    assert playnow.min() == 0 and fig.axes[1].get_ylim()[1] < 3 * playnow.max()


def test_series_that_coincide_stay_distinguishable() -> None:
    rate = [0.99, 1.0, 0.995, 1.0, 0.99]
    frame = pd.DataFrame([(day, v, "player", 100, 99, r) for v in VENDORS
                          for day, r in zip(DAYS, rate, strict=True)],
                         columns=["slate_date", "source_vendor", "entity", "n_total",
                                  "n_mapped", "mapped_rate"])
    frame["slate_date"] = pd.to_datetime(frame["slate_date"])
    fig = rolling.plot_mapping_rate(frame, DAYS[0], D)
    lines = data_lines(fig.axes[0])
    assert len(lines) == len(VENDORS)  # identical values: one line each all the same
    assert len({(line.get_marker(), line.get_linestyle()) for line in lines}) == len(VENDORS)


@pytest.mark.parametrize("values", [[0.005, 0.0075, 0.0125, 0.0175], [0.0, 0.3, 0.6]])
def test_percent_ticks_have_the_decimals_of_their_step(values) -> None:
    daily = pd.DataFrame({"slate_date": _slates(DAYS[: len(values)]), "n": 10,
                          "clv_prob_sum": np.array(values) * 10, "clv_prob_mean": values})
    histogram = pd.DataFrame({"lower": [-0.1, 0.0], "upper": [0.0, 0.1], "n": [3, 7]})
    fig = rolling.plot_clv(histogram, daily, DAYS[0], D)
    drawn(fig)
    for ax, axis in ((fig.axes[1], "y"), (fig.axes[0], "x")):
        ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
        labels = [t.get_text() for t in ticks if t.get_text()]
        assert labels and all(label.endswith("%") for label in labels)
        assert len(set(labels)) == len(labels)  # no two ticks read the same
    count_ticks = fig.axes[0].get_yticks()
    assert np.allclose(count_ticks, np.round(count_ticks))  # bets are whole


def test_quarter_point_ticks_read_as_quarters() -> None:
    fig = rolling.plot_clv(pd.DataFrame({"lower": [0.0], "upper": [0.1], "n": [1]}),
                           pd.DataFrame({"slate_date": _slates(DAYS[:2]), "n": 1,
                                         "clv_prob_sum": [0.0, 0.0175],
                                         "clv_prob_mean": [0.0, 0.0175]}), DAYS[0], D)
    axis = fig.axes[1]
    axis.set_yticks([0.0, 0.0025, 0.005, 0.0075])
    drawn(fig)
    assert [t.get_text() for t in axis.get_yticklabels()] == ["0.00%", "0.25%", "0.50%", "0.75%"]


def test_failed_http_share_has_a_panel_per_vendor_and_whole_run_ticks() -> None:
    health = pd.DataFrame([(day, v, 10, 10 if (v == "PLAYNOW" and day == OUTAGE) else 0)
                           for day in DAYS for v in [*VENDORS, "NHL_API"]],
                          columns=["slate_date", "vendor", "attempts", "errors"])
    health["slate_date"] = pd.to_datetime(health["slate_date"])
    health["error_rate"] = health["errors"] / health["attempts"]
    health["p95_ms"] = 20.0
    fig = rolling.plot_vendor_health(health, DAYS[0], D)
    drawn(fig)
    panels = fig.axes[:-1]
    assert [ax.get_ylabel() for ax in panels] == sorted([*VENDORS, "NHL_API"])
    assert all(len(data_lines(ax)) == 1 for ax in panels)
    assert len(data_lines(fig.axes[-1])) == 4  # latency: every vendor on one log axis
    playnow = panels[[ax.get_ylabel() for ax in panels].index("PLAYNOW")]
    assert data_lines(playnow)[0].get_ydata().max() == 1.0
    registry = pd.DataFrame({"slate_date": _slates(DAYS), "runs": [2, 2, 1, 2, 2],
                             "runs_success": [2, 2, 0, 2, 1], "runs_partial": [0, 0, 1, 0, 1],
                             "runs_failed": 0, "runs_interrupted": 0, "runs_running": 0,
                             "steps_failed": 0})
    durations = pd.DataFrame({"slate_date": _slates(DAYS), "step": "ev", "step_order": 3,
                              "duration_s": 2.0})
    fig = rolling.plot_run_status(registry, durations, DAYS[0], D)
    drawn(fig)
    ticks = fig.axes[0].get_yticks()
    assert np.allclose(ticks, np.round(ticks))  # no half runs
