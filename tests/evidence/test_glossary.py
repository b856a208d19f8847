"""The report glossary: one definition per column, the docs page generated from it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.evidence import glossary, markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"


def test_docs_glossary_is_the_generated_page() -> None:
    assert DOCS.read_text() == glossary.docs_markdown(), (
        "docs/glossary.md is stale: python -m helpers.evidence.glossary > docs/glossary.md")


def test_every_definition_is_one_line() -> None:
    assert all(text and "\n" not in text and "|" not in text
               for text in glossary.COLUMNS.values())


def test_a_report_lists_the_columns_its_tables_showed_once_in_order() -> None:
    markdown.take_shown_columns()
    markdown.show_table(pd.DataFrame({"market": ["SOG"], "bets": [3]}))
    markdown.show_table(pd.DataFrame(columns=["nothing_shown"]))  # empty: "(none)"
    markdown.show_table(pd.DataFrame({"bets": [1], "roi": [0.1], "new_column": [1]}))
    names = markdown.take_shown_columns()
    assert names == ["market", "bets", "roi", "new_column"]
    assert markdown.take_shown_columns() == []  # taken: the next report starts empty
    text = glossary.columns_markdown(names).splitlines()
    assert text[0] == f"- **market**: {glossary.COLUMNS['market']}"
    assert text[3] == f"- **new_column**: {glossary.UNDEFINED}"
