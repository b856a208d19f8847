"""A game still not final the morning after its slate is said, not left silently pending."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from helpers.grading.step import overdue_games


def games(*rows: tuple) -> pd.DataFrame:
    """(slate_date, game_id, state, graded, error[, called_off]) rows; called off: False."""
    rows = tuple((*r[:4], r[5] if len(r) > 5 else False, r[4]) for r in rows)
    return pd.DataFrame(rows, columns=["slate_date", "game_id", "state", "graded", "called_off",
                                       "error"])


def test_a_game_not_final_by_8_et_the_next_morning_is_overdue() -> None:
    frame = games((date(2025, 12, 1), 1, "LIVE", False, None),
                  (date(2025, 12, 2), 2, "LIVE", False, None))
    # 08:00 ET on 2025-12-02 is 13:00 UTC
    assert overdue_games(frame, datetime(2025, 12, 2, 12, 59))["game_id"].tolist() == []
    assert overdue_games(frame, datetime(2025, 12, 2, 13, 0))["game_id"].tolist() == [1]
    assert overdue_games(frame, datetime(2025, 12, 3, 15, 0))["game_id"].tolist() == [1, 2]


def test_graded_games_and_read_errors_are_not_overdue() -> None:
    frame = games((date(2025, 12, 1), 1, "OFF", True, None),
                  (date(2025, 12, 1), 2, None, False, "VendorError: HTTP 503"),
                  (date(2025, 12, 1), 3, "PPD", False, None))
    assert overdue_games(frame, datetime(2025, 12, 3, 15, 0))["game_id"].tolist() == [3]


def test_a_postponed_or_cancelled_game_is_settled_not_overdue() -> None:
    """Its bets are void: nothing waits for it, so it is no reason to call the day partial."""
    frame = games((date(2025, 12, 1), 1, "FUT", False, None, True),
                  (date(2025, 12, 1), 2, "FUT", False, None, False))
    assert overdue_games(frame, datetime(2025, 12, 3, 15, 0))["game_id"].tolist() == [2]
