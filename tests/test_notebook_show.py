"""helpers.notebook.show: a step notebook's tables as the reports show theirs, percentages
formatted by column name, and a table either whole or with a line saying what it leaves
out."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from helpers import notebook


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Markdown each show() call displays, in order."""
    out: list[str] = []
    monkeypatch.setattr(notebook, "show_markdown", out.append)
    return out


def test_columns_are_formatted_by_name_as_the_reports_do(shown: list[str]) -> None:
    frame = pd.DataFrame({"book_name": ["bet365"], "p_price": [0.2238], "ev": [0.0933],
                          "roi": [-0.051], "rate": [1.0], "log_loss": [0.47951],
                          "slate_date": [pd.Timestamp("2025-12-01")], "odds_decimal": [5.5]})
    notebook.show(frame)
    [table] = shown
    assert table.splitlines()[-1] == (
        "| bet365 | 22.4 % | +9.3 % | -5.1 % | 100.0 % | 0.4795 | 2025-12-01 | 5.5 |")


def test_a_format_given_wins_over_the_column_default(shown: list[str]) -> None:
    notebook.show(pd.DataFrame({"ev": [0.0933]}), {"ev": "{:.2f}".format})
    assert shown[0].splitlines()[-1] == "| 0.09 |"


def test_a_cut_table_says_how_many_rows_it_leaves_out(shown: list[str]) -> None:
    notebook.show(pd.DataFrame({"n": range(60)}), max_rows=50)
    lines = shown[0].splitlines()
    assert sum(line.startswith("| ") for line in lines) == 51  # header and 50 rows
    assert lines[-1] == "_10 more rows not shown._"


def test_by_shows_one_whole_table_per_value(shown: list[str]) -> None:
    """60 books x markets, cut at 50, lost SOG's last rows; one table per market keeps them."""
    books = [f"book{i:02d}" for i in range(12)]
    frame = pd.DataFrame([{"market_type": m, "book_name": b, "roi": 0.1}
                          for m in ("ASSISTS", "BLOCKS", "GOALS", "POINTS", "SOG") for b in books])
    notebook.show(frame, by="market_type")
    assert [text.splitlines()[0] for text in shown] == [
        "**ASSISTS**", "**BLOCKS**", "**GOALS**", "**POINTS**", "**SOG**"]
    sog = shown[-1]
    assert "not shown" not in sog and "| book11 | +10.0 % |" in sog
    assert "market_type" not in sog  # the table's name says it


def test_an_empty_table_says_none(shown: list[str]) -> None:
    notebook.show(pd.DataFrame(columns=["market_type", "roi"]), by="market_type")
    assert shown == ["_(none)_"]


def test_a_slate_date_shows_as_a_day_whatever_its_type() -> None:
    day = notebook.COLUMN_FORMATS["slate_date"]
    assert day(date(2025, 12, 1)) == day(pd.Timestamp("2025-12-01")) == "2025-12-01"
