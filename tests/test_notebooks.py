"""The step notebooks as committed: clean, parameterized, and runnable with their defaults."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import papermill
import pytest

from helpers.core.step_status import read_step_status
from helpers.odds.report import SAMPLE_COLUMNS
from runner.kernel import DEFAULT_KERNEL, ensure_kernel
from runner.render import REPORT_NOTEBOOK, REPORT_TAGS
from runner.steps import STEPS

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DRIVER_PARAMETERS = {"slate_date", "as_of", "run_id", "db_path", "ops_home", "offline_demo"}


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_committed_without_outputs_and_with_the_driver_parameters(step) -> None:
    nb = nbformat.read(str(NOTEBOOKS / step.notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
    assert set(papermill.inspect_notebook(str(NOTEBOOKS / step.notebook))) == DRIVER_PARAMETERS


def code_cells(notebook: str) -> list[nbformat.NotebookNode]:
    return [c for c in nbformat.read(str(NOTEBOOKS / notebook), as_version=4).cells
            if c.cell_type == "code"]


def test_the_step_notebooks_share_one_parameters_cell() -> None:
    """Word for word: the same names, types, defaults and comments in all five."""
    cells = {}
    for step in STEPS:
        first = code_cells(step.notebook)[0]
        assert "parameters" in first.metadata.get("tags", []), step.notebook
        cells[step.name] = first.source
    assert len(set(cells.values())) == 1, "the parameters cells differ"


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_each_step_notebook_opens_its_own_step_and_holds_the_database_in_a_block(step) -> None:
    context = code_cells(step.notebook)[1].source
    assert f'step_context("{step.name}", slate_date=slate_date' in context
    assert "with ctx.connect() as con:" in context  # closed when the step's work is done


# What the last expression of a cell may be: a call that displays and returns None. Any
# other value is displayed by its repr: a frame as pandas prints it, raw decimals and cut at
# 60 rows without a word, where show() formats it as the reports do and says what it leaves
# out.
DISPLAY_CALLS = {"show", "show_markdown", "print", "report_step_status", "plt.show"}


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_the_step_notebooks_show_every_table_through_show(step) -> None:
    for cell in code_cells(step.notebook)[1:]:
        assert ".head(" not in cell.source, cell.source  # a silent cut
        last = ast.parse(cell.source).body[-1]
        if isinstance(last, ast.Expr):
            assert isinstance(last.value, ast.Call), cell.source
            assert ast.unparse(last.value.func) in DISPLAY_CALLS, cell.source


def test_report_notebook_is_committed_clean_and_every_content_cell_names_its_report() -> None:
    nb = nbformat.read(str(NOTEBOOKS / REPORT_NOTEBOOK), as_version=4)
    assert set(papermill.inspect_notebook(str(NOTEBOOKS / REPORT_NOTEBOOK))) == {
        "slate_date", "as_of", "db_path", "offline_demo"}
    tagged = {tag: 0 for tag in REPORT_TAGS}
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
        for tag in cell.metadata.get("tags", []):
            if tag in tagged:
                tagged[tag] += 1
    assert all(n >= 5 for n in tagged.values()), tagged


@pytest.mark.slow
def test_odds_ingest_runs_offline_with_default_parameters(tmp_path: Path) -> None:
    kernel = ensure_kernel(DEFAULT_KERNEL)
    out = tmp_path / "01.ipynb"
    nb = papermill.execute_notebook(str(NOTEBOOKS / "01_odds_ingest.ipynb"), str(out),
                                    kernel_name=kernel, progress_bar=False, cwd=str(tmp_path))
    assert read_step_status(nb)[0] == "success"
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    for vendor in ("PLAYNOW", "UNABATED", "ODDSSHARK"):
        assert vendor in text
    assert "text/html" not in text  # every table is shown as the reports show theirs
    samples = [rows[0] for rows in map(table_rows, cell_markdown(nb, "report.sample_rows("))
               if rows]
    assert len(samples) == 3 and all(header == SAMPLE_COLUMNS for header in samples)
    assert list(tmp_path.iterdir()) == [out]  # the offline run wrote only to a temp folder


def cell_markdown(nb: nbformat.NotebookNode, needle: str) -> list[str]:
    """The Markdown outputs of the one code cell whose source holds `needle`."""
    [cell] = [c for c in nb.cells if c.cell_type == "code" and needle in c.source]
    return [o["data"]["text/markdown"] for o in cell.outputs
            if "text/markdown" in o.get("data", {})]


def table_rows(markdown: str) -> list[list[str]]:
    """The rows of the Markdown tables in `markdown` (header rows included, separators not)."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in markdown.splitlines() if line.startswith("|")]
    return [row for row in rows if not set("".join(row)) <= set("-:")]


def top_bets(markdown: str) -> dict[int, tuple[str, str, str]]:
    """Rank -> (player, bet as the walkthrough names it, flags) of the Top bets table."""
    bets, market = {}, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            market = line[3:].strip()
        elif line.startswith("| ") and line[2:3].isdigit():
            rank, player, _, _, line_, side, *_, flags = table_rows(line)[0]
            bets[int(rank)] = (player, f"{market} {side} {line_}", flags)
    return bets


@pytest.mark.slow
def test_ev_runs_offline_with_default_parameters(tmp_path: Path) -> None:
    out = tmp_path / "03.ipynb"
    nb = papermill.execute_notebook(str(NOTEBOOKS / "03_ev_report.ipynb"), str(out),
                                    kernel_name=ensure_kernel(DEFAULT_KERNEL),
                                    progress_bar=False, cwd=str(tmp_path))
    # Offline, the EV notebook seeds steps 1 and 2 in-process first (the production
    # notebook itself runs in the demo test, through the driver).
    status, summary = read_step_status(nb)
    assert status == "success", summary
    assert "eligible" in summary and "p10-nhlapi" in summary
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    for needle in ("priced rows", "Best bets 2025-10-28", "ev = p_price (d - 1) - p_loss",
                   "coef_consensus", "books (vendors)",
                   "the price also beats"):
        assert needle in text
    assert "text/html" not in text  # every table is shown as the reports show theirs
    # The walkthrough follows the bets the step recommends: the first five unflagged rows of
    # the Top bets table (best_bets_<date>.md), not the flagged long shots ranked above them.
    [best_bets] = cell_markdown(nb, "report.best_bets_markdown(")
    bets = top_bets(best_bets)
    recommended = sorted(rank for rank, (*_, flags) in bets.items() if not flags)[:5]
    # on this slate the 19 bets of highest EV are flagged: the walkthrough starts below them
    assert len(recommended) == 5 and recommended[0] > 1
    [walk] = cell_markdown(nb, "report.walkthrough(")
    header, *rows = table_rows(walk)
    assert header[:3] == ["rank", "player", "bet"]
    assert [int(row[0]) for row in rows] == recommended
    assert [tuple(row[1:3]) for row in rows] == [bets[r][:2] for r in recommended]
    assert list(tmp_path.iterdir()) == [out]  # the offline run wrote only to a temp folder
