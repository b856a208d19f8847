"""Report output from a notebook cell, in the forms nbconvert's MarkdownExporter turns into
GitHub Markdown with no HTML: text as `text/markdown`, tables as Markdown tables, charts as
PNG files with a stable name (`output.metadata.filename`, which the exporter keeps).

`md_table` is pure and tested on its own; the `show_*` functions only display.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

MAX_ROWS = 50  # the spec's bound on any table a notebook shows
Formatter = Callable[[Any], str]


def _cell(value: Any, formatter: Formatter | None) -> str:
    if formatter is not None and not _missing(value):
        text = formatter(value)
    elif _missing(value):
        text = ""
    elif isinstance(value, float):
        text = f"{value:.0f}" if value.is_integer() or abs(value) >= 1e4 else (
            f"{value:.3f}".rstrip("0").rstrip("."))
    elif isinstance(value, pd.Timestamp):
        text = f"{value:%Y-%m-%d %H:%M}"
    else:
        text = str(value)
    # a pipe ends a Markdown cell and a newline ends the row
    return text.replace("|", "\\|").replace("\n", " ")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def md_table(frame: pd.DataFrame, formats: Mapping[str, Formatter] | None = None,
             max_rows: int = MAX_ROWS) -> str:
    """`frame` as a GitHub Markdown table (index dropped), at most `max_rows` rows with a
    line saying how many were left out. Missing values are blank; `formats` maps a column
    to a function that formats its non-missing values."""
    formats = formats or {}
    if frame.empty:
        return "_(none)_"
    shown = frame.head(max_rows)
    columns = [str(c) for c in shown.columns]
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(
        shown[c]) for c in shown.columns]
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in columns) + " |",
             "|" + "|".join("---:" if num else "---" for num in numeric) + "|"]
    for row in shown.itertuples(index=False, name=None):
        cells = [_cell(v, formats.get(c)) for c, v in zip(shown.columns, row, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    if len(frame) > max_rows:
        lines.append("")
        lines.append(f"_{len(frame) - max_rows} more rows not shown._")
    return "\n".join(lines)


def pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def signed_pct(value: float) -> str:
    return f"{100 * value:+.1f} %"


def show_markdown(text: str) -> None:
    from IPython.display import display  # only inside a kernel

    display({"text/markdown": text, "text/plain": text}, raw=True)


# The columns of the tables shown since the last take, in order: a report ends with their
# definitions (glossary.columns_markdown). Module state, as a kernel runs one report.
_shown_columns: dict[str, None] = {}


def show_table(frame: pd.DataFrame, formats: Mapping[str, Formatter] | None = None,
               max_rows: int = MAX_ROWS) -> None:
    if not frame.empty:
        _shown_columns.update(dict.fromkeys(str(c) for c in frame.columns))
    show_markdown(md_table(frame, formats, max_rows))


def take_shown_columns() -> list[str]:
    """The columns of every non-empty table shown since the last call, in order of first
    appearance; the record starts again empty."""
    names = list(_shown_columns)
    _shown_columns.clear()
    return names


def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes; the figure is closed (a report makes many)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def show_chart(fig: Any, name: str, caption: str) -> None:
    """Display a chart saved as `<name>.png` beside the report, with its caption (what to
    look for) as the line under it."""
    from IPython.display import display

    png = figure_png(fig)
    display({"image/png": base64.b64encode(png).decode("ascii"), "text/plain": caption},
            raw=True, metadata={"filename": f"{name}.png"})
    show_markdown(f"_{caption}_")
