"""Reading the rendered Markdown reports back in tests: their tables as frames."""

from __future__ import annotations

import pandas as pd


def md_tables(text: str) -> list[pd.DataFrame]:
    """Every Markdown table of a report, cells as strings."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif block:
            tables.append(pd.DataFrame(block[2:], columns=block[0]))
            block = []
    return tables


def table_with(text: str, *columns: str) -> pd.DataFrame:
    """The first table of `text` with all of `columns`."""
    return next(t for t in md_tables(text) if set(columns) <= set(t.columns))
